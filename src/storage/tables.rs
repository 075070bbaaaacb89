//! The record layout every local backend shares, and the one implementation of insert and apply
//! over it. A backend provides [`RecordTables`] over its own transaction; the rules stay here.

use super::{Outcome, StoreError};
use crate::domain::{Email, Operation, ReceiptId, SecretId, SecretMeta, Step, Timestamp};

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
    tables.put_deadline(meta.deadline(), id)
}

/// Applies `op` at `now` to the record `id`, keeping the content and the expiry index in step
/// with the new state.
pub fn apply_operation(
    tables: &mut impl RecordTables,
    id: &SecretId,
    op: Operation,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let Some(current) = tables.meta(id)? else {
        return Ok(Outcome::Missing);
    };
    match current.apply(op, now) {
        Step::Unchanged => Ok(Outcome::Unchanged(current)),
        Step::Refuse(gone) => Ok(Outcome::Refused(current, gone)),
        Step::Update(next) => {
            // The metadata first: its encoding is the one step that may refuse for another
            // reason than the backend, and a refused write must have changed nothing (the
            // batch around it still commits).
            tables.put_meta(id, &next)?;
            if next.deadline() != current.deadline() {
                tables.delete_deadline(current.deadline(), id)?;
                tables.put_deadline(next.deadline(), id)?;
            }
            if next.is_final() && !current.is_final() {
                tables.delete_content(id)?;
            }
            Ok(Outcome::Updated(next))
        }
        Step::Purge => {
            tables.delete_deadline(current.deadline(), id)?;
            tables.delete_content(id)?;
            tables.delete_receipt(&current.receipt_id)?;
            if let Some(owner) = &current.owner {
                tables.delete_owned(&owner.email, current.created_at, id)?;
            }
            tables.delete_meta(id)?;
            Ok(Outcome::Purged)
        }
    }
}
