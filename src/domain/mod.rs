//! The vocabulary of burnbox: keys, TTLs, view limits, passphrases, secret texts and the life of
//! a secret. Every wire value becomes one of these types at the API edge, so nothing below the API
//! handles a raw string.
//!
//! This module does no I/O and reads no clock: time comes in as a [`Timestamp`] argument.

mod account;
mod error;
mod file;
mod ids;
mod keys;
mod lifecycle;
mod limits;
mod passphrase;
mod password_length;
pub mod recipient;
mod text;
mod timestamp;

pub use account::{Account, ApiToken, Email, Scope, TOKEN_PREFIX, Tier, TokenGrant};
pub use error::DomainError;
pub use file::{ContentType, FileDetails, FileName, OCTET_STREAM, StoredFile};
pub use ids::{ReceiptId, SecretId};
pub use keys::{AnyKey, KEY_ALPHABET, ReceiptKey, SecretKey, base36_fixed};
pub use lifecycle::{
    Change, Gone, Lifecycle, LockoutPolicy, Operation, Ownership, SecretMeta, UNKNOWN_KEY_ID,
};
pub use limits::{Ttl, TtlRange, ViewLimit};
pub use passphrase::Passphrase;
pub use password_length::PasswordLength;
pub use text::SecretText;
pub use timestamp::Timestamp;
