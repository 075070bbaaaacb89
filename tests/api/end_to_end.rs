//! End-to-end secrets: `{ciphertext, iv}` through the API, and the `burnbox` command-line client
//! (the real binary) against a real server behind a recording proxy, which shows what the
//! server was sent.

use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::accounts::account;
use crate::helpers::{Encoding, files_under, keys, spawn_app, spawn_app_in, status_and_json};
use burnbox_testkit::sample::sample_file;

/// A TCP proxy on a loopback port that keeps every byte clients sent through it.
pub struct RecordingProxy {
    /// Where clients connect.
    pub url: String,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl RecordingProxy {
    /// A proxy in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&sent);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let record = Arc::clone(&record);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upload = async move {
                        let mut buffer = vec![0u8; 64 * 1024];
                        while let Ok(read) = client_read.read(&mut buffer).await {
                            if read == 0 {
                                break;
                            }
                            record
                                .lock()
                                .expect("record")
                                .extend_from_slice(&buffer[..read]);
                            if server_write.write_all(&buffer[..read]).await.is_err() {
                                break;
                            }
                        }
                        let _ = server_write.shutdown().await;
                    };
                    let download = async move {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                        let _ = client_write.shutdown().await;
                    };
                    tokio::join!(upload, download);
                });
            }
        });
        Self { url, sent }
    }

    /// Whether any client sent `needle` through the proxy so far.
    pub fn saw(&self, needle: &[u8]) -> bool {
        let sent = self.sent.lock().expect("record");
        sent.windows(needle.len()).any(|w| w == needle)
    }
}

/// Asserts that nothing clients sent through `proxy` holds any of `needles` (named), that the
/// proxy did carry a create, and that no file of `data_dir` holds `text`.
pub fn assert_server_never_held(
    proxy: &RecordingProxy,
    data_dir: &Path,
    text: &str,
    needles: &[(&str, &[u8])],
) {
    for (what, needle) in needles {
        assert!(!proxy.saw(needle), "the server was sent the {what}");
    }
    assert!(proxy.saw(b"POST /api/secrets"), "the proxy saw the creates");
    for path in files_under(data_dir) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(text.len()).any(|w| w == text.as_bytes()),
            "{} holds the text",
            path.display()
        );
    }
}

/// Runs the `burnbox` binary with `args` (and `stdin`), the server at `url`.
pub async fn client(url: &str, args: &[&str], stdin: Option<&[u8]>, dir: &Path) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_burnbox"));
    command
        .args(args)
        .env("BURNBOX_URL", url)
        .env_remove("BURNBOX_API_KEY")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("binary runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .await
        .expect("stdin written");
    drop(input);
    child.wait_with_output().await.expect("binary ends")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `burnbox send --json`'s two links.
pub fn links(output: &Output) -> (String, String) {
    assert!(output.status.success(), "send failed: {}", stderr(output));
    let sent: Value = serde_json::from_slice(&output.stdout).expect("json");
    (
        sent["secretLink"].as_str().expect("secret link").to_owned(),
        sent["receiptLink"]
            .as_str()
            .expect("receipt link")
            .to_owned(),
    )
}

/// The key in a link's path.
pub fn path_key(link: &str) -> String {
    let before = link.split('#').next().unwrap_or_default();
    before.rsplit('/').next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_content_is_kept_and_returned_as_sent_in_both_dialects() {
    let app = spawn_app().await;
    let sealed = json!({"ciphertext": "3q2+7wYx0QmZ1pFZb5S0k8oQmF1yb2tlbiBleGFtcGxl", "iv": "AAECAwQFBgcICQoL"});
    let created = app
        .create_ok(&json!({"secret": sealed, "maxViews": 2}))
        .await;
    assert_eq!(created["metadata"]["encrypted"], true);
    let (secret_key, receipt_key) = keys(&created);
    for key in [&secret_key, &receipt_key] {
        let (_, status) = status_and_json(app.status(key).await).await;
        assert_eq!(status["encrypted"], true, "{status}");
    }
    let (code, viewed) = status_and_json(app.view(&secret_key, None).await).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(viewed["secret"], sealed, "returned as sent");
    // The Onetime Secret dialect reveals it as the object's JSON text.
    let (code, revealed) = status_and_json(
        app.v1_post(&format!("secret/{secret_key}"), Encoding::Form, &[])
            .await,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{revealed}");
    let value: Value =
        serde_json::from_str(revealed["value"].as_str().expect("value")).expect("JSON text");
    assert_eq!(value, sealed);

    // A plain text secret says it is not end-to-end.
    let plain = app.create_ok(&json!({"secret": "plain"})).await;
    assert_eq!(plain["metadata"]["encrypted"], false);

    for bad in [
        json!({"ciphertext": "not base64!", "iv": "AAECAwQFBgcICQoL"}),
        json!({"ciphertext": "AAEC", "iv": "AAECAwQFBgcICQoL"}),
        json!({"ciphertext": "3q2+7wYx0QmZ1pFZb5S0k8oQmF1yb2tlbiBleGFtcGxl", "iv": "AAEC"}),
        json!({"ciphertext": "3q2+7wYx0QmZ1pFZb5S0k8oQmF1yb2tlbiBleGFtcGxl"}),
        json!({"iv": "AAECAwQFBgcICQoL", "ciphertext": 5}),
    ] {
        let (code, body) = status_and_json(app.create(&json!({"secret": bad})).await).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            matches!(
                body["code"].as_str(),
                Some("INVALID_PARAMETER" | "INVALID_JSON")
            ),
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_encrypts_before_anything_leaves_it() {
    let app = spawn_app().await;
    let proxy = RecordingProxy::start(&app.base).await;
    let work = tempfile::tempdir().expect("temp dir");
    let text = "correct horse battery staple: the end-to-end text";
    let passphrase = "a phrase only we know";

    // Text with a passphrase.
    let sent = client(
        &proxy.url,
        &[
            "send",
            "--json",
            "--views",
            "2",
            "--ttl",
            "2h",
            "--passphrase",
            passphrase,
        ],
        Some(text.as_bytes()),
        work.path(),
    )
    .await;
    let (secret_link, receipt_link) = links(&sent);
    assert!(secret_link.contains("#key="), "{secret_link}");
    assert_eq!(
        receipt_link.split('#').nth(1),
        secret_link.split('#').nth(1),
        "the receipt link carries the key, for the receipt page"
    );
    let opened = client(
        &proxy.url,
        &["open", &secret_link, "--passphrase", passphrase],
        None,
        work.path(),
    )
    .await;
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert_eq!(stdout(&opened), text);
    // The server keeps and returns only the ciphertext: its own view, which opens the stored
    // record with the master key and the secret key, gives the object.
    let status = client(
        &proxy.url,
        &["status", &receipt_link, "--json"],
        None,
        work.path(),
    )
    .await;
    let status: Value = serde_json::from_slice(&status.stdout).expect("status json");
    assert_eq!(
        (status["encrypted"].as_bool(), status["viewCount"].as_u64()),
        (Some(true), Some(1))
    );

    // A 3 MB file.
    let file = sample_file(3 << 20, 7);
    std::fs::write(work.path().join("report.bin"), &file).expect("written");
    let sent = client(
        &proxy.url,
        &["send", "report.bin", "--json"],
        None,
        work.path(),
    )
    .await;
    let (file_link, _) = links(&sent);
    let out = tempfile::tempdir().expect("temp dir");
    let opened = client(&proxy.url, &["open", &file_link], None, out.path()).await;
    assert!(opened.status.success(), "{}", stderr(&opened));
    let saved = std::fs::read(out.path().join("report.bin")).expect("saved under its own name");
    assert_eq!(Sha256::digest(&saved), Sha256::digest(&file));

    // Nothing the server was sent holds the text, the passphrase, the file's bytes or its name,
    // or a link's key; nor does its data directory.
    let fragment = secret_link
        .split("#key=")
        .nth(1)
        .expect("fragment")
        .to_owned();
    // (The links name the server itself, so only the sends went through the proxy.)
    assert_server_never_held(
        &proxy,
        app.data_dir.path(),
        text,
        &[
            ("text", text.as_bytes()),
            ("passphrase", passphrase.as_bytes()),
            ("file bytes", &file[1_000_000..1_000_064]),
            ("file name", b"report.bin".as_slice()),
            ("link key", fragment.as_bytes()),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_says_what_went_wrong_with_its_exit_code_before_a_view_is_spent() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().expect("temp dir");
    let dir = work.path();
    let sent = client(
        &app.base,
        &["send", "--json", "--passphrase", "pw"],
        Some(b"guarded"),
        dir,
    )
    .await;
    let (link, receipt) = links(&sent);
    let views = |receipt: String| {
        let app = &app;
        async move {
            let (_, status) = status_and_json(app.status(&path_key(&receipt)).await).await;
            status["viewCount"].as_u64()
        }
    };
    let without_key = link.split('#').next().expect("link").to_owned();
    let mangled = format!("{without_key}#key=abc");
    for (args, code, says) in [
        (
            vec!["open", without_key.as_str(), "--passphrase", "pw"],
            6,
            "no key after '#'",
        ),
        (
            vec!["open", mangled.as_str(), "--passphrase", "pw"],
            6,
            "mangled",
        ),
        (
            vec!["open", link.as_str(), "--passphrase", "wrong"],
            5,
            "4 more wrong passphrases will lock it",
        ),
        (vec!["open", receipt.as_str()], 2, "receipt link"),
        (vec!["burn", link.as_str()], 2, "receipt link"),
    ] {
        let output = client(&app.base, &args, None, dir).await;
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(views(receipt.clone()).await, Some(0), "no view was spent");

    let opened = client(&app.base, &["open", &link, "--passphrase", "pw"], None, dir).await;
    assert_eq!(stdout(&opened), "guarded");
    let again = client(&app.base, &["open", &link, "--passphrase", "pw"], None, dir).await;
    assert_eq!(again.status.code(), Some(4), "{}", stderr(&again));
    assert!(stderr(&again).contains("gone"), "{}", stderr(&again));

    // Burned with the receipt; unknown; a server that is not there.
    let (link, receipt) = links(&client(&app.base, &["send", "--json"], Some(b"x"), dir).await);
    let burned = client(&app.base, &["burn", &receipt], None, dir).await;
    assert!(burned.status.success(), "{}", stderr(&burned));
    let gone = client(&app.base, &["open", &link], None, dir).await;
    assert_eq!(gone.status.code(), Some(4));
    let unknown = format!("{}/secret/abc123#key=x", app.base);
    assert_eq!(
        client(&app.base, &["open", &unknown], None, dir)
            .await
            .status
            .code(),
        Some(3)
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let nowhere = format!("http://{closed}/secret/abc123");
    assert_eq!(
        client(&app.base, &["open", &nowhere], None, dir)
            .await
            .status
            .code(),
        Some(8)
    );
    let empty = client(&app.base, &["send"], Some(b""), dir).await;
    assert_eq!(empty.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_sends_with_an_api_key_and_without_end_to_end_when_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = account(dir.path(), "cli@example.com", "api");
    let app = spawn_app_in(dir, |s| s.anonymous_create = false).await;
    let work = tempfile::tempdir().expect("temp dir");
    let refused = client(&app.base, &["send"], Some(b"s"), work.path()).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("API key") || stderr(&refused).contains("uthenticat"),
        "{}",
        stderr(&refused)
    );

    let sent = client(
        &app.base,
        &["send", "--json", "--no-e2e", "--api-key", &token],
        Some(b"server-sealed"),
        work.path(),
    )
    .await;
    let (link, _) = links(&sent);
    assert!(!link.contains('#'), "no key to carry: {link}");
    let (_, viewed) = status_and_json(app.view(&path_key(&link), None).await).await;
    assert_eq!(
        viewed["secret"], "server-sealed",
        "the API reads it as any text"
    );
}
