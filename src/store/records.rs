//! Rows of the incident store as Rust types, as the API serialises them.

use serde::{Deserialize, Serialize};

use crate::alert::Alert;

/// How an alert reached Argus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSource {
    /// Splunk's webhook action, on the token URL.
    Webhook,
    /// A sender with the webhook secret, or the analyst's API.
    Api,
    /// Read from Splunk's fired alerts on start.
    CatchUp,
}

impl AlertSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSource::Webhook => "webhook",
            AlertSource::Api => "api",
            AlertSource::CatchUp => "catch_up",
        }
    }

    pub(crate) fn parse(text: &str) -> AlertSource {
        match text {
            "webhook" => AlertSource::Webhook,
            "catch_up" => AlertSource::CatchUp,
            _ => AlertSource::Api,
        }
    }
}

/// The outcome of storing an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Ingest {
    /// A new alert, stored with its queued investigation.
    Queued { alert: i64, investigation: String },
    /// The same `sid` and result row were already stored; nothing was added.
    Duplicate { alert: i64 },
}

impl Ingest {
    pub fn alert_id(&self) -> i64 {
        match self {
            Ingest::Queued { alert, .. } | Ingest::Duplicate { alert } => *alert,
        }
    }
}

/// Where an investigation is in its life: queued → running → complete | failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvestigationState {
    Queued,
    Running,
    Complete,
    Failed,
}

impl InvestigationState {
    pub fn as_str(self) -> &'static str {
        match self {
            InvestigationState::Queued => "queued",
            InvestigationState::Running => "running",
            InvestigationState::Complete => "complete",
            InvestigationState::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<InvestigationState> {
        match text {
            "queued" => Some(InvestigationState::Queued),
            "running" => Some(InvestigationState::Running),
            "complete" => Some(InvestigationState::Complete),
            "failed" => Some(InvestigationState::Failed),
            _ => None,
        }
    }
}

/// A stored alert with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAlert {
    pub id: i64,
    pub source: AlertSource,
    /// RFC 3339 UTC time the alert was committed.
    pub received_at: String,
    /// The result row's `_time`, in epoch seconds, when it has one.
    pub fired_at: Option<i64>,
    pub alert: Alert,
}

/// One investigation of an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvestigationRecord {
    pub id: String,
    pub alert_id: i64,
    pub search_name: Option<String>,
    pub state: InvestigationState,
    /// Times a worker has started it; above 1 after a restart re-ran it.
    pub attempts: i64,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Why it failed, for `failed` investigations.
    pub error: Option<String>,
    /// The report's severity level, for `complete` investigations.
    pub severity: Option<String>,
}

/// Counts for the health route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    pub alerts: i64,
    pub queued: i64,
    pub running: i64,
    pub complete: i64,
    pub failed: i64,
}
