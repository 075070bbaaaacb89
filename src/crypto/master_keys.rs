//! The master keys by id: the key that seals new secrets, and the older ones that keep the secrets,
//! receipts and API keys made under them readable.
//!
//! The key file (and `BURNBOX_MASTER_KEY`) holds one key per line, `ID BASE64`, optionally followed
//! by `active-from=UNIX_SECONDS`: a key seals from that moment on, so every node can learn a new key
//! (restart with it) before any node seals with it. The sealing key is the highest id already
//! active; every listed key opens what it sealed. A bare `BASE64` line alone is key 1, the format
//! written before keys had ids. In an environment variable, `;` separates lines too.

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use super::{CryptoError, MasterKey, random_bytes};

/// Now, in Unix seconds, as the sealing rule reads it (the followed clock on several nodes).
pub fn now_secs() -> u64 {
    crate::clock::now().as_millis() / 1000
}

/// The key that seals now, of keys given newest first: the first one already active, else the
/// oldest (so a set whose every key activates later still seals with one).
pub fn sealing_of<T>(
    newest_first: impl IntoIterator<Item = T>,
    active_from: impl Fn(&T) -> u64,
) -> Option<T> {
    let now = now_secs();
    let mut oldest = None;
    for key in newest_first {
        if active_from(&key) <= now {
            return Some(key);
        }
        oldest = Some(key);
    }
    oldest
}

/// One master key with its id and the moment it starts sealing.
pub struct KeyEntry {
    /// Its id, written with the key; ids only grow.
    pub id: u32,
    /// Unix seconds from which it seals new secrets (0: from the start).
    pub active_from: u64,
    key: MasterKey,
}

impl KeyEntry {
    /// The key itself, for the derivations.
    pub(super) fn key(&self) -> &MasterKey {
        &self.key
    }
}

/// The master keys, by ascending id; never empty.
pub struct MasterKeys {
    entries: Vec<KeyEntry>,
}

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| (e.id, e.active_from)))
            .finish()
    }
}

fn invalid(line: usize, reason: impl fmt::Display) -> CryptoError {
    CryptoError::MasterKey(format!("line {line}: {reason}"))
}

/// What is wrong with one key, without the "master key:" its error starts with.
fn invalid_key(line: usize, error: CryptoError) -> CryptoError {
    match error {
        CryptoError::MasterKey(reason) => invalid(line, reason),
        other => invalid(line, other),
    }
}

impl MasterKeys {
    /// One key, id 1, sealing from the start.
    pub fn single(key: MasterKey) -> Self {
        Self {
            entries: vec![KeyEntry {
                id: 1,
                active_from: 0,
                key,
            }],
        }
    }

    /// Reads the key file's (or the variable's) text.
    ///
    /// # Errors
    /// [`CryptoError::MasterKey`] naming the line: a key that is not base64 of 32 bytes, an id
    /// that is not a positive number or appears twice, an unknown field, or no key at all.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        // Each entry with the number of the line it is on (entries split by `;` share one).
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line.trim()))
            .filter(|(_, line)| !line.starts_with('#'))
            .flat_map(|(number, line)| line.split(';').map(move |entry| (number, entry.trim())))
            .filter(|(_, entry)| !entry.is_empty())
            .collect();
        if let [(number, line)] = lines.as_slice()
            && !line.contains(char::is_whitespace)
        {
            let key = MasterKey::from_base64(line).map_err(|e| invalid_key(*number, e))?;
            return Ok(Self::single(key));
        }
        let mut entries: Vec<KeyEntry> = Vec::with_capacity(lines.len());
        for (number, line) in lines {
            let mut fields = line.split_whitespace();
            let id: u32 = fields
                .next()
                .and_then(|id| id.parse().ok())
                .filter(|id| *id > 0)
                .ok_or_else(|| invalid(number, "expected `ID BASE64`, ID a positive number"))?;
            let key = fields
                .next()
                .ok_or_else(|| invalid(number, "the key is missing after its id"))
                .and_then(|key| MasterKey::from_base64(key).map_err(|e| invalid_key(number, e)))?;
            let mut active_from = 0;
            for field in fields {
                active_from = field
                    .strip_prefix("active-from=")
                    .and_then(|secs| secs.parse().ok())
                    .ok_or_else(|| invalid(number, format!("unknown field `{field}`")))?;
            }
            if entries.iter().any(|entry| entry.id == id) {
                return Err(invalid(number, format!("key {id} is listed twice")));
            }
            entries.push(KeyEntry {
                id,
                active_from,
                key,
            });
        }
        if entries.is_empty() {
            return Err(CryptoError::MasterKey("no key in it".into()));
        }
        entries.sort_by_key(|entry| entry.id);
        Ok(Self { entries })
    }

    /// The keys, by ascending id.
    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    /// The id of the key that seals now (see [`sealing_of`]).
    pub fn sealing_id(&self) -> Option<u32> {
        sealing_of(self.entries.iter().rev(), |entry| entry.active_from).map(|entry| entry.id)
    }

    /// The set with a new random key, the next id, sealing from `active_from` (Unix seconds).
    ///
    /// # Errors
    /// [`CryptoError::Rng`].
    pub fn with_new_key(mut self, active_from: u64) -> Result<Self, CryptoError> {
        let id = self
            .entries
            .last()
            .map_or(1, |last| last.id.saturating_add(1));
        self.entries.push(KeyEntry {
            id,
            active_from,
            key: MasterKey::from_bytes(random_bytes()?),
        });
        Ok(self)
    }

    /// The set without key `id`.
    ///
    /// # Errors
    /// [`CryptoError::MasterKey`] when it is not in the set or is the only key.
    pub fn without(mut self, id: u32) -> Result<Self, CryptoError> {
        let before = self.entries.len();
        self.entries.retain(|entry| entry.id != id);
        if self.entries.len() == before {
            return Err(CryptoError::MasterKey(format!("there is no key {id}")));
        }
        if self.entries.is_empty() {
            return Err(CryptoError::MasterKey(format!("key {id} is the only key")));
        }
        Ok(self)
    }

    /// The file's text: one `ID BASE64 [active-from=SECONDS]` line per key.
    fn to_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::from(
            "# burnbox master keys, one per line: ID BASE64 [active-from=UNIX_SECONDS]\n",
        ));
        for entry in &self.entries {
            text.push_str(&format!("{} {}", entry.id, entry.key.to_base64().as_str()));
            if entry.active_from > 0 {
                text.push_str(&format!(" active-from={}", entry.active_from));
            }
            text.push('\n');
        }
        text
    }

    /// Reads the set from `configured` (the variable's text) or the file at `path`, which is
    /// created with one new key (mode 0600) when it does not exist.
    ///
    /// # Errors
    /// [`CryptoError::MasterKey`] when the text or file is not a key set, or the file cannot be
    /// read or written; [`CryptoError::Rng`].
    pub fn load_or_create(configured: Option<&str>, path: &Path) -> Result<Self, CryptoError> {
        if let Some(text) = configured {
            return Self::parse(text);
        }
        let in_file = |e: CryptoError| CryptoError::MasterKey(format!("{}: {e}", path.display()));
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&Zeroizing::new(text)).map_err(in_file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::from_bytes(random_bytes()?);
                key.write_new(path)?;
                Ok(Self::single(key))
            }
            Err(e) => Err(CryptoError::MasterKey(format!("{}: {e}", path.display()))),
        }
    }

    /// Replaces the file at `path` with this set, atomically (a new file with mode 0600, synced,
    /// then renamed over the old one): a crash leaves the old set or the new one.
    ///
    /// # Errors
    /// [`CryptoError::MasterKey`] naming the file.
    pub fn replace_file(&self, path: &Path) -> Result<(), CryptoError> {
        let fail = |e: std::io::Error| CryptoError::MasterKey(format!("{}: {e}", path.display()));
        let partial =
            super::master_key::write_partial(path, self.to_text().as_bytes()).map_err(fail)?;
        std::fs::rename(&partial, path).map_err(fail)?;
        super::master_key::sync_parent(path).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use super::*;

    fn key_text(byte: u8) -> String {
        BASE64.encode([byte; 32])
    }

    #[test]
    fn a_bare_key_is_key_one_and_lines_carry_ids_and_activation() {
        let single = MasterKeys::parse(&format!("{}\n", key_text(1))).expect("bare key");
        assert_eq!(single.entries().len(), 1);
        assert_eq!(
            (single.entries()[0].id, single.entries()[0].active_from),
            (1, 0)
        );

        let text = format!(
            "# comment\n2 {} active-from=1800000000\n1 {}\n",
            key_text(2),
            key_text(1)
        );
        let set = MasterKeys::parse(&text).expect("two keys");
        let ids: Vec<(u32, u64)> = set
            .entries()
            .iter()
            .map(|e| (e.id, e.active_from))
            .collect();
        assert_eq!(ids, [(1, 0), (2, 1_800_000_000)]);
        assert_eq!(set.entries()[1].key().expose(), &[2; 32]);
        let env = format!("1 {};2 {}", key_text(1), key_text(2));
        assert_eq!(MasterKeys::parse(&env).expect("env").entries().len(), 2);
    }

    #[test]
    fn bad_sets_name_their_line() {
        for (text, says) in [
            (
                format!("1 {}\n1 {}", key_text(1), key_text(2)),
                "line 2: key 1 is listed twice",
            ),
            (format!("0 {}", key_text(1)), "line 1: expected `ID BASE64`"),
            ("1 notbase64".to_owned(), "line 1: not valid base64"),
            (
                format!("1 {} when=soon", key_text(1)),
                "line 1: unknown field `when=soon`",
            ),
            ("# only a comment".to_owned(), "no key in it"),
            ("1".to_owned(), "line 1: not valid base64"),
        ] {
            let error = MasterKeys::parse(&text).expect_err(&text).to_string();
            assert!(error.contains(says), "{text}: {error}");
            assert!(!error.contains(&key_text(1)), "the key is not echoed");
        }
    }

    #[test]
    fn a_new_key_takes_the_next_id_and_the_file_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("master.key");
        let first = MasterKeys::load_or_create(None, &path).expect("generated");
        let rotated = first.with_new_key(1_900_000_000).expect("rotated");
        rotated.replace_file(&path).expect("written");
        let read = MasterKeys::load_or_create(None, &path).expect("read back");
        let ids: Vec<(u32, u64)> = read
            .entries()
            .iter()
            .map(|e| (e.id, e.active_from))
            .collect();
        assert_eq!(ids, [(1, 0), (2, 1_900_000_000)]);
        assert_eq!(
            read.entries()[0].key().expose(),
            rotated.entries()[0].key().expose()
        );
        assert_ne!(
            read.entries()[0].key().expose(),
            read.entries()[1].key().expose()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["master.key"], "no partial file left behind");
    }
}
