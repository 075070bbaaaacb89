//! The end-to-end format, version 1, as `docs/end-to-end.md` specifies it: what the sender's
//! client encrypts before anything leaves it, with a key that travels only in the link's fragment.
//! The pages' script implements the same steps with WebCrypto; the test vectors in
//! `docs/end-to-end-vectors.json` hold both to it.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::crypto::random_bytes;

/// PBKDF2-HMAC-SHA256 iterations for a passphrase (OWASP's figure for this function, 2023).
pub const PASSPHRASE_ROUNDS: u32 = 600_000;
/// Plaintext bytes per file chunk (the last one may hold fewer).
pub const CHUNK_LEN: usize = 64 * 1024;
/// Bytes AES-GCM adds to each chunk.
pub const TAG_LEN: usize = 16;
/// The first bytes of an encrypted file.
pub const FILE_MAGIC: &[u8; 8] = b"BBE2EF01";
/// Length of the random nonce prefix after the magic.
const PREFIX_LEN: usize = 7;
/// Magic and nonce prefix: the file header, also each chunk's associated data.
pub const FILE_HEADER_LEN: usize = FILE_MAGIC.len() + PREFIX_LEN;
/// Associated data of an encrypted text.
const TEXT_AAD: &[u8] = b"burnbox e2e v1 text";

/// Why end-to-end content cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    /// The fragment is not `key=` and 43 base64url characters.
    #[error("the link's key (after #key=) is missing or mangled")]
    MalformedKey,
    /// The fragment names a format version this client does not know.
    #[error("the link uses end-to-end format version {0}, which this client does not know")]
    UnknownVersion(String),
    /// Decryption failed: another key or passphrase, or changed bytes.
    #[error("the content does not open with this link's key (and passphrase)")]
    WrongKey,
    /// The content is not in the format.
    #[error("the content is not in the end-to-end format: {0}")]
    Malformed(&'static str),
    /// The OS random source failed.
    #[error("the system's random source failed")]
    Random,
}

/// The 256-bit key a link carries in its fragment; wiped when dropped.
#[derive(Clone)]
pub struct LinkKey(Zeroizing<[u8; 32]>);

impl LinkKey {
    /// A fresh key from the OS random source.
    ///
    /// # Errors
    /// [`FormatError::Random`] when the OS cannot give randomness.
    pub fn generate() -> Result<Self, FormatError> {
        random_bytes()
            .map(|bytes| Self(Zeroizing::new(bytes)))
            .map_err(|_| FormatError::Random)
    }

    /// The key of `bytes` (test vectors, other implementations).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Reads a fragment (`key=…`, optionally `&v=1`, with or without the `#`).
    ///
    /// # Errors
    /// [`FormatError::MalformedKey`] or [`FormatError::UnknownVersion`].
    pub fn from_fragment(fragment: &str) -> Result<Self, FormatError> {
        let mut key = None;
        for pair in fragment.trim_start_matches('#').split('&') {
            match pair.split_once('=') {
                Some(("key", value)) => key = Some(value),
                Some(("v", "1")) => {}
                Some(("v", other)) => return Err(FormatError::UnknownVersion(other.to_owned())),
                _ => {}
            }
        }
        let decoded = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(key.ok_or(FormatError::MalformedKey)?)
                .map_err(|_| FormatError::MalformedKey)?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| FormatError::MalformedKey)?;
        Ok(Self::from_bytes(bytes))
    }

    /// The fragment that carries this key, without the `#`.
    pub fn to_fragment(&self) -> String {
        format!("key={}", URL_SAFE_NO_PAD.encode(self.0.as_slice()))
    }
}

/// HKDF-SHA256 without salt, 32 bytes for `info`.
fn hkdf(ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    crate::crypto::derive_key(ikm, None, &[info])
}

/// PBKDF2-HMAC-SHA256 (RFC 8018) for one 32-byte block.
fn pbkdf2(password: &[u8], salt: &[u8], rounds: u32) -> Zeroizing<[u8; 32]> {
    let keyed = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(password)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    let mut mac = keyed.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut block: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = Zeroizing::new(block);
    for _ in 1..rounds {
        let mut mac = keyed.clone();
        mac.update(&block);
        block = mac.finalize().into_bytes().into();
        for (o, b) in out.iter_mut().zip(block) {
            *o ^= b;
        }
    }
    out
}

/// The keys one link (and passphrase) gives.
pub struct Keys {
    text: Zeroizing<[u8; 32]>,
    file: Zeroizing<[u8; 32]>,
    server_passphrase: Option<Zeroizing<String>>,
}

impl Keys {
    /// Derives the keys of `link` and the optional `passphrase` (PBKDF2 with
    /// [`PASSPHRASE_ROUNDS`]: a third of a second on a laptop, so call it off async workers).
    pub fn derive(link: &LinkKey, passphrase: Option<&str>) -> Self {
        let mut ikm = Zeroizing::new(link.0.to_vec());
        let server_passphrase = passphrase.map(|passphrase| {
            let salt = hkdf(link.0.as_slice(), b"burnbox e2e v1 passphrase salt");
            let stretched = pbkdf2(passphrase.as_bytes(), &salt[..16], PASSPHRASE_ROUNDS);
            ikm.extend_from_slice(stretched.as_slice());
            let proof = hkdf(stretched.as_slice(), b"burnbox e2e v1 server passphrase");
            Zeroizing::new(URL_SAFE_NO_PAD.encode(proof.as_slice()))
        });
        Self {
            text: hkdf(&ikm, b"burnbox e2e v1 text key"),
            file: hkdf(&ikm, b"burnbox e2e v1 file key"),
            server_passphrase,
        }
    }

    /// What the client sends the server as the secret's passphrase: derived from the passphrase
    /// and the link key, so the server can count wrong guesses without learning the passphrase.
    pub fn server_passphrase(&self) -> Option<&str> {
        self.server_passphrase.as_deref().map(String::as_str)
    }
}

/// An encrypted text as the API carries it: standard base64 with padding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncryptedText {
    /// The AES-256-GCM ciphertext followed by its 16-byte tag.
    pub ciphertext: String,
    /// The 12-byte nonce.
    pub iv: String,
}

/// Encrypts `plaintext` under `keys` with a fresh random nonce.
///
/// # Errors
/// [`FormatError::Random`] when the OS cannot give randomness.
pub fn encrypt_text(keys: &Keys, plaintext: &str) -> Result<EncryptedText, FormatError> {
    let iv: [u8; 12] = random_bytes().map_err(|_| FormatError::Random)?;
    Ok(encrypt_text_with_iv(keys, plaintext, iv))
}

/// [`encrypt_text`] with a given nonce (test vectors only: a nonce must never repeat).
pub fn encrypt_text_with_iv(keys: &Keys, plaintext: &str, iv: [u8; 12]) -> EncryptedText {
    let cipher = Aes256Gcm::new(&(*keys.text).into());
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(iv),
            Payload {
                msg: plaintext.as_bytes(),
                aad: TEXT_AAD,
            },
        )
        .unwrap_or_else(|_| unreachable!("AES-GCM encrypts any text under 64 GiB"));
    EncryptedText {
        ciphertext: STANDARD.encode(ciphertext),
        iv: STANDARD.encode(iv),
    }
}

/// Opens what [`encrypt_text`] made.
///
/// # Errors
/// [`FormatError::Malformed`] for bad base64 or lengths, [`FormatError::WrongKey`] when it does
/// not authenticate.
pub fn decrypt_text(keys: &Keys, text: &EncryptedText) -> Result<Zeroizing<String>, FormatError> {
    let iv: [u8; 12] = STANDARD
        .decode(&text.iv)
        .ok()
        .and_then(|iv| iv.try_into().ok())
        .ok_or(FormatError::Malformed("iv"))?;
    let ciphertext = STANDARD
        .decode(&text.ciphertext)
        .map_err(|_| FormatError::Malformed("ciphertext"))?;
    let cipher = Aes256Gcm::new(&(*keys.text).into());
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(
                &Nonce::from(iv),
                Payload {
                    msg: &ciphertext,
                    aad: TEXT_AAD,
                },
            )
            .map_err(|_| FormatError::WrongKey)?,
    );
    std::str::from_utf8(&plaintext)
        .map(|s| Zeroizing::new(s.to_owned()))
        .map_err(|_| FormatError::Malformed("text is not UTF-8"))
}

/// The nonce of chunk `index`: the file's prefix, the big-endian index, and 1 on the last chunk.
fn chunk_nonce(prefix: &[u8; PREFIX_LEN], index: u32, last: bool) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[..PREFIX_LEN].copy_from_slice(prefix);
    nonce[PREFIX_LEN..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce
}

/// The plaintext a file's stream begins with: its name and media type, each behind a
/// big-endian `u16` length (so the server sees neither).
pub fn file_preamble(name: &str, content_type: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + name.len() + content_type.len());
    for field in [name, content_type] {
        let bytes = &field.as_bytes()[..field.len().min(usize::from(u16::MAX))];
        out.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// Encrypts a file's stream (preamble then bytes) chunk by chunk: call [`Self::header`] first,
/// then [`Self::seal`] on each full [`CHUNK_LEN`] chunk and the last (shorter or empty) one.
pub struct FileSealer {
    cipher: Aes256Gcm,
    header: [u8; FILE_HEADER_LEN],
    index: u32,
}

impl FileSealer {
    /// A sealer with a fresh random nonce prefix.
    ///
    /// # Errors
    /// [`FormatError::Random`] when the OS cannot give randomness.
    pub fn new(keys: &Keys) -> Result<Self, FormatError> {
        let prefix: [u8; PREFIX_LEN] = random_bytes().map_err(|_| FormatError::Random)?;
        Ok(Self::with_prefix(keys, prefix))
    }

    /// [`Self::new`] with a given prefix (test vectors only).
    pub fn with_prefix(keys: &Keys, prefix: [u8; PREFIX_LEN]) -> Self {
        let mut header = [0u8; FILE_HEADER_LEN];
        header[..FILE_MAGIC.len()].copy_from_slice(FILE_MAGIC);
        header[FILE_MAGIC.len()..].copy_from_slice(&prefix);
        Self {
            cipher: Aes256Gcm::new(&(*keys.file).into()),
            header,
            index: 0,
        }
    }

    /// The bytes that start the encrypted file.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Encrypts the next chunk (`last` for the final one).
    ///
    /// # Errors
    /// [`FormatError::Malformed`] when more than 2³² chunks are sealed.
    pub fn seal(&mut self, chunk: &[u8], last: bool) -> Result<Vec<u8>, FormatError> {
        let prefix: [u8; PREFIX_LEN] = self.header[FILE_MAGIC.len()..]
            .try_into()
            .unwrap_or_else(|_| unreachable!("the header ends with the prefix"));
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(chunk_nonce(&prefix, self.index, last)),
                Payload {
                    msg: chunk,
                    aad: &self.header,
                },
            )
            .map_err(|_| FormatError::Malformed("chunk too large"))?;
        self.index = self
            .index
            .checked_add(1)
            .ok_or(FormatError::Malformed("too many chunks"))?;
        Ok(sealed)
    }
}

/// Encrypted size of a file stream whose plaintext (preamble included) is `plaintext_len`
/// bytes: every chunk full but the last, which holds the rest (1 to [`CHUNK_LEN`] bytes, none
/// only when the whole plaintext is empty).
pub fn sealed_len(plaintext_len: u64) -> u64 {
    let chunks = plaintext_len.div_ceil(CHUNK_LEN as u64).max(1);
    FILE_HEADER_LEN as u64 + plaintext_len + chunks * TAG_LEN as u64
}

/// Decrypts an encrypted file as its bytes arrive: [`Self::push`] each piece, then
/// [`Self::finish`]. Chunks come out only once authenticated; a stream cut short, reordered or
/// extended fails.
pub struct FileOpener {
    cipher: Aes256Gcm,
    header: Option<[u8; FILE_HEADER_LEN]>,
    pending: Vec<u8>,
    index: u32,
}

impl FileOpener {
    /// An opener for `keys`.
    pub fn new(keys: &Keys) -> Self {
        Self {
            cipher: Aes256Gcm::new(&(*keys.file).into()),
            header: None,
            pending: Vec::new(),
            index: 0,
        }
    }

    fn open_chunk(&mut self, sealed: &[u8], last: bool) -> Result<Vec<u8>, FormatError> {
        let header = self.header.ok_or(FormatError::Malformed("no header"))?;
        let prefix: [u8; PREFIX_LEN] = header[FILE_MAGIC.len()..]
            .try_into()
            .unwrap_or_else(|_| unreachable!("the header ends with the prefix"));
        let opened = self
            .cipher
            .decrypt(
                &Nonce::from(chunk_nonce(&prefix, self.index, last)),
                Payload {
                    msg: sealed,
                    aad: &header,
                },
            )
            .map_err(|_| FormatError::WrongKey)?;
        self.index = self
            .index
            .checked_add(1)
            .ok_or(FormatError::Malformed("too many chunks"))?;
        Ok(opened)
    }

    /// Takes the next bytes; returns the plaintext of every chunk now complete (a chunk is held
    /// back until a byte after it arrives, since only the end tells the last chunk).
    ///
    /// # Errors
    /// [`FormatError::Malformed`] for a wrong header, [`FormatError::WrongKey`] for a chunk that
    /// does not authenticate.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
        self.pending.extend_from_slice(bytes);
        if self.header.is_none() {
            if self.pending.len() < FILE_HEADER_LEN {
                return Ok(Vec::new());
            }
            let header: [u8; FILE_HEADER_LEN] = self.pending[..FILE_HEADER_LEN]
                .try_into()
                .unwrap_or_else(|_| unreachable!("checked length"));
            if &header[..FILE_MAGIC.len()] != FILE_MAGIC {
                return Err(FormatError::Malformed("not an encrypted burnbox file"));
            }
            self.header = Some(header);
            self.pending.drain(..FILE_HEADER_LEN);
        }
        let sealed_chunk = CHUNK_LEN + TAG_LEN;
        let mut out = Vec::new();
        while self.pending.len() > sealed_chunk {
            let chunk: Vec<u8> = self.pending.drain(..sealed_chunk).collect();
            out.extend_from_slice(&self.open_chunk(&chunk, false)?);
        }
        Ok(out)
    }

    /// Opens the last chunk once the stream ended.
    ///
    /// # Errors
    /// [`FormatError::Malformed`] when the stream is cut short, [`FormatError::WrongKey`] when
    /// its last chunk does not authenticate as the last.
    pub fn finish(mut self) -> Result<Vec<u8>, FormatError> {
        if self.header.is_none() || self.pending.len() < TAG_LEN {
            return Err(FormatError::Malformed("the file is cut short"));
        }
        let last = std::mem::take(&mut self.pending);
        self.open_chunk(&last, true)
    }
}

/// Splits a decrypted stream's start into (name, media type, bytes after them); `None` until
/// enough bytes arrived.
pub fn split_preamble(plaintext: &[u8]) -> Option<(String, String, usize)> {
    let mut at = 0;
    let mut fields = Vec::with_capacity(2);
    for _ in 0..2 {
        let len = usize::from(u16::from_be_bytes(
            plaintext.get(at..at + 2)?.try_into().ok()?,
        ));
        let field = plaintext.get(at + 2..at + 2 + len)?;
        fields.push(String::from_utf8_lossy(field).into_owned());
        at += 2 + len;
    }
    let content_type = fields.pop()?;
    let name = fields.pop()?;
    Some((name, content_type, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(passphrase: Option<&str>) -> Keys {
        Keys::derive(&LinkKey::from_bytes([7; 32]), passphrase)
    }

    #[test]
    fn fragments_round_trip_and_mangled_ones_are_refused() {
        let key = LinkKey::generate().expect("key");
        let fragment = key.to_fragment();
        assert_eq!(fragment.len(), 4 + 43);
        let read = LinkKey::from_fragment(&format!("#{fragment}&v=1")).expect("read");
        assert_eq!(read.0.as_slice(), key.0.as_slice());
        for bad in [
            "",
            "#",
            "key=",
            "key=abc",
            &fragment[..fragment.len() - 1],
            "k=x",
        ] {
            assert_eq!(
                LinkKey::from_fragment(bad).err(),
                Some(FormatError::MalformedKey),
                "{bad}"
            );
        }
        assert!(matches!(
            LinkKey::from_fragment(&format!("{fragment}&v=2")),
            Err(FormatError::UnknownVersion(_))
        ));
    }

    #[test]
    fn pbkdf2_matches_rfc_7914_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256 of "passwd", salt "salt", 1 round.
        let out = pbkdf2(b"passwd", b"salt", 1);
        assert_eq!(
            out[..16],
            [
                0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f, 0xec, 0x16, 0x91, 0xc2, 0x25, 0x44,
                0xb6, 0x05
            ]
        );
    }

    #[test]
    fn text_opens_only_with_its_key_and_passphrase() {
        let sealed = encrypt_text(&keys(Some("pw")), "hello").expect("sealed");
        assert_eq!(
            decrypt_text(&keys(Some("pw")), &sealed)
                .expect("opened")
                .as_str(),
            "hello"
        );
        assert_eq!(
            decrypt_text(&keys(Some("other")), &sealed).err(),
            Some(FormatError::WrongKey)
        );
        assert_eq!(
            decrypt_text(&keys(None), &sealed).err(),
            Some(FormatError::WrongKey)
        );
        let mut bad = sealed.clone();
        bad.iv = "AAAA".into();
        assert!(matches!(
            decrypt_text(&keys(Some("pw")), &bad),
            Err(FormatError::Malformed(_))
        ));
        assert!(keys(None).server_passphrase().is_none());
        assert_ne!(
            keys(Some("pw")).server_passphrase(),
            Some("pw"),
            "the server never gets the passphrase itself"
        );
    }

    fn seal_file(keys: &Keys, plaintext: &[u8]) -> Vec<u8> {
        let mut sealer = FileSealer::new(keys).expect("sealer");
        let mut out = sealer.header().to_vec();
        if plaintext.is_empty() {
            out.extend(sealer.seal(&[], true).expect("sealed"));
        }
        let mut chunks = plaintext.chunks(CHUNK_LEN).peekable();
        while let Some(chunk) = chunks.next() {
            out.extend(sealer.seal(chunk, chunks.peek().is_none()).expect("sealed"));
        }
        out
    }

    fn open_file(keys: &Keys, sealed: &[u8], piece: usize) -> Result<Vec<u8>, FormatError> {
        let mut opener = FileOpener::new(keys);
        let mut out = Vec::new();
        for bytes in sealed.chunks(piece) {
            out.extend(opener.push(bytes)?);
        }
        out.extend(opener.finish()?);
        Ok(out)
    }

    #[test]
    fn files_open_in_any_pieces_and_refuse_cuts_swaps_and_extensions() {
        let keys = keys(None);
        for len in [0, 1, CHUNK_LEN - 1, CHUNK_LEN, 3 * CHUNK_LEN + 5] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = seal_file(&keys, &plaintext);
            assert_eq!(sealed.len() as u64, sealed_len(len as u64), "{len}");
            for piece in [1000, 70_000, sealed.len().max(1)] {
                assert_eq!(open_file(&keys, &sealed, piece).expect("opened"), plaintext);
            }
        }
        let plaintext = vec![5u8; 2 * CHUNK_LEN + 10];
        let sealed = seal_file(&keys, &plaintext);
        let chunk = CHUNK_LEN + TAG_LEN;
        // Cut after a whole chunk: its chunk was not sealed as the last.
        let cut = &sealed[..FILE_HEADER_LEN + chunk];
        assert!(open_file(&keys, cut, 4096).is_err());
        // Two chunks swapped.
        let mut swapped = sealed[..FILE_HEADER_LEN].to_vec();
        swapped.extend_from_slice(&sealed[FILE_HEADER_LEN + chunk..FILE_HEADER_LEN + 2 * chunk]);
        swapped.extend_from_slice(&sealed[FILE_HEADER_LEN..FILE_HEADER_LEN + chunk]);
        swapped.extend_from_slice(&sealed[FILE_HEADER_LEN + 2 * chunk..]);
        assert!(open_file(&keys, &swapped, 4096).is_err());
        // A chunk appended after the last.
        let mut extended = sealed.clone();
        extended.extend_from_slice(&sealed[FILE_HEADER_LEN..FILE_HEADER_LEN + chunk]);
        assert!(open_file(&keys, &extended, 4096).is_err());
        // Another key.
        assert_eq!(
            open_file(&super::tests::keys(Some("x")), &sealed, 4096).err(),
            Some(FormatError::WrongKey)
        );
    }

    #[test]
    fn the_published_vectors_hold() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/end-to-end-vectors.json"))
                .expect("vectors");
        let text = |field: &str| vectors[field].as_str().expect(field).to_owned();
        let link = LinkKey::from_fragment(&text("fragment")).expect("key");
        let plain = Keys::derive(&link, None);
        assert_eq!(
            STANDARD.encode(plain.text.as_slice()),
            text("textKeyWithoutPassphrase")
        );
        let keys = Keys::derive(&link, Some(&text("passphrase")));
        assert_eq!(STANDARD.encode(keys.text.as_slice()), text("textKey"));
        assert_eq!(STANDARD.encode(keys.file.as_slice()), text("fileKey"));
        assert_eq!(
            keys.server_passphrase(),
            Some(text("serverPassphrase").as_str())
        );
        let iv: [u8; 12] = STANDARD
            .decode(text("textIv"))
            .expect("iv")
            .try_into()
            .expect("12 bytes");
        let sealed = encrypt_text_with_iv(&keys, &text("text"), iv);
        assert_eq!(sealed.ciphertext, text("textCiphertext"));
        assert_eq!(
            decrypt_text(&keys, &sealed).expect("opens").as_str(),
            text("text")
        );

        let file = &vectors["file"];
        let prefix: [u8; PREFIX_LEN] = STANDARD
            .decode(file["prefix"].as_str().expect("prefix"))
            .expect("prefix")
            .try_into()
            .expect("7 bytes");
        let mut stream = file_preamble(
            file["name"].as_str().expect("name"),
            file["type"].as_str().expect("type"),
        );
        stream.extend((0..70_000u32).map(|i| (i * 7 % 256) as u8));
        let mut sealer = FileSealer::with_prefix(&keys, prefix);
        let mut encrypted = sealer.header().to_vec();
        let mut chunks = stream.chunks(CHUNK_LEN).peekable();
        while let Some(chunk) = chunks.next() {
            encrypted.extend(sealer.seal(chunk, chunks.peek().is_none()).expect("sealed"));
        }
        assert_eq!(
            Some(encrypted.len() as u64),
            file["encryptedLength"].as_u64()
        );
        assert_eq!(sealed_len(stream.len() as u64), encrypted.len() as u64);
        let digest: String =
            sha2::Digest::finalize(<Sha256 as sha2::Digest>::new_with_prefix(&encrypted))
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        assert_eq!(digest, file["encryptedSha256"].as_str().expect("sha"));
        let mut opener = FileOpener::new(&keys);
        let mut opened = opener.push(&encrypted).expect("opens");
        opened.extend(opener.finish().expect("ends"));
        assert_eq!(opened, stream);
    }

    #[test]
    fn the_preamble_carries_name_and_type() {
        let mut stream = file_preamble("report.pdf", "application/pdf");
        stream.extend_from_slice(b"%PDF");
        let (name, content_type, at) = split_preamble(&stream).expect("complete");
        assert_eq!(
            (name.as_str(), content_type.as_str()),
            ("report.pdf", "application/pdf")
        );
        assert_eq!(&stream[at..], b"%PDF");
        assert!(split_preamble(&stream[..5]).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// An end-to-end file changed anywhere, cut anywhere, or fed in any pieces: an error, or
        /// (whole and unchanged) the plaintext; never other bytes.
        #[test]
        fn a_changed_encrypted_file_never_opens_to_other_bytes(
            len in 0usize..(2 * CHUNK_LEN + 100),
            at in proptest::prelude::any::<usize>(),
            flip in 1u8..=255,
            cut in proptest::prelude::any::<usize>(),
            piece in 1usize..100_000,
        ) {
            let keys = keys(None);
            let plaintext: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let sealed = seal_file(&keys, &plaintext);
            proptest::prop_assert_eq!(open_file(&keys, &sealed, piece).expect("opens"), plaintext);
            let mut changed = sealed.clone();
            changed[at % sealed.len()] ^= flip;
            proptest::prop_assert!(open_file(&keys, &changed, piece).is_err());
            let cut = cut % sealed.len();
            proptest::prop_assert!(open_file(&keys, &sealed[..cut], piece).is_err());
        }

        /// Any fragment parses to a key or an error, never a panic.
        #[test]
        fn any_fragment_parses_or_is_refused(fragment in ".{0,120}") {
            let _ = LinkKey::from_fragment(&fragment);
        }
    }
}
