//! In-memory backend, for tests: same rules, nothing survives the process.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::tables::{RecordTables, apply_operation, insert_record};
use super::{AccountStore, KeyUse, Outcome, SecretStore, StoreError};
use crate::domain::{
    Account, Email, Operation, ReceiptId, SecretId, SecretMeta, Timestamp, TokenGrant,
};

#[derive(Default)]
struct Tables {
    metas: HashMap<SecretId, SecretMeta>,
    contents: HashMap<SecretId, Vec<u8>>,
    receipts: HashMap<ReceiptId, SecretId>,
    deadlines: BTreeSet<(Timestamp, SecretId)>,
    owned: BTreeSet<(Email, Timestamp, SecretId)>,
    accounts: BTreeMap<Email, Account>,
    tokens: HashMap<[u8; 32], TokenGrant>,
    /// Live (not final) secrets stored.
    live: i64,
}

impl RecordTables for Tables {
    fn meta(&mut self, id: &SecretId) -> Result<Option<SecretMeta>, StoreError> {
        Ok(self.metas.get(id).cloned())
    }
    fn put_meta(&mut self, id: &SecretId, meta: &SecretMeta) -> Result<(), StoreError> {
        self.metas.insert(*id, meta.clone());
        Ok(())
    }
    fn delete_meta(&mut self, id: &SecretId) -> Result<(), StoreError> {
        self.metas.remove(id);
        Ok(())
    }
    fn put_content(&mut self, id: &SecretId, content: Vec<u8>) -> Result<(), StoreError> {
        self.contents.insert(*id, content);
        Ok(())
    }
    fn delete_content(&mut self, id: &SecretId) -> Result<(), StoreError> {
        self.contents.remove(id);
        Ok(())
    }
    fn put_receipt(&mut self, receipt: &ReceiptId, id: &SecretId) -> Result<(), StoreError> {
        self.receipts.insert(*receipt, *id);
        Ok(())
    }
    fn delete_receipt(&mut self, receipt: &ReceiptId) -> Result<(), StoreError> {
        self.receipts.remove(receipt);
        Ok(())
    }
    fn put_deadline(&mut self, deadline: Timestamp, id: &SecretId) -> Result<(), StoreError> {
        self.deadlines.insert((deadline, *id));
        Ok(())
    }
    fn delete_deadline(&mut self, deadline: Timestamp, id: &SecretId) -> Result<(), StoreError> {
        self.deadlines.remove(&(deadline, *id));
        Ok(())
    }
    fn put_owned(
        &mut self,
        owner: &Email,
        created: Timestamp,
        id: &SecretId,
    ) -> Result<(), StoreError> {
        self.owned.insert((owner.clone(), created, *id));
        Ok(())
    }
    fn delete_owned(
        &mut self,
        owner: &Email,
        created: Timestamp,
        id: &SecretId,
    ) -> Result<(), StoreError> {
        self.owned.remove(&(owner.clone(), created, *id));
        Ok(())
    }
    fn change_live_count(&mut self, delta: i64) {
        self.live += delta;
    }
}

/// A [`SecretStore`] held in process memory.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Tables) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A poisoned lock means a panic mid-update in a test; the data is still consistent
        // enough for tests to report on, so take it.
        let mut guard = self
            .tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

#[async_trait]
impl SecretStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn insert(
        &self,
        id: SecretId,
        meta: SecretMeta,
        content: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.with(|t| insert_record(t, &id, &meta, content))
    }

    async fn load(&self, id: SecretId) -> Result<Option<SecretMeta>, StoreError> {
        self.with(|t| t.meta(&id))
    }

    async fn resolve_receipt(&self, receipt: ReceiptId) -> Result<Option<SecretId>, StoreError> {
        self.with(|t| Ok(t.receipts.get(&receipt).copied()))
    }

    async fn content(&self, id: SecretId) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|t| Ok(t.contents.get(&id).cloned()))
    }

    async fn has_content(&self, id: SecretId) -> Result<bool, StoreError> {
        self.with(|t| Ok(t.contents.contains_key(&id)))
    }

    async fn apply(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        self.with(|t| apply_operation(t, &id, op, now))
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<SecretId>, StoreError> {
        self.with(|t| {
            Ok(t.deadlines
                .iter()
                .take_while(|(deadline, _)| *deadline <= now)
                .take(limit)
                .map(|(_, id)| *id)
                .collect())
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn count_live(&self) -> Result<u64, StoreError> {
        self.with(|t| Ok(u64::try_from(t.live).unwrap_or(0)))
    }

    async fn records_made_under(&self, key_id: u32) -> Result<KeyUse, StoreError> {
        self.with(|t| {
            let mut used = KeyUse::default();
            for meta in t.metas.values() {
                used.count(meta.key_id, key_id);
            }
            Ok(used)
        })
    }

    async fn owned_since(
        &self,
        owner: &Email,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<SecretId>, StoreError> {
        self.with(|t| {
            Ok(t.owned
                .iter()
                .filter(|(email, created, _)| email == owner && *created >= since)
                .rev()
                .take(limit)
                .map(|(_, _, id)| *id)
                .collect())
        })
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn put_account(&self, account: Account) -> Result<(), StoreError> {
        self.with(|t| {
            t.accounts.insert(account.email.clone(), account);
            Ok(())
        })
    }

    async fn account(&self, email: &Email) -> Result<Option<Account>, StoreError> {
        self.with(|t| Ok(t.accounts.get(email).cloned()))
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.with(|t| Ok(t.accounts.values().cloned().collect()))
    }

    async fn put_token(&self, token_hash: [u8; 32], grant: TokenGrant) -> Result<(), StoreError> {
        self.with(|t| {
            t.tokens.insert(token_hash, grant);
            Ok(())
        })
    }

    async fn token_grant(&self, token_hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError> {
        self.with(|t| Ok(t.tokens.get(&token_hash).cloned()))
    }

    async fn delete_token(&self, token_hash: [u8; 32]) -> Result<(), StoreError> {
        self.with(|t| {
            t.tokens.remove(&token_hash);
            Ok(())
        })
    }

    async fn token_grants(&self) -> Result<Vec<TokenGrant>, StoreError> {
        self.with(|t| Ok(t.tokens.values().cloned().collect()))
    }
}
