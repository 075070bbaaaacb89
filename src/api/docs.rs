//! `/docs`: Swagger UI, as poem-openapi renders it (one page with its script, style and the
//! document inline), under a content security policy of its own. Its inline scripts are allowed
//! by their hashes, computed once from the page, so nothing else can run there; it may call only
//! this origin ("Try it out"), and no other site may frame it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use poem::http::StatusCode;
use poem::{Response, Route, get, handler};
use sha2::{Digest, Sha256};

/// The policy for a page whose inline scripts hash to `script_hashes` (CSP source expressions).
/// Styles may be inline (Swagger UI sets them in its markup); images only from here or `data:`
/// (its icons).
fn content_security_policy(script_hashes: &[String]) -> String {
    format!(
        "default-src 'none'; script-src {}; style-src 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        script_hashes.join(" ")
    )
}

/// `'sha256-…'` of every inline `<script>` of `html`, in order.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after_tag = &rest[start..];
        let Some(open_end) = after_tag.find('>') else {
            break;
        };
        let body = &after_tag[open_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        let digest = Sha256::digest(&body.as_bytes()[..close]);
        hashes.push(format!("'sha256-{}'", BASE64.encode(digest)));
        rest = &body[close..];
    }
    hashes
}

/// The page and its headers.
#[derive(Clone)]
struct DocsPage {
    html: String,
    policy: String,
}

#[handler]
fn page(poem::web::Data(docs): poem::web::Data<&DocsPage>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/html; charset=utf-8")
        .header("content-security-policy", docs.policy.as_str())
        .header("x-frame-options", "DENY")
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .body(docs.html.clone())
}

/// Swagger UI for the document `swagger_ui_html` renders, at `/docs` and `/docs/`.
pub fn add_docs(route: Route, swagger_ui_html: String) -> Route {
    let policy = content_security_policy(&inline_script_hashes(&swagger_ui_html));
    let docs = DocsPage {
        html: swagger_ui_html,
        policy,
    };
    let endpoint = poem::EndpointExt::data(get(page), docs);
    let endpoint = std::sync::Arc::new(endpoint);
    route
        .at("/docs", std::sync::Arc::clone(&endpoint))
        .at("/docs/", endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_inline_script_is_hashed_and_nothing_else() {
        let html = "<head><script charset=\"UTF-8\">a()</script><style>x</style></head>\
                    <body><script>b()</script></body>";
        let expected: Vec<String> = ["a()", "b()"]
            .iter()
            .map(|s| format!("'sha256-{}'", BASE64.encode(Sha256::digest(s.as_bytes()))))
            .collect();
        assert_eq!(inline_script_hashes(html), expected);
        let policy = content_security_policy(&expected);
        assert!(policy.contains(&format!("script-src {} {};", expected[0], expected[1])));
        assert!(!policy.contains("unsafe-eval"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(inline_script_hashes("<p>no script</p>").is_empty());
    }
}
