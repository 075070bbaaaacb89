//! Micro-benchmarks of the parts a request goes through, so a regression can be found by part:
//! key derivation, sealing and opening, the embedded store's operations, an actor round trip.
//! `cargo bench --bench parts`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use burnbox::actors::{ActorSettings, Actors, SecretMsg};
use burnbox::clock;
use burnbox::crypto::{Keyring, MasterKey, new_secret_key};
use burnbox::domain::{LockoutPolicy, Operation, Passphrase, ViewLimit};
use burnbox::storage::blob::FsBlobStore;
use burnbox::storage::{CachedStore, EmbeddedStore, SecretStore};
use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::live_record;

fn keyring() -> Keyring {
    Keyring::new(&MasterKey::from_bytes([7; 32]))
}

fn crypto(c: &mut Criterion) {
    let ring = keyring();
    let key = new_secret_key().expect("rng");
    let id = ring.secret_id(&key);
    let sealed = ring
        .seal_content(&id, &key, None, &[b'x'; 100])
        .expect("seal");
    c.bench_function("keyed hash of a link key", |b| {
        b.iter(|| black_box(ring.secret_id(black_box(&key))))
    });
    c.bench_function("seal 100 bytes", |b| {
        b.iter(|| ring.seal_content(&id, &key, None, black_box(&[b'x'; 100])))
    });
    c.bench_function("open 100 bytes", |b| {
        b.iter(|| ring.open_content(&id, &key, None, black_box(&sealed)))
    });
    c.bench_function("new link key (OS RNG)", |b| {
        b.iter(|| black_box(new_secret_key()))
    });
    let pass = Passphrase::parse("correct horse battery staple".into()).expect("passphrase");
    let guarded = ring
        .seal_content(&id, &key, Some(&pass), b"guarded")
        .expect("seal");
    let mut group = c.benchmark_group("passphrase");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("open with argon2id", |b| {
        b.iter(|| ring.open_content(&id, &key, Some(&pass), &guarded))
    });
    group.finish();
}

fn store(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let ring = keyring();
    let store =
        EmbeddedStore::open(dir.path(), burnbox::storage::conformance::test_auth()).expect("store");
    let (_, id, meta, content) = live_record(&ring, ViewLimit::Unlimited);
    runtime
        .block_on(store.insert(id, meta, content))
        .expect("insert");
    let mut group = c.benchmark_group("embedded store");
    group.sample_size(20);
    group.bench_function("insert (one fsynced commit)", |b| {
        b.iter(|| {
            let (_, id, meta, content) = live_record(&ring, ViewLimit::Limited(1));
            runtime
                .block_on(store.insert(id, meta, content))
                .expect("insert");
        })
    });
    group.bench_function("take a view (one fsynced commit)", |b| {
        b.iter(|| {
            runtime
                .block_on(store.apply(id, Operation::TakeView, clock::now()))
                .expect("apply")
        })
    });
    group.bench_function("load", |b| {
        b.iter(|| runtime.block_on(store.load(id)).expect("load"))
    });
    group.finish();
}

fn actors(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let ring = Arc::new(keyring());
    // Behind the read cache, as the server runs its actors.
    let store = Arc::new(CachedStore::new(
        Arc::new(
            EmbeddedStore::open(dir.path(), burnbox::storage::conformance::test_auth())
                .expect("store"),
        ),
        1000,
    ));
    let (_, id, meta, content) = live_record(&ring, ViewLimit::Unlimited);
    runtime
        .block_on(store.insert(id, meta, content))
        .expect("insert");
    let settings = ActorSettings {
        idle_timeout: Duration::from_secs(600),
        lockout: LockoutPolicy::DEFAULT,
    };
    let actors = runtime
        .block_on(Actors::start(
            Arc::clone(&store),
            ring,
            Arc::new(FsBlobStore::open(dir.path()).expect("blob store")),
            settings,
        ))
        .expect("actors");
    runtime
        .block_on(actors.ask(id, SecretMsg::Status))
        .expect("warm");
    c.bench_function("actor round trip (status)", |b| {
        b.iter(|| {
            runtime
                .block_on(actors.ask(id, SecretMsg::Status))
                .expect("status")
        })
    });
    runtime.block_on(actors.shutdown());
}

criterion_group!(benches, crypto, store, actors);
criterion_main!(benches);
