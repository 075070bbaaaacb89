//! Actor behaviour against the memory store: passivation keeps residency bounded, a failed actor is
//! re-activated without touching the others, and racing reveals count once.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::{ActorError, ActorSettings, Actors, Content, SecretMsg};
use crate::clock;
use crate::crypto::{Keyring, MasterKey, new_receipt_key, new_secret_key};
use crate::domain::{
    Email, Operation, ReceiptId, SecretId, SecretKey, SecretMeta, Timestamp, ViewLimit,
};
use crate::storage::blob::FsBlobStore;
use crate::storage::{CachedStore, MemoryStore, Outcome, SecretStore, StoreError};

/// A memory store that panics once on the next `content` read, to make an actor fail mid-request.
struct PanicOnce {
    inner: MemoryStore,
    armed: AtomicBool,
}

#[async_trait]
impl SecretStore for PanicOnce {
    fn backend(&self) -> &'static str {
        "panic-once"
    }
    async fn insert(
        &self,
        id: SecretId,
        meta: SecretMeta,
        content: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.inner.insert(id, meta, content).await
    }
    async fn load(&self, id: SecretId) -> Result<Option<SecretMeta>, StoreError> {
        self.inner.load(id).await
    }
    async fn resolve_receipt(&self, receipt: ReceiptId) -> Result<Option<SecretId>, StoreError> {
        self.inner.resolve_receipt(receipt).await
    }
    async fn content(&self, id: SecretId) -> Result<Option<Vec<u8>>, StoreError> {
        assert!(
            !self.armed.swap(false, Ordering::SeqCst),
            "injected failure"
        );
        self.inner.content(id).await
    }
    async fn has_content(&self, id: SecretId) -> Result<bool, StoreError> {
        self.inner.has_content(id).await
    }
    async fn apply(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        self.inner.apply(id, op, now).await
    }
    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<SecretId>, StoreError> {
        self.inner.due(now, limit).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn count_live(&self) -> Result<u64, StoreError> {
        self.inner.count_live().await
    }

    async fn owned_since(
        &self,
        owner: &Email,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<SecretId>, StoreError> {
        self.inner.owned_since(owner, since, limit).await
    }

    async fn records_made_under(&self, key_id: u32) -> Result<crate::storage::KeyUse, StoreError> {
        self.inner.records_made_under(key_id).await
    }
}

struct Fixture {
    store: Arc<CachedStore>,
    keyring: Arc<Keyring>,
    actors: Actors,
    _blob_dir: tempfile::TempDir,
}

async fn fixture(store: Arc<dyn SecretStore>, idle: Duration) -> Fixture {
    let store = Arc::new(CachedStore::new(store, 1000));
    let keyring = Arc::new(Keyring::new(&MasterKey::from_bytes([5; 32])));
    let blob_dir = tempfile::tempdir().expect("temp dir");
    let blobs = Arc::new(FsBlobStore::open(blob_dir.path()).expect("blob store"));
    let actors = Actors::start(
        Arc::clone(&store),
        Arc::clone(&keyring),
        blobs,
        ActorSettings {
            idle_timeout: idle,
            lockout: crate::domain::LockoutPolicy::DEFAULT,
        },
    )
    .await
    .expect("actors start");
    Fixture {
        store,
        keyring,
        actors,
        _blob_dir: blob_dir,
    }
}

impl Fixture {
    /// Stores a secret with `views` allowed; returns its key and id.
    async fn secret(&self, views: ViewLimit) -> (SecretKey, SecretId) {
        self.secret_under(new_secret_key().expect("rng"), views)
            .await
    }

    /// Stores a secret under `key` with `views` allowed; returns the key and id.
    async fn secret_under(&self, key: SecretKey, views: ViewLimit) -> (SecretKey, SecretId) {
        let receipt = new_receipt_key().expect("rng");
        let id = self.keyring.secret_id(&key);
        let mut meta = SecretMeta::fixture(self.keyring.receipt_id(&receipt), clock::now(), views);
        meta.sealed_secret_key = self.keyring.seal_secret_key(&receipt, &key).expect("seal");
        let content = self
            .keyring
            .seal_content(&id, &key, None, b"payload")
            .expect("seal");
        self.store.insert(id, meta, content).await.expect("insert");
        (key, id)
    }

    async fn reveal(&self, key: &SecretKey, id: SecretId) -> Result<Vec<u8>, ActorError> {
        self.actors
            .ask(id, |reply| SecretMsg::Reveal {
                key: key.clone(),
                passphrase: None,
                text_only: false,
                reply,
            })
            .await
            .map(|r| match r.content {
                Content::Text(plaintext) => plaintext.to_vec(),
                Content::File(_) => panic!("a text secret revealed a file"),
            })
    }
}

async fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_written_before_time_ordered_ids_still_open_their_secrets() {
    let f = fixture(Arc::new(MemoryStore::new()), Duration::from_secs(30)).await;
    // An older burnbox handed out 25-character keys: their records are stored under the whole
    // keyed hash, and must still be found by them.
    let legacy = SecretKey::parse("0123456789abcdefghijklmno").expect("key");
    let (key, id) = f.secret_under(legacy, ViewLimit::Limited(1)).await;
    assert_eq!(id, f.keyring.secret_id(&key));
    assert_eq!(f.reveal(&key, id).await.expect("reveal"), b"payload");
    let (fresh, fresh_id) = f.secret(ViewLimit::Limited(1)).await;
    assert_eq!(fresh.expose().len(), 34);
    assert!(
        fresh_id.as_bytes()[..8] != [0u8; 8],
        "a fresh id starts with its time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_secrets_are_not_resident_and_used_ones_passivate() {
    // Idle long enough that the 40 asks below finish before the first actor passivates, even on
    // a loaded machine; the passivation is then waited for.
    let f = fixture(Arc::new(MemoryStore::new()), Duration::from_secs(1)).await;
    let mut secrets = Vec::new();
    for _ in 0..100 {
        secrets.push(f.secret(ViewLimit::Unlimited).await);
    }
    assert_eq!(
        f.actors.resident_count(),
        0,
        "storing a secret activates no actor"
    );
    for (_, id) in &secrets[..40] {
        f.actors.ask(*id, SecretMsg::Status).await.expect("status");
    }
    assert_eq!(f.actors.resident_count(), 40, "one actor per secret in use");
    assert!(
        wait_until(Duration::from_secs(5), || f.actors.resident_count() == 0).await,
        "idle actors passivate"
    );
    // A passivated secret is re-activated from the store with its state.
    let (key, id) = &secrets[0];
    assert_eq!(f.reveal(key, *id).await.expect("reveal"), b"payload");
    let meta = f.actors.ask(*id, SecretMsg::Status).await.expect("status");
    assert_eq!(meta.view_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_actor_is_reactivated_without_touching_the_others() {
    let store = Arc::new(PanicOnce {
        inner: MemoryStore::new(),
        armed: AtomicBool::new(false),
    });
    let f = fixture(
        Arc::clone(&store) as Arc<dyn SecretStore>,
        Duration::from_secs(60),
    )
    .await;
    let (key_a, a) = f.secret(ViewLimit::Limited(2)).await;
    let (_, b) = f.secret(ViewLimit::Limited(2)).await;
    f.actors.ask(b, SecretMsg::Status).await.expect("status");
    let actor_b = f.actors.resident(&b).expect("b resident").get_id();

    f.actors.ask(a, SecretMsg::Status).await.expect("status");
    let actor_a = f.actors.resident(&a).expect("a resident").get_id();

    // The actor panics mid-reveal; the caller's request is retried on a fresh actor.
    store.armed.store(true, Ordering::SeqCst);
    assert_eq!(
        f.reveal(&key_a, a)
            .await
            .expect("reveal served by a new actor"),
        b"payload"
    );
    assert!(
        !store.armed.load(Ordering::SeqCst),
        "the failure was injected"
    );
    let restarted = f.actors.resident(&a).expect("a resident again").get_id();
    assert_ne!(restarted, actor_a, "a runs on a new actor");
    let meta = f.actors.ask(a, SecretMsg::Status).await.expect("a answers");
    assert_eq!(meta.view_count, 1, "the failed attempt counted no view");
    assert_eq!(
        f.actors.resident(&b).map(|r| r.get_id()),
        Some(actor_b),
        "b kept its actor"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_reveals_through_actors_count_exactly_the_limit() {
    let f = Arc::new(fixture(Arc::new(MemoryStore::new()), Duration::from_millis(50)).await);
    let (key, id) = f.secret(ViewLimit::Limited(3)).await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let f = Arc::clone(&f);
            let key = key.clone();
            tokio::spawn(async move { f.reveal(&key, id).await })
        })
        .collect();
    let mut granted = 0;
    let mut refusals = HashSet::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => granted += 1,
            Err(err) => {
                refusals.insert(format!("{err}"));
            }
        }
    }
    assert_eq!(granted, 3);
    assert_eq!(
        refusals.len(),
        1,
        "every other reveal is refused the same way: {refusals:?}"
    );
    assert!(refusals.iter().all(|r| r.contains("MaxViewsReached")));
}
