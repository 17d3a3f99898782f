//! The listener's routes, called in-process with `oneshot`: accepted
//! alerts, duplicates, the analyst's API and store failures.

mod listener_common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use listener_common::{demo_alert, TestApp, API_TOKEN, HOOK_TOKEN, WEBHOOK_SECRET};
use serde_json::Value;
use tower::ServiceExt;

async fn send(app: &TestApp, request: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
    let response = app.router().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json, headers)
}

fn hook(body: &str) -> Request<Body> {
    Request::post(format!("/hooks/splunk/{HOOK_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn api(method: &str, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {API_TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn hook_accepts_demo_alert() {
    let app = TestApp::new();
    let (status, body, _) = send(&app, hook(&demo_alert("ssh_brute_force"))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["status"], "queued");
    assert_eq!(body["investigation"], format!("inv-{}-1", body["alert"]));
    assert_eq!(app.store.counts().unwrap().queued, 1);
}

#[tokio::test]
async fn hook_resent_alert_is_duplicate() {
    let app = TestApp::new();
    let (_, first, _) = send(&app, hook(&demo_alert("web_attack"))).await;
    let (status, second, _) = send(&app, hook(&demo_alert("web_attack"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["status"], "duplicate");
    assert_eq!(second["alert"], first["alert"]);
    assert_eq!(app.store.counts().unwrap().alerts, 1);
}

#[tokio::test]
async fn bearer_route_accepts_every_demo_alert() {
    let app = TestApp::new();
    for name in argus::demo::ALERT_NAMES {
        let request = Request::post("/api/agent/investigate")
            .header(header::AUTHORIZATION, format!("Bearer {WEBHOOK_SECRET}"))
            .body(Body::from(demo_alert(name)))
            .unwrap();
        let (status, _, _) = send(&app, request).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{name}");
    }
    assert_eq!(app.store.counts().unwrap().alerts, 5);
}

#[tokio::test]
async fn store_failure_answers_503_retry_after() {
    let app = TestApp::new();
    app.db()
        .execute_batch("CREATE TRIGGER full BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
        .unwrap();
    let (status, body, headers) = send(&app, hook(&demo_alert("cryptomining"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "5");
    assert_eq!(body["error"]["kind"], "store_unavailable");
    assert_eq!(app.stored_rows(), 0);
}

#[tokio::test]
async fn api_lists_and_gets_alert() {
    let app = TestApp::new();
    let (_, queued, _) = send(&app, hook(&demo_alert("ssh_brute_force"))).await;
    let id = queued["alert"].as_i64().unwrap();
    let (status, list, _) = send(&app, api("GET", "/api/alerts")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["alerts"][0]["id"], id);
    assert_eq!(
        list["alerts"][0]["alert"]["search_name"],
        "SSH Brute Force Detected"
    );
    let (status, one, _) = send(&app, api("GET", &format!("/api/alerts/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["investigations"][0]["state"], "queued");
}

#[tokio::test]
async fn api_delete_then_not_found() {
    let app = TestApp::new();
    let (_, queued, _) = send(&app, hook(&demo_alert("ssh_brute_force"))).await;
    let path = format!("/api/alerts/{}", queued["alert"]);
    let (status, _, _) = send(&app, api("DELETE", &path)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(&app, api("GET", &path)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.stored_rows(), 0);
}

#[tokio::test]
async fn api_reinvestigate_queues_second() {
    let app = TestApp::new();
    let (_, queued, _) = send(&app, hook(&demo_alert("ssh_brute_force"))).await;
    let id = queued["alert"].as_i64().unwrap();
    let (status, body, _) = send(&app, api("POST", &format!("/api/alerts/{id}/investigate"))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["investigation"], format!("inv-{id}-2"));
    let (_, incidents, _) = send(&app, api("GET", "/api/incidents")).await;
    assert_eq!(incidents["incidents"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn api_incident_without_report_yet() {
    let app = TestApp::new();
    let (_, queued, _) = send(&app, hook(&demo_alert("ssh_brute_force"))).await;
    let path = format!(
        "/api/incidents/{}",
        queued["investigation"].as_str().unwrap()
    );
    let (status, body, _) = send(&app, api("GET", &path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["incident"]["state"], "queued");
    assert_eq!(body["report"], Value::Null);
}

#[tokio::test]
async fn api_health_counts() {
    let app = TestApp::new();
    send(&app, hook(&demo_alert("ssh_brute_force"))).await;
    let (status, body, _) = send(&app, api("GET", "/api/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["counts"]["alerts"], 1);
    assert_eq!(body["counts"]["queued"], 1);
}

#[tokio::test]
async fn api_missing_incident_404() {
    let app = TestApp::new();
    let (status, body, _) = send(&app, api("GET", "/api/incidents/inv-9-1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["kind"], "not_found");
}
