//! Onetime Secret's parameters are text: a form or query value whose percent-escapes decode to
//! bytes that are not UTF-8 is refused, where the form decoder would swap them for U+FFFD and
//! store (or compare, for a passphrase) something other than what the client sent.

use percent_encoding::percent_decode;

use super::OtsError;

/// Longest parameter name repeated back in an error.
const MAX_NAMED: usize = 64;

/// The `FormError` for the first parameter of `encoded` (a query string or form body) whose
/// name or value is not UTF-8 once decoded; `None` when all are text.
pub fn refuse_non_text(encoded: &[u8]) -> Option<OtsError> {
    encoded
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .find_map(|pair| {
            let mut halves = pair.splitn(2, |&b| b == b'=');
            let name = halves.next().unwrap_or_default();
            let value = halves.next().unwrap_or_default();
            let name = percent_decode(name).decode_utf8().ok();
            let value_is_text = percent_decode(value).decode_utf8().is_ok();
            match (name, value_is_text) {
                (Some(_), true) => None,
                (Some(name), false) if name.len() <= MAX_NAMED => Some(OtsError::form(
                    format!("'{name}' is not valid UTF-8 text"),
                    &name,
                )),
                (Some(_), false) => Some(OtsError::form(
                    "a parameter is not valid UTF-8 text",
                    "body",
                )),
                (None, _) => Some(OtsError::form(
                    "a parameter name is not valid UTF-8 text",
                    "body",
                )),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::dialect_error::DialectError;

    fn field(refused: OtsError) -> Option<String> {
        refused.into_body().field
    }

    #[test]
    fn text_passes_and_bytes_that_are_not_utf8_are_named() {
        for text in [
            &b""[..],
            b"secret=caf%C3%A9&ttl=3600",
            b"secret=a+b&&passphrase=",
            b"secret=%E2%9C%93",
            b"flag",
        ] {
            assert!(refuse_non_text(text).is_none(), "{text:?}");
        }
        let refused = refuse_non_text(b"ttl=60&passphrase=p%E4ss").expect("refused");
        assert_eq!(field(refused).as_deref(), Some("passphrase"));
        let refused = refuse_non_text(b"secret=caf%E9").expect("refused");
        assert_eq!(field(refused).as_deref(), Some("secret"));
        let refused = refuse_non_text(b"%FF=1").expect("refused");
        assert_eq!(field(refused).as_deref(), Some("body"));
    }
}
