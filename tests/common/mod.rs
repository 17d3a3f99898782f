//! Helpers shared by the integration tests: run an investigation end to end.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use argus::agent::playbook::PlaybookPlanner;
use argus::agent::sink::CollectingSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::analysis::{Finding, FindingCategory};
use argus::evidence::EvidenceStore;
use argus::report::Report;
use argus::search::local::LocalBackend;

/// Path of a file under the shared real-data folder, or `None` (with the
/// reason printed) when that folder is absent.
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is absent", path.display());
        None
    }
}

/// Investigates `alert_json` against a store and returns the report and the step events.
pub fn investigate(store: EvidenceStore, alert_json: &str) -> (Report, Arc<CollectingSink>) {
    let alert = Alert::from_json(alert_json).expect("test alert is valid");
    let sink = Arc::new(CollectingSink::default());
    let backend = Arc::new(LocalBackend::new(store, "test evidence"));
    let agent = Agent::new(backend, Arc::new(PlaybookPlanner), sink.clone(), AgentConfig::default());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(agent.investigate(&alert)).expect("investigation succeeds");
    (report, sink)
}

/// Ingests one file or folder into a new store.
pub fn store_from(path: &Path) -> EvidenceStore {
    let mut store = EvidenceStore::new();
    store.ingest_path(path).expect("evidence ingests");
    store
}

/// Findings of one category.
pub fn findings(report: &Report, category: FindingCategory) -> Vec<&Finding> {
    report.findings.iter().filter(|f| f.category == category).collect()
}

/// IDs of the ATT&CK techniques in a report.
pub fn technique_ids(report: &Report) -> Vec<&str> {
    report.techniques.iter().map(|t| t.id.as_str()).collect()
}
