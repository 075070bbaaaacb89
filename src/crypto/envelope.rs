//! AES-256-GCM envelopes: `version ‖ nonce ‖ ciphertext+tag`, with a random 96-bit nonce per seal
//! and associated data that binds the envelope to its store record.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use super::{CryptoError, random_bytes};

/// Format version written first in every envelope.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// Bytes an envelope adds to its plaintext.
pub const OVERHEAD: usize = HEADER_LEN + 16;

/// Encrypts `plaintext` under `key`, authenticating `aad` too.
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new(&(*key).into());
    let nonce_bytes: [u8; NONCE_LEN] = random_bytes()?;
    let nonce = Nonce::from(nonce_bytes);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Malformed)?;
    let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Decrypts an envelope made by [`seal`] with the same `key` and `aad`.
pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < OVERHEAD || sealed[0] != VERSION {
        return Err(CryptoError::Malformed);
    }
    let nonce_bytes: [u8; NONCE_LEN] = sealed[1..HEADER_LEN]
        .try_into()
        .map_err(|_| CryptoError::Malformed)?;
    let cipher = Aes256Gcm::new(&(*key).into());
    cipher
        .decrypt(
            &Nonce::from(nonce_bytes),
            Payload {
                msg: &sealed[HEADER_LEN..],
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let key = [9u8; 32];
        let sealed = seal(&key, b"record", b"hello").expect("sealed");
        assert_eq!(
            open(&key, b"record", &sealed).expect("opened").as_slice(),
            b"hello"
        );
        assert!(matches!(
            open(&key, b"other", &sealed),
            Err(CryptoError::Authentication)
        ));
        assert!(matches!(
            open(&[8u8; 32], b"record", &sealed),
            Err(CryptoError::Authentication)
        ));
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            open(&key, b"record", &flipped),
            Err(CryptoError::Authentication)
        ));
        assert!(matches!(
            open(&key, b"record", &sealed[..10]),
            Err(CryptoError::Malformed)
        ));
    }

    #[test]
    fn nonces_differ_between_seals() {
        let key = [1u8; 32];
        let a = seal(&key, b"", b"same").expect("sealed");
        let b = seal(&key, b"", b"same").expect("sealed");
        assert_ne!(a, b);
    }

    proptest::proptest! {
        /// Any bytes open to an error or to the one plaintext sealed: a changed or cut envelope
        /// never opens.
        #[test]
        fn a_changed_or_cut_envelope_never_opens(
            plaintext in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            at in proptest::prelude::any::<usize>(),
            flip in 1u8..=255,
            cut in proptest::prelude::any::<usize>(),
        ) {
            let key = [5u8; 32];
            proptest::prop_assert!(open(&key, b"record", &noise).is_err());
            let sealed = seal(&key, b"record", &plaintext).expect("sealed");
            let mut changed = sealed.clone();
            changed[at % sealed.len()] ^= flip;
            proptest::prop_assert!(open(&key, b"record", &changed).is_err());
            proptest::prop_assert!(open(&key, b"record", &sealed[..cut % sealed.len()]).is_err());
            let opened = open(&key, b"record", &sealed).expect("opens");
            proptest::prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }
    }
}
