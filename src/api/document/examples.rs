//! An example for every parameter, request body and response of the document, so Swagger UI's
//! "Try it out" starts from a request that works, generated clients carry them in their doc
//! comments, and an API fuzzer's examples phase covers every operation. Bodies take the example of
//! their schema (the Rust types' `Example`, serialized as the server serializes them); what has no
//! schema example of its own is given one here.

use serde_json::{Value, json};

use super::error_codes::{ERROR_BODY_SCHEMA, error_body_example};

/// A key in the shape both dialects take (the Onetime Secret dialect's keys are 20 or more
/// characters).
const EXAMPLE_KEY: &str = "3nzq8jw1c4x7p0m2v5b9k6hde";

/// The example of a parameter, by name.
fn parameter_example(name: &str) -> Option<Value> {
    Some(match name {
        "key" => json!(EXAMPLE_KEY),
        "passphrase" => json!("correct horse battery staple"),
        "ttl" => json!(3600),
        "length" => json!(16),
        "recipient" => json!("alice@example.com"),
        _ => return None,
    })
}

/// The component schema `schema` refers to, or `schema` itself.
fn resolve<'a>(schemas: &'a Value, schema: &'a Value) -> &'a Value {
    schema["$ref"]
        .as_str()
        .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
        .map_or(schema, |name| &schemas[name])
}

fn has_example(value: &Value) -> bool {
    value.get("example").is_some() || value.get("examples").is_some()
}

/// The example a media type or parameter has through its schema, if any.
fn schema_example(schemas: &Value, schema: &Value) -> Option<Value> {
    let resolved = resolve(schemas, schema);
    if let Some(example) = resolved.get("example") {
        return Some(example.clone());
    }
    if resolved["type"] == "array" {
        return schema_example(schemas, &resolved["items"]).map(|item| json!([item]));
    }
    if resolved["format"] == "binary" {
        return Some(json!("(the file's bytes)"));
    }
    resolved["enum"].get(0).cloned()
}

/// Every media type of an operation's request body and responses, with the response's status.
fn media_types(operation: &mut Value) -> Vec<(Option<u16>, &mut Value)> {
    let Some(operation) = operation.as_object_mut() else {
        return Vec::new();
    };
    let mut holders = Vec::new();
    for (field, value) in operation.iter_mut() {
        match field.as_str() {
            "requestBody" => holders.push((None, value)),
            "responses" => holders.extend(
                value
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|responses| responses.iter_mut())
                    .map(|(status, response)| (status.parse().ok(), response)),
            ),
            _ => {}
        }
    }
    holders
        .into_iter()
        .filter_map(|(status, holder)| {
            let content = holder.get_mut("content").and_then(Value::as_object_mut)?;
            Some(content.values_mut().map(move |media| (status, media)))
        })
        .flatten()
        .collect()
}

/// The example of a media type that has none: an error body's shows the code its status stands
/// for; another's is its schema's (nothing is added then), one item of a list, or a placeholder
/// for bytes.
fn media_example(schemas: &Value, status: Option<u16>, media: &Value) -> Option<Value> {
    let error_body = format!("#/components/schemas/{ERROR_BODY_SCHEMA}");
    if let Some(status) = status
        && media["schema"]["$ref"] == error_body.as_str()
    {
        return error_body_example(status);
    }
    if has_example(resolve(schemas, &media["schema"])) {
        return None;
    }
    schema_example(schemas, &media["schema"])
}

/// Gives each parameter and media type without an example one: its schema's, or the table's.
pub(super) fn fill_examples(document: &mut Value) {
    let schemas = document["components"]["schemas"].clone();
    for schema in document["components"]["schemas"]
        .as_object_mut()
        .into_iter()
        .flat_map(|schemas| schemas.values_mut())
    {
        if !has_example(schema)
            && let Some(first) = schema["enum"].get(0).cloned()
        {
            schema["example"] = first;
        }
    }
    for operation in super::operations_mut(document) {
        for parameter in operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if !has_example(parameter)
                && let Some(example) = parameter["name"].as_str().and_then(parameter_example)
            {
                parameter["example"] = example;
            }
        }
        for (status, media) in media_types(operation) {
            if !has_example(media)
                && let Some(example) = media_example(&schemas, status, media)
            {
                media["example"] = example;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `METHOD path: where` for everything of the document without an example.
    fn missing(document: &Value) -> Vec<String> {
        let schemas = &document["components"]["schemas"];
        let mut missing = Vec::new();
        for (path, operations) in document["paths"].as_object().expect("paths") {
            for (method, operation) in operations.as_object().expect("operations") {
                let mut operation = operation.clone();
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    if !has_example(parameter) {
                        missing.push(format!("{method} {path}: {}", parameter["name"]));
                    }
                }
                for (_, media) in media_types(&mut operation) {
                    let through_schema = has_example(resolve(schemas, &media["schema"]));
                    if !has_example(media) && !through_schema {
                        missing.push(format!("{method} {path}: {}", media["schema"]));
                    }
                }
            }
        }
        missing
    }

    #[test]
    fn every_parameter_body_and_response_has_an_example() {
        let document = super::super::document();
        assert_eq!(missing(document), Vec::<String>::new());
        let create = &document["paths"]["/api/secrets"]["post"];
        let form = resolve(
            &document["components"]["schemas"],
            &create["requestBody"]["content"]["multipart/form-data"]["schema"],
        );
        assert_eq!(form["example"]["maxViews"], 2);
        assert_eq!(
            document["paths"]["/api/secrets/{key}"]["get"]["parameters"][0]["example"],
            EXAMPLE_KEY
        );
    }

    #[test]
    fn an_error_answer_shows_the_code_of_its_status() {
        let document = super::super::document();
        let view = &document["paths"]["/api/secrets/{key}"]["post"]["responses"];
        let code = |status: &str| {
            view[status]["content"]
                .as_object()
                .and_then(|content| content.values().next())
                .map(|media| media["example"]["code"].clone())
        };
        assert_eq!(code("404"), Some(json!("NOT_FOUND")));
        assert_eq!(code("429"), Some(json!("RATE_LIMIT_EXCEEDED")));
        assert_eq!(code("410"), Some(json!("SECRET_BURNED")));
    }

    #[test]
    fn a_list_answer_shows_one_item() {
        let document = super::super::document();
        let list =
            &document["paths"]["/api/v1/private/recent"]["get"]["responses"]["200"]["content"];
        let example = list
            .as_object()
            .and_then(|content| content.values().next())
            .map(|media| media["example"].clone());
        assert_eq!(
            example.and_then(|e| e.as_array().map(Vec::len)),
            Some(1),
            "{list}"
        );
    }
}
