//! The incident-store seam: where alerts and finished reports are kept.
//!
//! [`DirectoryStore`] is the embedded default: one folder per investigation,
//! each file written to a temporary name, synced, then renamed into place,
//! so a crash never leaves a half-written alert or report under its final
//! name. A durable database store (with queueing and crash recovery of
//! running investigations) implements the same trait.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::alert::Alert;
use crate::report::Report;

/// Errors reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("stored file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("invalid investigation id '{0}'; expected letters, digits, '-' and '_'")]
    InvalidId(String),
}

/// Keeps alerts and reports by investigation ID.
pub trait IncidentStore: Send + Sync {
    /// Stores the alert that started an investigation, before it runs.
    fn save_alert(&self, investigation: &str, alert: &Alert) -> Result<(), StoreError>;
    /// Stores a finished report under its investigation ID.
    fn save_report(&self, report: &Report) -> Result<(), StoreError>;
    /// Loads a report, or `None` when the investigation has none yet.
    fn load_report(&self, investigation: &str) -> Result<Option<Report>, StoreError>;
    /// Lists the IDs of investigations with a finished report, oldest first.
    fn list_reports(&self) -> Result<Vec<String>, StoreError>;
}

/// Stores each investigation in its own folder under a root folder.
#[derive(Debug, Clone)]
pub struct DirectoryStore {
    root: PathBuf,
}

impl DirectoryStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirectoryStore { root: root.into() }
    }

    fn folder(&self, investigation: &str) -> Result<PathBuf, StoreError> {
        let valid = !investigation.is_empty()
            && investigation.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(StoreError::InvalidId(investigation.to_string()));
        }
        Ok(self.root.join(investigation))
    }
}

/// Writes bytes to `path` through a synced temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), std::io::Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

impl IncidentStore for DirectoryStore {
    fn save_alert(&self, investigation: &str, alert: &Alert) -> Result<(), StoreError> {
        let path = self.folder(investigation)?.join("alert.json");
        let bytes = serde_json::to_vec_pretty(alert).expect("alerts serialise");
        write_atomically(&path, &bytes).map_err(|source| StoreError::Write { path, source })
    }

    fn save_report(&self, report: &Report) -> Result<(), StoreError> {
        let path = self.folder(&report.id)?.join("report.json");
        let bytes = serde_json::to_vec_pretty(report).expect("reports serialise");
        write_atomically(&path, &bytes).map_err(|source| StoreError::Write { path, source })
    }

    fn load_report(&self, investigation: &str) -> Result<Option<Report>, StoreError> {
        let path = self.folder(investigation)?.join("report.json");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Read { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt { path, reason: e.to_string() })
    }

    fn list_reports(&self) -> Result<Vec<String>, StoreError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(StoreError::Read { path: self.root.clone(), source }),
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("report.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("report.json");
        write_atomically(&path, b"{}").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{}");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn alert_round_trip_and_missing_report() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirectoryStore::new(dir.path());
        let alert = Alert::from_json(r#"{"sid":"s1","search_name":"x","result":{"a":"b"}}"#).unwrap();
        store.save_alert("inv-1", &alert).unwrap();
        let saved = fs::read_to_string(dir.path().join("inv-1/alert.json")).unwrap();
        assert_eq!(Alert::from_json(&saved).unwrap(), alert);
        assert!(store.load_report("inv-1").unwrap().is_none());
        assert!(store.list_reports().unwrap().is_empty());
    }

    #[test]
    fn path_traversal_id_rejected() {
        let store = DirectoryStore::new("/nonexistent");
        assert!(matches!(store.load_report("../etc"), Err(StoreError::InvalidId(_))));
    }
}
