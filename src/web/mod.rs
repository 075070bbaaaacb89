//! Pages for people: `/` creates a secret (encrypted in the browser by default, `assets/e2e.js`),
//! `/secret/{key}` reveals one on a click (opening the page reads nothing, so link scanners and
//! previews cannot burn a secret) and decrypts it there, `/receipt/{key}` shows its state and burns
//! it. The pages are static and the same for every key: their script reads the key from the address
//! (the end-to-end key from the fragment, which is never sent) and calls the Burn the Secret API, so
//! every rule (views, passphrases, quotas) stays the API's. Assets are compiled in; the policy
//! below allows no other origin.

use poem::http::StatusCode;
use poem::{Response, Route, get, handler};

const INDEX: &str = include_str!("assets/index.html");
const SECRET: &str = include_str!("assets/secret.html");
const RECEIPT: &str = include_str!("assets/receipt.html");
const SCRIPT: &str = include_str!("assets/app.js");
const END_TO_END: &str = include_str!("assets/e2e.js");
const QR_CODE: &str = include_str!("assets/qr.js");
const STYLE: &str = include_str!("assets/style.css");
const ICON: &str = include_str!("assets/icon.svg");

/// Only this origin's script and style, no frames, no plugins: a page that shows a secret runs
/// nothing but its own code.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `body` as `content_type`, with the headers every page and asset carries: no referrer (the
/// address holds a key), no sniffing, no framing, the content security policy.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type(content_type)
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .body(body)
}

const HTML: &str = "text/html; charset=utf-8";

#[handler]
fn index() -> Response {
    asset(INDEX, HTML)
}

#[handler]
fn secret() -> Response {
    asset(SECRET, HTML)
}

#[handler]
fn receipt() -> Response {
    asset(RECEIPT, HTML)
}

#[handler]
fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

#[handler]
fn end_to_end() -> Response {
    asset(END_TO_END, "text/javascript; charset=utf-8")
}

#[handler]
fn qr_code() -> Response {
    asset(QR_CODE, "text/javascript; charset=utf-8")
}

#[handler]
fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

/// The site's icon, at the address browsers ask for on every page (burnbox's and Swagger UI's), so
/// none of them logs a failed request.
#[handler]
fn icon() -> Response {
    asset(ICON, "image/svg+xml")
}

/// The pages and their assets, to mount at the root.
pub fn add_pages(route: Route) -> Route {
    route
        .at("/", get(index))
        .at("/secret/:key", get(secret))
        .at("/receipt/:key", get(receipt))
        .at("/assets/app.js", get(script))
        .at("/assets/e2e.js", get(end_to_end))
        .at("/assets/qr.js", get(qr_code))
        .at("/assets/style.css", get(style))
        .at("/favicon.ico", get(icon))
}
