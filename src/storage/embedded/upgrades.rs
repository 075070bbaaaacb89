//! What opening a data directory written by an older burnbox brings up to date, each once: the
//! per-kind tables moved into the one record tree, every record tagged, the live count counted.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

use super::{Bytes, COUNTS, LIVE_COUNT, RECORDS, fail};
use crate::crypto::RecordAuth;
use crate::storage::StoreError;
use crate::storage::codec::{
    RecordKind, decode_meta, decode_unauthenticated_meta, encode_meta, id_of_record_key,
    kind_of_record_key, record_key,
};

/// Records moved into [`RECORDS`] per transaction when an older data directory is opened.
pub(super) const MIGRATION_CHUNK: usize = 4096;
/// Bytes of records moved per transaction at most (text secrets may be megabytes each).
const MIGRATION_CHUNK_BYTES: usize = 16 << 20;

/// The layout before [`RECORDS`]: one table per kind, keyed by the bare id. Read only to move
/// their entries into [`RECORDS`] (see [`migrate_per_kind_tables`]).
pub(super) const PER_KIND_TABLES: [(TableDefinition<Bytes, Bytes>, RecordKind); 3] = [
    (TableDefinition::new("meta"), RecordKind::Meta),
    (TableDefinition::new("content"), RecordKind::Content),
    (TableDefinition::new("receipts"), RecordKind::Receipt),
];
/// Set in [`COUNTS`] once every secret record carries its authentication tag: from then on a
/// record without one is refused, never upgraded.
const RECORDS_AUTHENTICATED: &str = "records_authenticated";

/// Moves the entries of the per-kind tables of older versions into [`RECORDS`], a chunk per
/// transaction (each entry is moved atomically, so an interrupted migration resumes on the next
/// open), then drops the emptied tables.
pub(super) fn migrate_per_kind_tables(db: &Database) -> Result<(), StoreError> {
    let present: Vec<String> = db
        .begin_read()
        .map_err(fail)?
        .list_tables()
        .map_err(fail)?
        .map(|table| table.name().to_owned())
        .collect();
    for (table, kind) in PER_KIND_TABLES {
        if !present.iter().any(|name| name == table.name()) {
            continue;
        }
        tracing::info!(
            table = table.name(),
            "upgrading the store layout (about 15 s per million secrets, once)"
        );
        let mut moved = 0usize;
        loop {
            let txn = db.begin_write().map_err(fail)?;
            let done = {
                let mut old = txn.open_table(table).map_err(fail)?;
                let mut records = txn.open_table(RECORDS).map_err(fail)?;
                let mut chunk = Vec::with_capacity(MIGRATION_CHUNK);
                let mut bytes = 0;
                for entry in old.iter().map_err(fail)? {
                    if chunk.len() == MIGRATION_CHUNK || bytes >= MIGRATION_CHUNK_BYTES {
                        break;
                    }
                    let (id, value) = entry.map_err(fail)?;
                    bytes += value.value().len();
                    chunk.push((id.value().to_vec(), value.value().to_vec()));
                }
                for (id, value) in &chunk {
                    let id: &[u8; 32] = id
                        .as_slice()
                        .try_into()
                        .map_err(|_| StoreError::Corrupt(format!("{} table key", table.name())))?;
                    records
                        .insert(record_key(kind, id).as_slice(), value.as_slice())
                        .map_err(fail)?;
                    old.remove(id.as_slice()).map_err(fail)?;
                }
                moved += chunk.len();
                chunk.is_empty()
            };
            if done {
                txn.delete_table(table).map_err(fail)?;
            }
            txn.commit().map_err(fail)?;
            if done {
                break;
            }
        }
        tracing::info!(table = table.name(), moved, "store layout upgraded");
    }
    Ok(())
}

/// Tags every secret record of a data directory written before records were authenticated, in
/// one transaction, and marks the directory so that it never happens again: a record without a
/// tag found later was written outside burnbox, and is refused.
pub(super) fn authenticate_records_once(
    db: &Database,
    auth: &RecordAuth,
) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(fail)?;
    let mut tagged = 0u64;
    {
        let mut counts = txn.open_table(COUNTS).map_err(fail)?;
        if counts.get(RECORDS_AUTHENTICATED).map_err(fail)?.is_some() {
            return Ok(());
        }
        let mut records = txn.open_table(RECORDS).map_err(fail)?;
        let mut upgraded = Vec::new();
        for entry in records.iter().map_err(fail)? {
            let (key, bytes) = entry.map_err(fail)?;
            if kind_of_record_key(key.value()) == Some(RecordKind::Meta) {
                let id = id_of_record_key(key.value())?;
                let meta = decode_unauthenticated_meta(bytes.value())?;
                upgraded.push((key.value().to_vec(), encode_meta(&id, &meta, auth)?));
            }
        }
        for (key, value) in upgraded {
            records
                .insert(key.as_slice(), value.as_slice())
                .map_err(fail)?;
            tagged += 1;
        }
        counts.insert(RECORDS_AUTHENTICATED, 1).map_err(fail)?;
    }
    txn.commit().map_err(fail)?;
    if tagged > 0 {
        tracing::info!(records = tagged, "stored records authenticated");
    }
    Ok(())
}

/// Counts the live records into [`COUNTS`] when a data directory written before the count was
/// kept is opened (once: from then on every write keeps it in step).
pub(super) fn count_live_records_once(db: &Database, auth: &RecordAuth) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(fail)?;
    {
        let mut counts = txn.open_table(COUNTS).map_err(fail)?;
        if counts.get(LIVE_COUNT).map_err(fail)?.is_some() {
            return Ok(());
        }
        let records = txn.open_table(RECORDS).map_err(fail)?;
        let mut live = 0u64;
        for entry in records.iter().map_err(fail)? {
            let (key, bytes) = entry.map_err(fail)?;
            if kind_of_record_key(key.value()) == Some(RecordKind::Meta) {
                let id = id_of_record_key(key.value())?;
                live += u64::from(!decode_meta(&id, bytes.value(), auth)?.is_final());
            }
        }
        counts.insert(LIVE_COUNT, live).map_err(fail)?;
    }
    txn.commit().map_err(fail)
}
