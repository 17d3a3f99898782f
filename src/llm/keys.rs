//! Provider API keys from the environment or the OS keyring.
//!
//! A provider's key is read from its environment variable (`GEMINI_API_KEY`,
//! `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`) first, then from the OS keyring
//! under service `argus` and user the provider name (`gemini`), so a
//! variable set for one run overrides the stored key. The keyring is the
//! platform's credential store, reached through the `keyring` crate (v3):
//! the Keychain on macOS, the Credential Manager on Windows, and on Linux
//! the Secret Service over D-Bus with the kernel keyutils as a cache.
//!
//! [`KeySource`] is the seam: [`OsKeyring`] is the real store, [`MemoryKeys`]
//! replaces it in tests, and `ARGUS_KEYRING=off` selects [`NoKeyring`]
//! on hosts without a keyring service. Keys never appear in messages or in
//! `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;
use std::sync::Mutex;

use super::config::{LlmConfigError, ProviderKind};

/// Keyring service name under which every provider key is stored.
pub const KEYRING_SERVICE: &str = "argus";

/// Environment variable that selects the key store: `os` (default) or `off`.
pub const KEYRING_VARIABLE: &str = "ARGUS_KEYRING";

/// A keyring operation that failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeyringError {
    /// The process was configured not to use the keyring.
    #[error("use of the OS keyring is turned off")]
    Off,
    /// No keyring service responded, or it denied access (locked, no D-Bus
    /// session, no Secret Service daemon).
    #[error("the OS keyring cannot be used: {0}")]
    Unavailable(String),
    /// The keyring responded but rejected the request (invalid name, value
    /// too long, a stored value that is not UTF-8, several matching entries).
    #[error("the OS keyring rejected the request: {0}")]
    Rejected(String),
}

impl From<keyring::Error> for KeyringError {
    fn from(error: keyring::Error) -> Self {
        match error {
            keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
                KeyringError::Unavailable(error.to_string())
            }
            other => KeyringError::Rejected(other.to_string()),
        }
    }
}

/// A store of provider API keys, keyed by provider name.
pub trait KeySource: Send + Sync {
    /// Returns the key stored for `provider`, or `None` when none is stored.
    fn get(&self, provider: &str) -> Result<Option<String>, KeyringError>;

    /// Stores `key` for `provider`, replacing any stored key.
    fn set(&self, provider: &str, key: &str) -> Result<(), KeyringError>;

    /// Deletes the key stored for `provider`; returns whether one was stored.
    fn delete(&self, provider: &str) -> Result<bool, KeyringError>;
}

/// The platform's credential store, service [`KEYRING_SERVICE`].
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

impl OsKeyring {
    fn entry(provider: &str) -> Result<keyring::Entry, KeyringError> {
        Ok(keyring::Entry::new(KEYRING_SERVICE, provider)?)
    }
}

impl KeySource for OsKeyring {
    fn get(&self, provider: &str) -> Result<Option<String>, KeyringError> {
        match OsKeyring::entry(provider)?.get_password() {
            Ok(key) => Ok(Some(key)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn set(&self, provider: &str, key: &str) -> Result<(), KeyringError> {
        Ok(OsKeyring::entry(provider)?.set_password(key)?)
    }

    fn delete(&self, provider: &str) -> Result<bool, KeyringError> {
        match OsKeyring::entry(provider)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}

/// A key store that is turned off: every operation fails with
/// [`KeyringError::Off`].
#[derive(Debug, Default, Clone, Copy)]
pub struct NoKeyring;

impl KeySource for NoKeyring {
    fn get(&self, _provider: &str) -> Result<Option<String>, KeyringError> {
        Err(KeyringError::Off)
    }

    fn set(&self, _provider: &str, _key: &str) -> Result<(), KeyringError> {
        Err(KeyringError::Off)
    }

    fn delete(&self, _provider: &str) -> Result<bool, KeyringError> {
        Err(KeyringError::Off)
    }
}

/// An in-memory key store, for tests and for processes that must not touch
/// the OS keyring.
#[derive(Default)]
pub struct MemoryKeys {
    keys: Mutex<BTreeMap<String, String>>,
}

impl MemoryKeys {
    /// Returns the store with `key` stored for `provider`.
    pub fn with(self, provider: &str, key: &str) -> Self {
        self.lock().insert(provider.to_string(), key.to_string());
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.keys.lock().expect("memory key store lock")
    }
}

impl fmt::Debug for MemoryKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let providers: Vec<String> = self.lock().keys().cloned().collect();
        f.debug_struct("MemoryKeys")
            .field("providers", &providers)
            .finish()
    }
}

impl KeySource for MemoryKeys {
    fn get(&self, provider: &str) -> Result<Option<String>, KeyringError> {
        Ok(self.lock().get(provider).cloned())
    }

    fn set(&self, provider: &str, key: &str) -> Result<(), KeyringError> {
        self.lock().insert(provider.to_string(), key.to_string());
        Ok(())
    }

    fn delete(&self, provider: &str) -> Result<bool, KeyringError> {
        Ok(self.lock().remove(provider).is_some())
    }
}

/// Selects the key store that `ARGUS_KEYRING` names through `lookup`:
/// [`OsKeyring`] when unset or `os`, [`NoKeyring`] for `off`.
pub fn source_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Box<dyn KeySource>, LlmConfigError> {
    let value = lookup(KEYRING_VARIABLE).unwrap_or_default();
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "os" => Ok(Box::new(OsKeyring)),
        "off" => Ok(Box::new(NoKeyring)),
        _ => Err(LlmConfigError::Invalid {
            variable: KEYRING_VARIABLE,
            value,
            expected: "os or off",
        }),
    }
}

/// Selects the key store from the process environment.
pub fn source_from_env() -> Result<Box<dyn KeySource>, LlmConfigError> {
    source_from_lookup(|name| std::env::var(name).ok())
}

/// The origin of a provider's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Environment,
    Keyring,
}

/// A provider's key and its origin; `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct FoundKey {
    pub key: String,
    pub origin: KeyOrigin,
}

impl fmt::Debug for FoundKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FoundKey")
            .field("key", &"[redacted]")
            .field("origin", &self.origin)
            .finish()
    }
}

/// The outcome of looking a provider's key up in both places.
#[derive(Debug, Clone)]
pub struct KeyLookup {
    /// The key that applies: the environment's when both places have one.
    pub found: Option<FoundKey>,
    /// The keyring failure, when reading it failed; `None` when it was read,
    /// or was not needed because the environment has the key.
    pub keyring_error: Option<KeyringError>,
}

/// Looks up `provider`'s key: the environment variable `variable` through
/// `env` first, then `keys`. The keyring is read only when the variable is
/// unset or blank.
pub fn find_key(
    provider: ProviderKind,
    variable: &str,
    env: &impl Fn(&str) -> Option<String>,
    keys: &dyn KeySource,
) -> KeyLookup {
    let from_env = env(variable)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    if let Some(key) = from_env {
        let found = FoundKey {
            key,
            origin: KeyOrigin::Environment,
        };
        return KeyLookup {
            found: Some(found),
            keyring_error: None,
        };
    }
    match keys.get(provider.name()) {
        Ok(stored) => KeyLookup {
            found: stored.filter(|k| !k.trim().is_empty()).map(|key| FoundKey {
                key: key.trim().to_string(),
                origin: KeyOrigin::Keyring,
            }),
            keyring_error: None,
        },
        Err(error) => KeyLookup {
            found: None,
            keyring_error: Some(error),
        },
    }
}

/// A failed `argus key` command.
#[derive(Debug, thiserror::Error)]
pub enum KeyCommandError {
    #[error(
        "'{0}' takes no API key; expected one of gemini, openai, anthropic, openai-compatible"
    )]
    NotAProvider(String),
    #[error("cannot read the key from standard input: {0}")]
    Read(#[from] std::io::Error),
    #[error("no key on standard input; pipe it in, for example `argus key set {0} < key.txt`")]
    EmptyKey(&'static str),
    #[error("the input for {0} has more than one line; give only the key")]
    SeveralLines(&'static str),
    #[error(
        "cannot store the {provider} key: {source}; set {variable} in the environment instead"
    )]
    Store {
        provider: &'static str,
        variable: &'static str,
        source: KeyringError,
    },
    #[error("cannot delete the {provider} key: {source}")]
    Delete {
        provider: &'static str,
        source: KeyringError,
    },
    #[error("cannot check the keyring: {0}")]
    Config(#[from] LlmConfigError),
}

/// Parses the provider argument of `argus key`; `none` has no key.
pub fn parse_provider(value: &str) -> Result<ProviderKind, KeyCommandError> {
    match ProviderKind::parse(value) {
        Ok(ProviderKind::None) | Err(_) => Err(KeyCommandError::NotAProvider(value.to_string())),
        Ok(kind) => Ok(kind),
    }
}

/// Reads one key from `input` and stores it for `provider` in `keys`.
///
/// Surrounding blanks and the final line break are dropped; empty input
/// and input of several lines are rejected.
pub fn set_from_reader(
    keys: &dyn KeySource,
    provider: ProviderKind,
    mut input: impl BufRead,
) -> Result<(), KeyCommandError> {
    let mut text = String::new();
    input.read_to_string(&mut text)?;
    let key = text.trim();
    if key.is_empty() {
        return Err(KeyCommandError::EmptyKey(provider.name()));
    }
    if key.lines().count() > 1 {
        return Err(KeyCommandError::SeveralLines(provider.name()));
    }
    keys.set(provider.name(), key)
        .map_err(|source| KeyCommandError::Store {
            provider: provider.name(),
            variable: provider
                .key_variable()
                .unwrap_or("the provider's key variable"),
            source,
        })
}

/// Deletes `provider`'s key from `keys`; returns whether one was stored.
pub fn delete(keys: &dyn KeySource, provider: ProviderKind) -> Result<bool, KeyCommandError> {
    keys.delete(provider.name())
        .map_err(|source| KeyCommandError::Delete {
            provider: provider.name(),
            source,
        })
}

/// The places that contain a key for one provider.
#[derive(Debug, Clone)]
pub struct KeyStatus {
    pub provider: ProviderKind,
    /// The provider's environment variable.
    pub variable: &'static str,
    /// Whether the variable is set to a non-blank value.
    pub in_environment: bool,
    /// Whether the keyring has a key, or why it could not be read.
    pub in_keyring: Result<bool, KeyringError>,
}

impl KeyStatus {
    /// Returns where the key that applies comes from, if any.
    pub fn origin(&self) -> Option<KeyOrigin> {
        if self.in_environment {
            Some(KeyOrigin::Environment)
        } else if matches!(self.in_keyring, Ok(true)) {
            Some(KeyOrigin::Keyring)
        } else {
            None
        }
    }
}

/// One line per provider, for example
/// `gemini: key from the environment (GEMINI_API_KEY)`. Keys are never shown.
impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.provider.name();
        match (self.origin(), &self.in_keyring) {
            (Some(KeyOrigin::Environment), Ok(true)) => write!(
                f,
                "{name}: key from the environment ({}), which overrides the key in the keyring",
                self.variable
            ),
            (Some(KeyOrigin::Environment), _) => {
                write!(f, "{name}: key from the environment ({})", self.variable)
            }
            (Some(KeyOrigin::Keyring), _) => write!(f, "{name}: key from the OS keyring"),
            (None, keyring) => {
                write!(f, "{name}: no key; set {}", self.variable)?;
                // `argus key set` fails while the keyring is off, so it is offered only when on.
                if !matches!(keyring, Err(KeyringError::Off)) {
                    write!(f, " or run `argus key set {name}`")?;
                }
                if self.provider == ProviderKind::OpenAiCompatible {
                    write!(f, " (optional for local servers)")?;
                }
                Ok(())
            }
        }?;
        match &self.in_keyring {
            Err(KeyringError::Off) => write!(f, "; keyring not read: {KEYRING_VARIABLE} is off"),
            Err(error) => write!(f, "; keyring not read: {error}"),
            Ok(_) => Ok(()),
        }
    }
}

/// Reports, for every provider that takes a key, whether the environment
/// (read through `env`) and `keys` hold one.
pub fn status(env: &impl Fn(&str) -> Option<String>, keys: &dyn KeySource) -> Vec<KeyStatus> {
    ProviderKind::WITH_KEYS
        .iter()
        .map(|&provider| {
            let own = provider.key_variable().unwrap_or_default();
            let is_set = |name: &str| env(name).is_some_and(|v| !v.trim().is_empty());
            // NOTE: `openai-compatible` falls back to OPENAI_API_KEY here even
            // though a chain that also lists `openai` does not read it.
            let variable = match provider.fallback_key_variable() {
                Some(shared) if !is_set(own) && is_set(shared) => shared,
                _ => own,
            };
            let in_environment = is_set(variable);
            let in_keyring = keys
                .get(provider.name())
                .map(|k| k.is_some_and(|k| !k.trim().is_empty()));
            KeyStatus {
                provider,
                variable,
                in_environment,
                in_keyring,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment_wins_over_keyring() {
        let keys = MemoryKeys::default().with("gemini", "from-keyring");
        let env = env_of(&[("GEMINI_API_KEY", "from-env")]);
        let lookup = find_key(ProviderKind::Gemini, "GEMINI_API_KEY", &env, &keys);
        let found = lookup.found.unwrap();
        assert_eq!(found.key, "from-env");
        assert_eq!(found.origin, KeyOrigin::Environment);
    }

    #[test]
    fn keyring_used_when_env_unset() {
        let keys = MemoryKeys::default().with("gemini", "from-keyring\n");
        let env = env_of(&[("GEMINI_API_KEY", "  ")]);
        let lookup = find_key(ProviderKind::Gemini, "GEMINI_API_KEY", &env, &keys);
        let found = lookup.found.unwrap();
        assert_eq!(found.key, "from-keyring");
        assert_eq!(found.origin, KeyOrigin::Keyring);
    }

    #[test]
    fn keyring_not_read_when_env_set() {
        let env = env_of(&[("OPENAI_API_KEY", "from-env")]);
        let lookup = find_key(ProviderKind::OpenAi, "OPENAI_API_KEY", &env, &NoKeyring);
        assert!(lookup.keyring_error.is_none());
        assert_eq!(lookup.found.unwrap().origin, KeyOrigin::Environment);
    }

    #[test]
    fn keyring_error_kept() {
        let env = env_of(&[]);
        let lookup = find_key(ProviderKind::OpenAi, "OPENAI_API_KEY", &env, &NoKeyring);
        assert!(lookup.found.is_none());
        assert!(matches!(lookup.keyring_error, Some(KeyringError::Off)));
    }

    #[test]
    fn found_key_debug_hides_key() {
        let found = FoundKey {
            key: "sk-hidden-42".into(),
            origin: KeyOrigin::Keyring,
        };
        assert!(!format!("{found:?}").contains("sk-hidden-42"));
        let keys = MemoryKeys::default().with("openai", "sk-hidden-42");
        assert!(!format!("{keys:?}").contains("sk-hidden-42"));
    }

    #[test]
    fn set_reads_one_trimmed_line() {
        let keys = MemoryKeys::default();
        set_from_reader(&keys, ProviderKind::Gemini, "  g-key-1 \n".as_bytes()).unwrap();
        assert_eq!(keys.get("gemini").unwrap().as_deref(), Some("g-key-1"));
    }

    #[test]
    fn set_rejects_empty_input() {
        let keys = MemoryKeys::default();
        let error = set_from_reader(&keys, ProviderKind::Gemini, "\n".as_bytes()).unwrap_err();
        assert!(matches!(error, KeyCommandError::EmptyKey("gemini")));
        assert_eq!(keys.get("gemini").unwrap(), None);
    }

    #[test]
    fn set_rejects_several_lines() {
        let keys = MemoryKeys::default();
        let error = set_from_reader(&keys, ProviderKind::OpenAi, "a\nb\n".as_bytes()).unwrap_err();
        assert!(matches!(error, KeyCommandError::SeveralLines("openai")));
        assert_eq!(keys.get("openai").unwrap(), None);
    }

    #[test]
    fn set_without_keyring_names_variable() {
        let error = set_from_reader(&NoKeyring, ProviderKind::Anthropic, "k".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(error.contains("turned off"), "{error}");
        assert!(error.contains("ANTHROPIC_API_KEY"), "{error}");
    }

    /// A keyring whose service does not respond, as without a D-Bus session.
    struct Unreachable;

    impl KeySource for Unreachable {
        fn get(&self, _provider: &str) -> Result<Option<String>, KeyringError> {
            Err(KeyringError::Unavailable("no D-Bus session".into()))
        }

        fn set(&self, _provider: &str, _key: &str) -> Result<(), KeyringError> {
            Err(KeyringError::Unavailable("no D-Bus session".into()))
        }

        fn delete(&self, _provider: &str) -> Result<bool, KeyringError> {
            Err(KeyringError::Unavailable("no D-Bus session".into()))
        }
    }

    #[test]
    fn set_unreachable_keyring_message() {
        let error = set_from_reader(&Unreachable, ProviderKind::Gemini, "k\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "cannot store the gemini key: the OS keyring cannot be used: no D-Bus session; \
             set GEMINI_API_KEY in the environment instead"
        );
    }

    #[test]
    fn delete_reports_presence() {
        let keys = MemoryKeys::default().with("gemini", "k");
        assert!(delete(&keys, ProviderKind::Gemini).unwrap());
        assert!(!delete(&keys, ProviderKind::Gemini).unwrap());
        assert_eq!(keys.get("gemini").unwrap(), None);
    }

    #[test]
    fn none_is_not_a_provider() {
        assert!(parse_provider("none").is_err());
        assert!(parse_provider("mistral").is_err());
        assert_eq!(parse_provider("Gemini").unwrap(), ProviderKind::Gemini);
    }

    #[test]
    fn keyring_setting_parsed() {
        assert!(source_from_lookup(|_| None).is_ok());
        let off = source_from_lookup(|_| Some("off".into())).unwrap();
        assert!(matches!(off.get("gemini"), Err(KeyringError::Off)));
        let error = source_from_lookup(|_| Some("yes".into())).err().unwrap();
        assert!(error.to_string().contains("ARGUS_KEYRING"));
    }

    #[test]
    fn status_lines_name_origin() {
        let keys = MemoryKeys::default()
            .with("gemini", "g")
            .with("openai", "o");
        let env = env_of(&[("OPENAI_API_KEY", "o-env")]);
        let lines: Vec<String> = status(&env, &keys).iter().map(|s| s.to_string()).collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "gemini: key from the OS keyring");
        assert_eq!(
            lines[1],
            "openai: key from the environment (OPENAI_API_KEY), which overrides the key in \
             the keyring"
        );
        assert_eq!(
            lines[2],
            "anthropic: no key; set ANTHROPIC_API_KEY or run `argus key set anthropic`"
        );
        // OpenAI-compatible servers fall back to OpenAI's variable.
        assert_eq!(
            lines[3],
            "openai-compatible: key from the environment (OPENAI_API_KEY)"
        );
    }

    #[test]
    fn status_notes_keyring_error() {
        let lines: Vec<String> = status(&env_of(&[]), &NoKeyring)
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(lines[0].starts_with("gemini: no key"));
        assert!(lines[0].ends_with("; keyring not read: ARGUS_KEYRING is off"));
        assert!(lines[3].contains("(optional for local servers); keyring not read"));
    }

    #[test]
    fn status_keyring_off_suggests_variable() {
        let lines: Vec<String> = status(&env_of(&[]), &NoKeyring)
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            lines[0],
            "gemini: no key; set GEMINI_API_KEY; keyring not read: ARGUS_KEYRING is off"
        );
        for line in &lines {
            assert!(!line.contains("argus key set"), "{line}");
        }
    }

    #[test]
    fn status_keyring_unavailable_suggests_set() {
        let lines: Vec<String> = status(&env_of(&[]), &Unreachable)
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(lines[0].contains("or run `argus key set gemini`"), "{}", lines[0]);
        assert!(lines[0].ends_with("the OS keyring cannot be used: no D-Bus session"), "{}", lines[0]);
    }
}
