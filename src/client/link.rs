//! The links the client prints and reads: `{server}/secret/{key}#key=…` for the recipient and
//! `{server}/receipt/{key}` for the sender, or a bare key with `--server`.

use super::ClientError;

/// Which key a link holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// The recipient's link.
    Secret,
    /// The sender's receipt.
    Receipt,
    /// A bare key: the server tells which it is.
    Unknown,
}

/// A link taken apart.
#[derive(Debug, Clone)]
pub struct Link {
    /// The server's base URL (scheme, host, port, any path prefix).
    pub server: String,
    /// Which key it is.
    pub kind: LinkKind,
    /// The key in the path.
    pub key: String,
    /// The fragment after `#`, if any: the end-to-end key.
    pub fragment: Option<String>,
}

impl Link {
    /// Reads `raw`: a full link, or a bare key (then `server` must be given).
    ///
    /// # Errors
    /// [`ClientError::Usage`] when it is neither.
    pub fn parse(raw: &str, server: Option<&str>) -> Result<Self, ClientError> {
        let raw = raw.trim();
        let (before, fragment) = match raw.split_once('#') {
            Some((before, fragment)) => (before, Some(fragment.to_owned())),
            None => (raw, None),
        };
        if !before.contains("://") {
            let server = server.ok_or_else(|| {
                ClientError::Usage("give a whole link, or --server with a bare key".into())
            })?;
            return Ok(Self {
                server: server.trim_end_matches('/').to_owned(),
                kind: LinkKind::Unknown,
                key: checked_key(before)?,
                fragment,
            });
        }
        let before = before.trim_end_matches('/');
        for (marker, kind) in [
            ("/secret/", LinkKind::Secret),
            ("/receipt/", LinkKind::Receipt),
        ] {
            if let Some(at) = before.rfind(marker) {
                return Ok(Self {
                    server: before[..at].to_owned(),
                    kind,
                    key: checked_key(&before[at + marker.len()..])?,
                    fragment,
                });
            }
        }
        Err(ClientError::Usage(format!(
            "'{before}' is not a burnbox link (…/secret/KEY or …/receipt/KEY)"
        )))
    }
}

/// A key as the server makes them: 1 to 64 letters and digits.
fn checked_key(key: &str) -> Result<String, ClientError> {
    if key.is_empty() || key.len() > 64 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ClientError::Usage(
            "the link's key is not 1 to 64 letters and digits".into(),
        ));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_bare_keys_are_read() {
        let link = Link::parse("https://s.example/pre/secret/abc123#key=xyz", None).expect("link");
        assert_eq!(link.server, "https://s.example/pre");
        assert_eq!(link.kind, LinkKind::Secret);
        assert_eq!(link.key, "abc123");
        assert_eq!(link.fragment.as_deref(), Some("key=xyz"));
        let receipt = Link::parse("http://127.0.0.1:7143/receipt/R9/", None).expect("receipt");
        assert_eq!(
            (receipt.kind, receipt.key.as_str()),
            (LinkKind::Receipt, "R9")
        );
        assert_eq!(receipt.fragment, None);
        let bare = Link::parse("abc", Some("http://h:1/")).expect("bare");
        assert_eq!(
            (bare.server.as_str(), bare.kind),
            ("http://h:1", LinkKind::Unknown)
        );
        assert!(Link::parse("abc", None).is_err());
        assert!(Link::parse("https://s.example/other/abc", None).is_err());
        assert!(Link::parse("https://s.example/secret/a-b", None).is_err());
    }
}
