//! The incident store: the one durable record of alerts, investigations and
//! reports, shared by the listener, the investigation queue, the CLI and the
//! HTTP API.
//!
//! [`SqliteStore`] keeps everything in one SQLite database in write-ahead-log
//! mode. Every write goes through one writer thread ([`writer`]) that groups
//! the writes waiting at the same moment into one transaction, so each alert
//! is committed before the listener answers without paying one disk sync per
//! alert. Reads use their own connections and never wait for the writer.
//!
//! Invariants the schema and the write paths keep:
//! - an alert and its first investigation are stored in one transaction;
//! - alerts are de-duplicated by `sid` plus a hash of the result row;
//! - an investigation is `complete` only in the transaction that stores its
//!   report, steps and evidence in full, so a crash never leaves a
//!   half-written report marked complete;
//! - investigations found `running` when the store opens belong to a process
//!   that stopped, and [`SqliteStore::requeue_running`] queues them again.
//!
//! Layout: [`schema`] (migrations), [`sqlite`] (the store), [`writer`] (the
//! group-commit writer thread), [`records`] (the rows as Rust types),
//! [`catchup`] (queueing alerts that fired while Argus was not running),
//! [`paths`] (the data folder).

pub mod catchup;
pub mod paths;
pub mod records;
pub mod schema;
pub mod sqlite;
pub mod writer;

pub use records::{
    AlertSource, Ingest, InvestigationRecord, InvestigationState, QueueCounts, StoredAlert,
};
pub use sqlite::{dedup_key, ClaimedInvestigation, SqliteStore};

use crate::alert::Alert;
use crate::report::Report;

/// Errors reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the incident store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("incident store query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot commit to the incident store: {0}; the write was rolled back")]
    Commit(String),
    #[error("the incident store's writer has stopped; restart argus")]
    WriterStopped,
    #[error("stored {what} {id} is corrupt: {reason}")]
    Corrupt {
        what: &'static str,
        id: String,
        reason: String,
    },
    #[error(
        "the incident store has schema version {found}, newer than this argus \
         (version {supported}); upgrade argus"
    )]
    SchemaTooNew { found: i64, supported: i64 },
}

/// Keeps alerts and reports; the narrow view the CLI and tools need.
pub trait IncidentStore: Send + Sync {
    /// Stores an alert and queues its investigation, unless an alert with
    /// the same `sid` and result row is already stored.
    fn save_alert(&self, alert: &Alert, source: AlertSource) -> Result<Ingest, StoreError>;
    /// Loads an investigation's report, or `None` while it has none.
    fn load_report(&self, investigation: &str) -> Result<Option<Report>, StoreError>;
    /// Lists the IDs of investigations with a complete report, oldest first.
    fn list_reports(&self) -> Result<Vec<String>, StoreError>;
}
