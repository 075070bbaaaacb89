//! A request body limit that counts bytes as they arrive, so a chunked body without
//! `Content-Length` is held to it as well. A body over the limit is refused with 413 in the
//! dialect's error shape before any handler runs, so nothing is stored.

use poem::http::HeaderValue;
use poem::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tokio::io::AsyncReadExt;

use super::native::NativeError;

/// The middleware; see the module docs.
pub struct BodyLimit {
    max_bytes: usize,
}

impl BodyLimit {
    /// Refuses bodies over `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        Self { max_bytes }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint {
            inner: ep,
            max_bytes: self.max_bytes,
        }
    }
}

/// The endpoint [`BodyLimit`] wraps.
pub struct BodyLimitEndpoint<E> {
    inner: E,
    max_bytes: usize,
}

fn too_large(max_bytes: usize) -> Response {
    NativeError::body_too_large(max_bytes).into_response()
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_bytes as u64) {
            return Ok(too_large(self.max_bytes));
        }
        let mut body = Vec::new();
        let cap = self.max_bytes as u64 + 1;
        if let Err(err) = req
            .take_body()
            .into_async_read()
            .take(cap)
            .read_to_end(&mut body)
            .await
        {
            return Ok(NativeError::unreadable_body(&err).into_response());
        }
        if body.len() > self.max_bytes {
            return Ok(too_large(self.max_bytes));
        }
        if body.is_empty() && !req.headers().contains_key(CONTENT_TYPE) {
            // An empty body is an empty JSON document: `curl -X POST .../api/secrets/KEY` with no
            // passphrase must work as the documentation shows.
            req.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        req.set_body(body);
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}
