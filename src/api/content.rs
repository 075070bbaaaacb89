//! A secret's content on the wire of `/api/secrets`: the text itself, or `{ciphertext, iv}` that
//! the sender's client encrypted with a key the server never sees (`docs/end-to-end.md`).

use std::borrow::Cow;

use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// Content encrypted in the sender's client: AES-256-GCM under a key carried only in the
/// link's fragment (`#key=…`), as `docs/end-to-end.md` specifies.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(example)]
pub struct EncryptedSecret {
    /// The ciphertext followed by its 16-byte tag, standard base64 (padded, canonical).
    #[oai(validator(
        min_length = 24,
        pattern = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"
    ))]
    pub ciphertext: String,
    /// The 12-byte nonce, standard base64.
    #[oai(validator(pattern = "^[A-Za-z0-9+/]{16}$"))]
    pub iv: String,
}

impl poem_openapi::types::Example for EncryptedSecret {
    fn example() -> Self {
        Self {
            ciphertext: "3q2+7wYx0QmZ1pFZb5S0k8oQmF1yb2tlbiBleGFtcGxl".into(),
            iv: "AAECAwQFBgcICQoL".into(),
        }
    }
}

/// `secret`: a non-empty string, or an [`EncryptedSecret`]. A missing or empty one still parses,
/// so the dialect answers with its own "missing secret" error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SecretContent {
    /// Absent, null or empty.
    #[default]
    Missing,
    /// Plaintext, which the server seals.
    Text(String),
    /// Encrypted by the sender's client.
    Encrypted(EncryptedSecret),
}

impl Type for SecretContent {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SecretContent")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            one_of: vec![
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    min_length: Some(1),
                    ..MetaSchema::new("string")
                })),
                EncryptedSecret::schema_ref(),
            ],
            ..MetaSchema::ANY
        }))
    }

    fn register(registry: &mut Registry) {
        EncryptedSecret::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromJSON for SecretContent {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(Self::Missing),
            Some(Value::String(text)) if text.is_empty() => Ok(Self::Missing),
            Some(Value::String(text)) => Ok(Self::Text(text)),
            Some(object @ Value::Object(_)) => EncryptedSecret::parse_from_json(Some(object))
                .map(Self::Encrypted)
                .map_err(ParseError::propagate),
            Some(other) => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for SecretContent {
    fn to_json(&self) -> Option<Value> {
        match self {
            Self::Missing => None,
            Self::Text(text) => Some(Value::String(text.clone())),
            Self::Encrypted(encrypted) => encrypted.to_json(),
        }
    }
}

impl SecretContent {
    /// The content to return for a revealed secret: its text, or for an end-to-end one the
    /// object it was stored as (its kept JSON), as sent.
    pub fn revealed(text: &str, end_to_end: bool) -> Self {
        if end_to_end
            && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text)
            && let (Some(Value::String(ciphertext)), Some(Value::String(iv))) =
                (map.get("ciphertext"), map.get("iv"))
        {
            return Self::Encrypted(EncryptedSecret {
                ciphertext: ciphertext.clone(),
                iv: iv.clone(),
            });
        }
        Self::Text(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::SecretText;

    /// A pattern of the served document's `EncryptedSecret`.
    fn pattern(field: &str) -> regex::Regex {
        let document: serde_json::Value =
            serde_json::from_str(crate::api::document::json()).expect("JSON");
        let pattern =
            document["components"]["schemas"]["EncryptedSecret"]["properties"][field]["pattern"]
                .as_str()
                .expect("a pattern");
        regex::Regex::new(pattern).expect("the pattern compiles")
    }

    /// What the document promises clients is what the server accepts.
    #[test]
    fn the_documented_patterns_are_the_check() {
        let (ciphertext, iv) = (pattern("ciphertext"), pattern("iv"));
        let good_iv = "AAECAwQFBgcICQoL";
        for sample in [
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "AAAAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAB==",
            "AAAAAAAAAAAAAAAAAAAAAAB=",
            "AAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAA=A",
            "AAAAAAAAAAAAAAAAAAAA-_AA",
        ] {
            let documented = ciphertext.is_match(sample) && sample.len() >= 24;
            let accepted = SecretText::parse_encrypted(sample, good_iv, 1 << 20).is_ok();
            assert_eq!(documented, accepted, "ciphertext {sample:?}");
        }
        for sample in [
            good_iv,
            "AAECAwQFBgcICQo=",
            "AAECAwQFBgcICQoLDA==",
            "AAECAwQF",
        ] {
            let accepted =
                SecretText::parse_encrypted("AAAAAAAAAAAAAAAAAAAAAA==", sample, 1 << 20).is_ok();
            assert_eq!(iv.is_match(sample), accepted, "iv {sample:?}");
        }
    }
}
