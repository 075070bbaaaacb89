//! The crash suite: twenty times, the real binary serves a mixed load (creates, reveals of
//! multi-view secrets, burns, file uploads and downloads) and is killed with SIGKILL at a random
//! moment, then started again on the same data directory. Afterwards: no acknowledged create
//! lost, no secret handed out more often than its views allow (every 200 the clients saw is
//! counted), every acknowledged burn kept, the store opened every time, and no blob left without
//! its secret after the next orphan sweep. The restart times are printed. The same on nodes of a
//! Redis store, Redis itself killed and restarted on its append-only file now and then.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use burnbox::crypto::{Keyring, MasterKeys};
use burnbox::domain::SecretKey;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::helpers::{ServerProcess, files_under, keys};
use burnbox_testkit::redis_servers::RedisServer;
use burnbox_testkit::s3::S3Server;

/// Views every text secret of the suite allows; files allow two.
const TEXT_VIEWS: u32 = 3;
const FILE_VIEWS: u32 = 2;

/// One acknowledged create.
#[derive(Clone)]
struct Created {
    secret_key: String,
    receipt_key: String,
    views: u32,
    /// The text, or the SHA-256 of the file.
    content: Vec<u8>,
    file: bool,
}

/// What the clients were told, over every cycle.
#[derive(Default)]
struct Ledger {
    created: Vec<Created>,
    /// 200 answers to a view, by secret key.
    served: HashMap<String, u32>,
    /// Receipt keys whose burn was answered 200.
    burned: HashSet<String>,
}

/// A number below `n` from the OS random source.
fn below(n: usize) -> usize {
    let bytes: [u8; 8] = burnbox::crypto::random_bytes().expect("random");
    (u64::from_le_bytes(bytes) % n.max(1) as u64) as usize
}

/// Keeps an acknowledged create (the answer `created`) in the ledger.
async fn record(ledger: &Mutex<Ledger>, created: &Value, views: u32, content: Vec<u8>, file: bool) {
    let (secret_key, receipt_key) = keys(created);
    ledger.lock().await.created.push(Created {
        secret_key,
        receipt_key,
        views,
        content,
        file,
    });
}

/// One worker of the mixed load: until the server stops answering.
async fn worker(role: usize, base: String, ledger: Arc<Mutex<Ledger>>) {
    let client = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let url = format!("{base}/api/secrets");
    for n in 0.. {
        let outcome: Result<(), reqwest::Error> = async {
            match role {
                // Creators of text secrets.
                0 | 1 => {
                    let text = format!("crash text {role}-{n}-{}", below(1 << 30));
                    let response = client
                        .post(&url)
                        .json(&json!({"secret": text, "maxViews": TEXT_VIEWS}))
                        .send()
                        .await?;
                    if response.status() == StatusCode::OK {
                        let created: Value = response.json().await?;
                        record(&ledger, &created, TEXT_VIEWS, text.into_bytes(), false).await;
                    }
                }
                // Revealers, and now and then a burn.
                2 | 3 => {
                    let picked = {
                        let ledger = ledger.lock().await;
                        let texts: Vec<&Created> =
                            ledger.created.iter().filter(|c| !c.file).collect();
                        (!texts.is_empty()).then(|| texts[below(texts.len())].clone())
                    };
                    let Some(created) = picked else {
                        // Nothing to reveal yet (no create was acknowledged in this cycle): a
                        // probe instead, so this worker too stops once the node is gone.
                        client.get(format!("{base}/healthz")).send().await?;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        return Ok(());
                    };
                    if role == 3 && n % 7 == 0 {
                        let response = client
                            .delete(format!("{url}/{}", created.receipt_key))
                            .send()
                            .await?;
                        if response.status() == StatusCode::OK {
                            ledger.lock().await.burned.insert(created.receipt_key);
                        }
                        return Ok(());
                    }
                    let response = client
                        .post(format!("{url}/{}", created.secret_key))
                        .json(&json!({}))
                        .send()
                        .await?;
                    if response.status() == StatusCode::OK {
                        let viewed: Value = response.json().await?;
                        assert_eq!(
                            viewed["secret"].as_str().map(str::as_bytes),
                            Some(created.content.as_slice()),
                            "a view gives the secret's own text"
                        );
                        *ledger
                            .lock()
                            .await
                            .served
                            .entry(created.secret_key)
                            .or_default() += 1;
                    }
                }
                // Files: an upload, then a download of any file.
                _ => {
                    let bytes: Vec<u8> =
                        (0..64 * 1024).map(|i| (i + n + below(256)) as u8).collect();
                    let form = reqwest::multipart::Form::new()
                        .text("maxViews", FILE_VIEWS.to_string())
                        .part(
                            "file",
                            reqwest::multipart::Part::bytes(bytes.clone()).file_name("crash.bin"),
                        );
                    let response = client.post(&url).multipart(form).send().await?;
                    if response.status() == StatusCode::OK {
                        let created: Value = response.json().await?;
                        let digest = Sha256::digest(&bytes).to_vec();
                        record(&ledger, &created, FILE_VIEWS, digest, true).await;
                    }
                    let picked = {
                        let ledger = ledger.lock().await;
                        let files: Vec<&Created> =
                            ledger.created.iter().filter(|c| c.file).collect();
                        (!files.is_empty()).then(|| files[below(files.len())].clone())
                    };
                    if let Some(created) = picked {
                        let response = client
                            .post(format!("{url}/{}", created.secret_key))
                            .send()
                            .await?;
                        if response.status() == StatusCode::OK {
                            // Counted as served once the response began: the view was counted
                            // before the first byte left, whether or not the body completes.
                            *ledger
                                .lock()
                                .await
                                .served
                                .entry(created.secret_key.clone())
                                .or_default() += 1;
                            if let Ok(body) = response.bytes().await {
                                assert_eq!(Sha256::digest(&body).to_vec(), created.content);
                            }
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        if outcome.is_err() {
            return;
        }
    }
}

/// The master key every run of the Redis suite shares (its nodes must).
const SHARED_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Where the suite runs: one data directory, or nodes on a Redis server (append-only file
/// synced on every write) and an S3 bucket.
#[allow(clippy::large_enum_variant, reason = "one value per test")]
enum Deployment {
    Embedded {
        data: std::path::PathBuf,
    },
    Redis {
        root: std::path::PathBuf,
        redis: RedisServer,
        s3: S3Server,
    },
}

impl Deployment {
    /// A node, with `extra` flags.
    async fn start(&self, cycle: usize, extra: &[&str]) -> ServerProcess {
        match self {
            Self::Embedded { data } => ServerProcess::start(data, extra).await,
            Self::Redis { root, redis, s3 } => {
                let mut flags = vec!["--store".to_owned(), redis.url()];
                flags.extend(s3.flags());
                flags.extend(extra.iter().map(|f| (*f).to_owned()));
                let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                let mut env = vec![("BURNBOX_MASTER_KEY", SHARED_KEY)];
                env.extend(s3.env());
                ServerProcess::start_with_env(&root.join(format!("node-{cycle}")), &flags, &env)
                    .await
            }
        }
    }

    /// After a node was killed: on Redis, every fourth time Redis is killed too and restarted
    /// on its append-only file.
    fn after_kill(&mut self, cycle: usize) {
        if let Self::Redis { redis, .. } = self
            && cycle % 4 == 3
        {
            redis.kill();
            redis.restart();
        }
    }

    /// The master keys the secrets were sealed under.
    fn master(&self) -> MasterKeys {
        match self {
            Self::Embedded { data } => MasterKeys::load_or_create(
                None,
                &data.join(burnbox::crypto::master_key::KEY_FILE_NAME),
            )
            .expect("master key"),
            Self::Redis { .. } => MasterKeys::parse(SHARED_KEY).expect("key"),
        }
    }

    /// The blobs left in the file store, by name.
    fn blobs(&self) -> Vec<String> {
        let dir = match self {
            Self::Embedded { data } => data.join("blobs"),
            Self::Redis { s3, .. } => s3.bucket_dir(),
        };
        files_under(&dir)
            .into_iter()
            .filter_map(|path| path.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .filter(|name| burnbox::storage::blob::id_of_blob_name(name).is_some())
            .collect()
    }

    /// The record of blob `name`'s secret, read from the store once the node is stopped.
    async fn record_of_blob(&self, name: &str) -> Option<burnbox::domain::SecretMeta> {
        use burnbox::storage::SecretStore;
        let id = burnbox::storage::blob::id_of_blob_name(name).expect("a blob name");
        match self {
            Self::Embedded { data } => {
                let store = crate::helpers::open_stopped_store(data).await;
                store.load(id).await.expect("load")
            }
            Self::Redis { redis, .. } => {
                let burnbox::storage::EngineKind::Redis(target) =
                    redis.url().parse().expect("a redis address")
                else {
                    panic!("not a redis address");
                };
                let auth = burnbox::crypto::RecordAuth::from_keys(&self.master());
                let store =
                    burnbox::storage::RedisStore::connect(&target, 0, Duration::from_secs(5), auth)
                        .await
                        .expect("connected");
                store.load(id).await.expect("load")
            }
        }
    }
}

/// Twenty cycles of load and SIGKILL on `deployment`, then every check of the suite.
async fn kill_twenty_times(mut deployment: Deployment) {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut restarts = Vec::new();
    for cycle in 0..20 {
        let started = Instant::now();
        let mut server = deployment.start(cycle, &[]).await;
        restarts.push(started.elapsed());
        let base = server.api.base.clone();
        let workers: Vec<_> = (0..6)
            .map(|role| tokio::spawn(worker(role, base.clone(), Arc::clone(&ledger))))
            .collect();
        tokio::time::sleep(Duration::from_millis(200 + below(1000) as u64)).await;
        server.kill_hard().await;
        deployment.after_kill(cycle);
        for worker in workers {
            worker.await.expect("a worker's assertions hold");
        }
    }

    let mut server = deployment
        .start(20, &["--blob-orphan-grace-secs", "1"])
        .await;
    let ledger = ledger.lock().await;
    assert!(
        ledger.created.len() > 100,
        "the load ran: {} creates",
        ledger.created.len()
    );
    assert!(ledger.served.values().sum::<u32>() > 50, "and reveals");
    let mut live_files = Vec::new();
    for created in &ledger.created {
        let response = server.api.status(&created.receipt_key).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "an acknowledged create was lost"
        );
        let status: Value = response.json().await.expect("json");
        let served = ledger.served.get(&created.secret_key).copied().unwrap_or(0);
        let counted = status["viewCount"].as_u64().expect("count") as u32;
        assert!(
            served <= created.views,
            "handed out {served} times, {} allowed",
            created.views
        );
        assert!(
            served <= counted && counted <= created.views,
            "{served} served, {counted} counted, {} allowed",
            created.views
        );
        if ledger.burned.contains(&created.receipt_key) {
            assert_eq!(status["state"], "burned", "an acknowledged burn was lost");
        }
        if created.file && status["state"] == "live" {
            live_files.push(created.clone());
        }
    }
    // The orphan sweep runs every half grace; give it two rounds past the grace.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let keyring = Keyring::from_keys(&deployment.master());
    let expected: HashSet<String> = live_files
        .iter()
        .map(|c| {
            let key = SecretKey::parse(&c.secret_key).expect("a key");
            burnbox::storage::blob::blob_name(&keyring.secret_id(&key))
        })
        .collect();
    let others: Vec<String> = deployment
        .blobs()
        .into_iter()
        .filter(|name| !expected.contains(name))
        .collect();
    // A blob outside the acknowledged live files is no orphan only when its record is a live
    // file: a create the server stored whose answer the kill cut off (it expires with its TTL).
    server.kill_hard().await;
    for name in &others {
        let meta = deployment.record_of_blob(name).await;
        assert!(
            meta.is_some_and(|m| m.file.is_some() && !m.is_final()),
            "an orphan blob survived the sweep: {name}"
        );
    }
    let mut sorted = restarts.clone();
    sorted.sort();
    println!(
        "crash suite: {} creates, {} views served, {} burns over 20 kills; restart to serving took {:?} at the median, {:?} at worst",
        ledger.created.len(),
        ledger.served.values().sum::<u32>(),
        ledger.burned.len(),
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_under_mixed_load_lose_nothing_and_over_serve_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    kill_twenty_times(Deployment::Embedded {
        data: root.path().join("data"),
    })
    .await;
}

/// The same on Redis: nodes killed twenty times, and Redis itself killed and restarted on its
/// append-only file every fourth time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_node_kills_and_five_redis_kills_lose_nothing_and_over_serve_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    kill_twenty_times(Deployment::Redis {
        root: root.path().to_owned(),
        redis: RedisServer::start(),
        s3: S3Server::start().await,
    })
    .await;
}
