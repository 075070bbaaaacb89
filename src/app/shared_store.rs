//! What nodes sharing a Redis store share besides the records: the request quotas and the
//! clock.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::storage::{self, EngineKind, RedisQuotas};

use super::StartError;

/// The shared quotas' handle when `settings` name a Redis store, its clock followed from now on.
///
/// # Errors
/// [`StartError::Store`] when Redis cannot be reached.
pub async fn connect(settings: &Settings) -> Result<Option<Arc<RedisQuotas>>, StartError> {
    let EngineKind::Redis(target) = &settings.store else {
        return Ok(None);
    };
    let quotas = Arc::new(RedisQuotas::connect(target, storage::SHARED_STORE_TIMEOUT).await?);
    follow_clock(&quotas).await?;
    tokio::spawn(keep_following_clock(Arc::clone(&quotas)));
    Ok(Some(quotas))
}

/// How often a node on a shared store measures its clock against the store's.
const CLOCK_FOLLOW_INTERVAL: Duration = Duration::from_secs(10);

/// Moves this node's clock to the shared store's, warning when they were far apart.
async fn follow_clock(store: &RedisQuotas) -> Result<(), crate::storage::StoreError> {
    let sent = crate::clock::system();
    let reference = store.server_time().await?;
    let offset = crate::clock::follow(reference, sent, crate::clock::system());
    if offset.abs() > 1_000 {
        tracing::warn!(
            offset_ms = offset,
            "this host's clock is far from the shared store's; following the store's"
        );
    }
    Ok(())
}

/// Follows the shared store's clock for as long as the runtime runs.
async fn keep_following_clock(store: Arc<RedisQuotas>) {
    loop {
        tokio::time::sleep(CLOCK_FOLLOW_INTERVAL).await;
        if let Err(err) = follow_clock(&store).await {
            tracing::warn!(error = %err, "could not read the shared store's clock");
        }
    }
}
