//! The committed OpenAPI documents match the code, are unambiguous, and the server serves them.

use std::collections::HashSet;
use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

fn committed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("openapi")
        .join(name)
}

/// Compares a committed document with the generated one; `BURNBOX_UPDATE_OPENAPI=1` rewrites it.
fn check(name: &str, generated: &str) {
    let path = committed(name);
    if std::env::var_os("BURNBOX_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, generated).expect("write spec");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "openapi/{name} is stale: run `BURNBOX_UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
}

#[test]
fn committed_documents_match_the_code() {
    check("burnbox.json", &burnbox::api::spec_json());
    check("burnbox.yaml", &burnbox::api::spec_yaml());
}

#[test]
fn paths_and_operation_ids_are_unambiguous() {
    let spec: Value = serde_json::from_str(&burnbox::api::spec_json()).expect("json");
    let paths = spec["paths"].as_object().expect("paths");
    // Templates that differ only in parameter names are the same path to OpenAPI tools.
    let mut shapes = HashSet::new();
    let mut operation_ids = HashSet::new();
    for (path, operations) in paths {
        let shape: Vec<&str> = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "{}"
                } else {
                    segment
                }
            })
            .collect();
        assert!(
            shapes.insert(shape.join("/")),
            "{path} duplicates another template"
        );
        for (method, operation) in operations.as_object().expect("operations") {
            let expected = if path.starts_with("/api/v1/") {
                "OnetimeSecretV1"
            } else if path.starts_with("/api/") {
                "Secrets"
            } else {
                "Health"
            };
            assert_eq!(
                operation["tags"],
                serde_json::json!([expected]),
                "{method} {path}"
            );
            if let Some(id) = operation["operationId"].as_str() {
                assert!(
                    operation_ids.insert(id.to_owned()),
                    "operationId {id} repeated"
                );
            }
        }
    }
    assert!(paths.contains_key("/api/secrets") && paths.contains_key("/api/secrets/{key}"));
    assert!(
        paths.contains_key("/api/v1/share") && paths.contains_key("/api/v1/private/{key}/burn")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_serves_the_documents_and_swagger_ui() {
    let app = spawn_app().await;
    let served: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let generated: Value = serde_json::from_str(&burnbox::api::spec_json()).expect("json");
    assert_eq!(served, generated);
    let yaml = app
        .client
        .get(format!("{}/openapi.yaml", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(yaml.status(), StatusCode::OK);
    let docs = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.expect("html").contains("swagger"));
}
