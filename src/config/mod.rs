//! Settings: command-line flags (each also a `BURNBOX_*` variable) over an optional TOML file over
//! the defaults. Every source is read into one [`SettingsLayer`]; [`Settings::resolve`] takes each
//! setting from the first layer that has it, else its default, and checks it. The server and the
//! account and key commands resolve their settings the same way.

mod layer;
mod resolve;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

pub use layer::{SettingsLayer, StoreName};
pub use resolve::{DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_MAX_SECRET_BYTES};

use crate::crypto::HashingLimits;
use crate::crypto::master_key::KEY_FILE_NAME;
use crate::domain::{LockoutPolicy, TtlRange};
use crate::service::Limits;
use crate::service::ratelimit::Windows;
use crate::service::tiers::TierTable;
use crate::storage::blob::S3Settings;
use crate::storage::{Engine, EngineKind};

/// A setting that is missing its value or has a bad one; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    /// An error saying `message`, which names the setting.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// A configured secret (the master key): wiped when dropped, never printed.
#[derive(Clone)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// `value`, to be wiped when dropped.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The value, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line.
    Json,
}

/// Everything the server needs, resolved and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Base of the links; `None` means `http://<bound address>`.
    pub public_url: Option<String>,
    /// Store backend.
    pub store: EngineKind,
    /// Memory the embedded store may keep file pages in, in bytes.
    pub store_cache_bytes: usize,
    /// Largest secret, in bytes.
    pub max_secret_bytes: usize,
    /// Passivation delay of secret actors.
    pub actor_idle: Duration,
    /// Period of the expiry sweeper.
    pub sweep_interval: Duration,
    /// TTL range of the Burn the Secret dialect.
    pub ttl: TtlRange,
    /// TTL range of the Onetime Secret dialect (anonymous callers).
    pub ots_ttl: TtlRange,
    /// Log format.
    pub log_format: LogFormat,
    /// Where `/metrics` is served, when not on the main address.
    pub metrics_listen: Option<SocketAddr>,
    /// `BURNBOX_MASTER_KEY`, base64, when set.
    pub master_key: Option<SecretString>,
    /// Where the master key file is, when not in the data directory.
    pub master_key_file: Option<PathBuf>,
    /// Replicas that must hold each Redis write before it is answered.
    pub redis_wait_replicas: u32,
    /// Whether request quotas apply.
    pub rate_limits: bool,
    /// Whether callers without an API key may create secrets.
    pub anonymous_create: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Limits of each tier.
    pub tiers: TierTable,
    /// The "hour" and "day" of the quotas.
    pub rate_windows: Windows,
    /// When wrong passphrases lock a secret.
    pub lockout: LockoutPolicy,
    /// Where file contents go.
    pub blobs: BlobSettings,
    /// Age after which a blob without a live secret is deleted.
    pub orphan_grace: Duration,
    /// File uploads served at once.
    pub max_uploads: usize,
    /// How long slow or idle clients may hold a connection, and how many one address may hold.
    pub connections: ConnectionLimits,
    /// How many argon2id runs go at once and how long a request waits for one.
    pub hashing: HashingLimits,
}

/// How long slow or idle clients may hold a connection, and how many one address may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time from a request head's first byte to its end.
    pub header_read: Duration,
    /// Time without a byte either way after which a connection is closed (an idle keep-alive
    /// connection, a stalled body, a client not reading its answer).
    pub idle: Duration,
    /// Time a request body other than a file may take to arrive.
    pub body_read: Duration,
    /// Connections one client address may hold at once.
    pub per_client: usize,
}

impl ConnectionLimits {
    /// 10 s for a head, 60 s idle, 30 s for a body, 64 connections per address.
    pub const DEFAULT: Self = Self {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(60),
        body_read: Duration::from_secs(30),
        per_client: 64,
    };
}

/// Where file contents go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobSettings {
    /// Files under `<data dir>/blobs` (the default).
    Fs,
    /// An S3-compatible bucket.
    S3(S3Settings),
}

impl Settings {
    /// The store these settings name, as [`crate::storage::open`] takes it.
    pub fn engine(&self) -> Engine {
        match &self.store {
            EngineKind::Embedded => Engine::Embedded {
                data_dir: self.data_dir.clone(),
                cache_bytes: self.store_cache_bytes,
            },
            EngineKind::Memory => Engine::Memory,
            EngineKind::Redis(target) => Engine::Redis {
                target: target.clone(),
                wait_replicas: self.redis_wait_replicas,
            },
        }
    }

    /// The limits the service enforces, as these settings give them.
    pub fn limits(&self) -> Limits {
        Limits {
            ttl: self.ttl,
            ots_ttl: self.ots_ttl,
            max_secret_bytes: self.max_secret_bytes,
            tiers: self.tiers,
            anonymous_create: self.anonymous_create,
            max_uploads: self.max_uploads,
        }
    }

    /// Where the master key file is: the configured file, else `master.key` in the data
    /// directory.
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(KEY_FILE_NAME))
    }
}
