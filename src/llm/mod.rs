//! Language-model providers behind one chat seam.
//!
//! [`ChatModel`] sends one chat request and returns the model's text with
//! its token counts. Providers speak their own wire protocols (OpenAI and
//! OpenAI-compatible servers, Anthropic, Gemini); the planner built on top
//! sees only this trait, so a scripted model can stand in for tests and
//! replays.

pub mod answer;
pub mod anthropic;
pub mod chain;
pub mod config;
pub mod gemini;
mod http;
pub mod keys;
pub mod masking;
pub mod openai;
pub mod prompt;
pub mod scripted;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The author of a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

/// A request for one model answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Instructions kept apart from the conversation (system prompt).
    pub system: String,
    pub messages: Vec<ChatMessage>,
    /// Maximum tokens of the answer.
    pub max_tokens: u32,
    pub temperature: f32,
    /// Asks the provider for a JSON object answer where it supports that.
    pub json: bool,
    /// The shape the answer must take, sent as a tool definition or a
    /// response schema where the provider supports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_schema: Option<AnswerSchema>,
}

/// A named JSON Schema for the answer. Providers with tool calls ask the
/// model to call a tool of this name with arguments matching the schema;
/// the answer's text is then those arguments as a JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerSchema {
    pub name: String,
    pub description: String,
    pub schema: serde_json::Value,
}

/// A model's answer with its usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub text: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The provider's own model name from the answer, when it gives one.
    pub model: Option<String>,
    pub duration: Duration,
    /// The provider that responded, when one [`ChatModel`] is a chain of
    /// providers. `None` means the model's own [`ModelInfo`].
    #[serde(default)]
    pub provider: Option<String>,
    /// Providers of a chain that failed on this request before one answered,
    /// in the order they were tried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_providers: Vec<ProviderFailure>,
}

/// A provider of a chain that failed on a request the next provider answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderFailure {
    pub provider: String,
    pub model: String,
    /// The failure as [`LlmError`] displays it.
    pub error: String,
    pub duration: Duration,
}

/// The provider and model behind a [`ChatModel`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// `openai`, `openai-compatible`, `anthropic`, `gemini` or `scripted`;
    /// for a chain of providers, their names joined with commas.
    pub provider: String,
    pub model: String,
    /// Whether the model runs outside this machine (cloud), which turns
    /// masking on by default.
    pub remote: bool,
}

/// The class of a failed model call, which decides whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmFailure {
    /// Rejected credentials: do not retry.
    Auth,
    /// Rate limit or overload: retry after the given pause.
    Retryable,
    /// The request is wrong (bad model name, too long): do not retry.
    BadRequest,
    /// Unreachable, timed out, or an answer that is not the protocol.
    Unavailable,
}

impl LlmFailure {
    /// Returns the class name as it appears in reports and messages
    /// (`auth`, `retryable`, `bad_request`, `unavailable`).
    pub fn as_str(self) -> &'static str {
        match self {
            LlmFailure::Auth => "auth",
            LlmFailure::Retryable => "retryable",
            LlmFailure::BadRequest => "bad_request",
            LlmFailure::Unavailable => "unavailable",
        }
    }
}

/// A model call that returned no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{provider} model call failed: {message}")]
pub struct LlmError {
    pub provider: String,
    pub failure: LlmFailure,
    pub message: String,
    /// Pause the provider asked for (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
}

/// Sends chat requests to one model.
#[async_trait]
pub trait ChatModel: Send + Sync {
    fn info(&self) -> ModelInfo;

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError>;
}
