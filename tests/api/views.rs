//! View limits and racing reveals.

use std::sync::Arc;

use burnbox::domain::LockoutPolicy;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{keys, spawn_app, spawn_app_for_races, spawn_app_with, status_and_json};

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
    let app = Arc::new(spawn_app_for_races().await);
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
async fn fifty_racing_wrong_passphrases_lock_the_secret_and_cost_no_views() {
    let app = Arc::new(
        spawn_app_with(|s| {
            s.lockout = LockoutPolicy {
                max_failures: 5,
                window_ms: 600_000,
                lock_ms: 2_000,
            };
        })
        .await,
    );
    let (secret_key, metadata_key) = keys(
        &app.create_ok(&json!({"secret": "guarded", "maxViews": 2, "passphrase": "right"}))
            .await,
    );
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let app = Arc::clone(&app);
            let key = secret_key.clone();
            tokio::spawn(async move {
                let response = app
                    .view(&key, Some(&json!({"passphrase": format!("wrong{i}")})))
                    .await;
                let retry_after = response.headers().get("retry-after").cloned();
                (response.status(), retry_after)
            })
        })
        .collect();
    let (mut wrong, mut locked) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            (StatusCode::UNAUTHORIZED, _) => wrong += 1,
            (StatusCode::TOO_MANY_REQUESTS, Some(_)) => locked += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        (wrong, locked),
        (5, 45),
        "five guesses, then the lock holds"
    );
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 0, "no guess cost a view");
    assert_locked(&app, &secret_key, "even the right one waits").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (code, body) = status_and_json(
        app.view(&secret_key, Some(&json!({"passphrase": "right"})))
            .await,
    )
    .await;
    assert_eq!(
        (code, body["secret"].as_str()),
        (StatusCode::OK, Some("guarded")),
        "the lock ends"
    );
}

/// A lock is part of the record: a restart does not lift it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_lock_survives_a_restart() {
    let app = spawn_app().await;
    let (secret_key, _) = keys(
        &app.create_ok(&json!({"secret": "guarded", "passphrase": "right"}))
            .await,
    );
    for n in 0..5 {
        let response = app
            .view(
                &secret_key,
                Some(&json!({"passphrase": format!("wrong{n}")})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let dir = app.stop().await;
    let app = crate::helpers::spawn_app_in(dir, |_| {}).await;
    assert_locked(&app, &secret_key, "still locked after the restart").await;
}

/// The right passphrase, "right", is refused as locked.
async fn assert_locked(app: &crate::helpers::TestApp, secret_key: &str, why: &str) {
    let (code, body) = status_and_json(
        app.view(secret_key, Some(&json!({"passphrase": "right"})))
            .await,
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMIT_EXCEEDED")),
        "{why}"
    );
}

/// Reveals of `secret_key` sent all at once: how many got the secret (200) and how many were
/// told it is gone (410); any other answer fails the test.
async fn racing_reveals(
    app: &Arc<crate::helpers::TestApp>,
    secret_key: &str,
    count: usize,
) -> (usize, usize) {
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (app, key) = (Arc::clone(app), secret_key.to_owned());
            tokio::spawn(async move { app.view(&key, None).await.status() })
        })
        .collect();
    let (mut served, mut gone) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            StatusCode::OK => served += 1,
            StatusCode::GONE => gone += 1,
            other => panic!("unexpected {other}"),
        }
    }
    (served, gone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_racing_reveals_of_a_three_view_secret_give_exactly_three() {
    let app = Arc::new(spawn_app_for_races().await);
    let (secret_key, metadata_key) = keys(
        &app.create_ok(&json!({"secret": "thrice", "maxViews": 3}))
            .await,
    );
    assert_eq!(racing_reveals(&app, &secret_key, 100).await, (3, 97));
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(
        (status["viewCount"].as_u64(), status["state"].as_str()),
        (Some(3), Some("received"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveals_racing_a_burn_stop_at_the_burn_and_are_all_counted() {
    let app = Arc::new(spawn_app_for_races().await);
    let (secret_key, metadata_key) = keys(
        &app.create_ok(&json!({"secret": "race", "maxViews": 999}))
            .await,
    );
    let burner = {
        let (app, key) = (Arc::clone(&app), metadata_key.clone());
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            app.burn(&key).await.status()
        })
    };
    let (served, gone) = racing_reveals(&app, &secret_key, 200).await;
    assert_eq!(burner.await.expect("task"), StatusCode::OK);
    assert_eq!(served + gone, 200);
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(status["state"], "burned");
    assert_eq!(
        status["viewCount"].as_u64(),
        Some(served as u64),
        "every view handed out was counted, none after the burn"
    );
    assert_eq!(app.view(&secret_key, None).await.status(), StatusCode::GONE);
}

/// An actor that went idle hands its secret back to the store; the next request brings it back
/// with its count. (Its own process, so the resident-actor gauge is this server's alone.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passivated_secret_comes_back_with_its_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = crate::helpers::ServerProcess::start(
        dir.path(),
        &["--actor-idle-secs", "1", "--sweep-interval-ms", "100"],
    )
    .await;
    let app = &server.api;
    let (secret_key, metadata_key) = keys(
        &app.create_ok(&json!({"secret": "idle", "maxViews": 3}))
            .await,
    );
    assert_eq!(app.view(&secret_key, None).await.status(), StatusCode::OK);
    // The gauge is refreshed on every sweep (each 100 ms here): first the actor is seen, then
    // seen gone once idle for its second.
    let resident = |text: &str| crate::helpers::sample(text, "burnbox_resident_actors");
    let mut seen = Vec::new();
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let now = resident(&app.scrape().await);
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        if seen.contains(&Some(1.0)) && now == Some(0.0) {
            break;
        }
    }
    assert!(
        seen.ends_with(&[Some(1.0), Some(0.0)]),
        "resident, then passivated: {seen:?}"
    );
    assert_eq!(app.view(&secret_key, None).await.status(), StatusCode::OK);
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 2, "the count came back from the store");
    assert_eq!(app.view(&secret_key, None).await.status(), StatusCode::OK);
    assert_eq!(app.view(&secret_key, None).await.status(), StatusCode::GONE);
}
