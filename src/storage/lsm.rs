//! The embedded durable backend: an fjall keyspace (a log-structured merge tree with a journal)
//! in the data directory, zero configuration.
//!
//! Writes go through the group-commit [`Writer`]: a batch is appended to the journal as one
//! atomic write and synced (`fdatasync`) before any caller of it is answered, so an acknowledged
//! write survives `kill -9`, and the batch becomes visible to readers only once it is durable.
//! A commit costs one sequential append and one sync, where a B-tree rewrites pages along a path
//! per key: the profile of the redb backend put most of a create's store cost in that commit
//! path. Point reads run on the calling thread (memtables, then bloom-filtered segments through
//! the block cache); long scans run on the blocking pool.
//!
//! The keys and values are the redb backend's ([`super::codec`]): one `records` partition holds
//! a secret's metadata, sealed content and receipt link next to each other, ordered by creation
//! time. fjall does not lock its directory, so the store holds an exclusive `flock` on
//! [`LOCK_FILE_NAME`] while open: a second process on the same data directory is refused.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use async_trait::async_trait;
use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};

use super::codec::{
    DEADLINE_KEY_LEN, RecordKind, deadline_key, decode, decode_meta, encode, id_of_deadline_key,
    id_of_owned_key, kind_of_record_key, owned_key, owned_prefix, record_key,
};
use super::tables::RecordTables;
use super::writer::{BatchResult, Write, WriteTables, Writer, apply_writes};
use super::{Outcome, SecretStore, StoreError};
use crate::domain::{Account, Email, Operation, ReceiptId, SecretId, SecretMeta, Timestamp};

const BACKEND: &str = "lsm";
/// Directory of the keyspace inside the data directory.
pub const KEYSPACE_DIR_NAME: &str = "store";
/// File inside [`KEYSPACE_DIR_NAME`] locked while a process has the store open.
pub const LOCK_FILE_NAME: &str = "burnbox.lock";

fn fail(err: impl std::fmt::Display) -> StoreError {
    StoreError::backend(BACKEND, err)
}

/// The keyspace's partitions, one per table of [`WriteTables`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Records,
    Deadlines,
    Owned,
    Accounts,
    Tokens,
}

impl Part {
    const ALL: [Self; 5] = [
        Self::Records,
        Self::Deadlines,
        Self::Owned,
        Self::Accounts,
        Self::Tokens,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Records => "records",
            Self::Deadlines => "deadlines",
            Self::Owned => "owned",
            Self::Accounts => "accounts",
            Self::Tokens => "tokens",
        }
    }
}

/// The open partitions, shared by the readers and the writer thread.
#[derive(Clone)]
struct Partitions {
    keyspace: Keyspace,
    handles: [PartitionHandle; 5],
}

impl Partitions {
    fn open(keyspace: Keyspace) -> Result<Self, StoreError> {
        let mut handles = Vec::with_capacity(Part::ALL.len());
        for part in Part::ALL {
            let options = PartitionCreateOptions::default()
                // Sealed contents are ciphertext: compressing them costs CPU and saves nothing.
                .compression(fjall::CompressionType::None);
            handles.push(
                keyspace
                    .open_partition(part.name(), options)
                    .map_err(fail)?,
            );
        }
        let handles = handles
            .try_into()
            .map_err(|_| fail("partition count mismatch"))?;
        Ok(Self { keyspace, handles })
    }

    fn get(&self, part: Part) -> &PartitionHandle {
        &self.handles[part as usize]
    }

    fn read(&self, part: Part, key: &[u8]) -> Result<Option<fjall::Slice>, StoreError> {
        self.get(part).get(key).map_err(fail)
    }
}

/// A [`SecretStore`] in an fjall keyspace.
pub struct LsmStore {
    /// The group-commit writer; dropped first, so its last commit lands before the keyspace closes.
    writer: Writer,
    partitions: Partitions,
    /// The exclusive lock on the directory; the last field, released after the keyspace closed.
    _lock: File,
}

impl LsmStore {
    /// Opens (or creates) the keyspace in `data_dir`, keeping at most `cache_bytes` of its
    /// blocks in memory, and starts its writer thread.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the keyspace cannot be opened or recovered, or another
    /// process holds it.
    pub fn open(data_dir: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        let dir = data_dir.join(KEYSPACE_DIR_NAME);
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let lock = lock_dir(&dir)?;
        let keyspace = Config::new(&dir)
            .cache_size(u64::try_from(cache_bytes).unwrap_or(u64::MAX))
            .open()
            .map_err(fail)?;
        let partitions = Partitions::open(keyspace)?;
        let writer_partitions = partitions.clone();
        let writer = Writer::spawn(BACKEND, move |writes| run_batch(&writer_partitions, writes))?;
        Ok(Self {
            writer,
            partitions,
            _lock: lock,
        })
    }

    /// Runs `f` on the blocking pool, for long scans.
    async fn read_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Partitions) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let partitions = self.partitions.clone();
        tokio::task::spawn_blocking(move || f(&partitions))
            .await
            .map_err(fail)?
    }
}

/// Takes the exclusive lock of the keyspace directory `dir`.
fn lock_dir(dir: &Path) -> Result<File, StoreError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE_NAME))
        .map_err(fail)?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
        |err| {
            fail(format!(
                "{} is in use by another process ({err})",
                dir.display()
            ))
        },
    )?;
    Ok(file)
}

/// Runs the writes over the batch's pending changes, then appends them to the journal as one
/// atomic batch and syncs it.
fn run_batch(partitions: &Partitions, writes: Vec<Write>) -> BatchResult {
    let mut tables = PendingTables {
        partitions,
        pending: HashMap::new(),
    };
    let results = apply_writes(&mut tables, writes)?;
    if tables.pending.is_empty() {
        return Ok(results);
    }
    let mut batch = partitions
        .keyspace
        .batch()
        .durability(Some(PersistMode::SyncData));
    for ((part, key), value) in tables.pending {
        match value {
            Some(value) => batch.insert(partitions.get(part), key, value),
            None => batch.remove(partitions.get(part), key),
        }
    }
    batch.commit().map_err(fail)?;
    Ok(results)
}

/// The tables of one batch: its changes so far (the last one per key, a removal as `None`),
/// read before the partitions so a later write of the batch sees an earlier one.
struct PendingTables<'p> {
    partitions: &'p Partitions,
    pending: HashMap<(Part, Vec<u8>), Option<Vec<u8>>>,
}

impl PendingTables<'_> {
    fn put(&mut self, part: Part, key: &[u8], value: Vec<u8>) {
        self.pending.insert((part, key.to_vec()), Some(value));
    }
    fn delete(&mut self, part: Part, key: &[u8]) {
        self.pending.insert((part, key.to_vec()), None);
    }
}

impl RecordTables for PendingTables<'_> {
    fn meta(&mut self, id: &SecretId) -> Result<Option<SecretMeta>, StoreError> {
        let key = record_key(RecordKind::Meta, id.as_bytes());
        match self.pending.get(&(Part::Records, key.to_vec())) {
            Some(Some(bytes)) => decode_meta(bytes).map(Some),
            Some(None) => Ok(None),
            None => match self.partitions.read(Part::Records, &key)? {
                Some(bytes) => decode_meta(&bytes).map(Some),
                None => Ok(None),
            },
        }
    }
    fn put_meta(&mut self, id: &SecretId, meta: &SecretMeta) -> Result<(), StoreError> {
        let key = record_key(RecordKind::Meta, id.as_bytes());
        self.put(Part::Records, &key, encode(meta)?);
        Ok(())
    }
    fn delete_meta(&mut self, id: &SecretId) -> Result<(), StoreError> {
        self.delete(Part::Records, &record_key(RecordKind::Meta, id.as_bytes()));
        Ok(())
    }
    fn put_content(&mut self, id: &SecretId, content: Vec<u8>) -> Result<(), StoreError> {
        let key = record_key(RecordKind::Content, id.as_bytes());
        self.put(Part::Records, &key, content);
        Ok(())
    }
    fn delete_content(&mut self, id: &SecretId) -> Result<(), StoreError> {
        self.delete(
            Part::Records,
            &record_key(RecordKind::Content, id.as_bytes()),
        );
        Ok(())
    }
    fn put_receipt(&mut self, receipt: &ReceiptId, id: &SecretId) -> Result<(), StoreError> {
        let key = record_key(RecordKind::Receipt, receipt.as_bytes());
        self.put(Part::Records, &key, id.as_bytes().to_vec());
        Ok(())
    }
    fn delete_receipt(&mut self, receipt: &ReceiptId) -> Result<(), StoreError> {
        let key = record_key(RecordKind::Receipt, receipt.as_bytes());
        self.delete(Part::Records, &key);
        Ok(())
    }
    fn put_deadline(&mut self, deadline: Timestamp, id: &SecretId) -> Result<(), StoreError> {
        self.put(Part::Deadlines, &deadline_key(deadline, id), Vec::new());
        Ok(())
    }
    fn delete_deadline(&mut self, deadline: Timestamp, id: &SecretId) -> Result<(), StoreError> {
        self.delete(Part::Deadlines, &deadline_key(deadline, id));
        Ok(())
    }
    fn put_owned(
        &mut self,
        owner: &Email,
        created: Timestamp,
        id: &SecretId,
    ) -> Result<(), StoreError> {
        self.put(Part::Owned, &owned_key(owner, created, id), Vec::new());
        Ok(())
    }
    fn delete_owned(
        &mut self,
        owner: &Email,
        created: Timestamp,
        id: &SecretId,
    ) -> Result<(), StoreError> {
        self.delete(Part::Owned, &owned_key(owner, created, id));
        Ok(())
    }
}

impl WriteTables for PendingTables<'_> {
    fn put_account(&mut self, account: &Account) -> Result<(), StoreError> {
        let value = encode(account)?;
        self.put(Part::Accounts, account.email.as_str().as_bytes(), value);
        Ok(())
    }
    fn put_token(&mut self, token_hash: &[u8; 32], email: &Email) -> Result<(), StoreError> {
        self.put(Part::Tokens, token_hash, email.as_str().as_bytes().to_vec());
        Ok(())
    }
}

#[async_trait]
impl SecretStore for LsmStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn insert(
        &self,
        id: SecretId,
        meta: SecretMeta,
        content: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.writer
            .write(Write::Insert { id, meta, content })
            .await
            .map(|_| ())
    }

    async fn load(&self, id: SecretId) -> Result<Option<SecretMeta>, StoreError> {
        let key = record_key(RecordKind::Meta, id.as_bytes());
        match self.partitions.read(Part::Records, &key)? {
            Some(bytes) => decode_meta(&bytes).map(Some),
            None => Ok(None),
        }
    }

    async fn resolve_receipt(&self, receipt: ReceiptId) -> Result<Option<SecretId>, StoreError> {
        let key = record_key(RecordKind::Receipt, receipt.as_bytes());
        match self.partitions.read(Part::Records, &key)? {
            Some(bytes) => SecretId::from_slice(&bytes)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt("receipt index value".into())),
            None => Ok(None),
        }
    }

    async fn content(&self, id: SecretId) -> Result<Option<Vec<u8>>, StoreError> {
        let key = record_key(RecordKind::Content, id.as_bytes());
        Ok(self
            .partitions
            .read(Part::Records, &key)?
            .map(|bytes| bytes.to_vec()))
    }

    async fn apply(
        &self,
        id: SecretId,
        op: Operation,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        self.writer.apply(id, op, now).await
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<SecretId>, StoreError> {
        self.read_blocking(move |partitions| {
            let mut upper = [0xffu8; DEADLINE_KEY_LEN];
            upper[..8].copy_from_slice(&now.as_millis().to_be_bytes());
            let mut ids = Vec::new();
            for entry in partitions
                .get(Part::Deadlines)
                .range(..=upper.as_slice())
                .take(limit)
            {
                let (key, _) = entry.map_err(fail)?;
                ids.push(id_of_deadline_key(&key)?);
            }
            Ok(ids)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.partitions.read(Part::Tokens, b"").map(|_| ())
    }

    async fn count_live(&self) -> Result<u64, StoreError> {
        let now = crate::clock::now();
        self.read_blocking(move |partitions| {
            let mut live = 0;
            for entry in partitions.get(Part::Records).iter() {
                let (key, bytes) = entry.map_err(fail)?;
                if kind_of_record_key(&key) != Some(RecordKind::Meta) {
                    continue;
                }
                live += u64::from(decode_meta(&bytes)?.gone_at(now).is_none());
            }
            Ok(live)
        })
        .await
    }

    async fn put_account(&self, account: Account) -> Result<(), StoreError> {
        self.writer
            .write(Write::PutAccount(account))
            .await
            .map(|_| ())
    }

    async fn account(&self, email: &Email) -> Result<Option<Account>, StoreError> {
        match self
            .partitions
            .read(Part::Accounts, email.as_str().as_bytes())?
        {
            Some(bytes) => decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.read_blocking(|partitions| {
            let mut accounts = Vec::new();
            for entry in partitions.get(Part::Accounts).iter() {
                let (_, bytes) = entry.map_err(fail)?;
                accounts.push(decode(&bytes)?);
            }
            Ok(accounts)
        })
        .await
    }

    async fn put_token(&self, token_hash: [u8; 32], email: Email) -> Result<(), StoreError> {
        self.writer
            .write(Write::PutToken { token_hash, email })
            .await
            .map(|_| ())
    }

    async fn token_owner(&self, token_hash: [u8; 32]) -> Result<Option<Email>, StoreError> {
        match self.partitions.read(Part::Tokens, &token_hash)? {
            Some(email) => std::str::from_utf8(&email)
                .ok()
                .and_then(|email| Email::parse(email).ok())
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt("token owner".into())),
            None => Ok(None),
        }
    }

    async fn owned_since(
        &self,
        owner: &Email,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<SecretId>, StoreError> {
        let prefix = owned_prefix(owner);
        let mut from = prefix.clone();
        from.extend_from_slice(&since.as_millis().to_be_bytes());
        let mut to = prefix;
        to.extend_from_slice(&[0xff; 8 + 32]);
        let mut ids = Vec::new();
        for entry in self
            .partitions
            .get(Part::Owned)
            .range(from..=to)
            .rev()
            .take(limit)
        {
            let (key, _) = entry.map_err(fail)?;
            ids.push(id_of_owned_key(&key)?);
        }
        Ok(ids)
    }
}
