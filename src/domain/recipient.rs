//! Recipient e-mail addresses, kept only in obscured form (`a***@example.com`).

use super::DomainError;

/// Most recipients accepted on one secret.
pub const MAX_RECIPIENTS: usize = 10;

/// Most characters of an address's local part (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;
/// Labels of an address's domain: at least two (`example.com`), at most five.
const DOMAIN_LABELS: std::ops::RangeInclusive<usize> = 2..=5;
/// Most characters of one domain label; with the bounds above an address stays under the 254
/// characters RFC 5321 allows.
const MAX_LABEL_LEN: usize = 36;
/// The characters between recipients: any run of spaces, commas and semicolons.
const SEPARATORS: [char; 3] = [' ', ',', ';'];

/// The special characters RFC 5322 allows in an unquoted local part (`dot-atom`).
const LOCAL_SPECIALS: &str = ".!#$%&'*+/=?^_`{|}~-";

fn local_part_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c)
}

fn label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Whether `address` is `local@domain` as burnbox accepts recipients: an ASCII local part of 1 to
/// 64 `dot-atom` characters, and a domain of two to five labels of 1 to 36 letters, digits or
/// hyphens. [`RECIPIENTS_PATTERN`] says the same to API clients.
fn is_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    (1..=MAX_LOCAL_LEN).contains(&local.len())
        && local.chars().all(local_part_char)
        && DOMAIN_LABELS.contains(&labels.len())
        && labels.iter().all(|label| {
            (1..=MAX_LABEL_LEN).contains(&label.len()) && label.chars().all(label_char)
        })
}

/// One address as [`is_address`] accepts it, as a regular expression.
macro_rules! address_pattern {
    () => {
        "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,36}(?:\\.[A-Za-z0-9-]{1,36}){1,4}"
    };
}

/// The regular expression (ECMA 262, ASCII only) of a whole recipient list as
/// [`obscure_list`] accepts it: up to [`MAX_RECIPIENTS`] addresses between separators.
pub const RECIPIENTS_PATTERN: &str = concat!(
    "^[ ,;]*(?:",
    address_pattern!(),
    "(?:[ ,;]+",
    address_pattern!(),
    "){0,9})?[ ,;]*$"
);

/// Obscures one address: the first character of the local part, then `***`, then the domain.
///
/// # Errors
/// [`DomainError::InvalidRecipient`] when it is not an address as [`is_address`] describes.
pub fn obscure_email(address: &str) -> Result<String, DomainError> {
    if !is_address(address) {
        return Err(DomainError::InvalidRecipient);
    }
    let (local, domain) = address
        .split_once('@')
        .ok_or(DomainError::InvalidRecipient)?;
    let first: String = local.chars().take(1).collect();
    Ok(format!("{first}***@{}", domain.to_ascii_lowercase()))
}

/// Obscures a list of addresses separated by spaces, commas or semicolons.
///
/// # Errors
/// [`DomainError::InvalidRecipient`] for a malformed address or more than [`MAX_RECIPIENTS`].
pub fn obscure_list(raw: &str) -> Result<Vec<String>, DomainError> {
    let list: Vec<String> = raw
        .split(SEPARATORS)
        .filter(|part| !part.is_empty())
        .map(obscure_email)
        .collect::<Result<_, _>>()?;
    if list.len() > MAX_RECIPIENTS {
        return Err(DomainError::InvalidRecipient);
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_obscured() {
        assert_eq!(
            obscure_email("alice@example.com").as_deref(),
            Ok("a***@example.com")
        );
        assert_eq!(
            obscure_list("bob@x.org, carol@y.net").as_deref(),
            Ok(&["b***@x.org".to_owned(), "c***@y.net".to_owned()][..])
        );
        assert_eq!(obscure_list("").map(|l| l.len()), Ok(0));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@b@c.com",
            "a\u{1c}@example.com",
            "\u{e9}@example.com",
            "alice@example..com",
            "alice@a.b.c.d.e.f",
        ] {
            assert_eq!(
                obscure_email(bad),
                Err(DomainError::InvalidRecipient),
                "{bad}"
            );
        }
    }

    /// The pattern API clients read and the check the server makes agree on every list.
    #[test]
    fn the_published_pattern_is_the_check() {
        let regex = regex::Regex::new(RECIPIENTS_PATTERN).expect("the pattern compiles");
        let eleven = ["a@b.co"; 11].join(",");
        for list in [
            "",
            " ,; ",
            "alice@example.com",
            "Bob.O'Neil+x@mail.example.co.uk, carol@y.net;dave@z.org",
            "a@b",
            "a b@example.com",
            "alice@example.com\t",
            "\u{e9}@example.com",
            "alice@a.b.c.d.e.f",
            &eleven,
            &["a@b.co"; 10].join(" "),
            &format!("{}@example.com", "x".repeat(65)),
            &format!("a@{}.com", "x".repeat(37)),
        ] {
            assert_eq!(regex.is_match(list), obscure_list(list).is_ok(), "{list:?}");
        }
    }
}
