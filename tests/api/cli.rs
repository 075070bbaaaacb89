//! The command line: one clear line for a bad setting, the config file, `burnbox openapi`.

use std::process::Command;

use crate::helpers::ServerProcess;

fn burnbox(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_burnbox"))
        .args(args)
        .env_remove("BURNBOX_MASTER_KEY")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .expect("binary runs")
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let bad_file = dir.path().join("bad.toml");
    std::fs::write(&bad_file, "listen = \"127.0.0.1:0\"\nlisen = \"typo\"\n").expect("write");
    let bad_file = bad_file.to_str().expect("utf-8 path");
    let bad_tiers = dir.path().join("tiers.toml");
    let example_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/burnbox.example.toml");
    let example = std::fs::read_to_string(example_path).expect("example");
    std::fs::write(
        &bad_tiers,
        example.replacen("max_views = 10", "max_views = 0", 1),
    )
    .expect("write");
    let bad_tiers = bad_tiers.to_str().expect("utf-8 path");
    let cases: [(&[&str], &str); 14] = [
        (&["--listen", "not-an-address"], "--listen"),
        (&["--data-dir", data_dir, "--store", "postgres"], "--store"),
        (
            &["--public-url", "ftp://x", "--data-dir", data_dir],
            "--public-url",
        ),
        (&["--max-secret-bytes", "lots"], "--max-secret-bytes"),
        (&["--log-format", "xml"], "--log-format"),
        (
            &["--store-cache-mib", "1", "--data-dir", data_dir],
            "--store-cache-mib",
        ),
        (
            &[
                "--store-cache-mib",
                "99999999999999999",
                "--data-dir",
                data_dir,
            ],
            "--store-cache-mib",
        ),
        (&["--config", bad_file, "--data-dir", data_dir], "lisen"),
        (
            &["--config", bad_tiers, "--data-dir", data_dir],
            "tiers.anonymous",
        ),
        (&["--blobs", "gcs", "--data-dir", data_dir], "--blobs"),
        (&["--blobs", "s3", "--data-dir", data_dir], "--s3-bucket"),
        (
            &["--blobs", "s3", "--s3-bucket", "b", "--data-dir", data_dir],
            "AWS_ACCESS_KEY_ID",
        ),
        (
            &[
                "--blobs",
                "s3",
                "--s3-bucket",
                "b",
                "--max-secret-bytes",
                "6000000000",
                "--data-dir",
                data_dir,
            ],
            "--max-secret-bytes",
        ),
        (
            &[
                "--blobs",
                "s3",
                "--s3-bucket",
                "b",
                "--s3-endpoint",
                "minio:9000",
                "--data-dir",
                data_dir,
            ],
            "--s3-endpoint",
        ),
    ];
    for (args, named) in cases {
        let output = burnbox(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line, got {stderr}"
        );
        assert!(stderr.contains(named), "{args:?}: names {named}: {stderr}");
    }
}

#[test]
fn data_without_its_master_key_is_refused_not_rekeyed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    burnbox(&["account", "create", "a@example.com", "--data-dir", data_dir]);
    assert!(dir.path().join("burnbox.redb").exists() && dir.path().join("master.key").exists());
    std::fs::remove_file(dir.path().join("master.key")).expect("remove key");
    for args in [
        vec!["--listen", "127.0.0.1:0", "--data-dir", data_dir],
        vec!["account", "list", "--data-dir", data_dir],
    ] {
        let output = burnbox(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr.contains("holds data but no master key"),
            "{args:?}: {stderr}"
        );
        assert!(
            !dir.path().join("master.key").exists(),
            "no new key was made"
        );
    }
}

#[test]
fn openapi_subcommand_prints_the_committed_documents() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    let json = burnbox(&["openapi"]);
    assert!(json.status.success());
    assert_eq!(
        String::from_utf8_lossy(&json.stdout),
        std::fs::read_to_string(root.join("burnbox.json")).expect("committed")
    );
    let yaml = burnbox(&["openapi", "--yaml"]);
    assert_eq!(
        String::from_utf8_lossy(&yaml.stdout),
        std::fs::read_to_string(root.join("burnbox.yaml")).expect("committed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_settings_apply_and_flags_override_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("from-file");
    let config = dir.path().join("burnbox.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\npublic_url = \"https://file.example\"\nmax_secret_bytes = 10\n",
            data_dir.to_str().expect("utf-8 path")
        ),
    )
    .expect("write config");
    let config = config.to_str().expect("utf-8 path");
    // --data-dir is required by ServerProcess; point it at the same place the file names.
    let server = ServerProcess::start(
        &data_dir,
        &["--config", config, "--public-url", "https://flag.example"],
    )
    .await;
    let created = server
        .api
        .create_ok(&serde_json::json!({"secret": "0123456789"}))
        .await;
    assert!(
        created["secretUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://flag.example/secret/"))
    );
    let too_big = server
        .api
        .create(&serde_json::json!({"secret": "0123456789a"}))
        .await;
    assert_eq!(
        too_big.status(),
        reqwest::StatusCode::PAYLOAD_TOO_LARGE,
        "max_secret_bytes from the file"
    );
    assert!(data_dir.join("burnbox.redb").exists());
}

#[test]
fn the_account_and_key_commands_read_the_servers_config_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("from-file");
    let key_file = dir.path().join("keys").join("master.key");
    std::fs::create_dir_all(key_file.parent().expect("parent")).expect("key dir");
    let config = dir.path().join("burnbox.toml");
    std::fs::write(
        &config,
        format!(
            // The server's other settings, even ones it would refuse, do not concern these
            // commands.
            "data_dir = {:?}\nmaster_key_file = {:?}\nlisten = \"not-an-address\"\nblobs = \"s3\"\n",
            data_dir.to_str().expect("utf-8 path"),
            key_file.to_str().expect("utf-8 path")
        ),
    )
    .expect("write config");
    let config = config.to_str().expect("utf-8 path");
    let created = burnbox(&["account", "create", "a@example.com", "--config", config]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        data_dir.join("burnbox.redb").exists() && key_file.exists(),
        "the store in the file's data_dir, the key at its master_key_file"
    );
    assert!(
        String::from_utf8_lossy(&created.stderr).contains(&format!("in {}", data_dir.display())),
        "it says where: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(!data_dir.join("master.key").exists());
    let listed = burnbox(&["account", "list", "--config", config]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("a@example.com\tauthenticated\tactive")
    );
    let keys = burnbox(&["master-key", "list", "--config", config]);
    assert_eq!(
        String::from_utf8_lossy(&keys.stdout),
        "1\tseals new secrets\n",
        "{}",
        String::from_utf8_lossy(&keys.stderr)
    );
    let gold = burnbox(&[
        "account",
        "create",
        "b@example.com",
        "--tier",
        "gold",
        "--config",
        config,
    ]);
    assert_eq!(
        gold.status.code(),
        Some(2),
        "a bad argument, as for any bad setting"
    );
    let bad = burnbox(&["account", "list", "--config", config, "--store", "postgres"]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && stderr.contains("--store"),
        "{stderr}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_burnbox"))
        .arg("openapi")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("the document starts");
    // The reader is gone (as `| head` leaves), with most of the document (over a pipe's 64 KiB)
    // still to write.
    let output = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "no panic, no message: {stderr}");
}
