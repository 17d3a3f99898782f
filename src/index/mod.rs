//! The persistent evidence index: ingested files kept on disk so they are
//! not parsed again, with an inverted index of `_raw` tokens so that term
//! searches read only the events that can match.
//!
//! # Layout
//!
//! - `segment`: one indexed file (record text, time and default-field
//!   columns, posting lists) and its file encoding.
//! - `builder`: fills a segment's columns while a file is parsed.
//! - `postings`: the tokenizer and the posting lists.
//! - `codec`: integers, strings and the checksum footer of index files.
//! - `search`: SPL over the index, and schema discovery.
//! - `lookups`: copies of the lookup tables of ingested folders.
//!
//! # On disk
//!
//! A folder contains one `<n>.seg` file per evidence file, a `manifest`
//! naming the current segments, and a `lookups` folder with copies of the
//! CSV lookup tables found directly in ingested folders. Every file is written to a temporary name,
//! synced and renamed, and carries a CRC-32 footer checked on load, so a
//! crash leaves either the old or the new state and never a half-written
//! file under a final name. The manifest is renamed into place after the
//! segments it names, which makes it the commit point of an ingest.
//!
//! Events are stored as their records (the line, CSV row or EVTX JSON they
//! came from), not as parsed fields: searches parse the records of candidate
//! events again. That keeps the index near the size of the evidence.

mod builder;
mod codec;
mod lookups;
mod postings;
mod search;
mod segment;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::evidence::{parse_file_into, EventSink, IngestSummary, SkippedFile};
use builder::SegmentBuilder;
use codec::{Reader, Writer};
pub use segment::{Defaults, FileEntry};
use segment::Segment;

pub(crate) const SEGMENT_MAGIC: &[u8; 8] = b"ARGUSSEG";
const MANIFEST_MAGIC: &[u8; 8] = b"ARGUSMAN";
const MANIFEST_NAME: &str = "manifest";

/// Errors of the persistent index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index file {path} is corrupt: {reason}; delete it so the evidence is ingested again")]
    Corrupt { path: String, reason: String },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("evidence path {path} does not exist; pass a log file or a folder of logs")]
    NotFound { path: PathBuf },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> IndexError {
    let path = path.to_path_buf();
    move |source| IndexError::Io {
        action,
        path,
        source,
    }
}

/// Indexed evidence, in memory and optionally backed by a folder.
pub struct EvidenceIndex {
    /// Where segments are written; `None` keeps the index in memory only.
    dir: Option<PathBuf>,
    segments: Vec<Segment>,
    /// The file name of each segment in `dir`, parallel to `segments`.
    names: Vec<String>,
    next_id: u64,
}

impl EvidenceIndex {
    /// Creates an index that lives in memory only.
    pub fn in_memory() -> Self {
        EvidenceIndex {
            dir: None,
            segments: Vec::new(),
            names: Vec::new(),
            next_id: 0,
        }
    }

    /// Returns the default index folder: `$XDG_DATA_HOME/argus/index`,
    /// `~/.local/share/argus/index` on Linux and other Unix systems,
    /// `~/Library/Application Support/argus/index` on macOS and
    /// `%LOCALAPPDATA%\argus\index` on Windows. `None` when the home or
    /// data folder variable is unset.
    pub fn default_dir() -> Option<PathBuf> {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let base = if cfg!(windows) {
            env("LOCALAPPDATA")?
        } else if cfg!(target_os = "macos") {
            env("HOME")?.join("Library/Application Support")
        } else {
            env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local/share")))?
        };
        Some(base.join("argus").join("index"))
    }

    /// Opens the index in `dir`, creating the folder when it is absent.
    ///
    /// Segments that fail their checksum or cannot be decoded are dropped
    /// with a warning, so their files are ingested again. Files left by an
    /// interrupted write (temporary files, segments the manifest does not
    /// name) are deleted.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        fs::create_dir_all(dir).map_err(io_error("create index folder", dir))?;
        let mut index = EvidenceIndex {
            dir: Some(dir.to_path_buf()),
            ..EvidenceIndex::in_memory()
        };
        let manifest = dir.join(MANIFEST_NAME);
        let names = match fs::read(&manifest) {
            Ok(bytes) => read_manifest(&bytes, &manifest, &mut index.next_id)?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(io_error("read", &manifest)(err)),
        };
        for name in names {
            let path = dir.join(&name);
            let loaded = fs::read(&path)
                .map_err(io_error("read", &path))
                .and_then(|bytes| Segment::decode(bytes, &path.to_string_lossy()));
            match loaded {
                Ok(segment) => {
                    index.segments.push(segment);
                    index.names.push(name);
                }
                Err(err) => tracing::warn!(error = %err, "dropped an index segment"),
            }
        }
        index.remove_stray_files()?;
        Ok(index)
    }

    /// Number of indexed events.
    pub fn event_count(&self) -> usize {
        self.segments.iter().map(Segment::len).sum()
    }

    /// The files indexed, in ingest order.
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        self.segments.iter().map(|s| &s.file)
    }

    /// Total size of the index files on disk, in bytes (0 in memory).
    pub fn disk_bytes(&self) -> u64 {
        let Some(dir) = &self.dir else { return 0 };
        let mut names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        names.push(MANIFEST_NAME);
        names
            .iter()
            .filter_map(|name| fs::metadata(dir.join(name)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Ingests a file, or every file under a folder, recursively in sorted
    /// order. A file already indexed with the same path, size, modification
    /// time and SHA-256 is left alone; a changed file replaces its old
    /// events. Files that cannot be read are listed in the summary and the
    /// rest are still ingested.
    pub fn ingest_path(&mut self, path: &Path) -> Result<IngestSummary, IndexError> {
        if !path.exists() {
            return Err(IndexError::NotFound {
                path: path.to_path_buf(),
            });
        }
        let mut summary = IngestSummary::default();
        let mut replaced = Vec::new();
        let walk = WalkDir::new(path).follow_links(true).sort_by_file_name();
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let at = err.path().unwrap_or(path).to_path_buf();
                    summary.skipped.push(SkippedFile { path: at, reason: err.to_string() });
                    continue;
                }
            };
            if entry.file_type().is_file() {
                self.ingest_file(entry.path(), &mut summary, &mut replaced)?;
            }
        }
        if !replaced.is_empty() || summary.files_read > 0 {
            self.commit(&replaced)?;
        }
        if let Some(lookup_dir) = self.lookup_dir() {
            lookups::ingest_tables(path, &lookup_dir)?;
        }
        Ok(summary)
    }

    fn ingest_file(
        &mut self,
        path: &Path,
        summary: &mut IngestSummary,
        replaced: &mut Vec<String>,
    ) -> Result<(), IndexError> {
        let skip = |summary: &mut IngestSummary, reason: String| {
            summary.skipped.push(SkippedFile { path: path.to_path_buf(), reason });
        };
        let (bytes, modified) = match read_file(path) {
            Ok(read) => read,
            Err(err) => {
                skip(summary, format!("cannot read file: {err}"));
                return Ok(());
            }
        };
        let started = std::time::Instant::now();
        let entry = FileEntry {
            path: path.to_string_lossy().into_owned(),
            size: bytes.len() as u64,
            modified_nanos: nanos_since_epoch(modified),
            sha256: Sha256::digest(&bytes).into(),
        };
        let existing = self.segments.iter().position(|s| s.file.path == entry.path);
        if existing.is_some_and(|at| self.segments[at].file == entry) {
            summary.files_unchanged += 1;
            return Ok(());
        }

        let hashed = started.elapsed();
        let mut builder = SegmentBuilder::default();
        let read = match parse_file_into(&entry.path, bytes, modified, &mut builder) {
            Ok(read) => read,
            Err(reason) => {
                skip(summary, reason);
                return Ok(());
            }
        };
        summary.files_read += 1;
        summary.events += builder.len();
        summary.lines_skipped += read.skipped;
        let segment = builder.finish(entry, read);
        let built = started.elapsed();
        let name = self.write_segment(&segment)?;
        tracing::debug!(
            file = %path.display(),
            events = segment.len(),
            hash_ms = hashed.as_millis() as u64,
            parse_and_build_ms = (built - hashed).as_millis() as u64,
            write_ms = (started.elapsed() - built).as_millis() as u64,
            "indexed a file"
        );
        match existing {
            Some(at) => {
                replaced.push(std::mem::replace(&mut self.names[at], name));
                self.segments[at] = segment;
            }
            None => {
                self.segments.push(segment);
                self.names.push(name);
            }
        }
        Ok(())
    }

    /// Writes a segment under a new name; returns the name.
    fn write_segment(&mut self, segment: &Segment) -> Result<String, IndexError> {
        let name = format!("{:08}.seg", self.next_id);
        self.next_id += 1;
        if let Some(dir) = &self.dir {
            write_atomic(&dir.join(&name), |out| segment.write_to(out))?;
        }
        Ok(name)
    }

    /// Writes the manifest naming the current segments, then deletes the
    /// segment files it no longer names.
    fn commit(&self, replaced: &[String]) -> Result<(), IndexError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let mut out = Writer::default();
        out.bytes.extend_from_slice(MANIFEST_MAGIC);
        out.varint(self.next_id);
        out.varint(self.names.len() as u64);
        for name in &self.names {
            out.text(name);
        }
        let manifest = out.finish();
        write_atomic(&dir.join(MANIFEST_NAME), |file| file.write_all(&manifest))?;
        for name in replaced {
            let _ = fs::remove_file(dir.join(name));
        }
        Ok(())
    }

    /// Deletes temporary files and segments the manifest does not name.
    fn remove_stray_files(&self) -> Result<(), IndexError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let listing = fs::read_dir(dir).map_err(io_error("list index folder", dir))?;
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stray = name.contains(".tmp")
                || (name.ends_with(".seg") && !self.names.contains(&name));
            if stray {
                tracing::debug!(file = %name, "removed a stray index file");
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }
}

fn read_manifest(bytes: &[u8], path: &Path, next_id: &mut u64) -> Result<Vec<String>, IndexError> {
    let path_text = path.to_string_lossy();
    if !bytes.starts_with(MANIFEST_MAGIC) {
        return Err(IndexError::Corrupt {
            path: path_text.into_owned(),
            reason: "not an index manifest".into(),
        });
    }
    let mut input = Reader::verified(bytes, &path_text)?;
    input.at = MANIFEST_MAGIC.len();
    *next_id = input.varint()?;
    let count = input.varint()?;
    let mut names = Vec::new();
    for _ in 0..count {
        names.push(input.text()?.to_string());
    }
    Ok(names)
}

fn read_file(path: &Path) -> std::io::Result<(Vec<u8>, Option<SystemTime>)> {
    let modified = fs::metadata(path)?.modified().ok();
    Ok((fs::read(path)?, modified))
}

fn nanos_since_epoch(time: Option<SystemTime>) -> i128 {
    match time.map(|t| t.duration_since(SystemTime::UNIX_EPOCH)) {
        Some(Ok(after)) => after.as_nanos() as i128,
        Some(Err(before)) => -(before.duration().as_nanos() as i128),
        None => 0,
    }
}

/// Writes a file through `write` under a temporary name beside `path`,
/// syncs it and renames it over `path`, then syncs the folder so the rename
/// itself is durable.
fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> std::io::Result<()>,
) -> Result<(), IndexError> {
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    let file = fs::File::create(&temporary).map_err(io_error("create", &temporary))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write(&mut out).map_err(io_error("write", &temporary))?;
    let file = out.into_inner().map_err(|e| io_error("write", &temporary)(e.into_error()))?;
    file.sync_all().map_err(io_error("sync", &temporary))?;
    drop(file);
    fs::rename(&temporary, path).map_err(io_error("rename", &temporary))?;
    // Folders cannot be opened for syncing on every platform; the rename
    // stands either way.
    if let Some(parent) = path.parent() {
        if let Ok(folder) = fs::File::open(parent) {
            let _ = folder.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
