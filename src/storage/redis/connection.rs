//! One handle over either kind of Redis deployment: a single server (or a replicated primary)
//! through a reconnecting multiplexed connection, or a Cluster through its slot-routing client.
//! Both are cheap to clone and shared by every request.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, ScriptInvocation};

/// Where the store is, as `--store` names it.
#[derive(Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// `redis://[user:pass@]host:port/db`.
    Single(String),
    /// `redis-cluster://host1:port1,host2:port2,...`: seed nodes of a Cluster.
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// Reads a `--store` value, `None` when it names no Redis deployment.
    ///
    /// # Errors
    /// A message when it is a Redis address that cannot be used.
    pub fn parse(raw: &str) -> Option<Result<Self, String>> {
        if raw.starts_with("redis://") {
            return Some(Ok(Self::Single(raw.to_owned())));
        }
        if raw.starts_with("rediss://") || raw.starts_with("rediss-cluster://") {
            return Some(Err(
                "TLS to Redis (rediss://) is not built into this burnbox yet: reach Redis over a private network or a TLS tunnel".into(),
            ));
        }
        let nodes = raw.strip_prefix("redis-cluster://")?;
        let (credentials, hosts) = match nodes.rsplit_once('@') {
            Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
            None => (String::new(), nodes),
        };
        let seeds: Vec<String> = hosts
            .split(',')
            .map(str::trim)
            .filter(|host| !host.is_empty())
            .map(|host| format!("redis://{credentials}{host}"))
            .collect();
        Some(if seeds.is_empty() {
            Err("redis-cluster:// needs at least one host:port".into())
        } else {
            Ok(Self::Cluster(seeds))
        })
    }
}

impl std::fmt::Debug for RedisTarget {
    /// Never prints a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Single(_) => f.write_str("RedisTarget::Single(<url>)"),
            Self::Cluster(seeds) => write!(f, "RedisTarget::Cluster({} seeds)", seeds.len()),
        }
    }
}

/// Counts one request sent to Redis (a script's first run also loads it: one more).
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
        match target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
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
            RedisTarget::Cluster(seeds) => {
                let client = ClusterClientBuilder::new(seeds.clone())
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(3)
                    .build()?;
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
        match self {
            Self::Single(manager) => cmd.query_async(&mut manager.clone()).await,
            Self::Cluster(cluster) => cmd.query_async(&mut cluster.clone()).await,
        }
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
        match self {
            Self::Single(manager) => invocation.invoke_async(&mut manager.clone()).await,
            Self::Cluster(cluster) => invocation.invoke_async(&mut cluster.clone()).await,
        }
    }
}
