//! File secrets through `POST /api/secrets` (multipart), on both blob backends: local files and a
//! real S3-compatible server (`s3s-fs`). The blobs are inspected where they really are: the data
//! directory, or the S3 server's folder behind the bucket.

use std::path::PathBuf;
use std::time::Duration;

use burnbox::config::BlobSettings;
use burnbox::config::Settings;
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    ApiClient, ServerProcess, TestApp, files_under, keys, sample, spawn_app_with, status_and_json,
    stored_records,
};
use burnbox::storage::blob::S3Settings;
use burnbox_testkit::s3::S3Server;
use burnbox_testkit::sample::sample_file;

/// The largest file an API-tier caller may send: 50 MB.
/// "50 MB" as a file manager shows it: 50 MiB, the largest file the API tier takes.
const FIFTY_MB: usize = 52_428_800;
/// One sealed chunk on disk: 64 KiB of plaintext and a 16-byte tag.
const SEALED_CHUNK: usize = 64 * 1024 + 16;

/// Where file contents go in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `<data dir>/blobs`.
    Fs,
    /// An S3 bucket on `s3s-fs`.
    S3,
}

/// A server with one blob backend, in this process.
pub struct FileApp {
    pub app: TestApp,
    pub s3: Option<S3Server>,
}

impl FileApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tune: impl FnOnce(&mut Settings)) -> Self {
        let s3 = match backend {
            Backend::Fs => None,
            Backend::S3 => Some(S3Server::start().await),
        };
        let blobs = match &s3 {
            Some(server) => BlobSettings::S3(server.settings()),
            None => BlobSettings::Fs,
        };
        let app = spawn_app_with(|settings| {
            settings.blobs = blobs;
            tune(settings);
        })
        .await;
        Self { app, s3 }
    }

    /// Every blob stored now: files under `<data dir>/blobs`, or objects in the bucket.
    pub fn blobs(&self) -> Vec<PathBuf> {
        match &self.s3 {
            Some(server) => files_under(&server.bucket_dir()),
            None => files_under(&self.app.data_dir.path().join("blobs")),
        }
    }

    /// Every file either store keeps (the data directory and the S3 server's folder).
    pub fn stored_files(&self) -> Vec<PathBuf> {
        let mut files = files_under(self.app.data_dir.path());
        if let Some(server) = &self.s3 {
            files.extend(files_under(server.root()));
        }
        files
    }
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

impl ApiClient {
    /// `POST /api/secrets` as a multipart form: the file, then the text parts.
    pub async fn upload(
        &self,
        file: Vec<u8>,
        name: &str,
        content_type: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let part = Part::bytes(file)
            .file_name(name.to_owned())
            .mime_str(content_type)
            .expect("media type");
        let mut form = Form::new().part("file", part);
        for (key, value) in fields {
            form = form.text((*key).to_owned(), (*value).to_owned());
        }
        self.post_form(form).await.expect("request")
    }

    /// `POST /api/secrets` with any multipart form; `Err` when the request did not complete.
    pub async fn post_form(&self, form: Form) -> reqwest::Result<Response> {
        self.client
            .post(format!("{}/api/secrets", self.base))
            .multipart(form)
            .send()
            .await
    }

    /// `POST /api/secrets` with a file part streamed from `chunks`, of no declared length.
    pub async fn upload_stream(
        &self,
        chunks: impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + Sync + 'static,
        name: &str,
    ) -> reqwest::Result<Response> {
        self.post_form(Form::new().part("file", stream_part(chunks, name)))
            .await
    }
}

/// A form part streamed from `chunks`, of no declared length.
fn stream_part(
    chunks: impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + Sync + 'static,
    name: &str,
) -> Part {
    Part::stream(reqwest::Body::wrap_stream(chunks)).file_name(name.to_owned())
}

/// `count` chunks of 256 KiB of `byte`, produced as the server reads them, and the number of bytes
/// produced so far.
fn counted_chunks(
    count: usize,
    byte: u8,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + Sync + 'static,
) {
    let produced = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&produced);
    let chunks = futures_util::stream::iter((0..count).map(move |_| {
        counter.fetch_add(256 * 1024, std::sync::atomic::Ordering::Relaxed);
        Ok(vec![byte; 256 * 1024])
    }));
    (produced, chunks)
}

impl ApiClient {
    /// Uploads a file and returns its secret key and metadata key.
    pub async fn upload_ok(&self, file: Vec<u8>, fields: &[(&str, &str)]) -> (String, String) {
        let response = self
            .upload(file, "secret.bin", "application/octet-stream", fields)
            .await;
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        keys(&body)
    }
}

/// Views `key` and reads the whole body; `Err` when the transfer was cut short.
async fn download(api: &ApiClient, key: &str) -> (HeaderMap, Result<Vec<u8>, reqwest::Error>) {
    let response = api.view(key, None).await;
    assert_eq!(response.status(), StatusCode::OK, "the view starts");
    let headers = response.headers().clone();
    (headers, response.bytes().await.map(|b| b.to_vec()))
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_fs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Fs).await;
                }
            )*
        }
        mod on_s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::S3).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_50_mb_file_round_trips_byte_for_byte,
    a_file_over_the_limit_is_refused_and_leaves_nothing,
    max_views_two_gives_the_file_twice_then_410,
    burn_and_expiry_remove_the_blob,
    a_resident_file_s_own_timer_deletes_its_blob_at_expiry,
    a_file_whose_whole_lifetime_passed_unswept_is_purged_with_its_blob,
    no_plaintext_reaches_the_stores,
    a_tampered_truncated_or_reordered_blob_fails_the_reveal,
    an_orphaned_blob_is_swept,
    an_upload_cut_off_by_the_client_leaves_nothing,
);

async fn a_50_mb_file_round_trips_byte_for_byte(backend: Backend) {
    let f = FileApp::start(backend).await;
    let file = sample_file(FIFTY_MB, 1);
    let response = f
        .app
        .upload(
            file.clone(),
            "quarterly report.pdf",
            "application/pdf",
            &[("maxViews", "1"), ("secret", "the password is in the PDF")],
        )
        .await;
    let (status, created) = status_and_json(response).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["success"], true);
    let (secret_key, metadata_key) = keys(&created);
    if backend == Backend::S3 {
        // Spooled locally on the way, and the spool file gone once the object is in the bucket.
        let spooled = files_under(&f.app.data_dir.path().join("blobs"));
        assert!(spooled.is_empty(), "spool left behind: {spooled:?}");
    }

    let (_, status) = status_and_json(f.app.status(&metadata_key).await).await;
    assert_eq!(
        status["file"],
        json!({"name": "quarterly report.pdf", "size": FIFTY_MB, "contentType": "application/pdf"})
    );
    let (_, by_secret) = status_and_json(f.app.status(&secret_key).await).await;
    assert_eq!(by_secret["file"], status["file"]);
    assert_eq!(by_secret["viewCount"], 0, "a status is no view");

    let (head, body) = download(&f.app, &secret_key).await;
    let body = body.expect("the whole file arrives");
    assert_eq!(body.len(), FIFTY_MB);
    assert_eq!(sha256(&body), sha256(&file), "byte for byte");
    let header = |name: &str| {
        head.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("application/pdf"));
    assert_eq!(header("content-length"), Some(FIFTY_MB.to_string()));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(
        header("content-security-policy").as_deref(),
        Some("sandbox")
    );
    assert_eq!(
        header("content-disposition").as_deref(),
        Some(
            "attachment; filename=\"quarterly report.pdf\"; filename*=UTF-8''quarterly%20report.pdf"
        )
    );
    assert_eq!(header("x-views-remaining").as_deref(), Some("0"));
    assert_eq!(
        header("x-secret-note").as_deref(),
        Some("the%20password%20is%20in%20the%20PDF")
    );

    let (status, gone) = status_and_json(f.app.view(&secret_key, None).await).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(gone["code"], "MAX_VIEWS_REACHED");
    wait_for_no_blobs(&f).await;
}

/// The last view's blob is deleted once its transfer is done.
async fn wait_for_no_blobs(f: &FileApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !f.blobs().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "blobs left: {:?}",
            f.blobs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_file_over_the_limit_is_refused_and_leaves_nothing(backend: Backend) {
    let f = FileApp::start(backend).await;
    let response = f
        .app
        .upload(
            sample_file(FIFTY_MB + 1, 2),
            "big.bin",
            "application/octet-stream",
            &[],
        )
        .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "CONTENT_TOO_LARGE");
    assert!(
        body["hint"]
            .as_str()
            .unwrap_or_default()
            .contains(&FIFTY_MB.to_string()),
        "{body}"
    );

    // A body sent without a length is refused once it crosses the limit, not read to its end.
    let (sent, chunks) = counted_chunks(400, 7);
    let streamed = f.app.upload_stream(chunks, "endless.bin").await;
    if let Ok(response) = streamed {
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    // A part the document does not list is refused as soon as its head arrives, unread.
    let (_, junk) = counted_chunks(400, 5);
    let form = Form::new().part("junk", stream_part(junk, "junk.bin"));
    if let Ok(response) = f.app.post_form(form).await {
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], "INVALID_PARAMETER");
    }
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        sent < 100 * 1024 * 1024,
        "the server stopped reading near the limit ({sent} of 100 MiB produced)"
    );

    wait_for_no_blobs(&f).await;
    if let Some(server) = &f.s3 {
        // No part of a multipart upload stays anywhere on the S3 server either.
        assert_no_upload_left(server);
    }
    // Neither a partial fs blob nor a spool file of an S3 upload.
    let partial = files_under(&f.app.data_dir.path().join("blobs"));
    assert!(partial.is_empty(), "no partial file: {partial:?}");
    let data = f.app.stop().await;
    assert_eq!(stored_records(data.path()).await, 0, "no record");
}

/// No multipart upload (parts or its record) is left on the S3 server.
fn assert_no_upload_left(server: &S3Server) {
    let leftovers: Vec<_> = files_under(server.root())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".upload"))
        })
        .collect();
    assert!(leftovers.is_empty(), "upload left behind: {leftovers:?}");
}

async fn an_upload_cut_off_by_the_client_leaves_nothing(backend: Backend) {
    let f = FileApp::start(backend).await;
    // 20 MB arrive, then the client's body fails and the request is gone.
    let chunks = futures_util::stream::iter((0..81).map(|i| {
        if i < 80 {
            Ok(vec![9u8; 256 * 1024])
        } else {
            Err(std::io::Error::other("the client gives up"))
        }
    }));
    let sent = f.app.upload_stream(chunks, "cut.bin").await;
    assert!(sent.is_err(), "the request was cut off");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        // A partial fs blob or an S3 upload's spool file.
        let partial = files_under(&f.app.data_dir.path().join("blobs"));
        let upload_left = f.s3.as_ref().is_some_and(|server| {
            files_under(server.root()).iter().any(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(".upload_id"))
            })
        });
        if partial.is_empty() && !upload_left && f.blobs().is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "left behind: {partial:?}, S3 upload parts: {upload_left}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let data = f.app.stop().await;
    assert_eq!(stored_records(data.path()).await, 0);
}

async fn max_views_two_gives_the_file_twice_then_410(backend: Backend) {
    let f = FileApp::start(backend).await;
    let file = sample_file(200_000, 3);
    let (secret_key, _) = f.app.upload_ok(file.clone(), &[("maxViews", "2")]).await;
    for left in ["1", "0"] {
        let (head, body) = download(&f.app, &secret_key).await;
        assert_eq!(body.expect("whole file"), file);
        assert_eq!(
            head.get("x-views-remaining").and_then(|v| v.to_str().ok()),
            Some(left)
        );
    }
    let (status, body) = status_and_json(f.app.view(&secret_key, None).await).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["code"], "MAX_VIEWS_REACHED");
    wait_for_no_blobs(&f).await;
    // The name and type went with the content.
    let (_, status) = status_and_json(f.app.status(&secret_key).await).await;
    assert_eq!(status["state"], "received");
    assert_eq!(status.get("file"), None::<&Value>, "{status}");
}

async fn burn_and_expiry_remove_the_blob(backend: Backend) {
    let f = FileApp::start_with(backend, |s| {
        s.ttl.min = 1;
        s.sweep_interval = Duration::from_millis(100);
    })
    .await;
    let (secret_key, metadata_key) = f.app.upload_ok(sample_file(100_000, 4), &[]).await;
    assert_eq!(f.blobs().len(), 1);
    assert_eq!(f.app.burn(&metadata_key).await.status(), StatusCode::OK);
    assert!(f.blobs().is_empty(), "burn deletes the blob at once");
    let (status, body) = status_and_json(f.app.view(&secret_key, None).await).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::GONE, json!("SECRET_BURNED"))
    );

    let (secret_key, _) = f
        .app
        .upload_ok(sample_file(100_000, 5), &[("ttl", "1")])
        .await;
    assert_eq!(f.blobs().len(), 1);
    wait_for_no_blobs(&f).await;
    let (status, body) = status_and_json(f.app.view(&secret_key, None).await).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::GONE, json!("SECRET_EXPIRED"))
    );
}

/// A file viewed once keeps its actor resident; when its TTL passes, that actor's own timer
/// deletes the blob (the sweeper is held off for the whole test), and the next view is a 410.
async fn a_resident_file_s_own_timer_deletes_its_blob_at_expiry(backend: Backend) {
    let f = FileApp::start_with(backend, |s| {
        s.ttl.min = 1;
        s.sweep_interval = Duration::from_secs(3600);
    })
    .await;
    let file = sample_file(50_000, 7);
    let (secret_key, metadata_key) = f
        .app
        .upload_ok(file.clone(), &[("ttl", "2"), ("maxViews", "3")])
        .await;
    let (_, body) = download(&f.app, &secret_key).await;
    assert_eq!(
        body.expect("whole file"),
        file,
        "the first view loads its actor"
    );
    assert_eq!(f.blobs().len(), 1);
    wait_for_no_blobs(&f).await;
    let (status, body) = status_and_json(f.app.view(&secret_key, None).await).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::GONE, json!("SECRET_EXPIRED"))
    );
    let (_, receipt) = status_and_json(f.app.status(&metadata_key).await).await;
    assert_eq!(receipt["state"], "expired", "{receipt}");
    assert_eq!(receipt["viewCount"], 1, "{receipt}");
}

/// A file secret whose TTL and receipt lifetime both passed before any sweep (downtime, or a
/// slow sweep) goes from live to purged in one step, and its blob goes with it then, not an hour
/// later by the orphan sweep.
async fn a_file_whose_whole_lifetime_passed_unswept_is_purged_with_its_blob(backend: Backend) {
    let f = FileApp::start_with(backend, |s| {
        s.ttl.min = 1;
        s.sweep_interval = Duration::from_secs(4);
    })
    .await;
    let (_, metadata_key) = f
        .app
        .upload_ok(sample_file(10_000, 6), &[("ttl", "1")])
        .await;
    assert_eq!(f.blobs().len(), 1);
    wait_for_no_blobs(&f).await;
    let (status, _) = status_and_json(f.app.status(&metadata_key).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the receipt is gone too");
}

async fn no_plaintext_reaches_the_stores(backend: Backend) {
    let f = FileApp::start(backend).await;
    // Any 4 KiB run of this file holds a whole line of it.
    let line = b"burnbox canary: this line must never be stored in the clear!!\n";
    let file: Vec<u8> = line.iter().copied().cycle().take(1_000_000).collect();
    let name = "payroll-export-canary.csv";
    let note = "note-canary-7f3a";
    let response = f
        .app
        .upload(
            file,
            name,
            "text/csv",
            &[("secret", note), ("passphrase", "pw")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stored = f.stored_files();
    assert!(!f.blobs().is_empty());
    for path in stored {
        let bytes = std::fs::read(&path).expect("readable");
        for needle in [&line[..], name.as_bytes(), note.as_bytes()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds plaintext",
                path.display()
            );
        }
    }
}

/// The one blob's file, after a single upload.
fn only_blob(f: &FileApp) -> PathBuf {
    let blobs = f.blobs();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    blobs.into_iter().next().expect("one blob")
}

async fn a_tampered_truncated_or_reordered_blob_fails_the_reveal(backend: Backend) {
    let f = FileApp::start(backend).await;
    let file = sample_file(3 * 64 * 1024 + 500, 6);

    // A flipped bit in the first chunk: a clear error before any byte, and no view used.
    let (secret_key, metadata_key) = f.app.upload_ok(file.clone(), &[]).await;
    let blob = only_blob(&f);
    let mut bytes = std::fs::read(&blob).expect("blob");
    bytes[100] ^= 1;
    std::fs::write(&blob, &bytes).expect("tampered");
    let (status, body) = status_and_json(f.app.view(&secret_key, None).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["code"], "INTERNAL_ERROR");
    assert!(
        body["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("integrity"),
        "{body}"
    );
    let (_, status) = status_and_json(f.app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 0, "no view was used");
    f.app.burn(&metadata_key).await;

    // Truncated: the length is wrong, so nothing is sent.
    let (secret_key, metadata_key) = f.app.upload_ok(file.clone(), &[]).await;
    let blob = only_blob(&f);
    let bytes = std::fs::read(&blob).expect("blob");
    std::fs::write(&blob, &bytes[..bytes.len() - 200]).expect("truncated");
    let response = f.app.view(&secret_key, None).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    f.app.burn(&metadata_key).await;

    // A flipped bit or two swapped chunks after the first: the transfer is cut short.
    for damage in ["flip", "swap"] {
        let (secret_key, metadata_key) = f.app.upload_ok(file.clone(), &[("maxViews", "5")]).await;
        let blob = only_blob(&f);
        let mut bytes = std::fs::read(&blob).expect("blob");
        if damage == "flip" {
            bytes[2 * SEALED_CHUNK + 10] ^= 1;
        } else {
            let second = bytes[SEALED_CHUNK..2 * SEALED_CHUNK].to_vec();
            let third = bytes[2 * SEALED_CHUNK..3 * SEALED_CHUNK].to_vec();
            bytes[SEALED_CHUNK..2 * SEALED_CHUNK].copy_from_slice(&third);
            bytes[2 * SEALED_CHUNK..3 * SEALED_CHUNK].copy_from_slice(&second);
        }
        std::fs::write(&blob, &bytes).expect("damaged");
        // The transfer is cut: before the headers arrive, or in the middle of the body.
        let sent = f
            .app
            .client
            .post(format!("{}/api/secrets/{secret_key}", f.app.base))
            .send()
            .await;
        if let Ok(response) = sent {
            assert_eq!(response.status(), StatusCode::OK);
            if let Ok(received) = response.bytes().await {
                panic!(
                    "{damage}: a complete-looking download of {} bytes",
                    received.len()
                );
            }
        }
        f.app.burn(&metadata_key).await;
    }
}

async fn an_orphaned_blob_is_swept(backend: Backend) {
    let f = FileApp::start_with(backend, |s| {
        s.orphan_grace = Duration::from_secs(1);
        s.sweep_interval = Duration::from_millis(100);
    })
    .await;
    // A live file's blob stays; a blob that no secret owns (a crash between the two writes)
    // goes once it is older than the grace period.
    let (secret_key, _) = f.app.upload_ok(sample_file(70_000, 7), &[]).await;
    let live = only_blob(&f);
    let stray = live.with_file_name("ab".repeat(32));
    std::fs::copy(&live, &stray).expect("stray blob");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stray.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "orphan swept in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(live.exists(), "a live secret's blob is kept");
    let (_, body) = download(&f.app, &secret_key).await;
    assert_eq!(body.expect("whole file").len(), 70_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_onetime_secret_dialect_refuses_files_without_using_a_view() {
    let f = FileApp::start(Backend::Fs).await;
    let (secret_key, metadata_key) = f.app.upload_ok(sample_file(1000, 8), &[]).await;
    let response = f
        .app
        .client
        .post(format!("{}/api/v1/secret/{secret_key}", f.app.base))
        .send()
        .await
        .expect("request");
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("file"),
        "{body}"
    );
    let (_, status) = status_and_json(f.app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 0);
    let (_, body) = download(&f.app, &secret_key).await;
    assert_eq!(body.expect("whole file").len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_forms_get_the_dialects_errors_and_leave_nothing() {
    let f = FileApp::start(Backend::Fs).await;
    let long_note = "n".repeat(1001);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("ttl", "60")], "INVALID_TTL"),
        (&[("secret", long_note.as_str())], "INVALID_PARAMETER"),
        (&[("ttl", "soon")], "INVALID_TTL"),
        (&[("maxViews", "1000")], "INVALID_MAX_VIEWS"),
        (&[("allowDeletion", "maybe")], "INVALID_PARAMETER"),
    ];
    for (fields, code) in cases {
        let response = f
            .app
            .upload(
                sample_file(100_000, 9),
                "a.bin",
                "application/octet-stream",
                fields,
            )
            .await;
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{fields:?}: {body}");
        assert_eq!(body["code"], code, "{fields:?}");
    }
    // Options sent before the file are refused before the file is read to its end.
    let (produced, chunks) = counted_chunks(200, 3);
    let form = Form::new()
        .text("ttl", "60")
        .part("file", stream_part(chunks, "late.bin"));
    if let Ok(response) = f.app.post_form(form).await {
        let (status, body) = status_and_json(response).await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("INVALID_TTL"))
        );
    }
    let produced = produced.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        produced < 50 * 1024 * 1024,
        "read {produced} bytes of a refused upload"
    );
    // A form without a file part.
    let form = Form::new().text("secret", "just a note");
    let response = f.app.post_form(form).await.expect("request");
    let (status, body) = status_and_json(response).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("MISSING_SECRET"))
    );
    // Not a multipart body at all, though it says so.
    let response = f
        .app
        .client
        .post(format!("{}/api/secrets", f.app.base))
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body("this is not a form")
        .send()
        .await
        .expect("request");
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(f.blobs().is_empty(), "nothing kept: {:?}", f.blobs());
    let data = f.app.stop().await;
    assert_eq!(stored_records(data.path()).await, 0);
}

/// A form's flags are read in any case (Python's generated client writes `True` and `False`): a
/// recipient may delete a file only when its sender's flag said so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_flags_are_read_in_any_case() {
    let f = FileApp::start(Backend::Fs).await;
    for (flag, recipient_may_delete) in [("False", false), ("TRUE", true), ("false", false)] {
        let fields = [("allowDeletion", flag), ("maxViews", "3")];
        let (secret_key, _) = f.app.upload_ok(sample_file(1000, 4), &fields).await;
        let (_, body) = download(&f.app, &secret_key).await;
        assert_eq!(body.expect("whole file").len(), 1000);
        let status = f.app.burn(&secret_key).await.status();
        // Not allowed, the secret key opens no burn: 404, as for any key that burns nothing.
        let expected = if recipient_may_delete {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(status, expected, "allowDeletion={flag}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_s3_server_gives_503_and_no_half_state() {
    let mut f = FileApp::start(Backend::S3).await;
    let file = sample_file(300_000, 10);
    let (secret_key, metadata_key) = f.app.upload_ok(file.clone(), &[]).await;
    let s3 = f.s3.as_mut().expect("s3");
    s3.stop().await;

    assert_upload_unavailable(&f.app, sample_file(300_000, 11)).await;
    let spooled = files_under(&f.app.data_dir.path().join("blobs"));
    assert!(
        spooled.is_empty(),
        "the failed upload's spool file is gone: {spooled:?}"
    );
    let (status, body) = status_and_json(f.app.view(&secret_key, None).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // Text secrets do not need the blob store.
    f.app.create_ok(&json!({"secret": "still works"})).await;

    let s3 = f.s3.as_mut().expect("s3");
    s3.resume().await;
    let (_, status) = status_and_json(f.app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 0, "the failed view was not counted");
    let (_, body) = download(&f.app, &secret_key).await;
    assert_eq!(sha256(&body.expect("whole file")), sha256(&file));
    // The one view's blob goes once its transfer is done.
    wait_for_no_blobs(&f).await;
    let data = f.app.stop().await;
    assert_eq!(
        stored_records(data.path()).await,
        2,
        "the file's receipt and the text"
    );
}

/// Uploads `file` and expects 503 `SERVICE_UNAVAILABLE`.
async fn assert_upload_unavailable(api: &ApiClient, file: Vec<u8>) {
    let response = api
        .upload(file, "a.bin", "application/octet-stream", &[])
        .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE");
}

/// Four 50 MB files at once, up and down, arrive whole and are counted by the blob metrics. (How
/// much memory they take is the file bench's figure: `benches/files`, peak RSS growth.)
async fn four_concurrent_uploads_round_trip(backend: Backend) {
    let s3 = match backend {
        Backend::S3 => Some(S3Server::start().await),
        Backend::Fs => None,
    };
    let data = tempfile::tempdir().expect("temp dir");
    // Callers without a key may send 50 MB files on this server.
    let config = data.path().join("burnbox.toml");
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/burnbox.example.toml"),
    )
    .expect("example config");
    let raised = example.replacen(
        "max_secret_bytes = 1000000",
        &format!("max_secret_bytes = {FIFTY_MB}"),
        1,
    );
    assert_ne!(raised, example, "the example sets the anonymous size limit");
    std::fs::write(&config, raised).expect("config");
    let config = config.to_str().expect("utf-8 path").to_owned();
    let mut flags = s3.as_ref().map(S3Server::flags).unwrap_or_default();
    flags.extend(["--config".to_owned(), config]);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let env = s3.as_ref().map(|s| s.env().to_vec()).unwrap_or_default();
    let server = ServerProcess::start_with_env(data.path(), &flags, &env).await;

    let files: Vec<Vec<u8>> = (0..4).map(|i| sample_file(FIFTY_MB, 20 + i)).collect();
    let uploads = files.iter().map(|file| {
        let api = &server.api;
        let file = file.clone();
        async move { api.upload_ok(file, &[]).await }
    });
    let keys = futures_util::future::join_all(uploads).await;
    let downloads = keys.iter().map(|(key, _)| download(&server.api, key));
    let bodies = futures_util::future::join_all(downloads).await;
    for ((_, body), file) in bodies.into_iter().zip(&files) {
        assert_eq!(sha256(&body.expect("whole file")), sha256(file));
    }
    // The blob metrics saw every sealed byte go in and out.
    let metrics = server.api.scrape().await;
    let counted = |direction: &str| {
        sample(
            &metrics,
            &format!("burnbox_blob_bytes_total{{direction=\"{direction}\"}}"),
        )
        .expect("blob bytes counted")
    };
    let sealed = 4.0 * (FIFTY_MB as f64 + 16.0 * (FIFTY_MB as f64 / 65536.0).ceil());
    assert!(counted("in") >= sealed, "in: {}", counted("in"));
    assert!(counted("out") >= sealed, "out: {}", counted("out"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_50_mb_files_round_trip_on_fs() {
    four_concurrent_uploads_round_trip(Backend::Fs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_50_mb_files_round_trip_on_s3() {
    four_concurrent_uploads_round_trip(Backend::S3).await;
}

/// The JSON create still works beside the form, and a status of a text secret has no `file`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_secrets_have_no_file_details() {
    let f = FileApp::start(Backend::Fs).await;
    let created = f.app.create_ok(&json!({"secret": "plain"})).await;
    let (secret_key, _) = keys(&created);
    let (_, status) = status_and_json(f.app.status(&secret_key).await).await;
    assert_eq!(status.get("file"), None::<&Value>);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_beyond_the_limit_at_once_get_503() {
    let f = FileApp::start_with(Backend::Fs, |s| s.max_uploads = 1).await;
    // One upload under way: it sent a first chunk and holds the connection open.
    let (more, waiting) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(1);
    more.send(Ok(vec![1u8; 100_000]))
        .await
        .expect("first chunk");
    let chunks = futures_util::stream::unfold(waiting, |mut waiting| async move {
        waiting.recv().await.map(|chunk| (chunk, waiting))
    });
    let api = ApiClient {
        base: f.app.base.clone(),
        client: f.app.client.clone(),
    };
    let first = tokio::spawn(async move { api.upload_stream(chunks, "slow.bin").await });

    // The first upload holds the one slot once its blob is being written: another is refused.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while f.blobs().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first upload never started its blob"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_upload_unavailable(&f.app, sample_file(1000, 13)).await;

    drop(more);
    let first = first.await.expect("task").expect("first upload answered");
    assert_eq!(first.status(), StatusCode::OK);
    f.app.upload_ok(sample_file(1000, 14), &[]).await;
}

/// Deployments that share a bucket under their own prefixes see only their own objects, so
/// one's orphan sweep cannot delete the other's files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_prefixes_keep_deployments_on_one_bucket_apart() {
    use burnbox::storage::blob::{BlobStore, S3BlobStore};
    let s3 = S3Server::start().await;
    let spool = tempfile::tempdir().expect("spool dir");
    let store_with = |prefix: &str| {
        let settings = S3Settings {
            prefix: prefix.to_owned(),
            ..s3.settings()
        };
        S3BlobStore::new(&settings, &spool.path().join(prefix)).expect("store")
    };
    let (production, staging) = (store_with("production/"), store_with("staging/"));
    let id = burnbox::domain::SecretId::from_bytes([7; 32]);
    let mut upload = production.create(id).await.expect("upload");
    upload
        .write(bytes::Bytes::from_static(b"sealed chunk"))
        .await
        .expect("write");
    upload.finish().await.expect("finish");

    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    assert_eq!(production.written_before(later).await.expect("list"), [id]);
    assert!(
        staging
            .written_before(later)
            .await
            .expect("list")
            .is_empty()
    );
    let objects: Vec<_> = std::fs::read_dir(s3.bucket_dir().join("production"))
        .expect("the production folder")
        .collect();
    assert_eq!(objects.len(), 1);
}

/// S3 dies after the first bytes of a download. The rule: a view is counted before its first
/// byte leaves, so a transfer cut after that (by the client or by the file store) has spent its
/// view. The client sees a cut transfer, never a complete-looking file; the blob stays for the
/// views left, and the next view, once S3 is back, gets the file whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_dying_mid_download_cuts_the_transfer_and_spends_that_view() {
    use futures_util::StreamExt;
    let mut f = FileApp::start(Backend::S3).await;
    // Larger than the socket buffers between S3, burnbox and the client, so most of it is still
    // in S3 when it dies.
    let file = sample_file(40 << 20, 31);
    let (secret_key, metadata_key) = f.app.upload_ok(file.clone(), &[("maxViews", "2")]).await;
    let response = f.app.view(&secret_key, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let mut received = body
        .next()
        .await
        .expect("first bytes")
        .expect("readable")
        .len();
    f.s3.as_mut().expect("s3").stop().await;
    let mut cut = false;
    while let Some(piece) = body.next().await {
        match piece {
            Ok(bytes) => received += bytes.len(),
            Err(_) => {
                cut = true;
                break;
            }
        }
    }
    assert!(
        cut && received < file.len(),
        "{received} of {} bytes, cut: {cut}",
        file.len()
    );
    let (_, status) = status_and_json(f.app.status(&metadata_key).await).await;
    assert_eq!(status["viewCount"], 1, "the cut view was spent");

    f.s3.as_mut().expect("s3").resume().await;
    let (_, whole) = download(&f.app, &secret_key).await;
    assert_eq!(sha256(&whole.expect("whole file")), sha256(&file));
    assert_eq!(
        f.app.view(&secret_key, None).await.status(),
        StatusCode::GONE
    );
    wait_for_no_blobs(&f).await;
}
