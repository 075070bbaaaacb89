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
