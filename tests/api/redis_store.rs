//! The Redis store against real servers: the storage conformance suite on one server and on a
//! Cluster, raw and behind the read cache every node puts in front of it.

use std::sync::Arc;
use std::time::Duration;

use burnbox::storage::conformance::run_suite;
use burnbox::storage::{EngineKind, RedisStore, Stores};

use burnbox_testkit::redis_servers::{RedisCluster, RedisServer, TlsRedisServer};

async fn connect(url: &str) -> Arc<RedisStore> {
    let EngineKind::Redis(target) = url.parse().expect("a redis address") else {
        panic!("{url} is not a redis address");
    };
    Arc::new(
        RedisStore::connect(
            &target,
            0,
            Duration::from_secs(5),
            burnbox::storage::conformance::test_auth(),
        )
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

/// A record whose key Redis expired on its own (every node down past its purge time, or a
/// restart that dropped it) leaves its expiry-index entry behind: the first sweep of it drops
/// that entry, so later sweeps do not meet it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_redis_dropped_leaves_the_expiry_index_on_its_first_sweep() {
    use burnbox::domain::{Operation, ViewLimit};
    use burnbox::storage::{Outcome, SecretStore};

    let server = RedisServer::start();
    let store = connect(&server.url()).await;
    let (id, meta) = burnbox::storage::conformance::record(7, ViewLimit::Limited(1));
    store
        .insert(id, meta.clone(), b"sealed".to_vec())
        .await
        .expect("insert");
    let dropped = server.cli(&["--scan", "--pattern", "bb:*:m:*"]);
    assert_eq!(dropped.lines().count(), 1, "one record: {dropped}");
    server.cli(&["DEL", dropped.trim()]);
    assert_eq!(store.due(meta.expires_at, 10).await.expect("due"), [id]);
    // A fresh store, as another node (its own last-seen records empty).
    let other = connect(&server.url()).await;
    assert_eq!(
        other
            .apply(id, Operation::Sweep, meta.expires_at)
            .await
            .expect("sweep"),
        Outcome::Missing
    );
    assert!(
        other.due(meta.purge_at, 10).await.expect("due").is_empty(),
        "the stale entry is gone"
    );
}

/// `rediss://` with a private authority: the suite passes over TLS, and without the authority
/// the connection is refused (the certificate is checked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_over_tls_conforms_and_checks_its_certificate() {
    let server = TlsRedisServer::start();
    let EngineKind::Redis(target) = server.url().parse().expect("a rediss address") else {
        panic!("a redis address");
    };
    assert!(
        RedisStore::connect(
            &target,
            0,
            Duration::from_secs(5),
            burnbox::storage::conformance::test_auth()
        )
        .await
        .is_err(),
        "a certificate from an authority nobody named is refused"
    );
    let store = Arc::new(
        RedisStore::connect(
            &target.with_ca(server.ca_pem()),
            0,
            Duration::from_secs(5),
            burnbox::storage::conformance::test_auth(),
        )
        .await
        .expect("connected over TLS"),
    );
    run_suite(store.clone(), store.as_ref()).await;
}

/// A Redis operator (or anyone who can write the server) who edits a record, or copies one
/// secret's record over another's, is refused: the record's tag covers its id and its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_in_redis_is_refused() {
    use burnbox::domain::ViewLimit;
    use burnbox::storage::{SecretStore, StoreError};

    let server = RedisServer::start();
    let store = connect(&server.url()).await;
    let (first, meta) = burnbox::storage::conformance::record(8, ViewLimit::Limited(3));
    let (second, other) = burnbox::storage::conformance::record(9, ViewLimit::Limited(3));
    store
        .insert(first, meta, b"a".to_vec())
        .await
        .expect("insert");
    store
        .insert(second, other, b"b".to_vec())
        .await
        .expect("insert");
    let records: Vec<String> = server
        .cli(&["--scan", "--pattern", "bb:*:m:*"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    let client = redis::Client::open(server.url()).expect("client");
    let raw = client
        .get_multiplexed_async_connection()
        .await
        .expect("raw");
    let first_key = records
        .iter()
        .find(|k| k.ends_with(&burnbox_hex(first.as_bytes())))
        .expect("first's record")
        .clone();
    let second_key = records
        .iter()
        .find(|k| **k != first_key)
        .expect("second's")
        .clone();
    let get = |key: String| {
        let mut raw = raw.clone();
        async move {
            let value: Vec<u8> = redis::cmd("GET")
                .arg(key)
                .query_async(&mut raw)
                .await
                .expect("get");
            value
        }
    };
    // Writes `value` as the first secret's record; what a node that reads it fresh gets.
    let put_and_load = |value: Vec<u8>| {
        let (mut raw, key, url) = (raw.clone(), first_key.clone(), server.url());
        async move {
            let _: () = redis::cmd("SET")
                .arg(key)
                .arg(value)
                .query_async(&mut raw)
                .await
                .expect("set");
            connect(&url).await.load(first).await
        }
    };
    let original = get(first_key.clone()).await;

    // A changed byte in the body (after the write's nonce).
    let mut changed = original.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x01;
    assert!(matches!(
        put_and_load(changed).await,
        Err(StoreError::Tampered(_))
    ));
    // Another secret's record, authentic for its own id, copied over this one.
    assert!(matches!(
        put_and_load(get(second_key).await).await,
        Err(StoreError::Tampered(_))
    ));
    // Put back, it reads again.
    assert!(put_and_load(original).await.expect("load").is_some());
}

fn burnbox_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
