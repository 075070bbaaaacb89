//! Expiry: never revealed after the TTL, ciphertext gone soon after, even across a restart.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use burnbox::config::Settings;
use burnbox::crypto::{Keyring, MasterKey};
use burnbox::domain::{Lifecycle, SecretKey};
use burnbox::storage::SecretStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{keys, open_stopped_store, spawn_app_in, spawn_app_with, status_and_json};

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
        MasterKey::load_or_create(None, &dir.join(burnbox::crypto::master_key::KEY_FILE_NAME))
            .expect("master key");
    let id = Keyring::new(&master).secret_id(&SecretKey::parse(secret_key).expect("key"));
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
    // TTL 1 s: 410 SECRET_EXPIRED until the receipt ends at +2 s, 404 NOT_FOUND after.
    let created = app.create_ok(&json!({"secret": "brief", "ttl": 1})).await;
    let (secret_key, metadata_key) = keys(&created);
    let created_at = millis(&created["metadata"]["createdAt"]);
    sleep_until(created_at + 1100).await;
    let (code, body) = status_and_json(app.view(&secret_key, None).await).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::GONE, Some("SECRET_EXPIRED"))
    );
    sleep_until(created_at + 2100).await;
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
