//! burnbox against a real S3-compatible server it cannot use: refused at start, with one line
//! saying why.

use burnbox_testkit::s3::{ACCESS_KEY, BUCKET, S3Server, SECRET_KEY};

/// Starts the binary against `server` with the given credentials and bucket, expecting it to
/// refuse: its exit code and the one line it says.
async fn refused_start(
    server: &S3Server,
    key: &str,
    secret: &str,
    bucket: &str,
) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut flags = server.flags();
    let at = flags
        .iter()
        .position(|f| f == "--s3-bucket")
        .expect("bucket flag")
        + 1;
    flags[at] = bucket.to_owned();
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_burnbox"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(&flags)
            .env_remove("BURNBOX_MASTER_KEY")
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("it stops by itself, not serving")
    .expect("binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A bucket that answers but cannot be used (an unknown access key, a bucket that does not exist)
/// stops start-up with the cause named, instead of a ready server whose every upload fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misconfigured_bucket_is_found_at_start() {
    let server = S3Server::start().await;
    let (code, said) = refused_start(&server, "not-the-key", SECRET_KEY, BUCKET).await;
    assert_ne!(code, Some(0));
    assert!(
        said.contains("file store (s3) failed its start-up check")
            && said.contains(&format!("access to the bucket '{BUCKET}' is denied (403)")),
        "{said}"
    );
    // (s3s-fs takes a wrong secret key with a known access key: that case is not tried here.)
    let (code, said) = refused_start(&server, ACCESS_KEY, SECRET_KEY, "no-such-bucket").await;
    assert_ne!(code, Some(0));
    assert!(
        said.contains("the bucket 'no-such-bucket' does not exist"),
        "{said}"
    );
}
