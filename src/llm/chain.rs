//! A chat model that tries several providers in turn.
//!
//! [`ChainModel`] sends each request to its first provider and, when that
//! call fails, to the next, until one succeeds. Every failure class moves
//! on, a rejected key ([`LlmFailure::Auth`]) or a rejected request
//! ([`LlmFailure::BadRequest`]) included, because the next provider has its
//! own key and model. Each provider retries rate limits and server errors
//! itself before the chain moves on. The answer names the provider and
//! model that produced it; when every provider fails, the error lists each
//! provider's failure. The playbook is not a link of the chain: the
//! planner falls back to it when the whole chain fails.
//!
//! After a provider succeeds, later calls start at that provider, so an
//! investigation whose first provider is down does not wait for its
//! timeouts and retries at every step. The providers before it are still
//! tried, after the others, before a call fails. One `ChainModel` therefore
//! belongs to one investigation: build a new one, or call
//! [`ChainModel::reset`], to start again at the first provider.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::{info, warn};

use super::{
    ChatModel, ChatRequest, ChatResponse, LlmError, LlmFailure, ModelInfo, ProviderFailure,
};

/// A [`ChatModel`] over several providers, tried in order until one succeeds.
pub struct ChainModel {
    models: Vec<Arc<dyn ChatModel>>,
    /// Index of the provider that succeeded last, where the next call starts.
    start: AtomicUsize,
}

impl ChainModel {
    /// Builds a chain that tries `first`, then each of `rest` in order.
    pub fn new(first: Arc<dyn ChatModel>, rest: Vec<Arc<dyn ChatModel>>) -> Self {
        let mut models = vec![first];
        models.extend(rest);
        ChainModel {
            models,
            start: AtomicUsize::new(0),
        }
    }

    /// Returns the providers in configured order.
    pub fn models(&self) -> &[Arc<dyn ChatModel>] {
        &self.models
    }

    /// Returns the index of the provider the next call tries first.
    pub fn start_index(&self) -> usize {
        self.start.load(Ordering::Relaxed)
    }

    /// Makes the next call start at the first provider again.
    pub fn reset(&self) {
        self.start.store(0, Ordering::Relaxed);
    }
}

/// Joins the providers' `provider` names, and their model names, with commas
/// (`gemini,openai`); the chain counts as remote when any provider is.
#[async_trait]
impl ChatModel for ChainModel {
    fn info(&self) -> ModelInfo {
        let infos: Vec<ModelInfo> = self.models.iter().map(|m| m.info()).collect();
        let join =
            |part: fn(&ModelInfo) -> &str| infos.iter().map(part).collect::<Vec<_>>().join(",");
        ModelInfo {
            provider: join(|i| i.provider.as_str()),
            model: join(|i| i.model.as_str()),
            remote: infos.iter().any(|i| i.remote),
        }
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let start = self.start_index();
        let count = self.models.len();
        let mut failures: Vec<LlmError> = Vec::new();
        let mut failed_providers = Vec::new();
        for offset in 0..count {
            let index = (start + offset) % count;
            let model = &self.models[index];
            let info = model.info();
            let started = Instant::now();
            match model.complete(request).await {
                Ok(mut response) => {
                    if !failures.is_empty() {
                        info!(provider = %info.provider, failed = failures.len(),
                              "model provider succeeded after others failed");
                    }
                    self.start.store(index, Ordering::Relaxed);
                    response.provider = Some(info.provider);
                    response.model = response.model.or(Some(info.model));
                    response.failed_providers = failed_providers;
                    return Ok(response);
                }
                Err(error) => {
                    warn!(provider = %info.provider, failure = error.failure.as_str(),
                          message = %error.message, "model provider failed; trying the next");
                    failed_providers.push(ProviderFailure {
                        provider: info.provider,
                        model: info.model,
                        error: error.to_string(),
                        duration: started.elapsed(),
                    });
                    failures.push(error);
                }
            }
        }
        Err(all_failed(&self.info().provider, failures))
    }
}

/// Combines the failure of every provider into one error. Its class is
/// `Retryable` when any provider was rate limited or overloaded (with the
/// shortest pause any of them asked for), else the last provider's class.
fn all_failed(chain: &str, failures: Vec<LlmError>) -> LlmError {
    let retryable: Vec<&LlmError> = failures
        .iter()
        .filter(|f| f.failure == LlmFailure::Retryable)
        .collect();
    let failure = if retryable.is_empty() {
        failures
            .last()
            .map_or(LlmFailure::Unavailable, |f| f.failure)
    } else {
        LlmFailure::Retryable
    };
    let retry_after: Option<Duration> = retryable.iter().filter_map(|f| f.retry_after).min();
    let parts: Vec<String> = failures
        .iter()
        .map(|f| format!("{} ({}): {}", f.provider, f.failure.as_str(), f.message))
        .collect();
    LlmError {
        provider: chain.to_string(),
        failure,
        message: format!("every provider failed: {}", parts.join("; ")),
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::scripted::ScriptedModel;
    use crate::llm::{ChatMessage, Role};

    /// A model that fails every call with one failure class.
    struct Failing {
        provider: &'static str,
        failure: LlmFailure,
        remote: bool,
    }

    #[async_trait]
    impl ChatModel for Failing {
        fn info(&self) -> ModelInfo {
            ModelInfo {
                provider: self.provider.into(),
                model: format!("{}-model", self.provider),
                remote: self.remote,
            }
        }

        async fn complete(&self, _request: &ChatRequest) -> Result<ChatResponse, LlmError> {
            Err(LlmError {
                provider: self.provider.into(),
                failure: self.failure,
                message: format!("{} is down", self.provider),
                retry_after: (self.failure == LlmFailure::Retryable)
                    .then(|| Duration::from_secs(7)),
            })
        }
    }

    fn failing(provider: &'static str, failure: LlmFailure) -> Arc<dyn ChatModel> {
        Arc::new(Failing {
            provider,
            failure,
            remote: false,
        })
    }

    fn scripted(provider: &str, remote: bool, answers: &[&str]) -> Arc<ScriptedModel> {
        let model = ScriptedModel::new(answers.iter().copied()).with_info(ModelInfo {
            provider: provider.into(),
            model: format!("{provider}-model"),
            remote,
        });
        Arc::new(model)
    }

    fn request() -> ChatRequest {
        ChatRequest {
            system: "system".into(),
            messages: vec![ChatMessage {
                role: Role::User,
                content: "hello".into(),
            }],
            max_tokens: 10,
            temperature: 0.0,
            json: true,
            answer_schema: None,
        }
    }

    #[tokio::test]
    async fn chain_uses_first_when_it_answers() {
        let first = scripted("gemini", true, &["from gemini"]);
        let second = scripted("openai", true, &["from openai"]);
        let chain = ChainModel::new(first.clone(), vec![second.clone()]);
        let response = chain.complete(&request()).await.unwrap();
        assert_eq!(response.text, "from gemini");
        assert_eq!(response.provider.as_deref(), Some("gemini"));
        assert_eq!(response.model.as_deref(), Some("gemini-model"));
        assert_eq!(second.requests().len(), 0);
    }

    #[tokio::test]
    async fn chain_fails_over_on_each_class() {
        for failure in [
            LlmFailure::Auth,
            LlmFailure::BadRequest,
            LlmFailure::Retryable,
            LlmFailure::Unavailable,
        ] {
            let second = scripted("openai", true, &["from openai"]);
            let chain = ChainModel::new(failing("gemini", failure), vec![second.clone()]);
            let response = chain.complete(&request()).await.unwrap();
            assert_eq!(response.text, "from openai", "{failure:?}");
            assert_eq!(response.provider.as_deref(), Some("openai"), "{failure:?}");
            assert_eq!(
                response.model.as_deref(),
                Some("openai-model"),
                "{failure:?}"
            );
            assert_eq!(second.requests().len(), 1, "{failure:?}");
        }
    }

    #[tokio::test]
    async fn chain_tries_in_configured_order() {
        let third = scripted("anthropic", true, &["from anthropic"]);
        let chain = ChainModel::new(
            failing("gemini", LlmFailure::Unavailable),
            vec![failing("openai", LlmFailure::Auth), third.clone()],
        );
        let response = chain.complete(&request()).await.unwrap();
        assert_eq!(response.provider.as_deref(), Some("anthropic"));
        assert_eq!(chain.start_index(), 2);
    }

    #[tokio::test]
    async fn chain_starts_at_last_answering() {
        let first = scripted("gemini", true, &[]);
        let second = scripted("openai", true, &["one", "two"]);
        let chain = ChainModel::new(first.clone(), vec![second.clone()]);
        chain.complete(&request()).await.unwrap();
        chain.complete(&request()).await.unwrap();
        assert_eq!(first.requests().len(), 1);
        assert_eq!(second.requests().len(), 2);
        chain.reset();
        assert_eq!(chain.start_index(), 0);
    }

    #[tokio::test]
    async fn chain_wraps_to_earlier_providers() {
        // The first call fails on gemini and succeeds on openai; the second
        // fails on openai and must still reach gemini, which now answers.
        let first = ScriptedModel::with_outcomes([Err("down".to_string()), Ok("back".to_string())]);
        let first = Arc::new(first.with_info(ModelInfo {
            provider: "gemini".into(),
            model: "gemini-model".into(),
            remote: true,
        }));
        let second = scripted("openai", true, &["one"]);
        let chain = ChainModel::new(first.clone(), vec![second.clone()]);
        assert_eq!(chain.complete(&request()).await.unwrap().text, "one");
        let response = chain.complete(&request()).await.unwrap();
        assert_eq!(response.text, "back");
        assert_eq!(response.provider.as_deref(), Some("gemini"));
        assert_eq!(chain.start_index(), 0);
    }

    #[tokio::test]
    async fn all_fail_lists_each_provider() {
        let chain = ChainModel::new(
            failing("gemini", LlmFailure::Auth),
            vec![failing("openai", LlmFailure::Retryable)],
        );
        let error = chain.complete(&request()).await.unwrap_err();
        assert_eq!(error.provider, "gemini,openai");
        assert_eq!(error.failure, LlmFailure::Retryable);
        assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(
            error.message,
            "every provider failed: gemini (auth): gemini is down; \
             openai (retryable): openai is down"
        );
    }

    #[tokio::test]
    async fn all_fail_takes_last_class() {
        let chain = ChainModel::new(
            failing("gemini", LlmFailure::Unavailable),
            vec![failing("openai", LlmFailure::Auth)],
        );
        let error = chain.complete(&request()).await.unwrap_err();
        assert_eq!(error.failure, LlmFailure::Auth);
        assert_eq!(error.retry_after, None);
    }

    #[test]
    fn chain_info_joins_names() {
        let chain = ChainModel::new(
            scripted("gemini", true, &[]),
            vec![scripted("openai-compatible", false, &[])],
        );
        let info = chain.info();
        assert_eq!(info.provider, "gemini,openai-compatible");
        assert_eq!(info.model, "gemini-model,openai-compatible-model");
    }

    #[test]
    fn chain_remote_when_any_remote() {
        let local = || scripted("openai-compatible", false, &[]);
        let mixed = ChainModel::new(local(), vec![scripted("gemini", true, &[])]);
        assert!(mixed.info().remote);
        let all_local = ChainModel::new(local(), vec![local()]);
        assert!(!all_local.info().remote);
    }
}
