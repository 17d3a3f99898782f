//! OpenAI Chat Completions, also spoken by OpenAI-compatible servers.
//!
//! `POST {base}/chat/completions` with a bearer key; the system prompt goes
//! first in `messages`, and JSON answers are requested with
//! `response_format: {"type": "json_object"}`. The same client serves local
//! servers (Ollama, llama.cpp server, vLLM, LM Studio) through their base
//! URL; those get the older `max_tokens` field, which they all accept, and
//! may omit token usage.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::config::{EndpointSettings, ProviderKind};
use super::http::{is_loopback, join_url, require, require_count, Transport};
use super::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmFailure, ModelInfo, Role};

/// A chat model behind the OpenAI Chat Completions protocol.
pub struct OpenAiChat {
    endpoint: EndpointSettings,
    kind: ProviderKind,
    transport: Transport,
}

impl OpenAiChat {
    /// Builds a client for OpenAI's own API.
    pub fn new(endpoint: EndpointSettings) -> Result<OpenAiChat, LlmError> {
        OpenAiChat::with_kind(endpoint, ProviderKind::OpenAi)
    }

    /// Builds a client for an OpenAI-compatible server.
    pub fn compatible(endpoint: EndpointSettings) -> Result<OpenAiChat, LlmError> {
        OpenAiChat::with_kind(endpoint, ProviderKind::OpenAiCompatible)
    }

    fn with_kind(endpoint: EndpointSettings, kind: ProviderKind) -> Result<OpenAiChat, LlmError> {
        let key = endpoint.api_key.clone();
        let transport = Transport::new(kind.name(), key, "OPENAI_API_KEY", endpoint.call)?;
        Ok(OpenAiChat {
            endpoint,
            kind,
            transport,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let mut messages = vec![json!({"role": "system", "content": request.system})];
        for message in &request.messages {
            let role = match message.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
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
        if request.json {
            body["response_format"] = json!({"type": "json_object"});
        }
        body
    }

    fn parse(&self, answer: &Value) -> Result<(String, u64, u64), LlmError> {
        let message = require(&self.transport, answer, "/choices/0/message")?;
        let Some(text) = message.get("content").and_then(Value::as_str) else {
            if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
                let text = format!("model refused the request: {refusal}");
                return Err(self.transport.error(LlmFailure::BadRequest, text));
            }
            let text = "response has no `/choices/0/message/content` text";
            return Err(self.transport.error(LlmFailure::Unavailable, text));
        };
        let usage_optional = self.kind == ProviderKind::OpenAiCompatible;
        let count = |pointer: &str| match answer.pointer(pointer) {
            None if usage_optional => Ok(0),
            _ => require_count(&self.transport, answer, pointer),
        };
        let input = count("/usage/prompt_tokens")?;
        let output = count("/usage/completion_tokens")?;
        Ok((text.to_string(), input, output))
    }
}

#[async_trait]
impl ChatModel for OpenAiChat {
    fn info(&self) -> ModelInfo {
        ModelInfo {
            provider: self.kind.name().to_string(),
            model: self.endpoint.model.clone(),
            remote: !is_loopback(&self.endpoint.base_url),
        }
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let url = join_url(&self.endpoint.base_url, "chat/completions");
        let mut headers = Vec::new();
        if let Some(key) = &self.endpoint.api_key {
            headers.push(("authorization", format!("Bearer {key}")));
        }
        let (answer, duration) = self
            .transport
            .post_json(&url, &headers, &self.body(request))
            .await?;
        let (text, input_tokens, output_tokens) = self.parse(&answer)?;
        let model = answer
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(ChatResponse {
            text,
            input_tokens,
            output_tokens,
            model,
            duration,
            provider: None,
        })
    }
}
