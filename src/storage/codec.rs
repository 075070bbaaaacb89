//! Byte layouts of stored values and index keys, shared by the backends.

use super::StoreError;
use crate::crypto::{RECORD_TAG_LEN, RecordAuth};
use crate::domain::{Email, Scope, SecretId, SecretMeta, Timestamp, TokenGrant, UNKNOWN_KEY_ID};

/// Version byte of an authenticated secret record: `5 ‖ postcard ‖ tag` (see
/// [`encode_meta`]).
const FORMAT_KEYED: u8 = 5;
/// The authenticated format before records kept their master key's id: records end before
/// [`SecretMeta::key_id`].
const FORMAT_AUTHENTICATED: u8 = 4;
/// Version byte in front of every other encoded record (accounts).
const FORMAT: u8 = 3;
/// The format before end-to-end secrets: the same layouts, except that secret records end before
/// [`SecretMeta::end_to_end`].
const FORMAT_BEFORE_END_TO_END: u8 = 2;
/// The format before file secrets: secret records also end before [`SecretMeta::file`].
const FORMAT_BEFORE_FILES: u8 = 1;

/// Length of an expiry-index key.
pub const DEADLINE_KEY_LEN: usize = 40;

/// Expiry-index key: big-endian deadline then id, so a range scan walks deadlines in order.
pub fn deadline_key(deadline: Timestamp, id: &SecretId) -> [u8; DEADLINE_KEY_LEN] {
    let mut key = [0u8; DEADLINE_KEY_LEN];
    key[..8].copy_from_slice(&deadline.as_millis().to_be_bytes());
    key[8..].copy_from_slice(id.as_bytes());
    key
}

/// What a key of the embedded store's record tree holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordKind {
    /// A secret's metadata, under its secret id.
    Meta = b'm',
    /// A secret's sealed content, under its secret id.
    Content = b'c',
    /// A receipt's secret id, under the receipt id.
    Receipt = b'r',
}

/// Length of a record-tree key.
pub const RECORD_KEY_LEN: usize = 33;

/// Record-tree key: the id's first 8 bytes, the kind, then the rest of the id. A generated key's
/// id starts with its creation time, so a secret's metadata, content and receipt sit next to each
/// other and the secrets created together sit at the end of the one tree: a commit of many creates
/// rewrites a few pages at the tree's end, not a path in each of three trees.
pub fn record_key(kind: RecordKind, id: &[u8; 32]) -> [u8; RECORD_KEY_LEN] {
    let mut key = [0u8; RECORD_KEY_LEN];
    key[..8].copy_from_slice(&id[..8]);
    key[8] = kind as u8;
    key[9..].copy_from_slice(&id[8..]);
    key
}

/// The kind of a record-tree key.
pub fn kind_of_record_key(key: &[u8]) -> Option<RecordKind> {
    match key.get(8) {
        Some(b'm') => Some(RecordKind::Meta),
        Some(b'c') => Some(RecordKind::Content),
        Some(b'r') => Some(RecordKind::Receipt),
        _ => None,
    }
}

/// The secret id in a record-tree key (see [`record_key`]).
///
/// # Errors
/// [`StoreError::Corrupt`] when the key is not one.
pub fn id_of_record_key(key: &[u8]) -> Result<SecretId, StoreError> {
    if key.len() != RECORD_KEY_LEN {
        return Err(StoreError::Corrupt("record key".into()));
    }
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&key[..8]);
    id[8..].copy_from_slice(&key[9..]);
    Ok(SecretId::from_bytes(id))
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

/// Marks a send-only token's stored grant; a bare address (every token stored before scopes
/// existed) is a full one. An address never contains a space, so the two cannot be confused.
const SEND_SCOPE_PREFIX: &str = "send ";

/// A token's grant as the embedded store keeps it: the owner's address, after a scope prefix
/// for a send-only token.
pub fn encode_grant(grant: &TokenGrant) -> String {
    let scoped = match grant.scope {
        Scope::Full => grant.owner.as_str().to_owned(),
        Scope::Send => format!("{SEND_SCOPE_PREFIX}{}", grant.owner.as_str()),
    };
    format!("{} {scoped}", grant.key_id)
}

/// The grant [`encode_grant`] wrote.
///
/// # Errors
/// [`StoreError::Corrupt`] when the address is not one.
pub fn decode_grant(stored: &str) -> Result<TokenGrant, StoreError> {
    // A grant stored before grants kept their key id starts with the scope or the address.
    let (key_id, stored) = match stored.split_once(' ') {
        Some((id, rest)) if id.bytes().all(|b| b.is_ascii_digit()) => (
            id.parse()
                .map_err(|_| StoreError::Corrupt("token key id".into()))?,
            rest,
        ),
        _ => (UNKNOWN_KEY_ID, stored),
    };
    let (scope, address) = match stored.strip_prefix(SEND_SCOPE_PREFIX) {
        Some(address) => (Scope::Send, address),
        None => (Scope::Full, stored),
    };
    let owner = Email::parse(address).map_err(|_| StoreError::Corrupt("token owner".into()))?;
    Ok(TokenGrant {
        owner,
        scope,
        key_id,
    })
}

/// Encodes any stored record as `version ‖ postcard`.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT];
    postcard::to_io(value, &mut out).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(out)
}

/// Decodes what [`encode`] wrote (any record but a secret's: see [`decode_meta`]).
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&(FORMAT | FORMAT_BEFORE_END_TO_END | FORMAT_BEFORE_FILES), rest)) => {
            postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(e.to_string()))
        }
        _ => Err(StoreError::Corrupt("unknown record version".into())),
    }
}

/// Encodes secret `id`'s record, authenticated: `4 ‖ postcard(meta) ‖ tag`, the tag
/// ([`RecordAuth`]) covering the id, the version and the body.
///
/// # Errors
/// [`StoreError::Corrupt`] when the record cannot be serialized.
pub fn encode_meta(
    id: &SecretId,
    meta: &SecretMeta,
    auth: &RecordAuth,
) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_KEYED];
    postcard::to_io(meta, &mut out).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let tag = auth.tag(id, &out);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Decodes secret `id`'s record, refusing (and counting) one whose tag does not hold: changed,
/// moved from another id, or of a format without a tag.
///
/// # Errors
/// [`StoreError::Tampered`], or [`StoreError::Corrupt`] when an authentic record does not decode.
pub fn decode_meta(
    id: &SecretId,
    bytes: &[u8],
    auth: &RecordAuth,
) -> Result<SecretMeta, StoreError> {
    let refused = |why: &'static str| {
        metrics::counter!(crate::telemetry::RECORDS_REFUSED).increment(1);
        tracing::error!(
            reason = why,
            "a stored secret record failed its authentication"
        );
        StoreError::Tampered(why)
    };
    let format = bytes.first().copied();
    if format != Some(FORMAT_KEYED) && format != Some(FORMAT_AUTHENTICATED) {
        return Err(refused("no authentication tag"));
    }
    let body_len = bytes
        .len()
        .checked_sub(RECORD_TAG_LEN)
        .filter(|len| *len > 1)
        .ok_or_else(|| refused("shorter than its tag"))?;
    let (body, tag) = bytes.split_at(body_len);
    if !auth.verify(id, body, tag) {
        return Err(refused("the tag does not match"));
    }
    if format == Some(FORMAT_AUTHENTICATED) {
        return decode_appending(&body[1..], &[UNKNOWN_KEY_BYTE]);
    }
    postcard::from_bytes(&body[1..]).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// postcard's encoding of [`UNKNOWN_KEY_ID`] (a varint zero): what records older than key ids
/// lack at their end.
const UNKNOWN_KEY_BYTE: u8 = 0;

/// Decodes a record `body` of an older format with the bytes of the fields it lacks appended.
fn decode_appending(body: &[u8], missing: &[u8]) -> Result<SecretMeta, StoreError> {
    let mut upgraded = body.to_vec();
    upgraded.extend_from_slice(missing);
    postcard::from_bytes(&upgraded).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Decodes a secret's record as written before records were authenticated (formats 1 to 3), for
/// the one upgrade that tags them ([`super::EmbeddedStore`] on opening an older data directory).
pub fn decode_unauthenticated_meta(bytes: &[u8]) -> Result<SecretMeta, StoreError> {
    // postcard writes an absent `Option`, a `false` and a zero as one zero byte each: the fields
    // a format lacks are appended as those (no file, not end-to-end, an unknown key).
    let missing: &[u8] = match bytes.first() {
        Some(&FORMAT_BEFORE_FILES) => &[0, 0, UNKNOWN_KEY_BYTE],
        Some(&FORMAT_BEFORE_END_TO_END) => &[0, UNKNOWN_KEY_BYTE],
        Some(&FORMAT) => &[UNKNOWN_KEY_BYTE],
        _ => return Err(StoreError::Corrupt("unknown record version".into())),
    };
    decode_appending(bytes.get(1..).unwrap_or_default(), missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_grants_round_trip_and_bare_addresses_are_full() {
        let owner = Email::parse("a@example.com").expect("address");
        for scope in [Scope::Send, Scope::Full] {
            let grant = TokenGrant {
                owner: owner.clone(),
                scope,
                key_id: 2,
            };
            assert_eq!(decode_grant(&encode_grant(&grant)).ok(), Some(grant));
        }
        // What a token created before scopes existed holds, and one before key ids.
        assert_eq!(
            decode_grant("a@example.com")
                .map(|g| (g.scope, g.key_id))
                .ok(),
            Some((Scope::Full, UNKNOWN_KEY_ID))
        );
        assert_eq!(
            decode_grant("send a@example.com")
                .map(|g| (g.scope, g.key_id))
                .ok(),
            Some((Scope::Send, UNKNOWN_KEY_ID))
        );
        assert_eq!(
            decode_grant("1 send a@example.com").map(|g| g.key_id).ok(),
            Some(1)
        );
        assert!(decode_grant("send ").is_err());
        assert!(decode_grant("not an address").is_err());
    }

    #[test]
    fn record_keys_keep_one_secret_together_and_newer_secrets_after() {
        let older = [[0, 0, 0, 0, 0, 0, 1, 0], [0xff; 8], [0xff; 8], [0xff; 8]].concat();
        let newer = [[0, 0, 0, 0, 0, 0, 1, 1], [0; 8], [0; 8], [0; 8]].concat();
        let (older, newer): ([u8; 32], [u8; 32]) = (
            older.try_into().expect("32 bytes"),
            newer.try_into().expect("32 bytes"),
        );
        let kinds = [RecordKind::Meta, RecordKind::Content, RecordKind::Receipt];
        for kind in kinds {
            assert_eq!(kind_of_record_key(&record_key(kind, &older)), Some(kind));
            for other in kinds {
                assert!(record_key(kind, &older) < record_key(other, &newer));
            }
        }
        assert_ne!(
            record_key(RecordKind::Meta, &older),
            record_key(RecordKind::Content, &older)
        );
        assert_eq!(kind_of_record_key(&older), None);
    }

    #[test]
    fn secret_records_of_every_format_still_decode() {
        let (_, meta) =
            crate::storage::conformance::record(1, crate::domain::ViewLimit::Limited(2));
        let current = encode(&meta).expect("encoded");
        // A record of the third format is the current body without the trailing key id (1 is one
        // byte); of the second, without the `false` before it too; of the first, without the
        // `None` before that. They decode with the key unknown.
        let keyless = SecretMeta {
            key_id: UNKNOWN_KEY_ID,
            ..meta.clone()
        };
        for (format, cut) in [
            (FORMAT, 1),
            (FORMAT_BEFORE_END_TO_END, 2),
            (FORMAT_BEFORE_FILES, 3),
        ] {
            let mut old = current[..current.len() - cut].to_vec();
            old[0] = format;
            assert_eq!(decode_unauthenticated_meta(&old).expect("decoded"), keyless);
        }
        // An authenticated record of the format before key ids: its tag covers what was stored.
        let auth = RecordAuth::from_master(&crate::crypto::MasterKey::from_bytes([3; 32]));
        let id = SecretId::from_bytes([5; 32]);
        let mut body = current[..current.len() - 1].to_vec();
        body[0] = FORMAT_AUTHENTICATED;
        let tag = auth.tag(&id, &body);
        body.extend_from_slice(&tag);
        assert_eq!(decode_meta(&id, &body, &auth).expect("decoded"), keyless);
        let stored = encode_meta(&id, &meta, &auth).expect("encoded");
        assert_eq!(stored[0], FORMAT_KEYED);
        assert_eq!(decode_meta(&id, &stored, &auth).expect("decoded"), meta);
        let end_to_end = SecretMeta {
            end_to_end: true,
            ..meta.clone()
        };
        assert_eq!(
            decode_unauthenticated_meta(&encode(&end_to_end).expect("encoded")).expect("decoded"),
            end_to_end
        );

        let file = SecretMeta {
            file: Some(crate::domain::StoredFile {
                size: 7,
                sealed_details: vec![1, 2, 3],
            }),
            ..meta
        };
        assert_eq!(
            decode_unauthenticated_meta(&encode(&file).expect("encoded")).expect("decoded"),
            file
        );
    }

    #[test]
    fn a_changed_moved_or_untagged_record_is_refused() {
        let auth = RecordAuth::from_master(&crate::crypto::MasterKey::from_bytes([3; 32]));
        let (id, meta) =
            crate::storage::conformance::record(1, crate::domain::ViewLimit::Limited(2));
        let stored = encode_meta(&id, &meta, &auth).expect("encoded");
        assert_eq!(decode_meta(&id, &stored, &auth).expect("decoded"), meta);
        // Every single byte flipped is caught.
        for at in 0..stored.len() {
            let mut changed = stored.clone();
            changed[at] ^= 0x01;
            assert!(
                matches!(
                    decode_meta(&id, &changed, &auth),
                    Err(StoreError::Tampered(_))
                ),
                "byte {at}"
            );
        }
        let (other, _) =
            crate::storage::conformance::record(2, crate::domain::ViewLimit::Limited(2));
        assert!(matches!(
            decode_meta(&other, &stored, &auth),
            Err(StoreError::Tampered(_))
        ));
        let other_key = RecordAuth::from_master(&crate::crypto::MasterKey::from_bytes([4; 32]));
        assert!(matches!(
            decode_meta(&id, &stored, &other_key),
            Err(StoreError::Tampered(_))
        ));
        let untagged = encode(&meta).expect("encoded");
        assert!(matches!(
            decode_meta(&id, &untagged, &auth),
            Err(StoreError::Tampered(_))
        ));
        assert!(matches!(
            decode_meta(&id, &[4, 1], &auth),
            Err(StoreError::Tampered(_))
        ));
    }

    proptest::proptest! {
        /// Any stored bytes decode to an error or a record, never a panic; without the tag of
        /// the key in use, never a record.
        #[test]
        fn any_stored_bytes_are_refused_without_their_tag(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        ) {
            let auth = RecordAuth::from_master(&crate::crypto::MasterKey::from_bytes([3; 32]));
            let (id, _) = crate::storage::conformance::record(1, crate::domain::ViewLimit::Limited(2));
            proptest::prop_assert!(decode_meta(&id, &bytes, &auth).is_err());
            let _ = decode_unauthenticated_meta(&bytes);
            let _ = decode::<crate::domain::Account>(&bytes);
            let _ = decode_grant(&String::from_utf8_lossy(&bytes));
        }
    }
}
