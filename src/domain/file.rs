//! File secrets: the name and media type a file was uploaded with, and what the store keeps about
//! it (its size, and those details sealed).

use serde::{Deserialize, Serialize};

/// Longest file name kept, in bytes (longer names are cut at a character boundary).
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// Longest media type accepted, in bytes.
const MAX_CONTENT_TYPE_BYTES: usize = 127;
/// Name given to a file uploaded without a usable one.
const FALLBACK_NAME: &str = "file";
/// Media type of a file uploaded without a usable one.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// A file's name as the recipient will get it: no directories, no control characters, no quotes
/// (it goes into a `Content-Disposition` header), at most [`MAX_FILE_NAME_BYTES`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileName(String);

impl FileName {
    /// Cleans the name a client sent; a missing or empty name becomes `file`.
    pub fn sanitize(raw: Option<&str>) -> Self {
        let base = raw
            .unwrap_or_default()
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default();
        let mut name = String::with_capacity(base.len().min(MAX_FILE_NAME_BYTES));
        for c in base
            .chars()
            .filter(|c| !c.is_control() && !is_bidi_control(*c) && !matches!(c, '"' | ';'))
        {
            if name.len() + c.len_utf8() > MAX_FILE_NAME_BYTES {
                break;
            }
            name.push(c);
        }
        let trimmed = name.trim();
        if trimmed.chars().all(|c| c == '.') {
            Self(FALLBACK_NAME.to_owned())
        } else {
            Self(trimmed.to_owned())
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for FileName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A file name can say what a secret is about: keep it out of logs.
        write!(f, "FileName(<{} bytes>)", self.0.len())
    }
}

/// Invisible characters that reorder text (`invoice\u{202e}fdp.exe` shows as `invoiceexe.pdf`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A media type such as `application/pdf`, lower-cased, parameters kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentType(String);

impl ContentType {
    /// The media type a client declared, or `application/octet-stream` when it is missing or not
    /// of the form `type/subtype` with token characters.
    pub fn sanitize(raw: Option<&str>) -> Self {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Self::octet_stream();
        };
        let essence = raw.split(';').next().unwrap_or_default().trim();
        let valid = raw.len() <= MAX_CONTENT_TYPE_BYTES
            && raw.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            && essence
                .split_once('/')
                .is_some_and(|(ty, sub)| is_token(ty) && is_token(sub));
        if valid {
            Self(raw.to_ascii_lowercase())
        } else {
            Self::octet_stream()
        }
    }

    /// `application/octet-stream`.
    pub fn octet_stream() -> Self {
        Self(OCTET_STREAM.to_owned())
    }

    /// The media type.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
}

/// What a recipient sees of a file before opening it: sealed in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDetails {
    /// The uploaded file's name.
    pub name: FileName,
    /// The uploaded file's media type.
    pub content_type: ContentType,
}

/// What the store keeps about a file secret, next to its metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Size of the original file, in bytes.
    pub size: u64,
    /// [`FileDetails`], sealed under a key derived from the secret key.
    pub sealed_details: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_directories_quotes_and_control_characters() {
        let clean = |raw| FileName::sanitize(raw).as_str().to_owned();
        assert_eq!(clean(Some("report.pdf")), "report.pdf");
        assert_eq!(clean(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean(Some("C:\\Users\\me\\key.pem")), "key.pem");
        assert_eq!(clean(Some("a\"b;c\r\n.txt")), "abc.txt");
        assert_eq!(clean(Some("invoice\u{202e}fdp.exe")), "invoicefdp.exe");
        assert_eq!(clean(Some("..")), "file");
        assert_eq!(clean(Some(".env")), ".env");
        assert_eq!(clean(None), "file");
        let long = "é".repeat(300);
        let kept = clean(Some(long.as_str()));
        assert!(kept.len() <= MAX_FILE_NAME_BYTES);
        assert!(kept.chars().all(|c| c == 'é'));
    }

    #[test]
    fn content_types_must_look_like_media_types() {
        let clean = |raw| ContentType::sanitize(raw).as_str().to_owned();
        assert_eq!(clean(Some("application/PDF")), "application/pdf");
        assert_eq!(
            clean(Some("text/plain; charset=utf-8")),
            "text/plain; charset=utf-8"
        );
        assert_eq!(clean(Some("nonsense")), OCTET_STREAM);
        assert_eq!(clean(Some("text/plain\r\nX-Evil: 1")), OCTET_STREAM);
        assert_eq!(clean(Some("")), OCTET_STREAM);
        assert_eq!(clean(None), OCTET_STREAM);
    }
}
