//! A moka read cache in front of any [`SecretStore`], and the store's instrumentation: operation
//! latency, failures, cache hits and the live-secret gauge, whatever the backend.
//!
//! Receipt → secret mappings never change, so once read they stay cached. Metadata is cached only
//! when this node is the store's sole writer (`!is_shared()`), and only for secrets without a
//! resident actor: while an actor runs it holds its secret's record itself and is the node's only
//! writer of it, so its writes ([`CachedStore::apply_resident`]) drop any cached copy instead of
//! keeping it current, and when it passivates it leaves its last record here
//! ([`CachedStore::passivated`]) for the next activation. Writes made without an actor (the
//! sweeper's) put the record they returned. A newer revision is never replaced by an older one,
//! and loads never fill the cache (a load racing a write could otherwise put back the state before
//! it), so a reader never sees a state older than the last write. A cached record past its purge
//! time is treated as a miss.
//!
//! Why not cache on every write: a moka update costs more than the embedded store's point read it
//! saves, and a create does not fill the cache either, since most secrets are read once or never
//! (`docs/decisions/0003-read-cache-filled-on-passivation.md`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::future::Cache;
use moka::ops::compute::Op;

use super::{KeyUse, Outcome, SecretStore, StoreError};
use crate::clock;
use crate::domain::{Email, Lifecycle, Operation, ReceiptId, SecretId, SecretMeta, Timestamp};
use crate::telemetry;

/// Upper bound on how long an entry stays cached, whatever happens.
const ENTRY_TTL: Duration = Duration::from_secs(300);

/// Who writes a record, which decides what the cache does with the result.
#[derive(Clone, Copy)]
enum WrittenBy {
    /// The secret's resident actor, which holds the record itself.
    ResidentActor,
    /// Anyone else (the sweeper).
    Other,
}

/// The caching wrapper.
pub struct CachedStore {
    inner: Arc<dyn SecretStore>,
    metas: Option<Cache<SecretId, SecretMeta>>,
    receipts: Cache<ReceiptId, SecretId>,
}

impl CachedStore {
    /// Wraps `inner`, keeping up to `capacity` records of each kind.
    pub fn new(inner: Arc<dyn SecretStore>, capacity: u64) -> Self {
        let metas = (!inner.is_shared()).then(|| {
            Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ENTRY_TTL)
                .build()
        });
        let receipts = Cache::builder()
            .max_capacity(capacity)
            .time_to_live(ENTRY_TTL)
            .build();
        Self {
            inner,
            metas,
            receipts,
        }
    }

    /// Runs one backend operation, recording its latency and whether it failed.
    async fn timed<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = work.await;
        telemetry::store_operation(
            self.inner.backend(),
            operation,
            started.elapsed(),
            result.is_ok(),
        );
        result
    }

    /// Applies `op` in the backend for `writer`, counts secrets that leave `Live` and expiries,
    /// and brings the cache in step.
    async fn apply_by(
        &self,
        writer: WrittenBy,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        let outcome = self.timed("apply", self.inner.apply(id, op, now)).await?;
        if let Outcome::Updated(meta) = &outcome
            && meta.is_final()
            && matches!(op, Operation::TakeView | Operation::Burn | Operation::Sweep)
        {
            // Every update to a final state is the one move out of `Live`.
            metrics::gauge!(telemetry::LIVE).decrement(1.0);
            if meta.lifecycle == Lifecycle::Expired {
                metrics::counter!(telemetry::EXPIRED).increment(1);
            }
        }
        match (&outcome, writer) {
            (Outcome::Missing | Outcome::Purged, _) => self.forget(id).await,
            (
                Outcome::Updated(meta) | Outcome::Refused(meta, _) | Outcome::Unchanged(meta),
                WrittenBy::Other,
            ) => self.remember(id, meta.clone()).await,
            (_, WrittenBy::ResidentActor) => {
                // Usually absent (the actor holds the record): only the cheap lookup is paid.
                if let Some(metas) = &self.metas
                    && metas.contains_key(&id)
                {
                    metas.invalidate(&id).await;
                }
            }
        }
        Ok(outcome)
    }

    /// Drops what is cached of a record that is gone.
    async fn forget(&self, id: SecretId) {
        if let Some(metas) = &self.metas
            && let Some(meta) = metas.remove(&id).await
        {
            self.receipts.invalidate(&meta.receipt_id).await;
        }
    }

    /// Caches `meta` unless a newer revision is already cached.
    async fn remember(&self, id: SecretId, meta: SecretMeta) {
        let Some(metas) = &self.metas else { return };
        metas
            .entry(id)
            .and_compute_with(|cached| async move {
                match cached {
                    Some(entry) if entry.value().revision() > meta.revision() => Op::Nop,
                    _ => Op::Put(meta),
                }
            })
            .await;
    }
}

/// What the actors and the cache agree on, apart from what every backend does.
impl CachedStore {
    /// [`SecretStore::apply`] by the secret's resident actor, which keeps the record itself while
    /// it runs: the cache drops its copy instead of keeping it current.
    ///
    /// # Errors
    /// The backend's.
    pub async fn apply_resident(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        self.apply_by(WrittenBy::ResidentActor, id, op, now).await
    }

    /// The record a resident actor held when it passivated (it was the node's only writer of it
    /// meanwhile): kept for the next activation. Nothing is written.
    pub async fn passivated(&self, id: SecretId, meta: SecretMeta) {
        self.remember(id, meta).await;
    }
}

#[async_trait]
impl SecretStore for CachedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn is_shared(&self) -> bool {
        self.inner.is_shared()
    }

    async fn insert(
        &self,
        id: SecretId,
        meta: SecretMeta,
        content: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.timed("insert", self.inner.insert(id, meta, content))
            .await?;
        metrics::gauge!(telemetry::LIVE).increment(1.0);
        Ok(())
    }

    async fn load(&self, id: SecretId) -> Result<Option<SecretMeta>, StoreError> {
        if let Some(metas) = &self.metas
            && let Some(meta) = metas.get(&id).await
            && meta.purge_at > clock::now()
        {
            telemetry::cache_lookup("meta", true);
            return Ok(Some(meta));
        }
        telemetry::cache_lookup("meta", false);
        self.timed("load", self.inner.load(id)).await
    }

    async fn resolve_receipt(&self, receipt: ReceiptId) -> Result<Option<SecretId>, StoreError> {
        if let Some(id) = self.receipts.get(&receipt).await {
            telemetry::cache_lookup("receipt", true);
            return Ok(Some(id));
        }
        telemetry::cache_lookup("receipt", false);
        let resolved = self
            .timed("resolve_receipt", self.inner.resolve_receipt(receipt))
            .await?;
        if let Some(id) = resolved {
            self.receipts.insert(receipt, id).await;
        }
        Ok(resolved)
    }

    async fn content(&self, id: SecretId) -> Result<Option<Vec<u8>>, StoreError> {
        self.timed("content", self.inner.content(id)).await
    }

    async fn has_content(&self, id: SecretId) -> Result<bool, StoreError> {
        self.timed("has_content", self.inner.has_content(id)).await
    }

    async fn load_with_content(
        &self,
        id: SecretId,
    ) -> Result<Option<(SecretMeta, Option<Vec<u8>>)>, StoreError> {
        // Always from the store: this is the read of a request that must not see an old state.
        self.timed("load_with_content", self.inner.load_with_content(id))
            .await
    }

    async fn apply(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        self.apply_by(WrittenBy::Other, id, op, now).await
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<SecretId>, StoreError> {
        self.timed("due", self.inner.due(now, limit)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
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

    async fn records_made_under(&self, key_id: u32) -> Result<KeyUse, StoreError> {
        self.inner.records_made_under(key_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ViewLimit;
    use crate::storage::MemoryStore;

    /// A cache over a memory store, the store itself (to change records behind the cache's back,
    /// which shows whether a read was served by the cache), and a fresh live record.
    async fn fixture() -> (CachedStore, Arc<MemoryStore>, SecretId, SecretMeta) {
        let inner = Arc::new(MemoryStore::new());
        let cached = CachedStore::new(Arc::clone(&inner) as Arc<dyn SecretStore>, 100);
        let meta = SecretMeta::fixture(
            ReceiptId::from_bytes([7; 32]),
            clock::now(),
            ViewLimit::Limited(5),
        );
        let id = SecretId::from_bytes([9; 32]);
        cached
            .insert(id, meta.clone(), b"sealed".to_vec())
            .await
            .expect("insert");
        (cached, inner, id, meta)
    }

    async fn view_behind_the_cache(inner: &MemoryStore, id: SecretId) -> SecretMeta {
        match inner.apply(id, Operation::TakeView, clock::now()).await {
            Ok(Outcome::Updated(meta)) => meta,
            other => panic!("view not taken: {other:?}"),
        }
    }

    async fn views_loaded(cached: &CachedStore, id: SecretId) -> Option<u32> {
        let meta = cached.load(id).await.expect("load");
        meta.map(|meta| meta.view_count)
    }

    #[tokio::test]
    async fn loads_never_fill_the_cache() {
        let (cached, inner, id, _) = fixture().await;
        assert_eq!(views_loaded(&cached, id).await, Some(0));
        view_behind_the_cache(&inner, id).await;
        assert_eq!(views_loaded(&cached, id).await, Some(1));
    }

    #[tokio::test]
    async fn a_passivated_record_is_served_until_its_next_activation_writes() {
        let (cached, inner, id, meta) = fixture().await;
        cached.passivated(id, meta).await;
        view_behind_the_cache(&inner, id).await;
        // Served from the cache: the store has moved on behind its back.
        assert_eq!(views_loaded(&cached, id).await, Some(0));

        let outcome = cached
            .apply_resident(id, Operation::TakeView, clock::now())
            .await
            .expect("view");
        assert!(matches!(outcome, Outcome::Updated(ref m) if m.view_count == 2));
        assert_eq!(views_loaded(&cached, id).await, Some(2));
    }

    #[tokio::test]
    async fn writes_without_an_actor_are_cached_and_an_older_passivation_never_replaces_them() {
        let (cached, inner, id, meta) = fixture().await;
        cached.passivated(id, meta.clone()).await;
        cached
            .apply(id, Operation::TakeView, clock::now())
            .await
            .expect("view");
        // An actor that passivates with the record before that write must not put it back.
        cached.passivated(id, meta).await;
        view_behind_the_cache(&inner, id).await;
        assert_eq!(views_loaded(&cached, id).await, Some(1));
    }

    #[tokio::test]
    async fn a_purged_record_is_no_longer_served() {
        let (cached, _, id, meta) = fixture().await;
        cached.passivated(id, meta.clone()).await;
        let outcome = cached
            .apply_resident(id, Operation::Sweep, meta.purge_at)
            .await
            .expect("sweep");
        assert_eq!(outcome, Outcome::Purged);
        assert_eq!(views_loaded(&cached, id).await, None);
    }
}
