//! The crash suite: twenty times, the real binary serves a mixed load (creates, reveals of
//! multi-view secrets, burns, file uploads and downloads) and is killed with SIGKILL at a random
//! moment, then started again on the same data directory. Afterwards: no acknowledged create
//! lost, no secret handed out more often than its views allow (every 200 the clients saw is
//! counted), every acknowledged burn kept, the store opened every time, and no blob left without
//! its secret after the next orphan sweep. The restart times are printed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use burnbox::crypto::{Keyring, MasterKey};
use burnbox::domain::SecretKey;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::helpers::{ServerProcess, files_under, keys};

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

/// The blob names of `created`'s file secrets, under the data directory's master key.
fn blob_names(data: &Path, created: &[Created]) -> HashSet<String> {
    let master =
        MasterKey::load_or_create(None, &data.join(burnbox::crypto::master_key::KEY_FILE_NAME))
            .expect("master key");
    let keyring = Keyring::new(&master);
    created
        .iter()
        .filter(|c| c.file)
        .map(|c| {
            let key = SecretKey::parse(&c.secret_key).expect("a key");
            burnbox::storage::blob::blob_name(&keyring.secret_id(&key))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_under_mixed_load_lose_nothing_and_over_serve_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut restarts = Vec::new();
    for _cycle in 0..20 {
        let started = Instant::now();
        let mut server = ServerProcess::start(&data, &[]).await;
        restarts.push(started.elapsed());
        let base = server.api.base.clone();
        let workers: Vec<_> = (0..6)
            .map(|role| tokio::spawn(worker(role, base.clone(), Arc::clone(&ledger))))
            .collect();
        tokio::time::sleep(Duration::from_millis(200 + below(1000) as u64)).await;
        server.kill_hard().await;
        for worker in workers {
            worker.await.expect("a worker's assertions hold");
        }
    }

    let server = ServerProcess::start(&data, &["--blob-orphan-grace-secs", "1"]).await;
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
    let expected = blob_names(&data, &live_files);
    let others: Vec<String> = files_under(&data.join("blobs"))
        .into_iter()
        .filter(|path| !path.parent().is_some_and(|p| p.ends_with("partial")))
        .filter_map(|path| path.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .filter(|name| !expected.contains(name))
        .collect();
    // A blob outside the acknowledged live files is no orphan only when its record is a live
    // file: a create the server stored whose answer the kill cut off (it expires with its TTL).
    let mut server = server;
    server.kill_hard().await;
    let store = crate::helpers::open_stopped_store(&data).await;
    for name in &others {
        let id = burnbox::storage::blob::id_of_blob_name(name).expect("a blob name");
        let meta = burnbox::storage::SecretStore::load(&store, id)
            .await
            .expect("load");
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
