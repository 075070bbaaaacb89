//! Keys derived from the master key, and the operations that use them.
//!
//! - index key: HMAC-SHA256 of a link key gives its store id ([`SecretId`], [`ReceiptId`]).
//! - content key of one secret: HKDF-SHA256 over the content root, a per-secret random salt, the
//!   secret key and, when there is one, argon2id(passphrase, salt).
//! - receipt key of one secret: HKDF-SHA256 over the receipt root and the receipt key; it seals the
//!   copy of the secret key that the receipt can show to its holder.

use argon2::{Algorithm, Argon2, Params, Version};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{CryptoError, HashingLimits, MasterKey, PassphraseHashing, envelope, random_bytes};
use crate::domain::{ApiToken, Passphrase, ReceiptId, ReceiptKey, SecretId, SecretKey};

const SALT_LEN: usize = 16;
const CONTENT_VERSION: u8 = 1;

/// The keys derived from one master key. Cheap to share behind an `Arc`.
///
/// The derivations without a salt start from a root that never changes, so their HMAC states are
/// keyed once here (the same outputs, a quarter of the SHA-256 blocks per create).
pub struct Keyring {
    /// The HMAC that turns link keys into store ids, keyed with the index key.
    index_mac: Hmac<Sha256>,
    /// Root of every content key.
    content_root: Zeroizing<[u8; 32]>,
    /// HKDF of the content root without a salt (file details).
    content_expander: Hkdf<Sha256>,
    /// HKDF of the receipt root without a salt (receipt keys, owners' token keys).
    receipt_expander: Hkdf<Sha256>,
    /// argon2id cost used for passphrases.
    argon2_params: Params,
    /// The bound on argon2id runs at once, which callers go through for passphrase work.
    hashing: PassphraseHashing,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(<redacted>)")
    }
}

/// HKDF-SHA256 of `ikm` (with `salt`, or none), 32 bytes for the concatenated `info`.
pub(crate) fn derive(ikm: &[u8], salt: Option<&[u8]>, info: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    expand(&Hkdf::<Sha256>::new(salt, ikm), info)
}

fn expand(expander: &Hkdf<Sha256>, info: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte output limit, so expansion cannot fail.
    let _ = expander.expand_multi_info(info, out.as_mut_slice());
    out
}

/// `created ‖ hash[..24]` when the key carries its creation time, else `hash`.
fn time_ordered(created: Option<u64>, hash: [u8; 32]) -> [u8; 32] {
    let Some(millis) = created else {
        return hash;
    };
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&millis.to_be_bytes());
    id[8..].copy_from_slice(&hash[..24]);
    id
}

impl Keyring {
    /// Derives the keyring of `master` with argon2id's recommended default cost.
    pub fn new(master: &MasterKey) -> Self {
        Self::with_argon2_params(master, Params::DEFAULT)
    }

    /// Derives the keyring of `master` with a chosen argon2id cost.
    pub fn with_argon2_params(master: &MasterKey, argon2_params: Params) -> Self {
        let root = master.expose();
        let index_key = derive(root, None, &[b"burnbox/index/v1"]);
        let content_root = derive(root, None, &[b"burnbox/content/v1"]);
        let receipt_root = derive(root, None, &[b"burnbox/receipt/v1"]);
        Self {
            // HMAC accepts keys of any length, so this cannot fail.
            index_mac: <Hmac<Sha256> as KeyInit>::new_from_slice(index_key.as_slice())
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length")),
            content_expander: Hkdf::new(None, content_root.as_slice()),
            receipt_expander: Hkdf::new(None, receipt_root.as_slice()),
            content_root,
            argon2_params,
            hashing: PassphraseHashing::new(HashingLimits::for_this_machine()),
        }
    }

    /// The same keyring with another bound on argon2id runs.
    #[must_use]
    pub fn with_hashing_limits(mut self, limits: HashingLimits) -> Self {
        self.hashing = PassphraseHashing::new(limits);
        self
    }

    /// The bound that passphrase work ([`Self::seal_content`] and [`Self::open_content`] with a
    /// passphrase) goes through, so no more argon2id runs happen at once than it allows.
    pub fn hashing(&self) -> &PassphraseHashing {
        &self.hashing
    }

    fn keyed_hash(&self, domain: &[u8], key: &str) -> [u8; 32] {
        let mut mac = self.index_mac.clone();
        mac.update(domain);
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The store id of a secret key: for a generated key, its creation time (8 bytes, big-endian)
    /// then 24 bytes of the keyed hash, so the store's trees grow at their end; for any other
    /// key, the whole keyed hash.
    pub fn secret_id(&self, key: &SecretKey) -> SecretId {
        SecretId::from_bytes(time_ordered(
            key.created_millis(),
            self.keyed_hash(b"secret\0", key.expose()),
        ))
    }

    /// The store id of a receipt key, laid out as [`Self::secret_id`].
    pub fn receipt_id(&self, key: &ReceiptKey) -> ReceiptId {
        ReceiptId::from_bytes(time_ordered(
            key.created_millis(),
            self.keyed_hash(b"receipt\0", key.expose()),
        ))
    }

    fn content_key(
        &self,
        salt: &[u8],
        key: &SecretKey,
        passphrase: Option<&Passphrase>,
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let mut stretched = Zeroizing::new([0u8; 32]);
        if let Some(passphrase) = passphrase {
            Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                self.argon2_params.clone(),
            )
            .hash_password_into(passphrase.expose(), salt, stretched.as_mut_slice())
            .map_err(|e| CryptoError::PassphraseHash(e.to_string()))?;
        }
        let passphrase_part: &[u8] = if passphrase.is_some() {
            stretched.as_slice()
        } else {
            b""
        };
        Ok(derive(
            self.content_root.as_slice(),
            Some(salt),
            &[key.expose().as_bytes(), b"\0", passphrase_part],
        ))
    }

    /// Encrypts a secret's content. Runs argon2id when there is a passphrase (tens of
    /// milliseconds: call it off the async threads).
    ///
    /// # Errors
    /// [`CryptoError::Rng`] or [`CryptoError::PassphraseHash`].
    pub fn seal_content(
        &self,
        id: &SecretId,
        key: &SecretKey,
        passphrase: Option<&Passphrase>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let salt: [u8; SALT_LEN] = random_bytes()?;
        let content_key = self.content_key(&salt, key, passphrase)?;
        let sealed = envelope::seal(&content_key, id.as_bytes(), plaintext)?;
        let mut out = Vec::with_capacity(1 + SALT_LEN + sealed.len());
        out.push(CONTENT_VERSION);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts a secret's content sealed by [`Self::seal_content`].
    ///
    /// # Errors
    /// [`CryptoError::Authentication`] when the passphrase (or key) is wrong or the bytes were
    /// tampered with; [`CryptoError::Malformed`] for bytes of an unknown format.
    pub fn open_content(
        &self,
        id: &SecretId,
        key: &SecretKey,
        passphrase: Option<&Passphrase>,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < 1 + SALT_LEN || sealed[0] != CONTENT_VERSION {
            return Err(CryptoError::Malformed);
        }
        let (salt, envelope_bytes) = sealed[1..].split_at(SALT_LEN);
        let content_key = self.content_key(salt, key, passphrase)?;
        envelope::open(&content_key, id.as_bytes(), envelope_bytes)
    }

    fn details_key(&self, key: &SecretKey) -> Zeroizing<[u8; 32]> {
        expand(
            &self.content_expander,
            &[b"file-details\0", key.expose().as_bytes()],
        )
    }

    /// Seals a file's details (name, media type) under a key derived from the secret key alone,
    /// so either key's holder can see them without the passphrase, and the store cannot.
    ///
    /// # Errors
    /// [`CryptoError::Rng`].
    pub fn seal_details(
        &self,
        id: &SecretId,
        key: &SecretKey,
        details: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        envelope::seal(&self.details_key(key), id.as_bytes(), details)
    }

    /// Reads back what [`Self::seal_details`] sealed.
    ///
    /// # Errors
    /// [`CryptoError::Authentication`] for another key's seal or altered bytes.
    pub fn open_details(
        &self,
        id: &SecretId,
        key: &SecretKey,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        envelope::open(&self.details_key(key), id.as_bytes(), sealed)
    }

    /// The keyed hash an API token is stored and looked up by.
    pub fn token_hash(&self, token: &ApiToken) -> [u8; 32] {
        self.keyed_hash(b"token\0", token.expose())
    }

    fn token_key_bytes(&self, token: &ApiToken) -> Zeroizing<[u8; 32]> {
        expand(
            &self.receipt_expander,
            &[b"owner\0", token.expose().as_bytes()],
        )
    }

    /// Seals a receipt key for the owner's receipt list, under a key derived from the API token
    /// that created the secret: without that token the store cannot give the key back.
    ///
    /// # Errors
    /// [`CryptoError::Rng`].
    pub fn seal_for_token(
        &self,
        token: &ApiToken,
        id: &SecretId,
        receipt: &ReceiptKey,
    ) -> Result<Vec<u8>, CryptoError> {
        envelope::seal(
            &self.token_key_bytes(token),
            id.as_bytes(),
            receipt.expose().as_bytes(),
        )
    }

    /// Reads back a receipt key sealed by [`Self::seal_for_token`] with the same token.
    ///
    /// # Errors
    /// [`CryptoError::Authentication`] for another token's seal.
    pub fn open_for_token(
        &self,
        token: &ApiToken,
        id: &SecretId,
        sealed: &[u8],
    ) -> Result<ReceiptKey, CryptoError> {
        let bytes = envelope::open(&self.token_key_bytes(token), id.as_bytes(), sealed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CryptoError::Malformed)?;
        ReceiptKey::parse(text).map_err(|_| CryptoError::Malformed)
    }

    fn receipt_key_bytes(&self, receipt: &ReceiptKey) -> Zeroizing<[u8; 32]> {
        expand(&self.receipt_expander, &[receipt.expose().as_bytes()])
    }

    /// Seals `secret` so that only the holder of `receipt` can read it back from the store.
    ///
    /// # Errors
    /// [`CryptoError::Rng`].
    pub fn seal_secret_key(
        &self,
        receipt: &ReceiptKey,
        secret: &SecretKey,
    ) -> Result<Vec<u8>, CryptoError> {
        let receipt_id = self.receipt_id(receipt);
        envelope::seal(
            &self.receipt_key_bytes(receipt),
            receipt_id.as_bytes(),
            secret.expose().as_bytes(),
        )
    }

    /// Reads back the secret key sealed by [`Self::seal_secret_key`].
    ///
    /// # Errors
    /// [`CryptoError::Authentication`] or [`CryptoError::Malformed`] for bytes that are not such a
    /// seal under this receipt key.
    pub fn open_secret_key(
        &self,
        receipt: &ReceiptKey,
        sealed: &[u8],
    ) -> Result<SecretKey, CryptoError> {
        let receipt_id = self.receipt_id(receipt);
        let bytes = envelope::open(
            &self.receipt_key_bytes(receipt),
            receipt_id.as_bytes(),
            sealed,
        )?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CryptoError::Malformed)?;
        SecretKey::parse(text).map_err(|_| CryptoError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        // Small argon2 cost: these tests check the wiring, not the cost.
        let params = Params::new(64, 1, 1, Some(32)).expect("valid params");
        Keyring::with_argon2_params(&MasterKey::from_bytes([3; 32]), params)
    }

    /// The keys derived from pre-keyed states are the ones derived from the roots, so what an
    /// older burnbox sealed still opens.
    #[test]
    fn prekeyed_derivations_equal_the_derivations_from_the_roots() {
        let ring = keyring();
        let root = MasterKey::from_bytes([3; 32]);
        let root = root.expose();
        let index_key = derive(root, None, &[b"burnbox/index/v1"]);
        let content_root = derive(root, None, &[b"burnbox/content/v1"]);
        let receipt_root = derive(root, None, &[b"burnbox/receipt/v1"]);
        let key = SecretKey::generate(1_795_000_000_000, [9; 16]);
        let receipt = ReceiptKey::generate(1_795_000_000_000, [8; 16]);

        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(index_key.as_slice()).expect("key");
        mac.update(b"secret\0");
        mac.update(key.expose().as_bytes());
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(ring.keyed_hash(b"secret\0", key.expose()), expected);
        assert_eq!(
            *ring.receipt_key_bytes(&receipt),
            *derive(
                receipt_root.as_slice(),
                None,
                &[receipt.expose().as_bytes()]
            )
        );
        assert_eq!(
            *ring.details_key(&key),
            *derive(
                content_root.as_slice(),
                None,
                &[b"file-details\0", key.expose().as_bytes()]
            )
        );
        let token = ApiToken::from_random_bytes([7; 32]);
        assert_eq!(
            *ring.token_key_bytes(&token),
            *derive(
                receipt_root.as_slice(),
                None,
                &[b"owner\0", token.expose().as_bytes()]
            )
        );
    }

    #[test]
    fn ids_are_keyed_and_distinct_per_kind() {
        let ring = keyring();
        let other = Keyring::new(&MasterKey::from_bytes([4; 32]));
        let key = SecretKey::parse("abc123").expect("key");
        let receipt = ReceiptKey::parse("abc123").expect("key");
        assert_eq!(ring.secret_id(&key), ring.secret_id(&key));
        assert_ne!(
            ring.secret_id(&key).as_bytes(),
            ring.receipt_id(&receipt).as_bytes()
        );
        assert_ne!(ring.secret_id(&key), other.secret_id(&key));
    }

    #[test]
    fn generated_keys_give_ids_in_creation_order() {
        let ring = keyring();
        let earlier = SecretKey::generate(1_000, [0xff; 16]);
        let later = SecretKey::generate(2_000, [0x00; 16]);
        let (a, b) = (ring.secret_id(&earlier), ring.secret_id(&later));
        assert!(a < b, "ids sort by creation time, not by the random part");
        assert_eq!(a.as_bytes()[..8], 1_000u64.to_be_bytes());
        assert_ne!(a.as_bytes()[8..], [0u8; 24]);
        let receipt = ReceiptKey::generate(1_000, [0xff; 16]);
        assert_ne!(ring.receipt_id(&receipt).as_bytes(), a.as_bytes());
    }

    #[test]
    fn content_needs_the_link_key_and_the_passphrase() {
        let ring = keyring();
        let key = SecretKey::parse("linkkey1").expect("key");
        let id = ring.secret_id(&key);
        let pass = Passphrase::parse("correct horse".into()).expect("passphrase");
        let sealed = ring
            .seal_content(&id, &key, Some(&pass), b"the plaintext")
            .expect("sealed");
        let opened = ring
            .open_content(&id, &key, Some(&pass), &sealed)
            .expect("opened");
        assert_eq!(opened.as_slice(), b"the plaintext");

        let wrong_pass = Passphrase::parse("wrong".into()).expect("passphrase");
        assert!(matches!(
            ring.open_content(&id, &key, Some(&wrong_pass), &sealed),
            Err(CryptoError::Authentication)
        ));
        assert!(matches!(
            ring.open_content(&id, &key, None, &sealed),
            Err(CryptoError::Authentication)
        ));
        let wrong_key = SecretKey::parse("linkkey2").expect("key");
        assert!(matches!(
            ring.open_content(&id, &wrong_key, Some(&pass), &sealed),
            Err(CryptoError::Authentication)
        ));
        assert!(!sealed.windows(13).any(|w| w == b"the plaintext"));
    }

    #[test]
    fn receipt_seals_the_secret_key() {
        let ring = keyring();
        let receipt = ReceiptKey::parse("receipt1").expect("key");
        let secret = SecretKey::parse("secret1").expect("key");
        let sealed = ring.seal_secret_key(&receipt, &secret).expect("sealed");
        assert_eq!(
            ring.open_secret_key(&receipt, &sealed).expect("opened"),
            secret
        );
        let other = ReceiptKey::parse("receipt2").expect("key");
        assert!(ring.open_secret_key(&other, &sealed).is_err());
        assert!(!sealed.windows(7).any(|w| w == b"secret1"));
    }
}
