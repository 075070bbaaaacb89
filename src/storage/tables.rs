//! The record layout every local backend shares, and insert and apply over it. A backend provides
//! [`RecordTables`] over its own transaction; the rules are the domain's and the writes each
//! transition needs are [`plan`]'s.

use super::transition::{Transition, Writes, plan};
use super::{Outcome, StoreError};
use crate::domain::{Email, Operation, ReceiptId, SecretId, SecretMeta, Timestamp};

/// The four tables of a record, as seen inside one write transaction.
pub trait RecordTables {
    /// Metadata by secret id.
    fn meta(&mut self, id: &SecretId) -> Result<Option<SecretMeta>, StoreError>;
    /// Writes metadata.
    fn put_meta(&mut self, id: &SecretId, meta: &SecretMeta) -> Result<(), StoreError>;
    /// Deletes metadata.
    fn delete_meta(&mut self, id: &SecretId) -> Result<(), StoreError>;
    /// Writes sealed content.
    fn put_content(&mut self, id: &SecretId, content: Vec<u8>) -> Result<(), StoreError>;
    /// Deletes sealed content.
    fn delete_content(&mut self, id: &SecretId) -> Result<(), StoreError>;
    /// Maps a receipt to its secret.
    fn put_receipt(&mut self, receipt: &ReceiptId, id: &SecretId) -> Result<(), StoreError>;
    /// Removes a receipt mapping.
    fn delete_receipt(&mut self, receipt: &ReceiptId) -> Result<(), StoreError>;
    /// Adds an expiry-index entry.
    fn put_deadline(&mut self, deadline: Timestamp, id: &SecretId) -> Result<(), StoreError>;
    /// Removes an expiry-index entry.
    fn delete_deadline(&mut self, deadline: Timestamp, id: &SecretId) -> Result<(), StoreError>;
    /// Adds an owner-index entry.
    fn put_owned(
        &mut self,
        owner: &Email,
        created: Timestamp,
        id: &SecretId,
    ) -> Result<(), StoreError>;
    /// Removes an owner-index entry.
    fn delete_owned(
        &mut self,
        owner: &Email,
        created: Timestamp,
        id: &SecretId,
    ) -> Result<(), StoreError>;
    /// Changes the kept count of live (not final) secrets by `delta`, in this transaction.
    fn change_live_count(&mut self, delta: i64);
}

/// Inserts a new record in all four tables.
pub fn insert_record(
    tables: &mut impl RecordTables,
    id: &SecretId,
    meta: &SecretMeta,
    content: Vec<u8>,
) -> Result<(), StoreError> {
    if tables.meta(id)?.is_some() {
        return Err(StoreError::Conflict);
    }
    tables.put_meta(id, meta)?;
    tables.put_content(id, content)?;
    tables.put_receipt(&meta.receipt_id, id)?;
    if let Some(owner) = &meta.owner {
        tables.put_owned(&owner.email, meta.created_at, id)?;
    }
    tables.put_deadline(meta.deadline(), id)?;
    if !meta.is_final() {
        tables.change_live_count(1);
    }
    Ok(())
}

/// Applies `op` at `now` to the record `id`: the [`plan`]'s writes, in this transaction.
pub fn apply_operation(
    tables: &mut impl RecordTables,
    id: &SecretId,
    op: Operation,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let current = tables.meta(id)?;
    let Transition {
        outcome,
        writes,
        live_delta,
    } = plan(current, op, now);
    match writes {
        None => {}
        Some(Writes::Update {
            next,
            moved_deadline,
            delete_content,
        }) => {
            // The metadata first: its encoding is the one step that may refuse for another
            // reason than the backend, and a refused write must have changed nothing (the
            // batch around it still commits).
            tables.put_meta(id, &next)?;
            if let Some((from, to)) = moved_deadline {
                tables.delete_deadline(from, id)?;
                tables.put_deadline(to, id)?;
            }
            if delete_content {
                tables.delete_content(id)?;
            }
        }
        Some(Writes::Purge {
            deadline,
            receipt,
            owned,
        }) => {
            tables.delete_deadline(deadline, id)?;
            tables.delete_content(id)?;
            tables.delete_receipt(&receipt)?;
            if let Some((owner, created)) = owned {
                tables.delete_owned(&owner, created, id)?;
            }
            tables.delete_meta(id)?;
        }
    }
    if live_delta != 0 {
        tables.change_live_count(live_delta);
    }
    Ok(outcome)
}
