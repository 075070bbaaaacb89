//! Builds the whole server from [`Settings`] and runs it until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::actors::sweeper::Sweeper;
use crate::actors::{ActorSettings, Actors};
use crate::api;
use crate::api::guard::Guard;
use crate::config::{BlobSettings, SecretString, Settings};
use crate::crypto::{Keyring, MasterKeys, RecordAuth};
use crate::server::Server;
use crate::service::accounts::Accounts;
use crate::service::ratelimit::RateLimiter;
use crate::service::{Limits, SecretService};
use crate::storage::DB_FILE_NAME;
use crate::storage::blob::{BlobStore, FsBlobStore, MeteredBlobs, S3BlobStore};
use crate::storage::{self, EngineKind, RedisQuotas, SecretStore};

/// How long in-flight requests may take to finish after a shutdown signal.
const GRACE: Duration = Duration::from_secs(10);

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The master key is malformed or unreadable.
    #[error(transparent)]
    MasterKey(#[from] crate::crypto::CryptoError),
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] crate::storage::StoreError),
    /// The file store answered but could not write, read back and delete a probe blob.
    #[error("the file store ({backend}) failed its start-up check: {source}")]
    Blobs {
        /// Which backend.
        backend: &'static str,
        /// What it said.
        source: crate::storage::StoreError,
    },
    /// The settings do not fit together.
    #[error("{0}")]
    Settings(String),
    /// The actor system could not start.
    #[error("cannot start actors: {0}")]
    Actors(#[from] crate::actors::ActorError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A built server, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    local_addr: SocketAddr,
    public_url: String,
    service: SecretService,
    guard: Guard,
    store: Arc<dyn SecretStore>,
    actors: Actors,
    settings: Settings,
}

/// Creates the data directory (mode 0700) if it does not exist.
///
/// # Errors
/// [`StartError::DataDir`].
pub fn create_data_dir(data_dir: &Path) -> Result<(), StartError> {
    let fail = |source| StartError::DataDir {
        path: data_dir.display().to_string(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(data_dir).map_err(fail)
}

/// The master keys of `data_dir`: the configured set, else its key file (`key_file`, or
/// `master.key` in the data directory), generated (one key) only for a directory that holds no
/// data yet.
/// (A store written under a key that is now missing must not get a new one: nothing in it could
/// be opened, and the new key would be used from then on.) A `shared` store's nodes must all
/// hold the same keys, so they are never generated for one. Warns when other users may read the
/// key file.
///
/// # Errors
/// [`StartError::MasterKey`].
pub fn load_master_keys(settings: &Settings) -> Result<MasterKeys, StartError> {
    let configured = settings.master_key.as_ref().map(SecretString::expose);
    let key_file = settings.master_key_file.as_deref();
    let data_dir = settings.data_dir.as_path();
    let shared = settings.store.is_shared();
    let refuse =
        |message: String| StartError::MasterKey(crate::crypto::CryptoError::MasterKey(message));
    if configured.is_some() && key_file.is_some() {
        return Err(refuse(
            "both BURNBOX_MASTER_KEY and a master key file are set: keep one".into(),
        ));
    }
    if shared && configured.is_none() && key_file.is_none_or(|file| !file.exists()) {
        return Err(refuse(
            "a shared store needs the same master key on every node: give each node BURNBOX_MASTER_KEY (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) or --master-key-file with the same existing key file".into(),
        ));
    }
    let key_file = settings.master_key_path();
    if configured.is_none() && !key_file.exists() && data_dir.join(DB_FILE_NAME).exists() {
        return Err(refuse(format!(
            "{} holds data but no master key: set BURNBOX_MASTER_KEY or --master-key-file to the key it was written with, or restore {}",
            data_dir.display(),
            key_file.display()
        )));
    }
    let keys = MasterKeys::load_or_create(configured, &key_file)?;
    if configured.is_none() {
        warn_if_open_to_others(&key_file, "the master key file", "chmod 600");
    }
    Ok(keys)
}

/// Logs a warning when users other than burnbox's may read `path` (group or other bits set).
pub fn warn_if_open_to_others(path: &Path, what: &str, fix: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(metadata) = std::fs::metadata(path) else {
            return;
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "{what} is open to other users: {fix} {}",
                path.display()
            );
        }
    }
}

/// How often a node on a shared store measures its clock against the store's.
const CLOCK_FOLLOW_INTERVAL: Duration = Duration::from_secs(10);

/// Moves this node's clock to the shared store's, warning when they were far apart.
async fn follow_clock(store: &RedisQuotas) -> Result<(), crate::storage::StoreError> {
    let sent = crate::clock::system();
    let reference = store.server_time().await?;
    let offset = crate::clock::follow(reference, sent, crate::clock::system());
    if offset.abs() > 1_000 {
        tracing::warn!(
            offset_ms = offset,
            "this host's clock is far from the shared store's; following the store's"
        );
    }
    Ok(())
}

/// Follows the shared store's clock for as long as the runtime runs.
async fn keep_following_clock(store: Arc<RedisQuotas>) {
    loop {
        tokio::time::sleep(CLOCK_FOLLOW_INTERVAL).await;
        if let Err(err) = follow_clock(&store).await {
            tracing::warn!(error = %err, "could not read the shared store's clock");
        }
    }
}

impl Application {
    /// Opens the store, derives the keys, starts the actors and binds the listener.
    ///
    /// # Errors
    /// A [`StartError`] naming what could not be set up.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        if settings.store.is_shared() && settings.blobs == BlobSettings::Fs {
            return Err(StartError::Settings(
                "a shared store needs shared file contents: nodes on one Redis must keep files in one S3 bucket (--blobs s3 --s3-bucket ...), not each in its own data directory".into(),
            ));
        }
        create_data_dir(&settings.data_dir)?;
        warn_if_open_to_others(&settings.data_dir, "the data directory", "chmod 700");
        crate::telemetry::handle();
        let master = load_master_keys(&settings)?;
        let keyring = Arc::new(Keyring::from_keys(&master).with_hashing_limits(settings.hashing));
        let record_auth = RecordAuth::from_keys(&master);
        drop(master);
        let stores = storage::open(&settings.engine(), record_auth).await?;
        let store = Arc::clone(&stores.secrets);
        let blobs: Arc<dyn BlobStore> = Arc::new(MeteredBlobs::new(match &settings.blobs {
            BlobSettings::Fs => Arc::new(FsBlobStore::open(&settings.data_dir)?),
            BlobSettings::S3(s3) => Arc::new(S3BlobStore::new(s3, &settings.data_dir)?),
        }));
        blobs.probe().await.map_err(|source| StartError::Blobs {
            backend: blobs.backend(),
            source,
        })?;
        let live = store.count_live().await?;
        metrics::gauge!(crate::telemetry::LIVE).set(live as f64);
        let actors = Actors::start(
            Arc::clone(&store),
            Arc::clone(&keyring),
            Arc::clone(&blobs),
            ActorSettings {
                idle_timeout: settings.actor_idle,
                lockout: settings.lockout,
            },
        )
        .await?;
        let limits = Limits {
            ttl: settings.ttl,
            ots_ttl: settings.ots_ttl,
            max_secret_bytes: settings.max_secret_bytes,
            tiers: settings.tiers,
            anonymous_create: settings.anonymous_create,
            max_uploads: settings.max_uploads,
        };
        // Nodes sharing Redis share its quotas and its clock.
        let shared = match &settings.store {
            EngineKind::Redis(target) => {
                let quotas =
                    Arc::new(RedisQuotas::connect(target, storage::SHARED_STORE_TIMEOUT).await?);
                follow_clock(&quotas).await?;
                tokio::spawn(keep_following_clock(Arc::clone(&quotas)));
                Some(quotas)
            }
            _ => None,
        };
        let guard = Guard {
            accounts: Accounts::new(stores.accounts, Arc::clone(&keyring)),
            limiter: match (&shared, settings.rate_limits) {
                (_, false) => None,
                (Some(shared), true) => Some(RateLimiter::shared(
                    settings.rate_windows,
                    Arc::clone(shared),
                )),
                (None, true) => Some(RateLimiter::new(settings.rate_windows)),
            },
            tiers: settings.tiers,
            trusted_proxies: settings.trusted_proxies.clone(),
        };
        let service = SecretService::new(
            Arc::clone(&store) as Arc<dyn SecretStore>,
            Arc::clone(&blobs),
            keyring,
            actors.clone(),
            limits,
        );
        let listen_error = |source| StartError::Listen {
            addr: settings.listen,
            source,
        };
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(listen_error)?;
        let metrics_listener = match settings.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Listen { addr, source })?,
            ),
            None => None,
        };
        let local_addr = listener.local_addr().unwrap_or(settings.listen);
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local_addr}"));
        Ok(Self {
            listener,
            metrics_listener,
            local_addr,
            public_url,
            service,
            guard,
            store,
            actors,
            settings,
        })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The port the server is bound to.
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests, stops the sweeper and
    /// the actors, and closes the store. Serving cannot fail once bound: a failed accept (out of
    /// file descriptors) is logged, counted and retried.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let Self {
            listener,
            metrics_listener,
            local_addr: _,
            public_url,
            service,
            guard,
            store,
            actors,
            settings,
        } = self;
        let (stop_sweeper, sweeper_stopped) = watch::channel(false);
        let sweeper = tokio::spawn(
            Sweeper {
                store: Arc::clone(&store),
                blobs: Arc::clone(service.blobs()),
                uploads: service.uploads().clone(),
                actors: actors.clone(),
                interval: settings.sweep_interval,
                orphan_grace: settings.orphan_grace,
            }
            .run(sweeper_stopped),
        );
        let app = api::routes(
            service,
            public_url,
            guard,
            metrics_listener.is_some(),
            settings.connections.body_read,
        );
        let (stop_metrics, metrics_stopped) = watch::channel(false);
        let metrics_server = metrics_listener.map(|listener| {
            let mut stopped = metrics_stopped;
            let server = Server::new(listener, settings.connections, Vec::new());
            tokio::spawn(server.run(
                poem::Route::new().at("/metrics", poem::get(api::health::metrics)),
                async move {
                    let _ = stopped.changed().await;
                },
                GRACE,
            ))
        });
        Server::new(
            listener,
            settings.connections,
            settings.trusted_proxies.clone(),
        )
        .run(app, shutdown, GRACE)
        .await;
        let _ = stop_metrics.send(true);
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
        let _ = stop_sweeper.send(true);
        let _ = sweeper.await;
        actors.shutdown().await;
        drop(store);
    }
}
