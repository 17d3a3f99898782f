//! Keeps the scripted model servers honest: each provider's official Python
//! client (`openai`, `anthropic`, `google-genai`) must parse the scripted
//! response and the scripted error body, and must send its request to the
//! same path as the Rust clients.

#[path = "support/llm_server.rs"]
mod llm_server;

use llm_server::{LlmServer, Reply};
use serde_json::Value;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/llm_official_client.py"
);
const KEY: &str = "official-client-key";
const TEXT: &str = "{\"action\": \"search\"}";

/// Returns whether python3 can import `module`, printing the skip reason
/// when it cannot.
fn python_module_available(module: &str, package: &str) -> bool {
    let probe = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output();
    let available = matches!(probe, Ok(output) if output.status.success());
    if !available {
        eprintln!("skipped: python3 cannot import {module} (pip install {package})");
    }
    available
}

/// Runs the official client for `provider` once per scripted reply, and
/// returns what it parsed from each with the requests it sent.
async fn run_client(
    provider: &'static str,
    replies: Vec<Reply>,
) -> (Vec<Value>, Vec<llm_server::Recorded>) {
    let calls = replies.len().to_string();
    let server = LlmServer::start(replies).await;
    let base_url = server.base_url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args([SCRIPT, provider, &base_url, KEY, &calls])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{provider} client failed: {stderr}"
    );
    let parsed = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("client prints JSON lines"))
        .collect();
    (parsed, server.requests())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_client_parses_replies() {
    if !python_module_available("openai", "openai==3.60.0") {
        return;
    }
    let error = llm_server::openai_error(401, "invalid_request_error", "Incorrect API key");
    let replies = vec![llm_server::openai_ok(TEXT, 31, 9), error];
    let (parsed, sent) = run_client("openai", replies).await;
    assert_eq!(parsed.len(), 2);
    assert_eq!(sent.len(), 2, "the client does not retry a 401");
    assert_eq!(parsed[0]["text"], TEXT);
    assert_eq!(parsed[0]["input"], 31);
    assert_eq!(parsed[0]["output"], 9);
    assert_eq!(sent[0].path, "/v1/chat/completions");
    let bearer = format!("Bearer {KEY}");
    assert_eq!(sent[0].header("authorization"), Some(bearer.as_str()));
    assert_eq!(parsed[1]["error"], "AuthenticationError");
    assert_eq!(parsed[1]["status"], 401);
    let message = parsed[1]["message"].as_str().unwrap();
    assert!(message.contains("Incorrect API key"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_client_parses_replies() {
    if !python_module_available("anthropic", "anthropic==2.17.0") {
        return;
    }
    let error = llm_server::anthropic_error(429, "rate_limit_error", "Number of requests exceeded");
    let replies = vec![llm_server::anthropic_ok(TEXT, 44, 12), error];
    let (parsed, sent) = run_client("anthropic", replies).await;
    assert_eq!(parsed.len(), 2);
    assert_eq!(sent.len(), 2, "the client runs with retries off");
    assert_eq!(parsed[0]["text"], TEXT);
    assert_eq!(parsed[0]["input"], 44);
    assert_eq!(parsed[0]["output"], 12);
    assert_eq!(sent[0].path, "/v1/messages");
    assert_eq!(sent[0].json()["system"], "You triage alerts.");
    // The official client may send the key as a bearer token and a newer
    // `anthropic-version` than the Rust client; the server accepts both.
    let bearer = format!("Bearer {KEY}");
    let key_sent = sent[0].header("x-api-key") == Some(KEY)
        || sent[0].header("authorization") == Some(bearer.as_str());
    assert!(key_sent, "key missing: {:?}", sent[0].headers);
    assert!(sent[0].header("anthropic-version").is_some());
    assert_eq!(parsed[1]["error"], "RateLimitError");
    assert_eq!(parsed[1]["status"], 429);
    let message = parsed[1]["message"].as_str().unwrap();
    assert!(message.contains("Number of requests exceeded"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_client_parses_replies() {
    if !python_module_available("google.genai", "google-genai==3.6.1") {
        return;
    }
    let error = llm_server::gemini_error(400, "INVALID_ARGUMENT", "Invalid model name");
    let replies = vec![llm_server::gemini_ok(TEXT, 57, 15), error];
    let (parsed, sent) = run_client("gemini", replies).await;
    assert_eq!(parsed.len(), 2);
    assert_eq!(sent.len(), 2);
    assert_eq!(parsed[0]["text"], TEXT);
    assert_eq!(parsed[0]["input"], 57);
    assert_eq!(parsed[0]["output"], 15);
    assert_eq!(sent[0].path, "/v1beta/models/test-model:generateContent");
    assert_eq!(sent[0].header("x-goog-api-key"), Some(KEY));
    let system = &sent[0].json()["systemInstruction"]["parts"][0]["text"];
    assert_eq!(system, "You triage alerts.");
    assert_eq!(parsed[1]["error"], "ClientError");
    assert_eq!(parsed[1]["status"], 400);
    let message = parsed[1]["message"].as_str().unwrap();
    assert!(message.contains("Invalid model name"), "{message}");
}
