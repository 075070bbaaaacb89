//! Recipient e-mail addresses, kept only in obscured form (`a***@example.com`).

use super::DomainError;

/// Most recipients accepted on one secret.
pub const MAX_RECIPIENTS: usize = 10;

/// Obscures one address: the first character of the local part, then `***`, then the domain.
///
/// # Errors
/// [`DomainError::InvalidRecipient`] when it does not look like an e-mail address.
pub fn obscure_email(raw: &str) -> Result<String, DomainError> {
    let raw = raw.trim();
    let (local, domain) = raw.split_once('@').ok_or(DomainError::InvalidRecipient)?;
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && raw.len() <= 254
        && !raw.contains(char::is_whitespace)
        && !domain.contains('@');
    if !valid {
        return Err(DomainError::InvalidRecipient);
    }
    let first: String = local.chars().take(1).collect();
    Ok(format!("{first}***@{domain}"))
}

/// Obscures a comma- or space-separated list of addresses.
///
/// # Errors
/// [`DomainError::InvalidRecipient`] for a malformed address or more than [`MAX_RECIPIENTS`].
pub fn obscure_list(raw: &str) -> Result<Vec<String>, DomainError> {
    let list: Vec<String> = raw
        .split([',', ' ', ';'])
        .filter(|part| !part.trim().is_empty())
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
        ] {
            assert_eq!(
                obscure_email(bad),
                Err(DomainError::InvalidRecipient),
                "{bad}"
            );
        }
    }
}
