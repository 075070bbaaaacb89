//! Liveness, readiness and the Prometheus metrics endpoint: outside `/api`, so no quota applies.

use poem::Response;
use poem::handler;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::service::SecretService;
use crate::telemetry;

#[derive(Tags)]
enum ApiTags {
    /// Probes for process supervisors and load balancers.
    Health,
}

/// A probe's answer.
#[derive(Debug, Object)]
#[oai(example)]
pub struct Probe {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
}

impl poem_openapi::types::Example for Probe {
    fn example() -> Self {
        Self {
            status: "ok".into(),
        }
    }
}

/// Answers of `readyz`.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The store answers: send traffic.
    #[oai(status = 200)]
    Ready(Json<Probe>),
    /// The store does not answer: send no traffic.
    #[oai(status = 503)]
    Unavailable(Json<Probe>),
}

/// The probes.
pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness
    ///
    /// 200 while the process serves HTTP.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> Json<Probe> {
        Json(Probe {
            status: "ok".into(),
        })
    }

    /// Readiness
    ///
    /// 200 when the secret store and the file store answer, 503 when either does not.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, service: Data<&SecretService>) -> ReadyResponse {
        let (store, blobs) = tokio::join!(service.store().ping(), service.blobs().ping());
        match store.and(blobs) {
            Ok(()) => ReadyResponse::Ready(Json(Probe {
                status: "ready".into(),
            })),
            Err(err) => {
                tracing::warn!(error = %err, "readiness check failed");
                ReadyResponse::Unavailable(Json(Probe {
                    status: "unavailable".into(),
                }))
            }
        }
    }
}

/// `GET /metrics`: every series in the Prometheus text format.
#[handler]
pub fn metrics() -> Response {
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(telemetry::handle().render())
}
