//! The command-line client in the `burnbox` binary: `send`, `open`, `status` and `burn` against
//! any burnbox server, over its HTTP API only. By default it encrypts end-to-end
//! ([`format`], `docs/end-to-end.md`): the key goes into the link's fragment and never to the
//! server, and links it makes open in the pages and the other way round.

mod commands;
pub mod format;
mod http;
mod link;
mod terminal;

use std::process::ExitCode;

pub use commands::{BurnArgs, OpenArgs, SendArgs, StatusArgs, burn, open, send, status};

/// Why a client command failed; each kind has its own exit code, listed in README.md.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Bad arguments or input (exit 2).
    #[error("{0}")]
    Usage(String),
    /// No secret answers to the key (exit 3).
    #[error("no secret has this link (it never existed, or its receipt expired)")]
    NotFound,
    /// Burned, expired or viewed its last time (exit 4).
    #[error("the secret is gone: {0}")]
    Gone(String),
    /// The passphrase is wrong or missing (exit 5).
    #[error("wrong passphrase: {0}")]
    WrongPassphrase(String),
    /// The link's key is missing or does not open the content (exit 6).
    #[error("{0}")]
    WrongKey(String),
    /// Too many requests, or too many wrong passphrases (exit 7).
    #[error("{message}")]
    Limited {
        /// The server's words.
        message: String,
    },
    /// The server cannot be reached or is unavailable (exit 8).
    #[error("the server cannot be reached or is unavailable: {0}")]
    Network(String),
    /// Any other refusal, or a local failure (exit 1).
    #[error("{0}")]
    Other(String),
}

impl ClientError {
    /// The error an error answer of the API means.
    fn from_answer(status: u16, code: &str, message: String, retry_after: Option<u64>) -> Self {
        match (status, code) {
            (404, _) => Self::NotFound,
            (410, _) => Self::Gone(message),
            (401, "INVALID_PASSPHRASE") => Self::WrongPassphrase(message),
            (429, _) => Self::Limited {
                message: match retry_after {
                    Some(secs) => format!("{message} (retry in {secs} s)"),
                    None => message,
                },
            },
            (500..=599, _) => Self::Network(message),
            _ => Self::Other(message),
        }
    }

    /// The documented exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Other(_) => 1,
            Self::Usage(_) => 2,
            Self::NotFound => 3,
            Self::Gone(_) => 4,
            Self::WrongPassphrase(_) => 5,
            Self::WrongKey(_) => 6,
            Self::Limited { .. } => 7,
            Self::Network(_) => 8,
        })
    }
}

/// Runs a client command: its error on stderr and its exit code.
pub fn finish(result: Result<(), ClientError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("burnbox: {err}");
            err.exit_code()
        }
    }
}
