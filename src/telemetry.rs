//! Metrics (Prometheus, through the `metrics` facade) and the names of every series burnbox
//! exports, in one place. No label ever carries a key, a secret, a token or an address: routes are
//! templates, and callers appear only as their tier.

use std::sync::OnceLock;
use std::time::Duration;

use dashmap::DashMap;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP requests by route template, method and status.
pub const HTTP_REQUESTS: &str = "burnbox_http_requests_total";
/// HTTP request latency by route template and method.
pub const HTTP_DURATION: &str = "burnbox_http_request_duration_seconds";
/// Secrets created, by dialect.
pub const CREATED: &str = "burnbox_secrets_created_total";
/// Views handed out, by dialect.
pub const REVEALED: &str = "burnbox_secrets_revealed_total";
/// Secrets burned by their sender, by dialect.
pub const BURNED: &str = "burnbox_secrets_burned_total";
/// Secrets whose TTL passed.
pub const EXPIRED: &str = "burnbox_secrets_expired_total";
/// Secrets locked after too many wrong passphrases.
pub const LOCKED: &str = "burnbox_secrets_locked_total";
/// Readable secrets stored now.
pub const LIVE: &str = "burnbox_live_secrets";
/// Secret actors in memory now.
pub const RESIDENT: &str = "burnbox_resident_actors";
/// Store operation latency by backend and operation.
pub const STORE_DURATION: &str = "burnbox_store_operation_duration_seconds";
/// Writes folded into each group commit of the embedded store.
pub const STORE_BATCH: &str = "burnbox_store_commit_batch_size";
/// Stored secret records refused because their authentication tag did not hold (changed,
/// moved or written outside burnbox).
pub const RECORDS_REFUSED: &str = "burnbox_store_records_refused_total";
/// Requests sent to Redis (commands, scripts, pipelines), to see the round trips per request.
pub const REDIS_ROUND_TRIPS: &str = "burnbox_redis_round_trips_total";
/// Store operations that failed, by backend and operation.
pub const STORE_ERRORS: &str = "burnbox_store_errors_total";
/// Read-cache lookups by cache and result (hit or miss).
pub const CACHE: &str = "burnbox_cache_requests_total";
/// Expiry sweeps run.
pub const SWEEPS: &str = "burnbox_sweeper_runs_total";
/// How late the sweeper handled the most overdue record of its last run, in seconds.
pub const SWEEP_LAG: &str = "burnbox_sweeper_lag_seconds";
/// Records the sweeper expired or purged, by action.
pub const SWEPT: &str = "burnbox_sweeper_deletions_total";
/// Requests refused by a quota, by tier.
pub const RATE_LIMITED: &str = "burnbox_rate_limited_total";
/// Blob store operation latency by backend and operation.
pub const BLOB_DURATION: &str = "burnbox_blob_operation_duration_seconds";
/// Blob store operations that failed, by backend and operation.
pub const BLOB_ERRORS: &str = "burnbox_blob_errors_total";
/// Sealed file bytes written to or read from the blob store, by direction.
pub const BLOB_BYTES: &str = "burnbox_blob_bytes_total";
/// Blobs the orphan sweep removed (their secret was gone).
pub const BLOB_ORPHANS: &str = "burnbox_blob_orphans_removed_total";
/// Connections refused or cut by the server's connection limits, by reason.
pub const CONNECTIONS_REFUSED: &str = "burnbox_connections_refused_total";
/// The `reason` labels of [`CONNECTIONS_REFUSED`], in the order of `server::Refusal`'s variants.
pub const REFUSAL_REASONS: [&str; 4] = [
    "per_client_cap",
    "header_read_timeout",
    "idle_timeout",
    "accept_failed",
];
/// argon2id runs (passphrase checks and seals) in progress now.
pub const PASSPHRASE_HASHING: &str = "burnbox_passphrase_hashing";
/// Requests refused because no argon2id turn came within the wait.
pub const PASSPHRASE_HASHING_REFUSED: &str = "burnbox_passphrase_hashing_refused_total";
/// Always 1, labelled with the version.
pub const BUILD_INFO: &str = "burnbox_build_info";

/// Buckets for latencies, from 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];

/// Buckets for group-commit sizes, up to the writer's largest batch.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Name of the upkeep thread (Linux keeps 15 bytes of a thread's name: this fits whole).
const UPKEEP_THREAD: &str = "burnbox-metrics";

/// The process's Prometheus recorder, installed on first use (one per process: servers started
/// in one test process share it), with its upkeep thread.
///
/// The recorder keeps every histogram sample in a queue until a scrape or an upkeep folds it
/// into the buckets; `install_recorder` starts no upkeep, so without [`spawn_upkeep`] a node
/// nobody scrapes grows by about 20 bytes per request without end.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(STORE_BATCH.to_owned()), BATCH_BUCKETS)
            })
            .unwrap_or_else(|_| unreachable!("the bucket lists are not empty"));
        let handle = match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is installed (an embedding program's): render our own anyway.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        };
        describe();
        spawn_upkeep(handle.clone());
        handle
    })
}

/// Folds queued histogram samples into their buckets every [`UPKEEP_INTERVAL`], for as long as
/// the process lives (the recorder is the process's too). A thread of its own: the recorder may
/// be first used outside a runtime, and it sleeps almost all the time.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name(UPKEEP_THREAD.into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "no metrics upkeep thread: histograms drain only when scraped");
    }
}

/// Describes every series and sets it to zero, so dashboards and alerts see them from the start.
fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by route template, method and status"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency"
    );
    metrics::describe_counter!(CREATED, "Secrets created, by dialect");
    metrics::describe_counter!(REVEALED, "Views handed out, by dialect");
    metrics::describe_counter!(BURNED, "Secrets burned by their sender, by dialect");
    metrics::describe_counter!(EXPIRED, "Secrets whose TTL passed before their last view");
    metrics::describe_counter!(LOCKED, "Secrets locked after too many wrong passphrases");
    metrics::describe_gauge!(LIVE, "Readable secrets stored now");
    metrics::describe_gauge!(RESIDENT, "Secret actors in memory now");
    metrics::describe_histogram!(
        STORE_DURATION,
        metrics::Unit::Seconds,
        "Store operation latency"
    );
    metrics::describe_counter!(STORE_ERRORS, "Store operations that failed");
    metrics::describe_counter!(
        RECORDS_REFUSED,
        "Stored secret records refused: their authentication tag did not hold"
    );
    metrics::describe_counter!(
        REDIS_ROUND_TRIPS,
        "Waits on Redis: a command, script or pipeline, or several sent together"
    );
    metrics::describe_histogram!(
        STORE_BATCH,
        metrics::Unit::Count,
        "Writes folded into one group commit of the embedded store"
    );
    metrics::describe_counter!(CACHE, "Read-cache lookups by cache and result");
    metrics::describe_counter!(SWEEPS, "Expiry sweeps run");
    metrics::describe_gauge!(
        SWEEP_LAG,
        metrics::Unit::Seconds,
        "Lateness of the most overdue record of the last sweep"
    );
    metrics::describe_counter!(SWEPT, "Records the sweeper expired or purged");
    metrics::describe_counter!(RATE_LIMITED, "Requests refused by a quota, by tier");
    metrics::describe_histogram!(
        BLOB_DURATION,
        metrics::Unit::Seconds,
        "Blob store operation latency"
    );
    metrics::describe_counter!(BLOB_ERRORS, "Blob store operations that failed");
    metrics::describe_counter!(
        BLOB_BYTES,
        metrics::Unit::Bytes,
        "Sealed file bytes written to (in) or read from (out) the blob store"
    );
    metrics::describe_counter!(BLOB_ORPHANS, "Blobs removed because their secret was gone");
    for direction in ["in", "out"] {
        counter!(BLOB_BYTES, "direction" => direction).absolute(0);
    }
    counter!(BLOB_ORPHANS).absolute(0);
    metrics::describe_counter!(
        CONNECTIONS_REFUSED,
        "Connections refused (per-client cap, failed accept) or cut (header-read or idle timeout), by reason"
    );
    for reason in REFUSAL_REASONS {
        counter!(CONNECTIONS_REFUSED, "reason" => reason).absolute(0);
    }
    metrics::describe_gauge!(
        PASSPHRASE_HASHING,
        "argon2id runs (passphrase seals and checks) in progress"
    );
    metrics::describe_counter!(
        PASSPHRASE_HASHING_REFUSED,
        "Requests answered 503 because no argon2id turn came within the wait"
    );
    metrics::gauge!(PASSPHRASE_HASHING).set(0.0);
    counter!(PASSPHRASE_HASHING_REFUSED).absolute(0);
    metrics::describe_gauge!(BUILD_INFO, "Always 1; the version is a label");
    for dialect in ["native", "ots"] {
        counter!(CREATED, "dialect" => dialect).absolute(0);
        counter!(REVEALED, "dialect" => dialect).absolute(0);
        counter!(BURNED, "dialect" => dialect).absolute(0);
    }
    counter!(EXPIRED).absolute(0);
    counter!(LOCKED).absolute(0);
    counter!(RECORDS_REFUSED).absolute(0);
    counter!(SWEEPS).absolute(0);
    for action in ["expired", "purged"] {
        counter!(SWEPT, "action" => action).absolute(0);
    }
    for tier in ["anonymous", "authenticated", "api"] {
        counter!(RATE_LIMITED, "tier" => tier).absolute(0);
    }
    for (cache, result) in [
        ("meta", "hit"),
        ("meta", "miss"),
        ("receipt", "hit"),
        ("receipt", "miss"),
    ] {
        counter!(CACHE, "cache" => cache, "result" => result).absolute(0);
    }
    gauge!(SWEEP_LAG).set(0.0);
    gauge!(RESIDENT).set(0.0);
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// The counter and histogram of one HTTP series, looked up in the recorder once: a lookup
/// builds the key's labels and hashes them, for every request.
type HttpSeries = (metrics::Counter, metrics::Histogram);

/// HTTP series already looked up, by route, method and status: a few hundred at most, since
/// routes and methods come from fixed lists.
static HTTP_SERIES: OnceLock<DashMap<(&'static str, &'static str, u16), HttpSeries>> =
    OnceLock::new();

/// Records one HTTP request; `route` is a route template (never a path, which carries keys) and
/// `method` comes from [`method_label`].
pub fn http_request(route: &'static str, method: &'static str, status: u16, elapsed: Duration) {
    let register = || -> HttpSeries {
        (
            counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status.to_string()),
            histogram!(HTTP_DURATION, "route" => route, "method" => method),
        )
    };
    // Handles only stay valid for the recorder they came from: keep them once ours is in.
    let (requests, duration) = if HANDLE.get().is_some() {
        let series = HTTP_SERIES.get_or_init(DashMap::new);
        let key = (route, method, status);
        let known = series.get(&key).map(|handles| handles.clone());
        known.unwrap_or_else(|| series.entry(key).or_insert_with(register).clone())
    } else {
        register()
    };
    requests.increment(1);
    duration.record(elapsed.as_secs_f64());
}

/// Counts a lifecycle event of a secret (`created`, `revealed`, `burned`) for a dialect.
pub fn secret_event(name: &'static str, dialect: &'static str) {
    counter!(name, "dialect" => dialect).increment(1);
}

/// Records one store operation.
pub fn store_operation(
    backend: &'static str,
    operation: &'static str,
    elapsed: Duration,
    ok: bool,
) {
    histogram!(STORE_DURATION, "backend" => backend, "operation" => operation)
        .record(elapsed.as_secs_f64());
    if !ok {
        counter!(STORE_ERRORS, "backend" => backend, "operation" => operation).increment(1);
    }
}

/// Records how many writes one group commit folded together.
pub fn store_batch(writes: usize) {
    histogram!(STORE_BATCH).record(writes as f64);
}

/// Records a read-cache lookup.
pub fn cache_lookup(cache: &'static str, hit: bool) {
    counter!(CACHE, "cache" => cache, "result" => if hit { "hit" } else { "miss" }).increment(1);
}

/// The method label of a request: the standard methods by name, any other (HTTP allows any
/// token) as `OTHER`, so a client cannot mint new series.
pub fn method_label(method: &str) -> &'static str {
    const METHODS: &[&str] = &[
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("OTHER")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of this process's threads.
    #[cfg(target_os = "linux")]
    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .expect("task list")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_owned())
            .collect()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_recorder_comes_with_its_upkeep_thread() {
        handle();
        handle();
        let upkeep = || -> Vec<String> {
            thread_names()
                .into_iter()
                .filter(|name| name == UPKEEP_THREAD)
                .collect()
        };
        // A new thread names itself once it runs: give it a moment.
        for _ in 0..100 {
            if !upkeep().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let upkeep = upkeep();
        assert_eq!(upkeep.len(), 1, "{upkeep:?}");
    }

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("DELETE"), "DELETE");
        assert_eq!(method_label("BREW"), "OTHER");
        assert_eq!(method_label("get"), "OTHER");
    }
}
