//! View limits and racing reveals.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{keys, spawn_app, status_and_json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_views_then_gone() {
    let app = spawn_app().await;
    let (secret_key, metadata_key) = keys(
        &app.create_ok(&json!({"secret": "thrice", "maxViews": 3}))
            .await,
    );
    for remaining in [2, 1, 0] {
        let (code, viewed) = status_and_json(app.view(&secret_key, None).await).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(viewed["secret"], "thrice");
        assert_eq!(viewed["viewsRemaining"], remaining);
    }
    let (code, error) = status_and_json(app.view(&secret_key, None).await).await;
    assert_eq!(
        (code, error["code"].as_str()),
        (StatusCode::GONE, Some("MAX_VIEWS_REACHED"))
    );
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_racing_reveals_give_one_secret() {
    let app = Arc::new(spawn_app().await);
    let (secret_key, metadata_key) = keys(&app.create_ok(&json!({"secret": "only once"})).await);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let app = Arc::clone(&app);
            let key = secret_key.clone();
            tokio::spawn(async move { status_and_json(app.view(&key, None).await).await })
        })
        .collect();
    let mut revealed = 0;
    for task in tasks {
        let (code, body) = task.await.expect("task");
        match code {
            StatusCode::OK => {
                assert_eq!(body["secret"], "only once");
                revealed += 1;
            }
            StatusCode::GONE => assert_eq!(body["code"], "MAX_VIEWS_REACHED"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(revealed, 1);
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_wrong_passphrases_cost_no_views() {
    let app = Arc::new(spawn_app().await);
    let (secret_key, metadata_key) = keys(
        &app.create_ok(&json!({"secret": "guarded", "maxViews": 2, "passphrase": "right"}))
            .await,
    );
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = Arc::clone(&app);
            let key = secret_key.clone();
            tokio::spawn(async move {
                app.view(&key, Some(&json!({"passphrase": format!("wrong{i}")})))
                    .await
                    .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task"), StatusCode::UNAUTHORIZED);
    }
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 0);
    assert_eq!(
        app.view(&secret_key, Some(&json!({"passphrase": "right"})))
            .await
            .status(),
        StatusCode::OK
    );
}
