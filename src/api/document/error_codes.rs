//! The meaning of each native error code, written into the `ErrorCode` schema: a list in its
//! description for readers and Swagger UI, and `x-enum-descriptions` (one per value, in order)
//! for the generators that turn it into doc comments on the enum's members.

use poem_openapi::types::ToJSON;
use serde_json::Value;

use crate::api::native::{ErrorBody, ErrorCode};

/// The component name of the native error body.
pub(super) const ERROR_BODY_SCHEMA: &str = "ErrorBody";

/// `CODE`: status, message and hint of every code the server sends, as one line each.
fn meanings() -> Vec<(String, String)> {
    ErrorCode::ALL
        .iter()
        .map(|code| {
            let name = code
                .to_json()
                .and_then(|name| name.as_str().map(str::to_owned))
                .unwrap_or_default();
            let (status, message, hint) = code.describe();
            (name, format!("{} ({}). {hint}", message, status.as_u16()))
        })
        .collect()
}

/// An error body with the first code answered with `status`, for that response's example.
pub(super) fn error_body_example(status: u16) -> Option<Value> {
    let code = ErrorCode::ALL
        .into_iter()
        .find(|code| code.describe().0.as_u16() == status)?;
    let (_, error, hint) = code.describe();
    let body = ErrorBody {
        error: error.to_owned(),
        code,
        hint: hint.to_owned(),
        request_id: "req_m4kbz6_mno345".to_owned(),
        tries_left: None,
    };
    body.to_json()
}

/// Describes every value of the `ErrorCode` schema.
pub(super) fn describe_error_codes(document: &mut Value) {
    let Some(schema) = document
        .pointer_mut("/components/schemas/ErrorCode")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let meanings = meanings();
    let listed: Vec<String> = schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let meaning_of = |name: &str| {
        meanings
            .iter()
            .find(|(code, _)| code == name)
            .map_or_else(String::new, |(_, meaning)| meaning.clone())
    };
    let mut description = String::from(
        "Machine-readable error codes: each with its short message, HTTP status, and what to do.\n",
    );
    for name in &listed {
        description.push_str(&format!("\n- `{name}`: {}", meaning_of(name)));
    }
    schema.insert("description".to_owned(), Value::String(description));
    schema.insert(
        "x-enum-descriptions".to_owned(),
        listed
            .iter()
            .map(|name| Value::String(meaning_of(name)))
            .collect(),
    );
    if let Some(first) = listed.first() {
        schema.insert("example".to_owned(), Value::String(first.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_has_a_meaning_and_every_code_is_listed() {
        let schema = &super::super::document()["components"]["schemas"]["ErrorCode"];
        let listed = schema["enum"].as_array().expect("an enum");
        let meanings = schema["x-enum-descriptions"].as_array().expect("meanings");
        assert_eq!(listed.len(), ErrorCode::ALL.len());
        assert_eq!(meanings.len(), listed.len());
        for (code, meaning) in listed.iter().zip(meanings) {
            let meaning = meaning.as_str().expect("text");
            assert!(meaning.len() > 20, "{code}: {meaning}");
            let line = format!("- `{}`: {meaning}", code.as_str().expect("a name"));
            assert!(
                schema["description"]
                    .as_str()
                    .is_some_and(|d| d.contains(&line))
            );
        }
        let not_found = listed.iter().position(|code| code == "NOT_FOUND");
        let meaning = not_found.map(|i| meanings[i].as_str().unwrap_or_default());
        assert!(meaning.is_some_and(|m| m.starts_with("Secret not found (404).")));
    }
}
