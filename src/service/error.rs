//! Errors of the service layer, as the API layers map them.

use crate::actors::SecretError;
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
    WrongPassphrase,
    /// Something failed on our side; the message is for logs, not for clients.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<SecretError> for ServiceError {
    fn from(err: SecretError) -> Self {
        match err {
            SecretError::NotFound => Self::NotFound,
            SecretError::Gone(gone) => Self::Gone(gone),
            SecretError::WrongPassphrase => Self::WrongPassphrase,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<CryptoError> for ServiceError {
    fn from(err: CryptoError) -> Self {
        Self::Internal(err.to_string())
    }
}
