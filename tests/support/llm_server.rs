//! Scripted loopback server for the model provider tests.
//!
//! The server sends the next queued [`Reply`] (status, headers, body,
//! optional delay) for every POST and records each request it received, so
//! tests can check the path, the headers and the JSON body a client sent.
//! The `*_ok` and `*_error` helpers build responses in each provider's wire
//! format, the `*_tool_*` helpers build each provider's tool-call answer,
//! and [`Wire`] builds a client for a provider with the same encoding. A
//! test may queue more replies while the server runs ([`LlmServer::push`]).
//! An exhausted queue returns 500.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

/// One scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply::raw(status, &body.to_string())
    }

    pub fn raw(status: u16, body: &str) -> Reply {
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        Reply {
            status,
            headers,
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// One request the server received; header names are lowercase.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub query: Option<String>,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

/// A running scripted server on 127.0.0.1; stops when dropped.
pub struct LlmServer {
    pub addr: SocketAddr,
    script: Arc<Script>,
    task: tokio::task::JoinHandle<()>,
}

impl LlmServer {
    pub async fn start(replies: Vec<Reply>) -> LlmServer {
        let script = Arc::new(Script::default());
        script.replies.lock().unwrap().extend(replies);
        let state = Arc::clone(&script);
        let app = Router::new().fallback(move |method, uri, headers, body| {
            answer(Arc::clone(&state), method, uri, headers, body)
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        LlmServer { addr, script, task }
    }

    /// `http://127.0.0.1:PORT` with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.script.requests.lock().unwrap().clone()
    }

    /// Queues one more reply behind those already queued.
    pub fn push(&self, reply: Reply) {
        self.script.replies.lock().unwrap().push_back(reply);
    }
}

impl Drop for LlmServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    script: Arc<Script>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "only POST is scripted").into_response();
    }
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = String::from_utf8_lossy(&body).into_owned();
    let recorded = Recorded {
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers,
        body,
    };
    script.requests.lock().unwrap().push(recorded);
    let next = script.replies.lock().unwrap().pop_front();
    let Some(reply) = next else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "script exhausted").into_response();
    };
    tokio::time::sleep(reply.delay).await;
    let mut response = reply.body.into_response();
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (name, value) in reply.headers {
        let name = HeaderName::try_from(name).unwrap();
        response
            .headers_mut()
            .insert(name, HeaderValue::try_from(value).unwrap());
    }
    response
}

pub fn openai_ok(text: &str, input: u64, output: u64) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "chatcmpl-test1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-test-0001",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": null},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": input,
                "completion_tokens": output,
                "total_tokens": input + output
            }
        }),
    )
}

pub fn openai_error(status: u16, kind: &str, message: &str) -> Reply {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    Reply::json(status, body)
}

pub fn anthropic_ok(text: &str, input: u64, output: u64) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "msg_test1",
            "type": "message",
            "role": "assistant",
            "model": "claude-test-0001",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": input, "output_tokens": output}
        }),
    )
}

pub fn anthropic_error(status: u16, kind: &str, message: &str) -> Reply {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    Reply::json(status, body)
}

pub fn gemini_ok(text: &str, input: u64, output: u64) -> Reply {
    Reply::json(
        200,
        json!({
            "candidates": [{
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "STOP",
                "index": 0
            }],
            "usageMetadata": {
                "promptTokenCount": input,
                "candidatesTokenCount": output,
                "totalTokenCount": input + output
            },
            "modelVersion": "gemini-test-0001"
        }),
    )
}

pub fn gemini_error(status: u16, kind: &str, message: &str) -> Reply {
    let body = json!({"error": {"code": status, "message": message, "status": kind}});
    Reply::json(status, body)
}

/// Builds an OpenAI chat completion whose message is one call of tool `name`.
/// The `arguments` are sent as a JSON string, as OpenAI sends them.
pub fn openai_tool_call(name: &str, arguments: &Value, input: u64, output: u64) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "chatcmpl-test2",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-test-0001",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": null,
                    "refusal": null,
                    "tool_calls": [{
                        "id": "call_test1",
                        "type": "function",
                        "function": {"name": name, "arguments": arguments.to_string()}
                    }]
                },
                "logprobs": null,
                "finish_reason": "tool_calls"
            }],
            "usage": {
                "prompt_tokens": input,
                "completion_tokens": output,
                "total_tokens": input + output
            }
        }),
    )
}

/// Builds an Anthropic message whose content is one `tool_use` block.
pub fn anthropic_tool_use(name: &str, input_object: &Value, input: u64, output: u64) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "msg_test2",
            "type": "message",
            "role": "assistant",
            "model": "claude-test-0001",
            "content": [{
                "type": "tool_use",
                "id": "toolu_test1",
                "name": name,
                "input": input_object
            }],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {"input_tokens": input, "output_tokens": output}
        }),
    )
}

/// Builds a Gemini response under `responseSchema`, with the JSON object as the text part.
pub fn gemini_tool_json(value: &Value, input: u64, output: u64) -> Reply {
    gemini_ok(&value.to_string(), input, output)
}

/// A provider's wire format, for tests that run every provider alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    OpenAiCompatible,
    Anthropic,
    Gemini,
}

impl Wire {
    pub const ALL: [Wire; 4] = [
        Wire::OpenAi,
        Wire::OpenAiCompatible,
        Wire::Anthropic,
        Wire::Gemini,
    ];

    /// Returns the provider name the client reports.
    pub fn name(self) -> &'static str {
        match self {
            Wire::OpenAi => "openai",
            Wire::OpenAiCompatible => "openai-compatible",
            Wire::Anthropic => "anthropic",
            Wire::Gemini => "gemini",
        }
    }

    /// Returns the path each request is posted to, for model `test-model`.
    pub fn path(self) -> &'static str {
        match self {
            Wire::OpenAi | Wire::OpenAiCompatible => "/v1/chat/completions",
            Wire::Anthropic => "/v1/messages",
            Wire::Gemini => "/v1beta/models/test-model:generateContent",
        }
    }

    /// Builds the provider's response that calls tool `name` with `arguments`
    /// (for Gemini, the JSON text that `responseSchema` asks for).
    pub fn tool_reply(self, name: &str, arguments: &Value) -> Reply {
        match self {
            Wire::OpenAi | Wire::OpenAiCompatible => openai_tool_call(name, arguments, 40, 20),
            Wire::Anthropic => anthropic_tool_use(name, arguments, 40, 20),
            Wire::Gemini => gemini_tool_json(arguments, 40, 20),
        }
    }

    /// Builds the provider's plain text response.
    pub fn text_reply(self, text: &str) -> Reply {
        match self {
            Wire::OpenAi | Wire::OpenAiCompatible => openai_ok(text, 40, 20),
            Wire::Anthropic => anthropic_ok(text, 40, 20),
            Wire::Gemini => gemini_ok(text, 40, 20),
        }
    }

    /// Returns the tool definitions, or Gemini's response schema, of a recorded request.
    pub fn sent_schema(self, request: &Recorded) -> Value {
        let body = request.json();
        match self {
            Wire::OpenAi | Wire::OpenAiCompatible | Wire::Anthropic => body["tools"].clone(),
            Wire::Gemini => body["generationConfig"]["responseSchema"].clone(),
        }
    }

    /// Returns the system prompt of a recorded request.
    pub fn sent_system(self, request: &Recorded) -> Value {
        let body = request.json();
        match self {
            Wire::OpenAi | Wire::OpenAiCompatible => body["messages"][0]["content"].clone(),
            Wire::Anthropic => body["system"].clone(),
            Wire::Gemini => body["systemInstruction"]["parts"][0]["text"].clone(),
        }
    }

    /// Builds a client of this provider for `server`, with one attempt per call
    /// so an unexpected extra request fails at once.
    pub fn model(self, server: &LlmServer) -> std::sync::Arc<dyn argus::llm::ChatModel> {
        use argus::llm::anthropic::AnthropicChat;
        use argus::llm::config::{CallSettings, EndpointSettings};
        use argus::llm::gemini::GeminiChat;
        use argus::llm::openai::OpenAiChat;

        let suffix = match self {
            Wire::OpenAi | Wire::OpenAiCompatible => "/v1",
            Wire::Anthropic | Wire::Gemini => "",
        };
        let endpoint = EndpointSettings {
            base_url: format!("{}{suffix}", server.base_url()),
            api_key: Some("wire-test-key".to_string()),
            model: "test-model".to_string(),
            call: CallSettings {
                timeout: Duration::from_secs(10),
                max_attempts: std::num::NonZeroU32::new(1).unwrap(),
                initial_backoff: Duration::from_millis(10),
                max_retry_wait: Duration::from_millis(100),
            },
        };
        match self {
            Wire::OpenAi => std::sync::Arc::new(OpenAiChat::new(endpoint).unwrap()),
            Wire::OpenAiCompatible => {
                std::sync::Arc::new(OpenAiChat::compatible(endpoint).unwrap())
            }
            Wire::Anthropic => std::sync::Arc::new(AnthropicChat::new(endpoint).unwrap()),
            Wire::Gemini => std::sync::Arc::new(GeminiChat::new(endpoint).unwrap()),
        }
    }
}
