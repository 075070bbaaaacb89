//! HTTP: the two API dialects, the OpenAPI document and Swagger UI, over one [`SecretService`].
//!
//! Only this layer knows HTTP status codes, headers and wire field names. Each dialect maps the
//! service's errors to its own documented error shape in one place.

pub mod auth;
pub mod body_limit;
pub mod content;
pub mod dialect;
pub mod dialect_error;
mod docs;
pub mod document;
pub mod guard;
pub mod health;
pub mod native;
pub mod optional_json;
pub mod ots;
pub mod public_url;
pub mod request_id;
pub mod routes;
pub mod schema;
mod timefmt;
pub mod upload_stream;

use std::sync::Arc;
use std::time::Duration;

use poem::middleware::AddData;
use poem::{Endpoint, EndpointExt, Route, get};
use poem_openapi::{ExtraHeader, OpenApiService};

use crate::service::SecretService;

/// Title of the OpenAPI document.
const TITLE: &str = "burnbox";

/// The OpenAPI service for every dialect, without a server URL (the document is the same
/// wherever burnbox runs).
pub fn openapi() -> OpenApiService<(native::NativeApi, ots::OtsApi, health::HealthApi), ()> {
    OpenApiService::new(
        (native::NativeApi, ots::OtsApi, health::HealthApi),
        TITLE,
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "One-time secrets: share a password, a key or a note through a link that works a limited \
         number of times, then is gone for good. Serves the Burn the Secret API (`/api/secrets`) \
         and the Onetime Secret API v1 (`/api/v1`) over one engine: a secret created through \
         either is readable through both.",
    )
    .extra_response_header::<String, _>(
        ExtraHeader::new("X-Request-Id").description("The request id, also in error bodies."),
    )
    .extra_response_header::<Option<u32>, _>(
        ExtraHeader::new("X-RateLimit-Limit")
            .description("The caller's binding request quota (while quotas are on)."),
    )
    .extra_response_header::<Option<u32>, _>(
        ExtraHeader::new("X-RateLimit-Remaining").description("Requests left in that window."),
    )
    .extra_response_header::<Option<u64>, _>(
        ExtraHeader::new("X-RateLimit-Reset")
            .description("Unix time when that window frees a request."),
    )
}

/// The OpenAPI document as JSON, exactly as `/openapi.json` serves it.
pub fn spec_json() -> String {
    document::json().to_owned()
}

/// The OpenAPI document as YAML, exactly as `/openapi.yaml` serves it.
pub fn spec_yaml() -> String {
    document::yaml().to_owned()
}

/// An endpoint answering `body` as `content_type`.
fn fixed_document(content_type: &'static str, body: &'static str) -> impl Endpoint {
    get(poem::endpoint::make_sync(move |_| {
        poem::Response::builder()
            .content_type(content_type)
            .body(body)
    }))
}

/// Everything burnbox serves over HTTP; `/metrics` too unless `metrics_elsewhere`. Bodies other
/// than files must arrive within `body_read_deadline`.
pub fn routes(
    service: SecretService,
    public_url: String,
    guard: guard::Guard,
    metrics_elsewhere: bool,
    body_read_deadline: Duration,
) -> impl Endpoint {
    let limits = service.limits();
    let docs_html = document::swagger_ui_html();
    let operations = Arc::new(
        openapi()
            .with(body_limit::BodyLimit::new(
                limits,
                service.upload_slots().clone(),
                body_read_deadline,
            ))
            .with(guard),
    );
    let mut route = Route::new()
        // The operations are under /api but for the two probes; the pages take the rest.
        .nest_no_strip("/api", Arc::clone(&operations))
        .at("/healthz", Arc::clone(&operations))
        .at("/readyz", operations)
        .at(
            "/openapi.json",
            fixed_document("application/json; charset=utf-8", document::json()),
        )
        .at(
            "/openapi.yaml",
            fixed_document("application/x-yaml", document::yaml()),
        );
    route = docs::add_docs(route, docs_html);
    route = crate::web::add_pages(route);
    if !metrics_elsewhere {
        route = route.at("/metrics", get(health::metrics));
    }
    route
        .with(AddData::new(service))
        .with(AddData::new(public_url::PublicUrl(public_url)))
        .around(request_id::request_context)
}
