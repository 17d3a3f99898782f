//! Model provider settings read from the environment.
//!
//! `LLM_PROVIDER` names one provider (`none`, `gemini`, `openai`,
//! `anthropic`, `openai-compatible`) or a comma-separated chain of them
//! (`gemini,openai`), tried in that order by a [`ChainModel`]. Each provider
//! reads its model and base URL from its own variables, and its API key from
//! its variable or, when that is unset, from the OS keyring
//! ([`keys`](super::keys)). A cloud provider without a key is a
//! configuration error that names both places. API keys never appear in
//! `Debug` output or error messages.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::anthropic::AnthropicChat;
use super::chain::ChainModel;
use super::gemini::GeminiChat;
use super::keys::{self, KeySource, NoKeyring};
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
         openai-compatible, or a comma-separated list of them"
    )]
    UnknownProvider(String),
    #[error("LLM_PROVIDER '{0}' has an empty name between commas; remove the extra comma")]
    EmptyProviderName(String),
    #[error("LLM_PROVIDER lists {0} twice; give each provider once")]
    DuplicateProvider(&'static str),
    #[error(
        "LLM_PROVIDER '{0}' lists none together with providers; leave none out, because \
         the playbook always decides when every provider fails"
    )]
    NoneInChain(String),
    #[error("LLM_PROVIDER={provider} needs {variable}; set it in the environment")]
    Missing {
        provider: &'static str,
        variable: &'static str,
    },
    #[error(
        "LLM_PROVIDER '{chain}' lists both openai and openai-compatible, so openai-compatible \
         needs its own {variable}; set it in the environment, because {shared} belongs to openai"
    )]
    MissingCompatible {
        chain: String,
        variable: &'static str,
        shared: &'static str,
    },
    #[error(
        "LLM_PROVIDER={provider} needs an API key: set {variable}, or store the key in the OS \
         keyring with `argus key set {provider}` ({keyring})"
    )]
    MissingKey {
        provider: &'static str,
        variable: &'static str,
        /// The reason the keyring supplied no key.
        keyring: String,
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
            _ => Err(LlmConfigError::UnknownProvider(value.trim().to_string())),
        }
    }

    /// The providers that take an API key, in the order `argus key status`
    /// lists them.
    pub const WITH_KEYS: [ProviderKind; 4] = [
        ProviderKind::Gemini,
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::OpenAiCompatible,
    ];

    /// Parses an `LLM_PROVIDER` list: one name or several separated by
    /// commas, in the order to try them. `none` alone, or an empty value,
    /// gives an empty list; `none` inside a list, a name given twice and an
    /// empty name are rejected.
    pub fn parse_list(value: &str) -> Result<Vec<ProviderKind>, LlmConfigError> {
        if !value.contains(',') {
            return Ok(match ProviderKind::parse(value)? {
                ProviderKind::None => Vec::new(),
                kind => vec![kind],
            });
        }
        let mut kinds = Vec::new();
        for item in value.split(',') {
            if item.trim().is_empty() {
                return Err(LlmConfigError::EmptyProviderName(value.to_string()));
            }
            let kind = ProviderKind::parse(item)?;
            if kind == ProviderKind::None {
                return Err(LlmConfigError::NoneInChain(value.to_string()));
            }
            if kinds.contains(&kind) {
                return Err(LlmConfigError::DuplicateProvider(kind.name()));
            }
            kinds.push(kind);
        }
        Ok(kinds)
    }

    /// Returns the environment variable of the provider's API key, `None`
    /// for `none`.
    pub fn key_variable(self) -> Option<&'static str> {
        match self {
            ProviderKind::None => None,
            ProviderKind::Gemini => Some("GEMINI_API_KEY"),
            ProviderKind::OpenAi => Some("OPENAI_API_KEY"),
            ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY"),
            ProviderKind::OpenAiCompatible => Some("OPENAI_COMPATIBLE_API_KEY"),
        }
    }

    /// Returns the variable read for the key when [`Self::key_variable`] is
    /// unset: `OPENAI_API_KEY` for `openai-compatible` (unless the chain
    /// also contains `openai`), `None` for the others.
    pub fn fallback_key_variable(self) -> Option<&'static str> {
        match self {
            ProviderKind::OpenAiCompatible => Some("OPENAI_API_KEY"),
            _ => None,
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

/// One provider of the chain and its endpoint.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub provider: ProviderKind,
    pub endpoint: EndpointSettings,
    /// Whether an OpenAI-compatible server gets answer schemas as tools
    /// (`OPENAI_COMPATIBLE_TOOLS`, default on); other providers ignore it.
    pub compatible_tools: bool,
}

impl ProviderSettings {
    /// Builds the provider's chat model.
    pub fn build(&self) -> Result<Arc<dyn ChatModel>, LlmConfigError> {
        let endpoint = self.endpoint.clone();
        let model: Arc<dyn ChatModel> = match self.provider {
            ProviderKind::Gemini => Arc::new(GeminiChat::new(endpoint)?),
            ProviderKind::OpenAi => Arc::new(OpenAiChat::new(endpoint)?),
            ProviderKind::Anthropic => Arc::new(AnthropicChat::new(endpoint)?),
            ProviderKind::OpenAiCompatible => {
                Arc::new(OpenAiChat::compatible(endpoint)?.with_tools(self.compatible_tools))
            }
            ProviderKind::None => {
                return Err(LlmConfigError::Invalid {
                    variable: "LLM_PROVIDER",
                    value: "none".into(),
                    expected: "a model provider, because none has no model",
                })
            }
        };
        Ok(model)
    }
}

/// The configured providers in the order to try them; empty for `none`.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub providers: Vec<ProviderSettings>,
}

impl LlmSettings {
    /// Reads the settings from the process environment, with keys from the
    /// environment or the key store that `ARGUS_KEYRING` selects.
    pub fn from_env() -> Result<LlmSettings, LlmConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let keys = keys::source_from_lookup(env)?;
        LlmSettings::from_lookup_with_keys(env, keys.as_ref())
    }

    /// Reads the settings, keys included, through `lookup` alone; the OS
    /// keyring is not read. Empty values count as unset.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<LlmSettings, LlmConfigError> {
        LlmSettings::from_lookup_with_keys(lookup, &NoKeyring)
    }

    /// Reads the settings through `lookup`; a key missing there is read
    /// from `keys`. Empty values count as unset.
    pub fn from_lookup_with_keys(
        lookup: impl Fn(&str) -> Option<String>,
        keys: &dyn KeySource,
    ) -> Result<LlmSettings, LlmConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let chain = get("LLM_PROVIDER").unwrap_or_default();
        let kinds = ProviderKind::parse_list(&chain)?;
        // With openai in the chain too, the OPENAI_* variables are openai's alone.
        let shared = kinds
            .contains(&ProviderKind::OpenAi)
            .then_some(chain.as_str());
        let call = call_settings(&get)?;
        let compatible_tools = match get("OPENAI_COMPATIBLE_TOOLS") {
            None => true,
            Some(value) => parse_tools_setting(&value).ok_or(LlmConfigError::Invalid {
                variable: "OPENAI_COMPATIBLE_TOOLS",
                value,
                expected: "on or off",
            })?,
        };
        let providers = kinds
            .into_iter()
            .map(|provider| {
                let endpoint = endpoint(provider, &get, keys, call, shared)?;
                Ok(ProviderSettings {
                    provider,
                    endpoint,
                    compatible_tools,
                })
            })
            .collect::<Result<Vec<_>, LlmConfigError>>()?;
        Ok(LlmSettings { providers })
    }

    /// Builds the chat model these settings name: `None` for `none`, the
    /// provider's own model for one provider, and a [`ChainModel`] over
    /// them for several.
    pub fn build(&self) -> Result<Option<Arc<dyn ChatModel>>, LlmConfigError> {
        let mut models = self
            .providers
            .iter()
            .map(ProviderSettings::build)
            .collect::<Result<Vec<_>, _>>()?;
        if models.len() <= 1 {
            return Ok(models.pop());
        }
        let first = models.remove(0);
        Ok(Some(Arc::new(ChainModel::new(first, models))))
    }
}

/// Builds the chat model configured in the process environment.
pub fn from_env() -> Result<Option<Arc<dyn ChatModel>>, LlmConfigError> {
    LlmSettings::from_env()?.build()
}

/// Builds the chat model configured through `lookup`, without the keyring.
pub fn from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Arc<dyn ChatModel>>, LlmConfigError> {
    LlmSettings::from_lookup(lookup)?.build()
}

/// Reads one provider's endpoint variables. `openai_chain` is the
/// `LLM_PROVIDER` value when it also lists `openai`.
fn endpoint(
    provider: ProviderKind,
    get: &impl Fn(&str) -> Option<String>,
    keys: &dyn KeySource,
    call: CallSettings,
    openai_chain: Option<&str>,
) -> Result<EndpointSettings, LlmConfigError> {
    match provider {
        ProviderKind::Gemini => cloud_endpoint(
            provider,
            get,
            keys,
            ["GEMINI_MODEL", "GEMINI_BASE_URL"],
            DEFAULT_GEMINI_MODEL,
            DEFAULT_GEMINI_BASE_URL,
            call,
        ),
        ProviderKind::OpenAi => cloud_endpoint(
            provider,
            get,
            keys,
            ["OPENAI_MODEL", "OPENAI_BASE_URL"],
            DEFAULT_OPENAI_MODEL,
            DEFAULT_OPENAI_BASE_URL,
            call,
        ),
        ProviderKind::Anthropic => cloud_endpoint(
            provider,
            get,
            keys,
            ["ANTHROPIC_MODEL", "ANTHROPIC_BASE_URL"],
            DEFAULT_ANTHROPIC_MODEL,
            DEFAULT_ANTHROPIC_BASE_URL,
            call,
        ),
        ProviderKind::OpenAiCompatible => compatible_endpoint(get, keys, call, openai_chain),
        ProviderKind::None => Err(LlmConfigError::Invalid {
            variable: "LLM_PROVIDER",
            value: "none".into(),
            expected: "a model provider, because none has no model",
        }),
    }
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

/// Reads a cloud provider's `[model, base URL]` variables and its key, from
/// its variable or else from `keys`. The key is required.
fn cloud_endpoint(
    provider: ProviderKind,
    get: &impl Fn(&str) -> Option<String>,
    keys: &dyn KeySource,
    [model_var, base_var]: [&'static str; 2],
    default_model: &str,
    default_base: &str,
    call: CallSettings,
) -> Result<EndpointSettings, LlmConfigError> {
    let variable = provider.key_variable().unwrap_or_default();
    let lookup = keys::find_key(provider, variable, get, keys);
    let Some(found) = lookup.found else {
        let keyring = match lookup.keyring_error {
            Some(error) => error.to_string(),
            None => format!("the OS keyring has no key for {}", provider.name()),
        };
        return Err(LlmConfigError::MissingKey {
            provider: provider.name(),
            variable,
            keyring,
        });
    };
    let base_url = get(base_var).unwrap_or_else(|| default_base.to_string());
    check_url(&base_url, base_var)?;
    Ok(EndpointSettings {
        base_url,
        api_key: Some(found.key),
        model: get(model_var).unwrap_or_else(|| default_model.to_string()),
        call,
    })
}

/// Reads an OpenAI-compatible server's settings: base URL and model are
/// required because no default fits every local server. Each setting is read
/// from its `OPENAI_COMPATIBLE_*` variable, else from the `OPENAI_*` one,
/// unless `openai_chain` says that `openai` also uses those. The key is
/// optional, so a keyring that cannot be read only leaves it unset.
fn compatible_endpoint(
    get: &impl Fn(&str) -> Option<String>,
    keys: &dyn KeySource,
    call: CallSettings,
    openai_chain: Option<&str>,
) -> Result<EndpointSettings, LlmConfigError> {
    let kind = ProviderKind::OpenAiCompatible;
    let read = |own: &'static str, shared: &'static str| {
        get(own).or_else(|| openai_chain.is_none().then(|| get(shared)).flatten())
    };
    // `either` names both variables for the error when neither is set.
    let missing = |own: &'static str, shared: &'static str, either: &'static str| match openai_chain
    {
        Some(chain) => LlmConfigError::MissingCompatible {
            chain: chain.to_string(),
            variable: own,
            shared,
        },
        None => LlmConfigError::Missing {
            provider: kind.name(),
            variable: either,
        },
    };

    let (base_var, shared_base) = ("OPENAI_COMPATIBLE_BASE_URL", "OPENAI_BASE_URL");
    let base_url = read(base_var, shared_base).ok_or_else(|| {
        missing(
            base_var,
            shared_base,
            "OPENAI_COMPATIBLE_BASE_URL (or OPENAI_BASE_URL)",
        )
    })?;
    let checked_var = if get(base_var).is_some() {
        base_var
    } else {
        shared_base
    };
    check_url(&base_url, checked_var)?;
    let (model_var, shared_model) = ("OPENAI_COMPATIBLE_MODEL", "OPENAI_MODEL");
    let model = read(model_var, shared_model).ok_or_else(|| {
        missing(
            model_var,
            shared_model,
            "OPENAI_COMPATIBLE_MODEL (or OPENAI_MODEL)",
        )
    })?;

    let own_key = kind.key_variable().unwrap_or_default();
    let key_variable = match kind.fallback_key_variable() {
        Some(shared) if openai_chain.is_none() && get(own_key).is_none() => shared,
        _ => own_key,
    };
    let api_key = keys::find_key(kind, key_variable, get, keys)
        .found
        .map(|f| f.key);
    Ok(EndpointSettings {
        base_url,
        api_key,
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
    use crate::llm::keys::MemoryKeys;

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
    fn compatible_tools_setting() {
        let base = [
            ("LLM_PROVIDER", "openai-compatible"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("OPENAI_MODEL", "llama3.1"),
        ];
        assert!(settings(&base).unwrap().providers[0].compatible_tools);
        let off = [base.as_slice(), &[("OPENAI_COMPATIBLE_TOOLS", "off")]].concat();
        assert!(!settings(&off).unwrap().providers[0].compatible_tools);
        let bad = [base.as_slice(), &[("OPENAI_COMPATIBLE_TOOLS", "sometimes")]].concat();
        let error = settings(&bad).unwrap_err().to_string();
        assert!(error.contains("OPENAI_COMPATIBLE_TOOLS"), "{error}");
        assert!(error.contains("'sometimes'"), "{error}");
    }

    #[test]
    fn unset_provider_is_none() {
        let parsed = settings(&[]).unwrap();
        assert!(parsed.providers.is_empty());
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
        let endpoint = parsed.providers[0].endpoint.clone();
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
    fn compatible_own_variables_first() {
        let parsed = settings(&[
            ("LLM_PROVIDER", "openai-compatible"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
            ("OPENAI_MODEL", "shared-model"),
            ("OPENAI_API_KEY", "shared-key"),
            ("OPENAI_COMPATIBLE_BASE_URL", "http://127.0.0.1:2/v1"),
            ("OPENAI_COMPATIBLE_MODEL", "own-model"),
            ("OPENAI_COMPATIBLE_API_KEY", "own-key"),
        ])
        .unwrap();
        let endpoint = &parsed.providers[0].endpoint;
        assert_eq!(endpoint.base_url, "http://127.0.0.1:2/v1");
        assert_eq!(endpoint.model, "own-model");
        assert_eq!(endpoint.api_key.as_deref(), Some("own-key"));
    }

    #[test]
    fn compatible_falls_back_to_openai_variables() {
        let parsed = settings(&[
            ("LLM_PROVIDER", "openai-compatible"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
            ("OPENAI_MODEL", "shared-model"),
            ("OPENAI_API_KEY", "shared-key"),
        ])
        .unwrap();
        let endpoint = &parsed.providers[0].endpoint;
        assert_eq!(endpoint.base_url, "http://127.0.0.1:1/v1");
        assert_eq!(endpoint.model, "shared-model");
        assert_eq!(endpoint.api_key.as_deref(), Some("shared-key"));
    }

    #[test]
    fn chain_openai_then_compatible_separate() {
        let parsed = settings(&[
            ("LLM_PROVIDER", "openai,openai-compatible"),
            ("OPENAI_MODEL", "gpt-cloud"),
            ("OPENAI_API_KEY", "cloud-key"),
            ("OPENAI_COMPATIBLE_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("OPENAI_COMPATIBLE_MODEL", "llama3.1"),
        ])
        .unwrap();
        let cloud = &parsed.providers[0].endpoint;
        let local = &parsed.providers[1].endpoint;
        assert_eq!(cloud.base_url, DEFAULT_OPENAI_BASE_URL);
        assert_eq!(cloud.model, "gpt-cloud");
        assert_eq!(cloud.api_key.as_deref(), Some("cloud-key"));
        assert_eq!(local.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(local.model, "llama3.1");
        assert_eq!(
            local.api_key, None,
            "the cloud key must not go to the local server"
        );
    }

    #[test]
    fn chain_compatible_ignores_openai_variables() {
        let error = settings(&[
            ("LLM_PROVIDER", "openai,openai-compatible"),
            ("OPENAI_API_KEY", "cloud-key"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
            ("OPENAI_MODEL", "gpt-cloud"),
        ])
        .unwrap_err();
        assert!(matches!(
            error,
            LlmConfigError::MissingCompatible {
                variable: "OPENAI_COMPATIBLE_BASE_URL",
                shared: "OPENAI_BASE_URL",
                ..
            }
        ));
        let text = error.to_string();
        assert!(
            text.contains("lists both openai and openai-compatible"),
            "{text}"
        );
    }

    #[test]
    fn cloud_provider_remote_on_loopback() {
        let model = from_lookup(|name| match name {
            "LLM_PROVIDER" => Some("openai".into()),
            "OPENAI_API_KEY" => Some("o-key".into()),
            "OPENAI_BASE_URL" => Some("http://127.0.0.1:8080/v1".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert!(model.info().remote);
    }

    #[test]
    fn compatible_remote_off_loopback() {
        let model = from_lookup(|name| match name {
            "LLM_PROVIDER" => Some("openai-compatible".into()),
            "OPENAI_BASE_URL" => Some("https://llm.example.com/v1".into()),
            "OPENAI_MODEL" => Some("llama3.1".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
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
        let call = parsed.providers[0].endpoint.call;
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

    #[test]
    fn list_parsed_in_order() {
        let parsed = settings(&[
            ("LLM_PROVIDER", " Gemini , OPENAI "),
            ("GEMINI_API_KEY", "g"),
            ("OPENAI_API_KEY", "o"),
        ])
        .unwrap();
        let kinds: Vec<ProviderKind> = parsed.providers.iter().map(|p| p.provider).collect();
        assert_eq!(kinds, [ProviderKind::Gemini, ProviderKind::OpenAi]);
        assert_eq!(parsed.providers[0].endpoint.api_key.as_deref(), Some("g"));
        assert_eq!(parsed.providers[1].endpoint.api_key.as_deref(), Some("o"));
    }

    #[test]
    fn list_builds_chain() {
        let model = from_lookup(|name| match name {
            "LLM_PROVIDER" => Some("openai-compatible,gemini".into()),
            "OPENAI_BASE_URL" => Some("http://127.0.0.1:11434/v1".into()),
            "OPENAI_MODEL" => Some("llama3.1".into()),
            "GEMINI_API_KEY" => Some("g".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        let info = model.info();
        assert_eq!(info.provider, "openai-compatible,gemini");
        assert_eq!(info.model, format!("llama3.1,{DEFAULT_GEMINI_MODEL}"));
        assert!(info.remote);
    }

    #[test]
    fn list_unknown_name_rejected() {
        let error = settings(&[("LLM_PROVIDER", "gemini, mistral")]).unwrap_err();
        assert!(matches!(&error, LlmConfigError::UnknownProvider(name) if name == "mistral"));
        assert!(error.to_string().contains("comma-separated"));
    }

    #[test]
    fn list_duplicate_rejected() {
        let error = settings(&[("LLM_PROVIDER", "gemini,openai,Gemini")]).unwrap_err();
        assert!(matches!(error, LlmConfigError::DuplicateProvider("gemini")));
    }

    #[test]
    fn list_none_inside_rejected() {
        for value in ["gemini,none", "none,openai"] {
            let error = settings(&[("LLM_PROVIDER", value)]).unwrap_err();
            assert!(matches!(error, LlmConfigError::NoneInChain(_)), "{value}");
        }
    }

    #[test]
    fn list_empty_name_rejected() {
        for value in ["gemini,", ",gemini", "gemini,,openai"] {
            let error = settings(&[("LLM_PROVIDER", value)]).unwrap_err();
            assert!(
                matches!(error, LlmConfigError::EmptyProviderName(_)),
                "{value}"
            );
        }
    }

    #[test]
    fn list_missing_second_key_named() {
        let error =
            settings(&[("LLM_PROVIDER", "gemini,openai"), ("GEMINI_API_KEY", "g")]).unwrap_err();
        assert!(matches!(
            error,
            LlmConfigError::MissingKey {
                variable: "OPENAI_API_KEY",
                ..
            }
        ));
    }

    fn with_keys(
        pairs: &'static [(&'static str, &'static str)],
        keys: &dyn KeySource,
    ) -> Result<LlmSettings, LlmConfigError> {
        LlmSettings::from_lookup_with_keys(
            |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            },
            keys,
        )
    }

    #[test]
    fn key_from_keyring_when_env_unset() {
        let keys = MemoryKeys::default().with("gemini", "g-stored");
        let parsed = with_keys(&[("LLM_PROVIDER", "gemini")], &keys).unwrap();
        assert_eq!(
            parsed.providers[0].endpoint.api_key.as_deref(),
            Some("g-stored")
        );
    }

    #[test]
    fn key_from_env_wins() {
        let keys = MemoryKeys::default().with("gemini", "g-stored");
        let pairs = &[("LLM_PROVIDER", "gemini"), ("GEMINI_API_KEY", "g-env")];
        let parsed = with_keys(pairs, &keys).unwrap();
        assert_eq!(
            parsed.providers[0].endpoint.api_key.as_deref(),
            Some("g-env")
        );
    }

    #[test]
    fn missing_key_names_both_places() {
        let error = with_keys(&[("LLM_PROVIDER", "anthropic")], &MemoryKeys::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("ANTHROPIC_API_KEY"), "{error}");
        assert!(error.contains("argus key set anthropic"), "{error}");
        assert!(
            error.contains("the OS keyring has no key for anthropic"),
            "{error}"
        );
    }

    #[test]
    fn missing_key_gives_keyring_error() {
        let error = with_keys(&[("LLM_PROVIDER", "openai")], &NoKeyring)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("use of the OS keyring is turned off"),
            "{error}"
        );
    }

    #[test]
    fn compatible_key_from_keyring() {
        let keys = MemoryKeys::default().with("openai-compatible", "local-key");
        let pairs = &[
            ("LLM_PROVIDER", "openai-compatible"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1"),
            ("OPENAI_MODEL", "m"),
        ];
        let parsed = with_keys(pairs, &keys).unwrap();
        assert_eq!(
            parsed.providers[0].endpoint.api_key.as_deref(),
            Some("local-key")
        );
        let parsed = with_keys(pairs, &NoKeyring).unwrap();
        assert_eq!(parsed.providers[0].endpoint.api_key, None);
    }
}
