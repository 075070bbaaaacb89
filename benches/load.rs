//! The load benchmark: the real `burnbox` binary on a loopback port against the floor (the same
//! poem server stack answering a no-op JSON handler), measured in the same run.
//!
//! `cargo bench --bench load` runs it in full and writes `benches/results/load.md` and
//! `benches/results/files.md`, each whole; `cargo test` runs it as a one-second smoke test. `BURNBOX_BENCH_SECS` sets the seconds per scenario (default 10),
//! `BURNBOX_BENCH_MILLION=1` adds the 1 M live secrets level (minutes of preloading);
//! `BURNBOX_BENCH_ARGS` adds flags to every burnbox started (`--store memory` to take the disk out
//! of a comparison); `BURNBOX_BENCH_SKIP_FILES=1` skips the file scenarios
//! (`files.md` is left as it is), `BURNBOX_BENCH_ONLY_FILES=1` runs only them. The Redis
//! scenarios start Debian's `redis-server` (`BURNBOX_REDIS_SERVER` to name another).
//! `cargo bench --bench load -- soak`, `-- create-runs` (`benches/soak/mod.rs`) and
//! `-- passphrase-flood` (`benches/flood/mod.rs`) run those alone, each writing its own file in
//! `benches/results/`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use burnbox::crypto::{Keyring, MasterKeys};
use burnbox::domain::ViewLimit;
use burnbox::storage::{EmbeddedStore, SecretStore};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

mod common;
mod files;
mod flood;
mod redis;
mod soak;
use common::live_record;

/// The allocator burnbox runs with, so the floor and the load generator are measured on it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Concurrent connections of every scenario.
const CONNECTIONS: usize = 64;
/// Secrets the reveal and status scenarios cycle through.
const POOL: usize = 2000;

/// What one scenario measured.
#[derive(Debug, Clone)]
struct Figures {
    name: String,
    /// The floor's requests/s measured right before and right after this scenario (the machine's
    /// speed drifts between scenarios; the ratio is taken against its neighbours).
    floor_rps: f64,
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    cpu_s_per_1k: f64,
}

impl Figures {
    /// Requests, errors, req/s, p50, p99 and p99.9 as cells of a results table row.
    fn run_cells(&self) -> String {
        format!(
            "{} | {} | {:.0} | {:.2} | {:.1} | {:.1}",
            self.requests, self.errors, self.rps, self.p50_ms, self.p99_ms, self.p999_ms
        )
    }
}

/// A server process under test.
struct Server {
    child: tokio::process::Child,
    base: String,
}

impl Server {
    async fn start(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("server starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = lines
            .next_line()
            .await
            .expect("stdout")
            .expect("a first line");
        let base = line
            .rsplit_once(' ')
            .map(|(_, url)| url.to_owned())
            .expect("listening line");
        Self { child, base }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// User plus system CPU seconds the process used so far.
    fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(&self.pid().to_string())
    }

    /// Resident memory in MiB.
    fn rss_mib(&self) -> f64 {
        self.memory_mib("VmRSS:")
    }

    /// The most resident memory the process ever had, in MiB.
    fn peak_rss_mib(&self) -> f64 {
        self.memory_mib("VmHWM:")
    }

    fn memory_mib(&self, field: &str) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

/// User plus system CPU seconds process `pid` (a number, or `self`) used so far; 0 when it is gone.
fn cpu_seconds_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// One request of a scenario, by its sequence number.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// Runs `make` from `CONNECTIONS` workers for `duration`.
async fn drive(name: &str, server: &Server, duration: Duration, make: MakeRequest) -> Figures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .expect("client");
    let counter = Arc::new(AtomicUsize::new(0));
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, counter, make) = (client.clone(), Arc::clone(&counter), Arc::clone(&make));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while started.elapsed() < duration {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    match make(&client, n).send().await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            latencies.push(sent.elapsed().as_micros() as u64);
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mine, failed) = worker.await.expect("worker");
        latencies.extend(mine);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = server.cpu_seconds() - cpu_before;
    latencies.sort_unstable();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    let requests = latencies.len();
    Figures {
        name: name.to_owned(),
        floor_rps: 0.0,
        requests,
        errors,
        rps: requests as f64 / elapsed,
        p50_ms: quantile(0.5),
        p99_ms: quantile(0.99),
        p999_ms: quantile(0.999),
        cpu_s_per_1k: if requests == 0 {
            0.0
        } else {
            cpu / requests as f64 * 1000.0
        },
    }
}

/// The floor: poem answering a no-op JSON handler, in a process of its own (this binary, run
/// with the argument `floor-server`).
fn run_floor_server() {
    use poem::listener::{Acceptor, Listener, TcpListener};
    use poem::web::Json;
    use poem::{Route, Server, handler, post};

    #[handler]
    fn noop(body: Json<Value>) -> Json<Value> {
        Json(json!({"success": true, "echo": body.0.is_object()}))
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("address");
        println!("floor listening on http://{addr}");
        let _ = Server::new_with_acceptor(acceptor)
            .run(Route::new().at("/noop", post(noop)))
            .await;
    });
}

/// Stores `count` live secrets straight into a data directory before its server starts.
async fn preload(data_dir: &Path, count: usize) {
    if count == 0 {
        return;
    }
    let master = MasterKeys::load_or_create(
        None,
        &data_dir.join(burnbox::crypto::master_key::KEY_FILE_NAME),
    )
    .expect("master key");
    let keyring = Arc::new(Keyring::from_keys(&master));
    let store: Arc<dyn SecretStore> = Arc::new(
        EmbeddedStore::open(data_dir, burnbox::crypto::RecordAuth::from_keys(&master))
            .expect("store"),
    );
    let tasks: Vec<_> = (0..256)
        .map(|task| {
            let (keyring, store) = (Arc::clone(&keyring), Arc::clone(&store));
            tokio::spawn(async move {
                for _ in (task..count).step_by(256) {
                    let (_, id, meta, content) = live_record(&keyring, ViewLimit::Limited(1));
                    store.insert(id, meta, content).await.expect("insert");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("preload task");
    }
}

/// Starts burnbox over `data_dir` with quotas off and every tier allowed 999 views and 50 MB.
async fn start_burnbox(data_dir: &Path) -> Server {
    start_burnbox_with(data_dir, &[], &[]).await
}

/// [`start_burnbox`] with extra flags and environment.
async fn start_burnbox_with(data_dir: &Path, extra: &[String], env: &[(&str, &str)]) -> Server {
    let config = data_dir.with_extension("toml");
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/burnbox.example.toml"),
    )
    .expect("example");
    std::fs::write(
        &config,
        example
            .replacen("max_views = 10", "max_views = 999", 1)
            .replacen(
                "max_secret_bytes = 1000000",
                "max_secret_bytes = 50000000",
                1,
            ),
    )
    .expect("config");
    let data = data_dir.to_str().expect("utf-8 path");
    let config = config.to_str().expect("utf-8 path");
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--no-rate-limits",
        // Every load connection comes from this one address.
        "--max-connections-per-client",
        "4096",
        "--data-dir",
        data,
        "--config",
        config,
    ];
    args.extend(extra.iter().map(String::as_str));
    let from_env = std::env::var("BURNBOX_BENCH_ARGS").unwrap_or_default();
    args.extend(from_env.split_whitespace());
    Server::start(Path::new(env!("CARGO_BIN_EXE_burnbox")), &args, env).await
}

/// Creates the pool the reveal and status scenarios cycle through: (secret key, receipt key).
async fn pool(server: &Server) -> Arc<Vec<(String, String)>> {
    pool_of(server, POOL).await
}

/// Creates a pool of `size` secrets of 999 views each: (secret key, receipt key).
async fn pool_of(server: &Server, size: usize) -> Arc<Vec<(String, String)>> {
    let client = reqwest::Client::new();
    let mut keys = Vec::with_capacity(size);
    for n in 0..size {
        let body: Value = client
            .post(format!("{}/api/secrets", server.base))
            .json(&json!({"secret": format!("pool secret {n}"), "maxViews": 999}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        keys.push((
            body["metadata"]["secretKey"]
                .as_str()
                .expect("key")
                .to_owned(),
            body["metadata"]["key"].as_str().expect("key").to_owned(),
        ));
    }
    Arc::new(keys)
}

fn secret_text() -> String {
    "s".repeat(100)
}

fn create_request(base: &str) -> MakeRequest {
    let url = format!("{base}/api/secrets");
    Arc::new(move |client, _| client.post(&url).json(&json!({"secret": secret_text()})))
}

fn reveal_request(base: &str, keys: Arc<Vec<(String, String)>>) -> MakeRequest {
    let base = base.to_owned();
    Arc::new(move |client, n| client.post(format!("{base}/api/secrets/{}", keys[n % keys.len()].0)))
}

fn status_request(base: &str, keys: Arc<Vec<(String, String)>>) -> MakeRequest {
    let base = base.to_owned();
    Arc::new(move |client, n| client.get(format!("{base}/api/secrets/{}", keys[n % keys.len()].1)))
}

fn mix_request(base: &str, keys: Arc<Vec<(String, String)>>) -> MakeRequest {
    let (create, reveal, status) = (
        create_request(base),
        reveal_request(base, Arc::clone(&keys)),
        status_request(base, keys),
    );
    // Each kind gets its own sequence (n / 4, n / 2), so it walks the whole pool, not the quarter
    // of it whose index matches its place in the mix.
    Arc::new(move |client, n| match n % 4 {
        0 => create(client, n),
        1 => reveal(client, n / 4),
        _ => status(client, n / 2),
    })
}

fn table(rows: &[Figures]) -> String {
    let mut out = String::from(
        "| scenario | requests | errors | req/s | floor req/s around it | x floor | p50 ms | p99 ms | p99.9 ms | CPU s / 1000 req |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for f in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} |",
            f.name,
            f.requests,
            f.errors,
            f.rps,
            f.floor_rps,
            f.rps / f.floor_rps,
            f.p50_ms,
            f.p99_ms,
            f.p999_ms,
            f.cpu_s_per_1k
        );
    }
    out
}

/// Rounds of the growth comparison (each level serves a half-scenario slice per round).
const GROWTH_ROUNDS: usize = 3;

/// One scenario's slices at one level, summed over the rounds.
#[derive(Default)]
struct Slices {
    requests: usize,
    seconds: f64,
    worst_p99_ms: f64,
}

impl Slices {
    fn add(&mut self, figures: &Figures) {
        assert_eq!(figures.errors, 0, "{}: failed requests", figures.name);
        self.requests += figures.requests;
        if figures.requests > 0 {
            self.seconds += figures.requests as f64 / figures.rps;
        }
        self.worst_p99_ms = self.worst_p99_ms.max(figures.p99_ms);
    }

    fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Create and reveal at one level of live secrets.
struct Growth {
    level: usize,
    create: Slices,
    reveal: Slices,
    rss_mib: f64,
}

impl Growth {
    fn new(level: usize) -> Self {
        Self {
            level,
            create: Slices::default(),
            reveal: Slices::default(),
            rss_mib: 0.0,
        }
    }
}

/// The growth table: each level's throughput, and over the empty store's.
fn growth_table(levels: &[Growth]) -> String {
    let mut out = String::from(
        "| live secrets stored | create req/s | create vs empty | create p99 ms (worst round) | reveal req/s | reveal vs empty | reveal p99 ms (worst round) | server RSS MiB after |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let Some(empty) = levels.first() else {
        return out;
    };
    for growth in levels {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.0} |",
            growth.level,
            growth.create.rps(),
            growth.create.rps() / empty.create.rps(),
            growth.create.worst_p99_ms,
            growth.reveal.rps(),
            growth.reveal.rps() / empty.reveal.rps(),
            growth.reveal.worst_p99_ms,
            growth.rss_mib,
        );
    }
    out
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "- machine: {cores} cores, {cpu}\n- date: {date}\n- commit: {commit}\n- connections: {CONNECTIONS}, keep-alive; load generator in the same machine\n"
    )
}

async fn run(full: bool) {
    let secs: u64 = std::env::var("BURNBOX_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 10 } else { 1 });
    let duration = Duration::from_secs(secs);
    let scratch = tempfile::tempdir().expect("temp dir");
    if std::env::var_os("BURNBOX_BENCH_ONLY_FILES").is_some() {
        write_results("files.md", &files::section(scratch.path()).await);
        return;
    }

    let floor = Server::start(
        &std::env::current_exe().expect("bench binary"),
        &["floor-server"],
        &[],
    )
    .await;
    let floor_url = format!("{}/noop", floor.base);
    let floor_request: MakeRequest = Arc::new(move |client, _| {
        client
            .post(&floor_url)
            .json(&json!({"secret": secret_text()}))
    });
    let floor_slice = || drive("floor", &floor, duration / 2, Arc::clone(&floor_request));
    let mut floor_figures = drive(
        "floor (poem, no-op JSON)",
        &floor,
        duration,
        Arc::clone(&floor_request),
    )
    .await;
    floor_figures.floor_rps = floor_figures.rps;

    let data = scratch.path().join("main");
    let server = start_burnbox(&data).await;
    let keys = pool(&server).await;
    let mut rows = vec![floor_figures.clone()];
    let scenarios: [(&str, MakeRequest); 4] = [
        ("create (100-byte secret)", create_request(&server.base)),
        ("reveal", reveal_request(&server.base, Arc::clone(&keys))),
        ("status", status_request(&server.base, Arc::clone(&keys))),
        (
            "mix 1 create : 1 reveal : 2 status",
            mix_request(&server.base, Arc::clone(&keys)),
        ),
    ];
    for (name, make) in scenarios {
        // The floor right before and right after, so a drift of the machine's speed during the
        // run moves both sides of the ratio.
        let before = floor_slice().await;
        let mut row = drive(name, &server, duration, make).await;
        let after = floor_slice().await;
        row.floor_rps = (before.rps + after.rps) / 2.0;
        rows.push(row);
    }
    let rss_main = server.rss_mib();
    drop(server);
    print!("{}", table(&rows));
    let redis_section = redis::section(scratch.path(), duration, &floor, &floor_request).await;
    drop(floor);
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r.errors > 0 || r.requests == 0)
        .map(|r| r.name.as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "scenarios with failed requests: {failed:?}"
    );
    if !full {
        println!("smoke run done: {} scenarios", rows.len());
        return;
    }

    let mut levels = vec![0usize, 100_000];
    if std::env::var_os("BURNBOX_BENCH_MILLION").is_some() {
        levels.push(1_000_000);
    }
    // Every level's server runs side by side and they take turns, a slice each per round: the
    // levels are compared over the same minutes, so the machine's drift (larger here than what
    // the store's size does) falls on all of them alike.
    let mut servers = Vec::new();
    for level in levels {
        let data = scratch.path().join(format!("level-{level}"));
        std::fs::create_dir_all(&data).expect("dir");
        preload(&data, level).await;
        let server = start_burnbox(&data).await;
        let keys = pool(&server).await;
        servers.push((level, server, keys));
    }
    let slice = duration / 2;
    let mut measured: Vec<Growth> = servers
        .iter()
        .map(|(level, ..)| Growth::new(*level))
        .collect();
    for _ in 0..GROWTH_ROUNDS {
        for ((_, server, _), growth) in servers.iter().zip(&mut measured) {
            let figures = drive("create", server, slice, create_request(&server.base)).await;
            growth.create.add(&figures);
        }
        for ((_, server, keys), growth) in servers.iter().zip(&mut measured) {
            let figures = drive(
                "reveal",
                server,
                slice,
                reveal_request(&server.base, Arc::clone(keys)),
            )
            .await;
            growth.reveal.add(&figures);
        }
    }
    for ((_, server, _), growth) in servers.iter().zip(&mut measured) {
        growth.rss_mib = server.rss_mib();
    }
    drop(servers);
    let growth = growth_table(&measured);
    if std::env::var_os("BURNBOX_BENCH_SKIP_FILES").is_none() {
        write_results("files.md", &files::section(scratch.path()).await);
    }
    let report = format!(
        "# burnbox load benchmark\n\nWritten by `cargo bench --bench load` ({secs} s per scenario).\n\n{}\n## Against the floor\n\n`x floor` divides by the floor's requests/s measured right before and right after each scenario (half a scenario's time each), so a drift of the machine's speed during the run moves both sides.\n\n{}\nServer RSS after these runs: {rss_main:.0} MiB.\n\n{redis_section}## Growth\n\nCreate and reveal with secrets already stored (preloaded straight into the store). The levels' servers run side by side and take turns: {GROWTH_ROUNDS} rounds, each giving every level a slice of half a scenario's time for creates, then one for reveals; `vs empty` is the level's requests/s over the empty store's, summed over the rounds. Every level grows by the secrets its create slices add (tens of thousands per round), the empty one too.\n\n{growth}",
        machine(),
        table(&rows)
    );
    write_results("load.md", &report);
    println!("\n{growth}");
}

/// Writes `text` as `benches/results/<name>`, whole.
fn write_results(name: &str, text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/results")
        .join(name);
    std::fs::write(&path, text).expect("write results");
    println!("wrote {}", path.display());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "floor-server") {
        run_floor_server();
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let alone = ["soak", "create-runs", "passphrase-flood"]
        .into_iter()
        .find(|name| args.iter().any(|a| a == name));
    if let (true, Some(name)) = (full, alone) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let scratch = tempfile::tempdir().expect("temp dir");
            match name {
                "soak" => write_results("soak.md", &soak::section(scratch.path()).await),
                "create-runs" => write_results(
                    "create-runs.md",
                    &soak::create_runs_section(scratch.path()).await,
                ),
                _ => write_results("passphrase-flood.md", &flood::report(scratch.path()).await),
            }
        });
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(full));
}
