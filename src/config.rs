//! Settings read from the environment by the command-line front. The model
//! planner's settings (`LLM_PROVIDER` and the provider keys) are read by
//! [`crate::llm::config`].
//!
//! A bad value stops start-up with a message naming the variable, the value
//! and what is accepted.

use std::num::NonZeroUsize;

/// Settings of the agent, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `MAX_AGENT_ITERATIONS`: planner iterations per investigation (default 6).
    pub max_agent_iterations: NonZeroUsize,
}

/// A setting with a value that cannot be used, or a required setting that is
/// missing (an empty `value`, because the lookups treat empty variables as unset).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub expected: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.value.is_empty() {
            write!(f, "missing {}: {}", self.variable, self.expected)
        } else {
            write!(f, "invalid {}={:?}: {}", self.variable, self.value, self.expected)
        }
    }
}

impl Settings {
    /// Reads settings from the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, which returns a variable's value if set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        // An empty variable counts as unset, as shells and .env files often leave them.
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let max_agent_iterations = match set("MAX_AGENT_ITERATIONS") {
            None => NonZeroUsize::new(6).expect("6 is not zero"),
            Some(value) => value.trim().parse::<NonZeroUsize>().ok().filter(|n| n.get() <= 100).ok_or(
                ConfigError {
                    variable: "MAX_AGENT_ITERATIONS",
                    value,
                    expected: "expected a whole number from 1 to 100".into(),
                },
            )?,
        };
        Ok(Settings { max_agent_iterations })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_apply() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.max_agent_iterations.get(), 6);
    }

    #[test]
    fn zero_iterations_rejected() {
        let err = settings(&[("MAX_AGENT_ITERATIONS", "0")]).unwrap_err();
        assert_eq!(err.variable, "MAX_AGENT_ITERATIONS");
        assert!(err.to_string().contains("\"0\""), "{err}");
    }
}
