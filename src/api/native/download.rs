//! The answer to viewing a file secret: the original bytes, streamed as they are decrypted, with
//! the file's own media type and name, and the views left in a header.

use poem::http::HeaderValue;
use poem::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use poem::{Body, IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaHeader, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef};
use poem_openapi::types::Type;

use crate::domain::FileDetails;
use crate::service::FileStream;

/// Header with the views left after this one (absent when unlimited).
pub const VIEWS_REMAINING: &str = "X-Views-Remaining";
/// Header with the note sent with the file, percent-encoded UTF-8 (absent without a note).
pub const SECRET_NOTE: &str = "X-Secret-Note";

/// A file secret's bytes on their way to the recipient.
pub struct FileDownload {
    /// Name and media type.
    pub details: FileDetails,
    /// The note sent with it, if any.
    pub note: Option<String>,
    /// Views left after this one; `None` when unlimited.
    pub views_remaining: Option<u32>,
    /// The bytes.
    pub stream: FileStream,
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 5987 form.
fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii() && c != '\\' { c } else { '_' })
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        percent_encode(name)
    )
}

impl Payload for FileDownload {
    /// The file's own media type is sent; any type may come back.
    const CONTENT_TYPE: &'static str = "*/*";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")))
    }
}

impl IntoResponse for FileDownload {
    fn into_response(self) -> Response {
        let mut response = Response::builder()
            .header(CONTENT_LENGTH, self.stream.size)
            .header(CACHE_CONTROL, "no-store")
            // The file's own type is sent: never let a browser sniff or run it as a page.
            .header("X-Content-Type-Options", "nosniff")
            .header("Content-Security-Policy", "sandbox")
            .header(
                CONTENT_DISPOSITION,
                content_disposition(self.details.name.as_str()),
            )
            .body(Body::from_bytes_stream(self.stream.body));
        let headers = response.headers_mut();
        // Both were checked to be header-safe when the file was uploaded; fall back if not.
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(self.details.content_type.as_str())
                .unwrap_or(HeaderValue::from_static(crate::domain::OCTET_STREAM)),
        );
        if let Some(left) = self.views_remaining {
            headers.insert(VIEWS_REMAINING, left.into());
        }
        if let Some(note) = self.note
            && let Ok(value) = HeaderValue::from_str(&percent_encode(&note))
        {
            headers.insert(SECRET_NOTE, value);
        }
        response
    }
}

/// Documents the file answer's headers on a response whose 200 is shared with JSON.
fn file_headers() -> Vec<MetaHeader> {
    let header = |name: &str, description: &str, schema: MetaSchemaRef| MetaHeader {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        required: false,
        deprecated: false,
        schema,
    };
    vec![
        header(
            "Content-Disposition",
            "For a file: `attachment` with the original file name.",
            String::schema_ref(),
        ),
        header(
            VIEWS_REMAINING,
            "For a file: views left after this one (absent when unlimited).",
            u32::schema_ref(),
        ),
        header(
            SECRET_NOTE,
            "For a file sent with a note: the note, percent-encoded UTF-8.",
            String::schema_ref(),
        ),
    ]
}

/// Merges the responses that share a status (JSON for text, the bytes for a file) into one entry
/// with both media types, as OpenAPI wants, and documents the file's headers on it.
pub fn merge_shared_statuses(mut meta: MetaResponses) -> MetaResponses {
    let mut merged: Vec<MetaResponse> = Vec::new();
    for response in meta.responses.drain(..) {
        match merged.iter_mut().find(|m| m.status == response.status) {
            Some(existing) => {
                existing.content.extend(response.content);
                existing.headers.extend(file_headers());
            }
            None => merged.push(response),
        }
    }
    MetaResponses { responses: merged }
}
