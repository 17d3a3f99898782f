//! A chat model that plays back recorded answers, for tests and replays.
//!
//! [`ScriptedModel`] returns its queued answers in order and records every
//! request it receives, so a test can check what a planner sent, and a replay
//! can re-run an investigation from the answers stored in its report
//! ([`ScriptedModel::from_calls`]). When the queue is empty, each call fails
//! as [`LlmFailure::Unavailable`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::report::ModelCall;

use super::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmFailure, ModelInfo};

/// One recorded outcome of a model call: an answer text or a failure message.
pub type ScriptedAnswer = Result<String, String>;

/// A [`ChatModel`] that returns queued answers and records requests.
#[derive(Debug)]
pub struct ScriptedModel {
    info: ModelInfo,
    answers: Mutex<VecDeque<(ScriptedAnswer, Option<Origin>)>>,
    requests: Mutex<Vec<ChatRequest>>,
}

/// The provider, model and token counts recorded for one call.
#[derive(Debug, Clone)]
struct Origin {
    provider: Option<String>,
    model: Option<String>,
    input_tokens: u64,
    output_tokens: u64,
}

impl ScriptedModel {
    /// Creates a local (not remote) model that returns `answers` in order.
    pub fn new<S: Into<String>>(answers: impl IntoIterator<Item = S>) -> Self {
        Self::with_outcomes(answers.into_iter().map(|a| Ok(a.into())))
    }

    /// Creates a model whose calls succeed or fail in the given order.
    pub fn with_outcomes(outcomes: impl IntoIterator<Item = ScriptedAnswer>) -> Self {
        ScriptedModel {
            info: ModelInfo {
                provider: "scripted".into(),
                model: "scripted".into(),
                remote: false,
            },
            answers: Mutex::new(outcomes.into_iter().map(|o| (o, None)).collect()),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// Creates a model that replays the calls recorded in a report, failed
    /// ones included. Each answer names the provider and model that gave it
    /// and the token counts the provider reported, as recorded.
    pub fn from_calls(calls: &[ModelCall]) -> Self {
        let model = Self::with_outcomes(std::iter::empty());
        let queue = calls.iter().filter(|call| !call.chain_attempt).map(|call| {
            let outcome = match &call.error {
                Some(error) => Err(error.clone()),
                None => Ok(call.response.clone()),
            };
            let origin = Origin {
                provider: call.provider.clone(),
                model: call.model.clone(),
                input_tokens: call.input_tokens,
                output_tokens: call.output_tokens,
            };
            (outcome, Some(origin))
        });
        *model.answers.lock().expect("answer queue lock") = queue.collect();
        model
    }

    /// Replaces the model description, for example to mark it remote.
    pub fn with_info(mut self, info: ModelInfo) -> Self {
        self.info = info;
        self
    }

    /// Returns a copy of every request received so far, oldest first.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().expect("request log lock").clone()
    }

    /// Returns how many queued answers remain.
    pub fn remaining(&self) -> usize {
        self.answers.lock().expect("answer queue lock").len()
    }
}

#[async_trait]
impl ChatModel for ScriptedModel {
    fn info(&self) -> ModelInfo {
        self.info.clone()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        self.requests
            .lock()
            .expect("request log lock")
            .push(request.clone());
        let next = self.answers.lock().expect("answer queue lock").pop_front();
        let failure = |message: String| LlmError {
            provider: self.info.provider.clone(),
            failure: LlmFailure::Unavailable,
            message,
            retry_after: None,
        };
        match next {
            Some((Ok(text), origin)) => Ok(self.answer(request, text, origin)),
            Some((Err(message), _)) => Err(failure(message)),
            None => Err(failure(
                "the recording contains no more model answers".into(),
            )),
        }
    }
}

impl ScriptedModel {
    /// Builds the response for one queued answer text.
    fn answer(&self, request: &ChatRequest, text: String, origin: Option<Origin>) -> ChatResponse {
        let origin = origin.unwrap_or_else(|| Origin {
            provider: None,
            model: Some(self.info.model.clone()),
            input_tokens: approximate_tokens(&request.system)
                + request
                    .messages
                    .iter()
                    .map(|m| approximate_tokens(&m.content))
                    .sum::<u64>(),
            output_tokens: approximate_tokens(&text),
        });
        ChatResponse {
            text,
            input_tokens: origin.input_tokens,
            output_tokens: origin.output_tokens,
            model: origin.model.or_else(|| Some(self.info.model.clone())),
            duration: Duration::ZERO,
            provider: origin.provider,
            failed_providers: Vec::new(),
        }
    }
}

/// Estimates a token count as one token per four bytes, as a stand-in for
/// a provider's own count.
fn approximate_tokens(text: &str) -> u64 {
    text.len().div_ceil(4) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{ChatMessage, Role};

    fn request(text: &str) -> ChatRequest {
        ChatRequest {
            system: "system".into(),
            messages: vec![ChatMessage {
                role: Role::User,
                content: text.into(),
            }],
            max_tokens: 100,
            temperature: 0.0,
            json: true,
            answer_schema: None,
        }
    }

    #[tokio::test]
    async fn scripted_answers_in_order() {
        let model = ScriptedModel::new(["first", "second"]);
        assert_eq!(model.complete(&request("a")).await.unwrap().text, "first");
        assert_eq!(model.complete(&request("b")).await.unwrap().text, "second");
        assert!(model.complete(&request("c")).await.is_err());
    }

    #[tokio::test]
    async fn scripted_records_requests() {
        let model = ScriptedModel::new(["ok"]);
        model.complete(&request("hello")).await.unwrap();
        let requests = model.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].messages[0].content, "hello");
    }

    #[tokio::test]
    async fn scripted_failure_is_unavailable() {
        let model = ScriptedModel::with_outcomes([Err("connection reset".to_string())]);
        let error = model.complete(&request("a")).await.unwrap_err();
        assert_eq!(error.failure, LlmFailure::Unavailable);
        assert!(error.message.contains("connection reset"));
    }
}
