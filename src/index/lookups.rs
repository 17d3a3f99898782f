//! Lookup tables kept in the index folder, so that `| lookup` works over an
//! index as it does over the evidence folder.
//!
//! The in-memory backend reads `| lookup NAME` from `NAME.csv` or `NAME`
//! directly in the evidence folder. When a folder is ingested into an index
//! folder, each `.csv` file directly in it is copied to `<index>/lookups/`,
//! and searches over the index read their tables from there. The copy keeps
//! the index usable when the evidence folder has moved, and the table a
//! search reads is the one that was ingested.
//!
//! A table is copied again only when its bytes changed. A table removed
//! from the evidence folder stays in the index, and a table of the same
//! name from another ingested folder replaces it (the last ingest wins).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{io_error, write_atomic, EvidenceIndex, IndexError};

/// The subfolder of an index folder that contains the lookup tables.
pub(crate) const LOOKUP_FOLDER: &str = "lookups";

/// Files larger than this are not copied as lookup tables, so that an
/// evidence folder with a large Splunk CSV export at its top level does not
/// double the index size.
///
/// NOTE: a table above this size works over the in-memory backend but not
/// over an index. `ingest_tables` logs a warning that names it.
pub(crate) const MAX_TABLE_BYTES: u64 = 64 << 20;

/// Copies the `.csv` files directly in `evidence` (when it is a folder) into
/// `lookups`, replacing copies whose bytes differ. Returns the number of
/// tables written. Files that cannot be read are logged and left out.
pub(crate) fn ingest_tables(evidence: &Path, lookups: &Path) -> Result<usize, IndexError> {
    if !evidence.is_dir() {
        return Ok(0);
    }
    let listing = fs::read_dir(evidence).map_err(io_error("list evidence folder", evidence))?;
    let mut tables: Vec<PathBuf> = listing
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| is_table_name(path) && path.is_file())
        .collect();
    tables.sort();
    if tables.is_empty() {
        return Ok(0);
    }

    fs::create_dir_all(lookups).map_err(io_error("create lookup folder", lookups))?;
    remove_temporary_files(lookups);
    let mut written = 0;
    for table in tables {
        if copy_table(&table, lookups)? {
            written += 1;
        }
    }
    Ok(written)
}

/// Returns whether `path` names a CSV file, by its extension in any case.
fn is_table_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"))
}

/// Copies one table into `lookups` unless an identical copy is there.
/// Returns whether it wrote the copy.
fn copy_table(table: &Path, lookups: &Path) -> Result<bool, IndexError> {
    let Some(name) = table.file_name() else {
        return Ok(false);
    };
    let size = fs::metadata(table).map(|m| m.len()).unwrap_or(0);
    if size > MAX_TABLE_BYTES {
        tracing::warn!(
            table = %table.display(),
            size,
            max = MAX_TABLE_BYTES,
            "lookup table is too large to copy into the index; `| lookup` over the index \
             cannot read it"
        );
        return Ok(false);
    }
    let bytes = match fs::read(table) {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(table = %table.display(), %error, "cannot read lookup table");
            return Ok(false);
        }
    };
    let target = lookups.join(name);
    if fs::read(&target).is_ok_and(|existing| existing == bytes) {
        return Ok(false);
    }
    write_atomic(&target, |out| out.write_all(&bytes))?;
    tracing::debug!(table = %table.display(), copy = %target.display(), "copied lookup table");
    Ok(true)
}

/// Deletes temporary files an interrupted copy left in `lookups`: their
/// extension is `tmp` and a process id.
fn remove_temporary_files(lookups: &Path) {
    let Ok(listing) = fs::read_dir(lookups) else {
        return;
    };
    for entry in listing.flatten() {
        let path = entry.path();
        let temporary = path
            .extension()
            .and_then(|extension| extension.to_str())
            .and_then(|extension| extension.strip_prefix("tmp"))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if temporary {
            let _ = fs::remove_file(path);
        }
    }
}

impl EvidenceIndex {
    /// Returns the folder `| lookup` reads tables from: `lookups` in the
    /// index folder, or `None` for an index kept in memory only.
    pub fn lookup_dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.join(LOOKUP_FOLDER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_files_copy_and_others_do_not() {
        let evidence = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        fs::write(evidence.path().join("assets.csv"), "host,owner\nweb1,alice\n").unwrap();
        fs::write(evidence.path().join("Intel.CSV"), "ip,actor\n").unwrap();
        fs::write(evidence.path().join("auth.log"), "not a table\n").unwrap();
        fs::create_dir(evidence.path().join("sub")).unwrap();
        fs::write(evidence.path().join("sub/deep.csv"), "a,b\n").unwrap();
        let lookups = index.path().join(LOOKUP_FOLDER);

        assert_eq!(ingest_tables(evidence.path(), &lookups).unwrap(), 2);
        let copied = fs::read_to_string(lookups.join("assets.csv")).unwrap();
        assert_eq!(copied, "host,owner\nweb1,alice\n");
        assert!(lookups.join("Intel.CSV").is_file());
        assert!(!lookups.join("auth.log").exists());
        assert!(!lookups.join("deep.csv").exists());
    }

    #[test]
    fn unchanged_table_is_not_copied_again() {
        let evidence = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        let table = evidence.path().join("assets.csv");
        fs::write(&table, "host,owner\nweb1,alice\n").unwrap();
        let lookups = index.path().join(LOOKUP_FOLDER);

        assert_eq!(ingest_tables(evidence.path(), &lookups).unwrap(), 1);
        assert_eq!(ingest_tables(evidence.path(), &lookups).unwrap(), 0);
        fs::write(&table, "host,owner\nweb1,bob\n").unwrap();
        assert_eq!(ingest_tables(evidence.path(), &lookups).unwrap(), 1);
        let copied = fs::read_to_string(lookups.join("assets.csv")).unwrap();
        assert_eq!(copied, "host,owner\nweb1,bob\n");
    }

    #[test]
    fn single_file_evidence_copies_nothing() {
        let evidence = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        let table = evidence.path().join("assets.csv");
        fs::write(&table, "host,owner\n").unwrap();
        let lookups = index.path().join(LOOKUP_FOLDER);

        assert_eq!(ingest_tables(&table, &lookups).unwrap(), 0);
        assert!(!lookups.exists());
    }

    #[test]
    fn stray_temporary_copy_is_removed() {
        let evidence = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        fs::write(evidence.path().join("assets.csv"), "host,owner\n").unwrap();
        let lookups = index.path().join(LOOKUP_FOLDER);
        fs::create_dir_all(&lookups).unwrap();
        fs::write(lookups.join("assets.tmp42"), "half").unwrap();
        fs::write(lookups.join("notes.tmp.csv"), "a,b\n").unwrap();

        ingest_tables(evidence.path(), &lookups).unwrap();
        assert!(!lookups.join("assets.tmp42").exists());
        assert!(lookups.join("notes.tmp.csv").exists());
    }
}
