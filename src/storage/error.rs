//! Storage failures.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record with this id already exists.
    #[error("a record with this id already exists")]
    Conflict,
    /// A stored record could not be decoded.
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    /// A stored secret record failed its authentication: it was changed, moved under another id
    /// or written without the master key, outside burnbox.
    #[error("stored record refused: {0}")]
    Tampered(&'static str),
    /// The backend failed (I/O, database, network).
    #[error("{backend} store: {message}")]
    Backend {
        /// Which backend.
        backend: &'static str,
        /// What it said.
        message: String,
    },
    /// The backend cannot be reached or refused to work (a blob store that is down, a full disk).
    #[error("{backend} store unavailable: {message}")]
    Unavailable {
        /// Which backend.
        backend: &'static str,
        /// What it said.
        message: String,
    },
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    /// A backend error from anything displayable.
    pub fn backend(backend: &'static str, err: impl std::fmt::Display) -> Self {
        Self::Backend {
            backend,
            message: err.to_string(),
        }
    }

    /// An unavailable backend, from anything displayable.
    pub fn unavailable(backend: &'static str, err: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            backend,
            message: err.to_string(),
        }
    }
}
