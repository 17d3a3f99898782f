//! The demo SSH investigation with a model answering in 1 s and searches
//! answering in 200 ms finishes within (model calls x 1 s) + (longest chain of
//! dependent searches x 200 ms) + 10%: independent searches run concurrently
//! and nothing else waits. The tokio clock is paused, so the waits advance
//! virtual time and the bound is checked exactly, whatever the machine's load.

mod llm_support;
#[path = "support/latency.rs"]
mod latency;

use std::sync::Arc;
use std::time::Duration;

use argus::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use argus::agent::sink::NullSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::llm::scripted::ScriptedModel;
use argus::report::Report;
use argus::search::local::LocalBackend;
use serde_json::json;

use latency::{DelayedBackend, DelayedModel};
use llm_support::{demo_store, done, SSH_ALERT};

const MODEL_LATENCY: Duration = Duration::from_secs(1);
const SEARCH_LATENCY: Duration = Duration::from_millis(200);
const HOST: &str = "gacrux.i-0920036c8ca91e501";
const ATTACKER: &str = "5.101.40.81";
const C2: &str = "91.207.175.249";

/// Three independent checks at once, then the processes on the host, then done.
fn script() -> Vec<String> {
    let first = json!({"done": false, "reason": "independent checks", "actions": [
        {"action": "check_login_success", "args": {"host": HOST}, "reason": "any login?"},
        {"action": "correlate_ioc", "args": {"indicator": C2}, "reason": "known C2?"},
        {"action": "expand_to_network_logs", "args": {"ip": ATTACKER}, "reason": "traffic?"}
    ]});
    let second = json!({"done": false, "reason": "after the login", "actions": [
        {"action": "check_process_execution", "args": {"host": HOST}, "reason": "what ran?"}
    ]});
    let summary = json!({"summary": "Brute force, then a login.", "verdict": "true_positive",
                         "confidence": "high", "reasons": ["login"], "attack_chain": [],
                         "remediation": []});
    vec![first.to_string(), second.to_string(), done("enough"), summary.to_string()]
}

/// Counts the searches that had to wait for each other: the alert's own
/// search, the schema request, then per planner iteration the most queries
/// one of its actions ran in sequence (the actions themselves run concurrently).
fn dependent_chain(report: &Report) -> usize {
    let llm = report.llm.as_ref().expect("model record");
    let iterations: Vec<usize> = llm
        .decisions
        .iter()
        .filter(|d| d.iteration > 0 && matches!(d.outcome.as_str(), "accepted" | "fallback"))
        .map(|d| d.actions.len())
        .collect();
    let fetch = report.steps[0].evidence.len();
    assert_eq!(report.steps[1].name, "discover_schema");
    let mut chain = fetch + 1;
    let mut next = 2;
    for actions in iterations {
        let group = &report.steps[next..next + actions];
        chain += group.iter().map(|s| s.evidence.len()).max().unwrap_or(0);
        next += actions;
    }
    assert_eq!(next, report.steps.len(), "every step belongs to one iteration");
    chain
}

#[tokio::test(start_paused = true)]
async fn ssh_demo_meets_latency_bound() {
    let model = DelayedModel {
        inner: ScriptedModel::new(script()),
        latency: MODEL_LATENCY,
    };
    let planner = LlmPlanner::new(Arc::new(model), LlmPlannerSettings::default());
    let local = Arc::new(LocalBackend::new(demo_store(&[]), "demo evidence"));
    let backend = Arc::new(DelayedBackend::new(local, SEARCH_LATENCY));
    let agent = Agent::new(
        backend.clone(),
        Arc::new(planner),
        Arc::new(NullSink),
        AgentConfig::default(),
    );
    let alert = Alert::from_json(SSH_ALERT).unwrap();

    let started = tokio::time::Instant::now();
    let report = agent.investigate(&alert).await.expect("investigation succeeds");
    let elapsed = started.elapsed();

    let calls = report.model_calls.len() as u32;
    assert_eq!(calls, 4, "three planning calls and the summary");
    let chain = dependent_chain(&report) as u32;
    let searches = backend.searches.load(std::sync::atomic::Ordering::SeqCst) as u32;
    assert!(chain < searches, "some searches ran concurrently: chain {chain}, searches {searches}");
    let floor = MODEL_LATENCY * calls + SEARCH_LATENCY * chain;
    let bound = floor.mul_f64(1.1);
    assert!(elapsed >= floor, "{elapsed:?} is below the serial floor {floor:?}");
    assert!(
        elapsed <= bound,
        "{elapsed:?} exceeds {bound:?} ({calls} model calls, chain of {chain} searches)"
    );
    // Only the waits advance the paused clock, so any time past the floor is
    // a wait that could have overlapped another. The 10% margin alone would
    // not notice the three first-iteration searches running one after another.
    assert_eq!(elapsed, floor, "{searches} searches, chain of {chain}");
}
