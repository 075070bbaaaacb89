//! Server-generated passwords (Onetime Secret's `generate`), drawn from the OS RNG.

use super::{CryptoError, random_bytes};
use crate::domain::PasswordLength;

/// Letters, digits and symbols without the look-alikes `i l o 1 I O 0`.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789*$!?()#%+=@";
/// A random password of `length` characters, each drawn uniformly from the alphabet.
///
/// # Errors
/// [`CryptoError`] when the OS gives no randomness.
pub fn generate_password(length: PasswordLength) -> Result<String, CryptoError> {
    let length = length.get();
    // Rejection sampling: bytes past the largest multiple of the alphabet size are discarded,
    // so every character is equally likely.
    let limit = 256 - (256 % ALPHABET.len());
    let mut out = String::with_capacity(length);
    while out.len() < length {
        let batch: [u8; 64] = random_bytes()?;
        for byte in batch {
            if usize::from(byte) < limit && out.len() < length {
                out.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_alphabet() {
        for length in [
            PasswordLength::MIN as i64,
            PasswordLength::DEFAULT.get() as i64,
            PasswordLength::MAX as i64,
        ] {
            let length = PasswordLength::parse(length).expect("in range");
            let password = generate_password(length).expect("generated");
            assert_eq!(password.len(), length.get());
            assert!(password.bytes().all(|b| ALPHABET.contains(&b)));
            assert!(!password.contains(['i', 'l', 'o', '1', 'I', 'O', '0']));
        }
        let length = PasswordLength::parse(32).expect("in range");
        assert_ne!(
            generate_password(length).expect("a"),
            generate_password(length).expect("b")
        );
    }
}
