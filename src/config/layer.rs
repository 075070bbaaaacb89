//! One source of settings: the command line with its `BURNBOX_*` variables, or the TOML file.
//! Both are read into the same [`SettingsLayer`], so a setting is named once for every source.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

use super::{ConfigError, LogFormat, SecretString};
use crate::service::tiers::TierTable;

/// Every setting, each unset until a source sets it. Flags (and the variable each reads) fill
/// one layer, the file another; [`Layers::first`] takes a setting from the first that has it.
#[derive(Debug, Default, Clone, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsLayer {
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
    pub store: Option<StoreName>,
    /// Largest secret accepted from any tier, in bytes [default: 52428800]
    #[arg(long, env = "BURNBOX_MAX_SECRET_BYTES", value_name = "BYTES")]
    pub max_secret_bytes: Option<usize>,
    /// Turn request quotas off (benchmarks, or a gateway that limits)
    #[arg(long, env = "BURNBOX_NO_RATE_LIMITS", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub no_rate_limits: Option<bool>,
    /// Refuse secrets from callers without an API key
    #[arg(long, env = "BURNBOX_NO_ANONYMOUS_CREATE", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    #[serde(skip)]
    pub no_anonymous_create: Option<bool>,
    /// The file's positive spelling of `no_anonymous_create`.
    #[arg(skip)]
    pub anonymous_create: Option<bool>,
    /// A proxy whose X-Forwarded-For is believed (repeat for several)
    #[arg(
        long = "trusted-proxy",
        env = "BURNBOX_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "IP"
    )]
    pub trusted_proxies: Option<Vec<String>>,
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
    #[arg(long, env = "BURNBOX_S3_PATH_STYLE", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub s3_path_style: Option<bool>,
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
    /// Limits of each tier (file only: `[tiers.anonymous]`, `[tiers.authenticated]`, `[tiers.api]`).
    #[arg(skip)]
    pub tiers: Option<TierTable>,
    /// The "hour" and "day" of the quotas (file only: `[rate_windows]`).
    #[arg(skip)]
    pub rate_windows: Option<FileWindows>,
    /// When wrong passphrases lock a secret (file only: `[lockout]`).
    #[arg(skip)]
    pub lockout: Option<FileLockout>,
    /// TOML file with the same keys (snake_case)
    #[arg(long, env = "BURNBOX_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Testing only: lowers the shortest TTL accepted, in seconds
    #[arg(long, env = "BURNBOX_TEST_MIN_TTL", hide = true)]
    #[serde(skip)]
    pub test_min_ttl: Option<u64>,
    /// The master keys themselves (`BURNBOX_MASTER_KEY` only: never a flag, which `ps` would
    /// show, nor the file).
    #[arg(skip)]
    #[serde(skip)]
    pub master_key: Option<SecretString>,
}

/// `[rate_windows]` of the configuration file.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWindows {
    /// The quotas' "hour", in seconds.
    pub short_secs: u64,
    /// The quotas' "day", in seconds.
    pub long_secs: u64,
}

/// `[lockout]` of the configuration file.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLockout {
    /// Wrong passphrases that lock a secret.
    pub max_failures: u32,
    /// Over how long they count.
    pub window_secs: u64,
    /// How long the lock lasts.
    pub lock_secs: u64,
}

impl SettingsLayer {
    /// The settings of the TOML file at `path`.
    ///
    /// # Errors
    /// A [`ConfigError`] when the file cannot be read or holds an unknown key or a bad value.
    pub fn read_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(format!("cannot read config file {}: {e}", path.display()))
        })?;
        Self::parse_file(&text).map_err(|message| {
            ConfigError::new(format!("invalid config file {}: {message}", path.display()))
        })
    }

    /// The settings of a TOML file's text, or the parser's message.
    pub(super) fn parse_file(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| {
            // The line's number, not its text: a value in it may be a credential (a store's URL).
            let line = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| before.matches('\n').count() + 1);
            match line {
                Some(line) => format!("line {line}: {}", e.message()),
                None => e.message().to_owned(),
            }
        })
    }

    /// Whether callers without an API key may create secrets, as this layer says (the flag's
    /// negative or the file's positive spelling).
    fn anonymous_create_setting(&self) -> Option<bool> {
        self.no_anonymous_create
            .map(|no| !no)
            .or(self.anonymous_create)
    }
}

/// The layers in precedence order: flags and variables, then the file.
pub struct Layers(Vec<SettingsLayer>);

impl Layers {
    /// `layers`, the first taking precedence.
    pub fn new(layers: Vec<SettingsLayer>) -> Self {
        Self(layers)
    }

    /// The setting `pick` reads, from the first layer that has it.
    pub fn first<T>(&self, pick: impl Fn(&SettingsLayer) -> Option<T>) -> Option<T> {
        self.0.iter().find_map(pick)
    }

    /// Whether anonymous callers may create, from the first layer that says.
    pub fn anonymous_create(&self) -> Option<bool> {
        self.first(SettingsLayer::anonymous_create_setting)
    }
}

/// The `--store` value as given: `embedded`, `memory` or a Redis URL, which may carry a password.
/// Its `Debug` shows the scheme alone, so no settings printed for debugging show a credential.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct StoreName(pub String);

impl std::str::FromStr for StoreName {
    type Err = std::convert::Infallible;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(Self(name.to_owned()))
    }
}

impl std::fmt::Debug for StoreName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self
            .0
            .split_once("://")
            .map_or(self.0.as_str(), |(scheme, _)| scheme);
        write!(f, "StoreName({scheme}…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_url_s_password_is_not_in_the_debug_output() {
        let layer = SettingsLayer {
            store: Some(StoreName("redis://burnbox:hunter2@10.0.0.5:6379/0".into())),
            ..SettingsLayer::default()
        };
        let printed = format!("{layer:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("10.0.0.5"),
            "{printed}"
        );
        assert!(printed.contains("StoreName(redis…)"), "{printed}");
    }
}
