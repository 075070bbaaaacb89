//! Real Redis servers for the tests and benchmarks: Debian's `redis-server` (installed by `ops/test.sh`) started
//! on free loopback ports, standalone with an append-only file synced on every write, or as a
//! Cluster of three primaries and three replicas. Each is stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `redis-server`, from `BURNBOX_REDIS_SERVER` or the PATH.
fn server_binary() -> PathBuf {
    std::env::var_os("BURNBOX_REDIS_SERVER").map_or_else(|| "redis-server".into(), PathBuf::from)
}

/// `redis-cli`, beside the server.
fn cli_binary() -> PathBuf {
    std::env::var_os("BURNBOX_REDIS_CLI").map_or_else(|| "redis-cli".into(), PathBuf::from)
}

/// One `redis-server` process.
struct Node {
    process: Child,
    port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A port free on loopback now, with `port + 10000` (a Cluster node's bus) free too.
fn free_port_pair() -> u16 {
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("address").port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// `redis-cli -p port args...`: its output, trimmed.
fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new(cli_binary())
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("redis-cli does not run ({e}): ops/test.sh installs redis-server")
        });
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// `redis-server` on `port` with its files in `dir`: an append-only file synced on every
/// write, no snapshots.
fn spawn_server(port: u16, dir: &Path, extra: &[&str]) -> Child {
    Command::new(server_binary())
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .arg("--dir")
        .arg(dir)
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
        .args(["--protected-mode", "no", "--enable-debug-command", "local"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("redis-server does not start ({e}): ops/test.sh installs redis-server")
        })
}

/// Starts a node in `dir` with `extra` settings, retrying on another port if its port was
/// taken between the choice and the bind.
fn start_node(dir: &Path, extra: &[&str]) -> Node {
    for _ in 0..10 {
        let port = free_port_pair();
        let node_dir = dir.join(port.to_string());
        std::fs::create_dir_all(&node_dir).expect("node dir");
        let mut process = spawn_server(port, &node_dir, extra);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = process.try_wait() {
                break;
            }
            if cli(port, &["PING"]) == "PONG" {
                return Node { process, port };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = process.kill();
        let _ = process.wait();
    }
    panic!("no redis-server came up on a free port")
}

/// One standalone server with an append-only file.
pub struct RedisServer {
    node: Option<Node>,
    dir: tempfile::TempDir,
    port: u16,
}

impl RedisServer {
    /// Starts one.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let node = start_node(dir.path(), &[]);
        let port = node.port;
        Self {
            node: Some(node),
            dir,
            port,
        }
    }

    /// Its `--store` value.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// `redis-cli` against it: its output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }

    /// Its process id while it runs (the load benchmark reads its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.node.as_ref().map(|n| n.process.id())
    }

    /// Makes it stop answering for `pause` (`DEBUG SLEEP`), from a thread of its own: join it
    /// to wait until it answers again.
    pub fn sleep(&self, pause: Duration) -> std::thread::JoinHandle<()> {
        let port = self.port;
        std::thread::spawn(move || {
            cli(port, &["DEBUG", "SLEEP", &pause.as_secs_f64().to_string()]);
        })
    }

    /// Kills it (SIGKILL).
    pub fn kill(&mut self) {
        self.node = None;
    }

    /// Starts it again on the same port and files (its append-only file replayed).
    pub fn restart(&mut self) {
        let node_dir = self.dir.path().join(self.port.to_string());
        let process = spawn_server(self.port, &node_dir, &[]);
        let node = Node {
            process,
            port: self.port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while cli(self.port, &["PING"]) != "PONG" {
            assert!(Instant::now() < deadline, "redis-server came back");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.node = Some(node);
    }
}

/// A Cluster of three primaries, each with one replica.
pub struct RedisCluster {
    nodes: Vec<Node>,
    /// The port of the node [`Self::kill_a_primary`] killed.
    killed: Option<u16>,
    dir: tempfile::TempDir,
}

/// The settings of a Cluster node.
const CLUSTER_NODE: [&str; 4] = ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"];

impl RedisCluster {
    /// Starts six nodes, joins them and waits until every node says the cluster is ok.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let nodes: Vec<Node> = (0..6)
            .map(|_| start_node(dir.path(), &CLUSTER_NODE))
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let mut create = vec!["--cluster", "create"];
        create.extend(addresses.iter().map(String::as_str));
        create.extend(["--cluster-replicas", "1", "--cluster-yes"]);
        cli(nodes[0].port, &create);
        let cluster = Self {
            nodes,
            killed: None,
            dir,
        };
        cluster.wait_until_whole();
        cluster
    }

    /// Waits until every node says the cluster is ok and every primary has a replica that has
    /// caught up with it.
    fn wait_until_whole(&self) {
        let replicated = |n: &Node| {
            let role = cli(n.port, &["ROLE"]);
            !role.starts_with("master")
                || cli(n.port, &["INFO", "replication"]).contains("state=online")
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.nodes.iter().all(|n| {
            cli(n.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok") && replicated(n)
        }) {
            assert!(Instant::now() < deadline, "the cluster is not whole");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the killed node again on its port and files: it rejoins as a replica of the
    /// primary that replaced it. Returns once every primary has a replica again.
    pub fn restart_the_killed_node(&mut self) {
        let port = self.killed.take().expect("a node was killed");
        let process = spawn_server(port, &self.dir.path().join(port.to_string()), &CLUSTER_NODE);
        self.nodes.push(Node { process, port });
        self.wait_until_whole();
    }

    /// Kills one primary (SIGKILL); its replica takes over after the node timeout (2 s) and a
    /// vote, about 4 s here.
    pub fn kill_a_primary(&mut self) {
        let primary = self
            .nodes
            .iter()
            .position(|n| cli(n.port, &["ROLE"]).starts_with("master"))
            .expect("a primary");
        let node = self.nodes.remove(primary);
        self.killed = Some(node.port);
        drop(node);
    }

    /// Its `--store` value, naming every node as a seed.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis-cluster://{}", hosts.join(","))
    }
}

/// One server that speaks only TLS, with a certificate for 127.0.0.1 signed by a throwaway
/// authority made with `openssl`.
pub struct TlsRedisServer {
    _node: Node,
    port: u16,
    dir: tempfile::TempDir,
}

impl TlsRedisServer {
    /// Makes the authority and the certificate, and starts the server.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name).display().to_string();
        let openssl = |args: &[&str]| {
            let status = Command::new("openssl")
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("openssl runs");
            assert!(status.success(), "openssl {args:?}");
        };
        let (ca_key, ca_crt, key, csr, crt, ext) = (
            path("ca.key"),
            path("ca.crt"),
            path("server.key"),
            path("server.csr"),
            path("server.crt"),
            path("server.ext"),
        );
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &ca_key,
            "-out",
            &ca_crt,
            "-days",
            "2",
            "-subj",
            "/CN=burnbox test authority",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=127.0.0.1",
        ]);
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .expect("extensions");
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            &ext,
        ]);
        let port = free_port_pair();
        let process = Command::new(server_binary())
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
            ])
            .args([
                "--tls-cert-file",
                &crt,
                "--tls-key-file",
                &key,
                "--tls-ca-cert-file",
                &ca_crt,
            ])
            .args([
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--protected-mode",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server does not start ({e})"));
        let node = Node { process, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let output = Command::new(cli_binary())
                .args([
                    "--tls",
                    "--cacert",
                    &ca_crt,
                    "-p",
                    &port.to_string(),
                    "PING",
                ])
                .output()
                .expect("redis-cli runs");
            if String::from_utf8_lossy(&output.stdout).trim() == "PONG" {
                break;
            }
            assert!(Instant::now() < deadline, "the TLS server came up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            _node: node,
            port,
            dir,
        }
    }

    /// Its `--store` value.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/0", self.port)
    }

    /// The authority's certificate (PEM), for `--redis-ca-file`.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("ca.crt")).expect("ca")
    }
}
