//! `argus investigate` with a model planner, against a loopback server that
//! speaks the OpenAI chat-completions protocol.

#[path = "support/llm_server.rs"]
mod llm_server;

use std::process::Command;

use llm_server::{openai_ok, LlmServer};

#[tokio::test(flavor = "multi_thread")]
async fn model_path_is_followed_from_cli() {
    // The model asks for one correlation, then says it is done; the last
    // answer is the narrative summary call.
    let first = r#"{"done": false, "reason": "check the C2 address first",
        "actions": [{"action": "correlate_ioc", "args": {"indicator": "91.207.175.249"},
                     "reason": "is the login source known-bad?"}]}"#;
    let second = r#"{"done": true, "reason": "the login source is known C2", "actions": []}"#;
    let summary = r#"{"summary": "Brute force, then a login from a known C2 address.", "verdict": "true_positive", "reasons": ["intel match"]}"#;
    let server = LlmServer::start(vec![
        openai_ok(first, 100, 20),
        openai_ok(second, 120, 10),
        openai_ok(summary, 150, 30),
    ])
    .await;
    let out = tempfile::tempdir().unwrap();
    let output = tokio::task::spawn_blocking({
        let base = server.base_url();
        let dir = out.path().to_path_buf();
        move || {
            Command::new(env!("CARGO_BIN_EXE_argus"))
                .args(["investigate", "--format", "json", "--out"])
                .arg(&dir)
                .env("LLM_PROVIDER", "openai-compatible")
                .env("OPENAI_BASE_URL", format!("{base}/v1"))
                .env("OPENAI_MODEL", "local-test-model")
                // The key is optional here; keep the OS keyring out of the test.
                .env("ARGUS_KEYRING", "off")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let steps: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(steps, ["fetch_alert_data", "discover_schema", "correlate_ioc"], "{stderr}");
    assert_eq!(report["planner"]["model"], "local-test-model");
    // The floor comes from the findings, whatever the model wrote.
    assert_ne!(report["severity"]["level"], "LOW");
    assert!(!server.requests().is_empty());
}

/// Runs `argus investigate` on the SSH demo against `base` with extra variables.
fn investigate(base: String, dir: std::path::PathBuf, extra: Vec<(&'static str, &'static str)>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_argus"));
    command
        .args(["investigate", "--format", "json", "--out"])
        .arg(&dir)
        .env("LLM_PROVIDER", "openai-compatible")
        .env("OPENAI_BASE_URL", format!("{base}/v1"))
        .env("OPENAI_MODEL", "local-test-model")
        .env("ARGUS_KEYRING", "off");
    for (name, value) in extra {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn planner_settings_reach_the_report() {
    let done = r#"{"done": true, "reason": "enough", "actions": []}"#;
    let summary = r#"{"summary": "Brute force against the SSH server."}"#;
    let server = LlmServer::start(vec![openai_ok(done, 1000, 200), openai_ok(summary, 3000, 400)]).await;
    let out = tempfile::tempdir().unwrap();
    let settings = vec![
        ("LLM_MASKING", "on"),
        ("LLM_PRICE_INPUT", "2"),
        ("LLM_PRICE_OUTPUT", "10"),
        ("LLM_TEMPERATURE", "0.5"),
        ("LLM_MAX_TOKENS", "300"),
    ];
    let output = tokio::task::spawn_blocking({
        let (base, dir) = (server.base_url(), out.path().to_path_buf());
        move || investigate(base, dir, settings)
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    // 4,000 tokens in at 2 per million and 600 out at 10 per million.
    let cost = report["llm"]["cost"].as_f64().unwrap();
    assert!((cost - 0.014).abs() < 1e-9, "{cost}");
    assert_eq!(report["llm"]["masking"], true);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        // The alert's source address is masked before it leaves the machine.
        assert!(!request.body.contains("5.101.40.81"), "{}", request.body);
        let body = request.json();
        assert_eq!(body["temperature"], 0.5);
        assert_eq!(body["max_tokens"], 300);
    }
}

#[test]
fn bad_planner_setting_stops_the_run() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("reports");
    let output = investigate("http://127.0.0.1:9".into(), dir.clone(), vec![("LLM_MASKING", "maybe")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LLM_MASKING"), "{stderr}");
    assert!(stderr.contains("auto, on or off"), "{stderr}");
    assert!(!dir.exists(), "no report folder is made");
}
