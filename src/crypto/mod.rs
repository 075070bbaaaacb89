//! Encryption at rest: the master keys, the keyed hashes that index the store, and the
//! AES-256-GCM envelopes that seal secret contents and the receipt's copy of the secret key.
//!
//! Content keys are derived from the master key *and* the secret key (and the passphrase through
//! argon2id), so a copy of the store plus the master key still cannot open a secret without its
//! link. Keys, salts and nonces come from the OS RNG. Only the master-key files touch the file
//! system.

mod envelope;
mod error;
mod hashing;
mod keyring;
pub mod master_key;
pub mod master_keys;
pub mod password;
mod random;
mod record_auth;
pub mod stream;

pub use error::CryptoError;
pub use hashing::{HashingLimits, PassphraseHashing};
pub use keyring::Keyring;
pub(crate) use keyring::derive as derive_key;
pub use master_key::MasterKey;
pub use master_keys::{KeyEntry, MasterKeys};
pub use random::{new_api_token, new_receipt_key, new_secret_key, random_bytes};
pub use record_auth::{RecordAuth, TAG_LEN as RECORD_TAG_LEN};
