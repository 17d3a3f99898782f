//! Truncated and damaged copies of a real Windows event log: a file that
//! gives no event is reported as skipped with its path and a reason, in the
//! in-memory store and in the index alike, and undecodable records are
//! counted as EVTX records, not as lines.

mod common;

use std::path::{Path, PathBuf};

use argus::evidence::EvidenceStore;
use argus::index::EvidenceIndex;

/// A log of 1,537 records (1,118,208 bytes) spread over several 64 KiB chunks.
const SOURCE: &str = "Command and Control/bits_openvpn.evtx";

/// Bytes kept of the source: the 4,096-byte file header and part of the
/// first 65,536-byte chunk, so no chunk is complete.
const TRUNCATED_LEN: usize = 30_000;

const NO_RECORDS: &str = "no readable EVTX records; the file may be truncated or damaged";

/// Writes the first `TRUNCATED_LEN` bytes of the source into `dir`.
fn truncated_copy(source: &Path, dir: &Path) -> PathBuf {
    let bytes = std::fs::read(source).unwrap();
    let path = dir.join("truncated.evtx");
    std::fs::write(&path, &bytes[..TRUNCATED_LEN]).unwrap();
    path
}

/// Returns the source with 200 bytes after the file header overwritten at
/// positions from a fixed xorshift sequence, so every run damages the same bytes.
fn damaged_bytes(source: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(source).unwrap();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let at = 4096 + (state % (bytes.len() as u64 - 4096)) as usize;
        bytes[at] = (state >> 56) as u8;
    }
    bytes
}

#[test]
fn truncated_evtx_skipped_in_store() {
    let Some(source) = common::shared_data(&format!("real/evtx/{SOURCE}")) else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = truncated_copy(&source, dir.path());

    let mut store = EvidenceStore::new();
    let summary = store.ingest_path(&path).unwrap();
    assert_eq!(summary.files_read, 0);
    assert_eq!(summary.events, 0);
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    assert_eq!(summary.skipped[0].path, path);
    assert!(summary.skipped[0].reason.starts_with(NO_RECORDS), "{}", summary.skipped[0].reason);
}

#[test]
fn truncated_evtx_skipped_in_index() {
    let Some(source) = common::shared_data(&format!("real/evtx/{SOURCE}")) else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = truncated_copy(&source, dir.path());

    let mut index = EvidenceIndex::in_memory();
    let summary = index.ingest_path(&path).unwrap();
    assert_eq!(summary.files_read, 0);
    assert_eq!(index.event_count(), 0);
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    assert_eq!(summary.skipped[0].path, path);
    assert!(summary.skipped[0].reason.starts_with(NO_RECORDS), "{}", summary.skipped[0].reason);
}

#[test]
fn damaged_evtx_counts_records() {
    let Some(source) = common::shared_data(&format!("real/evtx/{SOURCE}")) else { return };
    let bytes = damaged_bytes(&source);

    let mut store = EvidenceStore::new();
    let summary = store.ingest_bytes("damaged.evtx", &bytes, None);
    assert_eq!(summary.files_read, 1);
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
    assert!(summary.records_skipped > 0, "no record was damaged: {summary:?}");
    assert_eq!(summary.lines_skipped, 0);
    assert_eq!(summary.rows_skipped, 0);
    let parts = summary.unreadable_parts();
    assert_eq!(parts, vec![format!("{} EVTX records", summary.records_skipped)]);
}
