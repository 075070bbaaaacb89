//! A moka read cache in front of any [`SecretStore`], filled by reads and kept current by every
//! change that goes through it, and the store's instrumentation: operation latency, failures,
//! cache hits and the live-secret gauge, whatever the backend.
//!
//! Only what is read is cached (hot records): a create does not fill the cache, because most
//! secrets are read once or never and a cache insert cost more than the point read it saves
//! (the profile showed moka inserts at about a tenth of a create's CPU). Receipt → secret mappings
//! never change, so once read they stay cached. Metadata is cached only when this node is the
//! store's sole writer (`!is_shared()`); every `apply` puts the record it returned, and a newer
//! revision is never replaced by an older one, so a reader never sees a state older than the last
//! write. A cached record past its purge time is treated as a miss.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::future::Cache;
use moka::ops::compute::Op;

use super::{Outcome, SecretStore, StoreError};
use crate::clock;
use crate::domain::{
    Account, Email, Lifecycle, Operation, ReceiptId, SecretId, SecretMeta, Timestamp,
};
use crate::telemetry;

/// Upper bound on how long an entry stays cached, whatever happens.
const ENTRY_TTL: Duration = Duration::from_secs(300);

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
        let loaded = self.timed("load", self.inner.load(id)).await?;
        if let Some(meta) = &loaded {
            self.remember(id, meta.clone()).await;
        }
        Ok(loaded)
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

    async fn apply(
        &self,
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
        match &outcome {
            Outcome::Updated(meta) | Outcome::Refused(meta, _) | Outcome::Unchanged(meta) => {
                self.remember(id, meta.clone()).await;
            }
            Outcome::Missing | Outcome::Purged => {
                if let Some(metas) = &self.metas
                    && let Some(meta) = metas.remove(&id).await
                {
                    self.receipts.invalidate(&meta.receipt_id).await;
                }
            }
        }
        Ok(outcome)
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

    async fn put_account(&self, account: Account) -> Result<(), StoreError> {
        self.inner.put_account(account).await
    }

    async fn account(&self, email: &Email) -> Result<Option<Account>, StoreError> {
        self.inner.account(email).await
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.inner.accounts().await
    }

    async fn put_token(&self, token_hash: [u8; 32], email: Email) -> Result<(), StoreError> {
        self.inner.put_token(token_hash, email).await
    }

    async fn token_owner(&self, token_hash: [u8; 32]) -> Result<Option<Email>, StoreError> {
        self.inner.token_owner(token_hash).await
    }

    async fn owned_since(
        &self,
        owner: &Email,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<SecretId>, StoreError> {
        self.inner.owned_since(owner, since, limit).await
    }
}
