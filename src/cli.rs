//! The `burnbox` command line.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::admin::{AccountCommand, KeyCommand, MasterKeyCommand};
use crate::app::Application;
use crate::config::{LogFormat, Settings, SettingsLayer};

/// burnbox: one-time secrets, self-hosted.
#[derive(Debug, Parser)]
#[command(
    name = "burnbox",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    command: Option<Command>,
    /// Flags of `serve`, also accepted without the word.
    #[command(flatten)]
    serve: SettingsLayer,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Box<SettingsLayer>),
    /// Print the OpenAPI document.
    Openapi {
        /// YAML instead of JSON.
        #[arg(long)]
        yaml: bool,
    },
    /// Manage accounts (while no server holds the data directory).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Manage API keys (while no server holds the data directory).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage the master keys: list them, add one that seals new secrets, retire the oldest.
    MasterKey {
        #[command(subcommand)]
        command: MasterKeyCommand,
    },
    /// Share a file, or text from standard input, through a server: prints the secret link
    /// (encrypted here by default, its key in the link after '#') and the receipt link.
    Send(Box<crate::client::SendArgs>),
    /// Reveal a secret from its link (counts one view), decrypting it here.
    Open(Box<crate::client::OpenArgs>),
    /// Show the state of a secret or receipt link (counts nothing).
    Status(Box<crate::client::StatusArgs>),
    /// Burn a secret with its receipt link.
    Burn(Box<crate::client::BurnArgs>),
}

/// Installs the log subscriber: one line per event on stderr, coloured only when stderr is a
/// terminal (files and journald get plain lines, not escape codes).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

async fn serve(args: SettingsLayer) -> ExitCode {
    let settings = match Settings::resolve(args) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("burnbox: {err}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_format);
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("burnbox: {err}");
            return ExitCode::from(1);
        }
    };
    // Tests and scripts read this line to find the port.
    outln!("burnbox listening on http://{}", app.local_addr());
    tracing::info!(addr = %app.local_addr(), "serving");
    app.run_until_stopped(shutdown_signal()).await;
    ExitCode::SUCCESS
}

/// Parses the command line and runs it.
pub async fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            // One clear line naming the bad option, not a page of usage.
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("burnbox: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Openapi { yaml }) => {
            out!(
                "{}",
                if yaml {
                    crate::api::spec_yaml()
                } else {
                    crate::api::spec_json()
                }
            );
            ExitCode::SUCCESS
        }
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Account { command }) => crate::admin::account(command).await,
        Some(Command::Key { command }) => crate::admin::key(command).await,
        Some(Command::MasterKey { command }) => crate::admin::master_key(command).await,
        Some(Command::Send(args)) => crate::client::finish(crate::client::send(*args).await),
        Some(Command::Open(args)) => crate::client::finish(crate::client::open(*args).await),
        Some(Command::Status(args)) => crate::client::finish(crate::client::status(*args).await),
        Some(Command::Burn(args)) => crate::client::finish(crate::client::burn(*args).await),
        None => serve(cli.serve).await,
    }
}
