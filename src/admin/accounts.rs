//! `burnbox account create|list|revoke` and `burnbox key create`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;

use super::{StoreArgs, open_store, where_stored};
use crate::crypto::Keyring;
use crate::domain::{Email, Scope, Tier};
use crate::service::ServiceError;
use crate::service::accounts::Accounts;

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
async fn open(args: &StoreArgs) -> Result<(Accounts, String), String> {
    let settings = args.settings()?;
    let (stores, keys) = open_store(&settings).await?;
    let accounts = Accounts::new(stores.accounts, Arc::new(Keyring::from_keys(&keys)));
    Ok((accounts, where_stored(&settings)))
}

/// A bad argument (a tier, a scope, an address): exit status 2, as for any bad setting.
fn bad_input(message: &str) -> ExitCode {
    eprintln!("burnbox: {message}");
    ExitCode::from(2)
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
                Err(message) => return bad_input(&message),
            };
            // A bad address is refused before the store is opened.
            if let Err(err) = Email::parse(&email) {
                return bad_input(&err.to_string());
            }
            let (accounts, place) = match open(&store).await {
                Ok(opened) => opened,
                Err(message) => return fail(&message),
            };
            match accounts.create(&email, tier).await {
                Ok((account, token)) => {
                    eprintln!(
                        "created {} ({}) in {place}; its API key is shown once, below",
                        account.email.as_str(),
                        account.tier.name()
                    );
                    outln!("{}", token.expose());
                    ExitCode::SUCCESS
                }
                Err(err) => fail(&describe(&err)),
            }
        }
        AccountCommand::List { store } => {
            let (accounts, _) = match open(&store).await {
                Ok(opened) => opened,
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
                        outln!(
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
            let (accounts, _) = match open(&store).await {
                Ok(opened) => opened,
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
        Err(message) => return bad_input(&message),
    };
    let (accounts, place) = match open(&store).await {
        Ok(opened) => opened,
        Err(message) => return fail(&message),
    };
    match accounts.create_token(&email, scope).await {
        Ok(token) => {
            eprintln!(
                "new {} API key for {} in {place}, shown once, below",
                scope.name(),
                email.trim().to_ascii_lowercase()
            );
            outln!("{}", token.expose());
            ExitCode::SUCCESS
        }
        Err(err) => fail(&describe(&err)),
    }
}
