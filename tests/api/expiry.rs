//! Expiry: never revealed after the TTL, ciphertext gone soon after, even across a restart.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnbox::config::Settings;
use burnbox::crypto::{Keyring, MasterKeys};
use burnbox::domain::{Lifecycle, SecretKey};
use burnbox::storage::SecretStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    ServerProcess, keys, open_stopped_store, sample, spawn_app_in, spawn_app_with, status_and_json,
};

fn millis(iso: &Value) -> u128 {
    let text = iso.as_str().expect("timestamp string");
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    u128::try_from(parsed.unix_timestamp_nanos() / 1_000_000).expect("after 1970")
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis()
}

async fn sleep_until(at_millis: u128) {
    let wait = at_millis.saturating_sub(now_millis());
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).expect("small"))).await;
}

/// Test-only settings: TTLs of a few seconds, a fast sweeper.
fn short_ttls(settings: &mut Settings) {
    settings.ttl.min = 1;
    settings.sweep_interval = Duration::from_millis(200);
}

/// The stored lifecycle of a secret in a stopped server's data directory, and whether its
/// ciphertext is still there.
async fn stored_state(dir: &Path, secret_key: &str) -> (Lifecycle, bool) {
    let master =
        MasterKeys::load_or_create(None, &dir.join(burnbox::crypto::master_key::KEY_FILE_NAME))
            .expect("master key");
    let id = Keyring::from_keys(&master).secret_id(&SecretKey::parse(secret_key).expect("key"));
    let store = open_stopped_store(dir).await;
    let meta = store.load(id).await.expect("load").expect("receipt kept");
    (
        meta.lifecycle,
        store.content(id).await.expect("content").is_some(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_revealed_after_its_ttl() {
    let app = spawn_app_with(short_ttls).await;
    let created = app
        .create_ok(&json!({"secret": "short-lived", "ttl": 2, "maxViews": null}))
        .await;
    let expires_at = millis(&created["metadata"]["expiresAt"]);
    let (secret_key, metadata_key) = keys(&created);
    let mut revealed = 0;
    loop {
        let sent_at = now_millis();
        let (code, body) = status_and_json(app.view(&secret_key, None).await).await;
        if code == StatusCode::OK {
            assert!(
                sent_at < expires_at,
                "revealed {} ms after expiry",
                sent_at - expires_at
            );
            revealed += 1;
        } else {
            assert_eq!(
                (code, body["code"].as_str()),
                (StatusCode::GONE, Some("SECRET_EXPIRED"))
            );
            assert!(now_millis() >= expires_at, "refused before expiry");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(revealed > 0, "it was readable before expiry");
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(
        (status["state"].as_str(), status["exists"].as_bool()),
        (Some("expired"), Some(false))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_ciphertext_is_deleted_by_the_sweeper() {
    let app = spawn_app_with(short_ttls).await;
    // Never touched after creation: no actor is resident, only the sweeper can expire it.
    // TTL 3 s: the content expires at +3 s, the receipt is purged at +6 s; look at +4.5 s.
    let created = app
        .create_ok(&json!({"secret": "forgotten", "ttl": 3}))
        .await;
    let (secret_key, _) = keys(&created);
    sleep_until(millis(&created["metadata"]["expiresAt"]) + 1500).await;
    let dir = app.stop().await;
    assert_eq!(
        stored_state(dir.path(), &secret_key).await,
        (Lifecycle::Expired, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_missed_while_down_is_caught_up_after_a_restart() {
    let app = spawn_app_with(short_ttls).await;
    let created = app
        .create_ok(&json!({"secret": "outlives its server", "ttl": 2}))
        .await;
    let (secret_key, _) = keys(&created);
    let dir = app.stop().await;
    assert_eq!(
        stored_state(dir.path(), &secret_key).await,
        (Lifecycle::Live, true)
    );
    sleep_until(millis(&created["metadata"]["expiresAt"]) + 100).await;

    // Restart and touch nothing: the sweeper alone must delete the ciphertext.
    let app = spawn_app_in(dir, short_ttls).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let dir = app.stop().await;
    assert_eq!(
        stored_state(dir.path(), &secret_key).await,
        (Lifecycle::Expired, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_while_the_receipt_lives_then_not_found() {
    let app = spawn_app_with(short_ttls).await;
    // TTL 3 s: 410 SECRET_EXPIRED until the receipt ends at +6 s (three seconds of slack for a
    // loaded machine), 404 NOT_FOUND after.
    let created = app.create_ok(&json!({"secret": "brief", "ttl": 3})).await;
    let (secret_key, metadata_key) = keys(&created);
    let created_at = millis(&created["metadata"]["createdAt"]);
    sleep_until(created_at + 3100).await;
    let (code, body) = status_and_json(app.view(&secret_key, None).await).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::GONE, Some("SECRET_EXPIRED"))
    );
    sleep_until(created_at + 6100).await;
    for response in [
        app.view(&secret_key, None).await,
        app.status(&metadata_key).await,
        app.burn(&metadata_key).await,
    ] {
        let (code, body) = status_and_json(response).await;
        assert_eq!(
            (code, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
        );
    }
}

/// A secret viewed once keeps its actor resident; when its TTL passes, the actor's own timer
/// deletes the ciphertext (the sweeper is held off for the whole test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_secret_s_own_timer_deletes_its_ciphertext_at_expiry() {
    let app = spawn_app_with(|settings| {
        settings.ttl.min = 1;
        settings.sweep_interval = Duration::from_secs(3600);
    })
    .await;
    let created = app
        .create_ok(&json!({"secret": "viewed, then left", "ttl": 2, "maxViews": 3}))
        .await;
    let (secret_key, metadata_key) = keys(&created);
    let (code, _) = status_and_json(app.view(&secret_key, None).await).await;
    assert_eq!(code, StatusCode::OK, "the first view loads its actor");
    // The receipt says expired once the actor's timer has run.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (_, status) = status_and_json(app.status(&metadata_key).await).await;
        if status["state"] == "expired" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = app.stop().await;
    assert_eq!(
        stored_state(dir.path(), &secret_key).await,
        (Lifecycle::Expired, false)
    );
}

/// Reveals racing a multi-view secret's expiry from several clients at once: none is served
/// after the expiry instant, and every refusal after it is `SECRET_EXPIRED`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reveals_racing_expiry_are_never_served_late() {
    let app = spawn_app_with(short_ttls).await;
    let created = app
        .create_ok(&json!({"secret": "racing the clock", "ttl": 2, "maxViews": null}))
        .await;
    let expires_at = millis(&created["metadata"]["expiresAt"]);
    let (secret_key, _) = keys(&created);
    let mut clients = Vec::new();
    for _ in 0..6 {
        let api = app.api.clone();
        let key = secret_key.clone();
        clients.push(tokio::spawn(async move {
            let mut served = 0;
            loop {
                let sent_at = now_millis();
                let (code, body) = status_and_json(api.view(&key, None).await).await;
                if code == StatusCode::OK {
                    assert!(
                        sent_at < expires_at,
                        "served {} ms late",
                        sent_at - expires_at
                    );
                    served += 1;
                } else {
                    assert_eq!(
                        (code, body["code"].as_str()),
                        (StatusCode::GONE, Some("SECRET_EXPIRED"))
                    );
                    assert!(now_millis() >= expires_at, "refused before expiry");
                    return served;
                }
            }
        }));
    }
    let mut served = 0;
    for client in clients {
        served += client.await.expect("client");
    }
    assert!(served > 0, "readable before expiry");
}

/// Expiry owed while the server was killed with SIGKILL is carried out after the restart, over
/// more than one sweep batch (the sweeper takes 1000 records at a time): every ciphertext goes
/// (the earliest receipts may be due to go too by then, and are purged in the same step).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_owed_across_a_kill_9_is_done_after_restart_over_several_batches() {
    const SECRETS: usize = 1_200;
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = ["--test-min-ttl", "1", "--sweep-interval-ms", "100"];
    let mut server = ServerProcess::start(dir.path(), &flags).await;
    let mut keys_made = Vec::with_capacity(SECRETS);
    let mut latest_expiry = 0;
    let body = json!({"secret": "owed an expiry", "ttl": 3});
    for _ in 0..SECRETS / 50 {
        let creates = (0..50).map(|_| server.api.create_ok(&body));
        for created in futures_util::future::join_all(creates).await {
            latest_expiry = latest_expiry.max(millis(&created["metadata"]["expiresAt"]));
            keys_made.push(keys(&created).0);
        }
    }
    server.kill_hard().await;
    sleep_until(latest_expiry + 200).await;

    let mut server = ServerProcess::start(dir.path(), &flags).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = server.api.scrape().await;
        let swept: f64 = ["expired", "purged"]
            .iter()
            .filter_map(|action| {
                let series = format!("burnbox_sweeper_deletions_total{{action=\"{action}\"}}");
                sample(&metrics, &series)
            })
            .sum();
        if swept >= SECRETS as f64 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{swept} swept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.terminate().await;
    let store = open_stopped_store(dir.path()).await;
    let master = MasterKeys::load_or_create(
        None,
        &dir.path().join(burnbox::crypto::master_key::KEY_FILE_NAME),
    )
    .expect("master key");
    let keyring = Keyring::from_keys(&master);
    for key in &keys_made {
        let id = keyring.secret_id(&SecretKey::parse(key).expect("key"));
        if let Some(meta) = store.load(id).await.expect("load") {
            assert_eq!(meta.lifecycle, Lifecycle::Expired, "{key}");
        }
        assert!(store.content(id).await.expect("content").is_none(), "{key}");
    }
}
