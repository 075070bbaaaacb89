//! The outermost middleware. Request ids (`req_<time>_<random>`), set on every response as
//! `X-Request-Id` and readable by handlers and error mappers through a task-local;
//! `Cache-Control: no-store` on every response (nothing burnbox answers may sit in a shared
//! cache); and one log line and the HTTP metrics per request, by route template, never by path.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use poem::http::HeaderValue;
use poem::http::header::CACHE_CONTROL;
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use super::dialect::Dialect;
use crate::clock;
use crate::domain::{KEY_ALPHABET, base36_fixed};
use crate::telemetry;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Header that carries the request id.
pub const HEADER: &str = "x-request-id";

fn base36(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(char::from(KEY_ALPHABET[(n % 36) as usize]));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

/// Six base-36 characters of a per-process sequence that starts at a random point: ids must be
/// unique, not secret, so one draw from the OS RNG per process replaces one per request.
fn next_suffix() -> String {
    static SEQUENCE: OnceLock<AtomicU64> = OnceLock::new();
    let sequence = SEQUENCE.get_or_init(|| {
        let seed: [u8; 8] = crate::crypto::random_bytes().unwrap_or_default();
        AtomicU64::new(u64::from_le_bytes(seed))
    });
    base36_fixed(u128::from(sequence.fetch_add(1, Ordering::Relaxed)), 6)
}

/// A fresh id: time in base 36, then six base-36 characters of a sequence.
pub fn new_request_id() -> String {
    format!("req_{}_{}", base36(clock::now().as_millis()), next_suffix())
}

/// The id of the request being served (a fresh one outside a request).
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| new_request_id())
}

/// Middleware: runs `next` with a request id in scope and stamps the response.
pub async fn request_context<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let id = new_request_id();
    let started = Instant::now();
    // The template, never the path: paths carry keys.
    let route = telemetry::route_template(req.uri().path());
    let method = telemetry::method_label(req.method().as_str());
    let dialect = Dialect::of_api_path(req.uri().path());
    // Boxed once here: the routes' future is kilobytes, and every layer above (the task-local
    // scope, this function, poem's own boxing) would otherwise copy it again.
    let inner = Box::pin(next.call(req));
    let result = REQUEST_ID
        .scope(id.clone(), async move {
            // The router's 404 and 405 in the dialect of the path, inside the scope so their
            // bodies carry the request id.
            inner.await.map(IntoResponse::into_response).or_else(|err| {
                dialect
                    .and_then(|dialect| dialect.no_route(&err))
                    .ok_or(err)
            })
        })
        .await;
    let mut response = match result {
        Ok(response) => response,
        Err(err) => err.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    telemetry::http_request(route, method, status, elapsed);
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_and_shaped() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(10) {
            let (_, rest) = id.split_once("req_").expect("prefix");
            let (time, suffix) = rest.split_once('_').expect("two parts");
            assert!(!time.is_empty() && suffix.len() == 6, "{id}");
            assert!(suffix.bytes().all(|b| KEY_ALPHABET.contains(&b)), "{id}");
        }
    }
}
