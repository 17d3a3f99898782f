//! The local evidence store: log files ingested from a file or folder and
//! normalised into [`Event`]s that the SPL engine searches.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::event::Event;

/// Events ingested from evidence files, newest first.
#[derive(Debug, Default)]
pub struct EvidenceStore {
    events: Vec<Event>,
}

/// What one ingest call read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestSummary {
    pub files_read: usize,
    pub events: usize,
    pub skipped: Vec<SkippedFile>,
}

/// A file that could not be ingested, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub reason: String,
}

/// Errors that stop an ingest as a whole.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("evidence path {path} does not exist; pass a log file or a folder of logs")]
    NotFound { path: PathBuf },
    #[error("cannot read evidence {path}: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
}

impl EvidenceStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ingests a file, or every file under a folder (recursively).
    pub fn ingest_path(&mut self, path: &Path) -> Result<IngestSummary, EvidenceError> {
        Err(EvidenceError::NotFound { path: path.to_path_buf() })
    }

    /// All events, newest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}
