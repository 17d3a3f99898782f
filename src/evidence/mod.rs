//! The local evidence store: log files ingested from a file or a folder,
//! normalised into [`Event`]s, enriched with search-time fields and kept
//! newest first for the SPL engine.
//!
//! # Layout
//!
//! - `format`: picks a text parser per file from its first non-empty lines.
//! - `syslog`: RFC 3164, RFC 5424 and the rsyslog ISO-timestamp variant.
//! - `jsonl`: JSON lines as Splunk exports them, and from other shippers
//!   (nested objects flatten to dotted names, as for ECS).
//! - `splunk_csv`: Splunk CSV exports.
//! - `evtx`: Windows event logs, detected by their file signature.
//! - `compressed`: gzip of any of the above, detected by its magic bytes.
//! - `record`: whole-file parsing with each event's record text, and records
//!   parsed back into events (for the persistent index).
//! - `sink`: the seam parsers fill, either with whole events or, for the
//!   persistent index, with columns.
//! - `extract`: key=value pairs and sshd/sudo fields taken from `_raw`.
//!
//! Whole files are read into memory before parsing, so the largest file the
//! store can take is bounded by available memory.

mod compressed;
mod evtx;
mod extract;
mod format;
mod jsonl;
mod record;
mod sink;
mod splunk_csv;
mod syslog;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use walkdir::WalkDir;

use crate::event::Event;
pub use record::{parse_file, parse_file_owned, ParsedFile, RecordFormat, RecordReader};
pub(crate) use record::{parse_file_into, FileRead};
pub(crate) use sink::{EventHead, EventSink, Fields};

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
    /// Non-empty syslog and JSON lines that no parser accepted, in files that
    /// were otherwise read.
    #[serde(default)]
    pub lines_skipped: usize,
    /// CSV rows that could not be parsed, in files that were otherwise read.
    #[serde(default)]
    pub rows_skipped: usize,
    /// EVTX records that could not be decoded, in files that were otherwise read.
    #[serde(default)]
    pub records_skipped: usize,
    /// Files a persistent index already held unchanged, so not read again.
    #[serde(default)]
    pub files_unchanged: usize,
    /// Files a persistent index held under the ingested path that no longer
    /// exist or can no longer be read, whose events it dropped.
    #[serde(default)]
    pub files_removed: Vec<PathBuf>,
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
    #[error("cannot read evidence {path}: {source}; check that it exists and is readable")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl IngestSummary {
    /// Adds the counts and skipped files of `other`, another part of one ingest.
    pub(crate) fn add(&mut self, other: IngestSummary) {
        self.files_read += other.files_read;
        self.events += other.events;
        self.lines_skipped += other.lines_skipped;
        self.rows_skipped += other.rows_skipped;
        self.records_skipped += other.records_skipped;
        self.files_unchanged += other.files_unchanged;
        self.skipped.extend(other.skipped);
        self.files_removed.extend(other.files_removed);
    }

    /// Counts `count` unparsable parts of a file of `format` under the field
    /// for its kind of record.
    pub(crate) fn count_unreadable(&mut self, format: RecordFormat, count: usize) {
        match format {
            RecordFormat::Syslog | RecordFormat::JsonLines => self.lines_skipped += count,
            RecordFormat::SplunkCsv => self.rows_skipped += count,
            RecordFormat::Evtx => self.records_skipped += count,
        }
    }

    /// Describes the unparsable lines, CSV rows and EVTX records of files that
    /// were otherwise read, such as `["2 lines", "34 EVTX records"]`. Kinds
    /// with no count are left out.
    pub fn unreadable_parts(&self) -> Vec<String> {
        let kinds = [
            (self.lines_skipped, "line", "lines"),
            (self.rows_skipped, "CSV row", "CSV rows"),
            (self.records_skipped, "EVTX record", "EVTX records"),
        ];
        kinds
            .into_iter()
            .filter(|(count, _, _)| *count > 0)
            .map(|(count, one, many)| match count {
                1 => format!("1 {one}"),
                _ => format!("{count} {many}"),
            })
            .collect()
    }

    fn skip(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        let skipped = SkippedFile {
            path: path.into(),
            reason: reason.into(),
        };
        IngestSummary {
            skipped: vec![skipped],
            ..Self::default()
        }
    }
}

impl EvidenceStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ingests a file, or every file under a folder (recursively, in sorted
    /// order).
    ///
    /// Files that cannot be read or have no recognised format are listed in
    /// [`IngestSummary::skipped`] and the rest are still read. Only a missing
    /// or unreadable `path` itself fails the call.
    pub fn ingest_path(&mut self, path: &Path) -> Result<IngestSummary, EvidenceError> {
        let metadata = fs::metadata(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => EvidenceError::NotFound {
                path: path.to_path_buf(),
            },
            _ => EvidenceError::Unreadable {
                path: path.to_path_buf(),
                source,
            },
        })?;
        if !metadata.is_dir() {
            let bytes = fs::read(path).map_err(|source| EvidenceError::Unreadable {
                path: path.to_path_buf(),
                source,
            })?;
            let modified = metadata.modified().ok();
            return Ok(self.ingest_bytes(&path.to_string_lossy(), &bytes, modified));
        }
        self.ingest_folder(path)
    }

    fn ingest_folder(&mut self, root: &Path) -> Result<IngestSummary, EvidenceError> {
        // Reading the folder itself first turns a permission error on the
        // root into an error for the whole call, as for a single file.
        fs::read_dir(root).map_err(|source| EvidenceError::Unreadable {
            path: root.to_path_buf(),
            source,
        })?;

        let mut summary = IngestSummary::default();
        let walk = WalkDir::new(root).follow_links(true).sort_by_file_name();
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let path = err.path().unwrap_or(root).to_path_buf();
                    summary.add(IngestSummary::skip(path, err.to_string()));
                    continue;
                }
            };
            if entry.file_type().is_file() && !is_documentation_file(entry.path()) {
                summary.add(self.ingest_file(entry.path()));
            }
        }
        Ok(summary)
    }

    /// Ingests one file found in a folder; a read error skips the file.
    fn ingest_file(&mut self, path: &Path) -> IngestSummary {
        let modified = fs::metadata(path).and_then(|m| m.modified()).ok();
        match fs::read(path) {
            Ok(bytes) => self.ingest_bytes(&path.to_string_lossy(), &bytes, modified),
            Err(err) => IngestSummary::skip(path, format!("cannot read file: {err}")),
        }
    }

    /// Ingests everything `reader` yields as one evidence file named `source`.
    pub fn ingest_reader(
        &mut self,
        source: &str,
        mut reader: impl Read,
        modified: Option<SystemTime>,
    ) -> Result<IngestSummary, EvidenceError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|err| EvidenceError::Unreadable {
                path: PathBuf::from(source),
                source: err,
            })?;
        Ok(self.ingest_bytes(source, &bytes, modified))
    }

    /// Ingests the content of one evidence file named `source`.
    ///
    /// The format comes from the content: gzip and EVTX from their magic
    /// bytes, text formats from their first lines. `modified` is the file's
    /// modification time; syslog lines without a year are dated relative to
    /// it (relative to now when `None`).
    pub fn ingest_bytes(
        &mut self,
        source: &str,
        bytes: &[u8],
        modified: Option<SystemTime>,
    ) -> IngestSummary {
        let mut parsed = match record::parse_file(source, bytes, modified) {
            Ok(parsed) => parsed,
            Err(reason) => return IngestSummary::skip(source, reason),
        };
        if parsed.format.extracts_fields() {
            for event in &mut parsed.events {
                extract::apply(event);
            }
        }
        self.add_events(source, parsed.format, parsed.events, parsed.skipped)
    }

    /// Appends one file's events and keeps the store newest first.
    fn add_events(
        &mut self,
        source: &str,
        format: RecordFormat,
        mut events: Vec<Event>,
        unreadable: usize,
    ) -> IngestSummary {
        let added = events.len();
        let start = self.events.len();
        if self.events.is_empty() {
            self.events = events;
        } else {
            self.events.append(&mut events);
        }
        self.sort_newest_first(start);
        tracing::debug!(source, format = format.name(), events = added, unreadable, "ingested");
        let mut summary = IngestSummary {
            files_read: 1,
            events: added,
            ..IngestSummary::default()
        };
        summary.count_unreadable(format, unreadable);
        summary
    }

    /// Returns all events, newest first. Events with equal times stay in ingest order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Restores newest-first order after events were appended from `start` on.
    fn sort_newest_first(&mut self, start: usize) {
        // Log files are usually in time order. Turning such a batch around
        // first leaves two ordered runs, which the stable sort merges in
        // linear time, and a stable sort keeps file order among equal times.
        let batch = &mut self.events[start..];
        if batch.windows(2).all(|pair| pair[0].time <= pair[1].time) {
            reverse_keeping_ties(batch);
        }
        self.events
            .sort_by_key(|event| std::cmp::Reverse(event.time));
    }
}

/// Checks whether a file found in an evidence folder is documentation rather than a log:
/// `README`, `LICENSE` or `NOTICE` (any case, bare or with `.txt`), or a Markdown file
/// (`.md`, `.markdown`). Folder walks skip such files, so a match is logged at debug level.
/// A file given on its own is read whatever its name.
pub fn is_documentation_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    let stem = name.strip_suffix(".txt").unwrap_or(&name);
    let documentation = matches!(stem, "readme" | "license" | "notice")
        || name.ends_with(".md")
        || name.ends_with(".markdown");
    if documentation {
        tracing::debug!(path = %path.display(), "skipped documentation file in evidence folder");
    }
    documentation
}

/// Reverses events sorted oldest first into newest first, keeping events
/// with equal times in their original order.
fn reverse_keeping_ties(events: &mut [Event]) {
    events.reverse();
    let mut run_start = 0;
    for end in 1..=events.len() {
        if end == events.len() || events[end].time != events[run_start].time {
            events[run_start..end].reverse();
            run_start = end;
        }
    }
}

#[cfg(test)]
mod tests;
