//! The operator's commands: accounts and API keys (`accounts.rs`) and the master keys
//! (`master_keys.rs`). They find the store and the keys as the server does, from the same flags,
//! variables and file, and open the store directly: the embedded store is held by one process at
//! a time, so while a server runs on the same data directory they stop with a message saying so.

mod accounts;
mod master_keys;

use std::path::PathBuf;

use clap::Args;

pub use accounts::{AccountCommand, KeyCommand, account, key};
pub use master_keys::{MasterKeyCommand, master_key};

use crate::app::{create_data_dir, load_master_keys};
use crate::config::{Settings, SettingsLayer, StoreName};
use crate::crypto::MasterKeys;
use crate::storage::{self, EngineKind, StoreError};

/// Where the accounts and keys live: the store's and the master keys' options of `serve`, from the
/// same flags, variables and file, resolved the same way.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// TOML file of the server's settings (snake_case keys)
    #[arg(long, env = "BURNBOX_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the database and the master key [default: ./burnbox-data]
    #[arg(long, env = "BURNBOX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Secret store backend: embedded, or the nodes' redis://... or redis-cluster://... [default: embedded]
    #[arg(long, env = "BURNBOX_STORE", value_name = "NAME")]
    pub store: Option<StoreName>,
    /// File holding the master key, when the server keeps it outside the data directory
    #[arg(long, env = "BURNBOX_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// With a `rediss://` store: the authority that signed the servers' certificates (PEM)
    #[arg(long, env = "BURNBOX_REDIS_CA_FILE", value_name = "FILE")]
    pub redis_ca_file: Option<PathBuf>,
}

impl StoreArgs {
    /// Where the store and the master keys are: these options over the server's file over the
    /// defaults (the server's other settings are not read).
    ///
    /// # Errors
    /// The bad setting, as one line.
    pub fn settings(&self) -> Result<Settings, String> {
        Settings::resolve_store(SettingsLayer {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            store: self.store.clone(),
            master_key_file: self.master_key_file.clone(),
            redis_ca_file: self.redis_ca_file.clone(),
            ..SettingsLayer::default()
        })
        .map_err(|e| e.to_string())
    }
}

/// The store `settings` name, opened as the server opens it, and its master keys.
///
/// # Errors
/// Why it cannot be opened, as one line (a server holding the embedded store among the causes).
pub async fn open_store(settings: &Settings) -> Result<(storage::Stores, MasterKeys), String> {
    if matches!(settings.store, EngineKind::Memory) {
        return Err(
            "the memory store keeps nothing: account commands need the server's --store".into(),
        );
    }
    if !settings.store.is_shared() {
        create_data_dir(&settings.data_dir).map_err(|e| e.to_string())?;
    }
    let master = load_master_keys(settings).map_err(|e| e.to_string())?;
    let auth = crate::crypto::RecordAuth::from_keys(&master);
    let store = storage::open(&settings.engine(), auth)
        .await
        .map_err(|err| match err {
            StoreError::Backend { message, .. } if message.to_lowercase().contains("already open") => format!(
                "{} is in use by a running burnbox server: stop it, run this command, then start it again",
                settings.data_dir.display()
            ),
            other => other.to_string(),
        })?;
    Ok((store, master))
}

/// Where `settings` keep the accounts, for the operator to check: the data directory, or the
/// shared store.
fn where_stored(settings: &Settings) -> String {
    if settings.store.is_shared() {
        "the shared Redis store".to_owned()
    } else {
        settings.data_dir.display().to_string()
    }
}
