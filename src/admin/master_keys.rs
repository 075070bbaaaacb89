//! `burnbox master-key list|rotate|retire`: the master key set in its key file. `list` and
//! `rotate` read and write the file, not the store, so they run beside a running server; `retire`
//! also counts in the store what still needs the key. Every node reads the set when it starts, so
//! a change reaches a server at its next start.

use std::process::ExitCode;

use clap::Subcommand;

use super::{StoreArgs, open_store};
use crate::config::Settings;
use crate::crypto::MasterKeys;
use crate::crypto::master_keys::now_secs;
use crate::storage::{KeyUse, SecretStore as _};

/// `burnbox master-key …`.
#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// List the master keys: each one's id and from when it seals (never the keys themselves).
    List {
        /// Where the store and the master keys are.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Add a master key that seals new secrets from `--activate-in` seconds on; the older keys keep
    /// opening what they sealed. With several nodes, give every node the new file and restart it
    /// before the key activates.
    Rotate {
        /// Seconds until the new key seals (0: at once).
        #[arg(long, default_value_t = 0, value_name = "SECS")]
        activate_in: u64,
        /// Where the store and the master keys are.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove the oldest master key once nothing stored needs it. Refused, saying how many, while
    /// secrets or API keys made under it remain (a secret goes when it is purged; an API key moves
    /// to the newest key on its next use). Opens the store, so with the embedded store stop the
    /// server first. With the keys in `BURNBOX_MASTER_KEY`, it counts and says whether the entry
    /// may go; changing the variable is yours.
    Retire {
        /// The key's id (the oldest of the set).
        id: u32,
        /// Where the store and the master keys are.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The master keys `settings` name: those of `BURNBOX_MASTER_KEY` when it is set, else the key
/// file's (which must exist: these commands never make the first key).
fn read(settings: &Settings) -> Result<MasterKeys, String> {
    if let Some(keys) = &settings.master_key {
        return MasterKeys::parse(keys.expose()).map_err(|e| format!("BURNBOX_MASTER_KEY: {e}"));
    }
    let path = settings.master_key_path();
    if !path.exists() {
        return Err(format!(
            "no key file at {}: start burnbox once to make one, or give --master-key-file",
            path.display()
        ));
    }
    MasterKeys::load_or_create(None, &path).map_err(|e| e.to_string())
}

fn describe(keys: &MasterKeys, now_secs: u64) -> String {
    let sealing = keys.sealing_id();
    keys.entries()
        .iter()
        .map(|entry| {
            let when = if Some(entry.id) == sealing {
                "seals new secrets".to_owned()
            } else if entry.active_from > now_secs {
                format!(
                    "seals from Unix time {} (in {} s)",
                    entry.active_from,
                    entry.active_from - now_secs
                )
            } else {
                "opens what it sealed".to_owned()
            };
            format!("{}\t{when}\n", entry.id)
        })
        .collect()
}

fn rotate(settings: &Settings, activate_in: u64) -> Result<String, String> {
    refuse_environment(settings)?;
    let path = settings.master_key_path();
    let keys = read(settings)?
        .with_new_key(now_secs().saturating_add(activate_in))
        .map_err(|e| e.to_string())?;
    keys.replace_file(&path).map_err(|e| e.to_string())?;
    Ok(format!(
        "{} now holds:\n{}Restart burnbox (every node) to use it.\n",
        path.display(),
        describe(&keys, now_secs())
    ))
}

/// Whether a key file could be changed: not when the keys come from the environment.
fn refuse_environment(settings: &Settings) -> Result<(), String> {
    if settings.master_key.is_some() {
        return Err(
            "the keys come from BURNBOX_MASTER_KEY: change its lines there yourself (`ID BASE64`, \
             a new key from `openssl rand -base64 32`, its ID one above the highest)"
                .into(),
        );
    }
    Ok(())
}

async fn retire(id: u32, store: &StoreArgs) -> Result<String, String> {
    // Keys held in the variable are counted the same; the variable is the operator's to change.
    let settings = store.settings()?;
    let from_environment = settings.master_key.is_some();
    let path = settings.master_key_path();
    let keys = read(&settings)?;
    let oldest = keys.entries().first().map_or(0, |entry| entry.id);
    if id != oldest {
        return Err(format!(
            "only the oldest key, {oldest}, can be retired (a record's tag is under a key at least \
             as new as the one that made it)"
        ));
    }
    if keys.sealing_id() == Some(id) || keys.entries().len() == 1 {
        return Err(format!(
            "key {id} seals new secrets: `burnbox master-key rotate` first, then retire it once \
             nothing made under it is left"
        ));
    }
    let (stores, _) = open_store(&settings).await?;
    let records = stores
        .secrets
        .records_made_under(id)
        .await
        .map_err(|e| e.to_string())?;
    // API keys of a revoked (or deleted) account are refused anyway: they need nothing.
    let mut tokens = KeyUse::default();
    for grant in stores
        .accounts
        .token_grants()
        .await
        .map_err(|e| e.to_string())?
    {
        let account = stores
            .accounts
            .account(&grant.owner)
            .await
            .map_err(|e| e.to_string())?;
        if account.is_some_and(|account| account.revoked_at.is_none()) {
            tokens.count(grant.key_id, id);
        }
    }
    let (secrets_left, tokens_left) = (
        records.made_under + records.unknown,
        tokens.made_under + tokens.unknown,
    );
    if secrets_left + tokens_left > 0 {
        return Err(format!(
            "key {id} is still needed: retiring it would make {secrets_left} stored secret(s) and \
             {tokens_left} API key(s) unreadable ({} of them stored before records kept their \
             key, counted as needing it). A secret goes when it is purged (twice its TTL after \
             it was made); an API key moves to the newest key on its next use, or make its \
             account a new one (`burnbox key create`).",
            records.unknown + tokens.unknown
        ));
    }
    let keys = keys.without(id).map_err(|e| e.to_string())?;
    if from_environment {
        return Ok(format!(
            "Nothing stored needs key {id}: remove its entry from BURNBOX_MASTER_KEY on every \
             node and restart each. The keys left:\n{}",
            describe(&keys, now_secs())
        ));
    }
    keys.replace_file(&path).map_err(|e| e.to_string())?;
    Ok(format!(
        "Retired key {id}: nothing stored needed it. {} now holds:\n{}Restart burnbox (every \
         node) to drop it.\n",
        path.display(),
        describe(&keys, now_secs())
    ))
}

/// Runs a `master-key` command.
pub async fn master_key(command: MasterKeyCommand) -> ExitCode {
    let result = match command {
        MasterKeyCommand::List { store } => store
            .settings()
            .and_then(|settings| read(&settings))
            .map(|keys| describe(&keys, now_secs())),
        MasterKeyCommand::Rotate { activate_in, store } => store
            .settings()
            .and_then(|settings| rotate(&settings, activate_in)),
        MasterKeyCommand::Retire { id, store } => retire(id, &store).await,
    };
    match result {
        Ok(text) => {
            out!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("burnbox: {message}");
            ExitCode::FAILURE
        }
    }
}
