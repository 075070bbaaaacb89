//! The OpenAPI document as served and committed: poem-openapi's, plus what its attributes cannot
//! say. Each create response links to the operations its keys open (OpenAPI links), so clients
//! and API fuzzers can follow a secret from create to status, view and burn; an optional field of
//! a request body may be `null` (read as absent), and the receipt fields Onetime Secret sends as
//! `null` in its lists say so; a multipart body takes only the parts it lists; a body none of
//! whose fields is required may be left out (the server reads no body as an empty one); a field
//! of an enum type refers to the enum itself, not through the `allOf` wrapper poem-openapi writes
//! to attach the field's description (generators cannot take `allOf` of a non-object).

mod error_codes;
mod examples;
mod links;

use std::sync::OnceLock;

use serde_json::{Value, json};

use links::{LINKED_OPERATIONS, links_object};

/// Response fields that Onetime Secret sends as `null` in some answers (its recent lists).
const NULLABLE_RESPONSE_FIELDS: &[(&str, &str)] = &[
    ("ReceiptObject", "secret_key"),
    ("ReceiptObject", "secret_identifier"),
];

/// Every `(media type, component schema)` an operation's request body refers to, with the
/// pointer to that reference.
fn request_body_refs(document: &Value) -> Vec<(String, String, String)> {
    let mut refs = Vec::new();
    let Some(paths) = document["paths"].as_object() else {
        return refs;
    };
    for (path, operations) in paths {
        let Some(operations) = operations.as_object() else {
            continue;
        };
        for (method, operation) in operations {
            let Some(content) = operation["requestBody"]["content"].as_object() else {
                continue;
            };
            for (media, body) in content {
                if let Some(name) = body["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    let pointer = format!(
                        "/paths/{}/{method}/requestBody/content/{}/schema/$ref",
                        escape(path),
                        escape(media)
                    );
                    refs.push((media.clone(), name.to_owned(), pointer));
                }
            }
        }
    }
    refs
}

fn is_json(media: &str) -> bool {
    media.starts_with("application/json")
}

/// Marks every optional property of component `schema` nullable.
fn make_optional_nullable(document: &mut Value, schema: &str) {
    let component = &document["components"]["schemas"][schema];
    let required: Vec<&str> = component["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let optional: Vec<String> = component["properties"]
        .as_object()
        .into_iter()
        .flat_map(|properties| properties.keys())
        .filter(|name| !required.contains(&name.as_str()))
        .cloned()
        .collect();
    for property in optional {
        make_nullable(document, schema, &property);
    }
}

/// A JSON body reads `null` in an optional field as absent; a form cannot send `null` (its
/// "null" is text). A schema only JSON bodies use is made nullable in place; one forms use too
/// gets a JSON copy, `<name>Json`, that the JSON bodies refer to instead.
fn nullable_json_bodies(document: &mut Value) {
    let refs = request_body_refs(document);
    let mut names: Vec<&String> = refs.iter().map(|(_, name, _)| name).collect();
    names.sort();
    names.dedup();
    for name in names {
        let uses = refs.iter().filter(|(_, n, _)| n == name);
        let in_json = uses.clone().any(|(media, _, _)| is_json(media));
        let in_form = uses.clone().any(|(media, _, _)| !is_json(media));
        if !in_json {
            continue;
        }
        if !in_form {
            make_optional_nullable(document, name);
            continue;
        }
        let copy_name = format!("{name}Json");
        let mut copy = document["components"]["schemas"][name].clone();
        if let Some(title) = copy.get_mut("title") {
            *title = Value::String(copy_name.clone());
        }
        if let Some(schemas) = document["components"]["schemas"].as_object_mut() {
            schemas.insert(copy_name.clone(), copy);
        }
        make_optional_nullable(document, &copy_name);
        for (_, _, pointer) in uses.filter(|(media, _, _)| is_json(media)) {
            if let Some(reference) = document.pointer_mut(pointer) {
                *reference = Value::String(format!("#/components/schemas/{copy_name}"));
            }
        }
    }
}

/// Every operation of the document, to change in place.
fn operations_mut(document: &mut Value) -> impl Iterator<Item = &mut Value> {
    document["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
}

/// Every multipart body schema (inline or a component) says it takes no other part (the server
/// refuses one).
fn closed_multipart_bodies(document: &mut Value) {
    let mut components = Vec::new();
    for operation in operations_mut(document) {
        let Some(schema) = operation
            .pointer_mut("/requestBody/content/multipart~1form-data/schema")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            components.push(name.to_owned());
        } else if schema.contains_key("properties") {
            schema.insert("additionalProperties".to_owned(), Value::Bool(false));
        }
    }
    for name in components {
        if let Some(schema) = document["components"]["schemas"][&name].as_object_mut() {
            schema.insert("additionalProperties".to_owned(), Value::Bool(false));
        }
    }
}

/// The file form's rule that poem-openapi's schema cannot carry: a file encrypted end-to-end
/// takes no plaintext note (`encrypted` true with a non-empty `secret` is refused). Written as
/// `not`, which generators pass over and validators and fuzzers apply.
fn end_to_end_files_take_no_note(document: &mut Value) {
    let form = crate::api::native::FORM_SCHEMA;
    if let Some(schema) = document["components"]["schemas"][form].as_object_mut() {
        schema.insert(
            "not".to_owned(),
            json!({
                "required": ["encrypted", "secret"],
                "properties": {
                    "encrypted": {"type": "boolean", "enum": [true]},
                    "secret": {"type": "string", "minLength": 1},
                },
            }),
        );
    }
}

/// The quota headers are on the API's answers only: no quota applies to the probes outside `/api`.
fn probes_carry_no_quota_headers(document: &mut Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for response in paths
        .iter_mut()
        .filter(|(path, _)| !path.starts_with("/api/"))
        .filter_map(|(_, operations)| operations.as_object_mut())
        .flat_map(|operations| operations.values_mut())
        .filter_map(|operation| operation.get_mut("responses"))
        .filter_map(Value::as_object_mut)
        .flat_map(|responses| responses.values_mut())
    {
        if let Some(headers) = response.get_mut("headers").and_then(Value::as_object_mut) {
            headers.retain(|name, _| !name.to_ascii_lowercase().starts_with("x-ratelimit-"));
        }
    }
}

/// A request body none of whose media types requires a field is optional.
fn optional_bodies_without_required_fields(document: &mut Value) {
    let schemas = document["components"]["schemas"].clone();
    let requires_a_field = |schema: &Value| {
        let resolved = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map_or(schema, |name| &schemas[name]);
        resolved["required"]
            .as_array()
            .is_some_and(|required| !required.is_empty())
    };
    for operation in operations_mut(document) {
        let Some(body) = operation
            .get_mut("requestBody")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let optional = body["content"].as_object().is_some_and(|content| {
            !content
                .values()
                .any(|media| requires_a_field(&media["schema"]))
        });
        if optional {
            body.insert("required".to_owned(), Value::Bool(false));
        }
    }
}

/// Every component property written `allOf: [{$ref: <an enum>}, {description}]` becomes the plain
/// reference.
fn plain_enum_references(document: &mut Value) {
    let schemas = document["components"]["schemas"].clone();
    let is_enum = |reference: &str| {
        reference
            .strip_prefix("#/components/schemas/")
            .is_some_and(|name| schemas[name].get("enum").is_some())
    };
    let Some(components) = document["components"]["schemas"].as_object_mut() else {
        return;
    };
    for property in components
        .values_mut()
        .filter_map(|schema| schema.get_mut("properties"))
        .filter_map(Value::as_object_mut)
        .flat_map(|properties| properties.values_mut())
    {
        let reference = property["allOf"]
            .as_array()
            .and_then(|parts| parts.iter().find_map(|part| part["$ref"].as_str()))
            .filter(|reference| is_enum(reference))
            .map(str::to_owned);
        if let Some(reference) = reference {
            *property = json!({ "$ref": reference });
        }
    }
}

/// Marks `property` of component schema `schema` as nullable.
fn make_nullable(document: &mut Value, schema: &str, property: &str) {
    if let Some(field) = document
        .pointer_mut(&format!(
            "/components/schemas/{schema}/properties/{property}"
        ))
        .and_then(Value::as_object_mut)
    {
        field.insert("nullable".to_owned(), Value::Bool(true));
    }
}

/// poem-openapi's document with the links and the nullable fields added.
fn build() -> Value {
    // poem-openapi writes the document it builds itself; it is JSON by construction.
    let mut document: Value =
        serde_json::from_str(&super::openapi().spec()).unwrap_or_else(|_| json!({}));
    for (path, method, links) in LINKED_OPERATIONS {
        if let Some(ok) = document
            .pointer_mut(&format!("/paths/{}/{method}/responses/200", escape(path)))
            .and_then(Value::as_object_mut)
        {
            ok.insert("links".to_owned(), links_object(links));
        }
    }
    nullable_json_bodies(&mut document);
    closed_multipart_bodies(&mut document);
    optional_bodies_without_required_fields(&mut document);
    plain_enum_references(&mut document);
    end_to_end_files_take_no_note(&mut document);
    probes_carry_no_quota_headers(&mut document);
    error_codes::describe_error_codes(&mut document);
    examples::fill_examples(&mut document);
    for (schema, property) in NULLABLE_RESPONSE_FIELDS {
        make_nullable(&mut document, schema, property);
    }
    document
}

/// `path` as one JSON pointer segment (RFC 6901).
fn escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

/// The document, built once.
fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

/// The document as JSON, exactly as `/openapi.json` serves it.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_string_pretty(document()).unwrap_or_default())
}

/// The document as YAML, exactly as `/openapi.yaml` serves it.
pub fn yaml() -> &'static str {
    static YAML: OnceLock<String> = OnceLock::new();
    YAML.get_or_init(|| serde_yaml::to_string(document()).unwrap_or_default())
}

/// The Swagger UI page, showing this document.
pub fn swagger_ui_html() -> String {
    let api = super::openapi();
    api.swagger_ui_html().replacen(&api.spec(), json(), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_leads_to_an_operation_with_a_key() {
        let operations: Vec<&Value> = document()["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|ops| ops.as_object().expect("operations").values())
            .collect();
        let mut links = 0;
        for (path, method, expected) in LINKED_OPERATIONS {
            let found = &document()["paths"][path][method]["responses"]["200"]["links"];
            assert_eq!(found.as_object().map(|l| l.len()), Some(expected.len()));
            for link in expected.iter() {
                let target = operations
                    .iter()
                    .find(|op| op["operationId"] == link.operation_id)
                    .unwrap_or_else(|| panic!("no operation {}", link.operation_id));
                let params = target["parameters"].as_array().expect("parameters");
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == "key" && p["in"] == "path")
                );
                links += 1;
            }
        }
        assert_eq!(links, 4 + 3 * 10);
    }

    #[test]
    fn optional_fields_of_json_bodies_may_be_null_and_of_forms_not() {
        let schemas = &document()["components"]["schemas"];
        let create = &schemas["CreateSecretRequest"]["properties"];
        assert_eq!(create["passphrase"]["nullable"], true);
        assert_eq!(
            create["secret"]["nullable"],
            Value::Null,
            "required stays non-null"
        );
        assert_eq!(
            schemas["ShareParams"]["properties"]["ttl"]["nullable"],
            Value::Null
        );
        assert_eq!(
            schemas["ShareParamsJson"]["properties"]["ttl"]["nullable"],
            true
        );
        let share = &document()["paths"]["/api/v1/share"]["post"]["requestBody"]["content"];
        for (media, body) in share.as_object().expect("media types") {
            let expected = if is_json(media) {
                "ShareParamsJson"
            } else {
                "ShareParams"
            };
            assert_eq!(
                body["schema"]["$ref"],
                format!("#/components/schemas/{expected}")
            );
        }
    }

    #[test]
    fn a_body_without_required_fields_may_be_left_out() {
        let paths = &document()["paths"];
        let required = |path: &str| paths[path]["post"]["requestBody"]["required"].clone();
        assert_eq!(required("/api/v1/generate"), false);
        assert_eq!(required("/api/v1/secret/{key}"), false);
        assert_eq!(required("/api/v1/share"), true);
        assert_eq!(required("/api/secrets"), true);
    }

    #[test]
    fn enum_fields_refer_to_their_enum_plainly() {
        let schemas = &document()["components"]["schemas"];
        assert_eq!(
            schemas["ErrorBody"]["properties"]["code"],
            json!({"$ref": "#/components/schemas/ErrorCode"})
        );
        assert_eq!(
            schemas["SecretStatusResponse"]["properties"]["state"],
            json!({"$ref": "#/components/schemas/SecretStateName"})
        );
        // An object field keeps its description through `allOf`.
        assert!(schemas["CreateSecretResponse"]["properties"]["metadata"]["allOf"].is_array());
    }

    #[test]
    fn the_file_form_takes_only_its_parts() {
        let body = &document()["paths"]["/api/secrets"]["post"]["requestBody"]["content"]["multipart/form-data"]
            ["schema"];
        assert_eq!(
            body["$ref"],
            format!("#/components/schemas/{}", crate::api::native::FORM_SCHEMA)
        );
        let form = &document()["components"]["schemas"][crate::api::native::FORM_SCHEMA];
        assert_eq!(form["additionalProperties"], false);
        assert_eq!(form["not"]["required"], json!(["encrypted", "secret"]));
    }

    #[test]
    fn only_the_api_documents_quota_headers() {
        let headers = |path: &str, method: &str| {
            let headers = &document()["paths"][path][method]["responses"]["200"]["headers"];
            let mut names: Vec<String> = headers
                .as_object()
                .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
                .unwrap_or_default();
            names.sort();
            names
        };
        assert_eq!(headers("/healthz", "get"), ["x-request-id"]);
        assert!(
            headers("/api/secrets", "post").contains(&"x-ratelimit-remaining".to_owned()),
            "{:?}",
            headers("/api/secrets", "post")
        );
    }

    #[test]
    fn the_swagger_page_embeds_the_served_document() {
        assert!(swagger_ui_html().contains(json()));
    }
}
