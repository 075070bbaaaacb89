//! Byte layouts of stored values and index keys, shared by the backends.

use super::StoreError;
use crate::domain::{SecretId, SecretMeta, Timestamp};

/// Version byte in front of every encoded [`SecretMeta`].
const META_VERSION: u8 = 1;

/// Encodes metadata as `version ‖ postcard`.
pub fn encode_meta(meta: &SecretMeta) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![META_VERSION];
    postcard::to_io(meta, &mut out).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(out)
}

/// Decodes what [`encode_meta`] wrote.
pub fn decode_meta(bytes: &[u8]) -> Result<SecretMeta, StoreError> {
    match bytes.split_first() {
        Some((&META_VERSION, rest)) => {
            postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(e.to_string()))
        }
        _ => Err(StoreError::Corrupt("unknown metadata version".into())),
    }
}

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
