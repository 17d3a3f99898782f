use std::io::Write;
use std::path::Path;

use super::*;
use crate::event::Value;
use crate::evidence::EvidenceStore;
use crate::spl;

const SYSLOG: &str = "\
Dec 10 06:55:46 web01 sshd[24200]: Failed password for root from 10.0.0.5 port 38278 ssh2
Dec 10 06:55:48 web02 sshd[24201]: Failed password for admin from 10.0.0.6 port 38279 ssh2
Dec 10 06:56:01 web01 sshd[24202]: Accepted password for alice from 10.0.0.7 port 38280 ssh2
Dec 10 06:57:00 db01 CRON[100]: (root) CMD (run-parts /etc/cron.hourly)
";

const JSON: &str = concat!(
    "{\"_time\":1702191346,\"host\":\"web03\",\"sourcetype\":\"access_combined\",",
    "\"_raw\":\"10.0.0.9 - bob \\\"GET /login\\\" 200\",\"status\":\"200\",\"user\":\"bob\"}\n",
    "{\"_time\":1702191347,\"host\":\"web03\",\"sourcetype\":\"access_combined\",",
    "\"_raw\":\"10.0.0.9 - bob \\\"POST /login\\\" 401\",\"status\":\"401\",\"user\":\"bob\"}\n",
);

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut file = fs::File::create(&path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
    path
}

fn evidence_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "auth.log", SYSLOG);
    write(dir.path(), "web.json", JSON);
    dir
}

/// Runs a query on the index and on an in-memory store of the same files.
fn both(evidence: &Path, query: &str) -> (Vec<Row>, Vec<Row>) {
    let mut index = EvidenceIndex::in_memory();
    index.ingest_path(evidence).unwrap();
    let mut store = EvidenceStore::new();
    store.ingest_path(evidence).unwrap();
    let pipeline = spl::parse(query).unwrap();
    let from_index = index.search(&pipeline, 0).unwrap();
    let from_store = spl::run(&pipeline, store.events(), 0).unwrap();
    (from_index, from_store)
}

use crate::event::Row;

#[test]
fn index_results_equal_store_results() {
    let evidence = evidence_dir();
    let queries = [
        "search failed",
        "search \"failed password\" host=web0*",
        "search 10.0.0.9",
        "search user=bob status=401",
        "search root OR alice",
        "search NOT failed",
        "search * | stats count by sourcetype",
        "search failed | stats count by host",
        "search password | stats count",
        "search nothing_here | stats count",
        "search sourcetype=linux_secure | stats count by host, index",
        "search failed | table host, user, src_ip",
    ];
    for query in queries {
        let (from_index, from_store) = both(evidence.path(), query);
        assert_eq!(from_index, from_store, "{query}");
    }
}

#[test]
fn count_fast_path_counts_by_host() {
    let evidence = evidence_dir();
    let (rows, _) = both(evidence.path(), "search failed | stats count by host");
    // Two "Failed password" lines: one on web01, one on web02.
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get("host"), Some(&Value::from("web01")));
    assert_eq!(rows[0].get("count"), Some(&Value::from("1")));
    assert_eq!(rows[1].get("host"), Some(&Value::from("web02")));
}

#[test]
fn reopened_index_keeps_events() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    let first = index.ingest_path(evidence.path()).unwrap();
    assert_eq!(first.files_read, 2);
    assert_eq!(first.events, 6);
    drop(index);

    let reopened = EvidenceIndex::open(folder.path()).unwrap();
    assert_eq!(reopened.event_count(), 6);
    let rows = reopened.search(&spl::parse("search alice").unwrap(), 0).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("user"), Some(&Value::from("alice")));
}

#[test]
fn unchanged_file_is_not_read_again() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    index.ingest_path(evidence.path()).unwrap();
    let manifest_before = fs::read(folder.path().join(MANIFEST_NAME)).unwrap();

    let mut reopened = EvidenceIndex::open(folder.path()).unwrap();
    let again = reopened.ingest_path(evidence.path()).unwrap();
    assert_eq!(again.files_read, 0);
    assert_eq!(again.files_unchanged, 2);
    assert_eq!(reopened.event_count(), 6);
    let manifest_after = fs::read(folder.path().join(MANIFEST_NAME)).unwrap();
    assert_eq!(manifest_before, manifest_after);
}

#[test]
fn changed_file_replaces_its_events() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    index.ingest_path(evidence.path()).unwrap();

    let extra = "Dec 10 07:00:00 web09 sshd[1]: Failed password for eve from 10.0.0.8 port 1 ssh2\n";
    write(evidence.path(), "auth.log", &format!("{SYSLOG}{extra}"));
    let again = index.ingest_path(evidence.path()).unwrap();
    assert_eq!(again.files_read, 1);
    assert_eq!(again.files_unchanged, 1);
    assert_eq!(index.event_count(), 7);

    let reopened = EvidenceIndex::open(folder.path()).unwrap();
    assert_eq!(reopened.event_count(), 7);
    let segments = fs::read_dir(folder.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("seg".as_ref()))
        .count();
    assert_eq!(segments, 2, "the replaced segment file is deleted");
}

#[test]
fn corrupt_segment_is_dropped_and_reingested() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    index.ingest_path(evidence.path()).unwrap();
    let segment = folder.path().join(&index.names[0]);
    let bytes = fs::read(&segment).unwrap();
    fs::write(&segment, &bytes[..bytes.len() / 2]).unwrap();

    let mut reopened = EvidenceIndex::open(folder.path()).unwrap();
    assert_eq!(reopened.event_count(), 2, "only the JSON file's events remain");
    let again = reopened.ingest_path(evidence.path()).unwrap();
    assert_eq!(again.files_read, 1);
    assert_eq!(reopened.event_count(), 6);
}

#[test]
fn stray_temporary_files_are_removed() {
    let folder = tempfile::tempdir().unwrap();
    write(folder.path(), "00000009.seg.tmp42", "partial");
    write(folder.path(), "00000009.seg", "orphan");
    let index = EvidenceIndex::open(folder.path()).unwrap();
    assert_eq!(index.event_count(), 0);
    assert!(!folder.path().join("00000009.seg.tmp42").exists());
    assert!(!folder.path().join("00000009.seg").exists());
}

#[test]
fn schema_lists_hosts_and_sourcetypes() {
    let evidence = evidence_dir();
    let mut index = EvidenceIndex::in_memory();
    index.ingest_path(evidence.path()).unwrap();
    let schema = index.schema();
    assert_eq!(schema.event_count, 6);
    assert_eq!(schema.hosts, vec!["db01", "web01", "web02", "web03"]);
    assert_eq!(schema.indexes, vec!["main"]);
    let names: Vec<(&str, u64)> = schema
        .sourcetypes
        .iter()
        .map(|s| (s.sourcetype.as_str(), s.event_count))
        .collect();
    assert_eq!(names, vec![("access_combined", 2), ("linux_secure", 3), ("syslog", 1)]);
    let secure = &schema.sourcetypes[1];
    assert!(secure.fields.iter().any(|f| f == "src_ip"), "{:?}", secure.fields);
    // 2023-12-10T06:55:46Z and 06:55:47Z as epoch microseconds.
    let (earliest, latest) = schema.time_range.unwrap();
    assert_eq!(earliest, 1_702_191_346_000_000);
    assert!(latest >= earliest);
}
