//! Store identifiers: keyed hashes of the link keys, so the store never holds a key.

use std::fmt;

/// Identifies a secret in the store: a keyed hash of its [`SecretKey`](super::SecretKey).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretId([u8; 32]);

/// Identifies a receipt in the store: a keyed hash of its [`ReceiptKey`](super::ReceiptKey).
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ReceiptId([u8; 32]);

macro_rules! hashed_id {
    ($name:ident) => {
        impl $name {
            /// Wraps the 32 bytes of a keyed hash.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The 32 bytes of the keyed hash.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Reads an id from a stored slice; `None` unless it is exactly 32 bytes.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(Self)
            }
        }

        impl fmt::Debug for $name {
            /// Shows a short prefix only: ids are not secret, but logs need no more.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    concat!(stringify!($name), "({:02x}{:02x}{:02x}{:02x}…)"),
                    self.0[0], self.0[1], self.0[2], self.0[3]
                )
            }
        }
    };
}

hashed_id!(SecretId);
hashed_id!(ReceiptId);
