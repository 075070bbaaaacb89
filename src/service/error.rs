//! Errors of the service layer, as the API layers map them.

use crate::actors::ActorError;
use crate::crypto::CryptoError;
use crate::domain::{DomainError, Gone};
use crate::storage::StoreError;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request carried a value the domain refuses.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// No such secret or receipt.
    #[error("not found")]
    NotFound,
    /// The secret exists but can no longer be read.
    #[error("gone: {0:?}")]
    Gone(Gone),
    /// Wrong or missing passphrase; no view was counted.
    #[error("wrong or missing passphrase")]
    WrongPassphrase {
        /// Attempts left before the secret locks, when this one was counted.
        tries_left: Option<u32>,
    },
    /// Credentials were sent and are not valid (unknown, wrong or revoked).
    #[error("invalid credentials")]
    Unauthorized,
    /// This needs an account (anonymous creation is off, or a receipt list was asked for).
    #[error("authentication required")]
    AuthenticationRequired,
    /// The caller's API key is a send-only one, and this lists secrets or reads a receipt.
    #[error("the API key may only send")]
    SendOnlyKey,
    /// An account with this address exists already.
    #[error("the account exists already")]
    AccountExists,
    /// The recipient may delete a secret (when its sender allowed it) only after viewing it.
    #[error("not viewed yet")]
    NotViewedYet,
    /// Over the request quota; retry after this many seconds.
    #[error("rate limit exceeded")]
    RateLimited {
        /// Seconds until a request is allowed again.
        retry_after_secs: u64,
    },
    /// Too many wrong passphrases: attempts are refused for this many seconds (no view is used).
    #[error("too many wrong passphrases")]
    Locked {
        /// Seconds until attempts are accepted again.
        retry_after_secs: u64,
    },
    /// The secret is a file and this dialect answers only text; no view was counted.
    #[error("the secret is a file")]
    NotText,
    /// A stored file is missing or was altered; no view was counted.
    #[error("stored file failed its integrity check: {0}")]
    Integrity(&'static str),
    /// As many file uploads as allowed are under way; nothing was stored.
    #[error("too many uploads at once")]
    Busy,
    /// The server is hashing as many passphrases as it takes at once and this request's turn
    /// did not come in time; nothing was stored and no view was counted.
    #[error("passphrase hashing at capacity")]
    Overloaded {
        /// Seconds a client should wait before it retries.
        retry_after_secs: u64,
    },
    /// A backend (the blob store) cannot be reached; nothing was stored or counted.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Something failed on our side; the message is for logs, not for clients.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<ActorError> for ServiceError {
    fn from(err: ActorError) -> Self {
        match err {
            ActorError::NotFound => Self::NotFound,
            ActorError::Gone(gone) => Self::Gone(gone),
            ActorError::WrongPassphrase { tries_left } => Self::WrongPassphrase { tries_left },
            ActorError::Locked { retry_after_secs } => Self::Locked { retry_after_secs },
            ActorError::NotText => Self::NotText,
            ActorError::Integrity(what) => Self::Integrity(what),
            ActorError::Store(store) => store.into(),
            ActorError::Crypto(crypto) => crypto.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable { .. } => Self::Unavailable(err.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<CryptoError> for ServiceError {
    fn from(err: CryptoError) -> Self {
        match err {
            // A turn frees every few tens of milliseconds: a second's pause is plenty.
            CryptoError::HashingBusy => Self::Overloaded {
                retry_after_secs: 1,
            },
            other => Self::Internal(other.to_string()),
        }
    }
}
