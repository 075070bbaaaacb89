//! Builds the receipt object from a record, following Onetime Secret's rules for which fields
//! show in which state.

use poem_openapi::types::MaybeUndefined;

use super::models::{ReceiptObject, ReceiptState};
use crate::clock;
use crate::domain::{Lifecycle, SecretKey, SecretMeta, Timestamp};

/// What a receipt object is built from.
pub struct ReceiptParts<'a> {
    /// The record.
    pub meta: &'a SecretMeta,
    /// The receipt key, as the caller gave it.
    pub metadata_key: &'a str,
    /// The secret key, read from the receipt's seal.
    pub secret_key: &'a SecretKey,
    /// The content is missing while it should be readable.
    pub orphaned: bool,
    /// The generated password, for `generate`.
    pub value: Option<String>,
}

fn unix_secs(at: Timestamp) -> i64 {
    i64::try_from(at.as_secs()).unwrap_or(i64::MAX)
}

fn secs_until(now: Timestamp, later: Timestamp) -> i64 {
    i64::try_from(now.millis_until(later) / 1000).unwrap_or(i64::MAX)
}

/// The state a receipt shows at `now`.
pub fn state_at(meta: &SecretMeta, orphaned: bool, now: Timestamp) -> ReceiptState {
    if orphaned {
        return ReceiptState::Orphaned;
    }
    match meta.lifecycle_at(now) {
        Lifecycle::Live if meta.receipt_viewed => ReceiptState::Viewed,
        Lifecycle::Live => ReceiptState::New,
        Lifecycle::Received => ReceiptState::Received,
        Lifecycle::Burned => ReceiptState::Burned,
        Lifecycle::Expired => ReceiptState::Expired,
    }
}

/// The receipt object of `parts` under `base_url`.
pub fn receipt_object(parts: ReceiptParts<'_>, base_url: &str) -> ReceiptObject {
    let now = clock::now();
    let meta = parts.meta;
    let state = state_at(meta, parts.orphaned, now);
    let (secret_key, secret_ttl) = match state {
        ReceiptState::New | ReceiptState::Viewed => (
            MaybeUndefined::Value(parts.secret_key.expose().to_owned()),
            MaybeUndefined::Value(secs_until(now, meta.expires_at)),
        ),
        ReceiptState::Received => (MaybeUndefined::Undefined, MaybeUndefined::Undefined),
        ReceiptState::Burned | ReceiptState::Expired | ReceiptState::Orphaned => {
            (MaybeUndefined::Value(String::new()), MaybeUndefined::Null)
        }
    };
    let metadata_url = format!(
        "{}/receipt/{}",
        base_url.trim_end_matches('/'),
        parts.metadata_key
    );
    let metadata_ttl = secs_until(now, meta.purge_at);
    ReceiptObject {
        // The owner's address, whoever reads the receipt.
        custid: meta
            .owner
            .as_ref()
            .map_or("anon", |owner| owner.email.as_str())
            .to_owned(),
        metadata_key: parts.metadata_key.to_owned(),
        secret_identifier: secret_key.clone(),
        secret_key,
        state,
        created: unix_secs(meta.created_at),
        updated: unix_secs(meta.updated_at),
        received: meta.received_at.map(unix_secs),
        ttl: i64::try_from(meta.ttl.as_secs()).unwrap_or(i64::MAX),
        metadata_ttl,
        secret_ttl,
        receipt_url: metadata_url.clone(),
        metadata_url,
        share_domain: String::new(),
        recipient: meta.recipients.clone(),
        recipients: meta.recipients.clone(),
        passphrase_required: meta.has_passphrase,
        has_passphrase: meta.has_passphrase,
        identifier: parts.metadata_key.to_owned(),
        receipt_ttl: metadata_ttl,
        secret_value: parts.value.clone(),
        value: parts.value,
    }
}
