//! The incident report: its versioned JSON model and its renderings.
//!
//! [`Report`] is serialised as JSON (the schema is documented in
//! `docs/report-schema.md` and versioned by [`SCHEMA_VERSION`]); [`markdown`]
//! and [`pdf`] render the same model for people.

pub mod markdown;
pub mod pdf;
#[cfg(test)]
mod sample;
#[cfg(test)]
mod schema;
pub mod write;

use serde::{Deserialize, Serialize};

use crate::alert::AlertClass;
use crate::analysis::{
    EvidenceId, Finding, IndicatorRecord, RemediationStep, Severity, TechniqueHit, TimelineEntry,
};
use crate::event::{Row, TimestampMicros};
use crate::search::BackendInfo;

/// Version of the report's JSON schema. A change that removes or renames a
/// field, or changes a field's meaning, raises it.
pub const SCHEMA_VERSION: &str = "1.0";

/// A complete incident report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: String,
    /// Identifier of the investigation that produced the report.
    pub id: String,
    /// RFC 3339 UTC time the report was generated.
    pub generated_at: String,
    pub alert: AlertSummary,
    pub backend: BackendInfo,
    pub planner: PlannerInfo,
    pub severity: Severity,
    pub confidence: Confidence,
    /// A short narrative of what happened, written from the findings.
    pub summary: String,
    pub timeline: Vec<TimelineEntry>,
    pub techniques: Vec<TechniqueHit>,
    pub indicators: Vec<IndicatorRecord>,
    pub affected: Affected,
    pub findings: Vec<Finding>,
    pub remediation: Vec<RemediationStep>,
    pub evidence: Vec<EvidenceRecord>,
    pub steps: Vec<StepRecord>,
    /// Attribution notices for the bundled data the report draws on.
    pub notices: Vec<String>,
}

/// The alert as the report restates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    pub sid: Option<String>,
    pub search_name: Option<String>,
    pub app: Option<String>,
    pub owner: Option<String>,
    pub results_link: Option<String>,
    pub class: AlertClass,
    pub result: Row,
}

/// The planner that chose the investigation's actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannerInfo {
    /// `playbook`, or the model provider's name.
    pub kind: String,
    /// The model, for LLM planners.
    pub model: Option<String>,
}

/// The report's confidence in its conclusion, with reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    /// `low`, `medium` or `high`.
    pub level: String,
    pub reasons: Vec<String>,
}

/// Hosts, accounts and addresses the incident touches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    pub hosts: Vec<String>,
    pub accounts: Vec<String>,
    /// External addresses involved (attackers, C2, mining pools).
    pub addresses: Vec<String>,
}

/// Outcome of one query or step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed { reason: String },
}

/// One query that ran, on which backend, and what it returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// Identifier findings cite, such as `E3`.
    pub id: EvidenceId,
    /// Index of the step that ran the query.
    pub step: usize,
    /// The action that ran it, such as `check_login_success`.
    pub action: String,
    /// The SPL exactly as it was sent.
    pub query: String,
    /// Backend description, as in [`BackendInfo::description`].
    pub backend: String,
    pub status: Status,
    pub result_count: u64,
    pub duration_ms: f64,
    /// Up to a few of the returned rows.
    pub samples: Vec<Row>,
}

/// One step of the investigation, as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub index: usize,
    /// Step or action name, such as `discover_schema`.
    pub name: String,
    /// The planner's reason for this step.
    pub reason: String,
    pub status: Status,
    /// One-line outcome, such as "12 events from 2 hosts".
    pub summary: String,
    pub started_at: TimestampMicros,
    pub duration_ms: f64,
    pub evidence: Vec<EvidenceId>,
}

/// Errors writing a report to disk.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write report {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot render PDF report: {0}")]
    Pdf(String),
    #[error("cannot serialise report: {0}")]
    Json(#[from] serde_json::Error),
}
