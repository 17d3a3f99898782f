//! Fired alerts: Splunk's webhook payload, its alert class and its entities.
//!
//! Splunk's webhook alert action posts `sid`, `search_name`, `app`, `owner`,
//! `results_link` and `result`, where `result` is the first row of the
//! triggering search only. Any of them may be null. Every value inside
//! `result` is a string or an array of strings; internal fields such as
//! `_time` (epoch seconds as a string), `_bkt`, `_cd` and `punct` are kept.
//! Unknown top-level fields are kept too, so nothing a sender adds is lost.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::event::{Row, Value};

/// A fired alert as Splunk's webhook action sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub search_name: Option<String>,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub results_link: Option<String>,
    /// The first result row of the search that fired.
    #[serde(default, deserialize_with = "deserialize_result")]
    pub result: Row,
    /// Top-level fields beyond Splunk's six (such as `result_count`), kept as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// An alert payload that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("alert is not valid JSON: {0}; expected a Splunk webhook payload such as {{\"sid\": \"...\", \"search_name\": \"...\", \"result\": {{...}}}}")]
    Json(serde_json::Error),
    #[error("alert does not match Splunk's webhook payload: {0}; expected string (or null) values for sid, search_name, app, owner and results_link, and an object of strings for result")]
    Shape(serde_json::Error),
    #[error("alert field result.{field} has {found} value; each value in result must be a string or an array of strings")]
    ResultValue { field: String, found: &'static str },
}

fn deserialize_result<'de, D>(deserializer: D) -> Result<Row, D::Error>
where
    D: serde::Deserializer<'de>,
{
    // Null means "no result row"; anything else must be an object of strings.
    let raw: Option<serde_json::Map<String, serde_json::Value>> =
        Option::deserialize(deserializer)?;
    let mut row = Row::new();
    for (name, value) in raw.unwrap_or_default() {
        let value = result_value(&name, value).map_err(serde::de::Error::custom)?;
        if let Some(value) = value {
            row.insert(name, value);
        }
    }
    Ok(row)
}

fn result_value(name: &str, value: serde_json::Value) -> Result<Option<Value>, AlertError> {
    use serde_json::Value as J;
    let bad = |found| AlertError::ResultValue { field: name.to_string(), found };
    match value {
        J::Null => Ok(None),
        J::String(s) => Ok(Some(Value::Single(s))),
        // Numbers and booleans are accepted and kept as their text, as Splunk would show them.
        J::Number(n) => Ok(Some(Value::Single(n.to_string()))),
        J::Bool(b) => Ok(Some(Value::Single(b.to_string()))),
        J::Array(items) => {
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    J::String(s) => values.push(s),
                    J::Number(n) => values.push(n.to_string()),
                    J::Null => {}
                    _ => return Err(bad("a nested array or object")),
                }
            }
            Ok(Some(Value::Multi(values)))
        }
        J::Object(_) => Err(bad("an object")),
    }
}

/// Removes one leading UTF-8 byte order mark (U+FEFF), which Windows editors write at the
/// start of files. serde_json rejects it as an invalid first character.
pub fn strip_byte_order_mark(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

impl Alert {
    /// Parses a webhook body, after dropping a leading UTF-8 byte order mark.
    pub fn from_json(text: &str) -> Result<Alert, AlertError> {
        serde_json::from_str(strip_byte_order_mark(text)).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => AlertError::Shape(e),
            _ => AlertError::Json(e),
        })
    }

    /// Lists problems that narrow or void the investigation without making
    /// the alert unusable: no result row, or address and host fields whose
    /// values cannot be searched safely and are therefore left out.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.result.is_empty() {
            let mut text = "the alert has no result row, so no host, address or account anchors the \
                            search; Splunk's webhook sends the first result row as `result`"
                .to_string();
            if self.extra.contains_key("results") {
                text.push_str(" (this alert has `results`, which is not read)");
            }
            warnings.push(text);
        }
        for (name, value) in &self.result {
            let is_address = ADDRESS_FIELDS.contains(&name.as_str());
            if !(is_address || HOST_FIELDS.contains(&name.as_str())) {
                continue;
            }
            for text in value.iter().filter(|t| !t.is_empty() && *t != "-") {
                if text.parse::<IpAddr>().is_err() && !is_hostname(text) {
                    let kind = if is_address { "an IP address or hostname" } else { "a hostname" };
                    warnings.push(format!(
                        "result.{name} value {text:?} is not {kind}, so it was left out of every search"
                    ));
                }
            }
        }
        warnings
    }

    /// Returns the alert's name, or `unnamed alert`.
    pub fn name(&self) -> &str {
        self.search_name.as_deref().unwrap_or("unnamed alert")
    }

    /// Returns the first value of a result field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.result.get(name).and_then(Value::first)
    }

    /// Classifies the alert from its name and result fields.
    pub fn class(&self) -> AlertClass {
        AlertClass::classify(self)
    }

    /// Pulls hosts, IP addresses, users and domains out of the result row.
    pub fn entities(&self) -> Entities {
        Entities::from_row(&self.result)
    }
}

/// Alert kinds, each with its own playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertClass {
    SshBruteForce,
    SuspiciousOutbound,
    Cryptomining,
    WindowsAuthFailure,
    WebAttack,
    Unknown,
}

impl AlertClass {
    /// Every class, in the order the classifier tries them.
    pub const ALL: [AlertClass; 6] = [
        AlertClass::SshBruteForce,
        AlertClass::Cryptomining,
        AlertClass::WindowsAuthFailure,
        AlertClass::WebAttack,
        AlertClass::SuspiciousOutbound,
        AlertClass::Unknown,
    ];

    /// Returns a short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            AlertClass::SshBruteForce => "SSH brute force",
            AlertClass::SuspiciousOutbound => "suspicious outbound connection",
            AlertClass::Cryptomining => "cryptomining",
            AlertClass::WindowsAuthFailure => "Windows authentication failures",
            AlertClass::WebAttack => "web attack",
            AlertClass::Unknown => "unknown",
        }
    }

    fn classify(alert: &Alert) -> AlertClass {
        let name = alert.name().to_ascii_lowercase();
        let sourcetype = alert.field("sourcetype").unwrap_or("").to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
        let event_code = alert.field("EventCode").or_else(|| alert.field("EventID"));

        if has(&["ssh", "sshd"]) && has(&["brute", "failed", "failure", "guess", "spray"]) {
            return AlertClass::SshBruteForce;
        }
        if has(&["crypto", "mining", "miner", "coinhive", "monero", "xmrig"]) {
            return AlertClass::Cryptomining;
        }
        let windows_auth = has(&["windows", "logon", "4625", "kerberos", "ntlm"])
            && has(&["auth", "logon", "login", "4625", "password"]);
        if windows_auth || event_code == Some("4625") {
            return AlertClass::WindowsAuthFailure;
        }
        let web_words = has(&["web", "http", "sql injection", "xss", "url", "uri", "php"]);
        if web_words || sourcetype.contains("http") || sourcetype.contains("access_combined") {
            return AlertClass::WebAttack;
        }
        if has(&["outbound", "c2", "beacon", "command and control", "exfil", "egress"]) {
            return AlertClass::SuspiciousOutbound;
        }
        if sourcetype == "linux_secure" && alert.result.contains_key("src_ip") {
            return AlertClass::SshBruteForce;
        }
        AlertClass::Unknown
    }
}

/// Hosts, addresses, accounts and domains named by an alert or found in evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    pub hosts: BTreeSet<String>,
    pub ips: BTreeSet<IpAddr>,
    pub users: BTreeSet<String>,
    pub domains: BTreeSet<String>,
}

/// Result fields whose values name a host.
const HOST_FIELDS: &[&str] = &[
    "host", "dest_host", "dest_nt_host", "src_host", "hostname", "Computer", "ComputerName",
    "dvc", "dest_name",
];
/// Result fields whose values name an IP address (or sometimes a host).
const ADDRESS_FIELDS: &[&str] = &[
    "src_ip", "src", "dest_ip", "dest", "clientip", "client_ip", "ip", "IpAddress", "rhost",
    "remote_ip", "Source_Network_Address",
];
/// Result fields whose values name an account.
const USER_FIELDS: &[&str] = &[
    "user", "src_user", "user_name", "username", "TargetUserName", "account", "Account_Name",
];
/// Result fields whose values name a DNS domain or a URL.
const DOMAIN_FIELDS: &[&str] = &["query", "domain", "dest_domain", "site", "url", "uri_host"];

impl Entities {
    /// Collects entities from well-known Splunk field names in one row.
    pub fn from_row(row: &Row) -> Entities {
        let mut entities = Entities::default();
        for (name, value) in row {
            let name = name.as_str();
            for text in value.iter().map(str::trim).filter(|t| !t.is_empty() && *t != "-") {
                if HOST_FIELDS.contains(&name) || ADDRESS_FIELDS.contains(&name) {
                    entities.add_host_or_ip(text);
                } else if USER_FIELDS.contains(&name) {
                    entities.users.insert(text.to_string());
                } else if DOMAIN_FIELDS.contains(&name) {
                    if let Some(domain) = domain_of(text) {
                        entities.domains.insert(domain);
                    }
                }
            }
        }
        entities
    }

    fn add_host_or_ip(&mut self, text: &str) {
        match text.parse::<IpAddr>() {
            Ok(ip) => {
                self.ips.insert(ip);
            }
            Err(_) if is_hostname(text) => {
                self.hosts.insert(text.to_string());
            }
            Err(_) => {}
        }
    }

    /// Adds every entity of `other` to `self`.
    pub fn merge(&mut self, other: Entities) {
        self.hosts.extend(other.hosts);
        self.ips.extend(other.ips);
        self.users.extend(other.users);
        self.domains.extend(other.domains);
    }
}

/// Checks a hostname against RFC 1123 labels (letters, digits, hyphens; dots
/// between labels), which is also what makes it safe to quote into SPL.
pub fn is_hostname(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Returns the domain of a bare domain name or of a URL's host, lowercased.
fn domain_of(text: &str) -> Option<String> {
    let without_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let host = without_scheme.split(['/', ':', '?', '#']).next()?.trim_end_matches('.');
    let is_domain = host.contains('.') && is_hostname(host) && host.parse::<IpAddr>().is_err();
    is_domain.then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(json: &str) -> Alert {
        Alert::from_json(json).expect("test alert parses")
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let a = alert("\u{feff}{\"sid\":\"scheduler_1\",\"result\":{\"host\":\"web01\"}}");
        assert_eq!(a.sid.as_deref(), Some("scheduler_1"));
        assert_eq!(a.result.get("host"), Some(&Value::Single("web01".into())));
    }

    #[test]
    fn byte_order_mark_only_at_start() {
        assert!(Alert::from_json("{\"sid\":\"x\"}\u{feff}").is_err());
    }

    #[test]
    fn nulls_and_multivalues_parse() {
        let a = alert(
            r#"{"sid":null,"search_name":"x","app":null,"owner":null,"results_link":null,
                "result":{"_time":"1702191346","user":["root","admin"],"gone":null},
                "result_count":"3"}"#,
        );
        assert_eq!(a.sid, None);
        assert_eq!(a.result.get("user"), Some(&Value::Multi(vec!["root".into(), "admin".into()])));
        assert!(!a.result.contains_key("gone"));
        assert_eq!(a.extra.get("result_count"), Some(&serde_json::json!("3")));
    }

    #[test]
    fn null_result_is_empty_row() {
        let a = alert(r#"{"search_name":"x","result":null}"#);
        assert!(a.result.is_empty());
    }

    #[test]
    fn object_in_result_is_rejected() {
        let err = Alert::from_json(r#"{"result":{"user":{"name":"x"}}}"#).unwrap_err();
        assert!(err.to_string().contains("result.user"), "{err}");
    }

    #[test]
    fn classes_follow_names() {
        let cases = [
            ("SSH Brute Force Detected", AlertClass::SshBruteForce),
            ("Suspicious Outbound Connection", AlertClass::SuspiciousOutbound),
            ("Cryptomining Activity Detected", AlertClass::Cryptomining),
            ("Windows Authentication Failure Spike", AlertClass::WindowsAuthFailure),
            ("Suspicious Web Request Detected", AlertClass::WebAttack),
            ("Something Else", AlertClass::Unknown),
        ];
        for (name, expected) in cases {
            let a = alert(&format!(r#"{{"search_name":"{name}","result":{{}}}}"#));
            assert_eq!(a.class(), expected, "{name}");
        }
    }

    #[test]
    fn entities_from_fields() {
        let a = alert(
            r#"{"result":{"host":"gacrux.i-0920036c8ca91e501","src_ip":"5.101.40.81",
                "user":["root","ec2-user"],"query":"coinhive.com","_time":"1"}}"#,
        );
        let e = a.entities();
        assert!(e.hosts.contains("gacrux.i-0920036c8ca91e501"));
        assert!(e.ips.contains(&"5.101.40.81".parse::<IpAddr>().unwrap()));
        assert_eq!(e.users.len(), 2);
        assert!(e.domains.contains("coinhive.com"));
    }

    #[test]
    fn empty_alert_warns() {
        let warnings = alert(r#"{"results":[{"src_ip":"1.2.3.4"}]}"#).warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("no result row"), "{warnings:?}");
        assert!(warnings[0].contains("`results`"), "{warnings:?}");
    }

    #[test]
    fn unsearchable_address_warns() {
        let a = alert(r#"{"result":{"src_ip":"1.2.3.4\" | delete","host":"gacrux","user":"x y"}}"#);
        let warnings = a.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("result.src_ip"), "{warnings:?}");
    }

    #[test]
    fn type_error_is_named_as_shape() {
        let err = Alert::from_json(r#"{"sid": 5}"#).unwrap_err();
        assert!(matches!(err, AlertError::Shape(_)), "{err}");
        let err = Alert::from_json("{not json").unwrap_err();
        assert!(matches!(err, AlertError::Json(_)), "{err}");
    }

    #[test]
    fn hostname_validation_rejects_spl() {
        assert!(is_hostname("hildegard"));
        assert!(!is_hostname("x\" OR 1=1"));
        assert!(!is_hostname("a b"));
        assert!(!is_hostname(""));
    }
}
