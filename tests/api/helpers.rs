//! Starting burnbox for a test: in-process on a loopback port ([`spawn_app`]) or as the real
//! binary in its own process ([`ServerProcess`]), and one method per endpoint.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use burnbox::app::Application;
use burnbox::config::Settings;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// One method per endpoint, against a server at `base`.
#[derive(Clone)]
pub struct ApiClient {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A keep-alive client.
    pub client: Client,
}

/// A server running in this test process, on its own port and data directory.
pub struct TestApp {
    /// The endpoints of this server.
    pub api: ApiClient,
    /// The data directory (deleted when the test ends).
    pub data_dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// A server with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server that lets this one test process hold hundreds of connections at once (a race of
/// many requests opens one each).
pub async fn spawn_app_for_races() -> TestApp {
    spawn_app_with(|settings| settings.connections.per_client = 1024).await
}

/// A server with settings adjusted by `tune`.
pub async fn spawn_app_with(tune: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("temp dir"), tune).await
}

/// A server over an existing data directory (a restart), with settings adjusted by `tune`.
pub async fn spawn_app_in(data_dir: TempDir, tune: impl FnOnce(&mut Settings)) -> TestApp {
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let mut settings =
        Settings::for_data_dir(listen, data_dir.path()).expect("the defaults resolve");
    // Most tests exercise the engine, not quotas: no rate limits, and anonymous callers get the
    // API tier's limits. Tests of tiers and quotas set them back in `tune`.
    settings.rate_limits = false;
    settings.tiers.anonymous = settings.tiers.api;
    tune(&mut settings);
    let app = Application::build(settings).await.expect("server builds");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until_stopped(async move {
            let _ = stopped.await;
        })
        .await;
    });
    TestApp {
        api: ApiClient {
            base,
            client: Client::new(),
        },
        data_dir,
        stop: Some(stop),
        task: Some(task),
    }
}

impl std::ops::Deref for TestApp {
    type Target = ApiClient;

    fn deref(&self) -> &ApiClient {
        &self.api
    }
}

/// The value of one series in Prometheus text, by name and exact label set.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
}

impl ApiClient {
    /// `GET /metrics`: the Prometheus text.
    pub async fn scrape(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text")
    }

    /// `POST /api/secrets` with a JSON body.
    pub async fn create(&self, body: &Value) -> Response {
        self.client
            .post(format!("{}/api/secrets", self.base))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// `POST /api/secrets`, asserting success; returns the body.
    pub async fn create_ok(&self, body: &Value) -> Value {
        let response = self.create(body).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json body")
    }

    /// `GET /api/secrets/{key}`.
    pub async fn status(&self, key: &str) -> Response {
        self.client
            .get(format!("{}/api/secrets/{key}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// `POST /api/secrets/{key}`, with a JSON body when given.
    pub async fn view(&self, key: &str, body: Option<&Value>) -> Response {
        let request = self.client.post(format!("{}/api/secrets/{key}", self.base));
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        request.send().await.expect("request")
    }

    /// `POST {path}` with `body` sent as `content_type`, whatever it holds.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// `{method} {path}` without a body: the status, the `X-Request-Id` header and the JSON body.
    pub async fn bodiless_json(&self, method: &str, path: &str) -> (StatusCode, String, Value) {
        let response = self
            .client
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.base),
            )
            .send()
            .await
            .expect("request");
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .expect("id")
            .to_owned();
        let (status, body) = status_and_json(response).await;
        (status, request_id, body)
    }

    /// `DELETE /api/secrets/{key}`.
    pub async fn burn(&self, key: &str) -> Response {
        self.client
            .delete(format!("{}/api/secrets/{key}", self.base))
            .send()
            .await
            .expect("request")
    }
}

/// How a v1 request carries its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-www-form-urlencoded` body.
    Form,
    /// `application/json` body.
    Json,
    /// Query string, empty body.
    Query,
}

/// Every encoding, for tests that try each.
pub const ENCODINGS: [Encoding; 3] = [Encoding::Form, Encoding::Json, Encoding::Query];

impl ApiClient {
    /// `POST /api/v1/{path}` with `params` carried as `encoding` says.
    pub async fn v1_post(
        &self,
        path: &str,
        encoding: Encoding,
        params: &[(&str, &str)],
    ) -> Response {
        let request = self.client.post(format!("{}/api/v1/{path}", self.base));
        let request = match encoding {
            Encoding::Form => request.form(params),
            Encoding::Json => {
                let object: serde_json::Map<String, Value> = params
                    .iter()
                    .map(|(k, v)| {
                        // Numbers go as JSON numbers, as a JSON client sends them.
                        let value = v
                            .parse::<i64>()
                            .map_or_else(|_| Value::from(*v), Value::from);
                        ((*k).to_owned(), value)
                    })
                    .collect();
                request.json(&object)
            }
            Encoding::Query => request.query(params),
        };
        request.send().await.expect("request")
    }

    /// `GET /api/v1/{path}`.
    pub async fn v1_get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}/api/v1/{path}", self.base))
            .send()
            .await
            .expect("request")
    }
}

impl TestApp {
    /// Stops the server gracefully and hands back its data directory.
    pub async fn stop(mut self) -> TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
        // Take the directory out without running Drop's cleanup.
        std::mem::replace(&mut self.data_dir, tempfile::tempdir().expect("temp dir"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The secret key and metadata key of a create response.
pub fn keys(created: &Value) -> (String, String) {
    let secret = created["metadata"]["secretKey"]
        .as_str()
        .expect("secretKey")
        .to_owned();
    let metadata = created["metadata"]["key"].as_str().expect("key").to_owned();
    (secret, metadata)
}

/// Status and JSON body of a response.
pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("json body");
    (status, body)
}

/// The real `burnbox` binary running in its own process.
pub struct ServerProcess {
    child: tokio::process::Child,
    /// The endpoints of this server.
    pub api: ApiClient,
}

impl ServerProcess {
    /// Starts the binary on a free port over `data_dir`, with `extra` flags.
    pub async fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_logging(data_dir, extra, None).await
    }

    /// Like [`Self::start`], logging at debug level (JSON) into `log` when given.
    pub async fn start_logging(data_dir: &Path, extra: &[&str], log: Option<&Path>) -> Self {
        Self::launch(data_dir, extra, log, &[], None).await
    }

    /// Like [`Self::start_logging`] at the most verbose level (`RUST_LOG=trace`: every crate's
    /// every event), with extra environment variables.
    pub async fn start_tracing(
        data_dir: &Path,
        extra: &[&str],
        log: &Path,
        env: &[(&str, &str)],
    ) -> Self {
        let mut env = env.to_vec();
        env.push(("RUST_LOG", "trace"));
        Self::launch(data_dir, extra, Some(log), &env, None).await
    }

    /// Like [`Self::start`], with extra environment variables.
    pub async fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::launch(data_dir, extra, None, env, None).await
    }

    /// Like [`Self::start_logging`], started by a shell whose umask is `umask`.
    pub async fn start_under_umask(
        data_dir: &Path,
        extra: &[&str],
        log: Option<&Path>,
        umask: u32,
    ) -> Self {
        Self::launch(data_dir, extra, log, &[], Some(umask)).await
    }

    async fn launch(
        data_dir: &Path,
        extra: &[&str],
        log: Option<&Path>,
        env: &[(&str, &str)],
        umask: Option<u32>,
    ) -> Self {
        let (level, stderr) = match log {
            Some(path) => (
                "debug",
                Stdio::from(std::fs::File::create(path).expect("log file")),
            ),
            None => ("warn", Stdio::inherit()),
        };
        let binary = env!("CARGO_BIN_EXE_burnbox");
        let mut command = match umask {
            None => tokio::process::Command::new(binary),
            Some(umask) => {
                let mut shell = tokio::process::Command::new("sh");
                shell
                    .arg("-c")
                    .arg(format!("umask {umask:03o}; exec \"$0\" \"$@\""))
                    .arg(binary);
                shell
            }
        };
        let mut child = command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--no-rate-limits",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            .env_remove("BURNBOX_MASTER_KEY")
            .env("RUST_LOG", level)
            .env("BURNBOX_LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("burnbox binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("server announces its address in time")
            .expect("stdout readable")
            .expect("a line on stdout");
        let base = line
            .strip_prefix("burnbox listening on ")
            .expect("listening line")
            .to_owned();
        Self {
            child,
            api: ApiClient {
                base,
                client: Client::new(),
            },
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Kills the process with SIGKILL (no chance to clean up) and waits for it.
    pub async fn kill_hard(&mut self) {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub async fn terminate(&mut self) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("exits after SIGTERM")
            .expect("wait");
        assert!(exit.success(), "clean exit, got {exit:?}");
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).expect("readable dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Opens the embedded store of a stopped server, waiting for the file to be released.
pub async fn open_stopped_store(dir: &Path) -> burnbox::storage::EmbeddedStore {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        // The records' key comes from the data directory's master key, as the server's did.
        let master = burnbox::crypto::MasterKeys::load_or_create(
            None,
            &dir.join(burnbox::crypto::master_key::KEY_FILE_NAME),
        )
        .expect("master key");
        let auth = burnbox::crypto::RecordAuth::from_keys(&master);
        match burnbox::storage::EmbeddedStore::open(dir, auth) {
            Ok(store) => return store,
            Err(err) if tokio::time::Instant::now() > deadline => {
                panic!("store stays locked: {err}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// How many records a stopped server's store holds (every record has one expiry-index entry).
pub async fn stored_records(dir: &Path) -> usize {
    use burnbox::storage::SecretStore;
    let store = open_stopped_store(dir).await;
    store
        .due(
            burnbox::domain::Timestamp::from_millis(u64::MAX),
            usize::MAX,
        )
        .await
        .expect("scan")
        .len()
}

/// Eight writers creating secrets as fast as they can against `base`, keeping every create the
/// server acknowledged (secret key, text). A writer stops at its first failed request.
pub struct CreateBurst {
    acknowledged: std::sync::Arc<tokio::sync::Mutex<Vec<(String, String)>>>,
    running: std::sync::Arc<std::sync::atomic::AtomicBool>,
    writers: Vec<JoinHandle<()>>,
}

impl CreateBurst {
    /// Starts the writers.
    pub fn start(base: &str) -> Self {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let acknowledged = Arc::new(tokio::sync::Mutex::new(Vec::new()));
        let running = Arc::new(AtomicBool::new(true));
        let writers = (0..8)
            .map(|writer| {
                let url = format!("{base}/api/secrets");
                let (acknowledged, running) = (Arc::clone(&acknowledged), Arc::clone(&running));
                tokio::spawn(async move {
                    let client = Client::new();
                    let mut n = 0;
                    while running.load(Ordering::Relaxed) {
                        n += 1;
                        let text = format!("burst {writer}-{n}");
                        let body = serde_json::json!({ "secret": text });
                        let Ok(response) = client.post(&url).json(&body).send().await else {
                            return;
                        };
                        if response.status() != StatusCode::OK {
                            return;
                        }
                        // A server that dies while answering has not acknowledged the create.
                        let Ok(created) = response.json::<Value>().await else {
                            return;
                        };
                        acknowledged.lock().await.push((keys(&created).0, text));
                    }
                })
            })
            .collect();
        Self {
            acknowledged,
            running,
            writers,
        }
    }

    /// Waits until `count` creates were acknowledged (or 30 s passed).
    pub async fn wait_for(&self, count: usize) {
        let started = tokio::time::Instant::now();
        while self.acknowledged.lock().await.len() < count
            && started.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the writers; every acknowledged create.
    pub async fn stop(self) -> Vec<(String, String)> {
        self.running
            .store(false, std::sync::atomic::Ordering::Relaxed);
        for writer in self.writers {
            writer.await.expect("writer");
        }
        self.acknowledged.lock().await.clone()
    }
}

/// Runs `promtool check <what> <file>` and fails the test with its output unless it passes.
pub fn promtool_check(what: &str, file: &Path) {
    let checked = std::process::Command::new(tool("promtool"))
        .args(["check", what])
        .arg(file)
        .output()
        .expect("promtool runs");
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The path of a program the tests need, or a loud failure that says how to install it.
pub fn tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed: run `apt-get install prometheus` (ops/test.sh does)")
        })
}
