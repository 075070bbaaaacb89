//! The list of backends and the one way to open them.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use super::{CachedStore, EmbeddedStore, MemoryStore, SecretStore, StoreError};

/// Records kept in the read cache.
const CACHE_CAPACITY: u64 = 100_000;

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
}

/// The backend names accepted by `--store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// See [`Engine::Embedded`].
    Embedded,
    /// See [`Engine::Memory`].
    Memory,
}

impl FromStr for EngineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "embedded" => Ok(Self::Embedded),
            "memory" => Ok(Self::Memory),
            other => Err(format!("unknown store '{other}' (known: embedded, memory)")),
        }
    }
}

/// Opens `engine` behind the read cache.
///
/// # Errors
/// Whatever the backend reports when it cannot open.
pub fn open(engine: &Engine) -> Result<Arc<dyn SecretStore>, StoreError> {
    let inner: Arc<dyn SecretStore> = match engine {
        Engine::Embedded {
            data_dir,
            cache_bytes,
        } => Arc::new(EmbeddedStore::open_with_cache(data_dir, *cache_bytes)?),
        Engine::Memory => Arc::new(MemoryStore::new()),
    };
    Ok(Arc::new(CachedStore::new(inner, CACHE_CAPACITY)))
}
