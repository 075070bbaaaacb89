//! The embedded durable backend: one redb file in the data directory, zero configuration.
//!
//! Writes go to one writer thread that drains every queued write into a single transaction and
//! commits it with `Durability::Immediate` (group commit): a caller is answered only after the
//! commit that holds its write reached the disk, so an acknowledged write survives `kill -9`,
//! and concurrent writers share one fsync. Point reads run on the calling thread, long scans on
//! the blocking pool.
//!
//! A secret's metadata, sealed content and receipt link live in one tree under keys that start
//! with its creation time ([`record_key`]), so a commit of many creates rewrites a few pages at
//! the end of one tree instead of a path in each of three (`docs/decisions/0008-one-record-tree.md`).
//! Data directories of the per-kind layout before it are moved over on open.

mod accounts;
mod upgrades;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition};

use super::codec::{
    DEADLINE_KEY_LEN, RecordKind, deadline_key, decode_meta, encode_meta, id_of_deadline_key,
    id_of_owned_key, id_of_record_key, kind_of_record_key, owned_key, owned_prefix, record_key,
};
use super::tables::RecordTables;
use super::writer::{BatchResult, Write, Writer, apply_writes};
use super::zero_ahead::ZeroAheadFile;
use super::{KeyUse, Outcome, SecretStore, StoreError};
use crate::crypto::RecordAuth;
use crate::domain::{Email, Operation, ReceiptId, SecretId, SecretMeta, Timestamp};

const BACKEND: &str = "embedded";
/// File name of the database inside the data directory.
pub const DB_FILE_NAME: &str = "burnbox.redb";
/// Memory for pages of the database file when none is configured (`--store-cache-mib`). With
/// redb's own default (1 GiB) a node holding a million secrets grew past 1 GiB of RSS once most
/// pages had been read; pages beyond the cache come from the OS's page cache.
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;

type Bytes = &'static [u8];
/// Secrets' metadata, sealed contents and receipt links in one tree, keyed by
/// [`record_key`].
const RECORDS: TableDefinition<Bytes, Bytes> = TableDefinition::new("records");
const DEADLINES: TableDefinition<Bytes, ()> = TableDefinition::new("deadlines");
const OWNED: TableDefinition<Bytes, ()> = TableDefinition::new("owned");
const ACCOUNTS: TableDefinition<&str, Bytes> = TableDefinition::new("accounts");
const TOKENS: TableDefinition<Bytes, &str> = TableDefinition::new("tokens");
/// Counts kept in step with the records, by name: [`LIVE_COUNT`].
const COUNTS: TableDefinition<&str, u64> = TableDefinition::new("counts");
/// The count of live (not final) secrets in [`COUNTS`].
const LIVE_COUNT: &str = "live";
fn fail(err: impl std::fmt::Display) -> StoreError {
    StoreError::backend(BACKEND, err)
}

/// A [`SecretStore`] in a redb database file.
pub struct EmbeddedStore {
    db: Arc<Database>,
    /// Tags and checks every secret record.
    auth: RecordAuth,
    /// The group-commit writer; it joins its thread on drop, so the file is released only after
    /// its last commit.
    writer: Writer,
}

impl EmbeddedStore {
    /// Opens (or creates) the database in `data_dir` with [`DEFAULT_CACHE_BYTES`] of page cache
    /// and starts its writer thread.
    ///
    /// # Errors
    /// See [`Self::open_with_cache`].
    pub fn open(data_dir: &Path, auth: RecordAuth) -> Result<Self, StoreError> {
        Self::open_with_cache(data_dir, DEFAULT_CACHE_BYTES, auth)
    }

    /// Opens (or creates) the database in `data_dir`, keeping at most `cache_bytes` of its pages
    /// in memory, and starts its writer thread.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the file cannot be opened, for instance because another
    /// process holds it.
    pub fn open_with_cache(
        data_dir: &Path,
        cache_bytes: usize,
        auth: RecordAuth,
    ) -> Result<Self, StoreError> {
        let file = ZeroAheadFile::open(&data_dir.join(DB_FILE_NAME)).map_err(fail)?;
        let db = redb::Builder::new()
            .set_cache_size(cache_bytes)
            .create_with_backend(file)
            .map_err(fail)?;
        let txn = db.begin_write().map_err(fail)?;
        {
            txn.open_table(RECORDS).map_err(fail)?;
            txn.open_table(DEADLINES).map_err(fail)?;
            txn.open_table(OWNED).map_err(fail)?;
            txn.open_table(ACCOUNTS).map_err(fail)?;
            txn.open_table(TOKENS).map_err(fail)?;
        }
        txn.commit().map_err(fail)?;
        upgrades::migrate_per_kind_tables(&db)?;
        upgrades::authenticate_records_once(&db, &auth)?;
        upgrades::count_live_records_once(&db, &auth)?;
        let db = Arc::new(db);
        let writer_db = Arc::clone(&db);
        let writer_auth = auth.clone();
        let writer = Writer::spawn(BACKEND, move |writes| {
            run_batch(&writer_db, &writer_auth, writes)
        })?;
        Ok(Self { db, auth, writer })
    }

    /// Runs `f` in a read transaction on the calling thread. Point reads come from redb's page
    /// cache or the OS's in microseconds, less than a hand-off to the blocking pool costs
    /// (`docs/decisions/0001-seal-and-point-read-on-the-request-thread.md`). Scans that may be long (`due`,
    /// `count_live`, `accounts`) use [`Self::read_blocking`].
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        f(&self.db.begin_read().map_err(fail)?)
    }

    /// Runs `f` in a read transaction on the blocking pool, for long scans.
    async fn read_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || f(&db.begin_read().map_err(fail)?))
            .await
            .map_err(fail)?
    }
}

/// Runs the writes in one transaction and commits it durably.
fn run_batch(db: &Database, auth: &RecordAuth, writes: Vec<Write>) -> BatchResult {
    let txn = db.begin_write().map_err(fail)?;
    let mut tables = RedbTables {
        auth,
        records: txn.open_table(RECORDS).map_err(fail)?,
        deadlines: txn.open_table(DEADLINES).map_err(fail)?,
        owned: txn.open_table(OWNED).map_err(fail)?,
        accounts: txn.open_table(ACCOUNTS).map_err(fail)?,
        tokens: txn.open_table(TOKENS).map_err(fail)?,
        live_delta: 0,
    };
    let results = apply_writes(&mut tables, writes)?;
    if tables.live_delta != 0 {
        // One write of the count per batch, whatever the batch holds.
        let mut counts = txn.open_table(COUNTS).map_err(fail)?;
        let live = counts
            .get(LIVE_COUNT)
            .map_err(fail)?
            .map_or(0, |v| v.value());
        counts
            .insert(LIVE_COUNT, live.saturating_add_signed(tables.live_delta))
            .map_err(fail)?;
    }
    drop(tables);
    txn.commit().map_err(fail)?;
    Ok(results)
}

struct RedbTables<'t> {
    auth: &'t RecordAuth,
    records: Table<'t, Bytes, Bytes>,
    deadlines: Table<'t, Bytes, ()>,
    owned: Table<'t, Bytes, ()>,
    accounts: Table<'t, &'static str, Bytes>,
    tokens: Table<'t, Bytes, &'static str>,
    /// How the batch changes the live count, written once at its end.
    live_delta: i64,
}

impl RedbTables<'_> {
    fn put(&mut self, kind: RecordKind, id: &[u8; 32], value: &[u8]) -> Result<(), StoreError> {
        self.records
            .insert(record_key(kind, id).as_slice(), value)
            .map_err(fail)?;
        Ok(())
    }
    fn delete(&mut self, kind: RecordKind, id: &[u8; 32]) -> Result<(), StoreError> {
        self.records
            .remove(record_key(kind, id).as_slice())
            .map_err(fail)?;
        Ok(())
    }
}

impl RecordTables for RedbTables<'_> {
    fn meta(&mut self, id: &SecretId) -> Result<Option<SecretMeta>, StoreError> {
        let key = record_key(RecordKind::Meta, id.as_bytes());
        match self.records.get(key.as_slice()).map_err(fail)? {
            Some(bytes) => decode_meta(id, bytes.value(), self.auth).map(Some),
            None => Ok(None),
        }
    }
    fn put_meta(&mut self, id: &SecretId, meta: &SecretMeta) -> Result<(), StoreError> {
        let encoded = encode_meta(id, meta, self.auth)?;
        self.put(RecordKind::Meta, id.as_bytes(), &encoded)
    }
    fn delete_meta(&mut self, id: &SecretId) -> Result<(), StoreError> {
        self.delete(RecordKind::Meta, id.as_bytes())
    }
    fn put_content(&mut self, id: &SecretId, content: Vec<u8>) -> Result<(), StoreError> {
        self.put(RecordKind::Content, id.as_bytes(), &content)
    }
    fn delete_content(&mut self, id: &SecretId) -> Result<(), StoreError> {
        self.delete(RecordKind::Content, id.as_bytes())
    }
    fn put_receipt(&mut self, receipt: &ReceiptId, id: &SecretId) -> Result<(), StoreError> {
        self.put(RecordKind::Receipt, receipt.as_bytes(), id.as_bytes())
    }
    fn delete_receipt(&mut self, receipt: &ReceiptId) -> Result<(), StoreError> {
        self.delete(RecordKind::Receipt, receipt.as_bytes())
    }
    fn put_deadline(&mut self, deadline: Timestamp, id: &SecretId) -> Result<(), StoreError> {
        self.deadlines
            .insert(deadline_key(deadline, id).as_slice(), ())
            .map_err(fail)?;
        Ok(())
    }
    fn put_owned(
        &mut self,
        owner: &Email,
        created: Timestamp,
        id: &SecretId,
    ) -> Result<(), StoreError> {
        self.owned
            .insert(owned_key(owner, created, id).as_slice(), ())
            .map_err(fail)?;
        Ok(())
    }
    fn delete_owned(
        &mut self,
        owner: &Email,
        created: Timestamp,
        id: &SecretId,
    ) -> Result<(), StoreError> {
        self.owned
            .remove(owned_key(owner, created, id).as_slice())
            .map_err(fail)?;
        Ok(())
    }
    fn delete_deadline(&mut self, deadline: Timestamp, id: &SecretId) -> Result<(), StoreError> {
        self.deadlines
            .remove(deadline_key(deadline, id).as_slice())
            .map_err(fail)?;
        Ok(())
    }
    fn change_live_count(&mut self, delta: i64) {
        self.live_delta += delta;
    }
}

#[async_trait]
impl SecretStore for EmbeddedStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn insert(
        &self,
        id: SecretId,
        meta: SecretMeta,
        content: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.writer.store(Write::Insert { id, meta, content }).await
    }

    async fn load(&self, id: SecretId) -> Result<Option<SecretMeta>, StoreError> {
        let auth = self.auth.clone();
        self.read(move |txn| {
            let table = txn.open_table(RECORDS).map_err(fail)?;
            let key = record_key(RecordKind::Meta, id.as_bytes());
            match table.get(key.as_slice()).map_err(fail)? {
                Some(bytes) => decode_meta(&id, bytes.value(), &auth).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn resolve_receipt(&self, receipt: ReceiptId) -> Result<Option<SecretId>, StoreError> {
        self.read(move |txn| {
            let table = txn.open_table(RECORDS).map_err(fail)?;
            let key = record_key(RecordKind::Receipt, receipt.as_bytes());
            match table.get(key.as_slice()).map_err(fail)? {
                Some(bytes) => SecretId::from_slice(bytes.value())
                    .map(Some)
                    .ok_or_else(|| StoreError::Corrupt("receipt index value".into())),
                None => Ok(None),
            }
        })
        .await
    }

    async fn content(&self, id: SecretId) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |txn| {
            let table = txn.open_table(RECORDS).map_err(fail)?;
            let key = record_key(RecordKind::Content, id.as_bytes());
            Ok(table
                .get(key.as_slice())
                .map_err(fail)?
                .map(|bytes| bytes.value().to_vec()))
        })
        .await
    }

    async fn has_content(&self, id: SecretId) -> Result<bool, StoreError> {
        self.read(move |txn| {
            let table = txn.open_table(RECORDS).map_err(fail)?;
            let key = record_key(RecordKind::Content, id.as_bytes());
            Ok(table.get(key.as_slice()).map_err(fail)?.is_some())
        })
        .await
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
        self.read_blocking(move |txn| {
            let table = txn.open_table(DEADLINES).map_err(fail)?;
            let mut upper = [0xffu8; DEADLINE_KEY_LEN];
            upper[..8].copy_from_slice(&now.as_millis().to_be_bytes());
            let mut ids = Vec::new();
            for entry in table.range(..=upper.as_slice()).map_err(fail)?.take(limit) {
                let (key, _) = entry.map_err(fail)?;
                ids.push(id_of_deadline_key(key.value())?);
            }
            Ok(ids)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|txn| txn.open_table(RECORDS).map(|_| ()).map_err(fail))
            .await
    }

    async fn count_live(&self) -> Result<u64, StoreError> {
        self.read(move |txn| {
            let counts = txn.open_table(COUNTS).map_err(fail)?;
            Ok(counts
                .get(LIVE_COUNT)
                .map_err(fail)?
                .map_or(0, |v| v.value()))
        })
        .await
    }

    async fn records_made_under(&self, key_id: u32) -> Result<KeyUse, StoreError> {
        let auth = self.auth.clone();
        self.read_blocking(move |txn| {
            let records = txn.open_table(RECORDS).map_err(fail)?;
            let mut used = KeyUse::default();
            for entry in records.iter().map_err(fail)? {
                let (key, bytes) = entry.map_err(fail)?;
                if kind_of_record_key(key.value()) == Some(RecordKind::Meta) {
                    let id = id_of_record_key(key.value())?;
                    used.count(decode_meta(&id, bytes.value(), &auth)?.key_id, key_id);
                }
            }
            Ok(used)
        })
        .await
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
        self.read(move |txn| {
            let table = txn.open_table(OWNED).map_err(fail)?;
            let mut ids = Vec::new();
            for entry in table
                .range(from.as_slice()..=to.as_slice())
                .map_err(fail)?
                .rev()
                .take(limit)
            {
                let (key, _) = entry.map_err(fail)?;
                ids.push(id_of_owned_key(key.value())?);
            }
            Ok(ids)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use redb::{ReadableTableMetadata, TableHandle};

    use super::upgrades::{MIGRATION_CHUNK, PER_KIND_TABLES};
    use super::*;
    use crate::domain::ViewLimit;
    use crate::storage::codec::encode;

    const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

    /// Secret `n` of a data directory written before [`RECORDS`]: its id, receipt id and record.
    fn old_secret(n: u32) -> (SecretId, SecretMeta, Vec<u8>) {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&n.to_be_bytes());
        let mut receipt = [0xffu8; 32];
        receipt[..4].copy_from_slice(&n.to_be_bytes());
        let meta = SecretMeta::fixture(ReceiptId::from_bytes(receipt), T0, ViewLimit::Limited(2));
        (SecretId::from_bytes(id), meta, n.to_le_bytes().to_vec())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_data_dir_of_per_kind_tables_is_moved_into_the_record_tree() {
        let dir = tempfile::tempdir().expect("temp dir");
        // More secrets than one migration chunk, and the first one already moved, as an
        // interrupted upgrade leaves it.
        let count = u32::try_from(MIGRATION_CHUNK).expect("small") + 100;
        {
            let db = Database::create(dir.path().join(DB_FILE_NAME)).expect("create");
            let txn = db.begin_write().expect("write");
            {
                let mut tables =
                    PER_KIND_TABLES.map(|(table, _)| txn.open_table(table).expect("open"));
                let mut records = txn.open_table(RECORDS).expect("open");
                for n in 0..count {
                    let (id, meta, content) = old_secret(n);
                    let entries = [
                        (
                            RecordKind::Meta,
                            *id.as_bytes(),
                            encode(&meta).expect("encode"),
                        ),
                        (RecordKind::Content, *id.as_bytes(), content),
                        (
                            RecordKind::Receipt,
                            *meta.receipt_id.as_bytes(),
                            id.as_bytes().to_vec(),
                        ),
                    ];
                    for ((kind, key, value), old) in entries.into_iter().zip(&mut tables) {
                        if n == 0 {
                            records.insert(record_key(kind, &key).as_slice(), value.as_slice())
                        } else {
                            old.insert(key.as_slice(), value.as_slice())
                        }
                        .expect("insert");
                    }
                }
            }
            txn.commit().expect("commit");
        }

        let store = EmbeddedStore::open(dir.path(), crate::storage::conformance::test_auth())
            .expect("open");
        assert_eq!(
            store.count_live().await.expect("count"),
            u64::from(count),
            "a data directory from before the kept count is counted once on open"
        );
        for n in [0, 1, count / 2, count - 1] {
            let (id, meta, content) = old_secret(n);
            assert_eq!(
                store.load(id).await.expect("load"),
                Some(meta.clone()),
                "{n}"
            );
            assert_eq!(
                store.content(id).await.expect("content"),
                Some(content),
                "{n}"
            );
            assert_eq!(
                store
                    .resolve_receipt(meta.receipt_id)
                    .await
                    .expect("receipt"),
                Some(id),
                "{n}"
            );
        }
        let names: Vec<String> = store
            .db
            .begin_read()
            .expect("read")
            .list_tables()
            .expect("tables")
            .map(|table| table.name().to_owned())
            .collect();
        for (table, _) in PER_KIND_TABLES {
            assert!(!names.iter().any(|name| name == table.name()), "{names:?}");
        }
        let records = store.db.begin_read().expect("read");
        let records = records.open_table(RECORDS).expect("records");
        assert_eq!(records.len().expect("len"), 3 * u64::from(count));

        let (id, ..) = old_secret(1);
        store
            .apply(id, Operation::TakeView, T0.plus_secs(1))
            .await
            .expect("view");
        assert_eq!(
            store.load(id).await.expect("load").map(|m| m.view_count),
            Some(1)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_record_without_its_tag_is_refused_once_the_directory_is_authenticated() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (id, meta, content) = old_secret(3);
        let auth = crate::storage::conformance::test_auth();
        {
            let store = EmbeddedStore::open(dir.path(), auth.clone()).expect("open");
            store
                .insert(id, meta.clone(), content)
                .await
                .expect("insert");
            // An untagged record (the format before tags) written over it from outside, as a
            // downgrade would be: the directory is already authenticated, so it is not upgraded.
            let txn = store.db.begin_write().expect("write");
            txn.open_table(RECORDS)
                .expect("records")
                .insert(
                    record_key(RecordKind::Meta, id.as_bytes()).as_slice(),
                    encode(&meta).expect("encode").as_slice(),
                )
                .expect("insert");
            txn.commit().expect("commit");
        }
        let reopened = loop {
            match EmbeddedStore::open(dir.path(), auth.clone()) {
                Ok(store) => break store,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        assert!(matches!(
            reopened.load(id).await,
            Err(StoreError::Tampered(_))
        ));
    }
}
