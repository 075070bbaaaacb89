//! Why an operation on a secret did not succeed.

use crate::crypto::CryptoError;
use crate::domain::Gone;
use crate::storage::StoreError;

/// Failure of an operation routed through a secret's actor.
#[derive(Debug, thiserror::Error)]
pub enum ActorError {
    /// No such secret (never existed, or its record was purged).
    #[error("secret not found")]
    NotFound,
    /// The record exists but the content can no longer be read.
    #[error("secret is gone: {0:?}")]
    Gone(Gone),
    /// The passphrase is missing or wrong; no view was counted.
    #[error("wrong or missing passphrase")]
    WrongPassphrase {
        /// Attempts left before the secret locks, when this one was counted.
        tries_left: Option<u32>,
    },
    /// Too many wrong passphrases: attempts are refused for this many seconds.
    #[error("passphrase attempts locked")]
    Locked {
        /// Seconds until attempts are accepted again.
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Decryption failed for a reason other than a wrong passphrase.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A file secret was asked for where only text can be answered (the Onetime Secret dialect).
    #[error("secret is a file")]
    NotText,
    /// A file's stored contents are missing or fail their authentication; no view was counted
    /// when this is found before the first byte is sent.
    #[error("stored file failed its integrity check: {0}")]
    Integrity(&'static str),
    /// The actor could not be reached or did not answer in time.
    #[error("secret actor unavailable: {0}")]
    Unavailable(String),
}
