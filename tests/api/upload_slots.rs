//! The slots of large bodies against the real server: anonymous uploads leave API keys their
//! share, one client address holds a quarter of the slots at most, and a large text secret takes
//! a slot as a file does (so a few huge JSON bodies cannot take the memory).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::accounts::account;
use crate::helpers::{ApiClient, TestApp, files_under, spawn_app_in, status_and_json};

/// An upload that sent its first bytes and waits, holding its slot, until `finish` is dropped.
struct HeldUpload {
    finish: mpsc::Sender<std::io::Result<Vec<u8>>>,
    answer: JoinHandle<reqwest::Result<reqwest::Response>>,
}

impl HeldUpload {
    /// Ends the file and returns the server's answer.
    async fn finish(self) -> reqwest::Response {
        drop(self.finish);
        self.answer
            .await
            .expect("task")
            .expect("the upload is answered")
    }
}

/// A `POST /api/secrets` multipart request from `client_ip` (behind the trusted loopback proxy)
/// with an optional bearer `token`.
fn upload_request(
    api: &ApiClient,
    client_ip: &str,
    token: Option<&str>,
    form: Form,
) -> reqwest::RequestBuilder {
    let request = api
        .client
        .post(format!("{}/api/secrets", api.base))
        .header("x-forwarded-for", client_ip)
        .multipart(form);
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// Starts an upload from `client_ip` that sends 100 kB and then waits.
async fn hold_upload(api: &ApiClient, client_ip: &str) -> HeldUpload {
    let (finish, waiting) = mpsc::channel(1);
    finish
        .send(Ok(vec![1u8; 100_000]))
        .await
        .expect("first chunk");
    let chunks = futures_util::stream::unfold(waiting, |mut waiting| async move {
        waiting.recv().await.map(|chunk| (chunk, waiting))
    });
    let part = Part::stream(reqwest::Body::wrap_stream(chunks)).file_name("held.bin");
    let request = upload_request(api, client_ip, None, Form::new().part("file", part));
    HeldUpload {
        finish,
        answer: tokio::spawn(request.send()),
    }
}

/// Waits until `count` uploads are being written (each has its partial file on disk).
async fn wait_for_uploads_in_progress(app: &TestApp, count: usize) {
    let partial = app.data_dir.path().join("blobs").join("partial");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = files_under(&partial).len();
        if seen == count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{seen} uploads in progress, waited for {count}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A small upload from `client_ip`: its status and body.
async fn small_upload(
    api: &ApiClient,
    client_ip: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let form = Form::new().part("file", Part::bytes(vec![7u8; 1000]).file_name("small.bin"));
    let response = upload_request(api, client_ip, token, form)
        .send()
        .await
        .expect("request");
    status_and_json(response).await
}

fn assert_busy(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_uploads_leave_api_keys_their_slots_and_one_address_a_quarter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = account(dir.path(), "uploader@example.com", "api");
    // Four slots: one kept for API keys, one at most per client.
    let app = spawn_app_in(dir, |s| {
        s.max_uploads = 4;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;

    let first = hold_upload(&app, "192.0.2.1").await;
    wait_for_uploads_in_progress(&app, 1).await;
    let (status, body) = small_upload(&app, "192.0.2.1", None).await;
    assert_busy(status, &body, "a second upload from the same address");

    let others = [
        hold_upload(&app, "192.0.2.2").await,
        hold_upload(&app, "192.0.2.3").await,
    ];
    wait_for_uploads_in_progress(&app, 3).await;
    let (status, body) = small_upload(&app, "192.0.2.4", None).await;
    assert_busy(status, &body, "a fourth anonymous upload");
    let (status, body) = small_upload(&app, "192.0.2.4", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "the slot kept for API keys: {body}");

    for held in [first].into_iter().chain(others) {
        assert_eq!(held.finish().await.status(), StatusCode::OK);
    }
    let (status, body) = small_upload(&app, "192.0.2.1", None).await;
    assert_eq!(status, StatusCode::OK, "slots come back: {body}");
}

/// A JSON body of `text_bytes` characters of text, sent with or without a declared length.
async fn large_text_create(
    api: &ApiClient,
    token: &str,
    text_bytes: usize,
    declared: bool,
) -> (StatusCode, Value) {
    let body = serde_json::to_vec(&json!({"secret": "x".repeat(text_bytes)})).expect("json");
    let request = api
        .client
        .post(format!("{}/api/secrets", api.base))
        .bearer_auth(token)
        .header("content-type", "application/json");
    let request = if declared {
        request.body(body)
    } else {
        let chunks: Vec<std::io::Result<Vec<u8>>> =
            body.chunks(256 * 1024).map(|c| Ok(c.to_vec())).collect();
        request.body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
    };
    status_and_json(request.send().await.expect("request")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_text_secret_takes_an_upload_slot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = account(dir.path(), "sender@example.com", "api");
    let app = spawn_app_in(dir, |s| {
        s.max_uploads = 1;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    let held = hold_upload(&app, "192.0.2.1").await;
    wait_for_uploads_in_progress(&app, 1).await;

    for declared in [true, false] {
        let (status, body) = large_text_create(&app, &token, 3 << 20, declared).await;
        assert_busy(
            status,
            &body,
            &format!("3 MiB of text (declared length: {declared})"),
        );
    }
    let (status, body) = large_text_create(&app, &token, 100_000, true).await;
    assert_eq!(status, StatusCode::OK, "small text needs no slot: {body}");

    assert_eq!(held.finish().await.status(), StatusCode::OK);
    for declared in [true, false] {
        let (status, body) = large_text_create(&app, &token, 3 << 20, declared).await;
        assert_eq!(status, StatusCode::OK, "declared length {declared}: {body}");
        let (secret_key, _) = crate::helpers::keys(&body);
        let (status, viewed) = status_and_json(app.view(&secret_key, None).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(viewed["secret"].as_str().map(str::len), Some(3 << 20));
    }
}
