//! `burnbox send`: text or a file sealed here (unless `--no-e2e`), sent, and its two links
//! printed.

use std::io::Read;
use std::path::Path;

use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncReadExt;
use zeroize::Zeroizing;

use crate::client::ClientError;
use crate::client::format::{
    CHUNK_LEN, FileSealer, Keys, LinkKey, encrypt_text, file_preamble, sealed_len,
};
use crate::client::http::Api;
use crate::client::terminal::{Progress, prompt_passphrase};

use super::{SendArgs, derive_keys};

/// Reads `--ttl`: seconds, or a number with `s`, `m`, `h` or `d`.
fn parse_ttl(raw: &str) -> Result<u64, ClientError> {
    let raw = raw.trim();
    let (number, unit) = match raw.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&raw[..at], c),
        _ => (raw, 's'),
    };
    let factor = match unit.to_ascii_lowercase() {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => 0,
    };
    number
        .parse::<u64>()
        .ok()
        .filter(|_| factor > 0)
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| {
            ClientError::Usage(format!(
                "--ttl '{raw}' is not a duration (e.g. 3600, 90m, 12h, 7d)"
            ))
        })
}

/// The passphrase `--passphrase` asks for: none, the one given, or typed at a prompt.
fn passphrase_from(flag: Option<String>) -> Result<Option<Zeroizing<String>>, ClientError> {
    match flag {
        None => Ok(None),
        Some(given) if given.is_empty() => {
            let first = prompt_passphrase("Passphrase: ")?;
            let again = prompt_passphrase("Passphrase again: ")?;
            if first != again {
                return Err(ClientError::Usage("the passphrases differ".into()));
            }
            Ok(Some(first))
        }
        Some(given) => Ok(Some(Zeroizing::new(given))),
    }
}

/// Encrypts (or not) and uploads, then prints the two links.
///
/// # Errors
/// Bad input, the server's refusal, or a network failure.
pub async fn send(args: SendArgs) -> Result<(), ClientError> {
    let ttl = parse_ttl(&args.ttl)?;
    let passphrase = passphrase_from(args.passphrase)?;
    let api = Api::new(&args.server.server, args.server.api_key)?;
    let link_key = if args.no_e2e {
        None
    } else {
        Some(LinkKey::generate().map_err(|e| ClientError::Other(e.to_string()))?)
    };
    let keys = match &link_key {
        Some(link_key) => Some(derive_keys(link_key, passphrase.as_ref()).await?),
        None => None,
    };
    let server_passphrase: Option<String> = match &keys {
        Some(keys) => keys.server_passphrase().map(str::to_owned),
        None => passphrase.as_deref().map(|p| p.as_str().to_owned()),
    };
    let answer = match &args.file {
        None => {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| ClientError::Usage(format!("standard input is not text: {e}")))?;
            if text.is_empty() {
                return Err(ClientError::Usage(
                    "nothing to send: standard input was empty (give a file, or pipe text in)"
                        .into(),
                ));
            }
            let secret = match &keys {
                Some(keys) => serde_json::to_value(
                    encrypt_text(keys, &text).map_err(|e| ClientError::Other(e.to_string()))?,
                )
                .map_err(|e| ClientError::Other(e.to_string()))?,
                None => json!(text.as_str()),
            };
            let mut body = json!({ "secret": secret, "ttl": ttl, "maxViews": args.views });
            if let Some(passphrase) = &server_passphrase {
                body["passphrase"] = json!(passphrase);
            }
            api.create_json(&body).await?
        }
        Some(path) => {
            let mut form = reqwest::multipart::Form::new()
                .text("ttl", ttl.to_string())
                .text("maxViews", args.views.to_string());
            if let Some(passphrase) = server_passphrase {
                form = form.text("passphrase", passphrase);
            }
            if keys.is_some() {
                form = form.text("encrypted", "true");
            }
            form = form.part("file", file_part(path, keys.as_ref()).await?);
            api.create_form(form).await?
        }
    };
    // The receipt link carries the key too, so the receipt page can show the whole link again.
    let (secret_link, receipt_link) = match &link_key {
        Some(key) => (
            format!("{}#{}", answer.secret_url, key.to_fragment()),
            format!("{}#{}", answer.metadata_url, key.to_fragment()),
        ),
        None => (answer.secret_url.clone(), answer.metadata_url.clone()),
    };
    if args.json {
        outln!(
            "{}",
            json!({
                "secretLink": secret_link,
                "receiptLink": receipt_link,
                "expiresAt": answer.metadata.expires_at,
                "maxViews": answer.metadata.max_views,
                "endToEnd": link_key.is_some(),
            })
        );
    } else {
        outln!(
            "Secret link (send it to the recipient; it works {} time(s)):",
            args.views
        );
        outln!("{secret_link}");
        outln!("Receipt link (keep it to yourself: it shows the state and burns the secret):");
        outln!("{receipt_link}");
    }
    Ok(())
}

/// The `file` part of the form: the file's bytes, encrypted chunk by chunk when `keys` are
/// given, streamed as they are read (a 50 MB file is never held in memory).
async fn file_part(
    path: &Path,
    keys: Option<&Keys>,
) -> Result<reqwest::multipart::Part, ClientError> {
    let unreadable = |e: std::io::Error| ClientError::Usage(format!("{}: {e}", path.display()));
    let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
    let size = file.metadata().await.map_err(unreadable)?.len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let Some(keys) = keys else {
        let mut progress = Progress::new("uploading", size);
        let stream = tokio_util::io::ReaderStream::new(file).inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                progress.advance(chunk.len() as u64);
            }
        });
        return reqwest::multipart::Part::stream_with_length(
            reqwest::Body::wrap_stream(stream),
            size,
        )
        .file_name(name)
        .mime_str("application/octet-stream")
        .map_err(|e| ClientError::Other(e.to_string()));
    };
    let preamble = file_preamble(&name, "application/octet-stream");
    let total = sealed_len(preamble.len() as u64 + size);
    let sealer = FileSealer::new(keys).map_err(|e| ClientError::Other(e.to_string()))?;
    let header = sealer.header().to_vec();
    let state = Sealing {
        file,
        sealer,
        pending: preamble,
        ended: false,
        progress: Progress::new("encrypting and uploading", total),
    };
    let chunks = futures_util::stream::once(async move { Ok::<_, std::io::Error>(header) })
        .chain(futures_util::stream::unfold(Some(state), next_sealed_chunk));
    reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(chunks), total)
        .file_name("encrypted.bin")
        .mime_str("application/octet-stream")
        .map_err(|e| ClientError::Other(e.to_string()))
}

/// A file being encrypted as it is read.
struct Sealing {
    file: tokio::fs::File,
    sealer: FileSealer,
    /// Plaintext read but not yet sealed (the preamble first).
    pending: Vec<u8>,
    /// The file was read to its end.
    ended: bool,
    progress: Progress,
}

/// The next sealed chunk: a full chunk while more follows, then the last one.
async fn next_sealed_chunk(
    state: Option<Sealing>,
) -> Option<(Result<Vec<u8>, std::io::Error>, Option<Sealing>)> {
    let mut state = state?;
    while !state.ended && state.pending.len() <= CHUNK_LEN {
        let mut buffer = vec![0u8; CHUNK_LEN];
        match state.file.read(&mut buffer).await {
            Ok(0) => state.ended = true,
            Ok(read) => state.pending.extend_from_slice(&buffer[..read]),
            Err(err) => return Some((Err(err), None)),
        }
    }
    let last = state.ended && state.pending.len() <= CHUNK_LEN;
    let take = state.pending.len().min(CHUNK_LEN);
    let chunk: Vec<u8> = state.pending.drain(..take).collect();
    let sealed = match state.sealer.seal(&chunk, last) {
        Ok(sealed) => sealed,
        Err(err) => return Some((Err(std::io::Error::other(err.to_string())), None)),
    };
    state.progress.advance(sealed.len() as u64);
    if last {
        state.progress.finish();
        Some((Ok(sealed), None))
    } else {
        Some((Ok(sealed), Some(state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_with_units() {
        assert_eq!(parse_ttl("3600").ok(), Some(3600));
        assert_eq!(parse_ttl("90m").ok(), Some(5400));
        assert_eq!(parse_ttl("12h").ok(), Some(43_200));
        assert_eq!(parse_ttl("7d").ok(), Some(604_800));
        for bad in ["", "d", "7w", "-1h", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
