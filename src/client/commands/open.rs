//! `burnbox open`: a secret's link revealed (one view), decrypted here, printed or saved.

use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use zeroize::Zeroizing;

use crate::client::ClientError;
use crate::client::format::{
    EncryptedText, FileOpener, Keys, LinkKey, decrypt_text, split_preamble,
};
use crate::client::http::{Api, StatusAnswer, describe};
use crate::client::link::{Link, LinkKind};
use crate::client::terminal::{Progress, prompt_passphrase};

use super::{OpenArgs, derive_keys};

/// Checks that `link` is a secret's link on a server that knows it, and reads its status
/// (which counts nothing).
async fn secret_status(api: &Api, link: &Link) -> Result<StatusAnswer, ClientError> {
    let receipt = || {
        ClientError::Usage(
            "this is a receipt link: `burnbox status` shows its state, `burnbox burn` burns it"
                .into(),
        )
    };
    if link.kind == LinkKind::Receipt {
        return Err(receipt());
    }
    let status = api.status(&link.key).await?;
    if status.key_type == "metadata" {
        return Err(receipt());
    }
    if status.state != "live" {
        return Err(ClientError::Gone(format!(
            "it was {}",
            describe_state(&status.state)
        )));
    }
    Ok(status)
}

fn describe_state(state: &str) -> &str {
    match state {
        "received" => "viewed its last time",
        "burned" => "burned by its sender",
        "expired" => "left to expire",
        other => other,
    }
}

/// Reveals a secret (one view), decrypting it here when it was encrypted end-to-end.
///
/// # Errors
/// Gone, not found, a wrong passphrase or key, a network failure. A missing or mangled
/// `#key=` is reported before any view is counted.
pub async fn open(args: OpenArgs) -> Result<(), ClientError> {
    let link = Link::parse(&args.link, Some(&args.server.server))?;
    let api = Api::new(&link.server, args.server.api_key)?;
    let status = secret_status(&api, &link).await?;
    let link_key = if status.encrypted {
        let fragment = link.fragment.as_deref().ok_or_else(|| {
            ClientError::WrongKey(
                "the link has no key after '#': it was encrypted end-to-end, so ask the sender for the whole link (nothing was counted)"
                    .into(),
            )
        })?;
        Some(
            LinkKey::from_fragment(fragment)
                .map_err(|e| ClientError::WrongKey(format!("{e} (nothing was counted)")))?,
        )
    } else {
        None
    };
    let passphrase = match (status.has_passphrase, args.passphrase) {
        (false, _) => None,
        (true, Some(given)) => Some(Zeroizing::new(given)),
        (true, None) => Some(prompt_passphrase("Passphrase: ")?),
    };
    let keys = match &link_key {
        Some(link_key) => Some(derive_keys(link_key, passphrase.as_ref()).await?),
        None => None,
    };
    let server_passphrase = match &keys {
        Some(keys) => keys.server_passphrase().map(str::to_owned),
        None => passphrase.as_deref().map(|p| p.as_str().to_owned()),
    };
    let response = api.view(&link.key, server_passphrase.as_deref()).await?;
    let views_left = response
        .headers()
        .get("x-views-remaining")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if status.file.is_some() {
        save_file(response, keys.as_ref(), args.output.as_deref()).await?;
        if let Some(left) = views_left {
            eprintln!("views left: {left}");
        }
        return Ok(());
    }
    let viewed: serde_json::Value = response
        .json()
        .await
        .map_err(|e| ClientError::Network(describe(&e)))?;
    let text = match (&keys, &viewed["secret"]) {
        (Some(keys), sealed @ serde_json::Value::Object(_)) => {
            let sealed: EncryptedText = serde_json::from_value(sealed.clone())
                .map_err(|e| ClientError::Other(format!("the server's answer: {e}")))?;
            decrypt_text(keys, &sealed).map_err(|e| {
                ClientError::WrongKey(format!(
                    "{e}; the view was counted, ask the sender for a new link"
                ))
            })?
        }
        (_, serde_json::Value::String(text)) => Zeroizing::new(text.clone()),
        _ => {
            return Err(ClientError::Other(
                "the server's answer holds no secret".into(),
            ));
        }
    };
    match args.output.as_deref() {
        None => out!("{}", text.as_str()),
        Some(path) if path == Path::new("-") => out!("{}", text.as_str()),
        Some(path) => write_new(path, text.as_bytes())?,
    }
    let _ = std::io::stdout().flush();
    if let Some(left) = viewed["viewsRemaining"].as_u64() {
        eprintln!("views left: {left}");
    }
    Ok(())
}

/// Writes `bytes` to a new file at `path` (an existing file is never replaced).
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let mut file = create_new(path)?;
    file.write_all(bytes)
        .map_err(|e| ClientError::Other(format!("{}: {e}", path.display())))
}

fn create_new(path: &Path) -> Result<std::fs::File, ClientError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            ClientError::Other(format!("{}: {e} (choose another with -o)", path.display()))
        })
}

/// Where a downloaded file goes: `-o`, or its own name (its last path component) here.
enum Sink {
    Stdout(std::io::Stdout),
    File(PathBuf, std::fs::File),
}

impl Sink {
    fn open(output: Option<&Path>, name: &str) -> Result<Self, ClientError> {
        match output {
            Some(path) if path == Path::new("-") => Ok(Self::Stdout(std::io::stdout())),
            Some(path) => Ok(Self::File(path.to_owned(), create_new(path)?)),
            None => {
                let base = Path::new(name)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .unwrap_or_else(|| "secret.bin".into());
                let path = PathBuf::from(base);
                Ok(Self::File(path.clone(), create_new(&path)?))
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let written = match self {
            Self::Stdout(out) => out.write_all(bytes),
            Self::File(_, file) => file.write_all(bytes),
        };
        written.map_err(|e| ClientError::Other(e.to_string()))
    }

    /// Removes a file left incomplete.
    fn discard(self) {
        if let Self::File(path, file) = self {
            drop(file);
            let _ = std::fs::remove_file(path);
        }
    }

    fn done(self) -> Option<PathBuf> {
        match self {
            Self::File(path, _) => Some(path),
            Self::Stdout(_) => None,
        }
    }
}

/// Streams a file secret's bytes to its sink, decrypting them when `keys` are given; a file
/// that fails to decrypt part way is removed.
async fn save_file(
    response: reqwest::Response,
    keys: Option<&Keys>,
    output: Option<&Path>,
) -> Result<(), ClientError> {
    let plain_name = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("filename=").nth(1))
        .map(|n| n.trim_matches('"').to_owned())
        .unwrap_or_else(|| "secret.bin".into());
    let total = response.content_length().unwrap_or(0);
    let mut progress = Progress::new("downloading", total);
    let mut body = response.bytes_stream();
    let mut opener = keys.map(FileOpener::new);
    // The decrypted start, held until the preamble naming the file is complete.
    let mut head: Vec<u8> = Vec::new();
    let mut sink: Option<Sink> = None;
    let result: Result<(), ClientError> = async {
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| ClientError::Network(describe(&e)))?;
            progress.advance(piece.len() as u64);
            let plain = match opener.as_mut() {
                None => piece.to_vec(),
                Some(opener) => opener.push(&piece).map_err(wrong_file_key)?,
            };
            deliver(
                &mut sink,
                &mut head,
                plain,
                keys.is_some(),
                output,
                &plain_name,
            )?;
        }
        if let Some(opener) = opener.take() {
            let rest = opener.finish().map_err(wrong_file_key)?;
            deliver(&mut sink, &mut head, rest, true, output, &plain_name)?;
        }
        if sink.is_none() {
            // An empty plain file, or an encrypted one whose preamble never completed.
            if keys.is_some() {
                return Err(wrong_file_key(
                    crate::client::format::FormatError::Malformed("no file name"),
                ));
            }
            sink = Some(Sink::open(output, &plain_name)?);
        }
        Ok(())
    }
    .await;
    progress.finish();
    match result {
        Ok(()) => {
            if let Some(path) = sink.and_then(Sink::done) {
                eprintln!("saved {}", path.display());
            }
            Ok(())
        }
        Err(err) => {
            if let Some(sink) = sink {
                sink.discard();
            }
            Err(err)
        }
    }
}

fn wrong_file_key(err: crate::client::format::FormatError) -> ClientError {
    ClientError::WrongKey(format!(
        "{err}; the view was counted, ask the sender for a new link"
    ))
}

/// Writes decrypted bytes, opening the sink once the file's name is known.
fn deliver(
    sink: &mut Option<Sink>,
    head: &mut Vec<u8>,
    plain: Vec<u8>,
    encrypted: bool,
    output: Option<&Path>,
    plain_name: &str,
) -> Result<(), ClientError> {
    if let Some(sink) = sink {
        return sink.write(&plain);
    }
    if !encrypted {
        let mut opened = Sink::open(output, plain_name)?;
        opened.write(&plain)?;
        *sink = Some(opened);
        return Ok(());
    }
    head.extend_from_slice(&plain);
    if let Some((name, _content_type, at)) = split_preamble(head) {
        let mut opened = Sink::open(output, &name)?;
        opened.write(&head[at..])?;
        head.clear();
        *sink = Some(opened);
    }
    Ok(())
}
