//! Builds the whole server from [`Settings`] and runs it until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::actors::sweeper::Sweeper;
use crate::actors::{ActorSettings, Actors};
use crate::api;
use crate::api::guard::Guard;
use crate::config::{BlobSettings, Settings};
use crate::crypto::{Keyring, RecordAuth};
use crate::server::Server;
use crate::service::SecretService;
use crate::service::accounts::Accounts;
use crate::service::ratelimit::RateLimiter;
use crate::storage::blob::{BlobStore, FsBlobStore, MeteredBlobs, S3BlobStore};
use crate::storage::{self, SecretStore};

mod data_dir;
mod shared_store;

pub use data_dir::{create_data_dir, load_master_keys, warn_if_open_to_others};

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

/// The file store `settings` name, checked by writing, reading back and deleting a probe.
async fn open_blobs(settings: &Settings) -> Result<Arc<dyn BlobStore>, StartError> {
    let blobs: Arc<dyn BlobStore> = Arc::new(MeteredBlobs::new(match &settings.blobs {
        BlobSettings::Fs => Arc::new(FsBlobStore::open(&settings.data_dir)?),
        BlobSettings::S3(s3) => Arc::new(S3BlobStore::new(s3, &settings.data_dir)?),
    }));
    blobs.probe().await.map_err(|source| StartError::Blobs {
        backend: blobs.backend(),
        source,
    })?;
    Ok(blobs)
}

/// The main listener and, when `/metrics` has its own address, its listener.
async fn bind(settings: &Settings) -> Result<(TcpListener, Option<TcpListener>), StartError> {
    let bind_one = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })
    };
    let listener = bind_one(settings.listen).await?;
    let metrics_listener = match settings.metrics_listen {
        Some(addr) => Some(bind_one(addr).await?),
        None => None,
    };
    Ok((listener, metrics_listener))
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
        let blobs = open_blobs(&settings).await?;
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
        // Nodes sharing Redis share its quotas and its clock.
        let shared = shared_store::connect(&settings).await?;
        let guard = Guard {
            accounts: Accounts::new(stores.accounts, Arc::clone(&keyring)),
            limiter: settings.rate_limits.then(|| match &shared {
                Some(shared) => RateLimiter::shared(settings.rate_windows, Arc::clone(shared)),
                None => RateLimiter::new(settings.rate_windows),
            }),
            tiers: settings.tiers,
            trusted_proxies: settings.trusted_proxies.clone(),
        };
        let service = SecretService::new(
            Arc::clone(&store) as Arc<dyn SecretStore>,
            Arc::clone(&blobs),
            keyring,
            actors.clone(),
            settings.limits(),
        );
        let (listener, metrics_listener) = bind(&settings).await?;
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
