//! Provider clients against scripted loopback servers speaking each wire
//! format: responses, headers and body shape, and every failure class
//! (rejected key, rate limit with Retry-After, server error, bad request,
//! malformed JSON, missing fields, timeout, unreachable server), and answer
//! schemas sent as tools or response schemas with tool-call answers read back.

#[path = "support/llm_server.rs"]
mod llm_server;

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use argus::llm::anthropic::AnthropicChat;
use argus::llm::config::{CallSettings, EndpointSettings};
use argus::llm::gemini::GeminiChat;
use argus::llm::openai::OpenAiChat;
use argus::llm::{AnswerSchema, ChatMessage, ChatModel, ChatRequest, LlmFailure, Role};
use llm_server::{LlmServer, Reply, Wire};
use serde_json::{json, Value};

const KEY: &str = "test-key-5f1c9a";

/// Endpoint layout and scripted responses of one provider.
#[derive(Clone, Copy)]
struct Protocol {
    build: fn(EndpointSettings) -> Box<dyn ChatModel>,
    /// Appended to the server address to form the base URL.
    base_suffix: &'static str,
    path: &'static str,
    ok: fn(&str, u64, u64) -> Reply,
    error: fn(u16, &str, &str) -> Reply,
    /// Name of the usage object, which the missing-field case removes.
    usage_key: &'static str,
    /// Model name that the `ok` response reports.
    answer_model: &'static str,
    /// Setting that contains the key, named when the key is rejected.
    key_variable: &'static str,
}

const OPENAI: Protocol = Protocol {
    build: |endpoint| Box::new(OpenAiChat::new(endpoint).unwrap()),
    base_suffix: "/v1",
    path: "/v1/chat/completions",
    ok: llm_server::openai_ok,
    error: llm_server::openai_error,
    usage_key: "usage",
    answer_model: "gpt-test-0001",
    key_variable: "OPENAI_API_KEY",
};

const ANTHROPIC: Protocol = Protocol {
    build: |endpoint| Box::new(AnthropicChat::new(endpoint).unwrap()),
    base_suffix: "",
    path: "/v1/messages",
    ok: llm_server::anthropic_ok,
    error: llm_server::anthropic_error,
    usage_key: "usage",
    answer_model: "claude-test-0001",
    key_variable: "ANTHROPIC_API_KEY",
};

const GEMINI: Protocol = Protocol {
    build: |endpoint| Box::new(GeminiChat::new(endpoint).unwrap()),
    base_suffix: "",
    path: "/v1beta/models/test-model:generateContent",
    ok: llm_server::gemini_ok,
    error: llm_server::gemini_error,
    usage_key: "usageMetadata",
    answer_model: "gemini-test-0001",
    key_variable: "GEMINI_API_KEY",
};

fn call_settings(max_attempts: u32, timeout: Duration) -> CallSettings {
    CallSettings {
        timeout,
        max_attempts: NonZeroU32::new(max_attempts).unwrap(),
        initial_backoff: Duration::from_millis(10),
        max_retry_wait: Duration::from_secs(2),
    }
}

fn endpoint(server: &LlmServer, suffix: &str, call: CallSettings) -> EndpointSettings {
    EndpointSettings {
        base_url: format!("{}{suffix}", server.base_url()),
        api_key: Some(KEY.to_string()),
        model: "test-model".to_string(),
        call,
    }
}

fn model(protocol: Protocol, server: &LlmServer, call: CallSettings) -> Box<dyn ChatModel> {
    (protocol.build)(endpoint(server, protocol.base_suffix, call))
}

fn request() -> ChatRequest {
    let message = |role, content: &str| ChatMessage {
        role,
        content: content.to_string(),
    };
    ChatRequest {
        system: "You triage alerts.".to_string(),
        messages: vec![
            message(Role::User, "first question"),
            message(Role::Assistant, "first answer"),
            message(Role::User, "second question"),
        ],
        max_tokens: 256,
        temperature: 0.5,
        json: true,
        answer_schema: None,
    }
}

async fn check_answer_parsed(protocol: Protocol) {
    let server = LlmServer::start(vec![(protocol.ok)("{\"action\":\"stop\"}", 120, 7)]).await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let response = chat.complete(&request()).await.unwrap();
    assert_eq!(response.text, "{\"action\":\"stop\"}");
    assert_eq!(response.input_tokens, 120);
    assert_eq!(response.output_tokens, 7);
    assert_eq!(response.model.as_deref(), Some(protocol.answer_model));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, protocol.path);
    assert_eq!(requests[0].query, None);
    assert!(
        chat.info().remote,
        "a cloud provider is remote even on a loopback base URL"
    );
}

async fn check_auth_rejected(protocol: Protocol) {
    let message = format!("Incorrect API key provided: {KEY}");
    let server = LlmServer::start(vec![(protocol.error)(
        401,
        "authentication_error",
        &message,
    )])
    .await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::Auth);
    assert!(error.message.contains("401"), "{}", error.message);
    assert!(
        error.message.contains("Incorrect API key"),
        "{}",
        error.message
    );
    assert!(
        !error.message.contains(KEY),
        "key echoed: {}",
        error.message
    );
    assert!(!error.to_string().contains(KEY));
    assert!(
        error.message.contains(protocol.key_variable),
        "{}",
        error.message
    );
    assert_eq!(server.requests().len(), 1, "a rejected key is not retried");
}

async fn check_retry_after_honoured(protocol: Protocol) {
    let limited = (protocol.error)(429, "rate_limit_error", "slow down").header("retry-after", "1");
    let server = LlmServer::start(vec![limited, (protocol.ok)("done", 3, 2)]).await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let started = Instant::now();
    let response = chat.complete(&request()).await.unwrap();
    assert_eq!(response.text, "done");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert!(
        response.duration >= Duration::from_secs(1),
        "duration counts the pause"
    );
    assert_eq!(server.requests().len(), 2);
}

async fn check_rate_limit_reported(protocol: Protocol) {
    let limited =
        (protocol.error)(429, "rate_limit_error", "quota exceeded").header("retry-after", "7");
    let server = LlmServer::start(vec![limited]).await;
    let chat = model(protocol, &server, call_settings(1, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::Retryable);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    assert!(
        error.message.contains("quota exceeded"),
        "{}",
        error.message
    );
    assert_eq!(server.requests().len(), 1);
}

async fn check_server_error_retried(protocol: Protocol) {
    let failing = |_| (protocol.error)(500, "api_error", "internal failure");
    let server = LlmServer::start((0..4).map(failing).collect()).await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::Retryable);
    assert_eq!(server.requests().len(), 3, "three attempts in all");
}

async fn check_overload_then_success(protocol: Protocol) {
    let overloaded = (protocol.error)(529, "overloaded_error", "Overloaded");
    let unavailable = (protocol.error)(503, "UNAVAILABLE", "try later");
    let replies = vec![overloaded, unavailable, (protocol.ok)("third time", 1, 1)];
    let server = LlmServer::start(replies).await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let response = chat.complete(&request()).await.unwrap();
    assert_eq!(response.text, "third time");
    assert_eq!(server.requests().len(), 3);
}

async fn check_bad_request(protocol: Protocol) {
    let reply = (protocol.error)(404, "not_found_error", "model: test-model not found");
    let server = LlmServer::start(vec![reply]).await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::BadRequest);
    assert!(
        error.message.contains("model: test-model not found"),
        "{}",
        error.message
    );
    assert_eq!(server.requests().len(), 1, "a bad request is not retried");
}

async fn check_malformed_json(protocol: Protocol) {
    let server = LlmServer::start(vec![Reply::raw(200, "{\"choices\": [")]).await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::Unavailable);
    assert!(error.message.contains("not JSON"), "{}", error.message);
}

async fn check_missing_usage(protocol: Protocol) {
    let mut body: Value = serde_json::from_str(&(protocol.ok)("text", 1, 1).body).unwrap();
    body.as_object_mut().unwrap().remove(protocol.usage_key);
    let server = LlmServer::start(vec![Reply::json(200, body)]).await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::Unavailable);
    assert!(
        error.message.contains(protocol.usage_key),
        "{}",
        error.message
    );
}

async fn check_missing_text(protocol: Protocol) {
    let server = LlmServer::start(vec![Reply::json(200, json!({"id": "x"}))]).await;
    let chat = model(protocol, &server, call_settings(3, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::Unavailable);
    assert!(
        error.message.contains("response has no"),
        "{}",
        error.message
    );
}

async fn check_timeout(protocol: Protocol) {
    let slow = (protocol.ok)("late", 1, 1).delayed(Duration::from_secs(3));
    let server = LlmServer::start(vec![slow]).await;
    let chat = model(
        protocol,
        &server,
        call_settings(3, Duration::from_millis(300)),
    );
    let started = Instant::now();
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::Unavailable);
    assert!(error.message.contains("timed out"), "{}", error.message);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 1, "a timeout is not retried");
}

async fn check_unreachable(protocol: Protocol) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        protocol.base_suffix
    );
    drop(listener);
    let endpoint = EndpointSettings {
        base_url,
        api_key: Some(KEY.to_string()),
        model: "test-model".to_string(),
        call: call_settings(3, Duration::from_secs(5)),
    };
    let error = (protocol.build)(endpoint)
        .complete(&request())
        .await
        .unwrap_err();
    assert_eq!(error.failure, LlmFailure::Unavailable);
    assert!(error.message.contains("failed"), "{}", error.message);
}

macro_rules! protocol_tests {
    ($module:ident, $protocol:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn answer_parsed() {
                check_answer_parsed($protocol).await;
            }

            #[tokio::test]
            async fn auth_rejected() {
                check_auth_rejected($protocol).await;
            }

            #[tokio::test]
            async fn retry_after_honoured() {
                check_retry_after_honoured($protocol).await;
            }

            #[tokio::test]
            async fn rate_limit_reported() {
                check_rate_limit_reported($protocol).await;
            }

            #[tokio::test]
            async fn server_error_retried() {
                check_server_error_retried($protocol).await;
            }

            #[tokio::test]
            async fn overload_then_success() {
                check_overload_then_success($protocol).await;
            }

            #[tokio::test]
            async fn bad_request() {
                check_bad_request($protocol).await;
            }

            #[tokio::test]
            async fn malformed_json() {
                check_malformed_json($protocol).await;
            }

            #[tokio::test]
            async fn missing_usage() {
                check_missing_usage($protocol).await;
            }

            #[tokio::test]
            async fn missing_text() {
                check_missing_text($protocol).await;
            }

            #[tokio::test]
            async fn timeout() {
                check_timeout($protocol).await;
            }

            #[tokio::test]
            async fn unreachable() {
                check_unreachable($protocol).await;
            }
        }
    };
}

protocol_tests!(openai, OPENAI);
protocol_tests!(anthropic, ANTHROPIC);
protocol_tests!(gemini, GEMINI);

#[tokio::test]
async fn openai_request_shape() {
    let server = LlmServer::start(vec![llm_server::openai_ok("ok", 1, 1)]).await;
    let chat = model(OPENAI, &server, call_settings(1, Duration::from_secs(5)));
    chat.complete(&request()).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let body = sent.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You triage alerts."})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": "first question"})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role": "assistant", "content": "first answer"})
    );
    assert_eq!(
        body["messages"][3],
        json!({"role": "user", "content": "second question"})
    );
    assert_eq!(body["messages"].as_array().unwrap().len(), 4);
    assert_eq!(body["max_completion_tokens"], 256);
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
}

#[tokio::test]
async fn openai_compatible_without_key() {
    let mut body: Value = serde_json::from_str(&llm_server::openai_ok("local", 1, 1).body).unwrap();
    body.as_object_mut().unwrap().remove("usage");
    let server = LlmServer::start(vec![Reply::json(200, body)]).await;
    let mut settings = endpoint(&server, "/v1", call_settings(1, Duration::from_secs(5)));
    settings.api_key = None;
    let chat = OpenAiChat::compatible(settings).unwrap();
    let response = chat.complete(&request()).await.unwrap();
    assert_eq!(response.text, "local");
    assert_eq!(response.input_tokens, 0, "local servers may omit usage");
    assert_eq!(chat.info().provider, "openai-compatible");
    let sent = &server.requests()[0];
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.json()["max_tokens"], 256);
    assert!(sent.json().get("max_completion_tokens").is_none());
}

#[tokio::test]
async fn openai_refusal_is_bad_request() {
    let body = json!({
        "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "refusal": "I cannot help with that."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    });
    let server = LlmServer::start(vec![Reply::json(200, body)]).await;
    let chat = model(OPENAI, &server, call_settings(1, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::BadRequest);
    assert!(
        error.message.contains("I cannot help with that."),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn anthropic_request_shape() {
    let server = LlmServer::start(vec![llm_server::anthropic_ok("ok", 1, 1)]).await;
    let chat = model(ANTHROPIC, &server, call_settings(1, Duration::from_secs(5)));
    chat.complete(&request()).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    let body = sent.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["system"], "You triage alerts.");
    assert_eq!(
        body["messages"][0],
        json!({"role": "user", "content": "first question"})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": "first answer"})
    );
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    assert_eq!(body["max_tokens"], 256);
    assert_eq!(body["temperature"], 0.5);
}

#[tokio::test]
async fn anthropic_joins_text_blocks() {
    let body = json!({
        "model": "claude-test",
        "content": [
            {"type": "text", "text": "part one, "},
            {"type": "tool_use", "id": "t1", "name": "x", "input": {}},
            {"type": "text", "text": "part two"}
        ],
        "usage": {"input_tokens": 4, "output_tokens": 5}
    });
    let server = LlmServer::start(vec![Reply::json(200, body)]).await;
    let chat = model(ANTHROPIC, &server, call_settings(1, Duration::from_secs(5)));
    let response = chat.complete(&request()).await.unwrap();
    assert_eq!(response.text, "part one, part two");
}

#[tokio::test]
async fn gemini_request_shape() {
    let server = LlmServer::start(vec![llm_server::gemini_ok("ok", 1, 1)]).await;
    let chat = model(GEMINI, &server, call_settings(1, Duration::from_secs(5)));
    chat.complete(&request()).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert_eq!(sent.query, None, "the key is never put in the URL");
    let body = sent.json();
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "You triage alerts."}]})
    );
    let first = json!({"role": "user", "parts": [{"text": "first question"}]});
    assert_eq!(body["contents"][0], first);
    let second = json!({"role": "model", "parts": [{"text": "first answer"}]});
    assert_eq!(body["contents"][1], second);
    assert_eq!(body["contents"].as_array().unwrap().len(), 3);
    assert_eq!(body["generationConfig"]["maxOutputTokens"], 256);
    assert_eq!(body["generationConfig"]["temperature"], 0.5);
    assert_eq!(
        body["generationConfig"]["responseMimeType"],
        "application/json"
    );
}

#[tokio::test]
async fn gemini_blocked_prompt() {
    let body = json!({
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}
    });
    let server = LlmServer::start(vec![Reply::json(200, body)]).await;
    let chat = model(GEMINI, &server, call_settings(1, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::BadRequest);
    assert!(error.message.contains("SAFETY"), "{}", error.message);
}

#[tokio::test]
async fn retry_after_capped() {
    let limited =
        llm_server::openai_error(429, "rate_limit_error", "slow down").header("retry-after", "120");
    let server = LlmServer::start(vec![limited, llm_server::openai_ok("done", 1, 1)]).await;
    let mut call = call_settings(3, Duration::from_secs(5));
    call.max_retry_wait = Duration::from_millis(200);
    let chat = model(OPENAI, &server, call);
    let started = Instant::now();
    let response = chat.complete(&request()).await.unwrap();
    assert_eq!(response.text, "done");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn gemini_retry_delay_in_body() {
    let body = json!({"error": {
        "code": 429,
        "message": "Resource has been exhausted",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}]
    }});
    let server = LlmServer::start(vec![Reply::json(429, body)]).await;
    let chat = model(GEMINI, &server, call_settings(1, Duration::from_secs(5)));
    let error = chat.complete(&request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::Retryable);
    assert_eq!(error.retry_after, Some(Duration::from_secs(13)));
}

#[tokio::test]
async fn settings_reach_each_server() {
    let cases = [
        (
            "openai",
            "OPENAI",
            "/v1",
            llm_server::openai_ok("via openai", 2, 3),
        ),
        (
            "anthropic",
            "ANTHROPIC",
            "",
            llm_server::anthropic_ok("via anthropic", 2, 3),
        ),
        (
            "gemini",
            "GEMINI",
            "",
            llm_server::gemini_ok("via gemini", 2, 3),
        ),
    ];
    for (provider, prefix, suffix, reply) in cases {
        let server = LlmServer::start(vec![reply]).await;
        let base_url = format!("{}{suffix}", server.base_url());
        let chat = argus::llm::config::from_lookup(|name| match name {
            "LLM_PROVIDER" => Some(provider.to_string()),
            "LLM_TIMEOUT_SECS" => Some("5".to_string()),
            _ if name == format!("{prefix}_API_KEY") => Some(KEY.to_string()),
            _ if name == format!("{prefix}_BASE_URL") => Some(base_url.clone()),
            _ if name == format!("{prefix}_MODEL") => Some("test-model".to_string()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(chat.info().provider, provider);
        assert_eq!(chat.info().model, "test-model");
        let response = chat.complete(&request()).await.unwrap();
        assert_eq!(response.text, format!("via {provider}"));
        assert_eq!(server.requests().len(), 1, "{provider}");
    }
}

/// The request above with an answer schema that the providers send as a tool.
fn schema_request() -> ChatRequest {
    let schema = AnswerSchema {
        name: "report_verdict".to_string(),
        description: "Reports the verdict.".to_string(),
        schema: json!({
            "type": "object",
            "properties": {"verdict": {"type": "string", "enum": ["benign", "malicious"]}},
            "required": ["verdict"],
            "additionalProperties": false
        }),
    };
    ChatRequest {
        answer_schema: Some(schema),
        ..request()
    }
}

#[tokio::test]
async fn openai_tool_request_shape() {
    let arguments = json!({"verdict": "malicious"});
    let reply = llm_server::openai_tool_call("report_verdict", &arguments, 5, 6);
    let server = LlmServer::start(vec![reply]).await;
    let chat = model(OPENAI, &server, call_settings(1, Duration::from_secs(5)));
    let response = chat.complete(&schema_request()).await.unwrap();
    let parsed: Value = serde_json::from_str(&response.text).unwrap();
    assert_eq!(parsed, arguments);
    assert_eq!(response.input_tokens, 5);
    let body = server.requests()[0].json();
    let tool = &body["tools"][0];
    assert_eq!(body["tools"].as_array().unwrap().len(), 1);
    assert_eq!(tool["type"], "function");
    assert_eq!(tool["function"]["name"], "report_verdict");
    assert_eq!(tool["function"]["description"], "Reports the verdict.");
    assert_eq!(
        tool["function"]["parameters"]["required"],
        json!(["verdict"])
    );
    let forced = json!({"type": "function", "function": {"name": "report_verdict"}});
    assert_eq!(body["tool_choice"], forced);
    assert!(body.get("response_format").is_none(), "{body}");
}

#[tokio::test]
async fn openai_text_answer_to_tools() {
    let reply = llm_server::openai_ok("{\"verdict\": \"benign\"}", 1, 1);
    let server = LlmServer::start(vec![reply]).await;
    let chat = model(OPENAI, &server, call_settings(1, Duration::from_secs(5)));
    let response = chat.complete(&schema_request()).await.unwrap();
    assert_eq!(response.text, "{\"verdict\": \"benign\"}");
}

#[tokio::test]
async fn openai_other_tool_named() {
    let reply = llm_server::openai_tool_call("run_spl", &json!({"query": "search x"}), 1, 1);
    let server = LlmServer::start(vec![reply]).await;
    let chat = model(OPENAI, &server, call_settings(1, Duration::from_secs(5)));
    let response = chat.complete(&schema_request()).await.unwrap();
    let parsed: Value = serde_json::from_str(&response.text).unwrap();
    assert_eq!(
        parsed,
        json!({"name": "run_spl", "arguments": {"query": "search x"}})
    );
}

#[tokio::test]
async fn openai_tools_error_not_retried() {
    let reply = llm_server::openai_error(400, "invalid_request_error", "Invalid 'tools[0]'");
    let server = LlmServer::start(vec![reply]).await;
    let chat = model(OPENAI, &server, call_settings(1, Duration::from_secs(5)));
    let error = chat.complete(&schema_request()).await.unwrap_err();
    assert_eq!(error.failure, LlmFailure::BadRequest);
    assert_eq!(
        server.requests().len(),
        1,
        "only compatible servers get a retry"
    );
}

fn compatible(server: &LlmServer) -> OpenAiChat {
    let settings = endpoint(server, "/v1", call_settings(1, Duration::from_secs(5)));
    OpenAiChat::compatible(settings).unwrap()
}

#[tokio::test]
async fn compatible_tools_off() {
    let server = LlmServer::start(vec![llm_server::openai_ok("{\"verdict\": \"x\"}", 1, 1)]).await;
    let chat = compatible(&server).with_tools(false);
    let response = chat.complete(&schema_request()).await.unwrap();
    assert_eq!(response.text, "{\"verdict\": \"x\"}");
    let body = server.requests()[0].json();
    assert!(body.get("tools").is_none(), "{body}");
    assert!(body.get("tool_choice").is_none(), "{body}");
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
}

#[tokio::test]
async fn compatible_retries_without_tools() {
    let rejected = llm_server::openai_error(
        400,
        "invalid_request_error",
        "tools param requires --jinja flag",
    );
    let answer = |text: &str| llm_server::openai_ok(text, 1, 1);
    let replies = vec![
        rejected,
        answer("{\"verdict\": \"a\"}"),
        answer("{\"verdict\": \"b\"}"),
    ];
    let server = LlmServer::start(replies).await;
    let chat = compatible(&server);
    let first = chat.complete(&schema_request()).await.unwrap();
    assert_eq!(first.text, "{\"verdict\": \"a\"}");
    let second = chat.complete(&schema_request()).await.unwrap();
    assert_eq!(second.text, "{\"verdict\": \"b\"}");
    let sent: Vec<Value> = server.requests().iter().map(|r| r.json()).collect();
    assert_eq!(sent.len(), 3);
    assert!(
        sent[0].get("tools").is_some(),
        "the first request offers tools"
    );
    assert!(sent[1].get("tools").is_none(), "the retry sends no tools");
    assert_eq!(sent[1]["response_format"], json!({"type": "json_object"}));
    assert!(sent[2].get("tools").is_none(), "later calls send no tools");
}

#[tokio::test]
async fn compatible_retry_failure_names_both() {
    let rejected =
        llm_server::openai_error(400, "invalid_request_error", "tool_choice unsupported");
    let broken = llm_server::openai_error(400, "invalid_request_error", "context too long");
    let server = LlmServer::start(vec![rejected, broken]).await;
    let error = compatible(&server)
        .complete(&schema_request())
        .await
        .unwrap_err();
    assert_eq!(error.failure, LlmFailure::BadRequest);
    assert!(
        error.message.contains("context too long"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("tool_choice unsupported"),
        "{}",
        error.message
    );
    assert!(error.message.contains("without tools"), "{}", error.message);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn anthropic_tool_request_shape() {
    let input = json!({"verdict": "benign"});
    let reply = llm_server::anthropic_tool_use("report_verdict", &input, 8, 9);
    let server = LlmServer::start(vec![reply]).await;
    let chat = model(ANTHROPIC, &server, call_settings(1, Duration::from_secs(5)));
    let response = chat.complete(&schema_request()).await.unwrap();
    let parsed: Value = serde_json::from_str(&response.text).unwrap();
    assert_eq!(parsed, input);
    assert_eq!(response.output_tokens, 9);
    let body = server.requests()[0].json();
    let tool = &body["tools"][0];
    assert_eq!(body["tools"].as_array().unwrap().len(), 1);
    assert_eq!(tool["name"], "report_verdict");
    assert_eq!(tool["description"], "Reports the verdict.");
    assert_eq!(tool["input_schema"]["type"], "object");
    assert_eq!(tool["input_schema"]["required"], json!(["verdict"]));
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "report_verdict"})
    );
}

#[tokio::test]
async fn anthropic_text_answer_to_tools() {
    let reply = llm_server::anthropic_ok("{\"verdict\": \"benign\"}", 1, 1);
    let server = LlmServer::start(vec![reply]).await;
    let chat = model(ANTHROPIC, &server, call_settings(1, Duration::from_secs(5)));
    let response = chat.complete(&schema_request()).await.unwrap();
    assert_eq!(response.text, "{\"verdict\": \"benign\"}");
}

#[tokio::test]
async fn gemini_schema_request_shape() {
    let reply = llm_server::gemini_tool_json(&json!({"verdict": "benign"}), 2, 3);
    let server = LlmServer::start(vec![reply]).await;
    let chat = model(GEMINI, &server, call_settings(1, Duration::from_secs(5)));
    let response = chat.complete(&schema_request()).await.unwrap();
    assert_eq!(response.text, "{\"verdict\":\"benign\"}");
    let config = &server.requests()[0].json()["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    let expected = json!({
        "type": "OBJECT",
        "properties": {"verdict": {"type": "STRING", "enum": ["benign", "malicious"]}},
        "required": ["verdict"]
    });
    assert_eq!(config["responseSchema"], expected);
}

#[tokio::test]
async fn gemini_skips_thought_parts() {
    let body = json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "thinking about it", "thought": true},
            {"text": "{\"verdict\": \"benign\"}"}
        ]}}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1}
    });
    let server = LlmServer::start(vec![Reply::json(200, body)]).await;
    let chat = model(GEMINI, &server, call_settings(1, Duration::from_secs(5)));
    let response = chat.complete(&schema_request()).await.unwrap();
    assert_eq!(response.text, "{\"verdict\": \"benign\"}");
}

#[tokio::test]
async fn planner_schema_per_provider() {
    let schema = argus::llm::prompt::planner_answer_schema();
    let request = ChatRequest {
        answer_schema: Some(schema.clone()),
        ..request()
    };
    for wire in Wire::ALL {
        let server = LlmServer::start(vec![wire.text_reply("{\"done\": true}")]).await;
        wire.model(&server).complete(&request).await.unwrap();
        let sent = wire.sent_schema(&server.requests()[0]);
        let text = sent.to_string();
        match wire {
            Wire::Gemini => {
                assert!(!text.contains("additionalProperties"), "{wire:?}: {text}");
                assert_eq!(sent["properties"]["actions"]["type"], "ARRAY");
            }
            Wire::Anthropic => assert_eq!(sent[0]["input_schema"], schema.schema),
            _ => assert_eq!(sent[0]["function"]["parameters"], schema.schema),
        }
        assert!(text.contains("check_lateral_movement"), "{wire:?}");
    }
}
