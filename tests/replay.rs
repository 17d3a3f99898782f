//! `argus replay`: a model-planned investigation recorded by `argus investigate`
//! (against a loopback server speaking OpenAI chat completions) re-runs from its
//! report and comes out the same, leaving out ids, times and durations.

#[path = "support/llm_server.rs"]
mod llm_server;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use llm_server::{openai_ok, LlmServer};

const C2: &str = "91.207.175.249";
const HOST: &str = "gacrux.i-0920036c8ca91e501";

fn argus(args: &[&str], envs: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_argus"));
    command.args(args).env_remove("LLM_PROVIDER");
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().expect("argus runs")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("report written")).expect("report is JSON")
}

/// Records an investigation whose model first rejects once, then takes its own path.
async fn record(dir: &Path) -> Value {
    let bad = r#"{"done": false, "actions": [{"action": "delete_logs", "args": {}}]}"#;
    let first = format!(
        r#"{{"done": false, "reason": "check the login source",
            "actions": [{{"action": "correlate_ioc", "args": {{"indicator": "{C2}"}},
                          "reason": "is it known-bad?"}},
                        {{"action": "check_process_execution", "args": {{"host": "{HOST}"}},
                          "reason": "what ran?"}}]}}"#
    );
    let done = r#"{"done": true, "reason": "the story is clear", "actions": []}"#;
    let summary = serde_json::json!({
        "summary": "Brute force, then a login from a listed address.",
        "verdict": "true_positive", "confidence": "high", "reasons": ["intel match"],
        "severity": "CRITICAL", "severity_reason": "login from a listed address",
        "attack_chain": [{"text": "Password guessing.", "techniques": ["T1110.001"], "timeline": [0]}],
        "remediation": [{"step": "R1", "text": "Do this first."}]
    })
    .to_string();
    let server = LlmServer::start(vec![
        openai_ok(bad, 100, 10),
        openai_ok(&first, 110, 40),
        openai_ok(done, 120, 10),
        openai_ok(&summary, 150, 60),
    ])
    .await;
    let envs = [
        ("LLM_PROVIDER", "openai-compatible".to_string()),
        ("OPENAI_BASE_URL", format!("{}/v1", server.base_url())),
        ("OPENAI_MODEL", "local-test-model".to_string()),
    ];
    let out = dir.to_str().unwrap().to_string();
    let output = tokio::task::spawn_blocking(move || {
        argus(&["investigate", "--format", "json", "--out", &out], &envs)
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(server.requests().len(), 4, "every scripted answer was used");
    read_json(&dir.join("report.json"))
}

/// Removes the keys that differ between runs by nature: ids, times and durations.
fn without_run_values(value: &Value) -> Value {
    const RUN_KEYS: [&str; 4] = ["id", "generated_at", "started_at", "duration_ms"];
    match value {
        Value::Object(map) => map
            .iter()
            .filter(|(key, _)| !RUN_KEYS.contains(&key.as_str()))
            .map(|(key, v)| (key.clone(), without_run_values(v)))
            .collect(),
        Value::Array(items) => items.iter().map(without_run_values).collect(),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_reproduces_recorded_investigation() {
    let first_dir = tempfile::tempdir().unwrap();
    let original = record(first_dir.path()).await;
    let outcomes: Vec<&str> = original["llm"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["rejected", "accepted", "done", "accepted"]);
    assert_eq!(original["attack_chain"][0]["source"], "model");
    assert_eq!(original["remediation"][0]["model_text"], "Do this first.");

    let second_dir = tempfile::tempdir().unwrap();
    let report_path = first_dir.path().join("report.json");
    let report_arg = report_path.to_str().unwrap().to_string();
    let out_arg = second_dir.path().to_str().unwrap().to_string();
    let output = tokio::task::spawn_blocking(move || {
        argus(&["replay", &report_arg, "--format", "json", "--out", &out_arg], &[])
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let replayed = read_json(&second_dir.path().join("report.json"));

    for field in [
        "steps", "findings", "severity", "verdict", "summary", "attack_chain", "remediation",
        "techniques", "indicators", "timeline",
    ] {
        assert_eq!(
            without_run_values(&replayed[field]),
            without_run_values(&original[field]),
            "{field} differs"
        );
    }
    let decisions = |report: &Value| without_run_values(&report["llm"]["decisions"]);
    assert_eq!(decisions(&replayed), decisions(&original));
    assert_eq!(replayed["llm"]["rejected"], original["llm"]["rejected"]);
    assert_eq!(replayed["planner"], original["planner"]);
    assert_ne!(replayed["id"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_with_calls_removed_fails() {
    let first_dir = tempfile::tempdir().unwrap();
    let mut original = record(first_dir.path()).await;
    // Keep only the rejected first answer: the playbook decides the rest.
    original["model_calls"].as_array_mut().unwrap().truncate(1);
    let report_path = first_dir.path().join("edited.json");
    std::fs::write(&report_path, original.to_string()).unwrap();

    let second_dir = tempfile::tempdir().unwrap();
    let report_arg = report_path.to_str().unwrap().to_string();
    let out_arg = second_dir.path().to_str().unwrap().to_string();
    let output = tokio::task::spawn_blocking(move || {
        argus(&["replay", &report_arg, "--format", "json", "--out", &out_arg], &[])
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("the replay no longer matches report"), "{stderr}");
    // Steps 1 and 2 are fixed; step 3 was the model's first accepted action.
    assert!(
        stderr.contains("step 3 was correlate_ioc and is now "),
        "{stderr}"
    );
    let replayed = read_json(&second_dir.path().join("report.json"));
    let reasons: Vec<&str> = replayed["llm"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("the recording contains no more model answers")),
        "{reasons:?}"
    );
}

#[test]
fn replay_of_playbook_report_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let first = argus(&["investigate", "--format", "json", "--out", out], &[]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let report = dir.path().join("report.json");
    let output = argus(&["replay", report.to_str().unwrap(), "--format", "json"], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no recorded model calls"), "{stderr}");
}

#[test]
fn replay_of_missing_file_names_it() {
    let output = argus(&["replay", "/nonexistent/report.json"], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read report /nonexistent/report.json"), "{stderr}");
}
