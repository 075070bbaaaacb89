//! Durable state: secret metadata, sealed contents, the receipt index and the expiry index.
//!
//! [`SecretStore`] is the one interface; [`Engine`] lists the backends and [`open`] builds one,
//! wrapped in the [`CachedStore`] read cache. Every backend applies the domain's transition rules
//! ([`crate::domain::SecretMeta::apply`]) inside one atomic write, so "take one view" cannot be
//! counted twice, and each backend passes the same conformance suite.
//!
//! The store sees keyed-hash ids and sealed bytes only: never a link key, never a plaintext.

pub mod blob;
mod cached;
mod codec;
mod embedded;
mod engine;
mod error;
mod memory;
pub(crate) mod owner_only;
mod redis;
mod tables;
mod transition;
mod writer;
mod zero_ahead;

#[doc(hidden)]
pub mod conformance;

use async_trait::async_trait;

pub use cached::CachedStore;
pub use embedded::{DB_FILE_NAME, DEFAULT_CACHE_BYTES, EmbeddedStore};
pub use engine::{Engine, EngineKind, SHARED_STORE_TIMEOUT, Stores, open};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use redis::{Counted, RedisQuotas, RedisStore, RedisTarget, WindowCount, WindowSpec};

use crate::domain::{
    Account, Email, Gone, Operation, ReceiptId, SecretId, SecretMeta, Timestamp, TokenGrant,
};

/// What an atomic [`SecretStore::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No record with this id.
    Missing,
    /// The record changed to this; final states had their content deleted in the same write.
    Updated(SecretMeta),
    /// Refused for this reason; the record is as shown, unchanged.
    Refused(SecretMeta, Gone),
    /// Nothing to do; the record is as shown.
    Unchanged(SecretMeta),
    /// The whole record was deleted.
    Purged,
}

/// The durable store of secrets. Implementations are shared behind `Arc<dyn SecretStore>`; the
/// same backends keep accounts too, behind [`AccountStore`].
#[async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// Short name of the backend, for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Whether other nodes write to the same store (then only immutable data may be cached).
    fn is_shared(&self) -> bool {
        false
    }

    /// Stores a new secret: metadata, sealed content, receipt index and expiry index, durably,
    /// in one write.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the id exists; backend errors otherwise.
    async fn insert(
        &self,
        id: SecretId,
        meta: SecretMeta,
        content: Vec<u8>,
    ) -> Result<(), StoreError>;

    /// The metadata of a secret, if the record exists.
    async fn load(&self, id: SecretId) -> Result<Option<SecretMeta>, StoreError>;

    /// The secret a receipt belongs to, if the record exists.
    async fn resolve_receipt(&self, receipt: ReceiptId) -> Result<Option<SecretId>, StoreError>;

    /// The sealed content, while the secret is live.
    async fn content(&self, id: SecretId) -> Result<Option<Vec<u8>>, StoreError>;

    /// The metadata and the sealed content together, when a reveal needs both fresh from a
    /// store other nodes write (a backend that can read both at once in one round trip does).
    /// A backend may answer from what this node last saw where every decision the reveal takes
    /// on it is checked again by the write that counts the view (Redis does, for text secrets
    /// without a passphrase: its compare-and-swap refuses a record changed since).
    async fn load_with_content(
        &self,
        id: SecretId,
    ) -> Result<Option<(SecretMeta, Option<Vec<u8>>)>, StoreError> {
        let Some(meta) = self.load(id).await? else {
            return Ok(None);
        };
        Ok(Some((meta, self.content(id).await?)))
    }

    /// Whether the sealed content is there, without reading it (a text secret may be 50 MB).
    async fn has_content(&self, id: SecretId) -> Result<bool, StoreError>;

    /// Applies `op` at `now` atomically and durably (the single authority for "take one view").
    async fn apply(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError>;

    /// Up to `limit` ids whose deadline (expiry or purge) is at or before `now`.
    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<SecretId>, StoreError>;

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// How many stored secrets are live (not final: not received, burned or expired), from a
    /// count every write keeps in step.
    async fn count_live(&self) -> Result<u64, StoreError>;

    /// Up to `limit` ids of secrets `owner` created at or after `since`, newest first.
    async fn owned_since(
        &self,
        owner: &Email,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<SecretId>, StoreError>;

    /// How many stored secret records master key `key_id` made, and how many predate key ids
    /// (which may need any key). Reads every record: for `burnbox master-key retire`, not for
    /// requests.
    async fn records_made_under(&self, key_id: u32) -> Result<KeyUse, StoreError>;
}

/// What still needs one master key: what it made, and what was stored before records and
/// grants kept their key's id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyUse {
    /// Made under the key.
    pub made_under: u64,
    /// Of unknown key.
    pub unknown: u64,
}

impl KeyUse {
    /// Counts one record or grant of `key_id` against the key asked about, `wanted`.
    pub fn count(&mut self, key_id: u32, wanted: u32) {
        if key_id == wanted {
            self.made_under += 1;
        } else if key_id == crate::domain::UNKNOWN_KEY_ID {
            self.unknown += 1;
        }
    }
}

/// Accounts and their API tokens: what the credential check and the account commands need. A
/// concern apart from the secrets (no read cache, no actors); every backend provides both.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates or replaces an account, durably.
    async fn put_account(&self, account: Account) -> Result<(), StoreError>;

    /// An account by address.
    async fn account(&self, email: &Email) -> Result<Option<Account>, StoreError>;

    /// Every account, ordered by address.
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;

    /// Records what an API token (by its keyed hash) grants, durably.
    async fn put_token(&self, token_hash: [u8; 32], grant: TokenGrant) -> Result<(), StoreError>;

    /// What an API token (by its keyed hash) grants: its account and scope.
    async fn token_grant(&self, token_hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError>;

    /// Forgets an API token's keyed hash (once the token is stored under a newer one).
    async fn delete_token(&self, token_hash: [u8; 32]) -> Result<(), StoreError>;

    /// Every API token's grant (for `burnbox master-key retire`, which counts the ones a master
    /// key hashed; not for requests).
    async fn token_grants(&self) -> Result<Vec<TokenGrant>, StoreError>;
}
