//! The terminal: passphrases typed without echo, and a progress line on stderr.

use std::io::{BufRead, IsTerminal, Write};

use zeroize::Zeroizing;

use super::ClientError;

/// Asks for a passphrase on the controlling terminal (not stdin, which may carry the secret),
/// with echo off.
///
/// # Errors
/// [`ClientError::Usage`] when there is no terminal to ask on.
pub fn prompt_passphrase(question: &str) -> Result<Zeroizing<String>, ClientError> {
    let no_terminal = |_| {
        ClientError::Usage(
            "a passphrase is needed and there is no terminal to ask on: give --passphrase VALUE"
                .into(),
        )
    };
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(no_terminal)?;
    let before = rustix::termios::tcgetattr(&tty).map_err(|e| no_terminal(e.into()))?;
    let mut silent = before.clone();
    silent.local_modes.remove(rustix::termios::LocalModes::ECHO);
    let _ = rustix::termios::tcsetattr(&tty, rustix::termios::OptionalActions::Now, &silent);
    let mut writer = &tty;
    let _ = write!(writer, "{question}");
    let _ = writer.flush();
    let mut line = Zeroizing::new(String::new());
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    let _ = rustix::termios::tcsetattr(&tty, rustix::termios::OptionalActions::Now, &before);
    let _ = writeln!(writer);
    read.map_err(no_terminal)?;
    let passphrase = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
    if passphrase.is_empty() {
        return Err(ClientError::Usage("the passphrase is empty".into()));
    }
    Ok(passphrase)
}

/// A progress line on stderr, drawn only when stderr is a terminal.
pub struct Progress {
    label: &'static str,
    total: u64,
    done: u64,
    shown_percent: Option<u64>,
    visible: bool,
}

impl Progress {
    /// Progress towards `total` bytes.
    pub fn new(label: &'static str, total: u64) -> Self {
        Self {
            label,
            total,
            done: 0,
            shown_percent: None,
            visible: std::io::stderr().is_terminal(),
        }
    }

    /// Counts `bytes` more.
    pub fn advance(&mut self, bytes: u64) {
        self.done = self.done.saturating_add(bytes);
        if !self.visible {
            return;
        }
        let percent = (self.done.saturating_mul(100) / self.total.max(1)).min(100);
        if self.shown_percent != Some(percent) {
            self.shown_percent = Some(percent);
            eprint!(
                "\r{}: {percent:>3}% ({:.1} of {:.1} MB)",
                self.label,
                self.done as f64 / 1e6,
                self.total as f64 / 1e6
            );
        }
    }

    /// Ends the line.
    pub fn finish(&self) {
        if self.visible && self.shown_percent.is_some() {
            eprintln!();
        }
    }
}
