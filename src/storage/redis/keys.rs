//! Where each thing lives in Redis, laid out for Cluster: one secret's record and content share
//! a hash tag (its bucket), so a script touching both stays in one slot; the expiry index, the
//! live count and the owner lists are kept per bucket, beside the records they index, so no script
//! spans slots and a sweep that reads every bucket misses nothing. Accounts share one tag and
//! tokens another (they are few); a receipt's mapping is keyed by the receipt alone.

use crate::domain::{Email, ReceiptId, SecretId};

/// Buckets the secrets are spread over: enough to spread them over a Cluster's shards, few
/// enough that a sweep's one query per bucket stays cheap.
pub const BUCKETS: u16 = 64;

/// What every key starts with, so burnbox's keys are recognisable in a shared server.
const PREFIX: &str = "bb";

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string, `None` unless it is 32 bytes' worth.
pub fn unhex_id(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        let digits = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(digits, 16).ok()?;
    }
    Some(out)
}

/// The bucket of a secret: from the last bytes of its keyed hash (the first ones are its
/// creation time).
pub fn bucket_of(id: &SecretId) -> u16 {
    let bytes = id.as_bytes();
    u16::from_be_bytes([bytes[30], bytes[31]]) % BUCKETS
}

/// The keys of one secret and of the indexes of its bucket.
pub struct SecretKeys {
    /// The record: a write nonce, then the encoded metadata.
    pub meta: String,
    /// The sealed content.
    pub content: String,
    /// The bucket's expiry index (a sorted set: deadline → id).
    pub due: String,
    /// The bucket's count of live secrets.
    pub live: String,
    /// The id as it appears in the indexes.
    pub member: String,
}

impl SecretKeys {
    /// The keys of `id`.
    pub fn of(id: &SecretId) -> Self {
        let tag = bucket_tag(bucket_of(id));
        let member = hex(id.as_bytes());
        Self {
            meta: format!("{PREFIX}:{tag}:m:{member}"),
            content: format!("{PREFIX}:{tag}:c:{member}"),
            due: due_key(bucket_of(id)),
            live: live_key(bucket_of(id)),
            member,
        }
    }

    /// The marker a write with this `nonce` leaves for 30 s, so a resend of it is known.
    pub fn write_marker(&self, nonce: &[u8]) -> String {
        let end = self.meta.find('}').map_or(0, |i| i + 1);
        format!("{}:w:{}", &self.meta[..end], hex(nonce))
    }

    /// The bucket's list of `owner`'s secrets (a sorted set: creation time → id).
    pub fn owned(&self, id: &SecretId, owner: &Email) -> String {
        owned_key(bucket_of(id), owner)
    }
}

fn bucket_tag(bucket: u16) -> String {
    format!("{{b{bucket}}}")
}

/// The expiry index of `bucket`.
pub fn due_key(bucket: u16) -> String {
    format!("{PREFIX}:{}:due", bucket_tag(bucket))
}

/// The live count of `bucket`.
pub fn live_key(bucket: u16) -> String {
    format!("{PREFIX}:{}:live", bucket_tag(bucket))
}

/// `owner`'s secrets in `bucket`.
pub fn owned_key(bucket: u16, owner: &Email) -> String {
    format!("{PREFIX}:{}:own:{}", bucket_tag(bucket), owner.as_str())
}

/// A receipt's mapping to its secret.
pub fn receipt_key(receipt: &ReceiptId) -> String {
    format!("{PREFIX}:r:{}", hex(receipt.as_bytes()))
}

/// An account.
pub fn account_key(email: &Email) -> String {
    format!("{PREFIX}:{{accounts}}:a:{}", email.as_str())
}

/// The set of every account's address.
pub const ACCOUNT_LIST: &str = "bb:{accounts}:list";

/// An API token's grant, by its keyed hash.
pub fn token_key(token_hash: &[u8; 32]) -> String {
    format!("{PREFIX}:{{tokens}}:{}", hex(token_hash))
}

/// The pattern every token's key matches (and only they: a hash is 64 hex digits).
pub const TOKEN_PATTERN: &str =
    "bb:{tokens}:????????????????????????????????????????????????????????????????";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secrets_keys_share_one_hash_tag_and_ids_round_trip() {
        let mut bytes = [7u8; 32];
        bytes[31] = 200;
        let id = SecretId::from_bytes(bytes);
        let keys = SecretKeys::of(&id);
        let tag = |key: &str| {
            let start = key.find('{').expect("tag");
            key[start..=key.find('}').expect("tag end")].to_owned()
        };
        let owner = Email::parse("a@example.com").expect("address");
        let all = [
            &keys.meta,
            &keys.content,
            &keys.due,
            &keys.live,
            &keys.owned(&id, &owner),
        ];
        assert!(all.iter().all(|k| tag(k) == tag(&keys.meta)), "{all:?}");
        assert_eq!(unhex_id(keys.member.as_bytes()), Some(bytes));
        assert_eq!(unhex_id(b"zz"), None);
        assert!(bucket_of(&id) < BUCKETS);
    }
}
