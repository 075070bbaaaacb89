//! Link keys: the secret key shared with the recipient and the receipt key kept by the sender.
//!
//! A key is its creation time (milliseconds, 9 base-36 characters) followed by 128 random bits
//! (25 base-36 characters): 34 lowercase characters. The time lets the store keep records in
//! creation order, so new records land together at the end of its B-trees instead of on a random
//! page each (see `Keyring::secret_id`); the random part is what makes the key a secret. Keys are
//! opaque to clients; parsing only checks the shape (1 to 64 ASCII alphanumerics) so that a
//! malformed key is refused before any lookup. Keys of any other shape (an older burnbox wrote
//! 25-character keys) carry no time.

use std::fmt;

use zeroize::Zeroizing;

use super::DomainError;

/// The characters keys are written with.
pub const KEY_ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Length of the random part: 36^25 > 2^128, so 25 characters hold 128 bits.
const GENERATED_LEN: usize = 25;
/// Length of the time part: 36^9 milliseconds reach the year 5000.
const TIME_LEN: usize = 9;

/// Base-36 digits that fit in a `u64` part: 36^12 < 2^64 < 36^13.
const DIGITS_PER_PART: usize = 12;
/// 36^12: `n` is taken apart in `u64` parts of 12 digits, because a 128-bit division is a
/// library call on x86-64 (it was 1.3 % of a create's CPU when each digit took one).
const PART: u128 = 36u128.pow(DIGITS_PER_PART as u32);

/// The lowest `len` base-36 digits of `n`, zero-padded on the left.
pub fn base36_fixed(mut n: u128, len: usize) -> String {
    let mut out = vec![b'0'; len];
    for part_digits in out.rchunks_mut(DIGITS_PER_PART) {
        // Below 36^12, so it fits in a u64.
        let mut part = (n % PART) as u64;
        n /= PART;
        for slot in part_digits.iter_mut().rev() {
            *slot = KEY_ALPHABET[(part % 36) as usize];
            part /= 36;
        }
    }
    out.into_iter().map(char::from).collect()
}

/// The creation time written at the start of a generated key, if `raw` is one.
fn decode_time(raw: &str) -> Option<u64> {
    if raw.len() != TIME_LEN + GENERATED_LEN {
        return None;
    }
    raw.bytes().take(TIME_LEN).try_fold(0u64, |n, b| {
        let digit = KEY_ALPHABET.iter().position(|&a| a == b)? as u64;
        n.checked_mul(36)?.checked_add(digit)
    })
}
/// Longest key accepted from a client.
const MAX_LEN: usize = 64;

fn check_shape(raw: &str) -> Result<(), DomainError> {
    if raw.is_empty() || raw.len() > MAX_LEN || !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DomainError::InvalidKey);
    }
    Ok(())
}

macro_rules! link_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// The key created at `created_millis` with 16 random bytes (the caller draws them
            /// from the OS RNG).
            pub fn generate(created_millis: u64, bytes: [u8; 16]) -> Self {
                let mut key = base36_fixed(u128::from(created_millis), TIME_LEN);
                key.push_str(&base36_fixed(u128::from_be_bytes(bytes), GENERATED_LEN));
                Self(Zeroizing::new(key))
            }

            /// The creation time the key starts with, if it is a generated key.
            pub fn created_millis(&self) -> Option<u64> {
                decode_time(&self.0)
            }

            /// Parses a key sent by a client.
            ///
            /// # Errors
            /// [`DomainError::InvalidKey`] when it is empty, longer than 64 characters or not
            /// ASCII alphanumeric.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                check_shape(raw)?;
                Ok(Self(Zeroizing::new(raw.to_owned())))
            }

            /// The key as written in links.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            /// Never prints the key.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

link_key!(
    /// The key given to the recipient; reading with it counts a view.
    SecretKey
);
link_key!(
    /// The key kept by the sender (the metadata key); it shows the state and burns the secret.
    ReceiptKey
);

/// A key from a URL that may be either kind (the status and burn endpoints take both).
#[derive(Clone, PartialEq, Eq)]
pub struct AnyKey(Zeroizing<String>);

impl AnyKey {
    /// Parses a key sent by a client.
    ///
    /// # Errors
    /// [`DomainError::InvalidKey`] for a malformed key.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        check_shape(raw)?;
        Ok(Self(Zeroizing::new(raw.to_owned())))
    }

    /// The same characters read as a receipt key.
    pub fn as_receipt(&self) -> ReceiptKey {
        ReceiptKey(self.0.clone())
    }

    /// The same characters read as a secret key.
    pub fn as_secret(&self) -> SecretKey {
        SecretKey(self.0.clone())
    }
}

impl fmt::Debug for AnyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AnyKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base36_digits_are_the_lowest_len_digits_of_the_number() {
        fn digit_by_digit(mut n: u128, len: usize) -> String {
            let mut digits = vec!['0'; len];
            for slot in digits.iter_mut().rev() {
                *slot = char::from(KEY_ALPHABET[(n % 36) as usize]);
                n /= 36;
            }
            digits.into_iter().collect()
        }
        let numbers = [
            0,
            35,
            36,
            PART - 1,
            PART,
            PART * PART + 7,
            u128::from(u64::MAX),
            u128::MAX - 1,
            u128::MAX,
        ];
        for n in numbers {
            for len in [1, 6, 9, 11, 12, 13, 24, 25, 26] {
                assert_eq!(base36_fixed(n, len), digit_by_digit(n, len), "{n} in {len}");
            }
        }
        assert_eq!(base36_fixed(35, 3), "00z");
        assert_eq!(base36_fixed(36 * 36, 3), "100");
    }

    #[test]
    fn generated_keys_are_34_lowercase_alphanumerics_carrying_their_time() {
        for (millis, bytes) in [
            (0, [0u8; 16]),
            (1_795_000_000_000, [0xff; 16]),
            (7, [0x5a; 16]),
        ] {
            let key = SecretKey::generate(millis, bytes);
            assert_eq!(key.expose().len(), 34);
            assert!(key.expose().bytes().all(|b| KEY_ALPHABET.contains(&b)));
            let parsed = SecretKey::parse(key.expose()).expect("parses");
            assert_eq!(parsed, key);
            assert_eq!(parsed.created_millis(), Some(millis));
        }
        // Keys of other shapes (an older burnbox's 25 characters) carry no time.
        let old = SecretKey::parse("0123456789abcdefghijklmno").expect("parses");
        assert_eq!(old.created_millis(), None);
    }

    #[test]
    fn distinct_bytes_give_distinct_keys() {
        let a = ReceiptKey::generate(5, [1; 16]);
        let b = ReceiptKey::generate(5, [2; 16]);
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_keys_are_refused() {
        for raw in [
            "",
            "abc-def",
            "abc def",
            "ключ",
            "a/b",
            &"a".repeat(65),
            "abc%00",
        ] {
            assert_eq!(
                SecretKey::parse(raw),
                Err(DomainError::InvalidKey),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = SecretKey::parse("supersecretkey123").expect("valid key");
        assert!(!format!("{key:?}").contains("supersecret"));
    }

    proptest::proptest! {
        /// Any string parses to a key of 1 to 64 letters and digits, or is refused; never a
        /// panic.
        #[test]
        fn any_string_is_a_key_or_refused(raw in "\\PC{0,80}") {
            if AnyKey::parse(&raw).is_ok() {
                proptest::prop_assert!(!raw.is_empty() && raw.len() <= 64);
                proptest::prop_assert!(raw.chars().all(|c| c.is_ascii_alphanumeric()));
            }
            let _ = SecretKey::parse(&raw);
            let _ = ReceiptKey::parse(&raw);
        }
    }
}
