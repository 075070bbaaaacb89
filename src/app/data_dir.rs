//! The data directory and the master keys, as the server and the account commands open them.

use std::path::Path;

use super::StartError;
use crate::config::{SecretString, Settings};
use crate::crypto::MasterKeys;
use crate::storage::DB_FILE_NAME;

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

/// The master keys `settings` name: those of `BURNBOX_MASTER_KEY`, else the key file's (the
/// configured file, or `master.key` in the data directory), generated (one key) only for a data
/// directory that holds no data yet. (A store written under a key that is now missing must not
/// get a new one: nothing in it could be opened, and the new key would be used from then on.)
/// The nodes of a shared store must all hold the same keys, so they are never generated for one. Warns when other users may read the
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
