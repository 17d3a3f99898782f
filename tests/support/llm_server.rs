//! Scripted loopback server for the model provider tests.
//!
//! The server sends the next queued [`Reply`] (status, headers, body,
//! optional delay) for every POST and records each request it received, so
//! tests can check the path, the headers and the JSON body a client sent.
//! The `*_ok` and `*_error` helpers build responses in each provider's wire
//! format. An exhausted queue returns 500.

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
