//! Files encrypted as a stream of chunks, so a file is never whole in memory.
//!
//! Each file gets a random 256-bit data key and a random 7-byte nonce prefix ([`FileKey`]); the
//! store keeps them sealed under the secret's content key. The plaintext is cut into chunks of
//! [`CHUNK_LEN`] bytes, each sealed with AES-256-GCM under the nonce `prefix ‖ index (u32, BE) ‖
//! last (1 byte)` and the secret's id as associated data: the STREAM construction. A reordered
//! chunk fails (wrong index), a truncated file fails (no chunk marked last where one must be), an
//! extended one fails (a chunk after the last). A file of `n` bytes has
//! `max(1, ceil(n / CHUNK_LEN))` chunks; an empty file is one empty last chunk.

use aes_gcm::aead::{AeadInOut, Buffer, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use super::{CryptoError, random_bytes};

/// Plaintext bytes per chunk.
pub const CHUNK_LEN: usize = 64 * 1024;
/// Bytes each sealed chunk adds (the GCM tag).
pub const TAG_LEN: usize = 16;
/// Bytes of a full sealed chunk.
pub const SEALED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;
const PREFIX_LEN: usize = 7;
const KEY_LEN: usize = 32;
/// Length of [`FileKey::to_bytes`].
pub const FILE_KEY_LEN: usize = KEY_LEN + PREFIX_LEN;

/// How many chunks a file of `size` bytes is sealed in.
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK_LEN as u64).max(1)
}

/// How many bytes a file of `size` bytes takes once sealed.
pub fn sealed_len(size: u64) -> u64 {
    size + TAG_LEN as u64 * chunk_count(size)
}

/// One file's data key and nonce prefix.
pub struct FileKey {
    key: Zeroizing<[u8; KEY_LEN]>,
    prefix: [u8; PREFIX_LEN],
}

impl FileKey {
    /// A fresh key and prefix from the OS RNG.
    ///
    /// # Errors
    /// [`CryptoError::Rng`].
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self {
            key: Zeroizing::new(random_bytes()?),
            prefix: random_bytes()?,
        })
    }

    /// `key ‖ prefix`, for sealing into the store.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(FILE_KEY_LEN));
        out.extend_from_slice(self.key.as_slice());
        out.extend_from_slice(&self.prefix);
        out
    }

    /// Reads back [`Self::to_bytes`].
    ///
    /// # Errors
    /// [`CryptoError::Malformed`] for bytes of the wrong length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != FILE_KEY_LEN {
            return Err(CryptoError::Malformed);
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&bytes[..KEY_LEN]);
        let mut prefix = [0u8; PREFIX_LEN];
        prefix.copy_from_slice(&bytes[KEY_LEN..]);
        Ok(Self { key, prefix })
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&(*self.key).into())
    }

    fn chunks(&self, aad: [u8; 32]) -> Chunks {
        Chunks {
            cipher: self.cipher(),
            prefix: self.prefix,
            aad,
            index: 0,
        }
    }

    /// Seals a file's chunks in order, bound to `aad` (the secret's id).
    pub fn sealer(&self, aad: [u8; 32]) -> ChunkSealer {
        ChunkSealer {
            chunks: self.chunks(aad),
            finished: false,
        }
    }

    /// Opens the chunks of a file of `size` bytes sealed with `aad`, in order.
    pub fn opener(&self, aad: [u8; 32], size: u64) -> ChunkOpener {
        ChunkOpener {
            chunks: self.chunks(aad),
            count: chunk_count(size),
            size,
        }
    }
}

/// What a file secret's sealed content holds: its [`FileKey`], then the note sent with the file.
pub fn file_content(key: &FileKey, note: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = key.to_bytes();
    out.extend_from_slice(note);
    out
}

/// Splits what [`file_content`] made back into the key and the note.
///
/// # Errors
/// [`CryptoError::Malformed`] when it is too short to hold a key.
pub fn split_file_content(content: &[u8]) -> Result<(FileKey, &[u8]), CryptoError> {
    if content.len() < FILE_KEY_LEN {
        return Err(CryptoError::Malformed);
    }
    let (key, note) = content.split_at(FILE_KEY_LEN);
    Ok((FileKey::from_bytes(key)?, note))
}

/// What sealing and opening share: the cipher, the nonce prefix, the associated data and the
/// position in the stream.
struct Chunks {
    cipher: Aes256Gcm,
    prefix: [u8; PREFIX_LEN],
    aad: [u8; 32],
    index: u64,
}

impl Chunks {
    /// The nonce of the chunk at the current position: prefix ‖ u32 index ‖ last flag.
    fn nonce(&self, last: bool) -> Result<aes_gcm::aead::Nonce<Aes256Gcm>, CryptoError> {
        let index = u32::try_from(self.index).map_err(|_| CryptoError::Malformed)?;
        let mut bytes = [0u8; 12];
        bytes[..PREFIX_LEN].copy_from_slice(&self.prefix);
        bytes[PREFIX_LEN..11].copy_from_slice(&index.to_be_bytes());
        bytes[11] = u8::from(last);
        Ok(Nonce::from(bytes))
    }

    /// Seals the chunk at the current position in place and moves past it.
    fn seal_next(&mut self, buffer: &mut Vec<u8>, last: bool) -> Result<(), CryptoError> {
        let nonce = self.nonce(last)?;
        self.cipher
            .encrypt_in_place(&nonce, &self.aad, buffer)
            .map_err(|_| CryptoError::Malformed)?;
        self.index += 1;
        Ok(())
    }

    /// Opens the chunk at the current position in place and moves past it.
    fn open_next(&mut self, buffer: &mut dyn Buffer, last: bool) -> Result<(), CryptoError> {
        let nonce = self.nonce(last)?;
        self.cipher
            .decrypt_in_place(&nonce, &self.aad, buffer)
            .map_err(|_| CryptoError::Authentication)?;
        self.index += 1;
        Ok(())
    }
}

/// Seals the chunks of one file, in order.
pub struct ChunkSealer {
    chunks: Chunks,
    finished: bool,
}

impl ChunkSealer {
    /// Seals the next chunk in place: `buffer` holds up to [`CHUNK_LEN`] plaintext bytes (exactly
    /// that many unless `last`) and gets the sealed chunk.
    ///
    /// # Errors
    /// [`CryptoError::Malformed`] for a chunk of the wrong size or after the last one.
    pub fn seal(&mut self, buffer: &mut Vec<u8>, last: bool) -> Result<(), CryptoError> {
        let size_ok = if last {
            buffer.len() <= CHUNK_LEN
        } else {
            buffer.len() == CHUNK_LEN
        };
        if self.finished || !size_ok {
            return Err(CryptoError::Malformed);
        }
        self.chunks.seal_next(buffer, last)?;
        self.finished = last;
        Ok(())
    }
}

/// Opens the chunks of one file, in order, and knows which chunk must be the last.
pub struct ChunkOpener {
    chunks: Chunks,
    count: u64,
    size: u64,
}

impl ChunkOpener {
    /// Length of the next sealed chunk, `None` once the last one was opened.
    pub fn next_len(&self) -> Option<usize> {
        let index = self.chunks.index;
        if index >= self.count {
            return None;
        }
        let before = index * CHUNK_LEN as u64;
        let plain = (self.size - before).min(CHUNK_LEN as u64);
        // At most CHUNK_LEN, so it fits.
        Some(plain as usize + TAG_LEN)
    }

    /// Opens the next chunk in place: `buffer` (a `Vec<u8>` or a `BytesMut`) holds exactly
    /// [`Self::next_len`] sealed bytes and gets the plaintext.
    ///
    /// # Errors
    /// [`CryptoError::Authentication`] for a chunk that was altered, moved, or is not the last
    /// where the last must be; [`CryptoError::Malformed`] for a chunk of the wrong size or after
    /// the last.
    pub fn open(&mut self, buffer: &mut dyn Buffer) -> Result<(), CryptoError> {
        if self.next_len() != Some(buffer.len()) {
            return Err(CryptoError::Malformed);
        }
        let last = self.chunks.index + 1 == self.count;
        self.chunks.open_next(buffer, last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: [u8; 32] = [7; 32];

    fn seal_all(key: &FileKey, plaintext: &[u8]) -> Vec<Vec<u8>> {
        let mut sealer = key.sealer(AAD);
        let mut chunks: Vec<Vec<u8>> = plaintext.chunks(CHUNK_LEN).map(<[u8]>::to_vec).collect();
        if chunks.is_empty() {
            chunks.push(Vec::new());
        }
        let count = chunks.len();
        for (i, chunk) in chunks.iter_mut().enumerate() {
            sealer.seal(chunk, i + 1 == count).expect("sealed");
        }
        chunks
    }

    fn open_all(key: &FileKey, size: u64, chunks: &[Vec<u8>]) -> Result<Vec<u8>, CryptoError> {
        let mut opener = key.opener(AAD, size);
        let mut out = Vec::new();
        for chunk in chunks {
            let mut buffer = chunk.clone();
            opener.open(&mut buffer)?;
            out.extend_from_slice(&buffer);
        }
        if opener.next_len().is_some() {
            return Err(CryptoError::Malformed);
        }
        Ok(out)
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn round_trips_at_every_boundary() {
        let key = FileKey::generate().expect("key");
        for len in [0, 1, CHUNK_LEN - 1, CHUNK_LEN, CHUNK_LEN + 1, 3 * CHUNK_LEN] {
            let plaintext = sample(len);
            let chunks = seal_all(&key, &plaintext);
            let sealed: usize = chunks.iter().map(Vec::len).sum();
            assert_eq!(sealed as u64, sealed_len(len as u64), "{len}");
            assert_eq!(
                open_all(&key, len as u64, &chunks).expect("opened"),
                plaintext
            );
        }
    }

    #[test]
    fn reordering_truncation_extension_and_tampering_fail() {
        let key = FileKey::generate().expect("key");
        let size = 3 * CHUNK_LEN as u64;
        let chunks = seal_all(&key, &sample(3 * CHUNK_LEN));

        let mut swapped = chunks.clone();
        swapped.swap(0, 1);
        assert!(matches!(
            open_all(&key, size, &swapped),
            Err(CryptoError::Authentication)
        ));
        // Two chunks where three belong: the second is not marked last.
        assert!(open_all(&key, 2 * CHUNK_LEN as u64, &chunks[..2]).is_err());
        assert!(open_all(&key, size, &chunks[..2]).is_err());
        let mut extended = chunks.clone();
        extended.push(chunks[2].clone());
        assert!(open_all(&key, size, &extended).is_err());
        let mut flipped = chunks.clone();
        flipped[1][10] ^= 1;
        assert!(matches!(
            open_all(&key, size, &flipped),
            Err(CryptoError::Authentication)
        ));
        let other = FileKey::generate().expect("key");
        assert!(open_all(&other, size, &chunks).is_err());
    }

    #[test]
    fn file_keys_round_trip_and_differ() {
        let key = FileKey::generate().expect("key");
        let back = FileKey::from_bytes(&key.to_bytes()).expect("key");
        assert_eq!(back.to_bytes().as_slice(), key.to_bytes().as_slice());
        assert_ne!(
            FileKey::generate().expect("key").to_bytes().as_slice(),
            key.to_bytes().as_slice()
        );
        assert!(FileKey::from_bytes(&[0; 10]).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Any change to a sealed file (a byte, a cut, a chunk swapped in or dropped) is an
        /// error, never a panic and never other bytes.
        #[test]
        fn a_changed_file_never_opens_to_other_bytes(
            len in 0usize..(3 * CHUNK_LEN),
            at in proptest::prelude::any::<usize>(),
            flip in 1u8..=255,
            cut in proptest::prelude::any::<usize>(),
        ) {
            let key = FileKey::generate().expect("key");
            let plaintext = sample(len);
            let chunks = seal_all(&key, &plaintext);
            let mut changed = chunks.clone();
            let chunk = at % changed.len();
            let byte = at % changed[chunk].len();
            changed[chunk][byte] ^= flip;
            proptest::prop_assert!(open_all(&key, len as u64, &changed).is_err());
            let mut joined: Vec<u8> = chunks.concat();
            joined.truncate(cut % joined.len().max(1));
            proptest::prop_assert!(open_all(&key, len as u64, &[joined]).map(|out| out == plaintext).unwrap_or(true));
            if chunks.len() > 1 {
                proptest::prop_assert!(open_all(&key, len as u64, &chunks[1..]).is_err());
                let mut reordered = chunks.clone();
                reordered.rotate_left(1);
                proptest::prop_assert!(open_all(&key, len as u64, &reordered).is_err());
            }
        }
    }
}
