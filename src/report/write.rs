//! Writing a report to disk as `report.json`, `report.md` and `report.pdf`.
//!
//! Writing is all or nothing. Every format is rendered first, then written to a
//! temporary file in the target folder and flushed to disk with `fsync`, and only
//! when every temporary file is complete are they renamed over the final names.
//! A reader therefore sees either the previous file or the complete new one,
//! never a partial report, and a failure removes every temporary file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{markdown, pdf, Report, ReportError};

/// A report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Pretty-printed JSON, as documented in `docs/report-schema.md`.
    Json,
    Markdown,
    Pdf,
}

/// A format name that [`Format::from_str`] does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format '{0}'; expected one of json, md, markdown, pdf")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses `json`, `md`, `markdown` or `pdf`, ignoring case and surrounding spaces.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "md" | "markdown" => Ok(Format::Markdown),
            "pdf" => Ok(Format::Pdf),
            _ => Err(UnknownFormat(text.to_string())),
        }
    }
}

impl Format {
    /// Returns the file name the format is written under, such as `report.md`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "report.json",
            Format::Markdown => "report.md",
            Format::Pdf => "report.pdf",
        }
    }

    /// Renders the report in this format.
    pub fn render(self, report: &Report) -> Result<Vec<u8>, ReportError> {
        match self {
            Format::Json => {
                let mut json = serde_json::to_vec_pretty(report)?;
                json.push(b'\n');
                Ok(json)
            }
            Format::Markdown => Ok(markdown::render(report).into_bytes()),
            Format::Pdf => pdf::render(report),
        }
    }
}

/// Writes the report in each format (duplicates once) into `dir`, creating
/// it if needed, and returns the paths written in the order of `formats`.
/// Report files of other formats already in `dir` are removed once the new
/// ones are in place.
///
/// On an error no new file is left in `dir`. Rendering and writing the
/// temporary files come before any rename, so their errors leave the folder
/// unchanged, and a final name taken by a folder is rejected before any
/// rename too. If a rename still fails after earlier ones succeeded, the
/// files already renamed are removed, but an older report they replaced is
/// lost, because a rename does not keep the file it overwrites.
pub fn write_reports(
    report: &Report,
    dir: &Path,
    formats: &[Format],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut unique: Vec<Format> = Vec::with_capacity(formats.len());
    for format in formats {
        if !unique.contains(format) {
            unique.push(*format);
        }
    }

    let mut rendered = Vec::with_capacity(unique.len());
    for format in unique {
        rendered.push((format, format.render(report)?));
    }

    create_folder(dir)?;
    let mut staged = Vec::with_capacity(rendered.len());
    for (format, bytes) in rendered {
        // On an error, dropping `staged` removes the temporary files written so far.
        staged.push(stage(&dir.join(format.file_name()), &bytes)?);
    }
    for file in &staged {
        reject_folder(&file.target)?;
    }
    rename_all(&mut staged)?;
    remove_other_reports(dir, formats);
    sync_dir(dir)?;
    Ok(staged.into_iter().map(|file| file.target.clone()).collect())
}

/// Removes report files of the formats not written now, left by an earlier
/// report in the same folder, so the folder never mixes two investigations.
/// A file that cannot be removed is logged and left.
fn remove_other_reports(dir: &Path, written: &[Format]) {
    for format in [Format::Json, Format::Markdown, Format::Pdf] {
        let path = dir.join(format.file_name());
        if written.contains(&format) || !path.is_file() {
            continue;
        }
        match fs::remove_file(&path) {
            Ok(()) => tracing::info!(path = %path.display(), "removed an earlier report's file"),
            Err(error) => tracing::warn!(path = %path.display(), %error,
                "cannot remove an earlier report's file; the folder holds two reports"),
        }
    }
}

fn write_error(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Creates the output folder, or fails with a clear message when the path is a file.
fn create_folder(dir: &Path) -> Result<(), ReportError> {
    if dir.exists() && !dir.is_dir() {
        let source = std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "the output path must be a folder, but it is a file; give a new or existing folder",
        );
        return Err(write_error(dir, source));
    }
    fs::create_dir_all(dir).map_err(|source| write_error(dir, source))
}

/// Rejects a final name that is taken by a folder, which a rename cannot replace.
fn reject_folder(target: &Path) -> Result<(), ReportError> {
    if target.is_dir() {
        let source = std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "a folder has the report's file name; move or remove it",
        );
        return Err(write_error(target, source));
    }
    Ok(())
}

/// A temporary file waiting to be renamed to `target`; it is removed on drop
/// unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    target: PathBuf,
    persisted: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            // The write already failed; a leftover temporary file is the lesser problem.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to a synced temporary file beside `target`.
fn stage(target: &Path, bytes: &[u8]) -> Result<TempFile, ReportError> {
    let temp = TempFile {
        path: temp_path(target),
        target: target.to_path_buf(),
        persisted: false,
    };
    let mut file: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp.path)
        .map_err(|source| write_error(&temp.path, source))?;
    file.write_all(bytes)
        .map_err(|source| write_error(&temp.path, source))?;
    file.sync_all()
        .map_err(|source| write_error(&temp.path, source))?;
    Ok(temp)
}

/// Renames every temporary file to its target. When one rename fails, the
/// targets already renamed are removed and the remaining temporary files are
/// left for their drop to remove.
fn rename_all(staged: &mut [TempFile]) -> Result<(), ReportError> {
    for i in 0..staged.len() {
        if let Err(source) = fs::rename(&staged[i].path, &staged[i].target) {
            for done in &staged[..i] {
                // Removal is best effort: the rename error is the one to report.
                let _ = fs::remove_file(&done.target);
            }
            return Err(write_error(&staged[i].target, source));
        }
        staged[i].persisted = true;
    }
    Ok(())
}

/// Returns a hidden sibling name, such as `.report.md.4711-1702191346123456.tmp`.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    path.with_file_name(format!(".{name}.{}-{nanos}.tmp", std::process::id()))
}

/// Syncs the folder so the renames survive a crash; only Unix can open a folder for this.
fn sync_dir(dir: &Path) -> Result<(), ReportError> {
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| write_error(dir, source))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn format_names_parse() {
        assert_eq!("json".parse::<Format>(), Ok(Format::Json));
        assert_eq!("md".parse::<Format>(), Ok(Format::Markdown));
        assert_eq!("Markdown".parse::<Format>(), Ok(Format::Markdown));
        assert_eq!(" PDF ".parse::<Format>(), Ok(Format::Pdf));
    }

    #[test]
    fn unknown_format_lists_accepted() {
        let err = "html".parse::<Format>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown report format 'html'; expected one of json, md, markdown, pdf"
        );
    }

    #[test]
    fn all_formats_written() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("incidents").join("inv-1");
        let report = sample::report();
        let formats = [Format::Json, Format::Markdown, Format::Pdf];
        let paths = write_reports(&report, &dir, &formats).unwrap();

        let expected: Vec<PathBuf> = ["report.json", "report.md", "report.pdf"]
            .iter()
            .map(|n| dir.join(n))
            .collect();
        assert_eq!(paths, expected);
        assert_eq!(entries(&dir), ["report.json", "report.md", "report.pdf"]);

        let json = fs::read_to_string(dir.join("report.json")).unwrap();
        let parsed: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, report);
        assert!(
            json.starts_with("{\n  \"schema_version\""),
            "not pretty: {json:.40}"
        );

        let md = fs::read_to_string(dir.join("report.md")).unwrap();
        assert_eq!(md, markdown::render(&report));

        let pdf = fs::read(dir.join("report.pdf")).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn duplicate_formats_written_once() {
        let temp = tempfile::tempdir().unwrap();
        let formats = [Format::Markdown, Format::Json, Format::Markdown];
        let paths = write_reports(&sample::report(), temp.path(), &formats).unwrap();
        assert_eq!(
            paths,
            [
                temp.path().join("report.md"),
                temp.path().join("report.json")
            ]
        );
    }

    #[test]
    fn rewrite_replaces_old_report() {
        let temp = tempfile::tempdir().unwrap();
        fs::write(temp.path().join("report.md"), "old report").unwrap();
        write_reports(&sample::report(), temp.path(), &[Format::Markdown]).unwrap();
        let md = fs::read_to_string(temp.path().join("report.md")).unwrap();
        assert!(md.starts_with("# SSH Brute Force Detected"), "{md:.40}");
        assert_eq!(entries(temp.path()), ["report.md"]);
    }

    #[test]
    fn earlier_report_of_other_formats_removed() {
        let temp = tempfile::tempdir().unwrap();
        fs::write(temp.path().join("report.md"), "an earlier investigation").unwrap();
        fs::write(temp.path().join("report.pdf"), "an earlier investigation").unwrap();
        fs::write(temp.path().join("notes.txt"), "the analyst's own file").unwrap();
        write_reports(&sample::report(), temp.path(), &[Format::Json]).unwrap();
        assert_eq!(entries(temp.path()), ["notes.txt", "report.json"]);
    }

    #[test]
    fn folder_at_final_name_writes_nothing() {
        let temp = tempfile::tempdir().unwrap();
        fs::create_dir(temp.path().join("report.pdf")).unwrap();
        let formats = [Format::Json, Format::Markdown, Format::Pdf];

        let err = write_reports(&sample::report(), temp.path(), &formats).unwrap_err();
        assert!(matches!(&err, ReportError::Write { path, .. } if path.ends_with("report.pdf")));
        assert_eq!(entries(temp.path()), ["report.pdf"]);
        assert!(entries(&temp.path().join("report.pdf")).is_empty());
    }

    #[test]
    fn file_as_output_path_rejected() {
        let temp = tempfile::tempdir().unwrap();
        let file = temp.path().join("part");
        fs::write(&file, "notes").unwrap();

        let err = write_reports(&sample::report(), &file, &[Format::Json]).unwrap_err();
        assert!(err.to_string().contains("must be a folder"), "{err}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "notes");
        assert_eq!(entries(temp.path()), ["part"]);
    }

    #[test]
    fn failed_later_rename_removes_earlier() {
        let temp = tempfile::tempdir().unwrap();
        let first = stage(&temp.path().join("report.json"), b"{}").unwrap();
        let mut second = stage(&temp.path().join("report.md"), b"# report").unwrap();
        // A target in a missing folder makes the second rename fail after the first succeeded.
        second.target = temp.path().join("missing").join("report.md");
        let mut staged = vec![first, second];

        let err = rename_all(&mut staged).unwrap_err();
        assert!(matches!(&err, ReportError::Write { path, .. } if path.ends_with("report.md")));
        drop(staged);
        assert!(
            entries(temp.path()).is_empty(),
            "{:?}",
            entries(temp.path())
        );
    }

    #[test]
    fn failed_rename_leaves_no_temp() {
        let temp = tempfile::tempdir().unwrap();
        // A non-empty folder under the final name makes the rename fail after the write.
        let blocker = temp.path().join("report.md");
        fs::create_dir(&blocker).unwrap();
        fs::write(blocker.join("keep"), "x").unwrap();

        let err = write_reports(&sample::report(), temp.path(), &[Format::Markdown]).unwrap_err();
        assert!(matches!(&err, ReportError::Write { path, .. } if path.ends_with("report.md")));
        assert_eq!(entries(temp.path()), ["report.md"]);
        assert_eq!(entries(&blocker), ["keep"]);
    }
}
