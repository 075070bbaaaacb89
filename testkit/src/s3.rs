//! A real S3-compatible server: `s3s-fs` on a free loopback port, with its own data directory,
//! key pair and bucket. Objects are plain files under that directory, so a test
//! can list the bucket or alter an object on disk.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use burnbox::storage::blob::S3Settings;
use tempfile::TempDir;

/// The bucket every server holds.
pub const BUCKET: &str = "burnbox-test";
/// The access key the server accepts.
pub const ACCESS_KEY: &str = "burnboxtestaccess";
/// The secret key that goes with [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "burnboxtestsecretkey0123456789";

/// A running `s3s-fs`.
pub struct S3Server {
    child: Option<tokio::process::Child>,
    root: TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// The `s3s-fs` binary: `BURNBOX_S3S_FS`, else `s3s-fs` on the PATH, else a loud failure.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BURNBOX_S3S_FS") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("s3s-fs"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "s3s-fs is not installed: `cargo install s3s-fs@0.14.1 --locked --features binary` \
                 (ops/test.sh does, and sets BURNBOX_S3S_FS)"
            )
        })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl S3Server {
    /// Starts a server with an empty bucket.
    pub async fn start() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket dir");
        let mut server = Self {
            child: None,
            root,
            port: free_port(),
        };
        // The port was free when picked, but another process may take it before s3s-fs binds
        // it: then s3s-fs exits (and the port answers for someone else). Pick another and retry.
        for _ in 0..5 {
            server.resume().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let exited = server
                .child
                .as_mut()
                .is_none_or(|child| matches!(child.try_wait(), Ok(Some(_))));
            if !exited {
                return server;
            }
            server.port = free_port();
        }
        panic!("s3s-fs could not keep a port in five tries");
    }

    /// Starts the server again on the same port and data (after [`Self::stop`]).
    pub async fn resume(&mut self) {
        let child = tokio::process::Command::new(binary())
            .args(["--host", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(self.root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("s3s-fs starts");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "s3s-fs listens in time"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server (the S3 store is then down).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// What burnbox needs to use the bucket.
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint()),
            bucket: BUCKET.to_owned(),
            region: "us-east-1".to_owned(),
            path_style: true,
            access_key_id: ACCESS_KEY.to_owned(),
            secret_access_key: SECRET_KEY.to_owned(),
            session_token: None,
            prefix: burnbox::storage::blob::DEFAULT_S3_PREFIX.to_owned(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The command-line flags and environment that point the burnbox binary at this server.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--blobs".into(),
            "s3".into(),
            "--s3-endpoint".into(),
            self.endpoint(),
            "--s3-bucket".into(),
            BUCKET.into(),
            "--s3-path-style".into(),
        ]
    }

    /// The credentials for [`Self::flags`], as environment variables.
    pub fn env(&self) -> [(&'static str, &'static str); 2] {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ]
    }

    /// The server's process id while it runs (the load benchmark reads its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(tokio::process::Child::id)
    }

    /// The bucket's folder on disk: every object is a file below it.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    /// The server's whole data directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}
