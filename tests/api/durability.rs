//! Restarts and crashes lose nothing a client was told succeeded.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ApiClient, CreateBurst, ServerProcess, keys, status_and_json};

/// Reveals `key` with no passphrase; status and body.
async fn reveal(api: &ApiClient, key: &str) -> (StatusCode, serde_json::Value) {
    status_and_json(api.view(key, None).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_secret_and_its_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(dir.path(), &[]).await;
    let mut created = Vec::new();
    for n in 1..=3 {
        let body = json!({"secret": format!("secret {n}"), "maxViews": 3});
        created.push(keys(&server.api.create_ok(&body).await));
    }
    let (first_secret, first_meta) = &created[0];
    let (_, second_meta) = &created[1];
    let (third_secret, _) = &created[2];
    for _ in 0..2 {
        assert_eq!(reveal(&server.api, first_secret).await.0, StatusCode::OK);
    }
    assert_eq!(server.api.burn(second_meta).await.status(), StatusCode::OK);
    server.terminate().await;

    let server = ServerProcess::start(dir.path(), &[]).await;
    let (_, status) = status_and_json(server.api.status(first_meta).await).await;
    assert_eq!(status["viewCount"], 2);
    let (_, status) = status_and_json(server.api.status(second_meta).await).await;
    assert_eq!(status["burned"], true);
    let (code, viewed) = reveal(&server.api, first_secret).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        (viewed["secret"].as_str(), viewed["viewsRemaining"].as_u64()),
        (Some("secret 1"), Some(0))
    );
    let (code, viewed) = reveal(&server.api, third_secret).await;
    assert_eq!(
        (code, viewed["viewsRemaining"].as_u64()),
        (StatusCode::OK, Some(2))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_burst_loses_no_acknowledged_create() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(dir.path(), &[]).await;
    let burst = CreateBurst::start(&server.api.base);
    // Let the burst run, then kill without warning while requests are in flight.
    burst.wait_for(200).await;
    server.kill_hard().await;
    let acknowledged = burst.stop().await;
    assert!(
        acknowledged.len() >= 200,
        "the burst ran ({} creates)",
        acknowledged.len()
    );

    let server = ServerProcess::start(dir.path(), &[]).await;
    for (secret_key, text) in &acknowledged {
        let (code, viewed) = reveal(&server.api, secret_key).await;
        assert_eq!(
            code,
            StatusCode::OK,
            "acknowledged secret lost after kill -9"
        );
        assert_eq!(viewed["secret"].as_str(), Some(text.as_str()));
    }
}
