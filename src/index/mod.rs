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
//! CSV lookup tables found directly in ingested folders. Every file carries a
//! CRC-32 footer checked on load. The manifest is the commit point of an
//! ingest: each `ingest_path` call writes and syncs its new segment files
//! under names no manifest uses yet, syncs the folder, and then writes the
//! manifest once to a temporary name, syncs it and renames it into place.
//! A crash therefore leaves either the old manifest or the new one, each
//! naming only complete segments. The next `ingest_path` deletes the segment
//! and temporary files that no manifest names. `open` leaves them, so a
//! search does not delete the files of an ingest running beside it. Lookup tables are written to a
//! temporary name, synced and renamed one by one.
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
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Instant, SystemTime};

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::evidence::{is_documentation_file, parse_file_into, EventSink, IngestSummary, SkippedFile};
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
    ///
    /// In an index folder, a second thread writes and syncs each new segment
    /// file while the next evidence file is parsed, and the manifest naming
    /// them is written once, after the last one. When a write fails, the
    /// segment files of this call are deleted and the index keeps its
    /// previous state, in memory and on disk.
    pub fn ingest_path(&mut self, path: &Path) -> Result<IngestSummary, IndexError> {
        if !path.exists() {
            return Err(IndexError::NotFound {
                path: path.to_path_buf(),
            });
        }
        // Left by an interrupted ingest. Cleaned here rather than in `open`,
        // so a search opening the folder never deletes an ingest's new files.
        self.remove_stray_files()?;
        let mut summary = IngestSummary::default();
        let (pending, written) = match self.dir.clone() {
            None => {
                let mut segments = Vec::new();
                let pending = self.build_segments(path, &mut summary, |_, segment| {
                    segments.push(segment);
                    true
                });
                (pending, Ok(segments))
            }
            Some(dir) => std::thread::scope(|scope| {
                let (sender, receiver) = mpsc::channel();
                let writer = scope.spawn(move || write_segments(&dir, receiver));
                let pending = self.build_segments(path, &mut summary, |name, segment| {
                    sender.send((name.to_string(), segment)).is_ok()
                });
                drop(sender);
                // A panic in the writer is raised again here, as if it had happened inline.
                let written = match writer.join() {
                    Ok(written) => written,
                    Err(panic) => std::panic::resume_unwind(panic),
                };
                (pending, written)
            }),
        };
        let dropped = self.dropped_files(path, &summary);
        let dropped_paths: Vec<PathBuf> =
            dropped.iter().map(|&at| PathBuf::from(&self.segments[at].file.path)).collect();
        match written {
            Ok(segments) if !pending.is_empty() || !dropped.is_empty() => {
                self.commit(pending, segments, &dropped)?;
                summary.files_removed = dropped_paths;
            }
            Ok(_) => {}
            Err(err) => {
                self.remove_segment_files(&pending);
                return Err(err);
            }
        }
        // The events are committed by now, so a table that cannot be copied
        // is reported beside them rather than failing the whole ingest.
        if let Some(lookup_dir) = self.lookup_dir() {
            if let Err(err) = lookups::ingest_tables(path, &lookup_dir) {
                summary.skipped.push(SkippedFile {
                    path: path.to_path_buf(),
                    reason: format!("lookup tables were not copied into the index: {err}"),
                });
            }
        }
        Ok(summary)
    }

    /// Walks `path` and builds a segment for each new or changed file, then
    /// hands it to `deliver` with a new segment file name. Stops early when
    /// `deliver` returns false, which it does once the writer has failed.
    /// Returns the name and replaced position of each segment handed over.
    fn build_segments(
        &mut self,
        path: &Path,
        summary: &mut IngestSummary,
        mut deliver: impl FnMut(&str, Segment) -> bool,
    ) -> Vec<PendingSegment> {
        let mut pending = Vec::new();
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
            if !entry.file_type().is_file() || is_documentation_file(entry.path()) {
                continue;
            }
            let Some((segment, replaces)) = self.build_segment(entry.path(), summary) else {
                continue;
            };
            let name = format!("{:08}.seg", self.next_id);
            self.next_id += 1;
            let delivered = deliver(&name, segment);
            pending.push(PendingSegment { name, replaces });
            if !delivered {
                break;
            }
        }
        pending
    }

    /// Parses one file into a segment. Returns `None` when the file is
    /// unchanged or cannot be read (which the summary records), and
    /// otherwise the segment with the position of the segment it replaces.
    fn build_segment(
        &self,
        path: &Path,
        summary: &mut IngestSummary,
    ) -> Option<(Segment, Option<usize>)> {
        let skip = |summary: &mut IngestSummary, reason: String| {
            summary.skipped.push(SkippedFile { path: path.to_path_buf(), reason });
        };
        let (bytes, modified) = match read_file(path) {
            Ok(read) => read,
            Err(err) => {
                skip(summary, format!("cannot read file: {err}"));
                return None;
            }
        };
        let started = Instant::now();
        let entry = FileEntry {
            path: path.to_string_lossy().into_owned(),
            size: bytes.len() as u64,
            modified_nanos: nanos_since_epoch(modified),
            sha256: Sha256::digest(&bytes).into(),
        };
        let existing = self.segments.iter().position(|s| s.file.path == entry.path);
        if existing.is_some_and(|at| self.segments[at].file == entry) {
            summary.files_unchanged += 1;
            return None;
        }

        let hashed = started.elapsed();
        let mut builder = SegmentBuilder::default();
        let read = match parse_file_into(&entry.path, bytes, modified, &mut builder) {
            Ok(read) => read,
            Err(reason) => {
                skip(summary, reason);
                return None;
            }
        };
        summary.files_read += 1;
        summary.events += builder.len();
        summary.count_unreadable(read.format, read.skipped);
        let segment = builder.finish(entry, read);
        tracing::debug!(
            file = %path.display(),
            events = segment.len(),
            hash_ms = hashed.as_millis() as u64,
            parse_and_build_ms = (started.elapsed() - hashed).as_millis() as u64,
            "indexed a file"
        );
        Some((segment, existing))
    }

    /// Makes the segments of one ingest current. The manifest naming them is
    /// written first, because it is the commit point. Then the segments are
    /// installed in memory and the files of the segments they replace are
    /// deleted.
    /// When the manifest cannot be written, the new segment files are
    /// deleted and the index keeps its previous state.
    fn commit(
        &mut self,
        pending: Vec<PendingSegment>,
        segments: Vec<Segment>,
        dropped: &[usize],
    ) -> Result<(), IndexError> {
        let mut names = self.names.clone();
        let mut replaced = Vec::new();
        for new in &pending {
            match new.replaces {
                Some(at) => replaced.push(std::mem::replace(&mut names[at], new.name.clone())),
                None => names.push(new.name.clone()),
            }
        }
        // Positions of dropped segments, highest first so removals keep the rest in place.
        let mut dropped = dropped.to_vec();
        dropped.sort_unstable_by(|a, b| b.cmp(a));
        for &at in &dropped {
            replaced.push(names.remove(at));
        }
        if let Some(dir) = &self.dir {
            if let Err(err) = write_manifest(dir, self.next_id, &names) {
                self.remove_segment_files(&pending);
                return Err(err);
            }
            for name in &replaced {
                let _ = fs::remove_file(dir.join(name));
            }
        }
        for (new, segment) in pending.into_iter().zip(segments) {
            match new.replaces {
                Some(at) => self.segments[at] = segment,
                None => self.segments.push(segment),
            }
        }
        for &at in &dropped {
            self.segments.remove(at);
        }
        self.names = names;
        Ok(())
    }

    /// Returns the positions of segments whose evidence file lay under `path`
    /// and either no longer exists or was skipped by this ingest (unreadable,
    /// or no longer a log the parsers accept), so the index does not go on
    /// answering with events the file no longer holds. A file under a folder
    /// that cannot be listed counts as existing, so such a folder drops nothing.
    fn dropped_files(&self, path: &Path, summary: &IngestSummary) -> Vec<usize> {
        let skipped: Vec<&Path> = summary.skipped.iter().map(|s| s.path.as_path()).collect();
        self.segments
            .iter()
            .enumerate()
            .filter(|(_, segment)| {
                let file = Path::new(&segment.file.path);
                file.starts_with(path)
                    && (skipped.contains(&file) || matches!(file.try_exists(), Ok(false)))
            })
            .map(|(at, _)| at)
            .collect()
    }

    /// Deletes the files of segments that no manifest names, after a failed
    /// ingest. Files never written are skipped.
    fn remove_segment_files(&self, pending: &[PendingSegment]) {
        let Some(dir) = &self.dir else { return };
        for new in pending {
            let _ = fs::remove_file(dir.join(&new.name));
        }
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

/// A segment built in the current `ingest_path` call that no manifest names yet.
struct PendingSegment {
    /// The segment's file name in the index folder.
    name: String,
    /// The position in `EvidenceIndex::segments` of the segment it replaces.
    replaces: Option<usize>,
}

/// Writes and syncs each received segment under its name in `dir`, and
/// returns the segments in the order received once the sender is dropped.
/// Stops at the first error, which makes the sender's next send fail.
///
/// The files are written under their final names, without a rename: a
/// segment file counts only once a manifest names it, and `open` deletes
/// the ones an interrupted ingest left behind.
fn write_segments(
    dir: &Path,
    queue: mpsc::Receiver<(String, Segment)>,
) -> Result<Vec<Segment>, IndexError> {
    let mut written = Vec::new();
    for (name, segment) in queue {
        let started = Instant::now();
        write_synced(&dir.join(&name), |file| segment.write_to(file))?;
        tracing::debug!(
            segment = %name,
            events = segment.len(),
            write_ms = started.elapsed().as_millis() as u64,
            "wrote an index segment"
        );
        written.push(segment);
    }
    Ok(written)
}

/// Writes the manifest naming `names` as the current segments. The folder
/// is synced first, so the names of the new segment files are durable before
/// a manifest names them.
fn write_manifest(dir: &Path, next_id: u64, names: &[String]) -> Result<(), IndexError> {
    sync_folder(dir);
    let mut out = Writer::default();
    out.bytes.extend_from_slice(MANIFEST_MAGIC);
    out.varint(next_id);
    out.varint(names.len() as u64);
    for name in names {
        out.text(name);
    }
    let manifest = out.finish();
    write_atomic(&dir.join(MANIFEST_NAME), |file| file.write_all(&manifest))
}

/// Creates `path`, fills it through `write` and syncs it.
fn write_synced(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), IndexError> {
    let mut file = fs::File::create(path).map_err(io_error("create", path))?;
    write(&mut file).map_err(io_error("write", path))?;
    file.sync_all().map_err(io_error("sync", path))
}

/// Writes a file through `write` under a temporary name beside `path`,
/// syncs it and renames it over `path`, then syncs the folder so the rename
/// itself is durable.
fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), IndexError> {
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    write_synced(&temporary, write)?;
    fs::rename(&temporary, path).map_err(io_error("rename", &temporary))?;
    if let Some(parent) = path.parent() {
        sync_folder(parent);
    }
    Ok(())
}

/// Syncs a folder so that the files created or renamed in it are durable.
/// Folders cannot be opened for syncing on every platform, and a failure is
/// ignored: the renames stand either way.
fn sync_folder(folder: &Path) {
    if let Ok(folder) = fs::File::open(folder) {
        let _ = folder.sync_all();
    }
}

#[cfg(test)]
mod tests;
