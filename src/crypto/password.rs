//! Server-generated passwords (Onetime Secret's `generate`), drawn from the OS RNG.

use super::{CryptoError, random_bytes};
use crate::domain::DomainError;

/// Letters, digits and symbols without the look-alikes `i l o 1 I O 0`.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789*$!?()#%+=@";
/// Shortest password generated.
pub const MIN_LENGTH: usize = 4;
/// Longest password generated.
pub const MAX_LENGTH: usize = 128;
/// Length when none is asked for.
pub const DEFAULT_LENGTH: usize = 12;

/// Why a password could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The length asked for is out of range.
    #[error(transparent)]
    Length(#[from] DomainError),
    /// No randomness.
    #[error(transparent)]
    Rng(#[from] CryptoError),
}

/// A random password of `length` characters, each drawn uniformly from the alphabet.
///
/// # Errors
/// [`PasswordError::Length`] outside 4..=128, [`PasswordError::Rng`] without randomness.
pub fn generate_password(length: usize) -> Result<String, PasswordError> {
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(DomainError::InvalidLength {
            min: MIN_LENGTH,
            max: MAX_LENGTH,
        }
        .into());
    }
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
        for length in [MIN_LENGTH, DEFAULT_LENGTH, MAX_LENGTH] {
            let password = generate_password(length).expect("generated");
            assert_eq!(password.len(), length);
            assert!(password.bytes().all(|b| ALPHABET.contains(&b)));
            assert!(!password.contains(['i', 'l', 'o', '1', 'I', 'O', '0']));
        }
        assert!(generate_password(MAX_LENGTH + 1).is_err());
        assert!(generate_password(MIN_LENGTH - 1).is_err());
        assert_ne!(
            generate_password(32).expect("a"),
            generate_password(32).expect("b")
        );
    }
}
