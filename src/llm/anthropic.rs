//! Anthropic Messages.
//!
//! `POST {base}/v1/messages` with the key in `x-api-key` and
//! `anthropic-version: 2023-06-01`; the system prompt is the top-level
//! `system` field and `max_tokens` is required. The answer's text is the
//! concatenation of its `text` content blocks.
//!
//! NOTE: Anthropic has no JSON answer mode like OpenAI's `response_format`,
//! so `ChatRequest::json` only relies on the prompt asking for JSON.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::config::EndpointSettings;
use super::http::{is_loopback, join_url, require, require_count, Transport};
use super::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmFailure, ModelInfo, Role};

/// The `anthropic-version` header value this client's wire format follows.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A chat model behind the Anthropic Messages protocol.
pub struct AnthropicChat {
    endpoint: EndpointSettings,
    transport: Transport,
}

impl AnthropicChat {
    pub fn new(endpoint: EndpointSettings) -> Result<AnthropicChat, LlmError> {
        let key = endpoint.api_key.clone();
        let transport = Transport::new("anthropic", key, "ANTHROPIC_API_KEY", endpoint.call)?;
        Ok(AnthropicChat {
            endpoint,
            transport,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|message| {
                let role = match message.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                json!({"role": role, "content": message.content})
            })
            .collect();
        json!({
            "model": self.endpoint.model,
            "system": request.system,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        })
    }

    fn parse(&self, answer: &Value) -> Result<(String, u64, u64), LlmError> {
        let blocks = require(&self.transport, answer, "/content")?
            .as_array()
            .ok_or_else(|| {
                self.transport.error(
                    LlmFailure::Unavailable,
                    "response field `/content` is not a list",
                )
            })?;
        let texts: Vec<&str> = blocks
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|block| block.get("text").and_then(Value::as_str))
            .collect();
        if texts.is_empty() {
            let message = "response has no `text` block in `/content`";
            return Err(self.transport.error(LlmFailure::Unavailable, message));
        }
        let input = require_count(&self.transport, answer, "/usage/input_tokens")?;
        let output = require_count(&self.transport, answer, "/usage/output_tokens")?;
        Ok((texts.concat(), input, output))
    }
}

#[async_trait]
impl ChatModel for AnthropicChat {
    fn info(&self) -> ModelInfo {
        ModelInfo {
            provider: "anthropic".to_string(),
            model: self.endpoint.model.clone(),
            remote: !is_loopback(&self.endpoint.base_url),
        }
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let url = join_url(&self.endpoint.base_url, "v1/messages");
        let mut headers = vec![("anthropic-version", ANTHROPIC_VERSION.to_string())];
        if let Some(key) = &self.endpoint.api_key {
            headers.push(("x-api-key", key.clone()));
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
