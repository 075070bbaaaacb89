//! A moka read cache in front of any [`SecretStore`], updated by every write that goes through it.
//!
//! Receipt → secret mappings never change, so they are always cached. Metadata is cached only when
//! this node is the store's sole writer (`!is_shared()`); every `apply` puts the record it
//! returned, and a newer revision is never replaced by an older one, so a reader never sees a state
//! older than the last write. A cached record past its purge time is treated as a miss.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::future::Cache;
use moka::ops::compute::Op;

use super::{Outcome, SecretStore, StoreError};
use crate::clock;
use crate::domain::{Account, Email, Operation, ReceiptId, SecretId, SecretMeta, Timestamp};

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
        self.inner.insert(id, meta.clone(), content).await?;
        self.receipts.insert(meta.receipt_id, id).await;
        self.remember(id, meta).await;
        Ok(())
    }

    async fn load(&self, id: SecretId) -> Result<Option<SecretMeta>, StoreError> {
        if let Some(metas) = &self.metas
            && let Some(meta) = metas.get(&id).await
            && meta.purge_at > clock::now()
        {
            return Ok(Some(meta));
        }
        let loaded = self.inner.load(id).await?;
        if let Some(meta) = &loaded {
            self.remember(id, meta.clone()).await;
        }
        Ok(loaded)
    }

    async fn resolve_receipt(&self, receipt: ReceiptId) -> Result<Option<SecretId>, StoreError> {
        if let Some(id) = self.receipts.get(&receipt).await {
            return Ok(Some(id));
        }
        let resolved = self.inner.resolve_receipt(receipt).await?;
        if let Some(id) = resolved {
            self.receipts.insert(receipt, id).await;
        }
        Ok(resolved)
    }

    async fn content(&self, id: SecretId) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.content(id).await
    }

    async fn apply(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        let outcome = self.inner.apply(id, op, now).await?;
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
        self.inner.due(now, limit).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
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
