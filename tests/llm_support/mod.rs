//! Helpers for the model-driven planner tests: run the demo with a scripted model.

#![allow(dead_code)]

use std::sync::Arc;

use argus::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use argus::agent::planner::Planner;
use argus::agent::playbook::PlaybookPlanner;
use argus::agent::sink::NullSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::evidence::EvidenceStore;
use argus::llm::scripted::ScriptedModel;
use argus::llm::ChatRequest;
use argus::report::Report;
use argus::search::local::LocalBackend;

pub const SSH_ALERT: &str = include_str!("../../demo/alerts/ssh_brute_force.json");

/// A planning answer with one action.
pub fn answer(action: &str, args: &str, reason: &str) -> String {
    format!(
        r#"{{"done": false, "reason": "next", "actions": [{{"action": "{action}", "args": {args}, "reason": "{reason}"}}]}}"#
    )
}

/// A planning answer that ends the investigation.
pub fn done(reason: &str) -> String {
    serde_json::json!({"done": true, "reason": reason, "actions": []}).to_string()
}

pub fn demo_store(extra: &[(&str, &str)]) -> EvidenceStore {
    let mut store = EvidenceStore::new();
    argus::demo::ingest(&mut store);
    for (path, text) in extra {
        store.ingest_bytes(path, text.as_bytes(), None);
    }
    store
}

fn run(store: EvidenceStore, planner: Arc<dyn Planner>, alert_json: &str) -> Report {
    let alert = Alert::from_json(alert_json).expect("test alert is valid");
    let backend = Arc::new(LocalBackend::new(store, "demo evidence"));
    let agent = Agent::new(backend, planner, Arc::new(NullSink), AgentConfig::default());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(agent.investigate(&alert))
        .expect("investigation succeeds")
}

/// Investigates the alert on the demo evidence; returns the report and the model's requests.
pub fn investigate(
    model: ScriptedModel,
    settings: LlmPlannerSettings,
    alert_json: &str,
) -> (Report, Vec<ChatRequest>) {
    investigate_in(demo_store(&[]), model, settings, alert_json)
}

pub fn investigate_in(
    store: EvidenceStore,
    model: ScriptedModel,
    settings: LlmPlannerSettings,
    alert_json: &str,
) -> (Report, Vec<ChatRequest>) {
    let model = Arc::new(model);
    let planner = Arc::new(LlmPlanner::new(model.clone(), settings));
    let report = run(store, planner, alert_json);
    (report, model.requests())
}

/// Investigates the alert on the demo evidence with any planner.
pub fn run_planner(planner: Arc<dyn Planner>, alert_json: &str) -> Report {
    run(demo_store(&[]), planner, alert_json)
}

pub fn playbook_report(alert_json: &str) -> Report {
    run(demo_store(&[]), Arc::new(PlaybookPlanner), alert_json)
}

pub fn playbook_report_in(store: EvidenceStore, alert_json: &str) -> Report {
    run(store, Arc::new(PlaybookPlanner), alert_json)
}

pub fn step_names(report: &Report) -> Vec<&str> {
    report.steps.iter().map(|s| s.name.as_str()).collect()
}
