//! Stored secret records are authenticated: each carries a tag (HMAC-SHA256 under a key derived
//! from the master key, over the record's id and bytes), so someone who can write the store (a
//! Redis operator, a restored or edited backup) cannot reset a view count, a lockout or an expiry,
//! or move one secret's record under another's id, without the record being refused. Contents
//! were already bound (sealed with their id as associated data); this binds the metadata.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::master_keys::sealing_of;
use super::{MasterKey, MasterKeys};
use crate::domain::SecretId;

/// Bytes of a record's tag.
pub const TAG_LEN: usize = 16;

/// The keys that tag and check stored secret records: one per master key, so a record tagged
/// before a rotation still checks; new tags are the sealing key's.
#[derive(Clone)]
pub struct RecordAuth {
    /// `(active from, in Unix seconds; the records' HMAC)`, newest master key first.
    macs: Vec<(u64, Hmac<Sha256>)>,
}

/// The records' HMAC of `master` (HKDF-SHA256, its own label: no other key derives from it).
fn records_mac(master: &MasterKey) -> Hmac<Sha256> {
    let key = super::derive_key(master.expose(), None, &[b"burnbox/records/v1"]);
    <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_slice())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn tag_with(mac: &Hmac<Sha256>, id: &SecretId, body: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = mac.clone();
    mac.update(id.as_bytes());
    mac.update(body);
    let full: [u8; 32] = mac.finalize().into_bytes().into();
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&full[..TAG_LEN]);
    tag
}

impl RecordAuth {
    /// The records' key of one master key.
    pub fn from_master(master: &MasterKey) -> Self {
        Self {
            macs: vec![(0, records_mac(master))],
        }
    }

    /// The records' keys of every master key of `keys`.
    pub fn from_keys(keys: &MasterKeys) -> Self {
        let mut macs: Vec<(u32, u64, Hmac<Sha256>)> = keys
            .entries()
            .iter()
            .map(|entry| (entry.id, entry.active_from, records_mac(entry.key())))
            .collect();
        macs.sort_by_key(|(id, _, _)| std::cmp::Reverse(*id));
        Self {
            macs: macs
                .into_iter()
                .map(|(_, active_from, mac)| (active_from, mac))
                .collect(),
        }
    }

    /// The tag of record `body` stored under `id`, under the newest master key active now.
    pub fn tag(&self, id: &SecretId, body: &[u8]) -> [u8; TAG_LEN] {
        let (_, sealing) = sealing_of(&self.macs, |(active_from, _)| *active_from)
            .unwrap_or_else(|| unreachable!("at least one master key"));
        tag_with(sealing, id, body)
    }

    /// Whether `tag` is `body`'s under `id` and any master key, compared in constant time.
    pub fn verify(&self, id: &SecretId, body: &[u8], tag: &[u8]) -> bool {
        tag.len() == TAG_LEN
            && self
                .macs
                .iter()
                .any(|(_, mac)| bool::from(tag_with(mac, id, body).ct_eq(tag)))
    }
}

impl std::fmt::Debug for RecordAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordAuth(<key>)")
    }
}
