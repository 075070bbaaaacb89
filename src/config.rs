//! Settings: command-line flags, `BURNBOX_*` environment variables and an optional TOML file, in
//! that order of precedence over the defaults. The defaults need none of them.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::crypto::HashingLimits;
use crate::domain::{LockoutPolicy, TtlRange};
use crate::service::ratelimit::Windows;
use crate::service::tiers::TierTable;
use crate::storage::EngineKind;
use crate::storage::blob::{DEFAULT_S3_PREFIX, S3Settings};

/// Where burnbox listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7143";
/// Where burnbox keeps its data unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = "./burnbox-data";
/// Server-wide ceiling on a secret's size, over every tier: the documented 50 MB, counted as a file
/// manager counts it (50 MiB).
pub const DEFAULT_MAX_SECRET_BYTES: usize = 52_428_800;

/// A setting that is missing its value or has a bad one; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// A configured secret (the master key): wiped when dropped, never printed.
#[derive(Clone)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
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

/// Flags of `burnbox serve`; each also reads a `BURNBOX_*` variable.
#[derive(Debug, Default, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:7143]
    #[arg(long, env = "BURNBOX_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Directory for the database and the generated master key [default: ./burnbox-data]
    #[arg(long, env = "BURNBOX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// File holding the master key (base64), generated there on first start; keep it outside
    /// the data directory so a copy of the data alone opens nothing [default: <data dir>/master.key]
    #[arg(long, env = "BURNBOX_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Base URL of the links handed out [default: http://<listen>]
    #[arg(long, env = "BURNBOX_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Secret store backend: embedded, memory, redis://[user:pass@]host:port/db or redis-cluster://host:port,host:port,... [default: embedded]
    #[arg(long, env = "BURNBOX_STORE", value_name = "NAME")]
    pub store: Option<String>,
    /// Largest secret accepted from any tier, in bytes [default: 50000000]
    #[arg(long, env = "BURNBOX_MAX_SECRET_BYTES", value_name = "BYTES")]
    pub max_secret_bytes: Option<usize>,
    /// Turn request quotas off (benchmarks, or a gateway that limits)
    #[arg(long, env = "BURNBOX_NO_RATE_LIMITS", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_rate_limits: bool,
    /// Refuse secrets from callers without an API key
    #[arg(long, env = "BURNBOX_NO_ANONYMOUS_CREATE", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_anonymous_create: bool,
    /// A proxy whose X-Forwarded-For is believed (repeat for several)
    #[arg(
        long = "trusted-proxy",
        env = "BURNBOX_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "IP"
    )]
    pub trusted_proxies: Vec<String>,
    /// With a `rediss://` store: a PEM file of the authority that signed the Redis servers'
    /// certificates, when not one the system trusts
    #[arg(long, env = "BURNBOX_REDIS_CA_FILE", value_name = "FILE")]
    pub redis_ca_file: Option<PathBuf>,
    /// With a Redis store: replicas that must hold each write before it is answered, so a
    /// failover never brings back a view (0: the primary's word) [default: 0]
    #[arg(long, env = "BURNBOX_REDIS_WAIT_REPLICAS", value_name = "N")]
    pub redis_wait_replicas: Option<u32>,
    /// MiB of memory the embedded store keeps pages of the database file in [default: 256]
    #[arg(long, env = "BURNBOX_STORE_CACHE_MIB", value_name = "MIB")]
    pub store_cache_mib: Option<usize>,
    /// Seconds an idle secret actor stays resident [default: 30]
    #[arg(long, env = "BURNBOX_ACTOR_IDLE_SECS", value_name = "SECS")]
    pub actor_idle_secs: Option<u64>,
    /// Milliseconds between expiry sweeps [default: 1000]
    #[arg(long, env = "BURNBOX_SWEEP_INTERVAL_MS", value_name = "MS")]
    pub sweep_interval_ms: Option<u64>,
    /// Serve /metrics on this address instead of the main one
    #[arg(long, env = "BURNBOX_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Log format [default: human]
    #[arg(long, env = "BURNBOX_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Where file contents go: fs (under the data dir) or s3 [default: fs]
    #[arg(long, env = "BURNBOX_BLOBS", value_name = "NAME")]
    pub blobs: Option<String>,
    /// S3 endpoint URL (omit for AWS); credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
    #[arg(long, env = "BURNBOX_S3_ENDPOINT", value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// S3 bucket for file contents (it must exist)
    #[arg(long, env = "BURNBOX_S3_BUCKET", value_name = "NAME")]
    pub s3_bucket: Option<String>,
    /// S3 region [default: AWS_REGION, else us-east-1]
    #[arg(long, env = "BURNBOX_S3_REGION", value_name = "REGION")]
    pub s3_region: Option<String>,
    /// Address the bucket in the URL path, as most self-hosted S3 stores want
    #[arg(long, env = "BURNBOX_S3_PATH_STYLE", value_parser = clap::builder::BoolishValueParser::new())]
    pub s3_path_style: bool,
    /// What object names start with; give each deployment sharing a bucket its own [default: blobs/]
    #[arg(long, env = "BURNBOX_S3_PREFIX", value_name = "PREFIX")]
    pub s3_prefix: Option<String>,
    /// File uploads served at once; more are refused with 503 [default: 16]
    #[arg(long, env = "BURNBOX_MAX_UPLOADS", value_name = "N")]
    pub max_uploads: Option<usize>,
    /// Seconds a request head may take to arrive once it starts [default: 10]
    #[arg(long, env = "BURNBOX_HEADER_READ_TIMEOUT_SECS", value_name = "SECS")]
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds a connection may move no byte either way before it is closed [default: 60]
    #[arg(long, env = "BURNBOX_IDLE_TIMEOUT_SECS", value_name = "SECS")]
    pub idle_timeout_secs: Option<u64>,
    /// Seconds a request body other than a file may take to arrive [default: 30]
    #[arg(long, env = "BURNBOX_BODY_READ_TIMEOUT_SECS", value_name = "SECS")]
    pub body_read_timeout_secs: Option<u64>,
    /// Connections one client address may hold at once (trusted proxies are not capped) [default: 64]
    #[arg(long, env = "BURNBOX_MAX_CONNECTIONS_PER_CLIENT", value_name = "N")]
    pub max_connections_per_client: Option<usize>,
    /// Passphrase hashes (argon2id, ~19 MiB each) computed at once [default: the CPU cores]
    #[arg(long, env = "BURNBOX_PASSPHRASE_WORKERS", value_name = "N")]
    pub passphrase_workers: Option<usize>,
    /// Seconds a passphrase request waits for a hashing turn before it is refused with 503 [default: 5]
    #[arg(long, env = "BURNBOX_PASSPHRASE_WAIT_SECS", value_name = "SECS")]
    pub passphrase_wait_secs: Option<u64>,
    /// Seconds before a blob without a live secret is deleted by the orphan sweep [default: 3600]
    #[arg(long, env = "BURNBOX_BLOB_ORPHAN_GRACE_SECS", value_name = "SECS")]
    pub blob_orphan_grace_secs: Option<u64>,
    /// TOML file with the same keys (snake_case)
    #[arg(long, env = "BURNBOX_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Testing only: lowers the shortest TTL accepted, in seconds
    #[arg(long, env = "BURNBOX_TEST_MIN_TTL", hide = true)]
    pub test_min_ttl: Option<u64>,
}

/// The TOML file's keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    master_key_file: Option<PathBuf>,
    redis_wait_replicas: Option<u32>,
    redis_ca_file: Option<PathBuf>,
    public_url: Option<String>,
    store: Option<String>,
    max_secret_bytes: Option<usize>,
    store_cache_mib: Option<usize>,
    actor_idle_secs: Option<u64>,
    sweep_interval_ms: Option<u64>,
    log_format: Option<LogFormat>,
    metrics_listen: Option<String>,
    no_rate_limits: Option<bool>,
    anonymous_create: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    tiers: Option<TierTable>,
    rate_windows: Option<FileWindows>,
    lockout: Option<FileLockout>,
    blobs: Option<String>,
    s3_endpoint: Option<String>,
    s3_bucket: Option<String>,
    s3_region: Option<String>,
    s3_path_style: Option<bool>,
    s3_prefix: Option<String>,
    blob_orphan_grace_secs: Option<u64>,
    max_uploads: Option<usize>,
    header_read_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    body_read_timeout_secs: Option<u64>,
    max_connections_per_client: Option<usize>,
    passphrase_workers: Option<usize>,
    passphrase_wait_secs: Option<u64>,
}

/// `[rate_windows]` of the configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWindows {
    short_secs: u64,
    long_secs: u64,
}

/// `[lockout]` of the configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLockout {
    max_failures: u32,
    window_secs: u64,
    lock_secs: u64,
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

/// Default orphan grace: an hour, far longer than any upload takes.
const DEFAULT_ORPHAN_GRACE_SECS: u64 = 3600;
/// Default page cache of the embedded store, in MiB.
const DEFAULT_STORE_CACHE_MIB: usize = crate::storage::DEFAULT_CACHE_BYTES >> 20;
/// Smallest accepted page cache of the embedded store, in MiB.
const MIN_STORE_CACHE_MIB: usize = 16;
/// Default number of file uploads served at once (~35 MiB each at most, with S3 blobs).
const DEFAULT_MAX_UPLOADS: usize = 16;

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The largest secret S3 blobs can hold: a file goes up in one `PutObject` (at most 5 GiB), and
/// sealing adds 16 bytes per 64 KiB chunk.
const S3_MAX_SECRET_BYTES: usize = 4 * 1024 * 1024 * 1024;

/// Resolves the connection limits; each must be at least 1.
fn connection_limits(args: &ServeArgs, file: &FileConfig) -> Result<ConnectionLimits, ConfigError> {
    let defaults = ConnectionLimits::DEFAULT;
    let secs =
        |flag: Option<u64>, key: Option<u64>, default: Duration, name: &str| match flag.or(key) {
            None => Ok(default),
            Some(0) => Err(ConfigError(format!(
                "invalid {name} (--{}): must be at least 1",
                name.replace(' ', "-")
            ))),
            Some(secs) => Ok(Duration::from_secs(secs)),
        };
    let per_client = args
        .max_connections_per_client
        .or(file.max_connections_per_client)
        .unwrap_or(defaults.per_client);
    if per_client == 0 {
        return Err(ConfigError(
            "invalid max connections per client (--max-connections-per-client): must be at least 1"
                .into(),
        ));
    }
    Ok(ConnectionLimits {
        header_read: secs(
            args.header_read_timeout_secs,
            file.header_read_timeout_secs,
            defaults.header_read,
            "header read timeout secs",
        )?,
        idle: secs(
            args.idle_timeout_secs,
            file.idle_timeout_secs,
            defaults.idle,
            "idle timeout secs",
        )?,
        body_read: secs(
            args.body_read_timeout_secs,
            file.body_read_timeout_secs,
            defaults.body_read,
            "body read timeout secs",
        )?,
        per_client,
    })
}

/// Resolves the bound on argon2id runs; both numbers must be at least 1.
fn hashing_limits(args: &ServeArgs, file: &FileConfig) -> Result<HashingLimits, ConfigError> {
    let defaults = HashingLimits::for_this_machine();
    let workers = args
        .passphrase_workers
        .or(file.passphrase_workers)
        .unwrap_or(defaults.workers);
    let wait_secs = args.passphrase_wait_secs.or(file.passphrase_wait_secs);
    if workers == 0 {
        return Err(ConfigError(
            "invalid passphrase workers (--passphrase-workers): must be at least 1".into(),
        ));
    }
    if wait_secs == Some(0) {
        return Err(ConfigError(
            "invalid passphrase wait (--passphrase-wait-secs): must be at least 1".into(),
        ));
    }
    Ok(HashingLimits {
        workers,
        wait: wait_secs.map_or(defaults.wait, Duration::from_secs),
    })
}

/// Resolves `--blobs` and the S3 settings.
fn blob_settings(
    args: &ServeArgs,
    file: &FileConfig,
    max_secret_bytes: usize,
) -> Result<BlobSettings, ConfigError> {
    let kind = args
        .blobs
        .clone()
        .or_else(|| file.blobs.clone())
        .unwrap_or_else(|| "fs".to_owned());
    match kind.as_str() {
        "fs" => Ok(BlobSettings::Fs),
        "s3" => {
            let bucket = args
                .s3_bucket
                .clone()
                .or_else(|| file.s3_bucket.clone())
                .ok_or_else(|| {
                    ConfigError(
                        "--blobs s3 needs a bucket (--s3-bucket / BURNBOX_S3_BUCKET)".into(),
                    )
                })?;
            if max_secret_bytes > S3_MAX_SECRET_BYTES {
                return Err(ConfigError(format!(
                    "invalid max secret bytes {max_secret_bytes} (--max-secret-bytes): S3 blobs hold at most {S3_MAX_SECRET_BYTES} (one PutObject)"
                )));
            }
            let credential = |name: &str| {
                env_value(name).ok_or_else(|| {
                    ConfigError(format!("--blobs s3 needs credentials: {name} is not set"))
                })
            };
            let endpoint = args
                .s3_endpoint
                .clone()
                .or_else(|| file.s3_endpoint.clone());
            if let Some(url) = &endpoint
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(ConfigError(format!(
                    "invalid S3 endpoint '{url}' (--s3-endpoint): must start with http:// or https://"
                )));
            }
            Ok(BlobSettings::S3(S3Settings {
                endpoint,
                bucket,
                region: args
                    .s3_region
                    .clone()
                    .or_else(|| file.s3_region.clone())
                    .or_else(|| env_value("AWS_REGION"))
                    .unwrap_or_else(|| "us-east-1".to_owned()),
                path_style: args.s3_path_style || file.s3_path_style.unwrap_or(false),
                prefix: s3_prefix(args.s3_prefix.clone().or_else(|| file.s3_prefix.clone()))?,
                access_key_id: credential("AWS_ACCESS_KEY_ID")?,
                secret_access_key: credential("AWS_SECRET_ACCESS_KEY")?,
                session_token: env_value("AWS_SESSION_TOKEN"),
            }))
        }
        other => Err(ConfigError(format!(
            "unknown blob store '{other}' (--blobs / BURNBOX_BLOBS; known: fs, s3)"
        ))),
    }
}

impl Settings {
    /// Defaults for a server on `listen` with its data in `data_dir` (used by tests).
    pub fn for_data_dir(listen: SocketAddr, data_dir: &Path) -> Self {
        Self {
            listen,
            data_dir: data_dir.to_owned(),
            public_url: None,
            store: EngineKind::Embedded,
            store_cache_bytes: crate::storage::DEFAULT_CACHE_BYTES,
            max_secret_bytes: DEFAULT_MAX_SECRET_BYTES,
            actor_idle: Duration::from_secs(30),
            sweep_interval: Duration::from_millis(1000),
            ttl: TtlRange::BURN_THE_SECRET,
            ots_ttl: TtlRange::ONETIME_SECRET_ANONYMOUS,
            log_format: LogFormat::Human,
            metrics_listen: None,
            master_key: None,
            master_key_file: None,
            redis_wait_replicas: 0,
            rate_limits: true,
            anonymous_create: true,
            trusted_proxies: Vec::new(),
            tiers: TierTable::DOCUMENTED,
            rate_windows: Windows::DOCUMENTED,
            lockout: LockoutPolicy::DEFAULT,
            blobs: BlobSettings::Fs,
            orphan_grace: Duration::from_secs(DEFAULT_ORPHAN_GRACE_SECS),
            max_uploads: DEFAULT_MAX_UPLOADS,
            connections: ConnectionLimits::DEFAULT,
            hashing: HashingLimits::for_this_machine(),
        }
    }

    /// Resolves flags and environment over the config file over the defaults.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad setting.
    pub fn resolve(args: ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let max_secret_bytes = args
            .max_secret_bytes
            .or(file.max_secret_bytes)
            .unwrap_or(DEFAULT_MAX_SECRET_BYTES);
        if max_secret_bytes == 0 {
            return Err(ConfigError(
                "invalid max secret bytes (--max-secret-bytes): must be at least 1".into(),
            ));
        }
        let blobs = blob_settings(&args, &file, max_secret_bytes)?;
        let connections = connection_limits(&args, &file)?;
        let hashing = hashing_limits(&args, &file)?;
        let listen_raw = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_raw.parse::<SocketAddr>().map_err(|e| {
            ConfigError(format!(
                "invalid listen address '{listen_raw}' (--listen / BURNBOX_LISTEN): {e}"
            ))
        })?;
        let public_url = args.public_url.or(file.public_url);
        let metrics_listen = match args.metrics_listen.or(file.metrics_listen) {
            Some(raw) => Some(raw.parse::<SocketAddr>().map_err(|e| {
                ConfigError(format!(
                    "invalid metrics address '{raw}' (--metrics-listen / BURNBOX_METRICS_LISTEN): {e}"
                ))
            })?),
            None => None,
        };
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError(format!(
                "invalid public URL '{url}' (--public-url / BURNBOX_PUBLIC_URL): must start with http:// or https://"
            )));
        }
        let store_raw = args
            .store
            .or(file.store)
            .unwrap_or_else(|| "embedded".to_owned());
        let store = store_raw
            .parse::<EngineKind>()
            .map_err(|e| ConfigError(format!("invalid store (--store / BURNBOX_STORE): {e}")))?;
        let store = with_redis_ca(store, args.redis_ca_file.or(file.redis_ca_file))?;
        let proxies_raw = if args.trusted_proxies.is_empty() {
            file.trusted_proxies.clone().unwrap_or_default()
        } else {
            args.trusted_proxies.clone()
        };
        let trusted_proxies = proxies_raw
            .iter()
            .map(|raw| {
                raw.trim().parse::<IpAddr>().map_err(|e| {
                    ConfigError(format!("invalid trusted proxy '{raw}' (--trusted-proxy / BURNBOX_TRUSTED_PROXIES): {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut ttl = TtlRange::BURN_THE_SECRET;
        let mut ots_ttl = TtlRange::ONETIME_SECRET_ANONYMOUS;
        if let Some(min) = args.test_min_ttl {
            ttl.min = min.max(1);
            ots_ttl.min = min.max(1);
        }
        let sweep_ms = args
            .sweep_interval_ms
            .or(file.sweep_interval_ms)
            .unwrap_or(1000);
        if sweep_ms == 0 {
            return Err(ConfigError(
                "invalid sweep interval (--sweep-interval-ms): must be at least 1".into(),
            ));
        }
        let orphan_grace = Duration::from_secs(
            args.blob_orphan_grace_secs
                .or(file.blob_orphan_grace_secs)
                .unwrap_or(DEFAULT_ORPHAN_GRACE_SECS)
                .max(1),
        );
        let max_uploads = args
            .max_uploads
            .or(file.max_uploads)
            .unwrap_or(DEFAULT_MAX_UPLOADS);
        let store_cache_mib = args
            .store_cache_mib
            .or(file.store_cache_mib)
            .unwrap_or(DEFAULT_STORE_CACHE_MIB);
        let max_store_cache_mib = usize::MAX >> 20;
        let store_cache_bytes = store_cache_mib
            .checked_mul(1 << 20)
            .filter(|_| store_cache_mib >= MIN_STORE_CACHE_MIB)
            .ok_or_else(|| {
                ConfigError(format!(
                    "invalid store cache (--store-cache-mib): must be between \
                     {MIN_STORE_CACHE_MIB} and {max_store_cache_mib}"
                ))
            })?;
        if max_uploads == 0 {
            return Err(ConfigError(
                "invalid max uploads (--max-uploads): must be at least 1".into(),
            ));
        }
        Ok(Self {
            blobs,
            orphan_grace,
            max_uploads,
            connections,
            hashing,
            listen,
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            public_url,
            store,
            store_cache_bytes,
            max_secret_bytes,
            actor_idle: Duration::from_secs(
                args.actor_idle_secs.or(file.actor_idle_secs).unwrap_or(30),
            ),
            sweep_interval: Duration::from_millis(sweep_ms),
            ttl,
            ots_ttl,
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Human),
            master_key_file: args.master_key_file.or(file.master_key_file),
            redis_wait_replicas: args
                .redis_wait_replicas
                .or(file.redis_wait_replicas)
                .unwrap_or(0),
            master_key: std::env::var("BURNBOX_MASTER_KEY")
                .ok()
                .filter(|k| !k.is_empty())
                .map(|k| SecretString(Zeroizing::new(k))),
            metrics_listen,
            rate_limits: !(args.no_rate_limits || file.no_rate_limits.unwrap_or(false)),
            anonymous_create: !args.no_anonymous_create && file.anonymous_create.unwrap_or(true),
            trusted_proxies,
            tiers: check_tiers(file.tiers.unwrap_or(TierTable::DOCUMENTED))?,
            rate_windows: match file.rate_windows {
                None => Windows::DOCUMENTED,
                Some(w)
                    if (1..=MAX_WINDOW_SECS).contains(&w.short_secs)
                        && (1..=MAX_WINDOW_SECS).contains(&w.long_secs) =>
                {
                    Windows {
                        short: Duration::from_secs(w.short_secs),
                        long: Duration::from_secs(w.long_secs),
                    }
                }
                Some(_) => {
                    return Err(ConfigError(format!(
                        "invalid [rate_windows] in the config file: short_secs and long_secs must be 1 to {MAX_WINDOW_SECS}"
                    )));
                }
            },
            lockout: file
                .lockout
                .map_or(LockoutPolicy::DEFAULT, |l| LockoutPolicy {
                    max_failures: l.max_failures.max(1),
                    window_ms: l.window_secs.saturating_mul(1000),
                    lock_ms: l.lock_secs.saturating_mul(1000),
                }),
        })
    }
}

/// Longest quota window accepted: a year.
const MAX_WINDOW_SECS: u64 = 366 * 86_400;

/// Refuses tier limits no caller could live with.
fn check_tiers(tiers: TierTable) -> Result<TierTable, ConfigError> {
    for (name, limits) in [
        ("anonymous", tiers.anonymous),
        ("authenticated", tiers.authenticated),
        ("api", tiers.api),
    ] {
        let bad =
            |what: &str| ConfigError(format!("invalid [tiers.{name}] in the config file: {what}"));
        if !(1..=999).contains(&limits.max_views) {
            return Err(bad("max_views must be 1 to 999"));
        }
        if limits.max_secret_bytes == 0 {
            return Err(bad("max_secret_bytes must be at least 1"));
        }
        if limits.max_ttl_secs < 60 {
            return Err(bad("max_ttl_secs must be at least 60"));
        }
        if limits.requests_per_hour.limit() == Some(0) || limits.requests_per_day.limit() == Some(0)
        {
            return Err(bad("request quotas must be at least 1, or \"unlimited\""));
        }
    }
    Ok(tiers)
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let message = e.message().to_owned();
        ConfigError(format!("invalid config file {}: {message}", path.display()))
    })
}

/// The S3 object prefix: `blobs/` by default; letters, digits and `-_./` only (a `/` is added
/// at the end when missing), so it is a folder of its own in any S3-compatible store.
fn s3_prefix(configured: Option<String>) -> Result<String, ConfigError> {
    let Some(prefix) = configured else {
        return Ok(DEFAULT_S3_PREFIX.to_owned());
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_./".contains(c);
    if prefix.is_empty()
        || prefix.starts_with('/')
        || prefix.len() > 256
        || !prefix.chars().all(allowed)
    {
        return Err(ConfigError(format!(
            "invalid S3 prefix '{prefix}' (--s3-prefix): 1 to 256 letters, digits and -_./, not starting with /"
        )));
    }
    Ok(if prefix.ends_with('/') {
        prefix
    } else {
        format!("{prefix}/")
    })
}

/// `store` checking its Redis servers' TLS against the authority in `ca_file`, when given.
///
/// # Errors
/// A [`ConfigError`] naming the file when it cannot be read.
pub fn with_redis_ca(
    store: EngineKind,
    ca_file: Option<PathBuf>,
) -> Result<EngineKind, ConfigError> {
    match (store, ca_file) {
        (EngineKind::Redis(target), Some(path)) => {
            let pem = std::fs::read(&path).map_err(|e| {
                ConfigError(format!(
                    "cannot read the Redis CA file {} (--redis-ca-file): {e}",
                    path.display()
                ))
            })?;
            Ok(EngineKind::Redis(target.with_ca(pem)))
        }
        (store, _) => Ok(store),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_prefixes_are_folders_of_safe_characters() {
        assert_eq!(s3_prefix(None).expect("default"), "blobs/");
        assert_eq!(s3_prefix(Some("prod".into())).expect("ok"), "prod/");
        assert_eq!(
            s3_prefix(Some("team-a/burnbox/".into())).expect("ok"),
            "team-a/burnbox/"
        );
        for bad in ["", "/abs", "sp ace", "q?x", "é"] {
            assert!(s3_prefix(Some(bad.into())).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/burnbox.example.toml");
        let args = ServeArgs {
            config: Some(example),
            ..ServeArgs::default()
        };
        let settings = Settings::resolve(args).expect("the example parses");
        let defaults = Settings::for_data_dir(
            DEFAULT_LISTEN.parse().expect("address"),
            Path::new(DEFAULT_DATA_DIR),
        );
        assert_eq!(settings.tiers, defaults.tiers);
        assert_eq!(settings.rate_windows, defaults.rate_windows);
        assert_eq!(settings.lockout, defaults.lockout);
        assert_eq!(settings.listen, defaults.listen);
        assert_eq!(settings.max_secret_bytes, defaults.max_secret_bytes);
        assert_eq!(
            (settings.rate_limits, settings.anonymous_create),
            (true, true)
        );
        assert_eq!(settings.blobs, BlobSettings::Fs);
        assert_eq!(settings.orphan_grace, defaults.orphan_grace);
        assert_eq!(settings.max_uploads, defaults.max_uploads);
        assert_eq!(settings.store_cache_bytes, defaults.store_cache_bytes);
    }

    proptest::proptest! {
        /// Any text, and any text shaped like the settings file, is read as settings or refused
        /// with a message; never a panic.
        #[test]
        fn any_settings_file_is_read_or_refused(
            text in "\\PC{0,200}",
            key in "(listen|store|data_dir|max_uploads|public_url|[a-z_]{1,12})",
            value in "(\"[^\"]{0,30}\"|[0-9]{1,12}|true|false|\\[\\])",
        ) {
            let _ = toml::from_str::<FileConfig>(&text);
            let _ = toml::from_str::<FileConfig>(&format!("{key} = {value}\n"));
            let _ = s3_prefix(Some(text));
        }
    }
}
