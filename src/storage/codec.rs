//! Byte layouts of stored values and index keys, shared by the backends.

use super::StoreError;
use crate::domain::{Email, SecretId, Timestamp};

/// Version byte in front of every encoded record.
const META_VERSION: u8 = 1;

/// Length of an expiry-index key.
pub const DEADLINE_KEY_LEN: usize = 40;

/// Expiry-index key: big-endian deadline then id, so a range scan walks deadlines in order.
pub fn deadline_key(deadline: Timestamp, id: &SecretId) -> [u8; DEADLINE_KEY_LEN] {
    let mut key = [0u8; DEADLINE_KEY_LEN];
    key[..8].copy_from_slice(&deadline.as_millis().to_be_bytes());
    key[8..].copy_from_slice(id.as_bytes());
    key
}

/// The id in an expiry-index key.
pub fn id_of_deadline_key(key: &[u8]) -> Result<SecretId, StoreError> {
    key.get(8..)
        .and_then(SecretId::from_slice)
        .ok_or_else(|| StoreError::Corrupt("expiry index key".into()))
}

/// Owner-index key: the address, a zero byte, big-endian creation time, then the id, so a range
/// scan lists one owner's secrets oldest first.
pub fn owned_key(owner: &Email, created: Timestamp, id: &SecretId) -> Vec<u8> {
    let mut key = owned_prefix(owner);
    key.extend_from_slice(&created.as_millis().to_be_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

/// The part of an owner-index key shared by all of one owner's entries.
pub fn owned_prefix(owner: &Email) -> Vec<u8> {
    let mut key = owner.as_str().as_bytes().to_vec();
    key.push(0);
    key
}

/// The id at the end of an owner-index key.
pub fn id_of_owned_key(key: &[u8]) -> Result<SecretId, StoreError> {
    key.len()
        .checked_sub(32)
        .and_then(|start| SecretId::from_slice(&key[start..]))
        .ok_or_else(|| StoreError::Corrupt("owner index key".into()))
}

/// Encodes any stored record as `version ‖ postcard`.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![META_VERSION];
    postcard::to_io(value, &mut out).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(out)
}

/// Decodes what [`encode`] wrote.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&META_VERSION, rest)) => {
            postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(e.to_string()))
        }
        _ => Err(StoreError::Corrupt("unknown record version".into())),
    }
}
