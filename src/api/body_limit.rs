//! A request body limit that counts bytes as they arrive, so a chunked body without
//! `Content-Length` is held to it as well. Bodies that create a secret may be as large as the
//! caller's largest secret allows; every other body is held to 64 KiB. A body over the limit is refused with 413 in the
//! dialect's error shape before any handler runs, so nothing is stored (a declared length up to
//! [`DRAIN_LIMIT`] is read and dropped first, so the client gets the answer). It also gives an empty
//! body the dialect's default content type.
//!
//! A file upload (`multipart/form-data` to `POST /api/secrets`) is the one body not read here: it
//! streams to its handler, which counts the file's bytes against the caller's limit as they
//! arrive. Here it is refused up front when its declared length is over that limit plus room for
//! the form's other parts, and its stream is cut at that size (whatever the declared length, and
//! whatever the parts), too slow or silent, by [`super::upload_stream`].

use std::time::Duration;

use poem::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use poem::http::{HeaderValue, Method};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tokio::io::AsyncReadExt;

use super::dialect::Dialect;
use super::native::{NativeError, is_multipart_form};
use super::ots::{OtsError, refuse_non_text};
use super::routes;
use super::upload_stream::{UploadOverLimit, limit_upload};
use crate::domain::DomainError;
use crate::service::slots::{LARGE_BODY_BYTES, UploadSlot, UploadSlots};
use crate::service::{Caller, Limits, ServiceError};

/// Room for the other fields around a secret of the largest allowed size.
const OVERHEAD_BYTES: usize = 64 * 1024;
/// Bytes on the wire per byte of a text secret at most: a JSON `\uXXXX` escape of a two-byte
/// character (as Python's `json` writes any non-ASCII text) and percent-encoding in a form both
/// take three. Only JSON's escapes of control characters take more (six), and text has few.
const ENCODED_BYTES_PER_BYTE: usize = 3;

/// The middleware; see the module docs.
pub struct BodyLimit {
    limits: Limits,
    slots: UploadSlots,
    read_deadline: Duration,
}

impl BodyLimit {
    /// Refuses bodies over three times the caller's largest secret (its encoding) plus some room,
    /// and bodies other than files that take longer than `read_deadline` to arrive. A secret's
    /// body over [`LARGE_BODY_BYTES`] holds one of `slots` while it is read and stored, as a file
    /// upload does, or is refused with 503 when the caller may take none.
    pub fn new(limits: Limits, slots: UploadSlots, read_deadline: Duration) -> Self {
        Self {
            limits,
            slots,
            read_deadline,
        }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint {
            inner: ep,
            limits: self.limits,
            slots: self.slots.clone(),
            read_deadline: self.read_deadline,
        }
    }
}

/// The endpoint [`BodyLimit`] wraps.
pub struct BodyLimitEndpoint<E> {
    inner: E,
    limits: Limits,
    slots: UploadSlots,
    read_deadline: Duration,
}

/// Why a body was not read whole.
enum Unread {
    /// The connection failed or the deadline passed.
    Failed(std::io::Error),
    /// It is large and the caller may take no slot now.
    Busy,
}

impl<E> BodyLimitEndpoint<E> {
    /// Reads `req`'s body, `max_bytes + 1` at most, within the read deadline. A body that
    /// creates a secret (`creates`) takes one of the slots before it grows past [`LARGE_BODY_BYTES`]
    /// (before reading, when its declared length says it will); the slot comes back with it.
    async fn read_body(
        &self,
        req: &mut Request,
        max_bytes: usize,
        declared: Option<u64>,
        creates: bool,
    ) -> std::result::Result<(Vec<u8>, Option<UploadSlot>), Unread> {
        let cap = max_bytes as u64 + 1;
        let may_be_large = creates && cap > LARGE_BODY_BYTES;
        let caller = req.extensions().get::<Caller>().cloned();
        let take_slot = || match &caller {
            Some(caller) => self.slots.acquire(caller).map_err(|_| Unread::Busy),
            None => Err(Unread::Busy),
        };
        let mut slot = None;
        if may_be_large && declared.is_some_and(|len| len > LARGE_BODY_BYTES) {
            slot = Some(take_slot()?);
        }
        let mut reader = req.take_body().into_async_read();
        let mut body = Vec::new();
        let deadline = tokio::time::Instant::now() + self.read_deadline;
        let timed_out = || {
            Unread::Failed(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "it did not arrive within {} s",
                    self.read_deadline.as_secs()
                ),
            ))
        };
        let first_part = if may_be_large && slot.is_none() {
            LARGE_BODY_BYTES + 1
        } else {
            cap
        };
        tokio::time::timeout_at(
            deadline,
            (&mut reader).take(first_part).read_to_end(&mut body),
        )
        .await
        .map_err(|_| timed_out())?
        .map_err(Unread::Failed)?;
        if (body.len() as u64) < first_part || first_part == cap {
            return Ok((body, slot));
        }
        slot = match take_slot() {
            Ok(slot) => Some(slot),
            Err(busy) => {
                // Read and drop what is still coming (as for a 413), so the client reads the 503.
                let _ = tokio::time::timeout(
                    DRAIN_TIMEOUT,
                    tokio::io::copy(&mut (&mut reader).take(DRAIN_LIMIT), &mut tokio::io::sink()),
                )
                .await;
                return Err(busy);
            }
        };
        tokio::time::timeout_at(
            deadline,
            (&mut reader)
                .take(cap - body.len() as u64)
                .read_to_end(&mut body),
        )
        .await
        .map_err(|_| timed_out())?
        .map_err(Unread::Failed)?;
        Ok((body, slot))
    }
}

fn is_ots(req: &Request) -> bool {
    Dialect::of(req) == Dialect::Ots
}

/// The 413 for a body over `max_bytes`, in `req`'s dialect; `creates` when its body is a secret.
fn too_large(req: &Request, max_bytes: usize, creates: bool) -> Response {
    if is_ots(req) {
        // The body of a create is the secret's; any other carries a passphrase at most.
        let field = if creates { "secret" } else { "body" };
        OtsError::body_too_large(max_bytes, field).into_response()
    } else {
        NativeError::body_too_large(max_bytes).into_response()
    }
}

/// Refused bodies up to this size are read and dropped before the refusal is sent: a server that
/// closes a connection with a body still arriving resets it, and the client may lose the 413
/// (seen as a failed request). Larger ones are refused at once and the connection closed.
const DRAIN_LIMIT: u64 = 4 << 20;
/// How long a refused body is read at most before the refusal is sent anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads and drops `req`'s body, [`DRAIN_LIMIT`] bytes and [`DRAIN_TIMEOUT`] at most.
async fn discard_body(req: &mut Request) {
    let mut body = req.take_body().into_async_read().take(DRAIN_LIMIT);
    let _ = tokio::time::timeout(
        DRAIN_TIMEOUT,
        tokio::io::copy(&mut body, &mut tokio::io::sink()),
    )
    .await;
}

/// Room for a file upload's other parts (note, options) and the form's boundaries.
const FORM_OVERHEAD_BYTES: usize = 64 * 1024;
/// Whether `req`, which creates a secret, uploads a file (a form to the Burn the Secret create):
/// it streams past this middleware.
fn is_file_upload(req: &Request) -> bool {
    !is_ots(req)
        && req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_multipart_form)
}

/// Whether `req` creates a secret from its body (only those bodies may be large).
fn carries_a_secret(req: &Request) -> bool {
    req.method() == Method::POST && routes::creates(req.original_uri().path())
}

impl<E: Endpoint> BodyLimitEndpoint<E> {
    /// Passes a file upload on with its body streaming, refused at once when its declared length
    /// is over the caller's limit, else cut where it crosses it.
    async fn pass_file_upload(
        &self,
        mut req: Request,
        largest_secret: usize,
        declared: Option<u64>,
    ) -> Result<Response> {
        let max_bytes = largest_secret.saturating_add(FORM_OVERHEAD_BYTES);
        if let Some(len) = declared.filter(|len| *len > max_bytes as u64) {
            if len <= DRAIN_LIMIT {
                discard_body(&mut req).await;
            }
            let refused = DomainError::ContentTooLarge {
                size: usize::try_from(len).unwrap_or(usize::MAX),
                limit: largest_secret,
            };
            return Ok(NativeError::from(ServiceError::from(refused)).into_response());
        }
        let over = UploadOverLimit::default();
        let body = limit_upload(req.take_body(), max_bytes as u64, over.clone());
        req.set_body(body);
        req.extensions_mut().insert(over);
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let largest_secret = match req.extensions().get::<Caller>() {
            Some(caller) => self.limits.max_secret_bytes_for(caller),
            None => self.limits.max_secret_bytes,
        };
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // Looked up once: the route table is read for every request that carries a body.
        let creates = carries_a_secret(&req);
        if creates && is_file_upload(&req) {
            return self.pass_file_upload(req, largest_secret, declared).await;
        }
        let max_bytes = if creates {
            largest_secret
                .saturating_mul(ENCODED_BYTES_PER_BYTE)
                .saturating_add(OVERHEAD_BYTES)
        } else {
            // A view, burn, status or list carries a passphrase or a few options at most.
            OVERHEAD_BYTES
        };
        if let Some(len) = declared.filter(|len| *len > max_bytes as u64) {
            if len <= DRAIN_LIMIT {
                discard_body(&mut req).await;
            }
            return Ok(too_large(&req, max_bytes, creates));
        }
        // Held until the secret is stored (or refused), so large bodies in memory stay bounded.
        let (body, _slot) = match self.read_body(&mut req, max_bytes, declared, creates).await {
            Ok(read) => read,
            Err(Unread::Busy) => {
                // Refused before its body was read: drop it first, so the client reads the 503.
                if declared.is_some_and(|len| len <= DRAIN_LIMIT) {
                    discard_body(&mut req).await;
                }
                return Ok(Dialect::of(&req).respond(ServiceError::Busy));
            }
            Err(Unread::Failed(err)) => {
                return Ok(if is_ots(&req) {
                    OtsError::form(format!("The request body could not be read: {err}"), "body")
                        .into_response()
                } else {
                    NativeError::unreadable_body(&err).into_response()
                });
            }
        };
        if body.len() > max_bytes {
            return Ok(too_large(&req, max_bytes, creates));
        }
        match in_dialect_shape(&mut req, body) {
            Ok(body) => {
                req.set_body(body);
                self.inner.call(req).await.map(IntoResponse::into_response)
            }
            Err(refused) => Ok(refused.into_response()),
        }
    }
}

/// `body` as its dialect reads it: an empty body gets the dialect's content type (an empty form
/// for Onetime Secret, an empty JSON document for Burn the Secret), and an Onetime Secret
/// request's parameters must be text: its refusal otherwise.
fn in_dialect_shape(
    req: &mut Request,
    mut body: Vec<u8>,
) -> std::result::Result<Vec<u8>, OtsError> {
    let ots = is_ots(req);
    if body.is_empty() && !req.headers().contains_key(CONTENT_TYPE) {
        // `curl -X POST .../secret/KEY` with no parameters must work as both dialects document.
        let empty = if ots { FORM } else { "application/json" };
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(empty));
    }
    if !ots {
        return Ok(body);
    }
    let query = req.uri().query().unwrap_or_default().as_bytes();
    let form = if has_media_type(req, FORM) {
        &body[..]
    } else {
        &[][..]
    };
    if let Some(refused) = refuse_non_text(query).or_else(|| refuse_non_text(form)) {
        return Err(refused);
    }
    if body.is_empty() && has_media_type(req, "application/json") {
        // `curl -H 'Content-Type: application/json' -X POST .../secret/KEY` sends no
        // parameters, as the form without a body does.
        body = b"{}".to_vec();
    }
    Ok(body)
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Whether the request's `Content-Type` is `media` (any parameters aside).
fn has_media_type(req: &Request, media: &str) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|found| found.trim().eq_ignore_ascii_case(media))
}
