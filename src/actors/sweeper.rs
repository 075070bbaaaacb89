//! The node's expiry sweeper: one periodic scan of the store's expiry index instead of a timer per
//! stored secret. It expires secrets whose TTL passed and purges records whose receipt lifetime
//! passed; a resident actor is asked to do it itself so its copy stays current. On start it
//! catches up with everything that fell due while the process was down.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{Actors, SecretMsg};
use crate::clock;
use crate::domain::Operation;
use crate::storage::{Outcome, SecretStore, StoreError};
use crate::telemetry;

/// Ids fetched per scan batch.
const BATCH: usize = 1000;

/// Runs until `shutdown` turns true, scanning every `interval`.
pub async fn run(
    store: Arc<dyn SecretStore>,
    actors: Actors,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(err) = sweep_once(store.as_ref(), &actors).await {
                    tracing::warn!(error = %err, "expiry sweep failed; retrying next tick");
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// One pass over everything due now. Returns how many records it handled.
///
/// # Errors
/// The store's error when scanning or applying fails.
pub async fn sweep_once(store: &dyn SecretStore, actors: &Actors) -> Result<usize, StoreError> {
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
                .is_some_and(|actor| actor.cast(SecretMsg::Sweep).is_ok());
            if !delegated {
                let action = match store.apply(id, Operation::Sweep, now).await? {
                    Outcome::Purged => Some("purged"),
                    Outcome::Updated(_) => Some("expired"),
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
