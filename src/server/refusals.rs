//! Connections refused or cut, counted in [`crate::telemetry::CONNECTIONS_REFUSED`] by reason and
//! logged at most once a second per reason (a flood must not become a flood of log lines).

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::telemetry::REFUSAL_REASONS;

/// Why a connection was refused or cut. Each variant's position is its label's in
/// [`REFUSAL_REASONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its client address held its cap of connections already.
    PerClientCap = 0,
    /// A request head began and did not end within the header-read timeout.
    HeaderReadTimeout = 1,
    /// No byte moved either way for the idle timeout.
    IdleTimeout = 2,
    /// Accepting failed (out of file descriptors, most often).
    AcceptFailed = 3,
}

impl Refusal {
    /// The `reason` label of the metric.
    pub fn label(self) -> &'static str {
        REFUSAL_REASONS[self.index()]
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The second each reason was last logged in, and how many went unlogged since.
static LAST_LOGGED: [AtomicU64; REFUSAL_REASONS.len()] =
    [const { AtomicU64::new(0) }; REFUSAL_REASONS.len()];
static UNLOGGED: [AtomicU64; REFUSAL_REASONS.len()] =
    [const { AtomicU64::new(0) }; REFUSAL_REASONS.len()];

/// Counts one refusal, and logs it unless its reason was logged this second already.
pub fn note(reason: Refusal, client: Option<IpAddr>, error: Option<&std::io::Error>) {
    metrics::counter!(crate::telemetry::CONNECTIONS_REFUSED, "reason" => reason.label())
        .increment(1);
    let second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let i = reason.index();
    let last = LAST_LOGGED[i].load(Ordering::Relaxed);
    if last == second
        || LAST_LOGGED[i]
            .compare_exchange(last, second, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        UNLOGGED[i].fetch_add(1, Ordering::Relaxed);
        return;
    }
    let also = UNLOGGED[i].swap(0, Ordering::Relaxed);
    let client = client.map(|ip| ip.to_string());
    let error = error.map(ToString::to_string);
    tracing::warn!(
        reason = reason.label(),
        client = client.as_deref(),
        error = error.as_deref(),
        unlogged_since_last = also,
        "connection refused"
    );
}
