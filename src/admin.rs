//! The account commands of the command line: `account create|list|revoke` and `key create`.
//!
//! They open the store directly. The embedded store is held by one process at a time, so while a
//! server runs on the same data directory they stop with a message saying so.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};

use crate::app::{create_data_dir, load_master_keys};
use crate::crypto::{Keyring, MasterKeys};
use crate::domain::{Email, Scope, Tier};
use crate::service::ServiceError;
use crate::service::accounts::Accounts;
use crate::storage::{self, Engine, EngineKind, StoreError};

/// Where the accounts live: the same options as `serve`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the database and the master key [default: ./burnbox-data]
    #[arg(long, env = "BURNBOX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Secret store backend: embedded, or the nodes' redis://... or redis-cluster://... [default: embedded]
    #[arg(long, env = "BURNBOX_STORE", value_name = "NAME")]
    pub store: Option<String>,
    /// File holding the master key, when the server keeps it outside the data directory
    #[arg(long, env = "BURNBOX_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// With a `rediss://` store: the authority that signed the servers' certificates (PEM)
    #[arg(long, env = "BURNBOX_REDIS_CA_FILE", value_name = "FILE")]
    pub redis_ca_file: Option<PathBuf>,
}

/// `burnbox account …`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and print its first API key (shown once).
    Create {
        /// The account's e-mail address.
        email: String,
        /// `authenticated` (a person) or `api` (a program).
        #[arg(long, default_value = "authenticated")]
        tier: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke an account: its keys stop working.
    Revoke {
        /// The account's e-mail address.
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `burnbox key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create another API key for an account and print it (shown once).
    Create {
        /// The account's e-mail address.
        email: String,
        /// `full` (everything the account may do) or `send` (create secrets, status and burn by
        /// their keys; no receipt lists or receipt reads, so a leaked key cannot reach the
        /// secrets already shared).
        #[arg(long, default_value = "full")]
        scope: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Why an account command failed, as one line.
fn describe(err: &ServiceError) -> String {
    match err {
        ServiceError::Invalid(invalid) => format!("{invalid}"),
        ServiceError::AccountExists => "an account with this address exists already".into(),
        ServiceError::NotFound => "no active account with this address".into(),
        other => format!("{other}"),
    }
}

/// The accounts of the store `args` name.
async fn open(args: &StoreArgs) -> Result<Accounts, String> {
    let (stores, keys) = open_store(args).await?;
    Ok(Accounts::new(
        stores.accounts,
        Arc::new(Keyring::from_keys(&keys)),
    ))
}

/// The store `args` name, opened as the server opens it, and its master keys.
///
/// # Errors
/// Why it cannot be opened, as one line (a server holding the embedded store among the causes).
pub async fn open_store(args: &StoreArgs) -> Result<(storage::Stores, MasterKeys), String> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_DATA_DIR));
    let kind: EngineKind = args.store.as_deref().unwrap_or("embedded").parse()?;
    let kind = crate::config::with_redis_ca(kind, args.redis_ca_file.clone())
        .map_err(|e| e.to_string())?;
    let engine = match &kind {
        EngineKind::Embedded => Engine::Embedded {
            data_dir: data_dir.clone(),
            cache_bytes: storage::DEFAULT_CACHE_BYTES,
        },
        EngineKind::Memory => {
            return Err(
                "the memory store keeps nothing: account commands need the server's --store".into(),
            );
        }
        EngineKind::Redis(target) => Engine::Redis {
            target: target.clone(),
            wait_replicas: 0,
        },
    };
    if !kind.is_shared() {
        create_data_dir(&data_dir).map_err(|e| e.to_string())?;
    }
    let master_env = std::env::var("BURNBOX_MASTER_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let master = load_master_keys(
        master_env.as_deref(),
        args.master_key_file.as_deref(),
        &data_dir,
        kind.is_shared(),
    )
    .map_err(|e| e.to_string())?;
    let auth = crate::crypto::RecordAuth::from_keys(&master);
    let store = storage::open(&engine, auth).await.map_err(|err| match err {
        StoreError::Backend { message, .. } if message.to_lowercase().contains("already open") => format!(
            "{} is in use by a running burnbox server: stop it, run this command, then start it again",
            data_dir.display()
        ),
        other => other.to_string(),
    })?;
    Ok((store, master))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("burnbox: {message}");
    ExitCode::from(1)
}

/// Runs an account command.
pub async fn account(command: AccountCommand) -> ExitCode {
    match command {
        AccountCommand::Create { email, tier, store } => {
            let tier = match Tier::parse_account_tier(&tier) {
                Ok(tier) => tier,
                Err(message) => return fail(&message),
            };
            // A bad address is refused before the store is opened.
            if let Err(err) = Email::parse(&email) {
                return fail(&err.to_string());
            }
            let accounts = match open(&store).await {
                Ok(accounts) => accounts,
                Err(message) => return fail(&message),
            };
            match accounts.create(&email, tier).await {
                Ok((account, token)) => {
                    eprintln!(
                        "created {} ({}); its API key is shown once, below",
                        account.email.as_str(),
                        account.tier.name()
                    );
                    println!("{}", token.expose());
                    ExitCode::SUCCESS
                }
                Err(err) => fail(&describe(&err)),
            }
        }
        AccountCommand::List { store } => {
            let accounts = match open(&store).await {
                Ok(accounts) => accounts,
                Err(message) => return fail(&message),
            };
            match accounts.list().await {
                Ok(list) => {
                    for account in list {
                        let status = if account.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{}\t{}\t{status}",
                            account.email.as_str(),
                            account.tier.name()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(err) => fail(&describe(&err)),
            }
        }
        AccountCommand::Revoke { email, store } => {
            let accounts = match open(&store).await {
                Ok(accounts) => accounts,
                Err(message) => return fail(&message),
            };
            match accounts.revoke(&email).await {
                Ok(account) => {
                    eprintln!("revoked {}", account.email.as_str());
                    ExitCode::SUCCESS
                }
                Err(err) => fail(&describe(&err)),
            }
        }
    }
}

/// Runs a key command.
pub async fn key(command: KeyCommand) -> ExitCode {
    let KeyCommand::Create {
        email,
        scope,
        store,
    } = command;
    let scope = match Scope::parse(&scope) {
        Ok(scope) => scope,
        Err(message) => return fail(&message),
    };
    let accounts = match open(&store).await {
        Ok(accounts) => accounts,
        Err(message) => return fail(&message),
    };
    match accounts.create_token(&email, scope).await {
        Ok(token) => {
            eprintln!(
                "new {} API key for {}, shown once, below",
                scope.name(),
                email.trim().to_ascii_lowercase()
            );
            println!("{}", token.expose());
            ExitCode::SUCCESS
        }
        Err(err) => fail(&describe(&err)),
    }
}
