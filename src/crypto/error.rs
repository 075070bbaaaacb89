//! Crypto failures.

/// Why a crypto operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The OS RNG could not be read.
    #[error("the operating system's random number generator failed: {0}")]
    Rng(getrandom::Error),
    /// The sealed bytes did not authenticate: wrong key, wrong passphrase or tampered data.
    #[error("sealed data did not authenticate")]
    Authentication,
    /// The sealed bytes are not in a format this version knows.
    #[error("sealed data is malformed")]
    Malformed,
    /// The passphrase hash could not be computed.
    #[error("passphrase hashing failed: {0}")]
    PassphraseHash(String),
    /// No argon2id turn came within the wait: the server is hashing as many passphrases as it
    /// takes at once. Nothing was run.
    #[error("passphrase hashing is at capacity")]
    HashingBusy,
    /// The master key could not be read or written.
    #[error("master key: {0}")]
    MasterKey(String),
}
