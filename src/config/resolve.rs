//! Settings resolved from their layers: each setting from the first layer that has it, else its
//! default (each default defined here once), checked.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::layer::{Layers, SettingsLayer};
use super::{BlobSettings, ConfigError, ConnectionLimits, LogFormat, SecretString, Settings};
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
/// Default orphan grace: an hour, far longer than any upload takes.
const DEFAULT_ORPHAN_GRACE_SECS: u64 = 3600;
/// Default page cache of the embedded store, in MiB.
const DEFAULT_STORE_CACHE_MIB: usize = crate::storage::DEFAULT_CACHE_BYTES >> 20;
/// Smallest accepted page cache of the embedded store, in MiB.
const MIN_STORE_CACHE_MIB: usize = 16;
/// Default number of file uploads served at once (~35 MiB each at most, with S3 blobs).
const DEFAULT_MAX_UPLOADS: usize = 16;
/// Default time an idle actor stays resident.
const DEFAULT_ACTOR_IDLE_SECS: u64 = 30;
/// Default period of the expiry sweeper.
const DEFAULT_SWEEP_INTERVAL_MS: u64 = 1000;
/// Longest quota window accepted: a year.
const MAX_WINDOW_SECS: u64 = 366 * 86_400;
/// The largest secret S3 blobs can hold: a file goes up in one `PutObject` (at most 5 GiB), and
/// sealing adds 16 bytes per 64 KiB chunk.
const S3_MAX_SECRET_BYTES: usize = 4 * 1024 * 1024 * 1024;

/// A variable of the environment, when set and not empty.
pub(super) fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `value` when it is at least 1, else an error naming `flag`.
fn at_least_one<T: PartialEq + From<u8>>(
    value: T,
    what: &str,
    flag: &str,
) -> Result<T, ConfigError> {
    if value == T::from(0) {
        return Err(ConfigError::new(format!(
            "invalid {what} (--{flag}): must be at least 1"
        )));
    }
    Ok(value)
}

/// `raw` as an address, or an error naming `flag` and `variable`.
fn address(raw: &str, what: &str, flag: &str, variable: &str) -> Result<SocketAddr, ConfigError> {
    raw.parse().map_err(|e| {
        ConfigError::new(format!(
            "invalid {what} '{raw}' (--{flag} / {variable}): {e}"
        ))
    })
}

/// `url` when it is HTTP(S), or an error naming `flag`.
fn http_url(url: String, what: &str, flag: &str) -> Result<String, ConfigError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(url);
    }
    Err(ConfigError::new(format!(
        "invalid {what} '{url}' (--{flag}): must start with http:// or https://"
    )))
}

/// The layers in precedence order: `flags` with `BURNBOX_MASTER_KEY`, then the TOML file they
/// name.
fn sources(mut flags: SettingsLayer) -> Result<Vec<SettingsLayer>, ConfigError> {
    flags.master_key = env_value("BURNBOX_MASTER_KEY").map(SecretString::new);
    let file = match &flags.config {
        Some(path) => SettingsLayer::read_file(path)?,
        None => SettingsLayer::default(),
    };
    Ok(vec![flags, file])
}

impl Settings {
    /// The defaults for a server on `listen` with its data in `data_dir`, the master key in the
    /// data directory (tests start servers this way).
    ///
    /// # Errors
    /// None for the defaults; the [`ConfigError`] is kept so no default is trusted unchecked.
    pub fn for_data_dir(
        listen: SocketAddr,
        data_dir: &std::path::Path,
    ) -> Result<Self, ConfigError> {
        Self::from_layers(&Layers::new(vec![SettingsLayer {
            listen: Some(listen.to_string()),
            data_dir: Some(data_dir.to_owned()),
            ..SettingsLayer::default()
        }]))
    }

    /// Resolves the command line's flags and variables over the TOML file they name
    /// (`--config`) over the defaults, with the master keys from `BURNBOX_MASTER_KEY`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad setting.
    pub fn resolve(flags: SettingsLayer) -> Result<Self, ConfigError> {
        Self::from_layers(&Layers::new(sources(flags)?))
    }

    /// Resolves, as [`Self::resolve`] does, only where the store and the master keys are (the
    /// data directory, the store and its authority, the key file, `BURNBOX_MASTER_KEY`), every
    /// other setting at its default: what the account and key commands need, so a server setting
    /// they do not use cannot stop them.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad setting of those.
    pub fn resolve_store(flags: SettingsLayer) -> Result<Self, ConfigError> {
        let layers = sources(flags)?
            .into_iter()
            .map(|layer| SettingsLayer {
                data_dir: layer.data_dir,
                store: layer.store,
                redis_ca_file: layer.redis_ca_file,
                master_key_file: layer.master_key_file,
                master_key: layer.master_key,
                ..SettingsLayer::default()
            })
            .collect();
        Self::from_layers(&Layers::new(layers))
    }

    /// Each setting from the first of `layers` that has it, else its default; checked.
    fn from_layers(layers: &Layers) -> Result<Self, ConfigError> {
        let max_secret_bytes = at_least_one(
            layers
                .first(|l| l.max_secret_bytes)
                .unwrap_or(DEFAULT_MAX_SECRET_BYTES),
            "max secret bytes",
            "max-secret-bytes",
        )?;
        let blobs = blob_settings(layers, max_secret_bytes)?;
        let connections = connection_limits(layers)?;
        let hashing = hashing_limits(layers)?;
        let listen = address(
            &layers
                .first(|l| l.listen.clone())
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            "listen address",
            "listen",
            "BURNBOX_LISTEN",
        )?;
        let metrics_listen = layers
            .first(|l| l.metrics_listen.clone())
            .map(|raw| {
                address(
                    &raw,
                    "metrics address",
                    "metrics-listen",
                    "BURNBOX_METRICS_LISTEN",
                )
            })
            .transpose()?;
        let public_url = layers
            .first(|l| l.public_url.clone())
            .map(|url| http_url(url, "public URL", "public-url / BURNBOX_PUBLIC_URL"))
            .transpose()?;
        let mut ttl = TtlRange::BURN_THE_SECRET;
        let mut ots_ttl = TtlRange::ONETIME_SECRET_ANONYMOUS;
        if let Some(min) = layers.first(|l| l.test_min_ttl) {
            ttl.min = min.max(1);
            ots_ttl.min = min.max(1);
        }
        Ok(Self {
            blobs,
            orphan_grace: Duration::from_secs(
                layers
                    .first(|l| l.blob_orphan_grace_secs)
                    .unwrap_or(DEFAULT_ORPHAN_GRACE_SECS)
                    .max(1),
            ),
            max_uploads: at_least_one(
                layers
                    .first(|l| l.max_uploads)
                    .unwrap_or(DEFAULT_MAX_UPLOADS),
                "max uploads",
                "max-uploads",
            )?,
            connections,
            hashing,
            listen,
            data_dir: layers
                .first(|l| l.data_dir.clone())
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            public_url,
            store: store(layers)?,
            store_cache_bytes: store_cache_bytes(layers)?,
            max_secret_bytes,
            actor_idle: Duration::from_secs(
                layers
                    .first(|l| l.actor_idle_secs)
                    .unwrap_or(DEFAULT_ACTOR_IDLE_SECS),
            ),
            sweep_interval: Duration::from_millis(at_least_one(
                layers
                    .first(|l| l.sweep_interval_ms)
                    .unwrap_or(DEFAULT_SWEEP_INTERVAL_MS),
                "sweep interval",
                "sweep-interval-ms",
            )?),
            ttl,
            ots_ttl,
            log_format: layers.first(|l| l.log_format).unwrap_or(LogFormat::Human),
            master_key_file: layers.first(|l| l.master_key_file.clone()),
            redis_wait_replicas: layers.first(|l| l.redis_wait_replicas).unwrap_or(0),
            master_key: layers.first(|l| l.master_key.clone()),
            metrics_listen,
            rate_limits: !layers.first(|l| l.no_rate_limits).unwrap_or(false),
            anonymous_create: layers.anonymous_create().unwrap_or(true),
            trusted_proxies: trusted_proxies(layers)?,
            tiers: check_tiers(layers.first(|l| l.tiers).unwrap_or(TierTable::DOCUMENTED))?,
            rate_windows: rate_windows(layers)?,
            lockout: layers
                .first(|l| l.lockout)
                .map_or(LockoutPolicy::DEFAULT, |l| LockoutPolicy {
                    max_failures: l.max_failures.max(1),
                    window_ms: l.window_secs.saturating_mul(1000),
                    lock_ms: l.lock_secs.saturating_mul(1000),
                }),
        })
    }
}

/// The store, with its Redis servers' certificate authority when one is given.
fn store(layers: &Layers) -> Result<EngineKind, ConfigError> {
    let raw = layers
        .first(|l| l.store.clone().map(|name| name.0))
        .unwrap_or_else(|| "embedded".to_owned());
    let store = raw
        .parse::<EngineKind>()
        .map_err(|e| ConfigError::new(format!("invalid store (--store / BURNBOX_STORE): {e}")))?;
    match (store, layers.first(|l| l.redis_ca_file.clone())) {
        (EngineKind::Redis(target), Some(path)) => {
            let pem = std::fs::read(&path).map_err(|e| {
                ConfigError::new(format!(
                    "cannot read the Redis CA file {} (--redis-ca-file): {e}",
                    path.display()
                ))
            })?;
            Ok(EngineKind::Redis(target.with_ca(pem)))
        }
        (store, _) => Ok(store),
    }
}

/// The embedded store's page cache, from MiB to bytes, at least [`MIN_STORE_CACHE_MIB`].
fn store_cache_bytes(layers: &Layers) -> Result<usize, ConfigError> {
    let mib = layers
        .first(|l| l.store_cache_mib)
        .unwrap_or(DEFAULT_STORE_CACHE_MIB);
    mib.checked_mul(1 << 20)
        .filter(|_| mib >= MIN_STORE_CACHE_MIB)
        .ok_or_else(|| {
            ConfigError::new(format!(
                "invalid store cache (--store-cache-mib): must be between \
                 {MIN_STORE_CACHE_MIB} and {}",
                usize::MAX >> 20
            ))
        })
}

/// The proxies whose `X-Forwarded-For` is believed.
fn trusted_proxies(layers: &Layers) -> Result<Vec<IpAddr>, ConfigError> {
    layers
        .first(|l| l.trusted_proxies.clone())
        .unwrap_or_default()
        .iter()
        .map(|raw| {
            raw.trim().parse::<IpAddr>().map_err(|e| {
                ConfigError::new(format!(
                    "invalid trusted proxy '{raw}' (--trusted-proxy / BURNBOX_TRUSTED_PROXIES): {e}"
                ))
            })
        })
        .collect()
}

/// The quotas' windows, each 1 s to a year.
fn rate_windows(layers: &Layers) -> Result<Windows, ConfigError> {
    match layers.first(|l| l.rate_windows) {
        None => Ok(Windows::DOCUMENTED),
        Some(w)
            if (1..=MAX_WINDOW_SECS).contains(&w.short_secs)
                && (1..=MAX_WINDOW_SECS).contains(&w.long_secs) =>
        {
            Ok(Windows {
                short: Duration::from_secs(w.short_secs),
                long: Duration::from_secs(w.long_secs),
            })
        }
        Some(_) => Err(ConfigError::new(format!(
            "invalid [rate_windows] in the config file: short_secs and long_secs must be 1 to {MAX_WINDOW_SECS}"
        ))),
    }
}

/// The connection limits; each must be at least 1.
fn connection_limits(layers: &Layers) -> Result<ConnectionLimits, ConfigError> {
    let defaults = ConnectionLimits::DEFAULT;
    let secs = |value: Option<u64>, default: Duration, what: &str, flag: &str| {
        value.map_or(Ok(default), |secs| {
            at_least_one(secs, what, flag).map(Duration::from_secs)
        })
    };
    Ok(ConnectionLimits {
        header_read: secs(
            layers.first(|l| l.header_read_timeout_secs),
            defaults.header_read,
            "header read timeout secs",
            "header-read-timeout-secs",
        )?,
        idle: secs(
            layers.first(|l| l.idle_timeout_secs),
            defaults.idle,
            "idle timeout secs",
            "idle-timeout-secs",
        )?,
        body_read: secs(
            layers.first(|l| l.body_read_timeout_secs),
            defaults.body_read,
            "body read timeout secs",
            "body-read-timeout-secs",
        )?,
        per_client: at_least_one(
            layers
                .first(|l| l.max_connections_per_client)
                .unwrap_or(defaults.per_client),
            "max connections per client",
            "max-connections-per-client",
        )?,
    })
}

/// The bound on argon2id runs; both numbers must be at least 1.
fn hashing_limits(layers: &Layers) -> Result<HashingLimits, ConfigError> {
    let defaults = HashingLimits::for_this_machine();
    let workers = at_least_one(
        layers
            .first(|l| l.passphrase_workers)
            .unwrap_or(defaults.workers),
        "passphrase workers",
        "passphrase-workers",
    )?;
    let wait = match layers.first(|l| l.passphrase_wait_secs) {
        None => defaults.wait,
        Some(secs) => Duration::from_secs(at_least_one(
            secs,
            "passphrase wait",
            "passphrase-wait-secs",
        )?),
    };
    Ok(HashingLimits { workers, wait })
}

/// `--blobs` and the S3 settings.
fn blob_settings(layers: &Layers, max_secret_bytes: usize) -> Result<BlobSettings, ConfigError> {
    let kind = layers
        .first(|l| l.blobs.clone())
        .unwrap_or_else(|| "fs".to_owned());
    match kind.as_str() {
        "fs" => Ok(BlobSettings::Fs),
        "s3" => {
            let bucket = layers.first(|l| l.s3_bucket.clone()).ok_or_else(|| {
                ConfigError::new("--blobs s3 needs a bucket (--s3-bucket / BURNBOX_S3_BUCKET)")
            })?;
            if max_secret_bytes > S3_MAX_SECRET_BYTES {
                return Err(ConfigError::new(format!(
                    "invalid max secret bytes {max_secret_bytes} (--max-secret-bytes): S3 blobs hold at most {S3_MAX_SECRET_BYTES} (one PutObject)"
                )));
            }
            let credential = |name: &str| {
                env_value(name).ok_or_else(|| {
                    ConfigError::new(format!("--blobs s3 needs credentials: {name} is not set"))
                })
            };
            Ok(BlobSettings::S3(S3Settings {
                endpoint: layers
                    .first(|l| l.s3_endpoint.clone())
                    .map(|url| http_url(url, "S3 endpoint", "s3-endpoint"))
                    .transpose()?,
                bucket,
                region: layers
                    .first(|l| l.s3_region.clone())
                    .or_else(|| env_value("AWS_REGION"))
                    .unwrap_or_else(|| "us-east-1".to_owned()),
                path_style: layers.first(|l| l.s3_path_style).unwrap_or(false),
                prefix: s3_prefix(layers.first(|l| l.s3_prefix.clone()))?,
                access_key_id: credential("AWS_ACCESS_KEY_ID")?,
                secret_access_key: credential("AWS_SECRET_ACCESS_KEY")?,
                session_token: env_value("AWS_SESSION_TOKEN"),
            }))
        }
        other => Err(ConfigError::new(format!(
            "unknown blob store '{other}' (--blobs / BURNBOX_BLOBS; known: fs, s3)"
        ))),
    }
}

/// Refuses tier limits no caller could live with.
fn check_tiers(tiers: TierTable) -> Result<TierTable, ConfigError> {
    for (name, limits) in [
        ("anonymous", tiers.anonymous),
        ("authenticated", tiers.authenticated),
        ("api", tiers.api),
    ] {
        let bad = |what: &str| {
            ConfigError::new(format!("invalid [tiers.{name}] in the config file: {what}"))
        };
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
        return Err(ConfigError::new(format!(
            "invalid S3 prefix '{prefix}' (--s3-prefix): 1 to 256 letters, digits and -_./, not starting with /"
        )));
    }
    Ok(if prefix.ends_with('/') {
        prefix
    } else {
        format!("{prefix}/")
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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
        let file = SettingsLayer::read_file(&example).expect("the example parses");
        let settings = Settings::from_layers(&Layers::new(vec![file])).expect("resolves");
        let defaults = Settings::from_layers(&Layers::new(vec![])).expect("defaults");
        assert_eq!(settings.tiers, defaults.tiers);
        assert_eq!(settings.rate_windows, defaults.rate_windows);
        assert_eq!(settings.lockout, defaults.lockout);
        assert_eq!(settings.listen, defaults.listen);
        assert_eq!(settings.data_dir, defaults.data_dir);
        assert_eq!(settings.max_secret_bytes, defaults.max_secret_bytes);
        assert_eq!(
            (settings.rate_limits, settings.anonymous_create),
            (defaults.rate_limits, defaults.anonymous_create)
        );
        assert_eq!(settings.blobs, defaults.blobs);
        assert_eq!(settings.orphan_grace, defaults.orphan_grace);
        assert_eq!(settings.max_uploads, defaults.max_uploads);
        assert_eq!(settings.store_cache_bytes, defaults.store_cache_bytes);
        assert_eq!(settings.connections, defaults.connections);
        assert_eq!(settings.hashing.wait, defaults.hashing.wait);
        assert_eq!(settings.sweep_interval, defaults.sweep_interval);
        assert_eq!(settings.actor_idle, defaults.actor_idle);
    }

    #[test]
    fn a_flag_wins_over_the_file_in_either_direction() {
        let file = SettingsLayer::parse_file(
            "anonymous_create = false\nno_rate_limits = true\nmax_uploads = 3\nlisten = \"127.0.0.1:1\"\n",
        )
        .expect("parses");
        let flags = SettingsLayer {
            no_anonymous_create: Some(false),
            no_rate_limits: Some(false),
            listen: Some("127.0.0.1:2".into()),
            ..SettingsLayer::default()
        };
        let settings =
            Settings::from_layers(&Layers::new(vec![flags, file.clone()])).expect("resolves");
        assert!(settings.anonymous_create && settings.rate_limits);
        assert_eq!(settings.listen.port(), 2);
        assert_eq!(
            settings.max_uploads, 3,
            "what the flags leave unset comes from the file"
        );
        let from_file = Settings::from_layers(&Layers::new(vec![file])).expect("resolves");
        assert!(!from_file.anonymous_create && !from_file.rate_limits);
        assert!(
            SettingsLayer::parse_file("no_anonymous_create = true\n").is_err(),
            "the file has one spelling, anonymous_create"
        );
        let wrong_type =
            SettingsLayer::parse_file("listen = \"127.0.0.1:1\"\nmax_uploads = \"lots\"\n")
                .expect_err("a string for a number");
        assert!(wrong_type.starts_with("line 2: "), "{wrong_type}");
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
            let _ = SettingsLayer::parse_file(&text);
            if let Ok(layer) = SettingsLayer::parse_file(&format!("{key} = {value}\n")) {
                let _ = Settings::from_layers(&Layers::new(vec![layer]));
            }
            let _ = s3_prefix(Some(text));
        }
    }
}
