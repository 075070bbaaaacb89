//! Secrets never leak: the real binary at its most verbose log level (`RUST_LOG=trace`, every
//! crate) runs the flows of both dialects, files on S3, an API key and the command-line client;
//! then its log, `/metrics`, the data directory, the S3 bucket and every response other than the
//! ones that hand a secret or key out by design are searched for every plaintext, passphrase,
//! link key and API token used.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::accounts::account;
use crate::end_to_end::{client, links};
use crate::helpers::{Encoding, ServerProcess, files_under, keys};
use burnbox_testkit::s3::S3Server;
use burnbox_testkit::sample::sample_file;

/// What must never appear, and what was seen.
#[derive(Default)]
struct Needles {
    /// Plaintexts, passphrases and tokens: in no response but a reveal's.
    secret: Vec<Vec<u8>>,
    /// Link keys: handed out by a create and a receipt's status, and nowhere else.
    keys: Vec<Vec<u8>>,
    /// Bodies of responses that hand out nothing by design.
    responses: Vec<Vec<u8>>,
}

impl Needles {
    fn secret(&mut self, value: impl AsRef<[u8]>) {
        self.secret.push(value.as_ref().to_vec());
    }

    fn key(&mut self, value: impl AsRef<[u8]>) {
        self.keys.push(value.as_ref().to_vec());
    }

    fn all(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.secret.iter().chain(&self.keys)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() >= 6 && haystack.windows(needle.len()).any(|w| w == needle)
}

async fn body_of(response: reqwest::Response) -> (StatusCode, Vec<u8>) {
    let status = response.status();
    (status, response.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_passphrase_key_or_token_reaches_a_log_a_metric_a_file_or_a_stray_response() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let log = root.path().join("burnbox.log");
    let s3 = S3Server::start().await;
    let mut needles = Needles::default();
    let token = account(&data, "leaks@example.com", "api");
    needles.secret(&token);
    let mut flags: Vec<String> = s3.flags();
    flags.push("--test-min-ttl".into());
    flags.push("1".into());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = ServerProcess::start_tracing(&data, &flags, &log, &s3.env()).await;
    let api = &server.api;

    // Burn the Secret: text with and without a passphrase, with the API key, viewed, burned.
    for n in 0..3 {
        let text = format!("leak-native-plaintext-{n}");
        let passphrase = format!("leak-native-passphrase-{n}");
        let response = api
            .client
            .post(format!("{}/api/secrets", api.base))
            .bearer_auth(&token)
            .json(&json!({"secret": text, "passphrase": passphrase, "maxViews": 3}))
            .send()
            .await
            .expect("create");
        let created: Value = response.json().await.expect("json");
        let (secret_key, receipt_key) = keys(&created);
        needles.secret(&text);
        needles.secret(&passphrase);
        needles.key(&secret_key);
        needles.key(&receipt_key);
        let (status, body) = body_of(api.status(&secret_key).await).await;
        assert_eq!(status, StatusCode::OK);
        needles.responses.push(body);
        let (status, body) = body_of(
            api.view(
                &secret_key,
                Some(&json!({"passphrase": "leak-wrong-guess"})),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        needles.secret("leak-wrong-guess");
        needles.responses.push(body);
        let (status, _) = body_of(
            api.view(&secret_key, Some(&json!({"passphrase": passphrase})))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "the reveal, not searched");
        if n == 2 {
            let (status, body) = body_of(api.burn(&receipt_key).await).await;
            assert_eq!(status, StatusCode::OK);
            needles.responses.push(body);
        }
    }

    // A file on S3, downloaded.
    let file = sample_file(300_000, 11);
    needles.secret(&file[100_000..100_064]);
    needles.secret("leak-file-name.bin");
    needles.secret("leak-file-passphrase");
    let (status, created) = crate::helpers::status_and_json(
        api.upload(
            file.clone(),
            "leak-file-name.bin",
            "application/octet-stream",
            &[("passphrase", "leak-file-passphrase")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (secret_key, receipt_key) = keys(&created);
    needles.key(&secret_key);
    needles.key(&receipt_key);
    let (status, body) = body_of(
        api.view(
            &secret_key,
            Some(&json!({"passphrase": "leak-file-passphrase"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, file, "the download, not searched");

    // Onetime Secret: share, generate, receipt, reveal, burn.
    for n in 0..2 {
        let text = format!("leak-ots-plaintext-{n}");
        let (status, body) = body_of(
            api.v1_post(
                "share",
                Encoding::Form,
                &[("secret", &text), ("passphrase", "leak-ots-passphrase")],
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let receipt: Value = serde_json::from_slice(&body).expect("json");
        let secret_key = receipt["secret_key"].as_str().expect("key").to_owned();
        let metadata_key = receipt["metadata_key"].as_str().expect("key").to_owned();
        needles.secret(&text);
        needles.secret("leak-ots-passphrase");
        needles.key(&secret_key);
        needles.key(&metadata_key);
        let path = if n == 0 {
            format!("secret/{secret_key}")
        } else {
            format!("private/{metadata_key}/burn")
        };
        let (status, _) = body_of(
            api.v1_post(
                &path,
                Encoding::Form,
                &[("passphrase", "leak-ots-passphrase")],
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, body) = body_of(api.v1_post("generate", Encoding::Form, &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    let generated: Value = serde_json::from_slice(&body).expect("json");
    needles.secret(generated["value"].as_str().expect("generated password"));
    needles.key(generated["secret_key"].as_str().expect("key"));
    needles.key(generated["metadata_key"].as_str().expect("key"));

    // The command-line client, end to end and not, with the API key.
    let work = tempfile::tempdir().expect("temp dir");
    for extra in [&[][..], &["--no-e2e"][..]] {
        let text = format!("leak-cli-plaintext-{}", extra.len());
        let mut args = vec![
            "send",
            "--json",
            "--api-key",
            &token,
            "--passphrase",
            "leak-cli-pass",
        ];
        args.extend_from_slice(extra);
        let sent = client(&api.base, &args, Some(text.as_bytes()), work.path()).await;
        let (link, receipt) = links(&sent);
        needles.secret(&text);
        needles.secret("leak-cli-pass");
        for part in [&link, &receipt] {
            for piece in part.split(['/', '#', '=']) {
                if piece.len() >= 20 {
                    needles.key(piece);
                }
            }
        }
        let opened = client(
            &api.base,
            &["open", &link, "--passphrase", "leak-cli-pass"],
            None,
            work.path(),
        )
        .await;
        assert!(opened.status.success());
    }

    let metrics = api.scrape().await.into_bytes();
    drop(server);
    let log_text = std::fs::read(&log).expect("log");
    assert!(
        log_text.windows(5).any(|w| w == b"TRACE"),
        "the log is at trace level"
    );
    let mut places: Vec<(String, Vec<u8>)> =
        vec![("the log".into(), log_text), ("/metrics".into(), metrics)];
    for path in files_under(&data)
        .into_iter()
        .chain(files_under(&s3.bucket_dir()))
    {
        let bytes = std::fs::read(&path).unwrap_or_default();
        places.push((path.display().to_string(), bytes));
    }
    let mut leaks = Vec::new();
    for (place, bytes) in &places {
        for needle in needles.all() {
            if find(bytes, needle) {
                leaks.push(format!("{place}: {}", String::from_utf8_lossy(needle)));
            }
        }
    }
    for (n, body) in needles.responses.iter().enumerate() {
        for needle in &needles.secret {
            if find(body, needle) {
                leaks.push(format!("response {n}: {}", String::from_utf8_lossy(needle)));
            }
        }
    }
    assert!(leaks.is_empty(), "found: {leaks:#?}");
}
