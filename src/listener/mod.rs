//! The HTTP listener: Splunk's webhook target and the JSON API of server mode.
//!
//! Routes (all built in [`router`]):
//! - `POST /hooks/splunk/{token}`: Splunk's webhook action, which cannot set
//!   headers, so the secret is the path's token (compared in constant time).
//! - `POST /api/agent/investigate`: the same for senders that can send
//!   `Authorization: Bearer <webhook secret>`.
//! - `/api/...`: alerts, incidents, re-investigation, health and the
//!   server-sent step stream, behind `Authorization: Bearer <API token>`.
//!
//! A new alert is committed to the store before the answer: `202` with the
//! queued investigation, `200` for a duplicate (same `sid` and result row),
//! `503` with `Retry-After` when the store cannot write. Bad requests get
//! 400, 401, 404, 405, 408, 413 or 422 ([`error`]) and store nothing. Every
//! error response has a JSON body, including those that axum and the tower
//! layers produce themselves (see [`json_errors`]).
//!
//! Layout: [`validate`] (body checks), [`params`] (path and query
//! parameters), [`error`] (status mapping), [`api`] (the analyst's routes),
//! [`connections`] (the connection limit).

pub mod api;
pub mod connections;
pub mod error;
pub mod params;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use subtle::ConstantTimeEq;
use tokio::sync::{broadcast, Notify};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::info;

use crate::agent::sink::StepEvent;
use crate::store::{AlertSource, Ingest, SqliteStore};
use error::ApiError;
use params::PathText;
use validate::{parse_alert, AlertLimits};

/// Limits of the listener.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// Largest request body, in bytes (1 MiB by default).
    pub body_limit: usize,
    /// Time allowed to read a request and produce the response's headers.
    pub request_timeout: Duration,
    /// Requests handled at once; further requests wait their turn.
    pub max_concurrent_requests: usize,
    /// Open connections at once; further connections wait to be accepted.
    pub max_connections: usize,
    pub alert_limits: AlertLimits,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 256,
            max_connections: 1024,
            alert_limits: AlertLimits::default(),
        }
    }
}

/// The secrets the routes check.
#[derive(Clone)]
pub struct Secrets {
    /// The path token of `/hooks/splunk/{token}`.
    pub hook_token: String,
    /// The bearer secret of `/api/agent/investigate`.
    pub webhook_secret: String,
    /// The bearer token of the analyst's API.
    pub api_token: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// A step event tagged with the store's investigation ID.
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    pub investigation: String,
    #[serde(flatten)]
    pub event: StepEvent,
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: SqliteStore,
    pub secrets: Arc<Secrets>,
    pub config: Arc<ListenerConfig>,
    /// Wakes an idle worker when an investigation is queued.
    pub wake: Arc<Notify>,
    /// Live step events from the workers.
    pub events: broadcast::Sender<LiveEvent>,
    /// Investigation workers, for the health route.
    pub workers: usize,
}

/// Builds the listener's routes with their limits.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let api = api::routes().route_layer(middleware::from_fn_with_state(
        state.clone(),
        require_api_token,
    ));
    let routes = Router::new()
        .route("/hooks/splunk/{token}", post(splunk_hook))
        .route("/api/agent/investigate", post(investigate))
        .merge(api)
        .fallback(unknown_route)
        .layer(middleware::from_fn(log_request))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(GlobalConcurrencyLimitLayer::new(
            config.max_concurrent_requests,
        ))
        .with_state(state);

    // axum adds the `Allow` header of a 405 outside the route's layers, so
    // `json_errors` wraps the whole router to see it.
    Router::new()
        .fallback_service(routes)
        .layer(middleware::from_fn_with_state(config, json_errors))
}

async fn unknown_route() -> ApiError {
    ApiError::UnknownRoute
}

/// Replaces the body of an error response that is not JSON with an
/// [`ApiError`] body of the same status.
///
/// axum responds to a wrong method with an empty 405 and to a rejected
/// extractor with plain text. `RequestBodyLimitLayer` responds "length limit
/// exceeded" and `TimeoutLayer` with an empty 408. The routes' own errors are JSON already and
/// pass unchanged.
async fn json_errors(
    State(config): State<Arc<ListenerConfig>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let error = error_for_status(status, &method, response.headers(), &config);
    let mut replaced = error.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&name) {
            replaced.headers_mut().insert(name, value.clone());
        }
    }
    replaced
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}

/// Chooses the error that explains a bare status from axum or a tower layer.
fn error_for_status(
    status: StatusCode,
    method: &Method,
    headers: &HeaderMap,
    config: &ListenerConfig,
) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::UnknownRoute,
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = headers
                .get(header::ALLOW)
                .and_then(|value| value.to_str().ok())
                .filter(|value| !value.is_empty())
                .unwrap_or("another method");
            ApiError::MethodNotAllowed {
                method: method.to_string(),
                allowed: allowed.replace(',', ", "),
            }
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge {
            limit: config.body_limit,
        },
        StatusCode::REQUEST_TIMEOUT => ApiError::TimedOut {
            seconds: config.request_timeout.as_secs(),
        },
        other => ApiError::Unmapped(other),
    }
}

/// Logs each request by its route pattern, never its path (the path contains the token).
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let micros = started.elapsed().as_micros() as u64;
    tracing::debug!(%method, %route, status = response.status().as_u16(), micros, "request");
    response
}

/// Compares two secrets in time independent of where they differ.
pub fn secrets_match(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && bool::from(given.ct_eq(expected))
}

/// Returns the bearer token of a request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn require_api_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let given = bearer(request.headers()).unwrap_or("");
    if !secrets_match(given.as_bytes(), state.secrets.api_token.as_bytes()) {
        return Err(ApiError::Unauthorized(
            "the API (send Authorization: Bearer <API token>)",
        ));
    }
    Ok(next.run(request).await)
}

async fn splunk_hook(
    State(state): State<AppState>,
    PathText(token): PathText,
    request: Request,
) -> Result<Response, ApiError> {
    if !secrets_match(token.as_bytes(), state.secrets.hook_token.as_bytes()) {
        return Err(ApiError::Unauthorized(
            "the webhook URL (check the token in the URL)",
        ));
    }
    accept_alert(&state, request.into_body(), AlertSource::Webhook).await
}

async fn investigate(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let given = bearer(request.headers()).unwrap_or("");
    if !secrets_match(given.as_bytes(), state.secrets.webhook_secret.as_bytes()) {
        return Err(ApiError::Unauthorized(
            "this route (send Authorization: Bearer <webhook secret>)",
        ));
    }
    accept_alert(&state, request.into_body(), AlertSource::Api).await
}

/// Tells whether a body error, or any error behind it, is a length-limit error.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Reads, checks and stores an alert; answers only after the commit.
async fn accept_alert(
    state: &AppState,
    body: Body,
    source: AlertSource,
) -> Result<Response, ApiError> {
    let limit = state.config.body_limit;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if is_length_limit(&e) {
            ApiError::TooLarge { limit }
        } else {
            ApiError::BadRequest("the request body could not be read".into())
        }
    })?;
    let alert = parse_alert(&bytes, &state.config.alert_limits)?;
    let ingest = state
        .store
        .insert_alert(alert, source)
        .await
        .map_err(ApiError::StoreUnavailable)?;
    let status = match &ingest {
        Ingest::Queued {
            alert,
            investigation,
        } => {
            info!(
                alert,
                investigation,
                source = source.as_str(),
                "alert queued"
            );
            state.wake.notify_one();
            StatusCode::ACCEPTED
        }
        Ingest::Duplicate { alert } => {
            info!(
                alert,
                source = source.as_str(),
                "duplicate alert acknowledged"
            );
            StatusCode::OK
        }
    };
    Ok((status, Json(ingest)).into_response())
}
