//! One 32-byte master key, and the first key file, generated with mode 0600 on a first start. The
//! set of keys by id, and the file's format, are in [`super::master_keys`].

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use super::CryptoError;

/// Name of the generated key file inside the data directory.
pub const KEY_FILE_NAME: &str = "master.key";

/// The root of every key burnbox derives; wiped from memory when dropped and never printed.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    /// Wraps 32 key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Decodes a base64 key as given in `BURNBOX_MASTER_KEY`.
    ///
    /// # Errors
    /// [`CryptoError::MasterKey`] when it is not base64 of exactly 32 bytes.
    pub fn from_base64(encoded: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(
            BASE64
                .decode(encoded.trim())
                .map_err(|_| CryptoError::MasterKey("not valid base64".into()))?,
        );
        let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            CryptoError::MasterKey(format!("must decode to 32 bytes, got {}", bytes.len()))
        })?;
        Ok(Self::from_bytes(array))
    }

    /// Writes the key to a temporary file, syncs it, links it in at `path` (failing if another
    /// process got there first) and syncs the directory: a crash leaves either no key file or a
    /// whole, durable one, never a torn one next to a database it cannot open.
    pub(super) fn write_new(&self, path: &Path) -> Result<(), CryptoError> {
        let fail = |e: std::io::Error| CryptoError::MasterKey(format!("{}: {e}", path.display()));
        // Room for the newline first: growing the string would leave a copy of the key behind.
        let encoded = self.to_base64();
        let mut text = Zeroizing::new(String::with_capacity(encoded.len() + 1));
        text.push_str(&encoded);
        text.push('\n');
        let partial = write_partial(path, text.as_bytes()).map_err(fail)?;
        let linked = std::fs::hard_link(&partial, path);
        let _ = std::fs::remove_file(&partial);
        linked.map_err(fail)?;
        sync_parent(path).map_err(fail)?;
        Ok(())
    }

    /// The key as base64, for the key file.
    pub(super) fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.0.as_slice()))
    }

    /// The key bytes, for key derivation only.
    pub(super) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Writes `text` to `path`'s partial file (`*.key.partial`, mode 0600) and syncs it: the first
/// step of writing a key file, which is then linked or renamed into place.
pub(super) fn write_partial(path: &Path, text: &[u8]) -> std::io::Result<PathBuf> {
    let partial = path.with_extension("key.partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial)?;
    file.write_all(text)?;
    file.sync_all()?;
    Ok(partial)
}

/// Makes a new or renamed file's directory entry durable.
pub(super) fn sync_parent(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::File::open(dir).and_then(|dir| dir.sync_all())
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKeys;

    /// The bytes of the first key of the set the file at `path` holds (created if absent).
    fn first_key(path: &Path, what: &str) -> [u8; 32] {
        let keys = MasterKeys::load_or_create(None, path).expect(what);
        *keys.entries()[0].key().expose()
    }

    #[test]
    fn generated_once_then_reused_with_mode_0600() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = first_key(&dir.path().join(KEY_FILE_NAME), "generated");
        let second = first_key(&dir.path().join(KEY_FILE_NAME), "reloaded");
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE_NAME))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, [KEY_FILE_NAME], "no partial file left behind");
    }

    #[test]
    fn a_partial_file_left_by_a_crash_does_not_block_the_next_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let partial = dir.path().join(KEY_FILE_NAME).with_extension("key.partial");
        std::fs::write(&partial, "torn").expect("partial");
        let key = first_key(&dir.path().join(KEY_FILE_NAME), "generated");
        let again = first_key(&dir.path().join(KEY_FILE_NAME), "reloaded");
        assert_eq!(key, again);
        assert!(!partial.exists());
    }

    #[test]
    fn configured_key_must_be_32_bytes_of_base64() {
        assert!(MasterKey::from_base64(&BASE64.encode([1u8; 32])).is_ok());
        assert!(MasterKey::from_base64(&BASE64.encode([1u8; 16])).is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
