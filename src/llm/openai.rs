//! OpenAI Chat Completions, also spoken by OpenAI-compatible servers.
//!
//! `POST {base}/chat/completions` with a bearer key; the system prompt goes
//! first in `messages`. A request with an [`AnswerSchema`] sends it as the
//! only entry of `tools` and forces it with `tool_choice`; the answer text is
//! then `choices[0].message.tool_calls[0].function.arguments`, or
//! `message.content` when the server answers in text. Without a schema,
//! JSON answers are requested with `response_format: {"type": "json_object"}`.
//!
//! The same client serves local servers (Ollama, llama.cpp server, vLLM,
//! LM Studio) through their base URL; those get the older `max_tokens`
//! field, which they all accept, and may omit token usage. Many of them
//! ignore or reject `tools`, so tools can be turned off for them
//! (`OPENAI_COMPATIBLE_TOOLS=off`, which asks for a JSON object with
//! `response_format` instead), and a 400 response that names tools is
//! retried once without them. After such a rejection the client sends no
//! tools to that server again.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use serde_json::{json, Value};

use super::config::{EndpointSettings, ProviderKind};
use super::http::{
    join_url, model_info, require, require_count, role_name, tool_call_text, Locality,
    ParsedAnswer, Transport,
};
use super::{AnswerSchema, ChatModel, ChatRequest, ChatResponse, LlmError, LlmFailure, ModelInfo};

/// A chat model behind the OpenAI Chat Completions protocol.
pub struct OpenAiChat {
    endpoint: EndpointSettings,
    kind: ProviderKind,
    transport: Transport,
    /// Whether an [`AnswerSchema`] is sent as a forced tool.
    tools: bool,
    /// Set once the server rejected a request for naming tools.
    tools_rejected: AtomicBool,
}

impl OpenAiChat {
    /// Builds a client for OpenAI's own API.
    pub fn new(endpoint: EndpointSettings) -> Result<OpenAiChat, LlmError> {
        OpenAiChat::with_kind(endpoint, ProviderKind::OpenAi)
    }

    /// Builds a client for an OpenAI-compatible server, with tools on.
    pub fn compatible(endpoint: EndpointSettings) -> Result<OpenAiChat, LlmError> {
        OpenAiChat::with_kind(endpoint, ProviderKind::OpenAiCompatible)
    }

    /// Turns sending answer schemas as tools on or off. With tools off, a
    /// request with a schema asks for a JSON object in `response_format` and
    /// relies on the prompt for its shape.
    pub fn with_tools(mut self, tools: bool) -> OpenAiChat {
        self.tools = tools;
        self
    }

    fn with_kind(endpoint: EndpointSettings, kind: ProviderKind) -> Result<OpenAiChat, LlmError> {
        let key_variable = match kind {
            ProviderKind::OpenAiCompatible => "OPENAI_COMPATIBLE_API_KEY (or OPENAI_API_KEY)",
            _ => "OPENAI_API_KEY",
        };
        let transport = Transport::for_endpoint(kind.name(), &endpoint, key_variable)?;
        Ok(OpenAiChat {
            endpoint,
            kind,
            transport,
            tools: true,
            tools_rejected: AtomicBool::new(false),
        })
    }

    fn body(&self, request: &ChatRequest, tools: bool) -> Value {
        let mut messages = vec![json!({"role": "system", "content": request.system})];
        for message in &request.messages {
            let role = role_name(message.role, "assistant");
            messages.push(json!({"role": role, "content": message.content}));
        }
        let mut body = json!({
            "model": self.endpoint.model,
            "messages": messages,
            "temperature": request.temperature,
        });
        let tokens_field = match self.kind {
            ProviderKind::OpenAi => "max_completion_tokens",
            _ => "max_tokens",
        };
        body[tokens_field] = json!(request.max_tokens);
        match &request.answer_schema {
            Some(schema) if tools => {
                body["tools"] = json!([tool_definition(schema)]);
                body["tool_choice"] =
                    json!({"type": "function", "function": {"name": schema.name}});
            }
            Some(_) => body["response_format"] = json!({"type": "json_object"}),
            None if request.json => body["response_format"] = json!({"type": "json_object"}),
            None => {}
        }
        body
    }

    fn parse(&self, answer: &Value, expected: Option<&str>) -> Result<ParsedAnswer, LlmError> {
        let message = require(&self.transport, answer, "/choices/0/message")?;
        let text = match tool_call(message, expected) {
            Some(text) => text,
            None => self.content(message)?,
        };
        let usage_optional = self.kind == ProviderKind::OpenAiCompatible;
        let count = |pointer: &str| match answer.pointer(pointer) {
            None if usage_optional => Ok(0),
            _ => require_count(&self.transport, answer, pointer),
        };
        Ok(ParsedAnswer {
            text,
            input_tokens: count("/usage/prompt_tokens")?,
            output_tokens: count("/usage/completion_tokens")?,
        })
    }

    /// Reads `message.content`, or raises the refusal sent in its place.
    fn content(&self, message: &Value) -> Result<String, LlmError> {
        if let Some(text) = message.get("content").and_then(Value::as_str) {
            return Ok(text.to_string());
        }
        if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
            let text = format!("model refused the request: {refusal}");
            return Err(self.transport.error(LlmFailure::BadRequest, text));
        }
        let text = "response has no `/choices/0/message/content` text or tool call";
        Err(self.transport.error(LlmFailure::Unavailable, text))
    }

    async fn send(&self, request: &ChatRequest, tools: bool) -> Result<ChatResponse, LlmError> {
        let url = join_url(&self.endpoint.base_url, "chat/completions");
        let mut headers = Vec::new();
        if let Some(key) = &self.endpoint.api_key {
            headers.push(("authorization", format!("Bearer {key}")));
        }
        let expected = request.answer_schema.as_ref().map(|s| s.name.as_str());
        let body = self.body(request, tools);
        self.transport
            .chat(&url, &headers, &body, "/model", |answer| {
                self.parse(answer, expected)
            })
            .await
    }

    /// Returns whether this call sends the answer schema as a tool.
    fn tools_for(&self, request: &ChatRequest) -> bool {
        request.answer_schema.is_some()
            && self.tools
            && !self.tools_rejected.load(Ordering::Relaxed)
    }
}

/// Builds the `tools` entry for an answer schema.
fn tool_definition(schema: &AnswerSchema) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": schema.name,
            "description": schema.description,
            "parameters": schema.schema,
        }
    })
}

/// Reads the first tool call of `message` as answer text, if it has one.
/// `function.arguments` is a JSON string; when it does not parse, the raw
/// string is kept so the answer parser can report what was wrong.
fn tool_call(message: &Value, expected: Option<&str>) -> Option<String> {
    let function = message.pointer("/tool_calls/0/function")?;
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let arguments = match function.get("arguments") {
        Some(Value::String(raw)) => raw.clone(),
        Some(other) => other.to_string(),
        None => "{}".to_string(),
    };
    if expected == Some(name) {
        return Some(arguments);
    }
    let parsed = serde_json::from_str(&arguments).unwrap_or(Value::String(arguments));
    Some(tool_call_text(expected, name, parsed))
}

/// Returns whether a failed call is a bad request that names tools, which local
/// servers send when they cannot take `tools` or `tool_choice`.
fn rejects_tools(error: &LlmError) -> bool {
    error.failure == LlmFailure::BadRequest && error.message.to_lowercase().contains("tool")
}

/// Parses an `OPENAI_COMPATIBLE_TOOLS` value: `on`, `true`, `1` or `yes`
/// turn tools on; `off`, `false`, `0` or `no` turn them off.
pub fn parse_tools_setting(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Some(true),
        "off" | "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[async_trait]
impl ChatModel for OpenAiChat {
    fn info(&self) -> ModelInfo {
        let locality = match self.kind {
            ProviderKind::OpenAiCompatible => Locality::ByBaseUrl,
            _ => Locality::Cloud,
        };
        model_info(self.kind.name(), &self.endpoint, locality)
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let tools = self.tools_for(request);
        let first = self.send(request, tools).await;
        let retry = tools && self.kind == ProviderKind::OpenAiCompatible;
        match first {
            Err(error) if retry && rejects_tools(&error) => {
                self.tools_rejected.store(true, Ordering::Relaxed);
                tracing::warn!(
                    provider = self.kind.name(),
                    model = %self.endpoint.model,
                    error = %error.message,
                    "server rejected tools; retrying without them, and sending none from now on"
                );
                self.send(request, false).await.map_err(|mut retry_error| {
                    retry_error.message = format!(
                        "{}; sent without tools after the server rejected them: {}",
                        retry_error.message, error.message
                    );
                    retry_error
                })
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_setting_values() {
        assert_eq!(parse_tools_setting("on"), Some(true));
        assert_eq!(parse_tools_setting(" OFF "), Some(false));
        assert_eq!(parse_tools_setting("0"), Some(false));
        assert_eq!(parse_tools_setting("maybe"), None);
    }

    #[test]
    fn tool_call_of_requested_tool() {
        let message = json!({"tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "choose_actions", "arguments": "{\"done\": true}"}}]});
        let text = tool_call(&message, Some("choose_actions"));
        assert_eq!(text.as_deref(), Some("{\"done\": true}"));
    }

    #[test]
    fn tool_call_of_other_tool() {
        let message = json!({"tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "run_spl", "arguments": "{\"query\": \"x\"}"}}]});
        let text = tool_call(&message, Some("choose_actions")).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({"name": "run_spl", "arguments": {"query": "x"}})
        );
    }

    #[test]
    fn message_without_tool_call() {
        assert_eq!(tool_call(&json!({"content": "hi"}), Some("x")), None);
    }
}
