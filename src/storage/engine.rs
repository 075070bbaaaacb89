//! The list of backends and the one way to open them.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::redis::{RedisStore, RedisTarget};
use super::{AccountStore, CachedStore, EmbeddedStore, MemoryStore, SecretStore, StoreError};
use crate::crypto::RecordAuth;

/// Records kept in the read cache.
const CACHE_CAPACITY: u64 = 100_000;
/// How long connecting to a shared store, or any one answer from it, may take.
pub const SHARED_STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Which backend holds the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// redb in the data directory: durable, zero configuration (the default).
    Embedded {
        /// The directory holding the database file.
        data_dir: PathBuf,
        /// Memory for pages of the database file, in bytes.
        cache_bytes: usize,
    },
    /// Process memory: for tests; nothing survives a restart.
    Memory,
    /// Redis, shared by several nodes.
    Redis {
        /// Where it is.
        target: RedisTarget,
        /// Replicas that must hold each write before it is answered.
        wait_replicas: u32,
    },
}

/// The backend names accepted by `--store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineKind {
    /// See [`Engine::Embedded`].
    Embedded,
    /// See [`Engine::Memory`].
    Memory,
    /// See [`Engine::Redis`].
    Redis(RedisTarget),
}

impl EngineKind {
    /// Whether other nodes may write the same store.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Redis(_))
    }
}

impl FromStr for EngineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(target) = RedisTarget::parse(s) {
            return target.map(Self::Redis);
        }
        match s {
            "embedded" => Ok(Self::Embedded),
            "memory" => Ok(Self::Memory),
            other => Err(format!(
                "unknown store '{other}' (known: embedded, memory, redis://host:port, redis-cluster://host:port,...)"
            )),
        }
    }
}

/// An opened backend: its secrets behind the read cache, and its accounts.
#[derive(Clone)]
pub struct Stores {
    /// Secrets, receipts and their indexes, behind the read cache.
    pub secrets: Arc<CachedStore>,
    /// Accounts and API tokens.
    pub accounts: Arc<dyn AccountStore>,
}

impl Stores {
    /// The two views of one backend, its secrets behind the read cache.
    pub fn cached<S: SecretStore + AccountStore>(backend: Arc<S>) -> Self {
        let secrets: Arc<dyn SecretStore> = backend.clone();
        Self {
            secrets: Arc::new(CachedStore::new(secrets, CACHE_CAPACITY)),
            accounts: backend,
        }
    }
}

/// Opens `engine`.
///
/// # Errors
/// Whatever the backend reports when it cannot open.
pub async fn open(engine: &Engine, auth: RecordAuth) -> Result<Stores, StoreError> {
    Ok(match engine {
        Engine::Embedded {
            data_dir,
            cache_bytes,
        } => Stores::cached(Arc::new(EmbeddedStore::open_with_cache(
            data_dir,
            *cache_bytes,
            auth,
        )?)),
        // Nothing outside the process can write it: nothing to authenticate.
        Engine::Memory => Stores::cached(Arc::new(MemoryStore::new())),
        Engine::Redis {
            target,
            wait_replicas,
        } => Stores::cached(Arc::new(
            RedisStore::connect(target, *wait_replicas, SHARED_STORE_TIMEOUT, auth).await?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_parse() {
        assert_eq!("embedded".parse(), Ok(EngineKind::Embedded));
        assert_eq!(
            "redis://:pw@127.0.0.1:6379/0".parse(),
            Ok(EngineKind::Redis(RedisTarget::single(
                "redis://:pw@127.0.0.1:6379/0"
            )))
        );
        assert_eq!(
            "redis-cluster://u:p@a:7000, b:7001".parse(),
            Ok(EngineKind::Redis(RedisTarget::cluster(vec![
                "redis://u:p@a:7000".into(),
                "redis://u:p@b:7001".into()
            ])))
        );
        assert_eq!(
            "rediss-cluster://a:7000".parse(),
            Ok(EngineKind::Redis(RedisTarget::cluster(vec![
                "rediss://a:7000".into()
            ])))
        );
        for bad in ["redis-cluster://", "rediss-cluster://", "postgres://x"] {
            assert!(bad.parse::<EngineKind>().is_err(), "{bad}");
        }
        let shown = format!("{:?}", "redis://:secret@h:1".parse::<EngineKind>());
        assert!(!shown.contains("secret"), "{shown}");
    }
}
