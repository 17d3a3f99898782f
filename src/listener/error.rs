//! Errors of the HTTP listener, each mapped to one status and a JSON body.
//!
//! Bodies are `{"error": {"kind": "...", "message": "..."}}`. Messages name
//! the field path, parameter or limit at fault but never repeat the request's
//! body or path tokens, so neither secrets nor raw log lines are echoed back
//! or logged. The one echoed value is a rejected API path or query parameter
//! (such as an alert id), cut to [`MAX_ECHOED_CHARS`] characters.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tracing::{error, warn};

use crate::store::StoreError;

/// Seconds a client is told to wait after a store write failure.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Characters of a rejected parameter value repeated in the error message.
pub const MAX_ECHOED_CHARS: usize = 32;

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
    #[error("invalid {name} '{value}': expected {expected}")]
    InvalidParameter {
        name: String,
        value: String,
        expected: &'static str,
    },
    #[error("query parameter {0} is given more than once; send it once")]
    RepeatedParameter(&'static str),
    #[error(
        "no route matches this path; the listener serves /hooks/splunk/{{token}}, \
         /api/agent/investigate and the /api/ routes listed in the README"
    )]
    UnknownRoute,
    #[error("method {method} is not allowed on this route; use {allowed}")]
    MethodNotAllowed { method: String, allowed: String },
    #[error("request timed out after {seconds} s; retry, or send a smaller body")]
    TimedOut { seconds: u64 },
    #[error("request rejected with status {0}; see the server log")]
    Unmapped(StatusCode),
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
            ApiError::BadRequest(_)
            | ApiError::InvalidParameter { .. }
            | ApiError::RepeatedParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::UnknownRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TimedOut { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unmapped(status) => *status,
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
            ApiError::InvalidParameter { .. } | ApiError::RepeatedParameter(_) => {
                "invalid_parameter"
            }
            ApiError::UnknownRoute => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::TimedOut { .. } => "timed_out",
            ApiError::Unmapped(_) => "rejected",
            ApiError::StoreUnavailable(_) => "store_unavailable",
            ApiError::StoreRead(_) => "store_error",
        }
    }
}

impl ApiError {
    /// Builds an [`ApiError::InvalidParameter`], cutting the echoed value short.
    pub fn invalid_parameter(name: impl Into<String>, value: &str, expected: &'static str) -> Self {
        let shown: String = value.chars().take(MAX_ECHOED_CHARS).collect();
        let mut shown = shown.escape_debug().to_string();
        if value.chars().count() > MAX_ECHOED_CHARS {
            shown.push_str("...");
        }
        ApiError::InvalidParameter {
            name: name.into(),
            value: shown,
            expected,
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
