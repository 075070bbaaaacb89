//! The base URL every link is built on, shared by both dialects.

/// Base URL of the links handed out (`secretUrl` and `metadataUrl`, the OTS share links, the
/// pages').
#[derive(Debug, Clone)]
pub struct PublicUrl(pub String);

impl PublicUrl {
    /// The base of every link handed out, without a trailing `/`.
    pub fn base(&self) -> &str {
        self.0.trim_end_matches('/')
    }
}
