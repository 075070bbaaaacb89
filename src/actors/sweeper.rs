//! The node's expiry sweeper: one periodic scan of the store's expiry index instead of a timer per
//! stored secret. It expires secrets whose TTL passed and purges records whose receipt lifetime
//! passed; a resident actor is asked to do it itself so its copy stays current. On start it
//! catches up with everything that fell due while the process was down.
//!
//! It also sweeps the blob store for orphans: blobs older than a grace period whose secret is gone
//! (a crash between writing a blob and its record, or a delete that failed), so no file outlives
//! its secret for long.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::{Actors, SecretMsg, discard_blob};
use crate::clock;
use crate::domain::{Operation, Timestamp};
use crate::storage::blob::{BlobStore, UploadsInFlight};
use crate::storage::{Outcome, SecretStore, StoreError};
use crate::telemetry;

/// Ids fetched per scan batch.
const BATCH: usize = 1000;

/// What the sweeper works on and how often.
pub struct Sweeper {
    /// The records.
    pub store: Arc<dyn SecretStore>,
    /// The file contents.
    pub blobs: Arc<dyn BlobStore>,
    /// The uploads this node is writing: not orphans.
    pub uploads: UploadsInFlight,
    /// The resident actors, asked to expire their own secrets.
    pub actors: Actors,
    /// Time between expiry sweeps.
    pub interval: Duration,
    /// How old a blob must be before it may be judged an orphan (uploads in flight are younger);
    /// the orphan sweep runs every half of it.
    pub orphan_grace: Duration,
}

impl Sweeper {
    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let orphan_period = (self.orphan_grace / 2).max(Duration::from_millis(100));
        let mut last_orphan_sweep: Option<Instant> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(err) = sweep_once(self.store.as_ref(), self.blobs.as_ref(), &self.actors).await {
                        tracing::warn!(error = %err, "expiry sweep failed; retrying next tick");
                    }
                    if last_orphan_sweep.is_none_or(|at| at.elapsed() >= orphan_period) {
                        last_orphan_sweep = Some(Instant::now());
                        if let Err(err) = sweep_orphans(self.store.as_ref(), self.blobs.as_ref(), &self.uploads, self.orphan_grace).await {
                            tracing::warn!(error = %err, "orphan sweep failed; retrying later");
                        }
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Deletes the blobs older than `grace` whose secret has no readable record: not being uploaded
/// here, and not ended within `grace` (a last view's transfer may still be reading it). Returns
/// how many.
///
/// # Errors
/// The store's or blob store's error.
pub async fn sweep_orphans(
    store: &dyn SecretStore,
    blobs: &dyn BlobStore,
    uploads: &UploadsInFlight,
    grace: Duration,
) -> Result<usize, StoreError> {
    let before = SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let recently = Timestamp::from_millis(
        clock::now()
            .as_millis()
            .saturating_sub(u64::try_from(grace.as_millis()).unwrap_or(u64::MAX)),
    );
    let mut removed = 0;
    for id in blobs.written_before(before).await? {
        if uploads.contains(&id) {
            continue;
        }
        let orphan = match store.load(id).await? {
            None => true,
            Some(meta) => meta.file.is_none() || (meta.is_final() && meta.updated_at < recently),
        };
        if orphan {
            discard_blob(blobs, id).await;
            metrics::counter!(telemetry::BLOB_ORPHANS).increment(1);
            removed += 1;
        }
    }
    Ok(removed)
}

/// One pass over everything due now. Returns how many records it handled.
///
/// # Errors
/// The store's error when scanning or applying fails.
pub async fn sweep_once(
    store: &dyn SecretStore,
    blobs: &dyn BlobStore,
    actors: &Actors,
) -> Result<usize, StoreError> {
    let now = clock::now();
    let mut handled = 0;
    metrics::counter!(telemetry::SWEEPS).increment(1);
    metrics::gauge!(telemetry::RESIDENT).set(actors.resident_count() as f64);
    loop {
        let due = store.due(now, BATCH).await?;
        let batch_len = due.len();
        if handled == 0 {
            // The index is in deadline order: the first record is the most overdue.
            let oldest = match due.first() {
                Some(id) => store.load(*id).await?.map(|meta| meta.deadline()),
                None => None,
            };
            let lag_ms = oldest.map_or(0, |deadline| deadline.millis_until(now));
            metrics::gauge!(telemetry::SWEEP_LAG).set(lag_ms as f64 / 1000.0);
        }
        for id in due {
            let delegated = actors
                .resident(&id)
                .is_some_and(|actor| actor.cast(SecretMsg::Due).is_ok());
            if !delegated {
                // A record purged straight from live (its whole lifetime passed while no sweep
                // ran) takes its file with it; an expired one gave its file back when it expired.
                let had_file = store
                    .load(id)
                    .await?
                    .is_some_and(|meta| meta.file.is_some() && !meta.is_final());
                let action = match store.apply(id, Operation::Sweep, now).await? {
                    Outcome::Purged => {
                        if had_file {
                            discard_blob(blobs, id).await;
                        }
                        Some("purged")
                    }
                    Outcome::Updated(meta) => {
                        if meta.file.is_some() {
                            discard_blob(blobs, id).await;
                        }
                        Some("expired")
                    }
                    _ => None,
                };
                if let Some(action) = action {
                    metrics::counter!(telemetry::SWEPT, "action" => action).increment(1);
                }
            }
            handled += 1;
        }
        // A delegated id stays due until its actor acts: don't spin on it in this pass.
        if batch_len < BATCH || handled >= 100 * BATCH {
            return Ok(handled);
        }
    }
}
