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

impl<const MIN: i64, const MAX: i64> ParseFromJSON for BoundedInt<MIN, MAX> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.as_ref().and_then(Value::as_i64) {
            Some(n) => Ok(Self(n)),
            None => Err(ParseError::expected_type(value.unwrap_or_default())),
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

/// A string documented as required and non-empty; a missing or empty one still parses, so the
/// dialect can answer with its own "missing secret" error.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RequiredText(pub Option<String>);

impl Type for RequiredText {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("string_required")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(1),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        self.0.as_ref()
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.0.iter())
    }
}

impl ParseFromJSON for RequiredText {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(Self(None)),
            Some(Value::String(text)) => Ok(Self(Some(text))),
            Some(other) => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for RequiredText {
    fn to_json(&self) -> Option<Value> {
        self.0.clone().map(Value::String)
    }
}

/// A key in a URL path, documented as `MIN_LEN` to 64 ASCII letters and digits; any string parses
/// so that the dialect answers a malformed key in its own way.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyParam<const MIN_LEN: usize>(pub String);

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
