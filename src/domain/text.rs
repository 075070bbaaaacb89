//! The content of a text secret.

use std::fmt;

use zeroize::Zeroizing;

use super::DomainError;

/// The plaintext of a secret: non-empty and within the size limit; wiped when dropped.
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Checks a secret sent by a client against `max_bytes`.
    ///
    /// # Errors
    /// [`DomainError::MissingSecret`] when absent or empty, [`DomainError::ContentTooLarge`] when
    /// over the limit.
    pub fn parse(raw: Option<String>, max_bytes: usize) -> Result<Self, DomainError> {
        let raw = Zeroizing::new(raw.unwrap_or_default());
        if raw.is_empty() {
            return Err(DomainError::MissingSecret);
        }
        if raw.len() > max_bytes {
            return Err(DomainError::ContentTooLarge {
                size: raw.len(),
                limit: max_bytes,
            });
        }
        Ok(Self(raw))
    }

    /// Checks content the sender's client encrypted (`docs/end-to-end.md`): `ciphertext` and
    /// `iv` in standard base64, at least a tag's 16 bytes and exactly 12 bytes. It is kept as
    /// the canonical JSON `{"ciphertext":…,"iv":…}`, which is what `max_bytes` counts.
    ///
    /// # Errors
    /// [`DomainError::MalformedEncrypted`], or [`DomainError::ContentTooLarge`] over the limit.
    pub fn parse_encrypted(
        ciphertext: &str,
        iv: &str,
        max_bytes: usize,
    ) -> Result<Self, DomainError> {
        use base64::Engine as _;
        use base64::engine::general_purpose::STANDARD;
        let size = ciphertext.len() + iv.len() + r#"{"ciphertext":"","iv":""}"#.len();
        if size > max_bytes {
            return Err(DomainError::ContentTooLarge {
                size,
                limit: max_bytes,
            });
        }
        let sealed = STANDARD
            .decode(ciphertext)
            .map_err(|_| DomainError::MalformedEncrypted("ciphertext is not base64"))?;
        if sealed.len() < 16 {
            return Err(DomainError::MalformedEncrypted(
                "ciphertext is shorter than its tag",
            ));
        }
        let nonce = STANDARD
            .decode(iv)
            .map_err(|_| DomainError::MalformedEncrypted("iv is not base64"))?;
        if nonce.len() != 12 {
            return Err(DomainError::MalformedEncrypted("iv is not 12 bytes"));
        }
        Ok(Self(Zeroizing::new(
            serde_json::json!({
                "ciphertext": STANDARD.encode(sealed),
                "iv": STANDARD.encode(nonce),
            })
            .to_string(),
        )))
    }

    /// Wraps decrypted bytes; `None` when they are not UTF-8.
    pub fn from_decrypted(bytes: Zeroizing<Vec<u8>>) -> Option<Self> {
        std::str::from_utf8(&bytes)
            .ok()
            .map(|s| Self(Zeroizing::new(s.to_owned())))
    }

    /// The plaintext.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretText(<{} bytes>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_content_is_checked_and_kept_canonical() {
        let kept =
            SecretText::parse_encrypted("AAECAwQFBgcICQoLDA0ODw==", "AAAAAAAAAAAAAAAA", 1000)
                .expect("valid");
        assert_eq!(
            kept.expose(),
            r#"{"ciphertext":"AAECAwQFBgcICQoLDA0ODw==","iv":"AAAAAAAAAAAAAAAA"}"#
        );
        for (ciphertext, iv) in [
            ("not base64!", "AAAAAAAAAAAAAAAA"),
            ("AAECAw==", "AAAAAAAAAAAAAAAA"),
            ("AAECAwQFBgcICQoLDA0ODw==", "AAAA"),
            ("AAECAwQFBgcICQoLDA0ODw==", "%%%"),
        ] {
            assert!(matches!(
                SecretText::parse_encrypted(ciphertext, iv, 1000),
                Err(DomainError::MalformedEncrypted(_))
            ));
        }
        assert!(matches!(
            SecretText::parse_encrypted("AAECAwQFBgcICQoLDA0ODw==", "AAAAAAAAAAAAAAAA", 40),
            Err(DomainError::ContentTooLarge { .. })
        ));
    }
}
