//! Anthropic Messages.
//!
//! `POST {base}/v1/messages` with the key in `x-api-key` and
//! `anthropic-version: 2023-06-01`; the system prompt is the top-level
//! `system` field and `max_tokens` is required. A request with an
//! [`AnswerSchema`] sends it as the only tool (`name`, `description`,
//! `input_schema`) and forces it with `tool_choice: {"type": "tool", "name":
//! ...}`; the answer text is then the `input` object of the `tool_use`
//! content block. Otherwise the answer's text is the concatenation of its
//! `text` content blocks.
//!
//! NOTE: Anthropic has no JSON answer mode like OpenAI's `response_format`,
//! so without a schema `ChatRequest::json` only relies on the prompt asking
//! for JSON.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::config::EndpointSettings;
use super::http::{
    join_url, model_info, require, require_count, role_name, tool_call_text, Locality,
    ParsedAnswer, Transport,
};
use super::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmFailure, ModelInfo};

/// The `anthropic-version` header value this client's wire format follows.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A chat model behind the Anthropic Messages protocol.
pub struct AnthropicChat {
    endpoint: EndpointSettings,
    transport: Transport,
}

impl AnthropicChat {
    pub fn new(endpoint: EndpointSettings) -> Result<AnthropicChat, LlmError> {
        let transport = Transport::for_endpoint("anthropic", &endpoint, "ANTHROPIC_API_KEY")?;
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
                let role = role_name(message.role, "assistant");
                json!({"role": role, "content": message.content})
            })
            .collect();
        let mut body = json!({
            "model": self.endpoint.model,
            "system": request.system,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        });
        if let Some(schema) = &request.answer_schema {
            body["tools"] = json!([{
                "name": schema.name,
                "description": schema.description,
                "input_schema": schema.schema,
            }]);
            body["tool_choice"] = json!({"type": "tool", "name": schema.name});
        }
        body
    }

    fn parse(&self, answer: &Value, expected: Option<&str>) -> Result<ParsedAnswer, LlmError> {
        let blocks = require(&self.transport, answer, "/content")?
            .as_array()
            .ok_or_else(|| {
                self.transport.error(
                    LlmFailure::Unavailable,
                    "response field `/content` is not a list",
                )
            })?;
        let text = match tool_use(blocks, expected) {
            Some(text) => text,
            None => self.text_blocks(blocks)?,
        };
        Ok(ParsedAnswer {
            text,
            input_tokens: require_count(&self.transport, answer, "/usage/input_tokens")?,
            output_tokens: require_count(&self.transport, answer, "/usage/output_tokens")?,
        })
    }

    fn text_blocks(&self, blocks: &[Value]) -> Result<String, LlmError> {
        let texts: Vec<&str> = blocks
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|block| block.get("text").and_then(Value::as_str))
            .collect();
        if texts.is_empty() {
            let message = "response has no `text` or `tool_use` block in `/content`";
            return Err(self.transport.error(LlmFailure::Unavailable, message));
        }
        Ok(texts.concat())
    }
}

/// Reads the first `tool_use` block as answer text, when the request named
/// a tool. Without one, tool calls are not the answer (the text is).
fn tool_use(blocks: &[Value], expected: Option<&str>) -> Option<String> {
    expected?;
    let block = blocks
        .iter()
        .find(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))?;
    let name = block
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
    Some(tool_call_text(expected, name, input))
}

#[async_trait]
impl ChatModel for AnthropicChat {
    fn info(&self) -> ModelInfo {
        model_info("anthropic", &self.endpoint, Locality::Cloud)
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let url = join_url(&self.endpoint.base_url, "v1/messages");
        let mut headers = vec![("anthropic-version", ANTHROPIC_VERSION.to_string())];
        if let Some(key) = &self.endpoint.api_key {
            headers.push(("x-api-key", key.clone()));
        }
        let expected = request.answer_schema.as_ref().map(|s| s.name.as_str());
        let body = self.body(request);
        self.transport
            .chat(&url, &headers, &body, "/model", |answer| {
                self.parse(answer, expected)
            })
            .await
    }
}
