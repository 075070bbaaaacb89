//! Connections refused or cut, counted in [`crate::telemetry::CONNECTIONS_REFUSED`] by reason and
//! logged at most once a second per reason (a flood must not become a flood of log lines).

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a connection was refused or cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its client address held its cap of connections already.
    PerClientCap,
    /// A request head began and did not end within the header-read timeout.
    HeaderReadTimeout,
    /// No byte moved either way for the idle timeout.
    IdleTimeout,
    /// Accepting failed (out of file descriptors, most often).
    AcceptFailed,
}

impl Refusal {
    const ALL: [Self; 4] = [
        Self::PerClientCap,
        Self::HeaderReadTimeout,
        Self::IdleTimeout,
        Self::AcceptFailed,
    ];

    /// The `reason` label of the metric.
    pub fn label(self) -> &'static str {
        match self {
            Self::PerClientCap => "per_client_cap",
            Self::HeaderReadTimeout => "header_read_timeout",
            Self::IdleTimeout => "idle_timeout",
            Self::AcceptFailed => "accept_failed",
        }
    }

    /// Every reason's label, for describing the metric before any refusal.
    pub fn labels() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(Self::label)
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// The second each reason was last logged in, and how many went unlogged since.
static LAST_LOGGED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
static UNLOGGED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

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
