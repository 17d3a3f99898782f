//! The five demo alerts investigated through the Splunk backend, against the
//! REST test server serving the demo evidence, give the same reports as
//! through the local backend.

#[path = "support/splunk_server.rs"]
mod splunk_server;

use std::sync::Arc;

use argus::agent::playbook::PlaybookPlanner;
use argus::agent::sink::NullSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::demo;
use argus::evidence::EvidenceStore;
use argus::report::{Report, Status};
use argus::search::local::LocalBackend;
use argus::search::splunk::{SplunkBackend, SplunkSettings};
use argus::search::SearchBackend;
use splunk_server::TestServer;

fn demo_store() -> EvidenceStore {
    let mut store = EvidenceStore::new();
    demo::ingest(&mut store);
    store
}

async fn investigate(backend: Arc<dyn SearchBackend>, name: &str) -> Report {
    let alert = Alert::from_json(demo::alert_json(name).unwrap()).unwrap();
    let agent = Agent::new(backend, Arc::new(PlaybookPlanner), Arc::new(NullSink), AgentConfig::default());
    agent.investigate(&alert).await.expect("investigation succeeds")
}

/// Each step's name and whether it succeeded; the schema step's summary
/// differs (Splunk's `tstats` lists no fields), so summaries are left out.
fn step_outcomes(report: &Report) -> Vec<(String, bool)> {
    report.steps.iter().map(|s| (s.name.clone(), s.status == Status::Ok)).collect()
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reports_match_local() {
    let server = TestServer::start(demo_store()).await;
    let env = server.env();
    let settings = SplunkSettings::from_lookup(|name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap();
    let splunk: Arc<dyn SearchBackend> = Arc::new(SplunkBackend::new(settings).unwrap());
    let local: Arc<dyn SearchBackend> = Arc::new(LocalBackend::new(demo_store(), "demo"));
    for name in demo::ALERT_NAMES {
        let expected = investigate(local.clone(), name).await;
        let report = investigate(splunk.clone(), name).await;
        assert_eq!(report.backend.kind, "splunk");
        assert!(!expected.findings.is_empty(), "{name}: the local report has findings");
        assert_eq!(report.findings.len(), expected.findings.len(), "{name}: findings");
        assert_eq!(json(&report.findings), json(&expected.findings), "{name}: findings");
        assert_eq!(json(&report.techniques), json(&expected.techniques), "{name}: techniques");
        assert_eq!(json(&report.indicators), json(&expected.indicators), "{name}: indicators");
        assert_eq!(json(&report.severity), json(&expected.severity), "{name}: severity");
        assert_eq!(json(&report.timeline), json(&expected.timeline), "{name}: timeline");
        assert_eq!(json(&report.remediation), json(&expected.remediation), "{name}: remediation");
        assert_eq!(report.summary, expected.summary, "{name}: summary");
        assert_eq!(step_outcomes(&report), step_outcomes(&expected), "{name}: steps");
    }
}
