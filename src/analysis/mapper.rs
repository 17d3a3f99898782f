//! Maps result rows to ATT&CK techniques with detection rules in Sigma format.
//!
//! Rules are data: the project's own rules live in `data/rules/argus/` (MIT) and a
//! selection of SigmaHQ's rules in `data/rules/sigma/` (Detection Rule License 1.1). Both
//! are compiled into the binary; [`Mapper::from_dir`] loads a user's own folder instead.
//!
//! The evaluator in [`rule`] implements the subset of Sigma that single rows can satisfy
//! (see its module documentation for the modifiers). The `sigma-rust` crate (0.7) was not
//! used: it never matches a field whose value is a list, so multivalue fields could not be
//! searched, and it compares types strictly, so a rule's `EventID: 4625` never matches the
//! text `"4625"` that every Splunk field carries. A rule that needs an unsupported feature
//! is skipped when loaded, with its id and the reason logged at debug level and kept in
//! [`Mapper::skipped`].
//!
//! A rule applies to a row when the rule's `logsource` maps to the row's `sourcetype`
//! through [`LOGSOURCES`]. A row without a `sourcetype` field is checked against every rule.

mod bundled;
mod condition;
#[cfg(test)]
mod own_rule_cases;
mod rule;

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use self::rule::Logsource;
use self::rule::{Rule, RuleProblem};
use super::AnalysisError;
use crate::event::Row;

/// One rule that matched a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub rule_id: String,
    pub title: String,
    /// The rule's Sigma level: `informational`, `low`, `medium`, `high` or `critical`.
    pub level: String,
    /// Technique IDs from the rule's `attack.t…` tags, uppercase, such as `T1110.001`.
    pub techniques: Vec<String>,
}

/// A rule left out at load time, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRule {
    /// The rule's `id`, or its file path when it has none.
    pub rule_id: String,
    pub reason: String,
}

/// One row of the logsource table: a Sigma `logsource` pattern and the Splunk sourcetypes
/// it covers. `None` in the pattern matches any value.
#[derive(Debug, Clone, Copy)]
pub struct LogsourceMapping {
    pub product: Option<&'static str>,
    pub service: Option<&'static str>,
    pub category: Option<&'static str>,
    /// Sourcetypes, compared ignoring case; a trailing `*` matches any suffix.
    pub sourcetypes: &'static [&'static str],
    /// Event IDs the category implies (Sysmon event 1 for `process_creation`); empty for
    /// none. The row's `EventID` (or `EventCode`) must be one of them.
    pub event_ids: &'static [&'static str],
}

const fn map(
    product: Option<&'static str>,
    service: Option<&'static str>,
    category: Option<&'static str>,
    sourcetypes: &'static [&'static str],
    event_ids: &'static [&'static str],
) -> LogsourceMapping {
    LogsourceMapping {
        product,
        service,
        category,
        sourcetypes,
        event_ids,
    }
}

const LINUX: &[&str] = &["syslog", "linux_secure", "linux:audit", "bash_history", "sysmon:linux"];
const NETWORK_FLOWS: &[&str] = &["stream:tcp", "stream:udp"];
const WEB: &[&str] = &["stream:http", "access_combined"];
const SYSMON: &[&str] = &[
    "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
    "WinEventLog:Microsoft-Windows-Sysmon/Operational",
];
const SECURITY: &[&str] = &["WinEventLog:Security", "XmlWinEventLog:Security"];
const SYSTEM: &[&str] = &["WinEventLog:System", "XmlWinEventLog:System"];
const BITS: &[&str] = &[
    "XmlWinEventLog:Microsoft-Windows-Bits-Client/Operational",
    "WinEventLog:Microsoft-Windows-Bits-Client/Operational",
];
const ANY_WINDOWS: &[&str] = &["WinEventLog:*", "XmlWinEventLog:*"];

/// Sigma `logsource` to Splunk sourcetypes, most specific first; the first row whose
/// pattern matches a rule's logsource decides.
///
/// Windows event logs are expected under Splunk's own names, `WinEventLog:<channel>` or
/// `XmlWinEventLog:<channel>`. Sysmon categories add the Sysmon event ID they stand for,
/// because Sigma's category rules leave it out. `process_creation` on Windows covers Sysmon
/// only: Security event 4688 names its fields differently. Linux process rules read every
/// Linux sourcetype, since commands reach Splunk through audit, sudo, shell-history and
/// Sysmon for Linux (`sysmon:linux`) logs.
pub const LOGSOURCES: &[LogsourceMapping] = &[
    // Linux
    map(Some("linux"), Some("sshd"), None, &["linux_secure"], &[]),
    map(Some("linux"), Some("auth"), None, &["linux_secure"], &[]),
    map(Some("linux"), Some("auditd"), None, &["linux:audit"], &[]),
    map(
        Some("linux"),
        Some("cron"),
        None,
        &["syslog", "linux_secure"],
        &[],
    ),
    map(Some("linux"), Some("syslog"), None, &["syslog"], &[]),
    map(
        Some("linux"),
        None,
        Some("network_connection"),
        NETWORK_FLOWS,
        &[],
    ),
    map(Some("linux"), None, None, LINUX, &[]),
    // Windows event log channels
    map(Some("windows"), Some("security"), None, SECURITY, &[]),
    map(Some("windows"), Some("system"), None, SYSTEM, &[]),
    map(Some("windows"), Some("sysmon"), None, SYSMON, &[]),
    map(Some("windows"), Some("bits-client"), None, BITS, &[]),
    // Windows categories, from Sysmon
    map(
        Some("windows"),
        None,
        Some("process_creation"),
        SYSMON,
        &["1"],
    ),
    map(
        Some("windows"),
        None,
        Some("network_connection"),
        SYSMON,
        &["3"],
    ),
    map(Some("windows"), None, Some("driver_load"), SYSMON, &["6"]),
    map(Some("windows"), None, Some("image_load"), SYSMON, &["7"]),
    map(
        Some("windows"),
        None,
        Some("create_remote_thread"),
        SYSMON,
        &["8"],
    ),
    map(
        Some("windows"),
        None,
        Some("raw_access_thread"),
        SYSMON,
        &["9"],
    ),
    map(
        Some("windows"),
        None,
        Some("process_access"),
        SYSMON,
        &["10"],
    ),
    map(Some("windows"), None, Some("file_event"), SYSMON, &["11"]),
    map(Some("windows"), None, Some("registry_add"), SYSMON, &["12"]),
    map(
        Some("windows"),
        None,
        Some("registry_delete"),
        SYSMON,
        &["12"],
    ),
    map(Some("windows"), None, Some("registry_set"), SYSMON, &["13"]),
    map(
        Some("windows"),
        None,
        Some("registry_event"),
        SYSMON,
        &["12", "13", "14"],
    ),
    map(
        Some("windows"),
        None,
        Some("create_stream_hash"),
        SYSMON,
        &["15"],
    ),
    map(
        Some("windows"),
        None,
        Some("pipe_created"),
        SYSMON,
        &["17", "18"],
    ),
    map(Some("windows"), None, Some("dns_query"), SYSMON, &["22"]),
    map(
        Some("windows"),
        None,
        Some("file_delete"),
        SYSMON,
        &["23", "26"],
    ),
    map(
        Some("windows"),
        None,
        Some("process_tampering"),
        SYSMON,
        &["25"],
    ),
    map(Some("windows"), None, None, ANY_WINDOWS, &[]),
    // Network and web, any product
    map(None, Some("dns"), None, &["stream:dns"], &[]),
    map(None, None, Some("dns"), &["stream:dns"], &[]),
    map(None, None, Some("webserver"), WEB, &[]),
    map(None, None, Some("proxy"), WEB, &[]),
    map(None, None, Some("firewall"), NETWORK_FLOWS, &[]),
    map(None, None, Some("network_connection"), NETWORK_FLOWS, &[]),
];

fn pattern_matches(pattern: Option<&str>, value: &Option<String>) -> bool {
    match pattern {
        None => true,
        Some(wanted) => value.as_deref() == Some(wanted),
    }
}

/// Finds the logsource table row for a rule's logsource.
pub fn logsource_mapping(logsource: &Logsource) -> Option<&'static LogsourceMapping> {
    LOGSOURCES.iter().find(|m| {
        pattern_matches(m.product, &logsource.product)
            && pattern_matches(m.service, &logsource.service)
            && pattern_matches(m.category, &logsource.category)
    })
}

fn sourcetype_matches(pattern: &str, sourcetype: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => {
            sourcetype.len() >= prefix.len()
                && sourcetype[..prefix.len()].eq_ignore_ascii_case(prefix)
        }
        None => pattern.eq_ignore_ascii_case(sourcetype),
    }
}

/// Reads a rule's `id` without compiling the rule, to name a skipped rule.
fn rule_id_of(text: &str) -> Option<String> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    doc.get("id")?.as_str().map(str::to_string)
}

/// Checks whether the text contains more than one YAML document, as Sigma rule collections do. A
/// leading `---` before the first document does not count.
fn has_several_documents(text: &str) -> bool {
    let is_separator = |line: &str| line.trim_end() == "---";
    text.lines()
        .skip_while(|line| line.trim().is_empty() || line.starts_with('#') || is_separator(line))
        .any(is_separator)
}

struct LoadedRule {
    rule: Rule,
    target: &'static LogsourceMapping,
}

impl LoadedRule {
    fn applies_to(&self, row: &Row) -> bool {
        let Some(sourcetype) = row.get("sourcetype").and_then(|v| v.first()) else {
            return true;
        };
        if !self
            .target
            .sourcetypes
            .iter()
            .any(|p| sourcetype_matches(p, sourcetype))
        {
            return false;
        }
        if self.target.event_ids.is_empty() {
            return true;
        }
        let event_id = row.get("EventID").or_else(|| row.get("EventCode"));
        event_id
            .and_then(|v| v.first())
            .is_some_and(|id| self.target.event_ids.contains(&id.trim()))
    }
}

/// A set of loaded detection rules.
pub struct Mapper {
    rules: Vec<LoadedRule>,
    skipped: Vec<SkippedRule>,
}

impl std::fmt::Debug for Mapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapper")
            .field("rules", &self.rules.len())
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl Mapper {
    /// Returns the rules compiled into the binary, loading them on first use.
    ///
    /// Fails only if a bundled rule file is not valid Sigma, which the unit tests rule out.
    pub fn bundled() -> Result<&'static Mapper, AnalysisError> {
        static MAPPER: OnceLock<Result<Mapper, String>> = OnceLock::new();
        let loaded = MAPPER.get_or_init(|| {
            let sources = bundled::BUNDLED_RULES
                .iter()
                .map(|(path, text)| (path.to_string(), *text));
            Mapper::from_sources(sources).map_err(|e| e.to_string())
        });
        loaded.as_ref().map_err(|reason| AnalysisError::Rule {
            rule: "bundled rules".into(),
            reason: reason.clone(),
        })
    }

    /// Loads every `.yml` and `.yaml` file under `dir`, recursively.
    ///
    /// A file that is not a valid rule fails the load with its path and the reason. A valid
    /// rule that uses an unsupported Sigma feature is skipped and listed in [`Mapper::skipped`].
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Mapper, AnalysisError> {
        let dir = dir.as_ref();
        let mut texts = Vec::new();
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.map_err(|e| AnalysisError::Rule {
                rule: dir.display().to_string(),
                reason: format!("cannot read the rule folder: {e}"),
            })?;
            let path = entry.path();
            let is_yaml = path.extension().is_some_and(|e| e == "yml" || e == "yaml");
            if !entry.file_type().is_file() || !is_yaml {
                continue;
            }
            let text = std::fs::read_to_string(path).map_err(|e| AnalysisError::Rule {
                rule: path.display().to_string(),
                reason: format!("cannot read the file: {e}"),
            })?;
            texts.push((path.display().to_string(), text));
        }
        Mapper::from_sources(
            texts
                .iter()
                .map(|(path, text)| (path.clone(), text.as_str())),
        )
    }

    fn from_sources<'a>(
        sources: impl Iterator<Item = (String, &'a str)>,
    ) -> Result<Mapper, AnalysisError> {
        let mut mapper = Mapper {
            rules: Vec::new(),
            skipped: Vec::new(),
        };
        for (origin, text) in sources {
            mapper.add(&origin, text)?;
        }
        Ok(mapper)
    }

    fn add(&mut self, origin: &str, text: &str) -> Result<(), AnalysisError> {
        if has_several_documents(text) {
            self.skip(
                origin.to_string(),
                "files with several YAML documents are not supported",
            );
            return Ok(());
        }
        let rule = match Rule::parse(text, origin) {
            Ok(rule) => rule,
            Err(RuleProblem::Invalid(reason)) => {
                return Err(AnalysisError::Rule {
                    rule: origin.to_string(),
                    reason,
                });
            }
            Err(RuleProblem::Unsupported(reason)) => {
                self.skip(
                    rule_id_of(text).unwrap_or_else(|| origin.to_string()),
                    &reason,
                );
                return Ok(());
            }
        };
        match logsource_mapping(&rule.logsource) {
            Some(target) => self.rules.push(LoadedRule { rule, target }),
            None => {
                let reason = format!("logsource {:?} maps to no sourcetype", rule.logsource);
                self.skip(rule.id, &reason);
            }
        }
        Ok(())
    }

    fn skip(&mut self, rule_id: String, reason: &str) {
        tracing::debug!(rule = %rule_id, reason, "skipped detection rule");
        self.skipped.push(SkippedRule {
            rule_id,
            reason: reason.to_string(),
        });
    }

    /// Returns every rule that matches the row, in load order.
    pub fn match_row(&self, row: &Row) -> Vec<RuleMatch> {
        self.rules
            .iter()
            .filter(|loaded| loaded.applies_to(row) && loaded.rule.detects(row))
            .map(|loaded| RuleMatch {
                rule_id: loaded.rule.id.clone(),
                title: loaded.rule.title.clone(),
                level: loaded.rule.level.clone(),
                techniques: loaded.rule.techniques.clone(),
            })
            .collect()
    }

    /// Number of rules loaded and in use (skipped rules excluded).
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Rules left out at load time, with the reason for each.
    pub fn skipped(&self) -> &[SkippedRule] {
        &self.skipped
    }
}

#[cfg(test)]
mod tests;
