//! Keeps the scripted model servers honest: each provider's official Python
//! client (`openai`, `anthropic`, `google-genai`) must parse the scripted
//! response, the scripted tool-call answer and the scripted error body, and
//! must send its request to the same path as the Rust clients. For an
//! answer schema, the tools (or Gemini's response schema) that the official
//! client puts on the wire are compared with those the Rust client sends.

#[path = "support/llm_server.rs"]
mod llm_server;

use argus::llm::prompt::{planner_answer_schema, PLAN_TOOL};
use argus::llm::{ChatMessage, ChatRequest, Role};
use llm_server::{LlmServer, Reply, Wire};
use serde_json::{json, Value};

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
    run_client_with(provider, replies, None).await
}

/// Runs the official client like [`run_client`], passing `schema` (name,
/// description, schema) for the tool and response-schema modes.
async fn run_client_with(
    provider: &'static str,
    replies: Vec<Reply>,
    schema: Option<Value>,
) -> (Vec<Value>, Vec<llm_server::Recorded>) {
    let calls = replies.len().to_string();
    let server = LlmServer::start(replies).await;
    let base_url = server.base_url();
    let mut args = vec![
        SCRIPT.to_string(),
        provider.to_string(),
        base_url,
        KEY.to_string(),
        calls,
    ];
    args.extend(schema.map(|s| s.to_string()));
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").args(&args).output()
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

/// The planner's answer schema as the Python script takes it.
fn schema_argument() -> Value {
    let schema = planner_answer_schema();
    json!({"name": schema.name, "description": schema.description, "schema": schema.schema})
}

/// A planning answer, as the arguments of the planner's tool.
fn plan_arguments() -> Value {
    json!({"done": false, "reason": "check the source", "actions": [
        {"action": "correlate_ioc", "args": {"indicator": "5.101.40.81"}, "reason": "intel"}
    ]})
}

/// Sends a planning request with the Rust client of `wire` and returns the
/// request body it put on the wire.
async fn rust_request(wire: Wire, reply: Reply) -> Value {
    let server = LlmServer::start(vec![reply]).await;
    let request = ChatRequest {
        system: "You triage alerts.".to_string(),
        messages: vec![ChatMessage {
            role: Role::User,
            content: "first question".to_string(),
        }],
        max_tokens: 64,
        temperature: 0.0,
        json: true,
        answer_schema: Some(planner_answer_schema()),
    };
    wire.model(&server).complete(&request).await.unwrap();
    server.requests()[0].json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_client_reads_tool_call() {
    if !python_module_available("openai", "openai==3.60.0") {
        return;
    }
    let arguments = plan_arguments();
    let reply = llm_server::openai_tool_call(PLAN_TOOL, &arguments, 21, 8);
    let (parsed, sent) =
        run_client_with("openai-tools", vec![reply.clone()], Some(schema_argument())).await;
    assert_eq!(parsed[0]["tool"], PLAN_TOOL, "{parsed:?}");
    assert_eq!(parsed[0]["arguments"], arguments);
    assert_eq!(parsed[0]["input"], 21);
    assert_eq!(parsed[0]["output"], 8);
    let official = sent[0].json();
    let ours = rust_request(Wire::OpenAi, reply).await;
    assert_eq!(ours["tools"], official["tools"]);
    assert_eq!(ours["tool_choice"], official["tool_choice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_client_reads_tool_use() {
    if !python_module_available("anthropic", "anthropic==2.17.0") {
        return;
    }
    let arguments = plan_arguments();
    let reply = llm_server::anthropic_tool_use(PLAN_TOOL, &arguments, 33, 11);
    let (parsed, sent) = run_client_with(
        "anthropic-tools",
        vec![reply.clone()],
        Some(schema_argument()),
    )
    .await;
    assert_eq!(parsed[0]["tool"], PLAN_TOOL, "{parsed:?}");
    assert_eq!(parsed[0]["arguments"], arguments);
    assert_eq!(parsed[0]["input"], 33);
    assert_eq!(parsed[0]["output"], 11);
    let official = sent[0].json();
    let ours = rust_request(Wire::Anthropic, reply).await;
    assert_eq!(ours["tools"], official["tools"]);
    assert_eq!(ours["tool_choice"], official["tool_choice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_client_reads_schema_answer() {
    if !python_module_available("google.genai", "google-genai==3.6.1") {
        return;
    }
    let arguments = plan_arguments();
    let reply = llm_server::gemini_tool_json(&arguments, 17, 6);
    let (parsed, sent) = run_client_with(
        "gemini-schema",
        vec![reply.clone()],
        Some(schema_argument()),
    )
    .await;
    let text = parsed[0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{parsed:?}"));
    assert_eq!(serde_json::from_str::<Value>(text).unwrap(), arguments);
    assert_eq!(parsed[0]["input"], 17);
    let official = &sent[0].json()["generationConfig"];
    let ours = rust_request(Wire::Gemini, reply).await;
    assert_eq!(
        ours["generationConfig"]["responseMimeType"],
        official["responseMimeType"]
    );
    let official_schema = comparable_schema(&official["responseSchema"]);
    assert_eq!(ours["generationConfig"]["responseSchema"], official_schema);
}

/// Renames the snake_case schema keys google-genai 3.6.1 writes (`any_of`)
/// to the camelCase names of Gemini's REST reference, and drops the keys the
/// Rust client leaves out on purpose: `property_ordering`, which google-genai
/// adds on its own, and `additional_properties`, which google-genai passes
/// on but which Gemini's REST `Schema` reference does not list.
fn comparable_schema(value: &Value) -> Value {
    match value {
        Value::Object(map) => map
            .iter()
            .filter(|(key, _)| {
                !matches!(key.as_str(), "property_ordering" | "additional_properties")
            })
            .map(|(key, value)| {
                let key = if key == "any_of" {
                    "anyOf".to_string()
                } else {
                    key.clone()
                };
                (key, comparable_schema(value))
            })
            .collect(),
        Value::Array(items) => items.iter().map(comparable_schema).collect(),
        other => other.clone(),
    }
}
