//! The search-backend seam: where the agent's SPL queries run.
//!
//! Every backend takes the same SPL and returns the same [`SearchResults`], so
//! the agent, its tools and the report do not know which one they talk to. The
//! embedded default is [`local::LocalBackend`], which runs the SPL subset over
//! ingested evidence files; [`splunk::SplunkBackend`] runs queries on a
//! Splunk server through its REST API. Both pass every query through the
//! read-only guard ([`crate::spl::guard`]) before running it.

pub mod deadline;
pub mod local;
pub mod splunk;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::event::Row;

/// What a backend is, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// Short kind: `local` or `splunk`.
    pub kind: String,
    /// Human-readable description, such as the evidence path or the Splunk URL.
    pub description: String,
}

/// The rows a search returned, with any messages the backend attached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub rows: Vec<Row>,
    /// Informational and warning messages (Splunk's `messages`).
    pub messages: Vec<String>,
}

/// The data a backend can see: answers the agent's discover_schema step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub indexes: Vec<String>,
    pub sourcetypes: Vec<SourcetypeSummary>,
    pub hosts: Vec<String>,
    pub event_count: u64,
    /// Earliest and latest event time, microseconds since the epoch.
    pub time_range: Option<(i64, i64)>,
}

/// One sourcetype seen by a backend, with its event count and top fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourcetypeSummary {
    pub sourcetype: String,
    pub event_count: u64,
    /// Field names seen in this sourcetype, most frequent first.
    pub fields: Vec<String>,
}

/// How a failed search should be treated by its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The query itself is wrong or unsupported: retrying cannot help.
    BadQuery,
    /// Credentials were rejected.
    Auth,
    /// A transient condition (quota, overload, timeout): retry after a pause.
    Retryable,
    /// The backend is unreachable or broken: give up on this search.
    Unavailable,
}

/// A search that did not return results.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SearchError {
    #[error("invalid SPL: {0}")]
    Spl(#[from] crate::spl::SplError),
    #[error("search timed out after {seconds} s: {query}")]
    Timeout { seconds: u64, query: String },
    #[error("search backend unavailable: {0}")]
    Unavailable(String),
    #[error("query rejected by the read-only guard: {0}")]
    Refused(crate::spl::guard::Refusal),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("search rejected by the server: {0}")]
    BadQuery(String),
    #[error("search quota reached: {0}")]
    Quota(String),
    #[error("server error (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    #[error("cannot reach the search server: {0}")]
    Network(String),
    #[error("invalid response from the search server: {0}")]
    Protocol(String),
    #[error("the investigation's search time budget of {seconds} s is spent")]
    BudgetSpent { seconds: u64 },
}

impl SearchError {
    /// Classifies the failure so callers can decide between retry and give-up.
    pub fn class(&self) -> FailureClass {
        match self {
            SearchError::Spl(_) => FailureClass::BadQuery,
            SearchError::Timeout { .. } => FailureClass::Retryable,
            SearchError::Unavailable(_) => FailureClass::Unavailable,
            SearchError::Refused(_) | SearchError::BadQuery(_) => FailureClass::BadQuery,
            SearchError::Auth(_) => FailureClass::Auth,
            SearchError::Quota(_) | SearchError::Network(_) => FailureClass::Retryable,
            SearchError::Server { status, .. } if matches!(status, 502..=504) => FailureClass::Retryable,
            SearchError::Server { .. } | SearchError::Protocol(_) => FailureClass::Unavailable,
            SearchError::BudgetSpent { .. } => FailureClass::Unavailable,
        }
    }
}

/// A place where SPL runs: the local evidence store or a Splunk server.
#[async_trait]
pub trait SearchBackend: Send + Sync {
    /// Describes the backend for step events and the report.
    fn info(&self) -> BackendInfo;

    /// Runs one SPL query. Queries that do not start with `|` or a command
    /// name are treated as `search ...`, as Splunk does.
    async fn search(&self, spl: &str) -> Result<SearchResults, SearchError>;

    /// Lists the indexes, sourcetypes, hosts and fields the backend can see.
    async fn schema(&self) -> Result<Schema, SearchError>;
}
