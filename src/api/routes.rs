//! The table of every route burnbox serves, with the methods each takes and whether its `POST`
//! creates a secret: the metrics label a request is counted under and the `Allow` header of a 405
//! (RFC 9110 §15.5.6), both set by `request_id.rs`, and the body limit a request is held to
//! (`body_limit.rs`). A test holds the table to the OpenAPI document, so it cannot drift from the
//! handlers.

use std::sync::OnceLock;

use poem::Response;
use poem::http::{HeaderValue, StatusCode, header::ALLOW};

/// One route: its template (`{key}` stands for any one segment) and the methods it takes.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The path with `{key}` for its parameter, as metrics label it.
    pub template: &'static str,
    /// The methods the route answers, as `Allow` lists them (`HEAD` with every `GET`).
    pub allow: &'static str,
    /// Whether its `POST` creates a secret from the body (only those bodies may be large).
    pub creates: bool,
}

const fn route(template: &'static str, allow: &'static str) -> Route {
    Route {
        template,
        allow,
        creates: false,
    }
}

/// A route whose `POST` creates a secret.
const fn creating(template: &'static str) -> Route {
    Route {
        template,
        allow: POST,
        creates: true,
    }
}

const GET: &str = "GET, HEAD";
const POST: &str = "POST";

/// Every route: the API's (the OpenAPI paths) and the pages, assets and documents outside it.
pub const ROUTES: &[Route] = &[
    route("/", GET),
    creating("/api/secrets"),
    route("/api/secrets/{key}", "GET, HEAD, POST, DELETE"),
    route("/api/v1/authcheck", GET),
    creating("/api/v1/create"),
    route("/api/v1/generate", POST),
    route("/api/v1/metadata/recent", GET),
    route("/api/v1/metadata/{key}", "GET, HEAD, POST"),
    route("/api/v1/metadata/{key}/burn", POST),
    route("/api/v1/private/recent", GET),
    route("/api/v1/private/{key}", "GET, HEAD, POST"),
    route("/api/v1/private/{key}/burn", POST),
    route("/api/v1/receipt/recent", GET),
    route("/api/v1/receipt/{key}", "GET, HEAD, POST"),
    route("/api/v1/receipt/{key}/burn", POST),
    route("/api/v1/secret/{key}", POST),
    creating("/api/v1/share"),
    route("/api/v1/status", GET),
    route("/assets/{key}", GET),
    route("/docs", GET),
    route("/docs/{key}", GET),
    route("/favicon.ico", GET),
    route("/healthz", GET),
    route("/metrics", GET),
    route("/openapi.json", GET),
    route("/openapi.yaml", GET),
    route("/readyz", GET),
    route("/receipt/{key}", GET),
    route("/secret/{key}", GET),
];

/// The metrics label of every path that is none of burnbox's routes, so labels stay few whatever
/// paths clients send.
pub const UNMATCHED: &str = "/{unmatched}";

/// The literal segments of [`ROUTES`] (every segment but `{key}`), gathered once.
fn route_words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words: Vec<&'static str> = ROUTES
            .iter()
            .flat_map(|route| route.template.split('/'))
            .filter(|segment| !segment.is_empty() && *segment != "{key}")
            .collect();
        words.sort_unstable();
        words.dedup();
        words
    })
}

/// The route `path` is served by, if any. The words of burnbox's routes stay, anything else
/// (keys above all) stands for `{key}`, so a literal route wins over a parameter one.
pub fn find(path: &str) -> Option<&'static Route> {
    let words = route_words();
    let shape = path.split('/').filter(|s| !s.is_empty()).map(|segment| {
        if words.binary_search(&segment).is_ok() {
            segment
        } else {
            "{key}"
        }
    });
    ROUTES.iter().find(|route| {
        route
            .template
            .split('/')
            .filter(|s| !s.is_empty())
            .eq(shape.clone())
    })
}

/// Whether `path` is a route whose `POST` creates a secret (those routes have no parameter, so
/// the path is the template exactly).
pub fn creates(path: &str) -> bool {
    ROUTES
        .iter()
        .any(|route| route.creates && route.template == path)
}

/// Sets `Allow` on a 405 answer from `route`, so every 405 names the methods its path takes.
pub fn allow_on_405(response: &mut Response, route: Option<&Route>) {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(route) = route
    {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(route.allow));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The label a path is counted under.
    fn template(path: &str) -> &'static str {
        find(path).map_or(UNMATCHED, |route| route.template)
    }

    #[test]
    fn paths_map_to_their_templates() {
        assert_eq!(
            template("/api/secrets/0123456789abcdefghij"),
            "/api/secrets/{key}"
        );
        assert_eq!(
            template("/api/v1/private/0123456789abcdefghij/burn"),
            "/api/v1/private/{key}/burn"
        );
        assert_eq!(template("/api/v1/private/recent"), "/api/v1/private/recent");
        assert_eq!(template("/"), "/");
        assert_eq!(template("/wp-admin/x.php"), UNMATCHED);
        assert_eq!(template("/api/secrets/a/b/c/d/e"), UNMATCHED);
        assert_eq!(template("/api/api/api"), UNMATCHED);
    }

    /// The OpenAPI paths as `{key}` templates, each with its methods, upper case and sorted.
    fn spec_routes() -> Vec<(String, Vec<String>)> {
        let spec: serde_json::Value =
            serde_json::from_str(&crate::api::spec_json()).expect("spec is JSON");
        let paths = spec["paths"].as_object().expect("paths");
        paths
            .iter()
            .map(|(path, operations)| {
                let template = path
                    .split('/')
                    .map(|s| if s.starts_with('{') { "{key}" } else { s })
                    .collect::<Vec<_>>()
                    .join("/");
                let mut methods: Vec<String> = operations
                    .as_object()
                    .expect("operations")
                    .keys()
                    .map(|method| method.to_uppercase())
                    .collect();
                methods.sort();
                (template, methods)
            })
            .collect()
    }

    #[test]
    fn every_path_of_the_spec_is_a_route_with_the_spec_s_methods() {
        let spec = spec_routes();
        assert!(spec.len() >= 15, "{spec:?}");
        for (path, methods) in spec {
            let real = path.replace("{key}", "k3y-VALUE_0123456789");
            let route = find(&real).unwrap_or_else(|| panic!("{path} has no route"));
            assert_eq!(route.template, path);
            let mut allowed: Vec<String> = route
                .allow
                .split(", ")
                .filter(|method| *method != "HEAD")
                .map(str::to_owned)
                .collect();
            allowed.sort();
            assert_eq!(allowed, methods, "{path}");
            assert_eq!(
                route.allow.contains("HEAD"),
                route.allow.contains("GET"),
                "HEAD goes with GET: {path}"
            );
        }
    }

    /// Whether the document's `POST` of `operations` takes a body with a `secret` field.
    fn post_carries_a_secret(spec: &serde_json::Value, operations: &serde_json::Value) -> bool {
        let Some(content) = operations["post"]["requestBody"]["content"].as_object() else {
            return false;
        };
        content.values().any(|media| {
            let schema = &media["schema"];
            let schema = match schema["$ref"].as_str() {
                Some(reference) => {
                    let name = reference.rsplit('/').next().unwrap_or_default();
                    &spec["components"]["schemas"][name]
                }
                None => schema,
            };
            schema["properties"].get("secret").is_some()
        })
    }

    #[test]
    fn the_routes_that_create_are_the_posts_whose_body_carries_a_secret() {
        let spec: serde_json::Value =
            serde_json::from_str(&crate::api::spec_json()).expect("spec is JSON");
        let mut creating = Vec::new();
        for (path, operations) in spec["paths"].as_object().expect("paths") {
            let real = path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        "k3y-VALUE_0123456789"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let route = find(&real).unwrap_or_else(|| panic!("{path} has no route"));
            assert_eq!(
                route.creates,
                post_carries_a_secret(&spec, operations),
                "{path}"
            );
            if route.creates {
                creating.push(route.template);
            }
        }
        assert_eq!(creating.len(), 3, "{creating:?}");
    }
}
