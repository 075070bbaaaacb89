//! One handle over either kind of Redis deployment: a single server (or a replicated primary)
//! through a reconnecting multiplexed connection, or a Cluster through its slot-routing client.
//! Both are cheap to clone and shared by every request.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, ScriptInvocation};

/// Where the store is, as `--store` names it, and the certificate authority its TLS is checked
/// against when not a public one.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisTarget {
    nodes: RedisNodes,
    /// PEM of the authority that signed the servers' certificates (else the system's roots).
    ca_pem: Option<Vec<u8>>,
}

/// The servers of a [`RedisTarget`].
#[derive(Clone, PartialEq, Eq)]
pub enum RedisNodes {
    /// `redis://` or `rediss://` (TLS) `[user:pass@]host:port/db`.
    Single(String),
    /// `redis-cluster://` or `rediss-cluster://` (TLS) `host1:port1,host2:port2,...`: seed nodes
    /// of a Cluster, as `redis://` or `rediss://` addresses.
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// One server at `url`.
    pub fn single(url: &str) -> Self {
        Self {
            nodes: RedisNodes::Single(url.to_owned()),
            ca_pem: None,
        }
    }

    /// A Cluster seeded by `urls`.
    pub fn cluster(urls: Vec<String>) -> Self {
        Self {
            nodes: RedisNodes::Cluster(urls),
            ca_pem: None,
        }
    }

    /// The servers.
    pub fn nodes(&self) -> &RedisNodes {
        &self.nodes
    }

    /// Checks the servers' TLS certificates against the authority in `pem` (a private CA).
    pub fn with_ca(mut self, pem: Vec<u8>) -> Self {
        self.ca_pem = Some(pem);
        self
    }

    /// Reads a `--store` value, `None` when it names no Redis deployment.
    ///
    /// # Errors
    /// A message when it is a Redis address that cannot be used.
    pub fn parse(raw: &str) -> Option<Result<Self, String>> {
        if raw.starts_with("redis://") || raw.starts_with("rediss://") {
            return Some(Ok(Self::single(raw)));
        }
        let (scheme, nodes) = match (
            raw.strip_prefix("redis-cluster://"),
            raw.strip_prefix("rediss-cluster://"),
        ) {
            (Some(nodes), _) => ("redis", nodes),
            (_, Some(nodes)) => ("rediss", nodes),
            _ => return None,
        };
        let (credentials, hosts) = match nodes.rsplit_once('@') {
            Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
            None => (String::new(), nodes),
        };
        let seeds: Vec<String> = hosts
            .split(',')
            .map(str::trim)
            .filter(|host| !host.is_empty())
            .map(|host| format!("{scheme}://{credentials}{host}"))
            .collect();
        Some(if seeds.is_empty() {
            Err(format!("{scheme}-cluster:// needs at least one host:port"))
        } else {
            Ok(Self::cluster(seeds))
        })
    }

    /// The certificates to check servers against, when a private authority was given.
    fn certificates(&self) -> Option<redis::TlsCertificates> {
        self.ca_pem.as_ref().map(|pem| redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.clone()),
        })
    }
}

impl std::fmt::Debug for RedisTarget {
    /// Never prints a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.nodes {
            RedisNodes::Single(_) => f.write_str("RedisTarget::Single(<url>)"),
            RedisNodes::Cluster(seeds) => {
                write!(f, "RedisTarget::Cluster({} seeds)", seeds.len())
            }
        }
    }
}

/// Counts one wait on Redis: a command, script or pipeline, or several sent at once and awaited
/// together (a script's first run also loads it: one more).
fn round_trip() {
    metrics::counter!(crate::telemetry::REDIS_ROUND_TRIPS).increment(1);
}

/// A connection to the deployment.
#[derive(Clone)]
pub enum Connection {
    /// One server.
    Single(ConnectionManager),
    /// A Cluster.
    Cluster(ClusterConnection),
}

impl Connection {
    /// Connects to `target`, holding connecting and every answer to `timeout`.
    pub async fn open(target: &RedisTarget, timeout: Duration) -> RedisResult<Self> {
        crate::tls::use_one_provider();
        match &target.nodes {
            RedisNodes::Single(url) => {
                let client = match target.certificates() {
                    Some(certificates) => {
                        redis::Client::build_with_tls(url.as_str(), certificates)?
                    }
                    None => redis::Client::open(url.as_str())?,
                };
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(2);
                let manager = tokio::time::timeout(
                    timeout,
                    ConnectionManager::new_with_config(client, config),
                )
                .await
                .map_err(|_| {
                    redis::RedisError::from((redis::ErrorKind::Io, "connecting timed out"))
                })??;
                Ok(Self::Single(manager))
            }
            RedisNodes::Cluster(seeds) => {
                let mut builder = ClusterClientBuilder::new(seeds.clone())
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(3);
                if let Some(certificates) = target.certificates() {
                    builder = builder.certs(certificates);
                }
                let client = builder.build()?;
                let connection = tokio::time::timeout(timeout, client.get_async_connection())
                    .await
                    .map_err(|_| {
                        redis::RedisError::from((redis::ErrorKind::Io, "connecting timed out"))
                    })??;
                Ok(Self::Cluster(connection))
            }
        }
    }

    /// Sends one command.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        round_trip();
        self.query_uncounted(cmd).await
    }

    /// Sends a pipeline (an atomic one must stay within one slot on a Cluster).
    pub async fn pipeline<T: FromRedisValue>(&self, pipe: &Pipeline) -> RedisResult<T> {
        round_trip();
        match self {
            Self::Single(manager) => pipe.query_async(&mut manager.clone()).await,
            Self::Cluster(cluster) => pipe.query_async(&mut cluster.clone()).await,
        }
    }

    /// Checks that the deployment serves: a server answers PING; a Cluster's primary (any one)
    /// says the cluster state is ok, so a Cluster with slots uncovered (a primary lost and not
    /// yet replaced) is not ready.
    pub async fn check(&self) -> RedisResult<()> {
        round_trip();
        match self {
            Self::Single(manager) => {
                let _: String = redis::cmd("PING").query_async(&mut manager.clone()).await?;
                Ok(())
            }
            Self::Cluster(cluster) => {
                use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
                let mut info = redis::cmd("CLUSTER");
                info.arg("INFO");
                let answer = cluster
                    .clone()
                    .route_command(
                        info,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary),
                    )
                    .await?;
                let text: String = redis::from_redis_value(answer)?;
                if text.contains("cluster_state:ok") {
                    Ok(())
                } else {
                    Err(redis::RedisError::from((
                        redis::ErrorKind::Server(redis::ServerErrorKind::ClusterDown),
                        "the cluster state is not ok",
                    )))
                }
            }
        }
    }

    /// Waits until `replicas` replicas of the primary holding `key` have every write this
    /// connection sent it, `timeout` at most; how many did. On a Cluster it asks that primary
    /// alone (over the connection the writes went through, as WAIT requires).
    pub async fn wait_for_replicas(
        &self,
        key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> RedisResult<i64> {
        let timeout_ms = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas).arg(timeout_ms);
        match self {
            Self::Single(manager) => wait.query_async(&mut manager.clone()).await,
            Self::Cluster(cluster) => {
                use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
                let route = Route::with_key(key, SlotAddr::Master);
                let answer = cluster
                    .clone()
                    .route_command(
                        wait,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await?;
                Ok(redis::from_redis_value(answer)?)
            }
        }
    }

    /// Runs a script (by its hash, loading it on first use).
    pub async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> RedisResult<T> {
        round_trip();
        self.invoke_uncounted(invocation).await
    }

    /// Sends a command and runs a script at the same time, on different slots if need be, and
    /// waits for both: one round trip.
    pub async fn query_with_invoke<A: FromRedisValue, B: FromRedisValue>(
        &self,
        cmd: &Cmd,
        invocation: &ScriptInvocation<'_>,
    ) -> (RedisResult<A>, RedisResult<B>) {
        round_trip();
        tokio::join!(self.query_uncounted(cmd), self.invoke_uncounted(invocation))
    }

    async fn query_uncounted<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Self::Single(manager) => cmd.query_async(&mut manager.clone()).await,
            Self::Cluster(cluster) => cmd.query_async(&mut cluster.clone()).await,
        }
    }

    async fn invoke_uncounted<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> RedisResult<T> {
        match self {
            Self::Single(manager) => invocation.invoke_async(&mut manager.clone()).await,
            Self::Cluster(cluster) => invocation.invoke_async(&mut cluster.clone()).await,
        }
    }
}
