//! Restarts and crashes lose nothing a client was told succeeded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::helpers::{ServerProcess, keys};

async fn post_json(
    client: &Client,
    url: String,
    body: Value,
) -> reqwest::Result<(StatusCode, Value)> {
    let response = client.post(url).json(&body).send().await?;
    let status = response.status();
    Ok((status, response.json().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_secret_and_its_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let client = Client::new();
    let mut server = ServerProcess::start(dir.path(), &[]).await;
    let create = |n: usize| {
        post_json(
            &client,
            format!("{}/api/secrets", server.base),
            json!({"secret": format!("secret {n}"), "maxViews": 3}),
        )
    };
    let (_, first) = create(1).await.expect("create");
    let (_, second) = create(2).await.expect("create");
    let (_, third) = create(3).await.expect("create");
    let (first_secret, first_meta) = keys(&first);
    let (_, second_meta) = keys(&second);
    let (third_secret, _) = keys(&third);
    for _ in 0..2 {
        let (code, _) = post_json(
            &client,
            format!("{}/api/secrets/{first_secret}", server.base),
            json!({}),
        )
        .await
        .expect("view");
        assert_eq!(code, StatusCode::OK);
    }
    let burned = client
        .delete(format!("{}/api/secrets/{second_meta}", server.base))
        .send()
        .await
        .expect("burn");
    assert_eq!(burned.status(), StatusCode::OK);
    server.terminate().await;

    let server = ServerProcess::start(dir.path(), &[]).await;
    let status: Value = client
        .get(format!("{}/api/secrets/{first_meta}", server.base))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["viewCount"], 2);
    let status: Value = client
        .get(format!("{}/api/secrets/{second_meta}", server.base))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["burned"], true);
    let (code, viewed) = post_json(
        &client,
        format!("{}/api/secrets/{first_secret}", server.base),
        json!({}),
    )
    .await
    .expect("view");
    assert_eq!(
        (
            code,
            viewed["secret"].as_str(),
            viewed["viewsRemaining"].as_u64()
        ),
        (StatusCode::OK, Some("secret 1"), Some(0))
    );
    let (code, viewed) = post_json(
        &client,
        format!("{}/api/secrets/{third_secret}", server.base),
        json!({}),
    )
    .await
    .expect("view");
    assert_eq!(
        (code, viewed["viewsRemaining"].as_u64()),
        (StatusCode::OK, Some(2))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_burst_loses_no_acknowledged_create() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(dir.path(), &[]).await;
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let running = Arc::new(AtomicBool::new(true));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let url = format!("{}/api/secrets", server.base);
            let acknowledged = Arc::clone(&acknowledged);
            let running = Arc::clone(&running);
            tokio::spawn(async move {
                let client = Client::new();
                let mut n = 0;
                while running.load(Ordering::Relaxed) {
                    n += 1;
                    let text = format!("burst {writer}-{n}");
                    match post_json(&client, url.clone(), json!({"secret": text})).await {
                        Ok((StatusCode::OK, body)) => {
                            acknowledged.lock().await.push((keys(&body).0, text))
                        }
                        Ok((code, body)) => panic!("create failed before the kill: {code} {body}"),
                        Err(_) => return, // the server died mid-request: not acknowledged
                    }
                }
            })
        })
        .collect();
    // Let the burst run, then kill without warning while requests are in flight.
    let started = tokio::time::Instant::now();
    while acknowledged.lock().await.len() < 200 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill_hard().await;
    running.store(false, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(
        acknowledged.len() >= 200,
        "the burst ran ({} creates)",
        acknowledged.len()
    );

    let server = ServerProcess::start(dir.path(), &[]).await;
    let client = Client::new();
    for (secret_key, text) in &acknowledged {
        let (code, viewed) = post_json(
            &client,
            format!("{}/api/secrets/{secret_key}", server.base),
            json!({}),
        )
        .await
        .expect("view");
        assert_eq!(
            code,
            StatusCode::OK,
            "acknowledged secret lost after kill -9"
        );
        assert_eq!(viewed["secret"].as_str(), Some(text.as_str()));
    }
}
