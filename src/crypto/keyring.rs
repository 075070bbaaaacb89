//! Keys derived from the master keys, and the operations that use them. Each master key of the
//! set gives one generation of these keys; the ids of the store say which generation made them.
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

use super::master_keys::sealing_of;
use super::{
    CryptoError, HashingLimits, MasterKey, MasterKeys, PassphraseHashing, envelope, random_bytes,
};
use crate::domain::{ApiToken, Passphrase, ReceiptId, ReceiptKey, SecretId, SecretKey};

const SALT_LEN: usize = 16;
const CONTENT_VERSION: u8 = 1;

/// The keys derived from every master key of the set, one generation per key. New secrets,
/// receipts and API keys are made under the sealing generation (the newest key already active);
/// what was made under an older one is found and opened with that one's keys. Cheap to share
/// behind an `Arc`.
pub struct Keyring {
    /// Newest first.
    generations: Vec<Generation>,
    /// argon2id cost used for passphrases.
    argon2_params: Params,
    /// The bound on argon2id runs at once, which callers go through for passphrase work.
    hashing: PassphraseHashing,
}

/// The keys derived from one master key.
///
/// The derivations without a salt start from a root that never changes, so their HMAC states are
/// keyed once here (the same outputs, a quarter of the SHA-256 blocks per create).
struct Generation {
    /// The master key's id.
    key_id: u32,
    /// Unix seconds from which it seals.
    active_from: u64,
    /// The HMAC that turns link keys into store ids, keyed with the index key.
    index_mac: Hmac<Sha256>,
    /// Root of every content key.
    content_root: Zeroizing<[u8; 32]>,
    /// HKDF of the content root without a salt (file details).
    content_expander: Hkdf<Sha256>,
    /// HKDF of the receipt root without a salt (receipt keys, owners' token keys).
    receipt_expander: Hkdf<Sha256>,
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

impl Generation {
    fn new(key_id: u32, active_from: u64, master: &MasterKey) -> Self {
        let root = master.expose();
        let index_key = derive(root, None, &[b"burnbox/index/v1"]);
        let content_root = derive(root, None, &[b"burnbox/content/v1"]);
        let receipt_root = derive(root, None, &[b"burnbox/receipt/v1"]);
        Self {
            key_id,
            active_from,
            // HMAC accepts keys of any length, so this cannot fail.
            index_mac: <Hmac<Sha256> as KeyInit>::new_from_slice(index_key.as_slice())
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length")),
            content_expander: Hkdf::new(None, content_root.as_slice()),
            receipt_expander: Hkdf::new(None, receipt_root.as_slice()),
            content_root,
        }
    }

    fn keyed_hash(&self, domain: &[u8], key: &str) -> [u8; 32] {
        let mut mac = self.index_mac.clone();
        mac.update(domain);
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn secret_id(&self, key: &SecretKey) -> SecretId {
        SecretId::from_bytes(time_ordered(
            key.created_millis(),
            self.keyed_hash(b"secret\0", key.expose()),
        ))
    }

    fn receipt_id(&self, key: &ReceiptKey) -> ReceiptId {
        ReceiptId::from_bytes(time_ordered(
            key.created_millis(),
            self.keyed_hash(b"receipt\0", key.expose()),
        ))
    }

    fn details_key(&self, key: &SecretKey) -> Zeroizing<[u8; 32]> {
        expand(
            &self.content_expander,
            &[b"file-details\0", key.expose().as_bytes()],
        )
    }

    fn token_key_bytes(&self, token: &ApiToken) -> Zeroizing<[u8; 32]> {
        expand(
            &self.receipt_expander,
            &[b"owner\0", token.expose().as_bytes()],
        )
    }

    fn receipt_key_bytes(&self, receipt: &ReceiptKey) -> Zeroizing<[u8; 32]> {
        expand(&self.receipt_expander, &[receipt.expose().as_bytes()])
    }
}

impl Keyring {
    /// The keyring of one master key (id 1), with argon2id's recommended default cost.
    pub fn new(master: &MasterKey) -> Self {
        Self::with_argon2_params(&[(1, 0, master)], Params::DEFAULT)
    }

    /// The keyring of every key of `keys`, with argon2id's recommended default cost.
    pub fn from_keys(keys: &MasterKeys) -> Self {
        let entries: Vec<(u32, u64, &MasterKey)> = keys
            .entries()
            .iter()
            .map(|entry| (entry.id, entry.active_from, entry.key()))
            .collect();
        Self::with_argon2_params(&entries, Params::DEFAULT)
    }

    /// The keyring of `(id, active from, key)` triples with a chosen argon2id cost.
    fn with_argon2_params(keys: &[(u32, u64, &MasterKey)], argon2_params: Params) -> Self {
        let mut generations: Vec<Generation> = keys
            .iter()
            .map(|(id, active_from, key)| Generation::new(*id, *active_from, key))
            .collect();
        generations.sort_by_key(|generation| std::cmp::Reverse(generation.key_id));
        Self {
            generations,
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

    /// The generation new secrets are made under: the newest key active now (the oldest key
    /// when none is active yet, which a set with a key active from the start never has).
    fn sealing(&self) -> &Generation {
        sealing_of(&self.generations, |generation| generation.active_from)
            .unwrap_or_else(|| unreachable!("a keyring has at least one key"))
    }

    /// The id of the master key new secrets are sealed under now.
    pub fn sealing_key_id(&self) -> u32 {
        self.sealing().key_id
    }

    /// The generation whose store id for `key` is `id`: the one that made the record.
    fn maker_of(&self, id: &SecretId, key: &SecretKey) -> Result<&Generation, CryptoError> {
        self.generations
            .iter()
            .find(|generation| generation.secret_id(key) == *id)
            .ok_or(CryptoError::Authentication)
    }

    /// The store id a new secret with `key` gets: the sealing generation's keyed hash.
    /// For a generated key, its creation time (8 bytes, big-endian) then 24 bytes of the keyed
    /// hash, so the store's trees grow at their end; for any other key, the whole keyed hash.
    pub fn secret_id(&self, key: &SecretKey) -> SecretId {
        self.sealing().secret_id(key)
    }

    /// Every store id `key` may have, one per master key, the sealing key's first: a secret made
    /// before a rotation is stored under an older key's id.
    pub fn secret_ids(&self, key: &SecretKey) -> Vec<SecretId> {
        let first = self.secret_id(key);
        std::iter::once(first)
            .chain(
                self.generations
                    .iter()
                    .map(|generation| generation.secret_id(key))
                    .filter(|id| *id != first),
            )
            .collect()
    }

    /// The store id a new receipt key gets, laid out as [`Self::secret_id`].
    pub fn receipt_id(&self, key: &ReceiptKey) -> ReceiptId {
        self.sealing().receipt_id(key)
    }

    /// Every store id a receipt key may have, the sealing key's first.
    pub fn receipt_ids(&self, key: &ReceiptKey) -> Vec<ReceiptId> {
        let first = self.receipt_id(key);
        std::iter::once(first)
            .chain(
                self.generations
                    .iter()
                    .map(|generation| generation.receipt_id(key))
                    .filter(|id| *id != first),
            )
            .collect()
    }

    fn content_key(
        &self,
        generation: &Generation,
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
            generation.content_root.as_slice(),
            Some(salt),
            &[key.expose().as_bytes(), b"\0", passphrase_part],
        ))
    }

    /// Encrypts the content of the secret stored under `id`, under the keys of the master key
    /// that made `id`. Runs argon2id when there is a passphrase (tens of milliseconds: call it
    /// off the async threads).
    ///
    /// # Errors
    /// [`CryptoError::Rng`] or [`CryptoError::PassphraseHash`]; [`CryptoError::Authentication`]
    /// when `id` is not `key`'s under any master key.
    pub fn seal_content(
        &self,
        id: &SecretId,
        key: &SecretKey,
        passphrase: Option<&Passphrase>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let generation = self.maker_of(id, key)?;
        let salt: [u8; SALT_LEN] = random_bytes()?;
        let content_key = self.content_key(generation, &salt, key, passphrase)?;
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
    /// [`CryptoError::Authentication`] when the passphrase (or key) is wrong, the bytes were
    /// tampered with, or the master key that made `id` is no longer in the set;
    /// [`CryptoError::Malformed`] for bytes of an unknown format.
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
        let generation = self.maker_of(id, key)?;
        let (salt, envelope_bytes) = sealed[1..].split_at(SALT_LEN);
        let content_key = self.content_key(generation, salt, key, passphrase)?;
        envelope::open(&content_key, id.as_bytes(), envelope_bytes)
    }

    /// Seals a file's details (name, media type) under a key derived from the secret key alone,
    /// so either key's holder can see them without the passphrase, and the store cannot.
    ///
    /// # Errors
    /// [`CryptoError::Rng`]; [`CryptoError::Authentication`] when `id` is not `key`'s.
    pub fn seal_details(
        &self,
        id: &SecretId,
        key: &SecretKey,
        details: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let generation = self.maker_of(id, key)?;
        envelope::seal(&generation.details_key(key), id.as_bytes(), details)
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
        let generation = self.maker_of(id, key)?;
        envelope::open(&generation.details_key(key), id.as_bytes(), sealed)
    }

    /// The id of the master key that made the record stored under `id` for `key`.
    pub fn key_id_of(&self, id: &SecretId, key: &SecretKey) -> Option<u32> {
        self.maker_of(id, key)
            .ok()
            .map(|generation| generation.key_id)
    }

    /// The keyed hash a new API token is stored by, with the id of the key that made it (the
    /// sealing key).
    pub fn token_hash(&self, token: &ApiToken) -> (u32, [u8; 32]) {
        let generation = self.sealing();
        (
            generation.key_id,
            generation.keyed_hash(b"token\0", token.expose()),
        )
    }

    /// Every keyed hash an API token may be stored by, each with its key's id, the sealing
    /// key's first: a token made before a rotation is stored under an older key's hash.
    pub fn token_hashes(&self, token: &ApiToken) -> Vec<(u32, [u8; 32])> {
        let first = self.token_hash(token);
        std::iter::once(first)
            .chain(
                self.generations
                    .iter()
                    .filter(|generation| generation.key_id != first.0)
                    .map(|generation| {
                        (
                            generation.key_id,
                            generation.keyed_hash(b"token\0", token.expose()),
                        )
                    }),
            )
            .collect()
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
            &self.sealing().token_key_bytes(token),
            id.as_bytes(),
            receipt.expose().as_bytes(),
        )
    }

    /// Reads back a receipt key sealed by [`Self::seal_for_token`] with the same token, under
    /// whichever master key sealed it.
    ///
    /// # Errors
    /// [`CryptoError::Authentication`] for another token's seal.
    pub fn open_for_token(
        &self,
        token: &ApiToken,
        id: &SecretId,
        sealed: &[u8],
    ) -> Result<ReceiptKey, CryptoError> {
        let bytes = self
            .generations
            .iter()
            .find_map(|generation| {
                envelope::open(&generation.token_key_bytes(token), id.as_bytes(), sealed).ok()
            })
            .ok_or(CryptoError::Authentication)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CryptoError::Malformed)?;
        ReceiptKey::parse(text).map_err(|_| CryptoError::Malformed)
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
        let generation = self.sealing();
        envelope::seal(
            &generation.receipt_key_bytes(receipt),
            generation.receipt_id(receipt).as_bytes(),
            secret.expose().as_bytes(),
        )
    }

    /// Reads back the secret key sealed by [`Self::seal_secret_key`], under whichever master key
    /// sealed it.
    ///
    /// # Errors
    /// [`CryptoError::Authentication`] or [`CryptoError::Malformed`] for bytes that are not such a
    /// seal under this receipt key.
    pub fn open_secret_key(
        &self,
        receipt: &ReceiptKey,
        sealed: &[u8],
    ) -> Result<SecretKey, CryptoError> {
        let bytes = self
            .generations
            .iter()
            .find_map(|generation| {
                envelope::open(
                    &generation.receipt_key_bytes(receipt),
                    generation.receipt_id(receipt).as_bytes(),
                    sealed,
                )
                .ok()
            })
            .ok_or(CryptoError::Authentication)?;
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
        Keyring::with_argon2_params(&[(1, 0, &MasterKey::from_bytes([3; 32]))], params)
    }

    /// The keys derived from pre-keyed states are the ones derived from the roots, so what an
    /// older burnbox sealed still opens.
    #[test]
    fn prekeyed_derivations_equal_the_derivations_from_the_roots() {
        let keys = keyring();
        let ring = &keys.generations[0];
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

    fn small_cost() -> Params {
        Params::new(64, 1, 1, Some(32)).expect("valid params")
    }

    /// What a keyring made under key 1 alone still opens once key 2 is added and seals: ids,
    /// contents, file details, the receipt's secret key, an owner's receipt key and API tokens.
    #[test]
    fn what_an_older_key_made_opens_after_a_rotation() {
        let (one, two) = (
            MasterKey::from_bytes([1; 32]),
            MasterKey::from_bytes([2; 32]),
        );
        let before = Keyring::with_argon2_params(&[(1, 0, &one)], small_cost());
        let after = Keyring::with_argon2_params(&[(1, 0, &one), (2, 0, &two)], small_cost());
        assert_eq!((before.sealing_key_id(), after.sealing_key_id()), (1, 2));

        let key = SecretKey::generate(1_795_000_000_000, [9; 16]);
        let receipt = ReceiptKey::generate(1_795_000_000_000, [8; 16]);
        let token = ApiToken::from_random_bytes([7; 32]);
        let pass = Passphrase::parse("correct horse".into()).expect("passphrase");
        let id = before.secret_id(&key);
        let content = before
            .seal_content(&id, &key, Some(&pass), b"made under key 1")
            .expect("sealed");
        let details = before
            .seal_details(&id, &key, b"name.txt")
            .expect("details");
        let sealed_key = before.seal_secret_key(&receipt, &key).expect("secret key");
        let for_owner = before.seal_for_token(&token, &id, &receipt).expect("owner");

        assert_ne!(after.secret_id(&key), id, "new secrets get key 2's ids");
        assert_eq!(after.secret_ids(&key), [after.secret_id(&key), id]);
        assert_eq!(
            after.receipt_ids(&receipt)[1].as_bytes(),
            before.receipt_id(&receipt).as_bytes()
        );
        assert_eq!(after.token_hashes(&token)[1], before.token_hash(&token));
        assert_eq!(after.token_hash(&token).0, 2);
        assert_eq!(after.key_id_of(&id, &key), Some(1));
        assert_eq!(after.key_id_of(&after.secret_id(&key), &key), Some(2));
        let opened = after
            .open_content(&id, &key, Some(&pass), &content)
            .expect("key 1's content opens");
        assert_eq!(opened.as_slice(), b"made under key 1");
        assert_eq!(
            after
                .open_details(&id, &key, &details)
                .expect("details")
                .as_slice(),
            b"name.txt"
        );
        assert_eq!(
            after
                .open_secret_key(&receipt, &sealed_key)
                .expect("opened"),
            key
        );
        assert_eq!(
            after
                .open_for_token(&token, &id, &for_owner)
                .expect("opened")
                .expose(),
            receipt.expose()
        );

        // What key 2 made needs key 2: a keyring without it opens none of it.
        let new_id = after.secret_id(&key);
        let new_content = after
            .seal_content(&new_id, &key, None, b"key 2")
            .expect("sealed");
        assert!(matches!(
            before.open_content(&new_id, &key, None, &new_content),
            Err(CryptoError::Authentication)
        ));
        let new_sealed_key = after.seal_secret_key(&receipt, &key).expect("sealed");
        assert!(before.open_secret_key(&receipt, &new_sealed_key).is_err());
    }

    /// A key active from a later moment seals only from then on; until then the one before it
    /// seals, and both open.
    #[test]
    fn a_key_seals_from_its_activation_on() {
        let (one, two) = (
            MasterKey::from_bytes([1; 32]),
            MasterKey::from_bytes([2; 32]),
        );
        let later = crate::clock::now().as_millis() / 1000 + 3600;
        let pending = Keyring::with_argon2_params(&[(1, 0, &one), (2, later, &two)], small_cost());
        assert_eq!(pending.sealing_key_id(), 1);
        let key = SecretKey::generate(1_795_000_000_000, [9; 16]);
        assert_eq!(pending.secret_ids(&key).len(), 2);
        let active = Keyring::with_argon2_params(&[(1, 0, &one), (2, 1, &two)], small_cost());
        assert_eq!(active.sealing_key_id(), 2);
    }
}
