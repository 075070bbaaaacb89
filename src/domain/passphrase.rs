//! The optional passphrase that guards a secret.

use std::fmt;

use zeroize::Zeroizing;

use super::DomainError;

/// A passphrase; wiped from memory when dropped and never printed.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Longest passphrase accepted, in bytes.
    pub const MAX_BYTES: usize = 1024;

    /// Checks a passphrase sent by a client.
    ///
    /// # Errors
    /// [`DomainError::InvalidPassphrase`] when empty or over [`Self::MAX_BYTES`].
    pub fn parse(raw: String) -> Result<Self, DomainError> {
        let raw = Zeroizing::new(raw);
        if raw.is_empty() || raw.len() > Self::MAX_BYTES {
            return Err(DomainError::InvalidPassphrase {
                max: Self::MAX_BYTES,
            });
        }
        Ok(Self(raw))
    }

    /// The passphrase bytes, for key derivation only.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}
