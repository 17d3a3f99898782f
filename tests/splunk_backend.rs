//! The Splunk backend end to end against the REST test server.

#[path = "support/splunk_server.rs"]
mod splunk_server;

use std::sync::Arc;
use std::time::Duration;

use argus::demo;
use argus::evidence::EvidenceStore;
use argus::search::local::{schema_of, LocalBackend};
use argus::search::splunk::{SplunkBackend, SplunkSettings};
use argus::search::{FailureClass, SearchBackend, SearchError};
use splunk_server::{Fault, TestServer};

/// Failed logins in the demo evidence, counted by source address.
const FAILURES_BY_SOURCE: &str =
    "sourcetype=linux_secure \"Failed password\" | stats count by src_ip | sort -count";

fn demo_store() -> EvidenceStore {
    let mut store = EvidenceStore::new();
    demo::ingest(&mut store);
    store
}

fn settings(server: &TestServer, extra: &[(&str, &str)]) -> SplunkSettings {
    let mut env = server.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    // Short pauses keep the retry tests fast.
    let mut settings = SplunkSettings::from_lookup(|name| {
        env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .expect("test settings are valid");
    settings.backoff = Duration::from_millis(10);
    settings
}

fn backend(server: &TestServer, extra: &[(&str, &str)]) -> SplunkBackend {
    SplunkBackend::new(settings(server, extra)).expect("client builds")
}

fn local_rows(query: &str) -> Vec<argus::event::Row> {
    LocalBackend::new(demo_store(), "demo").search_blocking(query).unwrap().rows
}

#[tokio::test]
async fn search_returns_local_rows() {
    let server = TestServer::start(demo_store()).await;
    let results = backend(&server, &[]).search(FAILURES_BY_SOURCE).await.unwrap();
    let expected = local_rows(FAILURES_BY_SOURCE);
    assert!(expected.len() >= 2, "the demo has several attacking sources");
    assert_eq!(results.rows, expected);
    assert_eq!(results.messages, vec!["INFO: served by the argus test server"]);
}

#[tokio::test]
async fn search_prefix_and_form_sent() {
    let server = TestServer::start(demo_store()).await;
    let backend = backend(&server, &[("SPL_TIME_WINDOW", "-24h")]);
    backend.search("sourcetype=linux_secure | head 1").await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.path, "/services/search/v2/jobs/export");
    assert_eq!(request.form["search"], "search sourcetype=linux_secure | head 1");
    assert_eq!(request.form["output_mode"], "json");
    assert_eq!(request.form["earliest_time"], "-24h");
    assert_eq!(request.form["latest_time"], "now");
    assert_eq!(request.authorization.as_deref(), Some("Bearer test-token-7f3a"));
}

#[tokio::test]
async fn v2_not_found_falls_back() {
    let server = TestServer::start(demo_store()).await;
    server.state.no_v2.store(true, std::sync::atomic::Ordering::SeqCst);
    let backend = backend(&server, &[]);
    let results = backend.search(FAILURES_BY_SOURCE).await.unwrap();
    assert_eq!(results.rows, local_rows(FAILURES_BY_SOURCE));
    backend.search(FAILURES_BY_SOURCE).await.unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    let v1 = "/services/search/jobs/export";
    assert_eq!(paths, vec!["/services/search/v2/jobs/export", v1, v1]);
}

#[tokio::test]
async fn wrong_token_is_auth_failure() {
    let server = TestServer::start(demo_store()).await;
    let backend = backend(&server, &[("SPLUNK_TOKEN", "wrong")]);
    let err = backend.search("sshd").await.unwrap_err();
    assert_eq!(err.class(), FailureClass::Auth);
    assert!(err.to_string().contains("call not properly authenticated"), "{err}");
    assert_eq!(server.requests().len(), 1, "auth failures are not retried");
}

#[tokio::test]
async fn password_login_uses_session_key() {
    let server = TestServer::start(demo_store()).await;
    let env = [
        ("SPLUNK_TOKEN", ""),
        ("SPLUNK_USERNAME", splunk_server::USERNAME),
        ("SPLUNK_PASSWORD", splunk_server::PASSWORD),
    ];
    let backend = backend(&server, &env);
    backend.search("sshd | head 1").await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.authorization.as_deref(), Some("Splunk session-key-42"));
}

#[tokio::test]
async fn wrong_password_is_auth_failure() {
    let server = TestServer::start(demo_store()).await;
    let env = [("SPLUNK_TOKEN", ""), ("SPLUNK_USERNAME", "analyst"), ("SPLUNK_PASSWORD", "nope")];
    let err = backend(&server, &env).search("sshd").await.unwrap_err();
    assert_eq!(err.class(), FailureClass::Auth);
    assert!(!err.to_string().contains("nope"), "the password leaked: {err}");
}

#[tokio::test]
async fn quota_retried_then_succeeds() {
    let server = TestServer::start(demo_store()).await;
    server.script([Fault::Quota, Fault::Quota]);
    let results = backend(&server, &[]).search(FAILURES_BY_SOURCE).await.unwrap();
    assert_eq!(results.rows, local_rows(FAILURES_BY_SOURCE));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn quota_gives_up_after_retries() {
    let server = TestServer::start(demo_store()).await;
    server.script([Fault::Quota, Fault::Quota, Fault::Quota]);
    let err = backend(&server, &[("SPLUNK_RETRIES", "2")]).search("sshd").await.unwrap_err();
    assert!(matches!(err, SearchError::Quota(ref m) if m.contains("concurrent historical")), "{err}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn slow_stream_times_out() {
    let server = TestServer::start(demo_store()).await;
    server.script([Fault::Slow(Duration::from_millis(400))]);
    let mut settings = settings(&server, &[]);
    settings.search_timeout = Duration::from_millis(300);
    let err = SplunkBackend::new(settings).unwrap().search("sshd").await.unwrap_err();
    assert!(matches!(err, SearchError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn slow_stream_within_timeout_completes() {
    let server = TestServer::start(demo_store()).await;
    server.script([Fault::Slow(Duration::from_millis(5))]);
    let results = backend(&server, &[]).search(FAILURES_BY_SOURCE).await.unwrap();
    assert_eq!(results.rows, local_rows(FAILURES_BY_SOURCE));
}

#[tokio::test]
async fn truncated_stream_is_error() {
    let server = TestServer::start(demo_store()).await;
    server.script([Fault::Truncated]);
    let err = backend(&server, &[]).search(FAILURES_BY_SOURCE).await.unwrap_err();
    assert!(matches!(err, SearchError::Protocol(ref m) if m.contains("truncated")), "{err}");
}

#[tokio::test]
async fn cut_line_is_error() {
    let server = TestServer::start(demo_store()).await;
    server.script([Fault::CutLine]);
    let err = backend(&server, &[]).search(FAILURES_BY_SOURCE).await.unwrap_err();
    assert!(matches!(err, SearchError::Protocol(_)), "{err}");
}

#[tokio::test]
async fn fatal_message_is_bad_query() {
    let server = TestServer::start(demo_store()).await;
    server.script([Fault::Fatal("Error in 'search' command: Unbalanced quotes.".into())]);
    let err = backend(&server, &[]).search("sshd").await.unwrap_err();
    assert!(matches!(err, SearchError::BadQuery(ref m) if m.contains("Unbalanced")), "{err}");
    assert_eq!(server.requests().len(), 1, "bad queries are not retried");
}

#[tokio::test]
async fn empty_body_is_error() {
    let server = TestServer::start(demo_store()).await;
    server.script([Fault::EmptyBody]);
    let err = backend(&server, &[]).search("sshd").await.unwrap_err();
    assert!(matches!(err, SearchError::Protocol(ref m) if m.contains("empty body")), "{err}");
}

#[tokio::test]
async fn unsupported_command_is_bad_query() {
    let server = TestServer::start(demo_store()).await;
    let err = backend(&server, &[]).search("sshd | eventstats count").await.unwrap_err();
    assert_eq!(err.class(), FailureClass::BadQuery);
    assert!(err.to_string().contains("eventstats"), "{err}");
}

#[tokio::test]
async fn guard_refuses_before_sending() {
    let server = TestServer::start(demo_store()).await;
    let err = backend(&server, &[]).search("sshd | outputlookup x.csv").await.unwrap_err();
    assert!(matches!(err, SearchError::Refused(_)), "{err}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn unreachable_server_is_network_failure() {
    let server = TestServer::start(demo_store()).await;
    // Port 9 (discard) on loopback is closed on the test machine.
    let mut settings = settings(&server, &[("SPLUNK_PORT", "9"), ("SPLUNK_RETRIES", "1")]);
    settings.backoff = Duration::from_millis(1);
    let err = SplunkBackend::new(settings).unwrap().search("sshd").await.unwrap_err();
    assert!(matches!(err, SearchError::Network(_)), "{err}");
    let message = err.to_string();
    assert!(message.contains("connection to 127.0.0.1:9 failed"), "{message}");
    assert!(message.contains("SPLUNK_HOST"), "{message}");
    assert!(message.contains("SPLUNK_PORT"), "{message}");
}

#[tokio::test]
async fn concurrency_cap_holds() {
    let server = TestServer::start(demo_store()).await;
    server.script((0..6).map(|_| Fault::Slow(Duration::from_millis(5))));
    let backend = Arc::new(backend(&server, &[("SPLUNK_MAX_CONCURRENT_SEARCHES", "2")]));
    let searches = (0..6).map(|_| {
        let backend = backend.clone();
        tokio::spawn(async move { backend.search(FAILURES_BY_SOURCE).await })
    });
    for search in futures::future::join_all(searches).await {
        search.unwrap().unwrap();
    }
    let max = server.state.max_in_flight.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(max, 2);
}

#[tokio::test]
async fn schema_matches_local_store() {
    let server = TestServer::start(demo_store()).await;
    let schema = backend(&server, &[]).schema().await.unwrap();
    let local = schema_of(&demo_store());
    assert_eq!(schema.indexes, local.indexes);
    assert_eq!(schema.hosts, local.hosts);
    assert_eq!(schema.event_count, local.event_count);
    assert_eq!(schema.time_range.map(|(lo, hi)| (lo / 1_000_000, hi / 1_000_000)),
               local.time_range.map(|(lo, hi)| (lo / 1_000_000, hi / 1_000_000)));
    let names: Vec<&str> = schema.sourcetypes.iter().map(|s| s.sourcetype.as_str()).collect();
    let local_names: Vec<&str> = local.sourcetypes.iter().map(|s| s.sourcetype.as_str()).collect();
    assert_eq!(names, local_names);
    let counts: Vec<u64> = schema.sourcetypes.iter().map(|s| s.event_count).collect();
    let local_counts: Vec<u64> = local.sourcetypes.iter().map(|s| s.event_count).collect();
    assert_eq!(counts, local_counts);
}
