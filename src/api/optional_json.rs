//! A JSON body that may be left out: no body at all reads as none, while a body that is sent,
//! `null` included, must be the documented object (poem-openapi's `Json<Option<T>>` cannot tell
//! an empty body from `null`).

use poem::{FromRequest, Request, RequestBody, Result};
use poem_openapi::error::ParseRequestPayloadError;
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, Type};

/// An optional JSON body of type `T`.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: Type> Payload for OptionalJson<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for OptionalJson<T> {
    const IS_REQUIRED: bool = false;

    async fn from_request(request: &Request, body: &mut RequestBody) -> Result<Self> {
        let data = Vec::<u8>::from_request(request, body).await?;
        if data.is_empty() {
            return Ok(Self(None));
        }
        let bad = |reason: String| ParseRequestPayloadError { reason };
        let value = serde_json::from_slice(&data).map_err(|err| bad(err.to_string()))?;
        let parsed = T::parse_from_json(Some(value)).map_err(|err| bad(err.into_message()))?;
        Ok(Self(Some(parsed)))
    }
}

poem_openapi::impl_apirequest_for_payload!(OptionalJson<T>, T: ParseFromJSON);
