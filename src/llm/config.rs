//! Model provider settings read from the environment.
//!
//! `LLM_PROVIDER` picks the provider (`none`, `gemini`, `openai`,
//! `anthropic`, `openai-compatible`); each provider reads its key, model and
//! base URL from its own variables. A cloud provider without its key is a
//! configuration error that names the variable. API keys never appear in
//! `Debug` output or error messages.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::anthropic::AnthropicChat;
use super::gemini::GeminiChat;
use super::openai::{parse_tools_setting, OpenAiChat};
use super::{ChatModel, LlmError};

/// Default Gemini model. Provider model names change often, so this default
/// may need updating; `GEMINI_MODEL` overrides it.
pub const DEFAULT_GEMINI_MODEL: &str = "gemini-2.5-flash";
/// Default OpenAI model, which may need updating. `OPENAI_MODEL` overrides it.
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-4.1-mini";
/// Default Anthropic model, which may need updating. `ANTHROPIC_MODEL` overrides
/// it.
pub const DEFAULT_ANTHROPIC_MODEL: &str = "claude-sonnet-4-5";

pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
pub const DEFAULT_GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// A model provider setting that is missing or invalid.
#[derive(Debug, thiserror::Error)]
pub enum LlmConfigError {
    #[error(
        "unknown LLM_PROVIDER '{0}'; expected one of none, gemini, openai, anthropic, \
         openai-compatible"
    )]
    UnknownProvider(String),
    #[error("LLM_PROVIDER={provider} needs {variable}; set it in the environment")]
    Missing {
        provider: &'static str,
        variable: &'static str,
    },
    #[error("invalid {variable} '{value}'; expected {expected}")]
    Invalid {
        variable: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("cannot set up the model client: {0}")]
    Client(#[from] LlmError),
}

/// The provider behind `LLM_PROVIDER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    None,
    Gemini,
    OpenAi,
    Anthropic,
    /// A local or self-hosted server speaking OpenAI chat completions
    /// (Ollama, llama.cpp server, vLLM, LM Studio).
    OpenAiCompatible,
}

impl ProviderKind {
    /// Parses an `LLM_PROVIDER` value, ignoring case and surrounding blanks.
    pub fn parse(value: &str) -> Result<ProviderKind, LlmConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(ProviderKind::None),
            "gemini" => Ok(ProviderKind::Gemini),
            "openai" => Ok(ProviderKind::OpenAi),
            "anthropic" => Ok(ProviderKind::Anthropic),
            "openai-compatible" => Ok(ProviderKind::OpenAiCompatible),
            _ => Err(LlmConfigError::UnknownProvider(value.to_string())),
        }
    }

    /// Returns the provider name used in [`super::ModelInfo`] and messages.
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::None => "none",
            ProviderKind::Gemini => "gemini",
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::OpenAiCompatible => "openai-compatible",
        }
    }
}

/// Timeout and retry policy of every model call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSettings {
    /// Limit on one HTTP call, from connecting to the last body byte
    /// (`LLM_TIMEOUT_SECS`, default 60).
    pub timeout: Duration,
    /// HTTP calls per request, first one included (`LLM_MAX_ATTEMPTS`,
    /// default 3). Only rate limits and server errors are retried.
    pub max_attempts: NonZeroU32,
    /// Pause before the first retry when the server sends no
    /// `Retry-After`; it doubles on each later retry.
    pub initial_backoff: Duration,
    /// Cap on any pause, `Retry-After` included.
    pub max_retry_wait: Duration,
}

impl Default for CallSettings {
    fn default() -> Self {
        CallSettings {
            timeout: Duration::from_secs(60),
            max_attempts: NonZeroU32::new(3).expect("3 is non-zero"),
            initial_backoff: Duration::from_secs(1),
            max_retry_wait: Duration::from_secs(30),
        }
    }
}

/// Endpoint, credentials and call policy of one provider.
#[derive(Clone)]
pub struct EndpointSettings {
    /// Base URL without the endpoint path, for example
    /// `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// API key; optional only for OpenAI-compatible servers.
    pub api_key: Option<String>,
    pub model: String,
    pub call: CallSettings,
}

impl fmt::Debug for EndpointSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.api_key.as_ref().map(|_| "[redacted]");
        f.debug_struct("EndpointSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &key)
            .field("model", &self.model)
            .field("call", &self.call)
            .finish()
    }
}

/// The configured provider and its endpoint (`None` for `none`).
#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub provider: ProviderKind,
    pub endpoint: Option<EndpointSettings>,
    /// Whether an OpenAI-compatible server gets answer schemas as tools
    /// (`OPENAI_COMPATIBLE_TOOLS`, default on).
    pub compatible_tools: bool,
}

impl LlmSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<LlmSettings, LlmConfigError> {
        LlmSettings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`; empty values count as unset.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<LlmSettings, LlmConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let provider = ProviderKind::parse(&get("LLM_PROVIDER").unwrap_or_default())?;
        let call = call_settings(&get)?;
        let endpoint = match provider {
            ProviderKind::None => None,
            ProviderKind::Gemini => Some(cloud_endpoint(
                provider,
                &get,
                ["GEMINI_API_KEY", "GEMINI_MODEL", "GEMINI_BASE_URL"],
                DEFAULT_GEMINI_MODEL,
                DEFAULT_GEMINI_BASE_URL,
                call,
            )?),
            ProviderKind::OpenAi => Some(cloud_endpoint(
                provider,
                &get,
                ["OPENAI_API_KEY", "OPENAI_MODEL", "OPENAI_BASE_URL"],
                DEFAULT_OPENAI_MODEL,
                DEFAULT_OPENAI_BASE_URL,
                call,
            )?),
            ProviderKind::Anthropic => Some(cloud_endpoint(
                provider,
                &get,
                ["ANTHROPIC_API_KEY", "ANTHROPIC_MODEL", "ANTHROPIC_BASE_URL"],
                DEFAULT_ANTHROPIC_MODEL,
                DEFAULT_ANTHROPIC_BASE_URL,
                call,
            )?),
            ProviderKind::OpenAiCompatible => Some(compatible_endpoint(&get, call)?),
        };
        let compatible_tools = match get("OPENAI_COMPATIBLE_TOOLS") {
            None => true,
            Some(value) => parse_tools_setting(&value).ok_or(LlmConfigError::Invalid {
                variable: "OPENAI_COMPATIBLE_TOOLS",
                value,
                expected: "on or off",
            })?,
        };
        Ok(LlmSettings {
            provider,
            endpoint,
            compatible_tools,
        })
    }

    /// Builds the chat model these settings name, or `None` for `none`.
    pub fn build(&self) -> Result<Option<Arc<dyn ChatModel>>, LlmConfigError> {
        let Some(endpoint) = self.endpoint.clone() else {
            return Ok(None);
        };
        let model: Arc<dyn ChatModel> = match self.provider {
            ProviderKind::None => return Ok(None),
            ProviderKind::Gemini => Arc::new(GeminiChat::new(endpoint)?),
            ProviderKind::OpenAi => Arc::new(OpenAiChat::new(endpoint)?),
            ProviderKind::Anthropic => Arc::new(AnthropicChat::new(endpoint)?),
            ProviderKind::OpenAiCompatible => {
                Arc::new(OpenAiChat::compatible(endpoint)?.with_tools(self.compatible_tools))
            }
        };
        Ok(Some(model))
    }
}

/// Builds the chat model configured in the process environment.
pub fn from_env() -> Result<Option<Arc<dyn ChatModel>>, LlmConfigError> {
    LlmSettings::from_env()?.build()
}

/// Builds the chat model configured through `lookup`.
pub fn from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Arc<dyn ChatModel>>, LlmConfigError> {
    LlmSettings::from_lookup(lookup)?.build()
}

fn call_settings(get: &impl Fn(&str) -> Option<String>) -> Result<CallSettings, LlmConfigError> {
    let mut call = CallSettings::default();
    if let Some(value) = get("LLM_TIMEOUT_SECS") {
        let seconds = positive_number(&value, "LLM_TIMEOUT_SECS", "a number of seconds above 0")?;
        call.timeout = Duration::from_secs(u64::from(seconds.get()));
    }
    if let Some(value) = get("LLM_MAX_ATTEMPTS") {
        call.max_attempts = positive_number(&value, "LLM_MAX_ATTEMPTS", "a whole number above 0")?;
    }
    Ok(call)
}

fn positive_number(
    value: &str,
    variable: &'static str,
    expected: &'static str,
) -> Result<NonZeroU32, LlmConfigError> {
    value
        .parse::<NonZeroU32>()
        .map_err(|_| LlmConfigError::Invalid {
            variable,
            value: value.to_string(),
            expected,
        })
}

/// Reads a cloud provider's `[key, model, base URL]` variables. The key is
/// required.
fn cloud_endpoint(
    provider: ProviderKind,
    get: &impl Fn(&str) -> Option<String>,
    [key_var, model_var, base_var]: [&'static str; 3],
    default_model: &str,
    default_base: &str,
    call: CallSettings,
) -> Result<EndpointSettings, LlmConfigError> {
    let api_key = get(key_var).ok_or(LlmConfigError::Missing {
        provider: provider.name(),
        variable: key_var,
    })?;
    let base_url = get(base_var).unwrap_or_else(|| default_base.to_string());
    check_url(&base_url, base_var)?;
    Ok(EndpointSettings {
        base_url,
        api_key: Some(api_key),
        model: get(model_var).unwrap_or_else(|| default_model.to_string()),
        call,
    })
}

/// Reads an OpenAI-compatible server's settings: base URL and model are
/// required because no default fits every local server; the key is optional.
fn compatible_endpoint(
    get: &impl Fn(&str) -> Option<String>,
    call: CallSettings,
) -> Result<EndpointSettings, LlmConfigError> {
    let provider = ProviderKind::OpenAiCompatible.name();
    let base_url = get("OPENAI_BASE_URL").ok_or(LlmConfigError::Missing {
        provider,
        variable: "OPENAI_BASE_URL",
    })?;
    check_url(&base_url, "OPENAI_BASE_URL")?;
    let model = get("OPENAI_MODEL").ok_or(LlmConfigError::Missing {
        provider,
        variable: "OPENAI_MODEL",
    })?;
    Ok(EndpointSettings {
        base_url,
        api_key: get("OPENAI_API_KEY"),
        model,
        call,
    })
}

fn check_url(value: &str, variable: &'static str) -> Result<(), LlmConfigError> {
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
        _ => Err(LlmConfigError::Invalid {
            variable,
            value: value.to_string(),
            expected: "an http:// or https:// URL",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<LlmSettings, LlmConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LlmSettings::from_lookup(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn unset_provider_is_none() {
        let parsed = settings(&[]).unwrap();
        assert_eq!(parsed.provider, ProviderKind::None);
        assert!(parsed.endpoint.is_none());
        assert!(parsed.build().unwrap().is_none());
    }

    #[test]
    fn unknown_provider_lists_choices() {
        let error = settings(&[("LLM_PROVIDER", "mistral")]).unwrap_err();
        assert!(error.to_string().contains("'mistral'"));
        assert!(error.to_string().contains("openai-compatible"));
    }

    #[test]
    fn missing_key_names_variable() {
        for (provider, variable) in [
            ("gemini", "GEMINI_API_KEY"),
            ("openai", "OPENAI_API_KEY"),
            ("anthropic", "ANTHROPIC_API_KEY"),
        ] {
            let error = settings(&[("LLM_PROVIDER", provider)]).unwrap_err();
            assert!(error.to_string().contains(variable), "{provider}: {error}");
        }
    }

    #[test]
    fn cloud_defaults_apply() {
        let parsed =
            settings(&[("LLM_PROVIDER", "Anthropic"), ("ANTHROPIC_API_KEY", "k")]).unwrap();
        let endpoint = parsed.endpoint.unwrap();
        assert_eq!(endpoint.model, DEFAULT_ANTHROPIC_MODEL);
        assert_eq!(endpoint.base_url, DEFAULT_ANTHROPIC_BASE_URL);
        assert_eq!(endpoint.call, CallSettings::default());
    }

    #[test]
    fn compatible_needs_base_url_and_model() {
        let error = settings(&[("LLM_PROVIDER", "openai-compatible")]).unwrap_err();
        assert!(error.to_string().contains("OPENAI_BASE_URL"));
        let error = settings(&[
            ("LLM_PROVIDER", "openai-compatible"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
        ])
        .unwrap_err();
        assert!(error.to_string().contains("OPENAI_MODEL"));
    }

    #[test]
    fn compatible_key_optional_and_local() {
        let model = from_lookup(|name| match name {
            "LLM_PROVIDER" => Some("openai-compatible".into()),
            "OPENAI_BASE_URL" => Some("http://127.0.0.1:11434/v1".into()),
            "OPENAI_MODEL" => Some("llama3.1".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        let info = model.info();
        assert_eq!(info.provider, "openai-compatible");
        assert_eq!(info.model, "llama3.1");
        assert!(!info.remote);
    }

    #[test]
    fn compatible_tools_setting() {
        let base = [
            ("LLM_PROVIDER", "openai-compatible"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("OPENAI_MODEL", "llama3.1"),
        ];
        assert!(settings(&base).unwrap().compatible_tools);
        let off = [base.as_slice(), &[("OPENAI_COMPATIBLE_TOOLS", "off")]].concat();
        assert!(!settings(&off).unwrap().compatible_tools);
        let bad = [base.as_slice(), &[("OPENAI_COMPATIBLE_TOOLS", "sometimes")]].concat();
        let error = settings(&bad).unwrap_err().to_string();
        assert!(error.contains("OPENAI_COMPATIBLE_TOOLS"), "{error}");
        assert!(error.contains("'sometimes'"), "{error}");
    }

    #[test]
    fn cloud_provider_is_remote() {
        let model = from_lookup(|name| match name {
            "LLM_PROVIDER" => Some("gemini".into()),
            "GEMINI_API_KEY" => Some("g-key".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(model.info().provider, "gemini");
        assert_eq!(model.info().model, DEFAULT_GEMINI_MODEL);
        assert!(model.info().remote);
    }

    #[test]
    fn debug_redacts_key() {
        let parsed = settings(&[
            ("LLM_PROVIDER", "openai"),
            ("OPENAI_API_KEY", "sk-secret-123"),
        ])
        .unwrap();
        let debug_text = format!("{parsed:?}");
        assert!(!debug_text.contains("sk-secret-123"));
        assert!(debug_text.contains("[redacted]"));
    }

    #[test]
    fn invalid_timeout_rejected() {
        let error = settings(&[("LLM_TIMEOUT_SECS", "0")]).unwrap_err();
        assert!(error.to_string().contains("LLM_TIMEOUT_SECS"));
        let parsed = settings(&[
            ("LLM_PROVIDER", "openai"),
            ("OPENAI_API_KEY", "k"),
            ("LLM_TIMEOUT_SECS", "5"),
            ("LLM_MAX_ATTEMPTS", "1"),
        ])
        .unwrap();
        let call = parsed.endpoint.unwrap().call;
        assert_eq!(call.timeout, Duration::from_secs(5));
        assert_eq!(call.max_attempts.get(), 1);
    }

    #[test]
    fn bad_base_url_rejected() {
        let error = settings(&[
            ("LLM_PROVIDER", "gemini"),
            ("GEMINI_API_KEY", "k"),
            ("GEMINI_BASE_URL", "ftp://example"),
        ])
        .unwrap_err();
        assert!(error.to_string().contains("GEMINI_BASE_URL"));
    }
}
