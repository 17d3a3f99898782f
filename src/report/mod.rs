//! The incident report: its versioned JSON model and its renderings.
//!
//! [`Report`] is serialised as JSON (the schema is documented in
//! `docs/report-schema.md` and versioned by [`SCHEMA_VERSION`]); [`markdown`]
//! and [`pdf`] render the same model for people.

pub mod markdown;
mod parts;
pub mod pdf;
pub mod replay;
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
    /// The timeline grouped into stages, one per ATT&CK tactic in kill-chain order, worded by
    /// the analysis or, when one was used and its wording passed the checks, by a model.
    #[serde(default)]
    pub attack_chain: Vec<ChainStage>,
    pub techniques: Vec<TechniqueHit>,
    pub indicators: Vec<IndicatorRecord>,
    pub affected: Affected,
    pub findings: Vec<Finding>,
    pub remediation: Vec<RemediationStep>,
    pub evidence: Vec<EvidenceRecord>,
    pub steps: Vec<StepRecord>,
    /// Attribution notices for the bundled data the report draws on.
    pub notices: Vec<String>,
    /// The conclusion on the alert, from the findings (or a model, checked against them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// The language-model planner's decisions and usage, when one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmRecord>,
    /// Every model call, with its exact request and answer, for audit and replay.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_calls: Vec<ModelCall>,
}

/// The report's conclusion on whether the alert shows a real incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// `true_positive`, `benign_true_positive`, `false_positive` or `inconclusive`.
    pub verdict: String,
    /// `low`, `medium` or `high`.
    pub confidence: String,
    pub reasons: Vec<String>,
    /// `analysis`, or `model` when a model proposed it and the evidence allows it.
    pub source: String,
}

/// One stage of the attack chain: what the timeline entries of one tactic show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainStage {
    /// ATT&CK tactic short name of the stage's first timeline entry, such as
    /// `credential-access`; `None` for entries no technique maps to a tactic.
    pub tactic: Option<String>,
    /// One sentence describing the stage.
    pub text: String,
    /// ATT&CK technique ids the stage describes; each is one the analysis found.
    pub techniques: Vec<String>,
    /// Positions in `Report::timeline` (from 0) of the entries the stage describes.
    pub timeline: Vec<usize>,
    /// Evidence ids behind those entries.
    pub evidence: Vec<EvidenceId>,
    /// `analysis`, or `model` when a model wrote `text`.
    pub source: String,
}

/// A part of a model's closing answer that was left out of the report, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPart {
    /// The part, such as `attack_chain[2]` or `remediation[R3]`.
    pub part: String,
    pub reason: String,
}

/// The part a language model took in the investigation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmRecord {
    pub provider: String,
    pub model: String,
    /// Whether hosts, accounts, addresses and emails were masked before leaving the machine.
    pub masking: bool,
    /// Each planner decision, accepted or rejected, with its reason.
    #[serde(default)]
    pub decisions: Vec<ModelDecision>,
    /// Values in model text that no search returned, shown as `[unverified: ...]`.
    #[serde(default)]
    pub unverified: Vec<String>,
    /// `model` when the narrative summary was written by the model, else `analysis`.
    #[serde(default)]
    pub summary_source: String,
    /// Parts of the model's closing answer left out because they broke a rule.
    #[serde(default)]
    pub rejected: Vec<RejectedPart>,
    /// Sentences of model text that stated an absence as a fact; the report marks
    /// them as absence of evidence.
    #[serde(default)]
    pub absence_claims: Vec<String>,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    /// Estimated cost from the configured prices per million tokens.
    #[serde(default)]
    pub cost: f64,
}

/// One planner decision on one model answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDecision {
    /// Planner iteration, from 1; 0 for the closing summary.
    pub iteration: usize,
    /// Model answer within the iteration, from 1.
    pub attempt: usize,
    /// `accepted`, `done`, `rejected` or `fallback` (the playbook decided).
    pub outcome: String,
    /// Actions proposed, as `name(args)`.
    #[serde(default)]
    pub actions: Vec<String>,
    /// The model's reason, or why its answer was rejected or the playbook took over.
    pub reason: String,
    /// Who decided: the provider and model that answered, or `playbook`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

/// One model call as it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCall {
    /// `plan` or `summary`.
    pub purpose: String,
    /// The exact request sent (after masking).
    pub request: crate::llm::ChatRequest,
    /// The answer text as received (before unmasking); empty when the call failed.
    pub response: String,
    #[serde(default)]
    pub error: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub duration_ms: f64,
    pub cost: f64,
    /// The provider that returned the answer, such as `gemini`; `None` when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The model that returned the answer, as the provider named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Set on a provider's failed attempt within a chain, recorded before the
    /// call of the provider that answered; replay skips it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chain_attempt: bool,
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
