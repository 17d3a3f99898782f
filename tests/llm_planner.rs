//! The model-driven planner end to end on the demo evidence, with a scripted model.

mod llm_support;

use argus::analysis::SeverityLevel;
use argus::llm::scripted::ScriptedModel;
use argus::llm::ModelInfo;
use argus::report::Report;

use llm_support::{answer, done, investigate, playbook_report, step_names, SSH_ALERT};

const C2: &str = "91.207.175.249";
const HOST: &str = "gacrux.i-0920036c8ca91e501";

/// The model's own path for the SSH alert: the C2 address first, then processes.
fn model_path() -> Vec<String> {
    vec![
        answer(
            "correlate_ioc",
            &format!(r#"{{"indicator": "{C2}"}}"#),
            "is the login source known-bad?",
        ),
        answer(
            "check_process_execution",
            &format!(r#"{{"host": "{HOST}"}}"#),
            "what ran on the target?",
        ),
        done("the login source and the commands tell the story"),
    ]
}

fn summary(text: &str, verdict: &str, severity: &str) -> String {
    serde_json::json!({
        "summary": text, "verdict": verdict, "confidence": "high",
        "reasons": ["model reason"], "severity": severity, "severity_reason": "model says so"
    })
    .to_string()
}

fn run_model_path() -> Report {
    let mut script = model_path();
    script.push(summary(
        "Brute force from 5.101.40.81 then C2 to 91.207.175.249.",
        "true_positive",
        "LOW",
    ));
    investigate(ScriptedModel::new(script), Default::default(), SSH_ALERT).0
}

#[test]
fn model_path_is_followed() {
    let report = run_model_path();
    let names = step_names(&report);
    assert_eq!(
        names,
        [
            "fetch_alert_data",
            "discover_schema",
            "correlate_ioc",
            "check_process_execution"
        ]
    );
}

#[test]
fn model_path_differs_from_playbook() {
    let playbook = playbook_report(SSH_ALERT);
    assert_eq!(step_names(&playbook)[2], "check_login_success");
}

#[test]
fn step_reasons_are_model_reasons() {
    let report = run_model_path();
    assert_eq!(report.steps[2].reason, "is the login source known-bad?");
    assert_eq!(report.steps[3].reason, "what ran on the target?");
}

#[test]
fn decisions_are_recorded() {
    let report = run_model_path();
    let llm = report.llm.as_ref().expect("llm record");
    let outcomes: Vec<(usize, &str)> = llm
        .decisions
        .iter()
        .map(|d| (d.iteration, d.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (1, "accepted"),
            (2, "accepted"),
            (3, "done"),
            (0, "accepted")
        ]
    );
    assert_eq!(
        llm.decisions[0].actions,
        [format!(r#"correlate_ioc({{"indicator":"{C2}"}})"#)]
    );
    assert_eq!(
        llm.decisions[2].reason,
        "the login source and the commands tell the story"
    );
}

#[test]
fn planner_info_names_model() {
    let report = run_model_path();
    assert_eq!(report.planner.kind, "scripted");
    assert_eq!(report.planner.model.as_deref(), Some("scripted"));
}

#[test]
fn model_calls_are_audited() {
    let report = run_model_path();
    let purposes: Vec<&str> = report
        .model_calls
        .iter()
        .map(|c| c.purpose.as_str())
        .collect();
    assert_eq!(purposes, ["plan", "plan", "plan", "summary"]);
    let first = &report.model_calls[0];
    assert!(first.response.contains("correlate_ioc"));
    assert!(first.request.messages[0]
        .content
        .contains("SSH Brute Force Detected"));
    assert!(first.input_tokens > 0);
}

#[test]
fn cost_uses_prices() {
    let settings = argus::agent::llm_planner::LlmPlannerSettings {
        price_input_per_million: 2_000_000.0,
        price_output_per_million: 1_000_000.0,
        ..Default::default()
    };
    let (report, _) = investigate(ScriptedModel::new(model_path()), settings, SSH_ALERT);
    let llm = report.llm.as_ref().unwrap();
    let expected = 2.0 * llm.input_tokens as f64 + llm.output_tokens as f64;
    assert!(
        (llm.cost - expected).abs() < 1e-6,
        "cost {} expected {expected}",
        llm.cost
    );
    assert!(llm.input_tokens > 0);
}

#[test]
fn summary_marks_unverified_address() {
    let mut script = model_path();
    script.push(summary(
        &format!("C2 to {C2}; staging on 203.0.113.77."),
        "true_positive",
        "LOW",
    ));
    let (report, _) = investigate(ScriptedModel::new(script), Default::default(), SSH_ALERT);
    assert!(
        report.summary.contains("[unverified: 203.0.113.77]"),
        "{}",
        report.summary
    );
    assert!(
        !report.summary.contains(&format!("[unverified: {C2}]")),
        "{}",
        report.summary
    );
    assert_eq!(report.llm.unwrap().unverified, ["203.0.113.77"]);
}

#[test]
fn summary_marks_unverified_time() {
    let mut script = model_path();
    script.push(summary(
        "Activity at 1999-01-01 00:00 UTC.",
        "true_positive",
        "LOW",
    ));
    let (report, _) = investigate(ScriptedModel::new(script), Default::default(), SSH_ALERT);
    assert!(
        report.summary.contains("[unverified: 1999-01-01 00:00]"),
        "{}",
        report.summary
    );
}

#[test]
fn severity_floor_holds_against_low() {
    let floor = investigate(ScriptedModel::new(model_path()), no_summary(), SSH_ALERT)
        .0
        .severity
        .level;
    let report = run_model_path();
    assert_eq!(report.severity.level, floor);
    assert!(floor > SeverityLevel::Low);
}

#[test]
fn severity_raise_is_kept_with_reason() {
    let floor = investigate(ScriptedModel::new(model_path()), no_summary(), SSH_ALERT)
        .0
        .severity
        .level;
    let mut script = model_path();
    script.push(summary("Compromise.", "true_positive", "CRITICAL"));
    let (report, _) = investigate(ScriptedModel::new(script), Default::default(), SSH_ALERT);
    assert_eq!(report.severity.level, SeverityLevel::Critical);
    if floor < SeverityLevel::Critical {
        let last = report.severity.reasons.last().unwrap();
        assert!(
            last.contains("raised") && last.contains("model says so"),
            "{last}"
        );
    }
}

#[test]
fn false_positive_verdict_rejected() {
    let mut script = model_path();
    script.push(summary("Nothing happened.", "false_positive", "LOW"));
    let (report, _) = investigate(ScriptedModel::new(script), Default::default(), SSH_ALERT);
    let verdict = report.verdict.unwrap();
    assert_eq!(verdict.verdict, "true_positive");
    assert_eq!(verdict.source, "analysis");
    assert!(
        verdict.reasons.iter().any(|r| r.contains("rejected")),
        "{:?}",
        verdict.reasons
    );
}

#[test]
fn playbook_report_has_verdict() {
    let report = playbook_report(SSH_ALERT);
    let verdict = report.verdict.unwrap();
    assert_eq!(verdict.verdict, "true_positive");
    assert_eq!(verdict.source, "analysis");
}

#[test]
fn masking_hides_entities() {
    let info = ModelInfo {
        provider: "cloud".into(),
        model: "m".into(),
        remote: true,
    };
    let script = vec![
        answer("correlate_ioc", r#"{"indicator": "IP_1"}"#, "check IP_1"),
        done("enough"),
    ];
    let model = ScriptedModel::new(script).with_info(info);
    let (report, requests) = investigate(model, no_summary(), SSH_ALERT);
    for request in &requests {
        let text = request
            .messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<String>();
        assert!(!text.contains("5.101.40.81"), "address leaked");
        assert!(!text.contains("gacrux"), "host leaked");
    }
    assert!(requests[0].messages[0].content.contains("IP_1"));
    assert!(report.llm.as_ref().unwrap().masking);
    assert_eq!(report.steps[2].name, "correlate_ioc");
    assert_eq!(report.steps[2].reason, "check 5.101.40.81");
    assert!(report
        .evidence
        .iter()
        .any(|e| e.action == "correlate_ioc" && e.query.contains("5.101.40.81")));
}

#[test]
fn masking_off_for_local_model() {
    let (report, requests) = investigate(ScriptedModel::new([done("x")]), no_summary(), SSH_ALERT);
    assert!(!report.llm.unwrap().masking);
    assert!(requests[0].messages[0].content.contains("5.101.40.81"));
}

#[test]
fn replay_is_deterministic() {
    let first = run_model_path();
    let replay = ScriptedModel::from_calls(&first.model_calls);
    let (second, _) = investigate(replay, Default::default(), SSH_ALERT);
    let steps = |r: &Report| {
        r.steps
            .iter()
            .map(|s| (s.name.clone(), s.reason.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(steps(&first), steps(&second));
    let findings = |r: &Report| {
        r.findings
            .iter()
            .map(|f| (f.id.clone(), f.title.clone(), f.count))
            .collect::<Vec<_>>()
    };
    assert_eq!(findings(&first), findings(&second));
    assert_eq!(first.summary, second.summary);
    assert_eq!(first.severity.level, second.severity.level);
}

fn no_summary() -> argus::agent::llm_planner::LlmPlannerSettings {
    argus::agent::llm_planner::LlmPlannerSettings {
        write_summary: false,
        ..Default::default()
    }
}

#[test]
fn masked_replay_follows_same_path() {
    let info = ModelInfo {
        provider: "cloud".into(),
        model: "m".into(),
        remote: true,
    };
    let script = vec![
        answer("correlate_ioc", r#"{"indicator": "IP_1"}"#, "check IP_1"),
        done("enough"),
    ];
    let (first, _) = investigate(
        ScriptedModel::new(script).with_info(info),
        no_summary(),
        SSH_ALERT,
    );
    let planner = argus::agent::llm_planner::LlmPlanner::replay(&first, no_summary());
    assert!(planner.masking());
    let second = llm_support::run_planner(std::sync::Arc::new(planner), SSH_ALERT);
    let steps = |r: &Report| {
        r.steps
            .iter()
            .map(|s| (s.name.clone(), s.reason.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(steps(&first), steps(&second));
    assert_eq!(second.planner.kind, "cloud");
}

#[test]
fn masking_keeps_field_and_generic_names() {
    // The attacked account is literally named `user`, like the alert field.
    let alert = SSH_ALERT.replace(r#""user": "git""#, r#""user": "user""#);
    assert_ne!(alert, SSH_ALERT, "the demo alert names the account git");
    let info = ModelInfo {
        provider: "cloud".into(),
        model: "m".into(),
        remote: true,
    };
    let script = vec![answer("discover_schema", "{}", "look"), done("enough")];
    let model = ScriptedModel::new(script).with_info(info);
    let (_, requests) = investigate(model, no_summary(), &alert);
    let first = &requests[0].messages[0].content;
    assert!(first.contains(r#""user": "user""#), "{first}");
    assert!(!first.contains(r#""USER_1": "#), "{first}");
    assert!(!first.contains("gacrux"), "host leaked");
    let last = &requests.last().unwrap().messages[0].content;
    assert!(!last.contains("SourcetypeSummary"), "{last}");
    assert!(last.contains("sourcetype linux_secure: "), "{last}");
}

#[test]
fn planner_reasons_not_marked_unverified() {
    let failure =
        "request to http://127.0.0.1:18099/v1/chat/completions failed: connection refused";
    let outcomes = vec![
        Ok(answer(
            "correlate_ioc",
            r#"{"indicator": "5.101.40.81"}"#,
            "compare 5.101.40.81 with 198.51.100.9",
        )),
        Err(failure.to_string()),
    ];
    let (report, _) = investigate(
        ScriptedModel::with_outcomes(outcomes),
        no_summary(),
        SSH_ALERT,
    );
    let llm = report.llm.as_ref().unwrap();

    let model_step = report
        .steps
        .iter()
        .find(|s| s.name == "correlate_ioc")
        .expect("the model's step ran");
    assert_eq!(
        model_step.reason,
        "compare 5.101.40.81 with [unverified: 198.51.100.9]"
    );
    for step in report.steps.iter().filter(|s| s.name != "correlate_ioc") {
        assert!(!step.reason.contains("[unverified"), "{}", step.reason);
    }
    let fallbacks: Vec<_> = llm
        .decisions
        .iter()
        .filter(|d| d.outcome == "fallback")
        .collect();
    assert!(
        !fallbacks.is_empty(),
        "the failed call falls back to the playbook"
    );
    for decision in fallbacks {
        assert!(
            !decision.reason.contains("[unverified"),
            "{}",
            decision.reason
        );
    }
    assert!(
        llm.decisions[1]
            .reason
            .contains("http://127.0.0.1:18099/v1"),
        "{}",
        llm.decisions[1].reason
    );
    assert_eq!(llm.unverified, ["198.51.100.9"]);
}

#[test]
fn masking_hides_indexer_names() {
    // The demo alert names indexer splunk-idx01 in `splunk_server` and `_si`.
    // `_si` gets another indexer here so each field is checked on its own.
    let alert = SSH_ALERT.replace(
        r#""_si": ["splunk-idx01", "main"]"#,
        r#""_si": ["splunk-idx02", "main"]"#,
    );
    assert_ne!(alert, SSH_ALERT, "the demo alert has `_si`");
    let info = ModelInfo {
        provider: "cloud".into(),
        model: "m".into(),
        remote: true,
    };
    let script = vec![answer("discover_schema", "{}", "look"), done("enough")];
    let model = ScriptedModel::new(script).with_info(info);
    let (_, requests) = investigate(model, no_summary(), &alert);
    let first = &requests[0].messages[0].content;
    assert!(first.contains(r#""splunk_server": "#), "the field name stays readable: {first}");
    for request in &requests {
        let text: String = request.messages.iter().map(|m| m.content.as_str()).collect();
        assert!(!text.contains("splunk-idx01"), "splunk_server leaked: {text}");
        assert!(!text.contains("splunk-idx02"), "_si indexer leaked: {text}");
    }
    assert!(first.contains(r#""index": "main""#), "the index name stays readable: {first}");
}
