//! A flood of passphrase requests: 200 creates with a passphrase at once, then their views, against
//! a server whose argon2id runs wait for one of a few turns (`--passphrase-workers 1`) and, in the
//! same run, one that runs them all at once (`--passphrase-workers 1000`, the unbounded
//! baseline). What each server's resident memory grew by, at its peak and once the flood is over,
//! and how many requests were answered or refused with 503.
//!
//! `cargo bench --bench load -- passphrase-flood` runs it alone and writes
//! `benches/results/passphrase-flood.md`.

use std::fmt::Write as _;
use std::path::Path;

use futures_util::future::join_all;
use serde_json::{Value, json};

use super::{Server, machine, start_burnbox_with};

/// Requests in each flood.
const FLOOD: usize = 200;
/// The passphrase every flooded secret takes.
const PASSPHRASE: &str = "open sesame";

/// What one server did under the flood.
struct Flooded {
    workers: &'static str,
    created: usize,
    refused: usize,
    baseline_mib: f64,
    peak_growth_mib: f64,
    settled_growth_mib: f64,
}

/// A passphrase create: its secret key, or `None` for a refusal (503).
async fn create(client: &reqwest::Client, server: &Server, i: usize) -> Option<String> {
    let response = client
        .post(format!("{}/api/secrets", server.base))
        .json(&json!({"secret": format!("flooded {i}"), "passphrase": PASSPHRASE}))
        .send()
        .await
        .expect("the server answers");
    if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    assert!(response.status().is_success(), "{}", response.status());
    let body: Value = response.json().await.expect("json");
    body["metadata"]["secretKey"].as_str().map(str::to_owned)
}

/// A passphrase view; whether it was answered (not refused with 503).
async fn view(client: &reqwest::Client, server: &Server, key: &str) -> bool {
    let response = client
        .post(format!("{}/api/secrets/{key}", server.base))
        .json(&json!({"passphrase": PASSPHRASE}))
        .send()
        .await
        .expect("the server answers");
    response.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE
}

/// Floods one server started with `--passphrase-workers workers`.
async fn flood(scratch: &Path, workers: &'static str) -> Flooded {
    let flags = [
        "--passphrase-workers".to_owned(),
        workers.to_owned(),
        "--passphrase-wait-secs".to_owned(),
        "1".to_owned(),
    ];
    let server = start_burnbox_with(&scratch.join(format!("flood-{workers}")), &flags, &[]).await;
    let client = reqwest::Client::new();
    // Warm up: one passphrase create and view, so the baseline holds what any use allocates.
    let warm = create(&client, &server, 0).await.expect("a lone create");
    assert!(view(&client, &server, &warm).await, "a lone view");
    let baseline_mib = server.rss_mib();
    let created: Vec<String> = join_all((0..FLOOD).map(|i| create(&client, &server, i)))
        .await
        .into_iter()
        .flatten()
        .collect();
    let viewed = join_all(created.iter().map(|key| view(&client, &server, key))).await;
    let refused = (FLOOD - created.len()) + viewed.iter().filter(|answered| !**answered).count();
    let peak_growth_mib = server.peak_rss_mib() - baseline_mib;
    let settled_growth_mib = server.rss_mib() - baseline_mib;
    Flooded {
        workers,
        created: created.len(),
        refused,
        baseline_mib,
        peak_growth_mib,
        settled_growth_mib,
    }
}

/// Runs the flood against the bounded server and the unbounded baseline; returns the report.
pub async fn report(scratch: &Path) -> String {
    let bounded = flood(scratch, "1").await;
    let unbounded = flood(scratch, "1000").await;
    let mut rows = String::new();
    for flooded in [&bounded, &unbounded] {
        let _ = writeln!(
            rows,
            "| {} | {} | {} | {:.0} | {:.0} | {:.2} | {:.0} |",
            flooded.workers,
            flooded.created,
            flooded.refused,
            flooded.baseline_mib,
            flooded.peak_growth_mib,
            flooded.peak_growth_mib / unbounded.peak_growth_mib.max(1.0),
            flooded.settled_growth_mib,
        );
    }
    format!(
        "# Passphrase flood\n\nWritten by `cargo bench --bench load -- passphrase-flood`: {FLOOD} creates with a passphrase at once, then a view of each one created, against the release binary with `--passphrase-workers 1 --passphrase-wait-secs 1` (each argon2id run takes ~19 MiB; the rest wait a second for a turn, then get 503) and, in the same run, the unbounded baseline `--passphrase-workers 1000`. Growth is over the server's resident memory after one warm-up create and view: at its peak (`VmHWM`) and once the flood is over (`VmRSS`). `x unbounded` is the peak growth over the baseline's.\n\n{}\n| passphrase workers | creates answered | requests refused (503) | baseline RSS MiB | peak growth MiB | x unbounded | settled growth MiB |\n| --- | --- | --- | --- | --- | --- | --- |\n{rows}",
        machine()
    )
}
