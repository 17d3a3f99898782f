//! Analysis of what the searches returned: findings, ATT&CK techniques,
//! indicators and threat intel, severity and remediation.
//!
//! Everything here is deterministic and computed from search results, so the
//! counts, matches and severity floor in a report can be checked by hand and
//! cannot be changed by a planner's text.
//!
//! Layout:
//! - [`attack`]: the bundled ATT&CK Enterprise catalogue.
//! - [`mapper`]: Sigma-format rules that map events to techniques.
//! - [`ioc`]: indicator extraction (addresses, domains, URLs, hashes).
//! - [`intel`]: the bundled threat-intel file and matching.
//! - [`severity`]: scoring with reasons.
//! - [`remediation`]: mitigations and concrete steps.
//! - [`timeline`]: the attack-chain timeline.

pub mod attack;
pub mod intel;
pub mod ioc;
pub mod mapper;
pub mod remediation;
pub mod severity;
pub mod timeline;

use serde::{Deserialize, Serialize};

use crate::event::TimestampMicros;

/// Identifier of an evidence record in a report, such as `E3`.
pub type EvidenceId = String;

/// What a finding is about; severity scoring and remediation match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCategory {
    /// Failed logins (SSH, Windows logon failures, Kerberos pre-auth failures).
    FailedAuthentication,
    /// A login that succeeded from an address or account under suspicion.
    SuccessfulAuthentication,
    /// Searches for a successful login from a suspect source returned nothing.
    /// This records an absence of evidence, not proof that no login happened.
    NoSuccessfulAuthentication,
    /// Commands or processes run on a host (reconnaissance, tooling).
    ProcessExecution,
    /// Network connections out of the environment.
    OutboundConnection,
    /// Mining pool or mining script traffic.
    Cryptomining,
    /// Logins or remote execution between internal hosts.
    LateralMovement,
    /// Requests that carry web attack patterns.
    WebAttack,
    /// An indicator that the threat-intel file lists.
    IntelMatch,
    /// Anything else worth reporting.
    Observation,
}

/// One conclusion drawn from evidence, with the records it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Identifier within the report, such as `F2`.
    pub id: String,
    pub category: FindingCategory,
    /// One-line statement, such as "1,208 failed SSH logins from 5.101.40.81".
    pub title: String,
    pub detail: String,
    /// Number of events behind the finding.
    pub count: u64,
    pub first_seen: Option<TimestampMicros>,
    pub last_seen: Option<TimestampMicros>,
    pub hosts: Vec<String>,
    pub accounts: Vec<String>,
    /// IP addresses, domains or URLs involved.
    pub addresses: Vec<String>,
    /// ATT&CK technique IDs the finding shows.
    pub techniques: Vec<String>,
    pub evidence: Vec<EvidenceId>,
}

impl Finding {
    /// Creates a finding with no counts, entities or evidence yet.
    pub fn new(id: impl Into<String>, category: FindingCategory, title: impl Into<String>) -> Self {
        Finding {
            id: id.into(),
            category,
            title: title.into(),
            detail: String::new(),
            count: 0,
            first_seen: None,
            last_seen: None,
            hosts: Vec::new(),
            accounts: Vec::new(),
            addresses: Vec::new(),
            techniques: Vec::new(),
            evidence: Vec::new(),
        }
    }
}

/// An ATT&CK technique seen in the evidence, with the events behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueHit {
    /// Technique or sub-technique ID, such as `T1110.001`.
    pub id: String,
    pub name: String,
    /// Tactic short names, such as `credential-access`.
    pub tactics: Vec<String>,
    /// Titles of the detection rules that matched.
    pub rules: Vec<String>,
    /// Number of events that matched.
    pub event_count: u64,
    pub first_seen: Option<TimestampMicros>,
    pub last_seen: Option<TimestampMicros>,
    pub evidence: Vec<EvidenceId>,
}

/// The kind of an indicator of compromise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Md5,
    Sha1,
    Sha256,
}

/// An indicator value, refanged and normalised (lowercase domains and hashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Indicator {
    pub kind: IndicatorKind,
    pub value: String,
}

/// A threat-intel entry that matched an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntelMatch {
    /// The intel entry's own indicator (may be a parent domain of the one seen).
    pub indicator: String,
    /// Confidence from 0 to 100, as the intel source gives it.
    pub confidence: u8,
    pub source: String,
    pub tags: Vec<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

/// An indicator found in the evidence and what threat intel says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorRecord {
    pub kind: IndicatorKind,
    pub value: String,
    /// How many result rows contained it.
    pub occurrences: u64,
    pub intel: Vec<IntelMatch>,
    pub evidence: Vec<EvidenceId>,
}

/// Severity levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeverityLevel {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLevel::Informational => "INFORMATIONAL",
            SeverityLevel::Low => "LOW",
            SeverityLevel::Medium => "MEDIUM",
            SeverityLevel::High => "HIGH",
            SeverityLevel::Critical => "CRITICAL",
        }
    }
}

/// A severity with the score and the reasons that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    pub level: SeverityLevel,
    /// Sum of the weights of the reasons, 0 to 100.
    pub score: u32,
    pub reasons: Vec<String>,
}

/// Whether a remediation step is a concrete action or a standing mitigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemediationKind {
    /// Do now, naming the actual hosts, accounts and addresses.
    Immediate,
    /// An ATT&CK mitigation for a technique seen.
    Mitigation,
}

/// One recommended response action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemediationStep {
    pub kind: RemediationKind,
    /// The action, such as "Block 91.207.175.249 at the egress firewall".
    pub action: String,
    pub reason: String,
    /// ATT&CK mitigation ID, such as `M1036`, for mitigation steps.
    pub mitigation: Option<String>,
    pub techniques: Vec<String>,
    /// Finding IDs this step responds to.
    pub findings: Vec<String>,
    /// The model's wording of `action`, checked against it; `None` when no model reworded it.
    #[serde(default)]
    pub model_text: Option<String>,
}

/// One entry of the attack-chain timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub time: TimestampMicros,
    pub host: Option<String>,
    pub description: String,
    /// ATT&CK tactic of the step, such as `initial-access`, when known.
    pub tactic: Option<String>,
    pub techniques: Vec<String>,
    pub evidence: Vec<EvidenceId>,
}

/// Errors loading the bundled analysis data.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("bundled ATT&CK catalogue is invalid: {0}")]
    Catalogue(String),
    #[error("detection rule {rule} is invalid: {reason}")]
    Rule { rule: String, reason: String },
    #[error("threat-intel file {path} is invalid at line {line}: {reason}")]
    Intel { path: String, line: usize, reason: String },
}
