//! The dialects: which API a request speaks, and its errors answered in that dialect's shape.

use poem::{IntoResponse, Request, Response};

use super::native::NativeError;
use super::ots::OtsError;
use crate::service::ServiceError;

/// Which API a request speaks, by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Burn the Secret (`/api/secrets`).
    Native,
    /// Onetime Secret v1 (`/api/v1`).
    Ots,
}

impl Dialect {
    /// The dialect of `req`.
    pub fn of(req: &Request) -> Self {
        Self::of_path(req.original_uri().path())
    }

    fn of_path(path: &str) -> Self {
        if path.starts_with("/api/v1/") {
            Self::Ots
        } else {
            Self::Native
        }
    }

    /// `err` in this dialect when it is the router's: no route for the path (404), or none for
    /// the method (405); `None` for any other error.
    pub fn no_route(self, err: &poem::Error) -> Option<Response> {
        use poem::error::{MethodNotAllowedError, NotFoundError};
        let method_not_allowed = if err.is::<MethodNotAllowedError>() {
            true
        } else if err.is::<NotFoundError>() {
            false
        } else {
            return None;
        };
        Some(match self {
            Self::Native => NativeError::no_route(method_not_allowed).into_response(),
            Self::Ots => OtsError::no_route(method_not_allowed).into_response(),
        })
    }

    /// `err` as this dialect answers it.
    pub fn respond(self, err: ServiceError) -> Response {
        match self {
            Self::Native => NativeError::from(err).into_response(),
            Self::Ots => OtsError::from(err).into_response(),
        }
    }
}
