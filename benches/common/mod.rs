//! What both benchmarks need: a live secret record made straight from a keyring.

use burnbox::clock;
use burnbox::crypto::{Keyring, new_receipt_key, new_secret_key};
use burnbox::domain::{Lifecycle, SecretId, SecretKey, SecretMeta, Ttl, TtlRange, ViewLimit};

/// A live record with a one-day TTL and 100 bytes of sealed content: key, id, metadata, content.
pub fn live_record(
    keyring: &Keyring,
    views: ViewLimit,
) -> (SecretKey, SecretId, SecretMeta, Vec<u8>) {
    let key = new_secret_key().expect("rng");
    let receipt = new_receipt_key().expect("rng");
    let id = keyring.secret_id(&key);
    let now = clock::now();
    let meta = SecretMeta {
        receipt_id: keyring.receipt_id(&receipt),
        created_at: now,
        updated_at: now,
        ttl: Ttl::parse(Some(86_400), TtlRange::BURN_THE_SECRET).expect("ttl"),
        expires_at: now.plus_secs(86_400),
        purge_at: now.plus_secs(172_800),
        view_limit: views,
        view_count: 0,
        lifecycle: Lifecycle::Live,
        received_at: None,
        has_passphrase: false,
        one_click_retrieval: true,
        allow_deletion: true,
        sealed_secret_key: keyring.seal_secret_key(&receipt, &key).expect("seal"),
        receipt_viewed: false,
        recipients: vec![],
        owner: None,
        passphrase_failures: vec![],
        locked_until: None,
        file: None,
        end_to_end: false,
        key_id: 1,
    };
    let content = keyring
        .seal_content(&id, &key, None, &[b'x'; 100])
        .expect("seal");
    (key, id, meta, content)
}
