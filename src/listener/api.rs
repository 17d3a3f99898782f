//! The analyst's JSON API: alerts, incidents, health and the step stream.
//!
//! Every route here sits behind the API token (see [`super::router`]).
//! Lists are newest first; `?limit=` caps them (default 100, at most 1000).
//! The step stream is `GET /api/events`, server-sent events with one JSON
//! step event each, optionally only one investigation's
//! (`?investigation=inv-12-1`). Events are live only: a client that connects
//! late gets the stored steps from `GET /api/incidents/{id}` instead.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde_json::json;
use tokio::sync::broadcast;

use super::error::ApiError;
use super::params::{AlertId, PathText, QueryParams};
use super::AppState;
use crate::store::{IncidentStore, SqliteStore, StoreError};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// The API's routes, before the token check is layered on.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/alerts", get(list_alerts))
        .route("/api/alerts/{id}", get(get_alert).delete(delete_alert))
        .route("/api/alerts/{id}/investigate", post(reinvestigate))
        .route("/api/incidents", get(list_incidents))
        .route("/api/incidents/{id}", get(get_incident))
        .route("/api/events", get(events))
}

/// The query parameters of the list routes.
struct ListQuery {
    limit: usize,
    /// Alerts: only IDs below this.
    before: Option<i64>,
    /// Incidents: only this alert's.
    alert: Option<i64>,
}

impl ListQuery {
    /// Reads `limit`, `before` and `alert`, clamping `limit` to 1..=[`MAX_LIMIT`].
    fn from_params(params: &QueryParams) -> Result<Self, ApiError> {
        let limit = params.parse::<usize>("limit", "a whole number from 1 to 1000")?;
        let id = "a whole number, such as an `id` listed by GET /api/alerts";
        Ok(ListQuery {
            limit: limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
            before: params.parse("before", id)?,
            alert: params.parse("alert", id)?,
        })
    }
}

/// Runs a blocking store read off the async threads.
async fn read<T, F>(store: &SqliteStore, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&SqliteStore) -> Result<T, StoreError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || work(&store))
        .await
        .map_err(|e| ApiError::StoreRead(StoreError::Commit(format!("read task failed: {e}"))))?
        .map_err(ApiError::StoreRead)
}

async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    let counts = read(&state.store, |s| s.counts()).await?;
    let body = json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "workers": state.workers,
        "counts": counts,
    });
    Ok(Json(body).into_response())
}

async fn list_alerts(
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let q = ListQuery::from_params(&params)?;
    let (limit, before) = (q.limit, q.before);
    let alerts = read(&state.store, move |s| s.list_alerts(limit, before)).await?;
    Ok(Json(json!({ "alerts": alerts })).into_response())
}

async fn get_alert(
    State(state): State<AppState>,
    AlertId(id): AlertId,
) -> Result<Response, ApiError> {
    let alert = read(&state.store, move |s| s.get_alert(id)).await?;
    let alert = alert.ok_or_else(|| ApiError::NotFound(format!("alert {id}")))?;
    let investigations = read(&state.store, move |s| {
        s.list_investigations(MAX_LIMIT, Some(id))
    })
    .await?;
    Ok(Json(json!({ "alert": alert, "investigations": investigations })).into_response())
}

async fn delete_alert(
    State(state): State<AppState>,
    AlertId(id): AlertId,
) -> Result<Response, ApiError> {
    let deleted = state
        .store
        .delete_alert(id)
        .await
        .map_err(ApiError::StoreUnavailable)?;
    if !deleted {
        return Err(ApiError::NotFound(format!("alert {id}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn reinvestigate(
    State(state): State<AppState>,
    AlertId(id): AlertId,
) -> Result<Response, ApiError> {
    let queued = state
        .store
        .reinvestigate(id)
        .await
        .map_err(ApiError::StoreUnavailable)?;
    let investigation = queued.ok_or_else(|| ApiError::NotFound(format!("alert {id}")))?;
    state.wake.notify_one();
    let body = json!({ "status": "queued", "alert": id, "investigation": investigation });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

async fn list_incidents(
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let q = ListQuery::from_params(&params)?;
    let (limit, alert) = (q.limit, q.alert);
    let incidents = read(&state.store, move |s| s.list_investigations(limit, alert)).await?;
    Ok(Json(json!({ "incidents": incidents })).into_response())
}

async fn get_incident(
    State(state): State<AppState>,
    PathText(id): PathText,
) -> Result<Response, ApiError> {
    let key = id.clone();
    let record = read(&state.store, move |s| s.get_investigation(&key)).await?;
    let record = record.ok_or_else(|| ApiError::NotFound(format!("incident {id}")))?;
    let report = read(&state.store, move |s| s.load_report(&id)).await?;
    Ok(Json(json!({ "incident": record, "report": report })).into_response())
}

async fn events(
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let only = params.text("investigation")?.map(str::to_string);
    let receiver = state.events.subscribe();
    let stream = futures::stream::unfold((receiver, only), |(mut rx, only)| async move {
        loop {
            match rx.recv().await {
                Ok(live) if only.as_ref().is_some_and(|id| *id != live.investigation) => continue,
                Ok(live) => {
                    let event = Event::default()
                        .event("step")
                        .json_data(&live)
                        .unwrap_or_default();
                    return Some((Ok(event), (rx, only)));
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let event = Event::default().event("lagged").data(missed.to_string());
                    return Some((Ok(event), (rx, only)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
