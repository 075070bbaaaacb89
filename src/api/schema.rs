//! Wire types whose documented constraints (ranges, patterns, required fields) appear in the
//! OpenAPI document while the checking is left to the domain, so a refusal carries the dialect's
//! own error code instead of the framework's generic one.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An integer documented as `MIN..=MAX`; any integer parses, the domain decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundedInt<const MIN: i64, const MAX: i64>(pub i64);

impl<const MIN: i64, const MAX: i64> Type for BoundedInt<MIN, MAX> {
    const IS_REQUIRED: bool = true;
    type RawValueType = i64;
    type RawElementValueType = i64;

    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("integer_{MIN}_{MAX}"))
    }

    fn schema_ref() -> MetaSchemaRef {
        #[allow(
            clippy::cast_precision_loss,
            reason = "documented bounds are far below 2^53"
        )]
        let schema = MetaSchema {
            minimum: Some(MIN as f64),
            maximum: Some(MAX as f64),
            ..MetaSchema::new_with_format("integer", "int64")
        };
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&i64> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a i64> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

/// The integer a JSON number stands for: exact within `i64`, saturated beyond it (so the domain
/// refuses or clamps it as out of range), `None` for a fraction.
fn saturating_integer(number: &serde_json::Number) -> Option<i64> {
    if let Some(n) = number.as_i64() {
        return Some(n);
    }
    if number.as_u64().is_some() {
        return Some(i64::MAX);
    }
    let float = number.as_f64()?;
    #[allow(
        clippy::cast_possible_truncation,
        reason = "a float-to-integer `as` saturates, which is the point"
    )]
    (float.fract() == 0.0).then_some(float as i64)
}

impl<const MIN: i64, const MAX: i64> ParseFromJSON for BoundedInt<MIN, MAX> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            // A number beyond `i64` or with a fraction is a number out of the documented range,
            // not malformed JSON: the domain answers it with the field's own error.
            Some(Value::Number(number)) => {
                Ok(Self(saturating_integer(&number).unwrap_or(i64::MIN)))
            }
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl<const MIN: i64, const MAX: i64> ParseFromParameter for BoundedInt<MIN, MAX> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        value.parse().map(Self).map_err(ParseError::custom)
    }
}

impl<const MIN: i64, const MAX: i64> ToJSON for BoundedInt<MIN, MAX> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::from(self.0))
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for BoundedInt<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i64::deserialize(deserializer).map(Self)
    }
}

/// Seconds, as Onetime Secret clients send them: a JSON number (a fraction dropped) or a string of
/// digits between spaces (an empty one counting as none), and a value beyond `i64` saturated (the
/// caller's range clamps it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seconds(pub Option<i64>);

/// What a string of seconds may be, between spaces: nothing, or a decimal number (a fraction and
/// an exponent allowed, as number types print themselves).
const SECONDS_TEXT_PATTERN: &str =
    "^ *(?:[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)? *$";

impl Seconds {
    fn parse_text(text: &str) -> Result<Self, String> {
        let text = text.trim_matches(' ');
        if text.is_empty() {
            return Ok(Self(None));
        }
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Self(Some(n)));
        }
        let (negative, digits) = match text.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Self(Some(if negative { i64::MIN } else { i64::MAX })));
        }
        // A decimal number (Rust's float syntax also takes `inf` and `NaN`, which the character
        // check keeps out).
        let decimal = digits.bytes().any(|b| b.is_ascii_digit())
            && digits
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        match text.parse::<f64>() {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "a float-to-integer `as` saturates; a fraction of a second is dropped"
            )]
            Ok(float) if decimal => Ok(Self(Some(float as i64))),
            _ => Err("a number of seconds".to_owned()),
        }
    }
}

impl Type for Seconds {
    const IS_REQUIRED: bool = false;
    type RawValueType = i64;
    type RawElementValueType = i64;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("seconds")
    }

    fn schema_ref() -> MetaSchemaRef {
        // Any number: a fraction is dropped, and one beyond 64 bits is clamped to the caller's
        // range like any other.
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            any_of: vec![
                MetaSchemaRef::Inline(Box::new(MetaSchema::new("number"))),
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    pattern: Some(SECONDS_TEXT_PATTERN.to_owned()),
                    ..MetaSchema::new("string")
                })),
            ],
            ..MetaSchema::ANY
        }))
    }

    fn as_raw_value(&self) -> Option<&i64> {
        self.0.as_ref()
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a i64> + 'a> {
        Box::new(self.0.iter())
    }
}

impl ParseFromJSON for Seconds {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(Self(None)),
            Some(Value::Number(number)) => {
                let whole = saturating_integer(&number).or_else(|| {
                    #[allow(
                        clippy::cast_possible_truncation,
                        reason = "a float-to-integer `as` saturates; a fraction of a second is dropped"
                    )]
                    number.as_f64().map(|float| float as i64)
                });
                Ok(Self(whole))
            }
            Some(Value::String(text)) => Self::parse_text(&text).map_err(ParseError::custom),
            Some(other) => Err(ParseError::expected_type(other)),
        }
    }
}

impl ParseFromParameter for Seconds {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse_text(value).map_err(ParseError::custom)
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> ParseResult<Self> {
        match iter.into_iter().next() {
            Some(value) => Self::parse_from_parameter(value.as_ref()),
            None => Ok(Self(None)),
        }
    }
}

impl ToJSON for Seconds {
    fn to_json(&self) -> Option<Value> {
        self.0.map(Value::from)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        Self::parse_text(&text).map_err(serde::de::Error::custom)
    }
}

/// A string field that takes JSON strings only (poem-openapi's `String` would also take a number
/// or a boolean as its text), `null` or absence as none, and whose documented schema may say more
/// than the type (required, a minimum length, a pattern) while any string parses, so the dialect
/// refuses a bad one with its own error.
macro_rules! documented_text {
    ($(#[$doc:meta])* $name:ident, $type_name:literal, required: $required:literal, $schema:expr) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq)]
        pub struct $name(pub Option<String>);

        impl Type for $name {
            const IS_REQUIRED: bool = $required;
            type RawValueType = String;
            type RawElementValueType = String;

            fn name() -> Cow<'static, str> {
                Cow::Borrowed($type_name)
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new($schema))
            }

            fn as_raw_value(&self) -> Option<&String> {
                self.0.as_ref()
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
                Box::new(self.0.iter())
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value {
                    None | Some(Value::Null) => Ok(Self(None)),
                    Some(Value::String(text)) => Ok(Self(Some(text))),
                    Some(other) => Err(ParseError::expected_type(other)),
                }
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Ok(Self(Some(value.to_owned())))
            }

            fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
                iter: I,
            ) -> ParseResult<Self> {
                Ok(Self(iter.into_iter().next().map(|value| value.as_ref().to_owned())))
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                self.0.clone().map(Value::String)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Option::<String>::deserialize(deserializer).map(Self)
            }
        }
    };
}

documented_text!(
    /// Text documented as required and non-empty; a missing or empty one still parses, so the
    /// dialect can answer with its own "nothing to share" error.
    RequiredText,
    "string_required",
    required: true,
    MetaSchema {
        min_length: Some(1),
        ..MetaSchema::new("string")
    }
);

documented_text!(
    /// Optional text, such as a passphrase.
    Text,
    "string",
    required: false,
    MetaSchema::new("string")
);

documented_text!(
    /// Recipient addresses, documented with the exact pattern the domain checks
    /// ([`crate::domain::recipient::RECIPIENTS_PATTERN`]).
    Recipients,
    "recipients",
    required: false,
    MetaSchema {
        pattern: Some(crate::domain::recipient::RECIPIENTS_PATTERN.to_owned()),
        ..MetaSchema::new("string")
    }
);

/// A key in a URL path, documented as `MIN_LEN` to 64 ASCII letters and digits; any string parses
/// so that the dialect answers a malformed key in its own way.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyParam<const MIN_LEN: usize>(pub String);

impl<const MIN_LEN: usize> KeyParam<MIN_LEN> {
    /// The key as the path carried it, for the dialect to parse.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MIN_LEN: usize> Type for KeyParam<MIN_LEN> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("key_{MIN_LEN}"))
    }

    fn schema_ref() -> MetaSchemaRef {
        let schema = MetaSchema {
            pattern: Some(format!("^[0-9A-Za-z]{{{MIN_LEN},64}}$")),
            min_length: Some(MIN_LEN),
            max_length: Some(64),
            ..MetaSchema::new("string")
        };
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<const MIN_LEN: usize> ParseFromParameter for KeyParam<MIN_LEN> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(value.to_owned()))
    }
}

#[cfg(test)]
mod seconds_tests {
    use super::*;

    /// The documented pattern of seconds as text is what the parser takes.
    #[test]
    fn the_documented_pattern_is_the_parse() {
        let pattern = regex::Regex::new(SECONDS_TEXT_PATTERN).expect("compiles");
        for text in [
            "",
            "0",
            "3600",
            "+5",
            "-5",
            "-",
            "+",
            " 5",
            "5 ",
            " 3600 ",
            "\t5",
            "1.5",
            "1e3",
            "abc",
            "99999999999999999999999",
        ] {
            assert_eq!(
                pattern.is_match(text),
                Seconds::parse_text(text).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_json_fraction_of_a_second_is_dropped() {
        let parse = |v: Value| Seconds::parse_from_json(Some(v)).ok();
        assert_eq!(parse(serde_json::json!(2.5)), Some(Seconds(Some(2))));
        assert_eq!(parse(serde_json::json!(3600.0)), Some(Seconds(Some(3600))));
        assert_eq!(
            parse(serde_json::json!(1e30)),
            Some(Seconds(Some(i64::MAX)))
        );
        assert_eq!(parse(Value::Null), Some(Seconds(None)));
    }
}
