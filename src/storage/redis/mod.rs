//! Redis as the store of several nodes: one server (or a replicated primary) or a Cluster.
//!
//! Every change to a secret is one script run against its slot ([`scripts`]): Rust reads the
//! record, plans the transition with the same rules as every backend
//! ([`crate::storage::transition::plan`]) and the script writes it only if the record is still the
//! one read, else hands back the current one to plan again. On a node, the secret's actor makes
//! its requests one at a time, so racers are at most one per node and the swap is normally
//! uncontended: one round trip, the record read before it served from the last one this node saw
//! (and, for a small text secret without a passphrase, its sealed content too).
//!
//! A write stores a fresh random nonce before the record and leaves a marker named by it for 30 s,
//! so a write the client resent after a lost reply (the Cluster client does, within seconds) is
//! recognised as done, even when other writes came between, instead of counted twice. Every key
//! also carries a Redis expiry a little past its record's purge time, so nothing outlives it for
//! long even when no node sweeps.

mod accounts;
mod connection;
mod keys;
mod quotas;
mod scripts;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::Value;

use connection::Connection;
pub use connection::RedisTarget;
use keys::{BUCKETS, SecretKeys, due_key, live_key, owned_key, receipt_key, unhex_id};
pub use quotas::{Counted, RedisQuotas, WindowCount, WindowSpec};

use super::codec::{decode_meta, encode_meta};
use super::transition::{Transition, Writes, plan};
use super::{KeyUse, Outcome, SecretStore, StoreError};
use crate::crypto::RecordAuth;
use crate::domain::{Email, Operation, ReceiptId, SecretId, SecretMeta, Timestamp};

/// The backend's name in errors and metrics.
pub const BACKEND: &str = "redis";

/// How long past its purge time a key may stay when no node sweeps it.
const EXPIRY_MARGIN_MS: u64 = 10 * 60 * 1000;
/// Bytes of the nonce in front of every stored record.
const NONCE_LEN: usize = 16;
/// Records read or written lately, kept as the expected value of the next swap.
const SEEN_CAPACITY: u64 = 100_000;
/// Largest sealed text kept in `contents`.
const CONTENT_KEPT_MAX: usize = 16 * 1024;
/// Bytes of sealed text kept in `contents` at most.
const CONTENTS_CAPACITY: u64 = 32 * 1024 * 1024;
/// Swaps tried before an apply gives up (each retry follows another node's write).
const MAX_SWAPS: usize = 64;

/// A Redis failure as the store reports it: the deployment is unavailable.
pub(crate) fn fail(err: redis::RedisError) -> StoreError {
    StoreError::unavailable(BACKEND, err)
}

/// The Redis store.
pub struct RedisStore {
    connection: Connection,
    /// Tags and checks every secret record.
    auth: RecordAuth,
    /// Replicas that must hold a write before it is answered (0: the primary's word is enough).
    wait_replicas: u32,
    /// How long a write waits for them.
    timeout: Duration,
    insert: redis::Script,
    swap: redis::Script,
    /// The stored bytes (nonce and record) this node last read or wrote, by id.
    seen: moka::sync::Cache<SecretId, Arc<Vec<u8>>>,
    /// The sealed content of small text secrets without a passphrase that this node revealed,
    /// which never changes while it exists: with `seen`, the next reveal of one starts without
    /// reading Redis (see [`SecretStore::load_with_content`]).
    contents: moka::sync::Cache<SecretId, Arc<Vec<u8>>>,
}

impl RedisStore {
    /// Connects to `target`, failing when no server answers within `timeout`; every request is
    /// held to `timeout` too. Each write is answered only once `wait_replicas` replicas hold it
    /// (see [`Self::replicated`]).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server or Cluster cannot be reached.
    pub async fn connect(
        target: &RedisTarget,
        wait_replicas: u32,
        timeout: Duration,
        auth: RecordAuth,
    ) -> Result<Self, StoreError> {
        let connection = Connection::open(target, timeout).await.map_err(fail)?;
        let store = Self {
            connection,
            auth,
            wait_replicas,
            timeout,
            insert: scripts::insert(),
            swap: scripts::compare_and_swap(),
            seen: moka::sync::Cache::builder()
                .max_capacity(SEEN_CAPACITY)
                .time_to_live(Duration::from_secs(60))
                .build(),
            contents: moka::sync::Cache::builder()
                .max_capacity(CONTENTS_CAPACITY)
                .weigher(|_, content: &Arc<Vec<u8>>| {
                    u32::try_from(content.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(60))
                .build(),
        };
        store.ping().await?;
        Ok(store)
    }

    /// Stored bytes for `meta`: a fresh nonce, then its encoding.
    fn stored_value(&self, id: &SecretId, meta: &SecretMeta) -> Result<Vec<u8>, StoreError> {
        let nonce: [u8; NONCE_LEN] =
            crate::crypto::random_bytes().map_err(|e| StoreError::backend(BACKEND, e))?;
        let mut value = nonce.to_vec();
        value.extend_from_slice(&encode_meta(id, meta, &self.auth)?);
        Ok(value)
    }

    /// The record in stored bytes, its authentication checked (the nonce in front is only a
    /// write's name: changing it changes nothing the record says).
    fn decode_stored(&self, id: &SecretId, value: &[u8]) -> Result<SecretMeta, StoreError> {
        value
            .get(NONCE_LEN..)
            .ok_or_else(|| StoreError::Corrupt("record shorter than its nonce".into()))
            .and_then(|record| decode_meta(id, record, &self.auth))
    }

    /// Keeps the sealed content of a small text secret without a passphrase: its reveal decides
    /// nothing on the record but whether it is gone, which the swap that counts the view checks.
    fn remember_content(&self, id: SecretId, meta: &SecretMeta, content: Vec<u8>) {
        if meta.file.is_none() && !meta.has_passphrase && content.len() <= CONTENT_KEPT_MAX {
            self.contents.insert(id, Arc::new(content));
        }
    }

    /// Drops what this node kept of `id`.
    fn forget(&self, id: &SecretId) {
        self.seen.invalidate(id);
        self.contents.invalidate(id);
    }

    /// Sends `writes` as one compare-and-swap against the record read as `expected`: the
    /// script's answer (once the replicas asked for hold a write) and the value written.
    async fn compare_and_swap(
        &self,
        id: &SecretId,
        keys: &SecretKeys,
        expected: &[u8],
        writes: &Writes,
        live_delta: i64,
        owner: Option<&Email>,
    ) -> Result<(Swapped, Vec<u8>), StoreError> {
        let (action, value, deadline, delete_content, expires) = match writes {
            Writes::Update {
                next,
                moved_deadline,
                delete_content,
            } => (
                "put",
                self.stored_value(id, next)?,
                moved_deadline
                    .map(|(_, to)| to.as_millis().to_string())
                    .unwrap_or_default(),
                *delete_content,
                Self::meta_expiry(next),
            ),
            Writes::Purge { .. } => ("purge", Vec::new(), String::new(), true, 0),
        };
        // The new value's nonce names the write; a purge writes no value, so it gets one.
        let nonce: [u8; NONCE_LEN] = match value.get(..NONCE_LEN) {
            Some(nonce) => nonce.try_into().unwrap_or_default(),
            None => crate::crypto::random_bytes().map_err(|e| StoreError::backend(BACKEND, e))?,
        };
        let mut invocation = self.swap.prepare_invoke();
        record_keys(&mut invocation, keys, id, owner)
            .key(keys.write_marker(&nonce))
            .arg(expected)
            .arg(action)
            .arg(value.as_slice())
            .arg(deadline)
            .arg(&keys.member)
            .arg(u8::from(delete_content))
            .arg(live_delta)
            .arg(expires)
            .arg(u8::from(owner.is_some()));
        let answer: Value = self.connection.invoke(&invocation).await.map_err(fail)?;
        let written = swapped(answer)?;
        if matches!(written, Swapped::Written | Swapped::AlreadyWritten) {
            self.replicated(&keys.meta).await?;
        }
        Ok((written, value))
    }

    /// The stored bytes of `id`, from Redis.
    async fn read_stored(&self, id: &SecretId) -> Result<Option<Vec<u8>>, StoreError> {
        let keys = SecretKeys::of(id);
        let value: Option<Vec<u8>> = self
            .connection
            .query(redis::cmd("GET").arg(&keys.meta))
            .await
            .map_err(fail)?;
        match &value {
            Some(bytes) => self.seen.insert(*id, Arc::new(bytes.clone())),
            None => self.forget(id),
        }
        Ok(value)
    }

    /// Returns once the configured number of replicas hold the writes made so far through
    /// `key`'s primary. Fewer acknowledgements mean the write's fate is unknown (it is on the
    /// primary, and a failover could lose it): the caller is told the store is unavailable, and
    /// what was written stays written (a view stays spent).
    async fn replicated(&self, key: &str) -> Result<(), StoreError> {
        if self.wait_replicas == 0 {
            return Ok(());
        }
        let acknowledged = self
            .connection
            .wait_for_replicas(key, self.wait_replicas, self.timeout)
            .await
            .map_err(fail)?;
        if acknowledged < i64::from(self.wait_replicas) {
            return Err(StoreError::unavailable(
                BACKEND,
                format!(
                    "{acknowledged} of {} replicas acknowledged the write in time",
                    self.wait_replicas
                ),
            ));
        }
        Ok(())
    }

    /// The ids (with their scores) in the sorted set `key_of(bucket)` of every bucket whose score
    /// lies between `range`'s two ends (from the first, or down from it when `reverse`), at most
    /// `limit` from each: a scan of an index kept per bucket.
    async fn every_bucket(
        &self,
        key_of: impl Fn(u16) -> String,
        range: (&str, String),
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<(u64, SecretId)>, StoreError> {
        let mut found = Vec::new();
        for bucket in 0..BUCKETS {
            let mut query = redis::cmd("ZRANGE");
            query
                .arg(key_of(bucket))
                .arg(range.0)
                .arg(&range.1)
                .arg("BYSCORE");
            if reverse {
                query.arg("REV");
            }
            query.arg("LIMIT").arg(0).arg(limit).arg("WITHSCORES");
            let entries: Vec<(Vec<u8>, u64)> = self.connection.query(&query).await.map_err(fail)?;
            for (member, score) in entries {
                let id =
                    unhex_id(&member).ok_or_else(|| StoreError::Corrupt("index entry".into()))?;
                found.push((score, SecretId::from_bytes(id)));
            }
        }
        Ok(found)
    }

    /// When a key written at a record's state should expire on its own.
    fn meta_expiry(meta: &SecretMeta) -> u64 {
        meta.purge_at.as_millis().saturating_add(EXPIRY_MARGIN_MS)
    }
}

/// Adds the keys both scripts take first: the record, its content, its bucket's expiry index and
/// live count, and its owner's list in the bucket (the record's key again when it has no owner).
fn record_keys<'i, 'a>(
    invocation: &'i mut redis::ScriptInvocation<'a>,
    keys: &SecretKeys,
    id: &SecretId,
    owner: Option<&Email>,
) -> &'i mut redis::ScriptInvocation<'a> {
    let owned = owner.map_or_else(|| keys.meta.clone(), |email| keys.owned(id, email));
    invocation
        .key(&keys.meta)
        .key(&keys.content)
        .key(&keys.due)
        .key(&keys.live)
        .key(owned)
}

/// A script's answer to a swap.
enum Swapped {
    /// The script wrote it.
    Written,
    /// This very write was done before (a resend after a lost reply).
    AlreadyWritten,
    Changed(Vec<u8>),
    Missing,
}

fn swapped(value: Value) -> Result<Swapped, StoreError> {
    let corrupt = || StoreError::Corrupt("unexpected answer from the swap script".into());
    let Value::Array(items) = value else {
        return Err(corrupt());
    };
    match items.as_slice() {
        [Value::Int(2)] => Ok(Swapped::Written),
        [Value::Int(3)] => Ok(Swapped::AlreadyWritten),
        [Value::Int(0)] => Ok(Swapped::Missing),
        [Value::Int(1), Value::BulkString(current)] => Ok(Swapped::Changed(current.clone())),
        _ => Err(corrupt()),
    }
}

#[async_trait]
impl SecretStore for RedisStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn insert(
        &self,
        id: SecretId,
        meta: SecretMeta,
        content: Vec<u8>,
    ) -> Result<(), StoreError> {
        let keys = SecretKeys::of(&id);
        let value = self.stored_value(&id, &meta)?;
        let expires = Self::meta_expiry(&meta);
        // The receipt's mapping (another slot) goes at the same time: a crash between the two
        // leaves a mapping to nothing, which answers as an unknown receipt and expires with the
        // record's time, or a record without a mapping, whose keys no client was ever given.
        let mut receipt = redis::cmd("SET");
        receipt
            .arg(receipt_key(&meta.receipt_id))
            .arg(&keys.member)
            .arg("PXAT")
            .arg(expires);
        let mut invocation = self.insert.prepare_invoke();
        record_keys(
            &mut invocation,
            &keys,
            &id,
            meta.owner.as_ref().map(|o| &o.email),
        )
        .arg(value.as_slice())
        .arg(content.as_slice())
        .arg(meta.deadline().as_millis())
        .arg(&keys.member)
        .arg(expires)
        .arg(meta.expires_at.as_millis().saturating_add(EXPIRY_MARGIN_MS))
        .arg(u8::from(meta.owner.is_some()))
        .arg(meta.created_at.as_millis());
        let (mapped, stored) = self
            .connection
            .query_with_invoke::<(), i64>(&receipt, &invocation)
            .await;
        mapped.map_err(fail)?;
        if stored.map_err(fail)? == 1 {
            self.seen.insert(id, Arc::new(value));
            self.replicated(&keys.meta).await?;
            // On a Cluster the receipt's mapping lives on another primary: it must be held by
            // replicas too, or a failover could leave an acknowledged secret without its receipt.
            if matches!(self.connection, Connection::Cluster(_)) {
                self.replicated(&receipt_key(&meta.receipt_id)).await?;
            }
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn load(&self, id: SecretId) -> Result<Option<SecretMeta>, StoreError> {
        self.read_stored(&id)
            .await?
            .map(|bytes| self.decode_stored(&id, &bytes))
            .transpose()
    }

    async fn load_with_content(
        &self,
        id: SecretId,
    ) -> Result<Option<(SecretMeta, Option<Vec<u8>>)>, StoreError> {
        // A small text secret without a passphrase, as this node last saw it: the reveal checks
        // only that it is not gone, and the swap that counts its view refuses a record that
        // changed since (another node's view, a burn), so the answer is as fresh as Redis's.
        if let (Some(stored), Some(content)) = (self.seen.get(&id), self.contents.get(&id)) {
            let meta = self.decode_stored(&id, &stored)?;
            if meta.file.is_none() && !meta.has_passphrase {
                return Ok(Some((meta, Some(content.as_ref().clone()))));
            }
        }
        let keys = SecretKeys::of(&id);
        // One slot: one round trip for both.
        let (stored, content): (Option<Vec<u8>>, Option<Vec<u8>>) = self
            .connection
            .query(redis::cmd("MGET").arg(&keys.meta).arg(&keys.content))
            .await
            .map_err(fail)?;
        let Some(stored) = stored else {
            self.forget(&id);
            return Ok(None);
        };
        let meta = self.decode_stored(&id, &stored)?;
        self.seen.insert(id, Arc::new(stored));
        if let Some(content) = &content {
            self.remember_content(id, &meta, content.clone());
        }
        Ok(Some((meta, content)))
    }

    async fn resolve_receipt(&self, receipt: ReceiptId) -> Result<Option<SecretId>, StoreError> {
        let member: Option<Vec<u8>> = self
            .connection
            .query(redis::cmd("GET").arg(receipt_key(&receipt)))
            .await
            .map_err(fail)?;
        member
            .map(|hex| {
                unhex_id(&hex)
                    .map(SecretId::from_bytes)
                    .ok_or_else(|| StoreError::Corrupt("receipt mapping".into()))
            })
            .transpose()
    }

    async fn content(&self, id: SecretId) -> Result<Option<Vec<u8>>, StoreError> {
        // Kept only for a secret whose reveal ends in a swap that checks it is still there.
        if let Some(content) = self.contents.get(&id) {
            return Ok(Some(content.as_ref().clone()));
        }
        self.connection
            .query(redis::cmd("GET").arg(SecretKeys::of(&id).content))
            .await
            .map_err(fail)
    }

    async fn has_content(&self, id: SecretId) -> Result<bool, StoreError> {
        let exists: i64 = self
            .connection
            .query(redis::cmd("EXISTS").arg(SecretKeys::of(&id).content))
            .await
            .map_err(fail)?;
        Ok(exists == 1)
    }

    async fn apply(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        let keys = SecretKeys::of(&id);
        let (mut stored, mut from_cache) = match self.seen.get(&id) {
            Some(bytes) => (Some(bytes.as_ref().clone()), true),
            None => (self.read_stored(&id).await?, false),
        };
        for _ in 0..MAX_SWAPS {
            let Some(expected) = stored.take() else {
                if !from_cache {
                    // Gone on its own (its key expired): its expiry-index entry goes too, or
                    // the sweeper would meet it on every pass.
                    let _: Result<(), _> = self
                        .connection
                        .query(redis::cmd("ZREM").arg(&keys.due).arg(&keys.member))
                        .await;
                }
                return Ok(Outcome::Missing);
            };
            let current = self.decode_stored(&id, &expected)?;
            let owner = current.owner.as_ref().map(|o| o.email.clone());
            let Transition {
                outcome,
                writes,
                live_delta,
            } = plan(Some(current), op, now);
            let Some(writes) = writes else {
                if from_cache {
                    // Nothing to write on the record this node last saw: answer from the
                    // record as it is now, not from what may be an older read.
                    from_cache = false;
                    stored = self.read_stored(&id).await?;
                    continue;
                }
                return Ok(outcome);
            };
            let (written, value) = self
                .compare_and_swap(&id, &keys, &expected, &writes, live_delta, owner.as_ref())
                .await?;
            match written {
                Swapped::Written | Swapped::AlreadyWritten => {
                    if let Writes::Purge { receipt, .. } = &writes {
                        self.forget(&id);
                        // Another slot; left to its own expiry if this fails.
                        let _: Result<(), _> = self
                            .connection
                            .query(redis::cmd("DEL").arg(receipt_key(receipt)))
                            .await;
                    } else {
                        self.seen.insert(id, Arc::new(value));
                        if matches!(
                            writes,
                            Writes::Update {
                                delete_content: true,
                                ..
                            }
                        ) {
                            self.contents.invalidate(&id);
                        }
                    }
                    return Ok(outcome);
                }
                Swapped::Changed(current) => {
                    from_cache = false;
                    self.seen.insert(id, Arc::new(current.clone()));
                    stored = Some(current);
                }
                Swapped::Missing => {
                    // The script dropped its expiry-index entry.
                    self.forget(&id);
                    return Ok(if matches!(writes, Writes::Purge { .. }) {
                        outcome
                    } else {
                        Outcome::Missing
                    });
                }
            }
        }
        Err(StoreError::unavailable(
            BACKEND,
            "the record kept changing under this write",
        ))
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<SecretId>, StoreError> {
        let mut found = self
            .every_bucket(due_key, ("-inf", now.as_millis().to_string()), false, limit)
            .await?;
        found.sort();
        found.truncate(limit);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.connection.check().await.map_err(fail)
    }

    async fn count_live(&self) -> Result<u64, StoreError> {
        let mut live: i64 = 0;
        for bucket in 0..BUCKETS {
            let count: Option<i64> = self
                .connection
                .query(redis::cmd("GET").arg(live_key(bucket)))
                .await
                .map_err(fail)?;
            live += count.unwrap_or(0);
        }
        Ok(u64::try_from(live).unwrap_or(0))
    }

    async fn owned_since(
        &self,
        owner: &Email,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<SecretId>, StoreError> {
        let mut found = self
            .every_bucket(
                |bucket| owned_key(bucket, owner),
                ("+inf", since.as_millis().to_string()),
                true,
                limit,
            )
            .await?;
        // Newest first, and among equal times the same order as the other backends (by id).
        found.sort_by(|a, b| b.cmp(a));
        found.truncate(limit);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    async fn records_made_under(&self, key_id: u32) -> Result<KeyUse, StoreError> {
        // Every record is in its bucket's expiry index until it is purged.
        let mut used = KeyUse::default();
        for bucket in 0..BUCKETS {
            let members: Vec<Vec<u8>> = self
                .connection
                .query(redis::cmd("ZRANGE").arg(due_key(bucket)).arg(0).arg(-1))
                .await
                .map_err(fail)?;
            let ids: Vec<SecretId> = members
                .iter()
                .filter_map(|member| unhex_id(member).map(SecretId::from_bytes))
                .collect();
            if ids.is_empty() {
                continue;
            }
            let mut get = redis::cmd("MGET");
            for id in &ids {
                get.arg(SecretKeys::of(id).meta);
            }
            let stored: Vec<Option<Vec<u8>>> = self.connection.query(&get).await.map_err(fail)?;
            for (id, stored) in ids.iter().zip(stored) {
                if let Some(stored) = stored {
                    used.count(self.decode_stored(id, &stored)?.key_id, key_id);
                }
            }
        }
        Ok(used)
    }
}
