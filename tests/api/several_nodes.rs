//! Several real burnbox processes on one real Redis and one S3 bucket: view counts stay exact
//! across nodes, a burn on one node is seen at once on another, and a file uploaded through one
//! downloads intact through another.

use std::path::Path;
use std::time::Duration;

use burnbox::config::{BlobSettings, Settings};
use burnbox::service::ratelimit::Windows;
use burnbox::service::tiers::{Quota, TierLimits, TierTable};
use burnbox::storage::{EngineKind, RedisStore, SecretStore};

use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{ServerProcess, TestApp, keys, spawn_app_with, status_and_json};
use burnbox_testkit::redis_servers::{RedisCluster, RedisServer};
use burnbox_testkit::s3::S3Server;
use burnbox_testkit::sample::sample_file;

/// The master key every node of these tests shares.
const SHARED_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Starts a node on `store` and `s3`, with its own data directory under `root`.
async fn node(root: &Path, name: &str, store: &str, s3: &S3Server) -> ServerProcess {
    node_with(root, name, store, s3, &[]).await
}

/// [`node`] with `extra` flags.
async fn node_with(
    root: &Path,
    name: &str,
    store: &str,
    s3: &S3Server,
    extra: &[&str],
) -> ServerProcess {
    let mut flags = vec!["--store".to_owned(), store.to_owned()];
    flags.extend(extra.iter().map(|f| (*f).to_owned()));
    flags.extend(s3.flags());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut env = vec![("BURNBOX_MASTER_KEY", SHARED_KEY)];
    env.extend(s3.env());
    ServerProcess::start_with_env(&root.join(name), &flags, &env).await
}

/// Starts a node whose master keys are `keys` (the `BURNBOX_MASTER_KEY` format).
async fn node_keyed(
    root: &Path,
    name: &str,
    store: &str,
    s3: &S3Server,
    keys: &str,
) -> ServerProcess {
    let mut flags = vec!["--store".to_owned(), store.to_owned()];
    flags.extend(s3.flags());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut env = vec![("BURNBOX_MASTER_KEY", keys)];
    env.extend(s3.env());
    ServerProcess::start_with_env(&root.join(name), &flags, &env).await
}

/// Views `secret_key` `total` times, spread over `nodes` in turn, `concurrency` at a time: the
/// statuses seen.
async fn reveals_spread(
    nodes: &[&ServerProcess],
    secret_key: &str,
    total: usize,
    concurrency: usize,
) -> Vec<StatusCode> {
    let mut statuses = Vec::with_capacity(total);
    for wave in (0..total).collect::<Vec<_>>().chunks(concurrency) {
        let requests = wave.iter().map(|n| {
            let node = nodes[n % nodes.len()];
            async move { node.api.view(secret_key, None).await.status() }
        });
        statuses.extend(futures_util::future::join_all(requests).await);
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_redis_count_views_exactly_and_see_each_others_changes() {
    let redis = RedisServer::start();
    let s3 = S3Server::start().await;
    let root = tempfile::tempdir().expect("temp dir");
    let a = node(root.path(), "a", &redis.url(), &s3).await;
    let b = node(root.path(), "b", &redis.url(), &s3).await;

    // An account made with the command line on the shared store, while the nodes serve.
    let token = account_on(&redis.url());
    views_are_exact(&[&a, &b], &token).await;

    // Created on A, burned on B: A sees it at once, in status and on a view.
    let created = a
        .api
        .create_ok(&json!({"secret": "burn me", "maxViews": 3}))
        .await;
    let (secret_key, receipt_key) = keys(&created);
    let (status, viewed) = status_and_json(b.api.view(&secret_key, None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(viewed["secret"], "burn me");
    assert_eq!(a.api.status(&receipt_key).await.status(), StatusCode::OK);
    assert_eq!(b.api.burn(&receipt_key).await.status(), StatusCode::OK);
    let (_, on_a) = status_and_json(a.api.status(&receipt_key).await).await;
    assert_eq!(on_a["state"], "burned", "{on_a}");
    let (status, body) = status_and_json(a.api.view(&secret_key, None).await).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["code"], "SECRET_BURNED");

    // A file uploaded through A downloads byte for byte through B.
    let file = sample_file(3 << 20, 21);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file.clone()).file_name("report.bin"),
    );
    let uploaded = a
        .api
        .client
        .post(format!("{}/api/secrets", a.api.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let (status, uploaded) = status_and_json(uploaded).await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    let (secret_key, _) = keys(&uploaded);
    let downloaded = b.api.view(&secret_key, None).await;
    assert_eq!(downloaded.status(), StatusCode::OK);
    let bytes = downloaded.bytes().await.expect("body");
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(&file));
    assert_eq!(
        a.api.view(&secret_key, None).await.status(),
        StatusCode::GONE,
        "its one view was taken on B"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_a_shared_store_needs_the_shared_key_and_shared_files() {
    let redis = RedisServer::start();
    let root = tempfile::tempdir().expect("temp dir");
    let refused = |extra: &[&str], env: &[(&str, &str)]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_burnbox"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--store",
                &redis.url(),
                "--data-dir",
            ])
            .arg(root.path().join("node"))
            .args(extra)
            .env_remove("BURNBOX_MASTER_KEY")
            .envs(env.iter().copied())
            .output()
            .expect("binary runs");
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let no_key = refused(
        &["--blobs", "s3", "--s3-bucket", "b"],
        &[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")],
    );
    assert!(no_key.contains("same master key on every node"), "{no_key}");
    let local_files = refused(&[], &[("BURNBOX_MASTER_KEY", SHARED_KEY)]);
    assert!(local_files.contains("one S3 bucket"), "{local_files}");
}

/// Redis goes away under a node and comes back: requests get 503 in the dialect's shape within
/// the store's deadline, `/readyz` says not ready, nothing acknowledged is lost (the server
/// syncs its append-only file on every write), no view is counted twice, and the node recovers
/// without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_outlives_a_redis_restart() {
    let mut redis = RedisServer::start();
    let s3 = S3Server::start().await;
    let root = tempfile::tempdir().expect("temp dir");
    let a = node(root.path(), "a", &redis.url(), &s3).await;
    let mut acknowledged = Vec::new();
    for n in 0..20 {
        let created = a
            .api
            .create_ok(&json!({"secret": format!("kept {n}"), "maxViews": 1}))
            .await;
        acknowledged.push((n, keys(&created).0));
    }

    redis.kill();
    let started = std::time::Instant::now();
    let (status, body) =
        status_and_json(a.api.create(&json!({"secret": "while down"})).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE");
    let (status, body) = status_and_json(a.api.view(&acknowledged[0].1, None).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let ready = reqwest::get(format!("{}/readyz", a.api.base))
        .await
        .expect("probe");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "refusals come within the store's deadline: {:?}",
        started.elapsed()
    );

    redis.restart();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let ready = reqwest::get(format!("{}/readyz", a.api.base))
            .await
            .expect("probe");
        if ready.status() == StatusCode::OK {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ready again by itself"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for (n, secret_key) in &acknowledged {
        let (status, viewed) = status_and_json(a.api.view(secret_key, None).await).await;
        // The first was asked for while Redis was down: refused, not counted.
        assert_eq!(status, StatusCode::OK, "secret {n}: {viewed}");
        assert_eq!(viewed["secret"], format!("kept {n}"));
        assert_eq!(
            a.api.view(secret_key, None).await.status(),
            StatusCode::GONE
        );
    }
}

/// Two nodes in this process on one Redis and one bucket, their settings adjusted by `tune`.
async fn in_process_pair(
    redis: &RedisServer,
    s3: &S3Server,
    tune: impl Fn(&mut Settings) + Clone + Send + 'static,
) -> (TestApp, TestApp, tempfile::TempDir) {
    let keys = tempfile::tempdir().expect("temp dir");
    let key_file = keys.path().join("master.key");
    std::fs::write(&key_file, SHARED_KEY).expect("key file");
    let target = redis.url().parse().expect("redis address");
    let start = || {
        let (target, key_file, blobs, tune) = (
            std::clone::Clone::clone(&target),
            key_file.clone(),
            BlobSettings::S3(s3.settings()),
            tune.clone(),
        );
        spawn_app_with(move |settings| {
            settings.store = target;
            settings.blobs = blobs;
            settings.master_key_file = Some(key_file);
            tune(settings);
        })
    };
    let a = start().await;
    let b = start().await;
    (a, b, keys)
}

/// The anonymous quota holds for the deployment, not per node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anonymous_quota_counts_across_nodes() {
    let redis = RedisServer::start();
    let s3 = S3Server::start().await;
    // Quotas on: three requests per short window for anonymous callers.
    let (a, b, _keys) = in_process_pair(&redis, &s3, |settings| {
        settings.rate_limits = true;
        settings.tiers.anonymous = TierLimits {
            requests_per_hour: Quota::Limited(3),
            requests_per_day: Quota::Limited(100),
            ..TierTable::DOCUMENTED.anonymous
        };
        settings.rate_windows = Windows {
            short: Duration::from_secs(60),
            long: Duration::from_secs(600),
        };
    })
    .await;

    let created = a
        .create_ok(&json!({"secret": "guarded", "passphrase": "right one", "maxViews": 2}))
        .await;
    let (secret_key, _) = keys(&created);
    let wrong = json!({"passphrase": "wrong"});
    assert_eq!(
        b.view(&secret_key, Some(&wrong)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let remaining = |response: &reqwest::Response| {
        response
            .headers()
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let third = a.view(&secret_key, Some(&wrong)).await;
    assert_eq!(third.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        remaining(&third).as_deref(),
        Some("0"),
        "the third of three, over two nodes"
    );
    let (status, body) = status_and_json(b.status(&secret_key).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the fourth: {body}");
    assert_eq!(body["code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(
        a.status(&secret_key).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "refused on both nodes"
    );
}

/// Five wrong passphrases spread over two nodes lock the secret on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passphrases_on_several_nodes_lock_the_secret() {
    let redis = RedisServer::start();
    let s3 = S3Server::start().await;
    let root = tempfile::tempdir().expect("temp dir");
    let a = node(root.path(), "a", &redis.url(), &s3).await;
    let b = node(root.path(), "b", &redis.url(), &s3).await;
    let created = a
        .api
        .create_ok(&json!({"secret": "guarded", "passphrase": "right one", "maxViews": 2}))
        .await;
    let (secret_key, _) = keys(&created);
    let wrong = json!({"passphrase": "wrong"});
    for n in 0..5 {
        let node = if n % 2 == 0 { &a } else { &b };
        assert_eq!(
            node.api.view(&secret_key, Some(&wrong)).await.status(),
            StatusCode::UNAUTHORIZED,
            "guess {n}"
        );
    }
    let right = json!({"passphrase": "right one"});
    for node in [&a, &b] {
        let (status, body) = status_and_json(node.api.view(&secret_key, Some(&right)).await).await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "locked on every node: {body}"
        );
    }
}

/// Views of 30 five-view secrets and creates, in rounds over `nodes`, while `fail` breaks Redis
/// half a second in; once the nodes are ready again by themselves and `recover` has run, every
/// view left is taken. No secret may have given out more than its views (every 200 the clients
/// saw is counted), and every create acknowledged during the burst must be there.
async fn burst_through_a_failure(
    nodes: &[&ServerProcess],
    fail: impl FnOnce(),
    recover: impl FnOnce(),
) {
    const MAX_VIEWS: usize = 5;
    let mut secrets = Vec::new();
    for n in 0..30 {
        let created = nodes[n % nodes.len()]
            .api
            .create_ok(&json!({"secret": format!("burst {n}"), "maxViews": MAX_VIEWS}))
            .await;
        secrets.push(keys(&created).0);
    }
    let served = std::sync::Arc::new(std::sync::Mutex::new(vec![0usize; secrets.len()]));
    let created_during = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let apis: Vec<_> = nodes.iter().map(|n| n.api.clone()).collect();
    let burst = {
        let (served, created_during, secrets) =
            (served.clone(), created_during.clone(), secrets.clone());
        tokio::spawn(async move {
            for round in 0..(MAX_VIEWS + 3) {
                let views = secrets.iter().enumerate().map(|(i, key)| {
                    let api = apis[(i + round) % apis.len()].clone();
                    let served = served.clone();
                    let key = key.clone();
                    async move {
                        if api.view(&key, None).await.status() == StatusCode::OK {
                            served.lock().expect("lock")[i] += 1;
                        }
                    }
                });
                let creates = (0..apis.len()).map(|n| {
                    let api = apis[n].clone();
                    let created_during = created_during.clone();
                    async move {
                        let text = format!("made in round {round} on node {n}");
                        let response = api.create(&json!({"secret": text})).await;
                        if response.status() == StatusCode::OK {
                            let body: serde_json::Value = response.json().await.expect("json");
                            created_during
                                .lock()
                                .expect("lock")
                                .push((keys(&body).0, text));
                        }
                    }
                });
                futures_util::future::join(
                    futures_util::future::join_all(views),
                    futures_util::future::join_all(creates),
                )
                .await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    fail();
    burst.await.expect("burst");
    recover();
    for node in nodes {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{}/readyz", node.api.base))
            .await
            .map(|r| r.status())
            .ok()
            != Some(StatusCode::OK)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "ready again by itself"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Every view left is taken now; with those, no secret may have given out more than it allows.
    for (i, key) in secrets.iter().enumerate() {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let status = nodes[i % nodes.len()].api.view(key, None).await.status();
            if status == StatusCode::OK {
                served.lock().expect("lock")[i] += 1;
            } else if status == StatusCode::GONE {
                break;
            } else {
                assert!(
                    std::time::Instant::now() < deadline,
                    "secret {i} answers again: {status}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let served = served.lock().expect("lock").clone();
    assert!(
        served.iter().all(|n| *n <= MAX_VIEWS),
        "views given out per secret: {served:?}"
    );
    let created_during = created_during.lock().expect("lock").clone();
    assert!(
        !created_during.is_empty(),
        "some creates were acknowledged during the burst"
    );
    for (key, text) in created_during {
        let (status, viewed) = status_and_json(nodes[0].api.view(&key, None).await).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "an acknowledged create is there: {viewed}"
        );
        assert_eq!(viewed["secret"], text);
    }
}

/// Two nodes on one Redis server that is killed in the middle of a burst and started again on
/// its append-only file (synced on every write): nothing over-served, no acknowledged create
/// lost, the nodes ready again by themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_killed_mid_burst_over_serves_nothing() {
    let redis = std::sync::Mutex::new(RedisServer::start());
    let url = redis.lock().expect("lock").url();
    let s3 = S3Server::start().await;
    let root = tempfile::tempdir().expect("temp dir");
    let a = node(root.path(), "a", &url, &s3).await;
    let b = node(root.path(), "b", &url, &s3).await;
    burst_through_a_failure(
        &[&a, &b],
        || {
            let mut redis = redis.lock().expect("lock");
            redis.kill();
            // Down for a moment while the burst goes on.
            std::thread::sleep(Duration::from_millis(700));
            redis.restart();
        },
        || {},
    )
    .await;
}

/// Three nodes on a Cluster that loses a primary in the middle of a burst of views and creates:
/// with `--redis-wait-replicas 1` no secret gives out more views than it allows (every 200 the
/// clients saw is counted), every create that was acknowledged is there after the failover, and
/// the nodes are ready again without a restart (the lost node, restarted, rejoins as a replica).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_losing_a_primary_mid_burst_over_serves_nothing() {
    let cluster = std::sync::Mutex::new(RedisCluster::start());
    let s3 = S3Server::start().await;
    let root = tempfile::tempdir().expect("temp dir");
    let url = cluster.lock().expect("lock").url();
    let mut nodes = Vec::new();
    for name in ["a", "b", "c"] {
        nodes.push(
            node_with(
                root.path(),
                name,
                &url,
                &s3,
                &["--redis-wait-replicas", "1"],
            )
            .await,
        );
    }
    let nodes: Vec<&ServerProcess> = nodes.iter().collect();
    burst_through_a_failure(
        &nodes,
        || cluster.lock().expect("lock").kill_a_primary(),
        // With its replica gone, the shard that lost its primary cannot hold a write on a
        // replica: it refuses them (503) until the old primary comes back as the new one's.
        || cluster.lock().expect("lock").restart_the_killed_node(),
    )
    .await;
}

/// An API-tier account made with the command line on the shared `store`: its key.
fn account_on(store: &str) -> String {
    let account = std::process::Command::new(env!("CARGO_BIN_EXE_burnbox"))
        .args([
            "account",
            "create",
            "ops@example.com",
            "--tier",
            "api",
            "--store",
        ])
        .arg(store)
        .env("BURNBOX_MASTER_KEY", SHARED_KEY)
        .output()
        .expect("binary runs");
    assert!(
        account.status.success(),
        "{}",
        String::from_utf8_lossy(&account.stderr)
    );
    String::from_utf8_lossy(&account.stdout).trim().to_owned()
}

/// Secrets of 5, 1 and 999 views, made on the first node with `token`, revealed 1000 times
/// spread over `nodes`: exactly their views succeed, every other answer is 410, and the count is
/// the same on every node.
async fn views_are_exact(nodes: &[&ServerProcess], token: &str) {
    let first = nodes[0];
    for max_views in [5u64, 1, 999] {
        let created = first
            .api
            .client
            .post(format!("{}/api/secrets", first.api.base))
            .bearer_auth(token)
            .json(&json!({"secret": format!("{max_views} views"), "maxViews": max_views}))
            .send()
            .await
            .expect("request");
        let (status, created) = status_and_json(created).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let (secret_key, receipt_key) = keys(&created);
        let statuses = reveals_spread(nodes, &secret_key, 1000, 50).await;
        let served = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(
            served as u64,
            max_views.min(1000),
            "{max_views} views over {} nodes",
            nodes.len()
        );
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::GONE),
            "only 200 and 410: {:?}",
            statuses
                .iter()
                .filter(|s| !s.is_success())
                .take(5)
                .collect::<Vec<_>>()
        );
        for node in nodes {
            let (_, status) = status_and_json(node.api.status(&receipt_key).await).await;
            assert_eq!(status["viewCount"], max_views.min(1000), "{status}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_on_a_cluster_count_views_exactly() {
    let cluster = RedisCluster::start();
    let s3 = S3Server::start().await;
    let root = tempfile::tempdir().expect("temp dir");
    let mut nodes = Vec::new();
    for name in ["a", "b", "c"] {
        nodes.push(node(root.path(), name, &cluster.url(), &s3).await);
    }
    let token = account_on(&cluster.url());
    let nodes: Vec<&ServerProcess> = nodes.iter().collect();
    views_are_exact(&nodes, &token).await;
}

/// A Redis that stops answering for a while (`DEBUG SLEEP`): requests get 503 within the
/// store's deadline instead of hanging, and the node serves again once Redis does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_gives_503_in_bounded_time() {
    let redis = RedisServer::start();
    let s3 = S3Server::start().await;
    let root = tempfile::tempdir().expect("temp dir");
    let a = node(root.path(), "a", &redis.url(), &s3).await;
    let created = a
        .api
        .create_ok(&json!({"secret": "patience", "maxViews": 2}))
        .await;
    let (secret_key, _) = keys(&created);
    let sleeper = redis.sleep(Duration::from_secs(6));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let (status, body) = status_and_json(a.api.view(&secret_key, None).await).await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        waited < Duration::from_secs(5),
        "answered within the deadline: {waited:?}"
    );
    sleeper.join().expect("redis woke");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, viewed) = status_and_json(a.api.view(&secret_key, None).await).await;
        if status == StatusCode::OK {
            assert_eq!(viewed["secret"], "patience");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serving again: {viewed}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The sweepers of two nodes race over the same due secrets: each secret is expired exactly once
/// (the deployment's live count comes back to where it was, not below), nothing stays due, and
/// every secret answers as expired on both nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sweepers_expire_each_secret_once() {
    let redis = RedisServer::start();
    let s3 = S3Server::start().await;
    let (a, b, _keys) = in_process_pair(&redis, &s3, |settings| {
        settings.ttl.min = 1;
        settings.sweep_interval = Duration::from_millis(100);
    })
    .await;
    let EngineKind::Redis(target) = redis.url().parse().expect("redis address") else {
        panic!("a redis address");
    };
    let auth = burnbox::crypto::RecordAuth::from_master(
        &burnbox::crypto::MasterKey::from_base64(SHARED_KEY).expect("key"),
    );
    let store = RedisStore::connect(&target, 0, Duration::from_secs(5), auth)
        .await
        .expect("connected");
    let before = store.count_live().await.expect("count");
    let mut receipts = Vec::new();
    for n in 0..40 {
        let node = if n % 2 == 0 { &a } else { &b };
        let created = node
            // TTL 3 s: the receipts stay (until +6 s) long enough to read after the expiry
            // even on a loaded machine.
            .create_ok(&json!({"secret": format!("brief {n}"), "ttl": 3}))
            .await;
        receipts.push(keys(&created).1);
    }
    assert_eq!(store.count_live().await.expect("count"), before + 40);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while store.count_live().await.expect("count") > before {
        assert!(
            std::time::Instant::now() < deadline,
            "the sweepers expire them"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more sweeps by both: nothing is expired twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        store.count_live().await.expect("count"),
        before,
        "counted down once each"
    );
    assert!(
        store
            .due(burnbox::clock::now(), 100)
            .await
            .expect("due")
            .is_empty(),
        "nothing left due before its purge time"
    );
    for receipt in &receipts {
        for node in [&a, &b] {
            let (_, status) = status_and_json(node.status(receipt).await).await;
            assert_eq!(status["state"], "expired", "{status}");
        }
    }
}

/// A master key rotated on several nodes: the new key is given to every node with a later
/// activation (`master-key rotate --activate-in`). Until it activates every node seals with the
/// old key, so a node not restarted yet reads what the others make; once every node holds both
/// keys and the new one is active, it seals, each node reads what any made, and a node without
/// it finds none of the new secrets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_nodes_rotate_a_master_key_with_no_secret_unreadable_on_the_way() {
    const SECOND_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    let redis = RedisServer::start();
    let s3 = S3Server::start().await;
    let root = tempfile::tempdir().expect("temp dir");
    let only_first = format!("1 {SHARED_KEY}");
    let in_an_hour = burnbox::clock::system().as_millis() / 1000 + 3600;
    let learnt = format!("1 {SHARED_KEY};2 {SECOND_KEY} active-from={in_an_hour}");
    let active = format!("1 {SHARED_KEY};2 {SECOND_KEY} active-from=1");

    let mut a = node_keyed(root.path(), "a", &redis.url(), &s3, &only_first).await;
    let mut b = node_keyed(root.path(), "b", &redis.url(), &s3, &learnt).await;
    let made_on_b = b
        .api
        .create_ok(&json!({"secret": "before", "maxViews": 3}))
        .await;
    let (before_key, _) = keys(&made_on_b);
    let (status, viewed) = status_and_json(a.api.view(&before_key, None).await).await;
    assert_eq!(
        (status, viewed["secret"].clone()),
        (StatusCode::OK, json!("before")),
        "a node that has not learnt key 2 reads what a node that has made before it activates"
    );

    a.terminate().await;
    b.terminate().await;
    let a = node_keyed(root.path(), "a", &redis.url(), &s3, &active).await;
    let b = node_keyed(root.path(), "b", &redis.url(), &s3, &active).await;
    let made_on_a = a
        .api
        .create_ok(&json!({"secret": "after", "maxViews": 3}))
        .await;
    let (after_key, _) = keys(&made_on_a);
    for (node, key, text) in [(&b, &after_key, "after"), (&b, &before_key, "before")] {
        let (status, viewed) = status_and_json(node.api.view(key, None).await).await;
        assert_eq!(
            (status, viewed["secret"].clone()),
            (StatusCode::OK, json!(text))
        );
    }
    let stale = node_keyed(root.path(), "stale", &redis.url(), &s3, &only_first).await;
    assert_eq!(
        stale.api.status(&after_key).await.status(),
        StatusCode::NOT_FOUND,
        "key 2 sealed the new secret"
    );
}
