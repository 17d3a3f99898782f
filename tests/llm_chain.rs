//! The provider fallback chain under the model planner: which provider
//! decided each step, the playbook when every provider fails, the masking
//! rule, and a full investigation through two loopback provider servers.

#[path = "support/llm_server.rs"]
mod llm_server;
#[path = "llm_support/mod.rs"]
mod llm_support;

use std::sync::Arc;

use argus::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use argus::llm::chain::ChainModel;
use argus::llm::scripted::ScriptedModel;
use argus::llm::{ChatModel, ModelInfo};
use argus::report::Report;
use llm_server::{gemini_error, openai_ok, LlmServer};
use llm_support::{answer, done, run_planner, SSH_ALERT};

const SUMMARY: &str = r#"{"summary": "Brute force, then a login from a known C2 address.",
    "verdict": "true_positive", "reasons": ["intel match"]}"#;

fn correlate() -> String {
    answer(
        "correlate_ioc",
        r#"{"indicator": "91.207.175.249"}"#,
        "is the login source known-bad?",
    )
}

fn scripted(provider: &str, remote: bool, outcomes: Vec<Result<String, String>>) -> ScriptedModel {
    ScriptedModel::with_outcomes(outcomes).with_info(ModelInfo {
        provider: provider.into(),
        model: format!("{provider}-model"),
        remote,
    })
}

fn investigate(model: Arc<dyn ChatModel>) -> Report {
    let planner = Arc::new(LlmPlanner::new(model, LlmPlannerSettings::default()));
    run_planner(planner, SSH_ALERT)
}

#[test]
fn decisions_name_answering_provider() {
    let first = Arc::new(scripted("gemini", false, vec![Err("unreachable".into())]));
    let second = Arc::new(scripted(
        "openai",
        false,
        vec![Ok(correlate()), Ok(done("known C2")), Ok(SUMMARY.into())],
    ));
    let chain = ChainModel::new(first.clone(), vec![second.clone()]);
    let report = investigate(Arc::new(chain));
    let llm = report.llm.as_ref().unwrap();

    assert_eq!(llm.provider, "gemini,openai");
    let outcomes: Vec<&str> = llm.decisions.iter().map(|d| d.outcome.as_str()).collect();
    assert_eq!(outcomes, ["accepted", "done", "accepted"]);
    for decision in &llm.decisions {
        assert_eq!(decision.decided_by.as_deref(), Some("openai/openai-model"));
    }
    // After gemini failed once, later calls start at openai.
    assert_eq!(first.requests().len(), 1);
    assert_eq!(second.requests().len(), 3);
}

#[test]
fn calls_record_answering_provider() {
    let first = Arc::new(scripted("gemini", false, vec![Err("unreachable".into())]));
    let second = Arc::new(scripted(
        "openai",
        false,
        vec![Ok(correlate()), Ok(done("known C2")), Ok(SUMMARY.into())],
    ));
    let report = investigate(Arc::new(ChainModel::new(first, vec![second])));

    // Gemini's failed attempt on the first call, then openai's three answers.
    assert_eq!(report.model_calls.len(), 4);
    let attempt = &report.model_calls[0];
    assert!(attempt.chain_attempt);
    assert_eq!(attempt.provider.as_deref(), Some("gemini"));
    assert_eq!(attempt.model.as_deref(), Some("gemini-model"));
    assert!(attempt.error.as_deref().unwrap().contains("unreachable"));
    assert_eq!(attempt.purpose, "plan");
    for call in &report.model_calls[1..] {
        assert!(!call.chain_attempt);
        assert_eq!(call.provider.as_deref(), Some("openai"));
        assert_eq!(call.model.as_deref(), Some("openai-model"));
        assert_eq!(call.error, None);
    }
}

#[test]
fn replay_skips_failed_chain_attempts() {
    let first = Arc::new(scripted("gemini", false, vec![Err("unreachable".into())]));
    let second = Arc::new(scripted(
        "openai",
        false,
        vec![Ok(correlate()), Ok(done("known C2")), Ok(SUMMARY.into())],
    ));
    let report = investigate(Arc::new(ChainModel::new(first, vec![second])));
    let replay = LlmPlanner::replay(&report, LlmPlannerSettings::default());
    let replayed = run_planner(Arc::new(replay), SSH_ALERT);

    let steps = |r: &Report| r.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    assert_eq!(steps(&replayed), steps(&report));
    let decisions = |r: &Report| {
        let llm = r.llm.as_ref().unwrap();
        llm.decisions.iter().map(|d| (d.outcome.clone(), d.actions.clone(), d.decided_by.clone())).collect::<Vec<_>>()
    };
    assert_eq!(decisions(&replayed), decisions(&report));
}

#[test]
fn single_provider_decided_by_itself() {
    let model = scripted(
        "anthropic",
        false,
        vec![Ok(correlate()), Ok(done("known C2")), Ok(SUMMARY.into())],
    );
    let report = investigate(Arc::new(model));
    let llm = report.llm.as_ref().unwrap();
    assert_eq!(llm.decisions.len(), 3);
    for decision in &llm.decisions {
        assert_eq!(
            decision.decided_by.as_deref(),
            Some("anthropic/anthropic-model")
        );
    }
}

#[test]
fn all_fail_falls_back_to_playbook() {
    // Both scripts are empty, so every call to either provider fails.
    let first = Arc::new(scripted("gemini", false, Vec::new()));
    let second = Arc::new(scripted("openai", false, Vec::new()));
    let report = investigate(Arc::new(ChainModel::new(first, vec![second])));
    let llm = report.llm.as_ref().unwrap();

    let fallbacks: Vec<_> = llm
        .decisions
        .iter()
        .filter(|d| d.outcome == "fallback")
        .collect();
    assert!(!fallbacks.is_empty());
    for decision in &fallbacks {
        assert_eq!(decision.decided_by.as_deref(), Some("playbook"));
        assert!(
            decision.reason.contains("every provider failed"),
            "{}",
            decision.reason
        );
        assert!(
            decision.reason.contains("gemini (unavailable)"),
            "{}",
            decision.reason
        );
        assert!(
            decision.reason.contains("openai (unavailable)"),
            "{}",
            decision.reason
        );
    }
    // The failed summary call leaves its decision without a decider.
    let summary = llm.decisions.iter().find(|d| d.iteration == 0).unwrap();
    assert_eq!(summary.decided_by, None);
    for call in &report.model_calls {
        assert_eq!(call.provider.as_deref(), Some("gemini,openai"));
        assert!(call
            .error
            .as_deref()
            .unwrap()
            .contains("every provider failed"));
    }
}

#[test]
fn masking_on_when_any_remote() {
    let local = || Arc::new(scripted("openai-compatible", false, Vec::new())) as Arc<dyn ChatModel>;
    let remote = Arc::new(scripted("gemini", true, Vec::new()));

    let mixed = ChainModel::new(local(), vec![remote]);
    let planner = LlmPlanner::new(Arc::new(mixed), LlmPlannerSettings::default());
    assert!(planner.masking());

    let all_local = ChainModel::new(local(), vec![local()]);
    let planner = LlmPlanner::new(Arc::new(all_local), LlmPlannerSettings::default());
    assert!(!planner.masking());
}

#[tokio::test(flavor = "multi_thread")]
async fn second_server_decides_after_500() {
    // The Gemini server returns 500 for every request; the OpenAI server
    // returns the plans and the summary.
    let gemini = LlmServer::start(vec![gemini_error(500, "INTERNAL", "backend error")]).await;
    let openai = LlmServer::start(vec![
        openai_ok(&correlate(), 100, 20),
        openai_ok(&done("the login source is known C2"), 120, 10),
        openai_ok(SUMMARY, 150, 30),
    ])
    .await;
    let gemini_url = gemini.base_url();
    let openai_url = format!("{}/v1", openai.base_url());
    let model = argus::llm::config::from_lookup(|name| match name {
        "LLM_PROVIDER" => Some("gemini,openai".into()),
        "LLM_MAX_ATTEMPTS" => Some("1".into()),
        "LLM_TIMEOUT_SECS" => Some("5".into()),
        "GEMINI_API_KEY" => Some("g-test-key".into()),
        "GEMINI_BASE_URL" => Some(gemini_url.clone()),
        "OPENAI_API_KEY" => Some("o-test-key".into()),
        "OPENAI_BASE_URL" => Some(openai_url.clone()),
        _ => None,
    })
    .unwrap()
    .unwrap();

    let report = tokio::task::spawn_blocking(move || investigate(model))
        .await
        .unwrap();
    let llm = report.llm.as_ref().unwrap();

    let steps: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        steps,
        ["fetch_alert_data", "discover_schema", "correlate_ioc"]
    );
    assert_eq!(llm.decisions.len(), 3);
    for decision in &llm.decisions {
        assert_eq!(decision.decided_by.as_deref(), Some("openai/gpt-test-0001"));
    }
    assert_eq!(gemini.requests().len(), 1);
    assert_eq!(openai.requests().len(), 3);
    assert!(
        llm.masking,
        "gemini and openai are cloud providers, so masking is on on loopback too"
    );
}
