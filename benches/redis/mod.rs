//! Several nodes on Redis: create, reveal and status through one node on a real `redis-server`
//! (append-only file synced on every write, as the embedded store syncs each commit), then
//! through two nodes sharing it, against the floor measured around each scenario; with the CPU
//! burnbox and Redis each spend per request and the requests (round trips) the nodes sent Redis
//! per request, from their own counter.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{
    Figures, MakeRequest, Server, cpu_seconds_of, create_request, drive, pool, reveal_request,
    start_burnbox_with, status_request,
};

use burnbox_testkit::redis_servers::RedisServer;
use burnbox_testkit::s3::S3Server;

/// The key every node of the benchmark shares.
const SHARED_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// One scenario's row.
struct Row {
    figures: Figures,
    /// CPU seconds of both nodes per 1000 requests.
    burnbox_cpu_per_1k: f64,
    /// CPU seconds of Redis per 1000 requests.
    redis_cpu_per_1k: f64,
    /// Requests the nodes sent Redis per request.
    round_trips: f64,
}

/// A node on `redis` and the bucket of `s3` (which files would use: not measured here; a node
/// checks it at start).
async fn node(scratch: &Path, name: &str, redis: &RedisServer, s3: &S3Server) -> Server {
    let mut flags = vec!["--store".to_owned(), redis.url()];
    flags.extend(s3.flags());
    let mut env = vec![("BURNBOX_MASTER_KEY", SHARED_KEY)];
    env.extend(s3.env());
    start_burnbox_with(&scratch.join(name), &flags, &env).await
}

/// The requests `server` has sent Redis so far (`burnbox_redis_round_trips_total`).
async fn round_trips(server: &Server) -> f64 {
    let text = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix("burnbox_redis_round_trips_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Requests made by `a` and `b` in turn.
fn alternate(a: MakeRequest, b: MakeRequest) -> MakeRequest {
    Arc::new(move |client, n| {
        if n % 2 == 0 {
            a(client, n)
        } else {
            b(client, n)
        }
    })
}

/// Runs the Redis scenarios, the floor (`floor`, driven by `floor_request`) measured around
/// each; the section of `results/load.md` they make.
pub async fn section(
    scratch: &Path,
    duration: Duration,
    floor: &Server,
    floor_request: &MakeRequest,
) -> String {
    let floor_slice = || drive("floor", floor, duration / 2, Arc::clone(floor_request));
    let redis = RedisServer::start();
    let redis_pid = redis.pid().expect("redis runs").to_string();
    let s3 = S3Server::start().await;
    let a = node(scratch, "redis-a", &redis, &s3).await;
    let b = node(scratch, "redis-b", &redis, &s3).await;
    let keys = pool(&a).await;
    let scenarios: Vec<(&str, MakeRequest)> = vec![
        ("one node: create", create_request(&a.base)),
        (
            "one node: reveal",
            reveal_request(&a.base, Arc::clone(&keys)),
        ),
        (
            "one node: status",
            status_request(&a.base, Arc::clone(&keys)),
        ),
        (
            "two nodes: create",
            alternate(create_request(&a.base), create_request(&b.base)),
        ),
        (
            "two nodes: reveal",
            alternate(
                reveal_request(&a.base, Arc::clone(&keys)),
                reveal_request(&b.base, Arc::clone(&keys)),
            ),
        ),
    ];
    let mut rows = Vec::new();
    for (name, make) in scenarios {
        let before = floor_slice().await;
        let burnbox_before = a.cpu_seconds() + b.cpu_seconds();
        let redis_before = cpu_seconds_of(&redis_pid);
        let trips_before = round_trips(&a).await + round_trips(&b).await;
        let mut figures = drive(name, &a, duration, make).await;
        let requests = figures.requests.max(1) as f64;
        let row = Row {
            burnbox_cpu_per_1k: (a.cpu_seconds() + b.cpu_seconds() - burnbox_before) / requests
                * 1e3,
            redis_cpu_per_1k: (cpu_seconds_of(&redis_pid) - redis_before) / requests * 1e3,
            round_trips: (round_trips(&a).await + round_trips(&b).await - trips_before) / requests,
            figures: {
                let after = floor_slice().await;
                figures.floor_rps = (before.rps + after.rps) / 2.0;
                figures
            },
        };
        rows.push(row);
    }
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r.figures.errors > 0 || r.figures.requests == 0)
        .map(|r| r.figures.name.clone())
        .collect();
    assert!(
        failed.is_empty(),
        "Redis scenarios with failed requests: {failed:?}"
    );
    let mut out = String::from(
        "## Several nodes on Redis\n\nOne `redis-server` on loopback with `appendonly yes`, `appendfsync always`; nodes started with `--store redis://...`. `two nodes` sends the requests to two nodes in turn. `x floor` as above. CPU is per 1000 requests, burnbox's (both nodes) and Redis's apart; `trips/req` counts the nodes' waits on Redis per request (a command or script, or several sent at once and awaited together), the sweepers' included.\n\n| scenario | requests | errors | req/s | x floor | p50 ms | p99 ms | burnbox CPU s / 1000 | Redis CPU s / 1000 | trips/req |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for row in &rows {
        let f = &row.figures;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.3} | {:.3} | {:.2} |",
            f.name,
            f.requests,
            f.errors,
            f.rps,
            f.rps / f.floor_rps.max(1.0),
            f.p50_ms,
            f.p99_ms,
            row.burnbox_cpu_per_1k,
            row.redis_cpu_per_1k,
            row.round_trips
        );
    }
    out.push('\n');
    print!("{out}");
    out
}
