//! The soak: the mixed load (1 create : 1 reveal : 2 status) at 64 connections against the
//! release binary for `BURNBOX_SOAK_MINUTES` minutes (default 10), one row per minute: requests,
//! errors, latency quantiles, and the server's resident memory and open file descriptors, so a
//! leak, a slow drift or a stall shows in the minute it happened.
//!
//! `cargo bench --bench load -- soak` runs it alone and writes `benches/results/soak.md`;
//! `cargo bench --bench load -- create-runs` runs ten 6-second runs of creates alone, one row each,
//! so a stall in one short run shows as that run's outlier (`benches/results/create-runs.md`).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{Server, create_request, drive, machine, mix_request, pool_of, start_burnbox};

/// Secrets the reveals cycle through: 999 views each, far more than ten minutes of reveals take.
const SOAK_POOL: usize = 6000;

/// Open file descriptors of `server`.
fn open_fds(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.pid())).map_or(0, Iterator::count)
}

/// Runs the soak and returns its report.
pub async fn section(scratch: &Path) -> String {
    let minutes: u32 = std::env::var("BURNBOX_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10);
    let server = start_burnbox(&scratch.join("soak")).await;
    let keys = pool_of(&server, SOAK_POOL).await;
    let mut rows = String::new();
    let mut errors = 0;
    for minute in 1..=minutes {
        let make = mix_request(&server.base, Arc::clone(&keys));
        let figures = drive("soak", &server, Duration::from_secs(60), make).await;
        errors += figures.errors;
        let row = format!(
            "| {minute} | {} | {:.0} | {} |",
            figures.run_cells(),
            server.rss_mib(),
            open_fds(&server),
        );
        println!("{row}");
        let _ = writeln!(rows, "{row}");
    }
    assert_eq!(errors, 0, "the soak saw failed requests");
    format!(
        "# Soak\n\nWritten by `cargo bench --bench load -- soak`: the mix (1 create : 1 reveal : 2 status) at 64 connections for {minutes} minutes against the release binary on the embedded store, one row per minute (each minute's workers open new connections). RSS and open file descriptors are the server's at the end of the minute.\n\n{}\n| minute | requests | errors | req/s | p50 ms | p99 ms | p99.9 ms | RSS MiB | open fds |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n{rows}\n",
        machine()
    )
}

/// Runs of creates and the seconds each lasts.
const CREATE_RUNS: u32 = 10;
const CREATE_RUN_SECS: u64 = 6;

/// Runs creates at 64 connections in [`CREATE_RUNS`] runs of [`CREATE_RUN_SECS`] seconds on one
/// server and returns their report: one row per run.
pub async fn create_runs_section(scratch: &Path) -> String {
    let server = start_burnbox(&scratch.join("create-runs")).await;
    let mut rows = String::new();
    for run in 1..=CREATE_RUNS {
        let make = create_request(&server.base);
        let figures = drive(
            "create",
            &server,
            Duration::from_secs(CREATE_RUN_SECS),
            make,
        )
        .await;
        let row = format!("| {run} | {} |", figures.run_cells());
        println!("{row}");
        let _ = writeln!(rows, "{row}");
    }
    format!(
        "# Create runs\n\nWritten by `cargo bench --bench load -- create-runs`: creates (100-byte texts) at 64 connections against the release binary on the embedded store (every create fsynced before its answer), in {CREATE_RUNS} runs of {CREATE_RUN_SECS} seconds one after another on one server, each opening new connections: how far the tail moves from one short run to the next.\n\n{}\n| run | requests | errors | req/s | p50 ms | p99 ms | p99.9 ms |\n| --- | --- | --- | --- | --- | --- | --- |\n{rows}\n",
        machine()
    )
}
