//! A Splunk REST test server on 127.0.0.1 that speaks the export protocol.
//!
//! Searches run on the local evidence engine ([`LocalBackend`]); the two
//! `tstats` queries of schema discovery are answered with the equivalent
//! `stats` over all events. Each export request takes the next scripted
//! [`Fault`] (none by default), so tests can script 401s, a missing v2
//! endpoint, quota errors, slow or truncated streams, FATAL messages and
//! empty bodies. Every request is recorded for assertions.
//!
//! It also serves Splunk's fired-alert history: the listing at
//! `/services/alerts/fired_alerts/-` and each job's results at
//! `/services/search/jobs/{sid}/results`, both read from the scripted
//! [`ScriptedFired`] list (see [`TestServer::fire`]).

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use argus::evidence::EvidenceStore;
use argus::search::local::LocalBackend;

pub const TOKEN: &str = "test-token-7f3a";
pub const USERNAME: &str = "analyst";
pub const PASSWORD: &str = "correct horse";
pub const SESSION_KEY: &str = "session-key-42";

/// Splunk's own text for a 503 quota refusal.
pub const QUOTA_TEXT: &str = "The maximum number of concurrent historical searches on this \
                              instance has been reached., concurrency_category=\"historical\", \
                              concurrency_context=\"user_instance-wide\", current_concurrency=3, \
                              concurrency_limit=3";

/// How the server misbehaves on one export request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer 401 whatever the credentials.
    Unauthorized,
    /// Answer 503 with Splunk's quota message.
    Quota,
    /// Wait this long before each line of the stream.
    Slow(Duration),
    /// Drop the stream's last line, which holds `lastrow`.
    Truncated,
    /// Stop the stream in the middle of a JSON line.
    CutLine,
    /// Stream a FATAL message in place of results.
    Fatal(String),
    /// Answer 200 with an empty body.
    EmptyBody,
}

/// A fired alert in Splunk's history, with the first row of its job's results.
#[derive(Debug, Clone)]
pub struct ScriptedFired {
    pub sid: String,
    pub savedsearch_name: String,
    pub trigger_time: i64,
    pub app: String,
    pub owner: String,
    pub result: serde_json::Value,
    /// Makes the job-results route return 404, as Splunk does once the job expired.
    pub job_expired: bool,
}

impl ScriptedFired {
    /// Builds a fired alert carrying the demo alert `name`'s (`demo/alerts/{name}.json`)
    /// saved search, app, owner and result row, under a new `sid`.
    pub fn demo(name: &str, sid: &str, trigger_time: i64) -> ScriptedFired {
        let path = format!("{}/demo/alerts/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("demo alert exists");
        let alert: serde_json::Value = serde_json::from_str(&text).expect("demo alert is JSON");
        let text_of = |field: &str| alert[field].as_str().expect("demo alert field").to_string();
        ScriptedFired {
            sid: sid.to_string(),
            savedsearch_name: text_of("search_name"),
            trigger_time,
            app: text_of("app"),
            owner: text_of("owner"),
            result: alert["result"].clone(),
            job_expired: false,
        }
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub authorization: Option<String>,
    pub form: HashMap<String, String>,
}

pub struct ServerState {
    backend: LocalBackend,
    /// Answer 404 on the v2 export endpoint, as Splunk 8 does.
    pub no_v2: std::sync::atomic::AtomicBool,
    pub faults: Mutex<VecDeque<Fault>>,
    pub requests: Mutex<Vec<Recorded>>,
    /// Splunk's fired-alert history, served by the fired-alerts routes.
    pub fired: Mutex<Vec<ScriptedFired>>,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

/// A running test server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<ServerState>,
}

impl TestServer {
    /// Starts a server over `store` on the current tokio runtime.
    pub async fn start(store: EvidenceStore) -> TestServer {
        let state = Arc::new(ServerState {
            backend: LocalBackend::new(store, "test server evidence"),
            no_v2: false.into(),
            faults: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            fired: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/services/search/v2/jobs/export", post(export_v2))
            .route("/services/search/jobs/export", post(export_v1))
            .route("/services/auth/login", post(login))
            .route("/services/server/info", get(server_info))
            .route("/services/alerts/fired_alerts/-", get(fired_alerts))
            .route("/services/search/jobs/{sid}/results", get(job_results))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("test server runs");
        });
        TestServer { addr, state }
    }

    /// Queues faults for the next export requests, in order.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.faults.lock().unwrap().extend(faults);
    }

    /// Adds fired alerts to Splunk's history.
    pub fn fire(&self, fired: impl IntoIterator<Item = ScriptedFired>) {
        self.state.fired.lock().unwrap().extend(fired);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Environment for `SplunkSettings::from_lookup` pointing at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("SPLUNK_SCHEME", "http".to_string()),
            ("SPLUNK_HOST", "127.0.0.1".to_string()),
            ("SPLUNK_PORT", self.addr.port().to_string()),
            ("SPLUNK_TOKEN", TOKEN.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

async fn export_v2(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    record(&state, "/services/search/v2/jobs/export", &headers, &form);
    if state.no_v2.load(Ordering::SeqCst) {
        return (StatusCode::NOT_FOUND, xml_messages("ERROR", "Not Found")).into_response();
    }
    export(state, headers, form).await
}

async fn export_v1(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    record(&state, "/services/search/jobs/export", &headers, &form);
    export(state, headers, form).await
}

fn record(state: &ServerState, path: &str, headers: &HeaderMap, form: &HashMap<String, String>) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let entry = Recorded { path: path.to_string(), authorization, form: form.clone() };
    state.requests.lock().unwrap().push(entry);
}

fn is_authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v == format!("Bearer {TOKEN}") || v == format!("Splunk {SESSION_KEY}")
    })
}

fn unauthorized() -> Response {
    let body = xml_messages("WARN", "call not properly authenticated");
    (StatusCode::UNAUTHORIZED, body).into_response()
}

/// Serves the fired-alerts listing in Splunk's JSON entry format, one entry per alert.
async fn fired_alerts(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let form = parse_form(query.unwrap_or_default().as_bytes());
    record(&state, "/services/alerts/fired_alerts/-", &headers, &form);
    if !is_authorized(&headers) {
        return unauthorized();
    }
    let entries: Vec<serde_json::Value> = state
        .fired
        .lock()
        .unwrap()
        .iter()
        .map(|fired| {
            serde_json::json!({
                "name": fired.sid,
                "acl": {"app": fired.app, "owner": fired.owner, "sharing": "app"},
                "content": {
                    "sid": fired.sid,
                    "savedsearch_name": fired.savedsearch_name,
                    "trigger_time": fired.trigger_time,
                    "severity": 3,
                    "triggered_alerts": 1,
                    "alert_type": "number of events",
                    "digest_mode": true,
                },
            })
        })
        .collect();
    let body = serde_json::json!({"entry": entries, "paging": {"total": entries.len()}});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// Serves a job's results: the scripted result row of the fired alert with
/// this `sid`, or 404 when no such job exists or it expired.
async fn job_results(
    State(state): State<Arc<ServerState>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let form = parse_form(query.unwrap_or_default().as_bytes());
    record(&state, &format!("/services/search/jobs/{sid}/results"), &headers, &form);
    if !is_authorized(&headers) {
        return unauthorized();
    }
    let result = state
        .fired
        .lock()
        .unwrap()
        .iter()
        .find(|f| f.sid == sid && !f.job_expired)
        .map(|f| f.result.clone());
    match result {
        Some(row) => {
            let body = serde_json::json!({"preview": false, "init_offset": 0, "messages": [],
                                          "results": [row]});
            ([("content-type", "application/json")], body.to_string()).into_response()
        }
        None => {
            let text = format!("Unknown sid {sid}");
            (StatusCode::NOT_FOUND, xml_messages("FATAL", &text)).into_response()
        }
    }
}

async fn export(state: Arc<ServerState>, headers: HeaderMap, form: HashMap<String, String>) -> Response {
    let fault = state.faults.lock().unwrap().pop_front();
    let authorized = is_authorized(&headers);
    if !authorized || fault == Some(Fault::Unauthorized) {
        let body = xml_messages("WARN", "call not properly authenticated");
        return (StatusCode::UNAUTHORIZED, body).into_response();
    }
    if fault == Some(Fault::Quota) {
        return (StatusCode::SERVICE_UNAVAILABLE, xml_messages("ERROR", QUOTA_TEXT)).into_response();
    }
    if form.get("output_mode").map(String::as_str) != Some("json") {
        let body = xml_messages("ERROR", "this test server speaks output_mode=json only");
        return (StatusCode::BAD_REQUEST, body).into_response();
    }
    let query = form.get("search").cloned().unwrap_or_default();
    let rows = match run(&state, &query) {
        Ok(rows) => rows,
        Err(message) => {
            let body = serde_json::json!({"messages": [{"type": "FATAL", "text": message}]});
            return (StatusCode::BAD_REQUEST, body.to_string()).into_response();
        }
    };
    stream(state, lines(&rows, fault.as_ref()), fault)
}

/// Runs a query on the local engine, answering schema discovery's `tstats`
/// with the equivalent `stats`.
fn run(state: &ServerState, query: &str) -> Result<Vec<serde_json::Value>, String> {
    let local = match query.trim() {
        q if q.starts_with("| tstats count min(_time)") => {
            "search * | stats count min(_time) as earliest max(_time) as latest by index, sourcetype"
                .to_string()
        }
        q if q.starts_with("| tstats count where index=* by host") => {
            "search * | stats count by host".to_string()
        }
        q => q.to_string(),
    };
    let results = state.backend.search_blocking(&local).map_err(|e| e.to_string())?;
    Ok(results.rows.iter().map(|row| serde_json::to_value(row).expect("row is JSON")).collect())
}

/// The export stream for `rows`: one preview line, the final rows with
/// `lastrow` on the last, shaped by the fault.
fn lines(rows: &[serde_json::Value], fault: Option<&Fault>) -> Vec<String> {
    match fault {
        Some(Fault::EmptyBody) => return Vec::new(),
        Some(Fault::Fatal(text)) => {
            let line = serde_json::json!({"preview": false, "messages": [{"type": "FATAL", "text": text}]});
            return vec![line.to_string()];
        }
        _ => {}
    }
    let mut lines = Vec::new();
    if let Some(first) = rows.first() {
        let preview = serde_json::json!({"preview": true, "offset": 0, "result": first});
        lines.push(preview.to_string());
        lines.push(String::new());
    }
    let info = serde_json::json!({"preview": false, "messages": [
        {"type": "INFO", "text": "served by the argus test server"}]});
    lines.push(info.to_string());
    for (offset, row) in rows.iter().enumerate() {
        let mut line = serde_json::json!({"preview": false, "offset": offset, "result": row});
        if offset + 1 == rows.len() {
            line["lastrow"] = true.into();
        }
        lines.push(line.to_string());
    }
    if rows.is_empty() {
        lines.push(serde_json::json!({"preview": false, "offset": 0, "lastrow": true}).to_string());
    }
    match fault {
        Some(Fault::Truncated) => {
            lines.pop();
        }
        Some(Fault::CutLine) => {
            let last = lines.len() - 1;
            let cut = lines[last].len() / 2;
            lines[last].truncate(cut);
        }
        _ => {}
    }
    lines
}

fn stream(state: Arc<ServerState>, lines: Vec<String>, fault: Option<Fault>) -> Response {
    let delay = match fault {
        Some(Fault::Slow(delay)) => Some(delay),
        _ => None,
    };
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    tokio::spawn(async move {
        // A short pause lets concurrent searches overlap, so the cap is observable.
        tokio::time::sleep(Duration::from_millis(20)).await;
        for line in lines {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            if sender.send(Ok(format!("{line}\n"))).await.is_err() {
                break;
            }
        }
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
    });
    let body = Body::from_stream(tokio_stream(receiver));
    ([("content-type", "application/json")], body).into_response()
}

fn tokio_stream(
    mut receiver: tokio::sync::mpsc::Receiver<Result<String, std::io::Error>>,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> {
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

async fn login(body: Bytes) -> Response {
    let form = parse_form(&body);
    let username = form.get("username").map(String::as_str);
    let password = form.get("password").map(String::as_str);
    if username != Some(USERNAME) || password != Some(PASSWORD) {
        return (StatusCode::UNAUTHORIZED, xml_messages("WARN", "Login failed")).into_response();
    }
    if form.get("output_mode").map(String::as_str) == Some("json") {
        serde_json::json!({"sessionKey": SESSION_KEY}).to_string().into_response()
    } else {
        format!("<response>\n  <sessionKey>{SESSION_KEY}</sessionKey>\n</response>\n").into_response()
    }
}

/// The Atom entry `splunklib` reads to choose between the export endpoints.
async fn server_info() -> Response {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest">
  <title>server-info</title>
  <entry>
    <title>server-info</title>
    <content type="text/xml">
      <s:dict>
        <s:key name="version">9.1.2</s:key>
        <s:key name="instance_type">download</s:key>
      </s:dict>
    </content>
  </entry>
</feed>
"#;
    ([("content-type", "text/xml")], body).into_response()
}

/// Parses a form-encoded body whatever its `Content-Type`, as splunkd does
/// (splunklib posts forms without that header).
fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn xml_messages(kind: &str, text: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <messages>\n    \
         <msg type=\"{kind}\">{text}</msg>\n  </messages>\n</response>\n"
    )
}
