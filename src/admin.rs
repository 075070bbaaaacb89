//! The account commands of the command line: `account create|list|revoke` and `key create`.
//!
//! They open the store directly. The embedded store is held by one process at a time, so while a
//! server runs on the same data directory they stop with a message saying so.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};

use crate::app::{create_data_dir, load_master_keys};
use crate::config::{Settings, SettingsLayer};
use crate::crypto::{Keyring, MasterKeys};
use crate::domain::{Email, Scope, Tier};
use crate::service::ServiceError;
use crate::service::accounts::Accounts;
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
    pub store: Option<String>,
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
        /// Where the store and the master keys are.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the accounts.
    List {
        /// Where the store and the master keys are.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke an account: its keys stop working.
    Revoke {
        /// The account's e-mail address.
        email: String,
        /// Where the store and the master keys are.
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
        /// Where the store and the master keys are.
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
    let (stores, keys) = open_store(&args.settings()?).await?;
    Ok(Accounts::new(
        stores.accounts,
        Arc::new(Keyring::from_keys(&keys)),
    ))
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
