//! Stored secret records are authenticated: each carries a tag (HMAC-SHA256 under a key derived
//! from the master key, over the record's id and bytes), so someone who can write the store (a
//! Redis operator, a restored or edited backup) cannot reset a view count, a lockout or an expiry,
//! or move one secret's record under another's id, without the record being refused. Contents
//! were already bound (sealed with their id as associated data); this binds the metadata.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::MasterKey;
use crate::domain::SecretId;

/// Bytes of a record's tag.
pub const TAG_LEN: usize = 16;

/// The key that tags and checks stored secret records.
#[derive(Clone)]
pub struct RecordAuth {
    mac: Hmac<Sha256>,
}

impl RecordAuth {
    /// The records' key of `master` (HKDF-SHA256, its own label: no other key derives from it).
    pub fn from_master(master: &MasterKey) -> Self {
        let key = super::derive_key(master.expose(), None, &[b"burnbox/records/v1"]);
        Self {
            mac: <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_slice())
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length")),
        }
    }

    /// The tag of record `body` stored under `id`.
    pub fn tag(&self, id: &SecretId, body: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        mac.update(body);
        let full: [u8; 32] = mac.finalize().into_bytes().into();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    /// Whether `tag` is `body`'s under `id`, compared in constant time.
    pub fn verify(&self, id: &SecretId, body: &[u8], tag: &[u8]) -> bool {
        tag.len() == TAG_LEN && bool::from(self.tag(id, body).ct_eq(tag))
    }
}

impl std::fmt::Debug for RecordAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordAuth(<key>)")
    }
}
