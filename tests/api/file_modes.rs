//! Who else on the machine may open what burnbox keeps: the store's files and folders are the
//! server's user's alone whatever the umask, a data directory or key file open to others is
//! warned about at start, and the master key can live outside the data directory.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::helpers::{ServerProcess, keys, status_and_json};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

/// Every file and folder below `dir` (not `dir` itself) with its mode.
fn modes_below(dir: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).expect("readable").flatten() {
            let path = entry.path();
            out.push((path.display().to_string(), mode(&path)));
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out
}

async fn create_text_and_file(server: &ServerProcess) -> String {
    let created = server
        .api
        .create_ok(&json!({"secret": "kept for later", "maxViews": 2}))
        .await;
    let form = Form::new().part("file", Part::bytes(vec![9u8; 200_000]).file_name("f.bin"));
    let uploaded = server
        .api
        .client
        .post(format!("{}/api/secrets", server.api.base))
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_eq!(uploaded.status(), StatusCode::OK);
    keys(&created).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_is_private_under_any_umask_and_open_folders_are_warned_about() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    // A data directory that was there before, open to everyone, and a server started with a
    // umask that would leave every new file open to everyone.
    std::fs::create_dir(&data).expect("created");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let log = root.path().join("first.log");
    let mut server = ServerProcess::start_under_umask(&data, &[], Some(&log), 0).await;
    let secret_key = create_text_and_file(&server).await;
    server.terminate().await;

    let below = modes_below(&data);
    assert!(below.len() >= 4, "the database, key, blobs: {below:?}");
    let open: Vec<_> = below.iter().filter(|(_, m)| m & 0o077 != 0).collect();
    assert!(open.is_empty(), "open to other users: {open:?}");
    assert_eq!(
        mode(&data),
        0o755,
        "the operator's own folder is left as it was"
    );
    let logged = std::fs::read_to_string(&log).expect("log");
    assert!(
        logged.contains("the data directory is open to other users"),
        "{logged}"
    );
    assert!(!logged.contains("the master key file is open"), "{logged}");

    // A key file someone opened up is warned about at the next start.
    let key_file = data.join("master.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let log = root.path().join("second.log");
    let mut server = ServerProcess::start_under_umask(&data, &[], Some(&log), 0o022).await;
    let (status, _) = status_and_json(server.api.view(&secret_key, None).await).await;
    assert_eq!(status, StatusCode::OK, "the data is still readable");
    server.terminate().await;
    let logged = std::fs::read_to_string(&log).expect("log");
    assert!(
        logged.contains("the master key file is open to other users"),
        "{logged}"
    );
}

/// Runs `burnbox serve` on `data` with `extra` flags, expecting it to refuse to start.
fn refused_start(data: &Path, extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_burnbox"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra)
        .env_remove("BURNBOX_MASTER_KEY")
        .env_remove("BURNBOX_MASTER_KEY_FILE")
        .output()
        .expect("binary runs");
    assert!(!output.status.success(), "it must not start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_key_can_live_outside_the_data_directory() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let keys_dir = root.path().join("keys");
    std::fs::create_dir(&keys_dir).expect("created");
    let key_file = keys_dir.join("burnbox.key");
    let flag = ["--master-key-file", key_file.to_str().expect("utf-8 path")];

    let mut server = ServerProcess::start(&data, &flag).await;
    let created = server
        .api
        .create_ok(&json!({"secret": "under an outside key", "maxViews": 2}))
        .await;
    let (secret_key, _) = keys(&created);
    server.terminate().await;
    assert!(key_file.exists(), "generated where it was asked for");
    assert_eq!(mode(&key_file), 0o600);
    assert!(
        !data.join("master.key").exists(),
        "no copy in the data directory"
    );

    // Without the key, the data directory alone opens nothing, and burnbox says why.
    let refused = refused_start(&data, &[]);
    assert!(
        refused.contains("holds data but no master key"),
        "{refused}"
    );
    assert!(refused.contains("--master-key-file"), "{refused}");
    assert!(!data.join("master.key").exists(), "no new key was made");

    let mut server = ServerProcess::start(&data, &flag).await;
    let (status, viewed) = status_and_json(server.api.view(&secret_key, None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(viewed["secret"], "under an outside key");
    server.terminate().await;

    // The account commands take the same flag.
    let account = Command::new(env!("CARGO_BIN_EXE_burnbox"))
        .args(["account", "create", "keyed@example.com", "--data-dir"])
        .arg(&data)
        .args(flag)
        .env_remove("BURNBOX_MASTER_KEY")
        .output()
        .expect("binary runs");
    assert!(
        account.status.success(),
        "{}",
        String::from_utf8_lossy(&account.stderr)
    );
}
