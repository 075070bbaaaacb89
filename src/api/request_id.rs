//! The outermost middleware. Request ids (`req_<time>_<random>`: unique, and saying nothing of
//! how many requests the server handled), set on every response as
//! `X-Request-Id` and readable by handlers and error mappers through a task-local;
//! `Cache-Control: no-store` on every response (nothing burnbox answers may sit in a shared
//! cache); `Allow` on every 405; and one log line and the HTTP metrics per request, by route template, never by path.

use std::time::Instant;

use poem::http::HeaderValue;
use poem::http::header::CACHE_CONTROL;
use poem::{Endpoint, IntoResponse, Request, Response, Result};

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

/// Random bytes behind each id's suffix: with the millisecond in front, two ids collide only when
/// two requests in one millisecond draw the same 40 bits.
const SUFFIX_BYTES: usize = 5;
/// Base-36 characters of the suffix (36^8 > 2^40).
const SUFFIX_LEN: usize = 8;

/// [`SUFFIX_LEN`] base-36 characters of fresh randomness (from the per-thread pool of OS
/// randomness, so a request costs no system call). A sequence would be cheaper but would tell
/// anyone holding two ids how many requests came between them.
fn random_suffix() -> String {
    let bytes: [u8; SUFFIX_BYTES] = crate::crypto::random_bytes().unwrap_or_default();
    let mut wide = [0u8; 16];
    wide[16 - SUFFIX_BYTES..].copy_from_slice(&bytes);
    base36_fixed(u128::from_be_bytes(wide), SUFFIX_LEN)
}

/// A fresh id: time in base 36, then eight random base-36 characters.
pub fn new_request_id() -> String {
    format!(
        "req_{}_{}",
        base36(clock::now().as_millis()),
        random_suffix()
    )
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
    let found = super::routes::find(req.uri().path());
    let route = found.map_or(super::routes::UNMATCHED, |route| route.template);
    let method = telemetry::method_label(req.method().as_str());
    // Boxed once here: the routes' future is kilobytes, and every layer above (the task-local
    // scope, this function, poem's own boxing) would otherwise copy it again.
    let inner = Box::pin(next.call(req));
    // (The router's 404 and 405 under /api/ are answered in their dialect by the guard, inside
    // this scope, so their bodies carry the request id.)
    let result = REQUEST_ID
        .scope(id.clone(), async move {
            inner.await.map(IntoResponse::into_response)
        })
        .await;
    let mut response = match result {
        Ok(response) => response,
        Err(err) => err.into_response(),
    };
    super::routes::allow_on_405(&mut response, found);
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
            assert!(!time.is_empty() && suffix.len() == SUFFIX_LEN, "{id}");
            assert!(suffix.bytes().all(|b| KEY_ALPHABET.contains(&b)), "{id}");
        }
    }

    /// The suffix as a number.
    fn suffix_value(id: &str) -> u128 {
        let suffix = id.rsplit('_').next().expect("suffix");
        suffix.bytes().fold(0, |n, b| {
            let digit = KEY_ALPHABET.iter().position(|&c| c == b).expect("base 36");
            n * 36 + digit as u128
        })
    }

    #[test]
    fn consecutive_ids_do_not_count_requests() {
        let ids: Vec<String> = (0..1000).map(|_| new_request_id()).collect();
        let steps_of_one = ids
            .windows(2)
            .filter(|pair| suffix_value(&pair[1]) == suffix_value(&pair[0]) + 1)
            .count();
        // Random 40-bit suffixes follow each other by one about once in 10^12 pairs.
        assert_eq!(steps_of_one, 0, "the suffix is not a sequence");
        let top = ids.iter().map(|id| suffix_value(id)).max().unwrap_or(0);
        assert!(top < 1 << 40, "40 random bits at most");
        assert!(top > 1 << 36, "the suffixes spread over the range: {top}");
    }
}
