//! Keeps the scripted model servers honest: each provider's official Python
//! client (`openai`, `anthropic`, `google-genai`) must parse the scripted
//! response, and must send its request to the same path as the Rust clients.

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

/// Runs the official client for `provider` against a server scripted with
/// `reply`, returns its parsed output and the one request it sent.
async fn run_client(provider: &'static str, reply: Reply) -> (Value, llm_server::Recorded) {
    let server = LlmServer::start(vec![reply]).await;
    let base_url = server.base_url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args([SCRIPT, provider, &base_url, KEY])
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
    let parsed = serde_json::from_slice(&output.stdout).expect("client prints JSON");
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{provider} client sent one request");
    (parsed, requests[0].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_client_parses_answer() {
    if !python_module_available("openai", "openai==3.60.0") {
        return;
    }
    let (parsed, sent) = run_client("openai", llm_server::openai_ok(TEXT, 31, 9)).await;
    assert_eq!(parsed["text"], TEXT);
    assert_eq!(parsed["input"], 31);
    assert_eq!(parsed["output"], 9);
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_client_parses_answer() {
    if !python_module_available("anthropic", "anthropic==2.17.0") {
        return;
    }
    let (parsed, sent) = run_client("anthropic", llm_server::anthropic_ok(TEXT, 44, 12)).await;
    assert_eq!(parsed["text"], TEXT);
    assert_eq!(parsed["input"], 44);
    assert_eq!(parsed["output"], 12);
    assert_eq!(sent.path, "/v1/messages");
    // The official client may send the key as a bearer token and a newer
    // `anthropic-version` than the Rust client; the server accepts both.
    let bearer = format!("Bearer {KEY}");
    let key_sent = sent.header("x-api-key") == Some(KEY)
        || sent.header("authorization") == Some(bearer.as_str());
    assert!(
        key_sent,
        "key missing from x-api-key and authorization: {:?}",
        sent.headers
    );
    assert!(sent.header("anthropic-version").is_some());
    assert_eq!(sent.json()["system"], "You triage alerts.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_client_parses_answer() {
    if !python_module_available("google.genai", "google-genai==3.6.1") {
        return;
    }
    let (parsed, sent) = run_client("gemini", llm_server::gemini_ok(TEXT, 57, 15)).await;
    assert_eq!(parsed["text"], TEXT);
    assert_eq!(parsed["input"], 57);
    assert_eq!(parsed["output"], 15);
    assert_eq!(sent.path, "/v1beta/models/test-model:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    let system = &sent.json()["systemInstruction"]["parts"][0]["text"];
    assert_eq!(system, "You triage alerts.");
}
