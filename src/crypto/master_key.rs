//! The 32-byte master key: from `BURNBOX_MASTER_KEY` (base64), or a key file (in the data
//! directory unless configured elsewhere) that is generated with mode 0600 on first start.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use super::{CryptoError, random_bytes};

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

    /// The key from `configured` (base64) when given, else the key file at `path`, created
    /// with fresh random bytes and mode 0600 when it does not exist yet.
    ///
    /// # Errors
    /// [`CryptoError::MasterKey`] when the configured key or the key file is malformed, or the
    /// file cannot be read or written.
    pub fn load_or_create(configured: Option<&str>, path: &Path) -> Result<Self, CryptoError> {
        if let Some(encoded) = configured {
            return Self::from_base64(encoded);
        }
        let path = path.to_owned();
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_base64(&text)
                .map_err(|e| CryptoError::MasterKey(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::from_bytes(random_bytes()?);
                key.write_new(&path)?;
                Ok(key)
            }
            Err(e) => Err(CryptoError::MasterKey(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes the key to a temporary file, syncs it, links it in at `path` (failing if another
    /// process got there first) and syncs the directory: a crash leaves either no key file or a
    /// whole, durable one, never a torn one next to a database it cannot open.
    fn write_new(&self, path: &Path) -> Result<(), CryptoError> {
        let fail = |e: std::io::Error| CryptoError::MasterKey(format!("{}: {e}", path.display()));
        let partial = path.with_extension("key.partial");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&partial).map_err(fail)?;
        let encoded = Zeroizing::new(BASE64.encode(self.0.as_slice()));
        file.write_all(encoded.as_bytes()).map_err(fail)?;
        file.write_all(b"\n").map_err(fail)?;
        file.sync_all().map_err(fail)?;
        let linked = std::fs::hard_link(&partial, path);
        let _ = std::fs::remove_file(&partial);
        linked.map_err(fail)?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(fail)?;
        Ok(())
    }

    /// The key bytes, for key derivation only.
    pub(super) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused_with_mode_0600() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first =
            MasterKey::load_or_create(None, &dir.path().join(KEY_FILE_NAME)).expect("generated");
        let second =
            MasterKey::load_or_create(None, &dir.path().join(KEY_FILE_NAME)).expect("reloaded");
        assert_eq!(first.expose(), second.expose());
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
        let key =
            MasterKey::load_or_create(None, &dir.path().join(KEY_FILE_NAME)).expect("generated");
        let again =
            MasterKey::load_or_create(None, &dir.path().join(KEY_FILE_NAME)).expect("reloaded");
        assert_eq!(key.expose(), again.expose());
        assert!(!partial.exists());
    }

    #[test]
    fn configured_key_must_be_32_bytes_of_base64() {
        assert!(MasterKey::from_base64(&BASE64.encode([1u8; 32])).is_ok());
        assert!(MasterKey::from_base64(&BASE64.encode([1u8; 16])).is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
