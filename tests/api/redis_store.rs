//! The Redis store against real servers: the storage conformance suite on one server and on a
//! Cluster, raw and behind the read cache every node puts in front of it.

use std::sync::Arc;
use std::time::Duration;

use burnbox::storage::conformance::run_suite;
use burnbox::storage::{EngineKind, RedisStore, Stores};

use crate::redis_servers::{RedisCluster, RedisServer};

async fn connect(url: &str) -> Arc<RedisStore> {
    let EngineKind::Redis(target) = url.parse().expect("a redis address") else {
        panic!("{url} is not a redis address");
    };
    Arc::new(
        RedisStore::connect(&target, 0, Duration::from_secs(5))
            .await
            .expect("connected"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_redis_conforms() {
    let server = RedisServer::start();
    let store = connect(&server.url()).await;
    run_suite(store.clone(), store.as_ref()).await;
    let second = RedisServer::start();
    let cached = Stores::cached(connect(&second.url()).await);
    run_suite(cached.secrets, cached.accounts.as_ref()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_conforms() {
    let cluster = RedisCluster::start();
    let stores = Stores::cached(connect(&cluster.url()).await);
    run_suite(stores.secrets, stores.accounts.as_ref()).await;
}
