//! The suite every backend passes: the same calls, the same answers. Public (and hidden) so the
//! integration tests run it against the real Redis servers they start; run it on an empty store.

use std::sync::Arc;

#[cfg(test)]
use super::Stores;
use super::{AccountStore, Outcome, SecretStore, StoreError};
#[cfg(test)]
use super::{EmbeddedStore, MemoryStore};
use crate::domain::{
    Account, Email, Gone, Lifecycle, Operation, Ownership, ReceiptId, Scope, SecretId, SecretMeta,
    Tier, Timestamp, TokenGrant, ViewLimit,
};

/// The suite's "now": this process's first call, to the second (records must not be dated in the
/// past, or a backend with its own expiry drops them at once).
fn t0() -> Timestamp {
    static T0: std::sync::OnceLock<Timestamp> = std::sync::OnceLock::new();
    *T0.get_or_init(|| Timestamp::from_millis(crate::clock::now().as_millis() / 1000 * 1000))
}

/// The records' key the suite and the integration tests use (from a fixed master key).
#[doc(hidden)]
pub fn test_auth() -> crate::crypto::RecordAuth {
    crate::crypto::RecordAuth::from_master(&crate::crypto::MasterKey::from_bytes([0x42; 32]))
}

/// A live record numbered `n` (its id and receipt id are built from `n`), created at [`t0`].
pub fn record(n: u8, views: ViewLimit) -> (SecretId, SecretMeta) {
    let mut meta = SecretMeta::fixture(ReceiptId::from_bytes([n; 32]), t0(), views);
    meta.sealed_secret_key = vec![n; 8];
    let mut id = [0u8; 32];
    id[0] = n;
    id[31] = 0xaa;
    (SecretId::from_bytes(id), meta)
}

async fn insert_then_read_back(store: &dyn SecretStore) {
    let (id, meta) = record(1, ViewLimit::Limited(2));
    store
        .insert(id, meta.clone(), b"sealed".to_vec())
        .await
        .expect("insert");
    assert_eq!(store.load(id).await.expect("load"), Some(meta.clone()));
    assert_eq!(
        store
            .resolve_receipt(meta.receipt_id)
            .await
            .expect("resolve"),
        Some(id)
    );
    assert_eq!(
        store.content(id).await.expect("content"),
        Some(b"sealed".to_vec())
    );
    assert!(store.has_content(id).await.expect("has content"));
    assert!(matches!(
        store.insert(id, meta, b"again".to_vec()).await,
        Err(StoreError::Conflict)
    ));
    let (unknown, unknown_meta) = record(99, ViewLimit::Limited(1));
    assert_eq!(store.load(unknown).await.expect("load"), None);
    assert_eq!(
        store
            .resolve_receipt(unknown_meta.receipt_id)
            .await
            .expect("resolve"),
        None
    );
    assert_eq!(
        store
            .apply(unknown, Operation::TakeView, t0())
            .await
            .expect("apply"),
        Outcome::Missing
    );
}

async fn last_view_deletes_content(store: &dyn SecretStore) {
    let (id, meta) = record(2, ViewLimit::Limited(2));
    store
        .insert(id, meta, b"sealed".to_vec())
        .await
        .expect("insert");
    let now = t0().plus_secs(1);
    let Outcome::Updated(first) = store
        .apply(id, Operation::TakeView, now)
        .await
        .expect("view")
    else {
        panic!("first view refused")
    };
    assert_eq!(first.view_count, 1);
    assert!(store.content(id).await.expect("content").is_some());
    let Outcome::Updated(second) = store
        .apply(id, Operation::TakeView, now)
        .await
        .expect("view")
    else {
        panic!("second view refused")
    };
    assert_eq!(second.lifecycle, Lifecycle::Received);
    assert_eq!(store.content(id).await.expect("content"), None);
    assert!(!store.has_content(id).await.expect("has content"));
    assert!(matches!(
        store
            .apply(id, Operation::TakeView, now)
            .await
            .expect("view"),
        Outcome::Refused(_, Gone::MaxViewsReached)
    ));
    assert_eq!(
        store.load(id).await.expect("load").map(|m| m.view_count),
        Some(2)
    );
}

async fn burn_deletes_content(store: &dyn SecretStore) {
    let (id, meta) = record(3, ViewLimit::Unlimited);
    store
        .insert(id, meta, b"sealed".to_vec())
        .await
        .expect("insert");
    let outcome = store
        .apply(id, Operation::Burn, t0().plus_secs(5))
        .await
        .expect("burn");
    assert!(matches!(outcome, Outcome::Updated(ref m) if m.lifecycle == Lifecycle::Burned));
    assert_eq!(store.content(id).await.expect("content"), None);
    assert!(matches!(
        store
            .apply(id, Operation::TakeView, t0().plus_secs(6))
            .await
            .expect("view"),
        Outcome::Refused(_, Gone::Burned)
    ));
}

async fn sweep_expires_then_purges(store: &dyn SecretStore) {
    let (id, meta) = record(4, ViewLimit::Limited(1));
    store
        .insert(id, meta.clone(), b"sealed".to_vec())
        .await
        .expect("insert");
    assert!(!store.due(t0(), 10).await.expect("due").contains(&id));
    assert!(
        store
            .due(meta.expires_at, 10)
            .await
            .expect("due")
            .contains(&id)
    );
    let outcome = store
        .apply(id, Operation::Sweep, meta.expires_at)
        .await
        .expect("sweep");
    assert!(matches!(outcome, Outcome::Updated(ref m) if m.lifecycle == Lifecycle::Expired));
    assert_eq!(store.content(id).await.expect("content"), None);
    assert!(
        !store
            .due(meta.expires_at, 10)
            .await
            .expect("due")
            .contains(&id)
    );
    assert!(
        store
            .due(meta.purge_at, 10)
            .await
            .expect("due")
            .contains(&id)
    );
    assert_eq!(
        store
            .apply(id, Operation::Sweep, meta.purge_at)
            .await
            .expect("purge"),
        Outcome::Purged
    );
    assert_eq!(store.load(id).await.expect("load"), None);
    assert_eq!(
        store
            .resolve_receipt(meta.receipt_id)
            .await
            .expect("resolve"),
        None
    );
    assert!(
        !store
            .due(meta.purge_at, 10)
            .await
            .expect("due")
            .contains(&id)
    );
}

async fn racing_views_count_once(store: Arc<dyn SecretStore>) {
    let (id, meta) = record(5, ViewLimit::Limited(1));
    store
        .insert(id, meta, b"sealed".to_vec())
        .await
        .expect("insert");
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .apply(id, Operation::TakeView, t0().plus_secs(1))
                    .await
            })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        if let Outcome::Updated(_) = task.await.expect("task").expect("apply") {
            granted += 1;
        }
    }
    assert_eq!(granted, 1);
}

async fn accounts_and_token_grants(store: &dyn AccountStore) {
    let email = |raw: &str| Email::parse(raw).expect("address");
    let account = |raw: &str, tier| Account {
        email: email(raw),
        tier,
        created_at: t0(),
        revoked_at: None,
    };
    store
        .put_account(account("b@example.com", Tier::Api))
        .await
        .expect("put");
    store
        .put_account(account("a@example.com", Tier::Authenticated))
        .await
        .expect("put");
    let revoked = Account {
        revoked_at: Some(t0().plus_secs(5)),
        ..account("b@example.com", Tier::Api)
    };
    store.put_account(revoked.clone()).await.expect("replace");
    assert_eq!(
        store.account(&email("b@example.com")).await.expect("read"),
        Some(revoked)
    );
    assert_eq!(
        store.account(&email("c@example.com")).await.expect("read"),
        None
    );
    let listed: Vec<String> = store
        .accounts()
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.email.as_str().to_owned())
        .collect();
    assert_eq!(listed, ["a@example.com", "b@example.com"]);

    let grants_before = store.token_grants().await.expect("listed").len();
    let full = TokenGrant {
        owner: email("a@example.com"),
        scope: Scope::Full,
        key_id: 1,
    };
    let send = TokenGrant {
        owner: email("a@example.com"),
        scope: Scope::Send,
        key_id: 2,
    };
    store.put_token([1; 32], full.clone()).await.expect("put");
    store.put_token([2; 32], send.clone()).await.expect("put");
    assert_eq!(
        store.token_grant([1; 32]).await.expect("read"),
        Some(full.clone())
    );
    assert_eq!(
        store.token_grant([2; 32]).await.expect("read"),
        Some(send.clone())
    );
    assert_eq!(store.token_grant([3; 32]).await.expect("read"), None);

    // Every grant is listed, with its master key's id, and a deleted one no longer is.
    let grants = store.token_grants().await.expect("listed");
    assert_eq!(grants.len(), grants_before + 2);
    assert!(grants.contains(&full) && grants.contains(&send));
    store.delete_token([1; 32]).await.expect("deleted");
    assert_eq!(store.token_grant([1; 32]).await.expect("read"), None);
    let grants = store.token_grants().await.expect("listed");
    assert_eq!(grants.len(), grants_before + 1);
    assert!(!grants.contains(&full));
    store
        .delete_token([1; 32])
        .await
        .expect("deleting twice is fine");
}

/// Records are counted by the master key that made them; those from before key ids, apart.
async fn records_are_counted_by_their_key(store: &dyn SecretStore) {
    let under_1 = store.records_made_under(1).await.expect("counted");
    let under_2 = store.records_made_under(2).await.expect("counted");
    for (n, key_id) in [
        (61u8, 1),
        (62, 2),
        (63, 2),
        (64, crate::domain::UNKNOWN_KEY_ID),
    ] {
        let (id, mut meta) = record_at(n, 0);
        meta.key_id = key_id;
        insert_all(store, &[(id, meta)]).await;
    }
    let now_1 = store.records_made_under(1).await.expect("counted");
    let now_2 = store.records_made_under(2).await.expect("counted");
    assert_eq!(now_1.made_under, under_1.made_under + 1);
    assert_eq!(now_2.made_under, under_2.made_under + 2);
    assert_eq!(now_1.unknown, under_1.unknown + 1);
    assert_eq!(now_2.unknown, now_1.unknown);
}

/// A live record numbered `n`, created `offset_secs` after [`t0`] (negative: before).
fn record_at(n: u8, offset_secs: i64) -> (SecretId, SecretMeta) {
    let created = Timestamp::from_millis(
        t0().as_millis()
            .saturating_add_signed(offset_secs.saturating_mul(1000)),
    );
    let mut meta = SecretMeta::fixture(
        ReceiptId::from_bytes([n; 32]),
        created,
        ViewLimit::Limited(1),
    );
    meta.sealed_secret_key = vec![n; 8];
    let mut id = [0u8; 32];
    id[0] = n;
    id[31] = 0xbb;
    (SecretId::from_bytes(id), meta)
}

async fn insert_all(store: &dyn SecretStore, records: &[(SecretId, SecretMeta)]) {
    for (id, meta) in records {
        store
            .insert(*id, meta.clone(), b"sealed".to_vec())
            .await
            .expect("insert");
    }
}

async fn due_comes_in_deadline_order_up_to_the_limit(store: &dyn SecretStore) {
    // Older than everything else the suite stores, so nothing else is due at t0.
    let records: Vec<_> = [(30, -3000), (31, -2999), (32, -2998)]
        .into_iter()
        .map(|(n, offset)| record_at(n, offset))
        .collect();
    insert_all(store, &records).await;
    let ids: Vec<SecretId> = records.iter().map(|(id, _)| *id).collect();
    assert_eq!(store.due(t0(), 10).await.expect("due"), ids);
    assert_eq!(store.due(t0(), 2).await.expect("due"), ids[..2]);
    assert!(
        store
            .due(records[0].1.expires_at, 10)
            .await
            .expect("due")
            .starts_with(&ids[..1])
    );
    for id in &ids {
        store
            .apply(*id, Operation::Sweep, t0())
            .await
            .expect("expired");
    }
    assert!(
        store.due(t0(), 10).await.expect("due").is_empty(),
        "expired: next due at their purge time"
    );
}

async fn owner_lists_are_newest_first_up_to_the_limit(store: &dyn SecretStore) {
    let owned = |n: u8, offset: i64, email: &str| {
        let (id, mut meta) = record_at(n, offset);
        meta.owner = Some(Ownership {
            email: Email::parse(email).expect("address"),
            sealed_receipt_key: vec![n],
        });
        (id, meta)
    };
    let mine = [
        owned(40, 1, "o@example.com"),
        owned(41, 2, "o@example.com"),
        owned(42, 3, "o@example.com"),
    ];
    let theirs = owned(43, 2, "p@example.com");
    insert_all(store, &mine).await;
    insert_all(store, std::slice::from_ref(&theirs)).await;
    let owner = Email::parse("o@example.com").expect("address");
    let newest_first: Vec<SecretId> = mine.iter().rev().map(|(id, _)| *id).collect();
    assert_eq!(
        store.owned_since(&owner, t0(), 10).await.expect("list"),
        newest_first
    );
    assert_eq!(
        store.owned_since(&owner, t0(), 2).await.expect("list"),
        newest_first[..2]
    );
    assert_eq!(
        store
            .owned_since(&owner, t0().plus_secs(2), 10)
            .await
            .expect("list"),
        newest_first[..2],
        "from the given time on"
    );
    let other = Email::parse("p@example.com").expect("address");
    assert_eq!(
        store.owned_since(&other, t0(), 10).await.expect("list"),
        [theirs.0]
    );
    // A purged record leaves its owner's list.
    store
        .apply(mine[2].0, Operation::Sweep, mine[2].1.purge_at)
        .await
        .expect("purged");
    assert_eq!(
        store.owned_since(&owner, t0(), 10).await.expect("list"),
        newest_first[1..]
    );
}

async fn the_live_count_follows_inserts_and_final_states(store: &dyn SecretStore) {
    let before = store.count_live().await.expect("count");
    let records = [record_at(50, 5), record_at(51, 6)];
    insert_all(store, &records).await;
    assert_eq!(store.count_live().await.expect("count"), before + 2);
    store
        .apply(records[0].0, Operation::Burn, t0().plus_secs(7))
        .await
        .expect("burned");
    assert_eq!(store.count_live().await.expect("count"), before + 1);
}

/// Runs every check of the suite on a backend's two views, which must start empty.
pub async fn run_suite(store: Arc<dyn SecretStore>, accounts: &dyn AccountStore) {
    accounts_and_token_grants(accounts).await;
    store.ping().await.expect("ping");
    insert_then_read_back(store.as_ref()).await;
    last_view_deletes_content(store.as_ref()).await;
    burn_deletes_content(store.as_ref()).await;
    sweep_expires_then_purges(store.as_ref()).await;
    due_comes_in_deadline_order_up_to_the_limit(store.as_ref()).await;
    owner_lists_are_newest_first_up_to_the_limit(store.as_ref()).await;
    the_live_count_follows_inserts_and_final_states(store.as_ref()).await;
    records_are_counted_by_their_key(store.as_ref()).await;
    racing_views_count_once(store).await;
}

#[cfg(test)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_backend_conforms() {
    let store = Arc::new(MemoryStore::new());
    run_suite(store.clone(), store.as_ref()).await;
}

#[cfg(test)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_backend_conforms() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(EmbeddedStore::open(dir.path(), test_auth()).expect("open"));
    run_suite(store.clone(), store.as_ref()).await;
}

#[cfg(test)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_embedded_backend_conforms() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = Stores::cached(Arc::new(
        EmbeddedStore::open(dir.path(), test_auth()).expect("open"),
    ));
    run_suite(stores.secrets, stores.accounts.as_ref()).await;
}

#[cfg(test)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_records_survive_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (id, meta) = record(6, ViewLimit::Limited(3));
    {
        let store = EmbeddedStore::open(dir.path(), test_auth()).expect("open");
        store
            .insert(id, meta, b"sealed".to_vec())
            .await
            .expect("insert");
        store
            .apply(id, Operation::TakeView, t0().plus_secs(1))
            .await
            .expect("view");
    }
    // The writer thread releases the file when its channel closes; wait for that.
    let reopened = loop {
        match EmbeddedStore::open(dir.path(), test_auth()) {
            Ok(store) => break store,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    };
    assert_eq!(
        reopened.load(id).await.expect("load").map(|m| m.view_count),
        Some(1)
    );
    assert_eq!(
        reopened.content(id).await.expect("content"),
        Some(b"sealed".to_vec())
    );
}
