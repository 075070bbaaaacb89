//! One change to a stored secret as a pure step: the record as it is, the operation and the time
//! in; the outcome and the writes that carry it out. Every backend runs this same step and only
//! carries out its writes in its own atomic way (a redb transaction, a Redis compare-and-swap),
//! so the rules of what a write touches exist once.

use super::Outcome;
use crate::domain::{Change, Email, Operation, ReceiptId, SecretMeta, Timestamp};

/// The writes one transition needs, all in one atomic step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "planned and carried out at once; boxing would allocate on every state change"
)]
pub enum Writes {
    /// The record changes to `next`.
    Update {
        /// The new record.
        next: SecretMeta,
        /// The expiry-index entry moves from the first deadline to the second.
        moved_deadline: Option<(Timestamp, Timestamp)>,
        /// The content goes (the record just became final).
        delete_content: bool,
    },
    /// The whole record goes, with its index entries.
    Purge {
        /// Its expiry-index entry.
        deadline: Timestamp,
        /// Its receipt mapping.
        receipt: ReceiptId,
        /// Its owner-index entry: the owner and the creation time.
        owned: Option<(Email, Timestamp)>,
    },
}

/// What applying an operation to a record comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// What the caller is told once the writes are done.
    pub outcome: Outcome,
    /// What to write; `None` when nothing changes.
    pub writes: Option<Writes>,
    /// How the count of live (not final) secrets changes: 0 or -1.
    pub live_delta: i64,
}

/// The transition of `current` (the stored record, if any) under `op` at `now`.
pub fn plan(current: Option<SecretMeta>, op: Operation, now: Timestamp) -> Transition {
    let unchanged = |outcome| Transition {
        outcome,
        writes: None,
        live_delta: 0,
    };
    let Some(current) = current else {
        return unchanged(Outcome::Missing);
    };
    match current.apply(op, now) {
        Change::Unchanged => unchanged(Outcome::Unchanged(current)),
        Change::Refuse(gone) => unchanged(Outcome::Refused(current, gone)),
        Change::Update(next) => {
            let ends = next.is_final() && !current.is_final();
            let moved_deadline = (next.deadline() != current.deadline())
                .then(|| (current.deadline(), next.deadline()));
            Transition {
                outcome: Outcome::Updated(next.clone()),
                writes: Some(Writes::Update {
                    next,
                    moved_deadline,
                    delete_content: ends,
                }),
                live_delta: if ends { -1 } else { 0 },
            }
        }
        Change::Purge => Transition {
            outcome: Outcome::Purged,
            live_delta: if current.is_final() { 0 } else { -1 },
            writes: Some(Writes::Purge {
                deadline: current.deadline(),
                receipt: current.receipt_id,
                owned: current
                    .owner
                    .as_ref()
                    .map(|owner| (owner.email.clone(), current.created_at)),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ViewLimit;
    use crate::storage::conformance::record;

    #[test]
    fn the_last_view_deletes_the_content_and_counts_one_live_secret_less() {
        let (_, meta) = record(1, ViewLimit::Limited(1));
        let now = meta.created_at.plus_secs(1);
        let step = plan(Some(meta.clone()), Operation::TakeView, now);
        let Some(Writes::Update {
            next,
            delete_content,
            ..
        }) = &step.writes
        else {
            panic!("an update: {step:?}");
        };
        assert!(next.is_final() && *delete_content);
        assert_eq!(step.live_delta, -1);
        assert_eq!(step.outcome, Outcome::Updated(next.clone()));
        // The same view again is refused and writes nothing.
        let again = plan(Some(next.clone()), Operation::TakeView, now);
        assert!(matches!(again.outcome, Outcome::Refused(..)));
        assert_eq!((again.writes, again.live_delta), (None, 0));
    }

    #[test]
    fn a_missing_record_writes_nothing_and_a_purge_takes_its_indexes() {
        let missing = plan(None, Operation::Burn, Timestamp::from_millis(0));
        assert_eq!(missing.outcome, Outcome::Missing);
        assert!(missing.writes.is_none());
        let (_, meta) = record(2, ViewLimit::Limited(2));
        let purged = plan(Some(meta.clone()), Operation::Sweep, meta.purge_at);
        assert_eq!(purged.outcome, Outcome::Purged);
        assert_eq!(purged.live_delta, -1, "purged while still live");
        assert_eq!(
            purged.writes,
            Some(Writes::Purge {
                deadline: meta.deadline(),
                receipt: meta.receipt_id,
                owned: None,
            })
        );
    }
}
