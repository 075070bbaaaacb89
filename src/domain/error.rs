//! Why a value was refused at the edge.

/// A value a client sent that the domain refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A key that is empty, too long or not alphanumeric.
    #[error("key must be 1 to 64 alphanumeric characters")]
    InvalidKey,
    /// The secret text is missing or empty.
    #[error("secret must be a non-empty string")]
    MissingSecret,
    /// End-to-end content (`{ciphertext, iv}`) that is not in the format.
    #[error(
        "an end-to-end secret is {{\"ciphertext\": base64 of at least 16 bytes, \"iv\": base64 of 12 bytes}}: {0}"
    )]
    MalformedEncrypted(&'static str),
    /// The secret text is larger than allowed.
    #[error("secret is {size} bytes, the limit is {limit} bytes")]
    ContentTooLarge {
        /// Size of the refused content in bytes.
        size: usize,
        /// The limit that applied, in bytes.
        limit: usize,
    },
    /// A TTL outside the allowed range.
    #[error("ttl must be between {min} and {max} seconds")]
    InvalidTtl {
        /// Smallest accepted TTL in seconds.
        min: u64,
        /// Largest accepted TTL in seconds.
        max: u64,
    },
    /// A view limit outside 1..=999.
    #[error("maxViews must be between 1 and {max}, or null for unlimited")]
    InvalidViewLimit {
        /// Largest accepted view limit.
        max: u16,
    },
    /// A recipient that is not an e-mail address, or too many of them.
    #[error("recipient must be up to 10 e-mail addresses")]
    InvalidRecipient,
    /// A generated password length out of range.
    #[error("generated password length must be between {min} and {max} characters")]
    InvalidLength {
        /// Shortest length.
        min: usize,
        /// Longest length.
        max: usize,
    },
    /// An account address that is not an e-mail address.
    #[error("not a valid e-mail address")]
    InvalidEmail,
    /// Something that is not an API token.
    #[error("not an API token")]
    InvalidToken,
    /// A passphrase that is empty or too long.
    #[error("passphrase must be 1 to {max} bytes")]
    InvalidPassphrase {
        /// Longest accepted passphrase in bytes.
        max: usize,
    },
}
