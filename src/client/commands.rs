//! `burnbox send`, `open`, `status` and `burn`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncReadExt;
use zeroize::Zeroizing;

use super::ClientError;
use super::format::{
    CHUNK_LEN, EncryptedText, FileOpener, FileSealer, Keys, LinkKey, decrypt_text, encrypt_text,
    file_preamble, sealed_len, split_preamble,
};
use super::http::{Api, StatusAnswer, describe};
use super::link::{Link, LinkKind};
use super::terminal::{Progress, prompt_passphrase};

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
        println!(
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
        println!(
            "Secret link (send it to the recipient; it works {} time(s)):",
            args.views
        );
        println!("{secret_link}");
        println!("Receipt link (keep it to yourself: it shows the state and burns the secret):");
        println!("{receipt_link}");
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
        None => print!("{}", text.as_str()),
        Some(path) if path == Path::new("-") => print!("{}", text.as_str()),
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
                return Err(wrong_file_key(super::format::FormatError::Malformed(
                    "no file name",
                )));
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

fn wrong_file_key(err: super::format::FormatError) -> ClientError {
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

/// Prints the state of a secret or receipt link.
///
/// # Errors
/// Not found, or a network failure.
pub async fn status(args: StatusArgs) -> Result<(), ClientError> {
    let link = Link::parse(&args.link, Some(&args.server.server))?;
    let api = Api::new(&link.server, args.server.api_key)?;
    let status = api.status(&link.key).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&status).map_err(|e| ClientError::Other(e.to_string()))?
        );
        return Ok(());
    }
    let limit = status
        .max_views
        .map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
    println!("state:      {}", status.state);
    println!("views:      {} of {limit}", status.view_count);
    if let Some(left) = status.views_remaining {
        println!("views left: {left}");
    }
    println!("expires:    {}", status.expires_at);
    println!(
        "passphrase: {}",
        if status.has_passphrase { "yes" } else { "no" }
    );
    println!(
        "end-to-end: {}",
        if status.encrypted { "yes" } else { "no" }
    );
    if let Some(file) = &status.file {
        println!("file:       {} ({} bytes)", file.name, file.size);
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
    println!("burned: the secret can no longer be viewed");
    Ok(())
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
