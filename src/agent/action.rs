//! The closed set of investigation actions and their typed, validated arguments.
//!
//! A planner can only choose an [`Action`]; an action from a model arrives as a
//! name and JSON arguments and goes through [`Action::from_json`], which rejects
//! unknown names and arguments that fail validation before anything runs.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::alert::is_hostname;

/// A hostname checked against RFC 1123 labels, safe to quote into SPL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostName(String);

impl HostName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HostName {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if is_hostname(&value) {
            Ok(HostName(value))
        } else {
            Err(format!(
                "invalid hostname '{value}'; expected letters, digits, '-' and '_' in dot-separated labels"
            ))
        }
    }
}

impl From<HostName> for String {
    fn from(host: HostName) -> String {
        host.0
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account name: printable, no quotes or control characters, at most 256 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Account(String);

impl Account {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Account {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let valid = !value.is_empty()
            && value.len() <= 256
            && value.chars().all(|c| !c.is_control() && !matches!(c, '"' | '`' | '*'));
        if valid {
            Ok(Account(value))
        } else {
            Err(format!(
                "invalid account name {value:?}; expected 1-256 printable characters without quotes, \
                 backticks or '*' (SPL has no way to escape a wildcard)"
            ))
        }
    }
}

impl From<Account> for String {
    fn from(account: Account) -> String {
        account.0
    }
}

/// One investigation action with its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", content = "args", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Looks for successful logins on a host, from an address, or to accounts.
    CheckLoginSuccess {
        #[serde(default)]
        host: Option<HostName>,
        #[serde(default)]
        src_ip: Option<IpAddr>,
        /// Accounts under suspicion (such as those a brute force targeted).
        #[serde(default)]
        accounts: Vec<Account>,
    },
    /// Lists processes and commands run on a host, optionally by one account
    /// and after a time (microseconds since the epoch).
    CheckProcessExecution {
        host: HostName,
        #[serde(default)]
        account: Option<Account>,
        #[serde(default)]
        since: Option<i64>,
    },
    /// Finds every network log that involves an address.
    ExpandToNetworkLogs { ip: IpAddr },
    /// Looks for logins and remote sessions from a host to other internal hosts.
    CheckLateralMovement {
        #[serde(default)]
        host: Option<HostName>,
        #[serde(default)]
        host_ip: Option<IpAddr>,
        #[serde(default)]
        since: Option<i64>,
    },
    /// Summarises connections from a host or address to external destinations.
    CheckOutboundConnections {
        #[serde(default)]
        host: Option<HostName>,
        #[serde(default)]
        src_ip: Option<IpAddr>,
    },
    /// Looks for mining pool lookups, stratum traffic and miner processes.
    CheckCryptomining {
        #[serde(default)]
        host: Option<HostName>,
    },
    /// Searches all data for one indicator and checks it against threat intel.
    CorrelateIoc { indicator: String },
    /// Runs an SPL query as given.
    RunSpl { query: String },
}

/// Why an action proposed by a planner was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("unknown action '{0}'; expected one of {names}", names = Action::NAMES.join(", "))]
    Unknown(String),
    #[error("invalid arguments for action '{action}': {reason}")]
    InvalidArguments { action: String, reason: String },
}

impl Action {
    /// Every action name, as planners must spell them.
    pub const NAMES: [&'static str; 8] = [
        "check_login_success",
        "check_process_execution",
        "expand_to_network_logs",
        "check_lateral_movement",
        "check_outbound_connections",
        "check_cryptomining",
        "correlate_ioc",
        "run_spl",
    ];

    /// The action's name.
    pub fn name(&self) -> &'static str {
        match self {
            Action::CheckLoginSuccess { .. } => "check_login_success",
            Action::CheckProcessExecution { .. } => "check_process_execution",
            Action::ExpandToNetworkLogs { .. } => "expand_to_network_logs",
            Action::CheckLateralMovement { .. } => "check_lateral_movement",
            Action::CheckOutboundConnections { .. } => "check_outbound_connections",
            Action::CheckCryptomining { .. } => "check_cryptomining",
            Action::CorrelateIoc { .. } => "correlate_ioc",
            Action::RunSpl { .. } => "run_spl",
        }
    }

    /// Builds an action from a name and JSON arguments, validating every value.
    pub fn from_json(name: &str, args: serde_json::Value) -> Result<Action, ActionError> {
        if !Action::NAMES.contains(&name) {
            return Err(ActionError::Unknown(name.to_string()));
        }
        let tagged = serde_json::json!({ "action": name, "args": args });
        let action: Action = serde_json::from_value(tagged).map_err(|e| {
            ActionError::InvalidArguments { action: name.to_string(), reason: e.to_string() }
        })?;
        action.validate()?;
        Ok(action)
    }

    /// Checks the arguments that serde's types cannot check alone.
    fn validate(&self) -> Result<(), ActionError> {
        let invalid = |reason: &str| ActionError::InvalidArguments {
            action: self.name().to_string(),
            reason: reason.to_string(),
        };
        match self {
            Action::CorrelateIoc { indicator } => {
                if indicator.is_empty() || indicator.len() > 2048 {
                    return Err(invalid("indicator must be 1-2048 characters"));
                }
                if indicator.chars().any(char::is_control) {
                    return Err(invalid("indicator must not contain control characters"));
                }
                if indicator.contains('*') {
                    return Err(invalid("indicator must not contain '*', which SPL reads as a wildcard"));
                }
            }
            Action::RunSpl { query } if query.trim().is_empty() => {
                return Err(invalid("query is empty"));
            }
            Action::CheckLoginSuccess { host: None, src_ip: None, accounts } if accounts.is_empty() => {
                return Err(invalid("give at least one of host, src_ip or accounts"));
            }
            Action::CheckLateralMovement { host: None, host_ip: None, .. } => {
                return Err(invalid("give host, host_ip or both"));
            }
            _ => {}
        }
        Ok(())
    }

    /// A short description of the action and its arguments, for step names.
    pub fn describe(&self) -> String {
        let args = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("args").cloned())
            .map(|a| a.to_string())
            .unwrap_or_default();
        format!("{}({args})", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_action_rejected() {
        let err = Action::from_json("delete_index", json!({})).unwrap_err();
        assert!(matches!(err, ActionError::Unknown(_)));
        assert!(err.to_string().contains("check_login_success"));
    }

    #[test]
    fn invalid_ip_rejected() {
        let err = Action::from_json("expand_to_network_logs", json!({"ip": "1.2.3.4\" | delete"}));
        assert!(matches!(err, Err(ActionError::InvalidArguments { .. })));
    }

    #[test]
    fn invalid_host_rejected() {
        let args = json!({"host": "gacrux\" OR host=*"});
        assert!(Action::from_json("check_process_execution", args).is_err());
    }

    #[test]
    fn unexpected_argument_rejected() {
        let args = json!({"ip": "5.101.40.81", "extra": 1});
        assert!(Action::from_json("expand_to_network_logs", args).is_err());
    }

    #[test]
    fn valid_action_builds() {
        let args = json!({"host": "gacrux.i-0920036c8ca91e501", "account": "ec2-user"});
        let action = Action::from_json("check_process_execution", args).unwrap();
        assert_eq!(action.name(), "check_process_execution");
    }

    #[test]
    fn login_check_needs_a_subject() {
        assert!(Action::from_json("check_login_success", json!({})).is_err());
    }
}
