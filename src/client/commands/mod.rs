//! `burnbox send`, `open`, `status` and `burn`: their arguments, and the two small commands;
//! sending is `send.rs`, opening `open.rs`.

mod open;
mod send;

use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::client::ClientError;
use crate::client::format::{Keys, LinkKey};
use crate::client::http::Api;
use crate::client::link::{Link, LinkKind};

pub use open::open;
pub use send::send;

/// The server to talk to and the credentials to use.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The server's URL, for `send` and for bare keys (a link names its own server).
    #[arg(long, env = "BURNBOX_URL", default_value = "http://127.0.0.1:7143")]
    server: String,
    /// An API key, sent as a Bearer token.
    #[arg(long, env = "BURNBOX_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

/// `burnbox send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The file to send; without one, standard input is sent as text.
    file: Option<PathBuf>,
    /// How many times the link works (1 to 999).
    #[arg(long, default_value_t = 1)]
    views: u32,
    /// How long it lives: seconds, or a number with s, m, h or d (`90m`, `7d`).
    #[arg(long, default_value = "1d")]
    ttl: String,
    /// A passphrase the recipient must give; asked for without echo when given no value
    /// (a value on the command line shows in the process list).
    #[arg(long, num_args = 0..=1, default_missing_value = "")]
    passphrase: Option<String>,
    /// Let the server seal the content instead of encrypting it here (it then sees the
    /// plaintext once).
    #[arg(long)]
    no_e2e: bool,
    /// Print the links as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerArgs,
}

/// `burnbox open`.
#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// The secret's link, with its `#key=…` when it was encrypted end-to-end.
    link: String,
    /// Where to write the secret: a file, or `-` for standard output. By default a text goes
    /// to standard output and a file to its own name in the current directory.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The passphrase, if the secret has one (asked for without echo otherwise).
    #[arg(long)]
    passphrase: Option<String>,
    #[command(flatten)]
    server: ServerArgs,
}

/// `burnbox status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// A secret's link or a receipt link.
    link: String,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerArgs,
}

/// `burnbox burn`.
#[derive(Debug, clap::Args)]
pub struct BurnArgs {
    /// The receipt link.
    receipt: String,
    #[command(flatten)]
    server: ServerArgs,
}

/// Derives the link's keys off the async workers (PBKDF2 takes a noticeable moment).
async fn derive_keys(
    link_key: &LinkKey,
    passphrase: Option<&Zeroizing<String>>,
) -> Result<Keys, ClientError> {
    let link_key = link_key.clone();
    let passphrase = passphrase.cloned();
    tokio::task::spawn_blocking(move || {
        Keys::derive(&link_key, passphrase.as_deref().map(|p| p.as_str()))
    })
    .await
    .map_err(|e| ClientError::Other(e.to_string()))
}

/// Prints the state of a secret or receipt link.
///
/// # Errors
/// Not found, or a network failure.
pub async fn status(args: StatusArgs) -> Result<(), ClientError> {
    let link = Link::parse(&args.link, Some(&args.server.server))?;
    let api = Api::new(&link.server, args.server.api_key)?;
    let status = api.status(&link.key).await?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string(&status).map_err(|e| ClientError::Other(e.to_string()))?
        );
        return Ok(());
    }
    let limit = status
        .max_views
        .map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
    outln!("state:      {}", status.state);
    outln!("views:      {} of {limit}", status.view_count);
    if let Some(left) = status.views_remaining {
        outln!("views left: {left}");
    }
    outln!("expires:    {}", status.expires_at);
    outln!(
        "passphrase: {}",
        if status.has_passphrase { "yes" } else { "no" }
    );
    outln!(
        "end-to-end: {}",
        if status.encrypted { "yes" } else { "no" }
    );
    if let Some(file) = &status.file {
        outln!("file:       {} ({} bytes)", file.name, file.size);
    }
    Ok(())
}

/// Burns the secret of a receipt link.
///
/// # Errors
/// Not found, already gone, or a network failure.
pub async fn burn(args: BurnArgs) -> Result<(), ClientError> {
    let link = Link::parse(&args.receipt, Some(&args.server.server))?;
    if link.kind == LinkKind::Secret {
        return Err(ClientError::Usage(
            "this is the recipient's link: burn with the receipt link".into(),
        ));
    }
    let api = Api::new(&link.server, args.server.api_key)?;
    api.burn(&link.key).await?;
    outln!("burned: the secret can no longer be viewed");
    Ok(())
}
