//! The outermost middleware. Request ids (`req_<time>_<random>`), set on every response as
//! `X-Request-Id` and readable by handlers and error mappers through a task-local;
//! `Cache-Control: no-store` on every response (nothing burnbox answers may sit in a shared
//! cache); and one log line and the HTTP metrics per request, by route template, never by path.

use std::time::Instant;

use poem::http::HeaderValue;
use poem::http::header::CACHE_CONTROL;
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use crate::clock;
use crate::domain::KEY_ALPHABET;
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

/// A fresh id: time in base 36, then six random base-36 characters.
pub fn new_request_id() -> String {
    let random: [u8; 6] = crate::crypto::random_bytes().unwrap_or_default();
    let suffix: String = random
        .iter()
        .map(|b| char::from(KEY_ALPHABET[usize::from(*b) % 36]))
        .collect();
    format!("req_{}_{suffix}", base36(clock::now().as_millis()))
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
    let method = req.method().as_str().to_owned();
    let result = REQUEST_ID
        .scope(id.clone(), async move {
            next.call(req).await.map(IntoResponse::into_response)
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
    telemetry::http_request(&route, &method, status, elapsed);
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
