//! The length of a generated password (Onetime Secret's `generate`), checked where it arrives.

use super::DomainError;

/// A generated password's length, within [`PasswordLength::MIN`]..=[`PasswordLength::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordLength(usize);

impl PasswordLength {
    /// Shortest password generated.
    pub const MIN: usize = 4;
    /// Longest password generated.
    pub const MAX: usize = 128;
    /// The length when none is asked for.
    pub const DEFAULT: Self = Self(12);

    /// `length` when it is in range.
    ///
    /// # Errors
    /// [`DomainError::InvalidLength`] naming the range.
    pub fn parse(length: i64) -> Result<Self, DomainError> {
        usize::try_from(length)
            .ok()
            .filter(|length| (Self::MIN..=Self::MAX).contains(length))
            .map(Self)
            .ok_or(DomainError::InvalidLength {
                min: Self::MIN,
                max: Self::MAX,
            })
    }

    /// The number of characters.
    pub fn get(self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_outside_the_range_are_refused() {
        assert_eq!(PasswordLength::parse(4).map(PasswordLength::get), Ok(4));
        assert_eq!(PasswordLength::parse(128).map(PasswordLength::get), Ok(128));
        for bad in [-1, 0, 3, 129, i64::MAX] {
            assert!(PasswordLength::parse(bad).is_err(), "{bad}");
        }
    }
}
