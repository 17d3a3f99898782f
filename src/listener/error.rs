//! Errors of the HTTP listener, each mapped to one status and a JSON body.
//!
//! Bodies are `{"error": {"kind": "...", "message": "..."}}`. Messages name
//! the field path or limit at fault but never repeat the request's content,
//! so neither secrets nor raw log lines are echoed back or logged.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tracing::{error, warn};

use crate::store::StoreError;

/// Seconds a client is told to wait after a store write failure.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body is not valid UTF-8 (first invalid byte at offset {0}); send UTF-8 JSON")]
    Encoding(usize),
    #[error("request body nests JSON deeper than {0} levels")]
    TooDeep(usize),
    #[error("invalid alert at {path}: {problem}")]
    Shape { path: String, problem: String },
    #[error("missing or invalid credentials for {0}")]
    Unauthorized(&'static str),
    #[error("request body exceeds the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("{0} not found")]
    NotFound(String),
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("the incident store cannot write right now; retry after {RETRY_AFTER_SECONDS} s")]
    StoreUnavailable(#[source] StoreError),
    #[error("the incident store failed to read; see the server log")]
    StoreRead(#[source] StoreError),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::Encoding(_) | ApiError::TooDeep(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Shape { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::StoreRead(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::Encoding(_) => "invalid_encoding",
            ApiError::TooDeep(_) => "too_deep",
            ApiError::Shape { .. } => "invalid_alert",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::StoreUnavailable(_) => "store_unavailable",
            ApiError::StoreRead(_) => "store_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::StoreUnavailable(e) => {
                error!(error = %e, "store write failed; answering 503")
            }
            ApiError::StoreRead(e) => error!(error = %e, "store read failed"),
            _ => warn!(
                kind = self.kind(),
                status = status.as_u16(),
                "request rejected"
            ),
        }
        let body = json!({"error": {"kind": self.kind(), "message": self.to_string()}});
        let mut response = (status, Json(body)).into_response();
        if matches!(self, ApiError::StoreUnavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if matches!(self, ApiError::Unauthorized(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
