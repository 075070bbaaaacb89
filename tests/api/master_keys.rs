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

/// `retire` drops the oldest key only once nothing stored needs it: it says how many secrets and
/// API keys still do; a secret stops needing it when it is purged, an API key when it is next
/// used (it moves to the newest key); afterwards that API key still signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retire_waits_until_nothing_needs_the_key_and_api_keys_move_on_use() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = account(dir.path(), "owner@example.com", "api");
    // A revoked account's API key is refused anyway: it needs no key.
    account(dir.path(), "gone@example.com", "api");
    burnbox(dir.path(), &["account", "revoke", "gone@example.com"]).expect("revoked");
    let flags = ["--test-min-ttl", "1", "--sweep-interval-ms", "200"];
    let mut server = ServerProcess::start(dir.path(), &flags).await;
    let (status, created) = post(
        &server,
        &token,
        "/api/secrets",
        &json!({"secret": "short-lived", "ttl": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (_, receipt) = keys(&created);
    server.terminate().await;

    burnbox(dir.path(), &["master-key", "rotate"]).expect("rotated");
    let not_oldest = burnbox(dir.path(), &["master-key", "retire", "2"]).expect_err("key 2 seals");
    assert!(
        not_oldest.contains("only the oldest key, 1"),
        "{not_oldest}"
    );
    let needed = burnbox(dir.path(), &["master-key", "retire", "1"]).expect_err("still needed");
    assert!(
        needed.contains("1 stored secret(s) and 1 API key(s)"),
        "{needed}"
    );

    // The secret is purged (twice its one-second TTL), and the API key is used once.
    let mut server = ServerProcess::start(dir.path(), &flags).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while server.api.status(&receipt).await.status() != StatusCode::NOT_FOUND {
        assert!(tokio::time::Instant::now() < deadline, "never purged");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (status, made) = post(
        &server,
        &token,
        "/api/secrets",
        &json!({"secret": "key 2's"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (made_key, _) = keys(&made);
    server.terminate().await;

    let retired = burnbox(dir.path(), &["master-key", "retire", "1"]).expect("nothing needs it");
    assert!(retired.contains("Retired key 1"), "{retired}");
    let listed = burnbox(dir.path(), &["master-key", "list"]).expect("listed");
    assert_eq!(listed, "2\tseals new secrets");
    let key_file = std::fs::read_to_string(dir.path().join("master.key")).expect("key file");
    assert!(
        !key_file.lines().any(|line| line.starts_with("1 ")),
        "{key_file}"
    );

    // Without key 1: the API key (moved on its use) signs in, and key 2's secret opens.
    let server = ServerProcess::start(dir.path(), &flags).await;
    let (status, _) = post(&server, &token, "/api/secrets", &json!({"secret": "after"})).await;
    assert_eq!(status, StatusCode::OK, "the moved API key signs in");
    let (status, viewed) = status_and_json(server.api.view(&made_key, None).await).await;
    assert_eq!(
        (status, viewed["secret"].clone()),
        (StatusCode::OK, json!("key 2's"))
    );
}

/// With the keys in `BURNBOX_MASTER_KEY` (several nodes, usually), `retire` counts the same and
/// says whether the entry may go; the variable is the operator's to change.
#[test]
fn retire_counts_keys_held_in_the_environment_and_leaves_the_variable_to_the_operator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = "1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=;2 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_burnbox"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env("BURNBOX_MASTER_KEY", keys)
            .output()
            .expect("binary runs")
    };
    let made = run(&["account", "create", "env@example.com", "--tier", "api"]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // The account's API key was made under key 2: key 1 is needed by nothing.
    let retired = run(&["master-key", "retire", "1"]);
    let said = String::from_utf8_lossy(&retired.stdout);
    assert!(
        retired.status.success(),
        "{}",
        String::from_utf8_lossy(&retired.stderr)
    );
    assert!(
        said.contains("Nothing stored needs key 1: remove its entry from BURNBOX_MASTER_KEY"),
        "{said}"
    );
    assert!(!said.contains("AAECAwQF"), "no key is printed");
    assert!(
        !dir.path().join("master.key").exists(),
        "no key file is written"
    );
}
