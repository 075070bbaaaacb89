//! The documented flow, field by field.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{keys, spawn_app, status_and_json};

fn is_iso_millis(value: &serde_json::Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    text.len() == 24
        && text.ends_with('Z')
        && text.as_bytes()[10] == b'T'
        && text.as_bytes()[19] == b'.'
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_status_view_burn_as_documented() {
    let app = spawn_app().await;
    let created = app
        .create_ok(&json!({
            "secret": "my-super-secret-password",
            "ttl": 86400,
            "maxViews": 1,
            "passphrase": "optional-password"
        }))
        .await;
    let (secret_key, metadata_key) = keys(&created);
    assert_eq!(created["success"], true);
    let metadata = &created["metadata"];
    assert_eq!(metadata["ttl"], 86400);
    assert_eq!(metadata["hasPassphrase"], true);
    assert_eq!(metadata["maxViews"], 1);
    assert_eq!(metadata["viewCount"], 0);
    assert!(is_iso_millis(&metadata["expiresAt"]) && is_iso_millis(&metadata["createdAt"]));
    assert_ne!(secret_key, metadata_key);
    for key in [&secret_key, &metadata_key] {
        assert!(
            key.len() >= 25
                && key
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
    }
    assert_eq!(
        created["secretUrl"],
        format!("{}/secret/{secret_key}", app.base)
    );
    assert_eq!(
        created["metadataUrl"],
        format!("{}/receipt/{metadata_key}", app.base)
    );
    assert!(
        created["requestId"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_"))
    );

    // Status with the metadata key: shows the secret key, counts no view.
    let response = app.status(&metadata_key).await;
    let header_id = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let (code, status) = status_and_json(response).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["requestId"], header_id);
    assert_eq!(status["exists"], true);
    assert_eq!(status["type"], "metadata");
    assert_eq!(status["viewed"], false);
    assert_eq!(status["burned"], false);
    assert_eq!(status["expiresAt"], metadata["expiresAt"]);
    assert_eq!(status["hasPassphrase"], true);
    assert_eq!(status["secretKey"], secret_key.as_str());
    assert_eq!(status["maxViews"], 1);
    assert_eq!(status["viewCount"], 0);
    assert_eq!(status["viewsRemaining"], 1);

    // Status with the secret key: type secret, no key echoed, still no view counted.
    let (code, status) = status_and_json(app.status(&secret_key).await).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["type"], "secret");
    assert!(status.get("secretKey").is_none());
    assert_eq!(status["viewCount"], 0);

    // A wrong passphrase costs no view.
    let (code, error) = status_and_json(
        app.view(&secret_key, Some(&json!({"passphrase": "nope"})))
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(error["code"], "INVALID_PASSPHRASE");
    assert_eq!(error["error"], "Invalid passphrase");
    assert_eq!(
        error["triesLeft"], 4,
        "a burnbox extension beside the documented body"
    );
    assert_eq!(
        error["hint"],
        "The secret is password-protected. Include the correct 'passphrase' in your request body."
    );
    let (code, _) = status_and_json(app.view(&secret_key, None).await).await;
    assert_eq!(
        code,
        StatusCode::UNAUTHORIZED,
        "a missing passphrase is refused too"
    );
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 0);

    let (code, viewed) = status_and_json(
        app.view(
            &secret_key,
            Some(&json!({"passphrase": "optional-password"})),
        )
        .await,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(viewed["success"], true);
    assert_eq!(viewed["secret"], "my-super-secret-password");
    assert_eq!(viewed["oneClickRetrieval"], true);
    assert_eq!(viewed["viewsRemaining"], 0);

    let (code, error) = status_and_json(
        app.view(
            &secret_key,
            Some(&json!({"passphrase": "optional-password"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (code, error["code"].as_str()),
        (StatusCode::GONE, Some("MAX_VIEWS_REACHED"))
    );

    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(status["exists"], false);
    assert_eq!(status["viewed"], true);
    assert_eq!(status["viewCount"], 1);
    assert!(
        status.get("secretKey").is_none(),
        "the key is not shown once the secret is gone"
    );

    let (code, error) = status_and_json(app.burn(&metadata_key).await).await;
    assert_eq!(
        (code, error["code"].as_str()),
        (StatusCode::GONE, Some("MAX_VIEWS_REACHED"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burn_destroys_an_unread_secret() {
    let app = spawn_app().await;
    let (secret_key, metadata_key) = keys(
        &app.create_ok(&json!({"secret": "burn me", "maxViews": 5}))
            .await,
    );
    let (code, burned) = status_and_json(app.burn(&metadata_key).await).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(burned["success"], true);
    assert_eq!(burned["message"], "Secret burned successfully");
    let (code, error) = status_and_json(app.view(&secret_key, None).await).await;
    assert_eq!(
        (code, error["code"].as_str()),
        (StatusCode::GONE, Some("SECRET_BURNED"))
    );
    let (_, status) = status_and_json(app.status(&metadata_key).await).await;
    assert_eq!(
        (status["burned"].as_bool(), status["exists"].as_bool()),
        (Some(true), Some(false))
    );
    let (code, error) = status_and_json(app.burn(&metadata_key).await).await;
    assert_eq!(
        (code, error["code"].as_str()),
        (StatusCode::GONE, Some("SECRET_BURNED"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipient_may_delete_only_when_allowed() {
    let app = spawn_app().await;
    let (secret_key, _) = keys(
        &app.create_ok(&json!({"secret": "s", "maxViews": 3, "allowDeletion": false}))
            .await,
    );
    let (code, error) = status_and_json(app.burn(&secret_key).await).await;
    assert_eq!(
        (code, error["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );
    assert_eq!(
        app.view(&secret_key, None).await.status(),
        StatusCode::OK,
        "still readable"
    );

    // Allowed, the recipient may delete it after viewing it ("allow recipient to delete after
    // viewing"), not before: a link's holder cannot destroy a secret unread.
    let (secret_key, metadata_key) =
        keys(&app.create_ok(&json!({"secret": "s", "maxViews": 3})).await);
    let (code, error) = status_and_json(app.burn(&secret_key).await).await;
    assert_eq!(
        (code, error["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN")),
        "{error}"
    );
    let status: serde_json::Value = app.status(&metadata_key).await.json().await.expect("json");
    assert_eq!(
        (status["state"].as_str(), status["viewCount"].as_u64()),
        (Some("live"), Some(0))
    );
    assert_eq!(app.view(&secret_key, None).await.status(), StatusCode::OK);
    assert_eq!(app.burn(&secret_key).await.status(), StatusCode::OK);
    assert_eq!(app.view(&secret_key, None).await.status(), StatusCode::GONE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_and_unlimited_views() {
    let app = spawn_app().await;
    let created = app.create_ok(&json!({"secret": "defaults"})).await;
    assert_eq!(created["metadata"]["ttl"], 86400);
    assert_eq!(created["metadata"]["maxViews"], 1);
    assert_eq!(created["metadata"]["hasPassphrase"], false);

    let created = app
        .create_ok(&json!({"secret": "many", "maxViews": null, "oneClickRetrieval": false}))
        .await;
    assert!(created["metadata"]["maxViews"].is_null());
    let (secret_key, _) = keys(&created);
    for _ in 0..5 {
        let (code, viewed) = status_and_json(app.view(&secret_key, None).await).await;
        assert_eq!(code, StatusCode::OK);
        assert!(viewed["viewsRemaining"].is_null());
        assert_eq!(viewed["oneClickRetrieval"], false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_are_not_found() {
    let app = spawn_app().await;
    let unknown = "a".repeat(25);
    for response in [
        app.status(&unknown).await,
        app.view(&unknown, None).await,
        app.burn(&unknown).await,
    ] {
        let (code, error) = status_and_json(response).await;
        assert_eq!(
            (code, error["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
        );
    }
    // The metadata key does not reveal the secret.
    let (_, metadata_key) = keys(&app.create_ok(&json!({"secret": "s"})).await);
    assert_eq!(
        app.view(&metadata_key, None).await.status(),
        StatusCode::NOT_FOUND
    );
}
