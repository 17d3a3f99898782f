//! Google Gemini `generateContent`.
//!
//! `POST {base}/v1beta/models/{model}:generateContent` with the key in
//! `x-goog-api-key` (never in the URL, so it stays out of logs). The system
//! prompt is `systemInstruction`, turns are `contents` with roles `user` and
//! `model`, and JSON answers are requested with
//! `generationConfig.responseMimeType: "application/json"`.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::config::EndpointSettings;
use super::http::{is_loopback, join_url, require, require_count, Transport};
use super::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmFailure, ModelInfo, Role};

/// A chat model behind the Gemini `generateContent` protocol.
pub struct GeminiChat {
    endpoint: EndpointSettings,
    transport: Transport,
}

impl GeminiChat {
    pub fn new(endpoint: EndpointSettings) -> Result<GeminiChat, LlmError> {
        let key = endpoint.api_key.clone();
        let transport = Transport::new("gemini", key, "GEMINI_API_KEY", endpoint.call)?;
        Ok(GeminiChat {
            endpoint,
            transport,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let contents: Vec<Value> = request
            .messages
            .iter()
            .map(|message| {
                let role = match message.role {
                    Role::User => "user",
                    Role::Assistant => "model",
                };
                json!({"role": role, "parts": [{"text": message.content}]})
            })
            .collect();
        let mut config = json!({
            "maxOutputTokens": request.max_tokens,
            "temperature": request.temperature,
        });
        if request.json {
            config["responseMimeType"] = json!("application/json");
        }
        json!({
            "systemInstruction": {"parts": [{"text": request.system}]},
            "contents": contents,
            "generationConfig": config,
        })
    }

    fn parse(&self, answer: &Value) -> Result<(String, u64, u64), LlmError> {
        if let Some(reason) = answer
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
        {
            let message = format!("prompt blocked by the provider: {reason}");
            return Err(self.transport.error(LlmFailure::BadRequest, message));
        }
        let parts = require(&self.transport, answer, "/candidates/0/content/parts")?;
        let texts: Vec<&str> = parts
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if texts.is_empty() {
            let message = "response has no `text` in `/candidates/0/content/parts`";
            return Err(self.transport.error(LlmFailure::Unavailable, message));
        }
        let input = require_count(&self.transport, answer, "/usageMetadata/promptTokenCount")?;
        let output = require_count(
            &self.transport,
            answer,
            "/usageMetadata/candidatesTokenCount",
        )?;
        Ok((texts.concat(), input, output))
    }
}

#[async_trait]
impl ChatModel for GeminiChat {
    fn info(&self) -> ModelInfo {
        ModelInfo {
            provider: "gemini".to_string(),
            model: self.endpoint.model.clone(),
            remote: !is_loopback(&self.endpoint.base_url),
        }
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let path = format!("v1beta/models/{}:generateContent", self.endpoint.model);
        let url = join_url(&self.endpoint.base_url, &path);
        let mut headers = Vec::new();
        if let Some(key) = &self.endpoint.api_key {
            headers.push(("x-goog-api-key", key.clone()));
        }
        let (answer, duration) = self
            .transport
            .post_json(&url, &headers, &self.body(request))
            .await?;
        let (text, input_tokens, output_tokens) = self.parse(&answer)?;
        let model = answer
            .get("modelVersion")
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
