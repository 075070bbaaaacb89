//! Master-key rotation with the real binary: `burnbox master-key rotate` adds a key, and after a
//! restart everything made under the older key (secrets, file details, receipts, owners' receipt
//! lists, API keys) still works while new secrets are sealed under the new one.

use std::path::Path;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::accounts::{account, burnbox};
use crate::helpers::{ServerProcess, keys, status_and_json};

/// `POST path` on `server` with `token`, JSON `body`.
async fn post(
    server: &ServerProcess,
    token: &str,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let response = server
        .api
        .client
        .post(format!("{}{path}", server.api.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    status_and_json(response).await
}

/// The key file with only its first key (as a node that has not learnt the new one has it).
fn first_key_only(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(dir.join("master.key")).expect("key file");
    let first = text
        .lines()
        .find(|line| line.starts_with("1 "))
        .expect("key 1")
        .to_owned();
    let path = dir.join("only-key-1");
    std::fs::write(&path, format!("{first}\n")).expect("written");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_what_the_older_key_made_still_works_and_new_secrets_use_the_new_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = account(dir.path(), "owner@example.com", "api");
    let mut server = ServerProcess::start(dir.path(), &[]).await;

    let (status, text) = post(
        &server,
        &token,
        "/api/secrets",
        &json!({"secret": "made under key 1", "passphrase": "pw", "maxViews": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (text_secret, text_receipt) = keys(&text);
    let (_, untouched) = post(
        &server,
        &token,
        "/api/secrets",
        &json!({"secret": "untouched"}),
    )
    .await;
    let (untouched_secret, _) = keys(&untouched);
    let file = Form::new().part("file", Part::bytes(vec![7u8; 2000]).file_name("before.bin"));
    let response = server
        .api
        .client
        .post(format!("{}/api/secrets", server.api.base))
        .bearer_auth(&token)
        .multipart(file)
        .send()
        .await
        .expect("upload");
    let (status, file) = status_and_json(response).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let (file_secret, _) = keys(&file);
    let response = server
        .api
        .client
        .post(format!("{}/api/v1/share", server.api.base))
        .basic_auth("owner@example.com", Some(&token))
        .form(&[("secret", "OTS under key 1")])
        .send()
        .await
        .expect("share");
    let (status, shared) = status_and_json(response).await;
    assert_eq!(status, StatusCode::OK, "{shared}");
    let ots_receipt = shared["metadata_key"]
        .as_str()
        .expect("receipt key")
        .to_owned();
    let ots_secret = shared["secret_key"]
        .as_str()
        .expect("secret key")
        .to_owned();
    server.terminate().await;

    let rotated = burnbox(dir.path(), &["master-key", "rotate"]).expect("rotated");
    assert!(rotated.contains("2\tseals new secrets"), "{rotated}");
    let listed = burnbox(dir.path(), &["master-key", "list"]).expect("listed");
    assert_eq!(listed, "1\topens what it sealed\n2\tseals new secrets");
    let server = ServerProcess::start(dir.path(), &[]).await;

    // The secret, its receipt and the file's details made under key 1.
    let (status, viewed) = status_and_json(
        server
            .api
            .view(&text_secret, Some(&json!({"passphrase": "pw"})))
            .await,
    )
    .await;
    assert_eq!(
        (status, viewed["secret"].clone()),
        (StatusCode::OK, json!("made under key 1"))
    );
    let (_, receipt) = status_and_json(server.api.status(&text_receipt).await).await;
    assert_eq!(receipt["secretKey"], json!(text_secret), "{receipt}");
    let (_, file_status) = status_and_json(server.api.status(&file_secret).await).await;
    assert_eq!(file_status["file"]["name"], "before.bin", "{file_status}");
    // The API key made under key 1 still signs in, and its receipt list opens.
    let recent = server
        .api
        .client
        .get(format!("{}/api/v1/private/recent", server.api.base))
        .basic_auth("owner@example.com", Some(&token))
        .send()
        .await
        .expect("recent");
    let (status, recent) = status_and_json(recent).await;
    assert_eq!(status, StatusCode::OK, "{recent}");
    assert!(
        recent
            .as_array()
            .expect("a list")
            .iter()
            .any(|r| r["metadata_key"] == json!(ots_receipt)),
        "{recent}"
    );
    let (status, revealed) = status_and_json(
        server
            .api
            .client
            .post(format!("{}/api/v1/secret/{ots_secret}", server.api.base))
            .send()
            .await
            .expect("reveal"),
    )
    .await;
    assert_eq!(
        (status, revealed["value"].clone()),
        (StatusCode::OK, json!("OTS under key 1"))
    );

    // A secret made now is sealed under key 2: a node that holds key 1 alone cannot find it,
    // while it still reads what key 1 made.
    let (status, made_after) = post(
        &server,
        &token,
        "/api/secrets",
        &json!({"secret": "made under key 2"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made_after}");
    let (new_secret, _) = keys(&made_after);
    let mut server = server;
    server.terminate().await;
    let only_one = first_key_only(dir.path());
    let old_node = ServerProcess::start(
        dir.path(),
        &["--master-key-file", only_one.to_str().expect("utf-8 path")],
    )
    .await;
    assert_eq!(
        old_node.api.status(&new_secret).await.status(),
        StatusCode::NOT_FOUND
    );
    // A record written since key 2 sealed is tagged under key 2 too, which is why every node
    // must hold a new key before it activates (`rotate --activate-in`); one nobody touched since
    // is key 1's alone.
    let (status, untouched) =
        status_and_json(old_node.api.view(&untouched_secret, None).await).await;
    assert_eq!(
        (status, untouched["secret"].clone()),
        (StatusCode::OK, json!("untouched"))
    );
}

#[test]
fn rotate_refuses_keys_from_the_environment_and_a_missing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = burnbox(dir.path(), &["master-key", "rotate"]).expect_err("no file yet");
    assert!(missing.contains("no key file"), "{missing}");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_burnbox"))
        .args(["master-key", "rotate", "--data-dir"])
        .arg(dir.path())
        .env(
            "BURNBOX_MASTER_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("BURNBOX_MASTER_KEY"), "{said}");
    assert!(
        !said.contains("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        "the key is not echoed"
    );
}
