//! `| lookup` over a persistent index: the CSV tables of an ingested folder
//! are kept in the index, and a search returns the same rows as over the
//! in-memory store, through the library and through `argus search`.

use std::fs;
use std::path::Path;
use std::process::Command;

use argus::event::{Row, Value};
use argus::evidence::EvidenceStore;
use argus::index::EvidenceIndex;
use argus::search::local::LocalBackend;

/// Five events, oldest first. Only the four with `action=login` match the
/// queries below.
const EVENTS: &str = r#"{"_time":"2024-03-01T10:00:00Z","host":"web1","_raw":"login user=alice","action":"login","user":"alice","src":"10.0.0.5"}
{"_time":"2024-03-01T10:01:00Z","host":"web1","_raw":"login user=bob","action":"login","user":"bob","src":"10.0.0.9"}
{"_time":"2024-03-01T10:02:00Z","host":"web2","_raw":"login user=carol","action":"login","user":"carol","src":"192.168.1.1"}
{"_time":"2024-03-01T10:03:00Z","host":"web2","_raw":"login user=dave","action":"login","user":"dave","src":"10.0.0.7"}
{"_time":"2024-03-01T10:04:00Z","host":"db1","_raw":"backup done","action":"backup"}
"#;

/// Two rows for 10.0.0.7 (so its outputs are multivalue), an empty actor
/// for 10.0.0.9, a quoted value with a comma, and no row for 192.168.1.1.
const INTEL: &str = "ip,reputation,actor\n\
10.0.0.5,malicious,\"APT-X, group\"\n\
10.0.0.9,benign,\n\
10.0.0.7,suspicious,crew1\n\
10.0.0.7,malicious,crew2\n";

const ENRICH: &str = "search action=login | lookup intel ip AS src OUTPUT reputation actor \
                      | table user src reputation actor";
const COUNT: &str = "search action=login | lookup intel.csv ip AS src OUTPUT reputation \
                     | stats count by reputation";

/// Writes the evidence folder: events and the `intel.csv` table.
fn evidence_folder() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    fs::write(folder.path().join("events.jsonl"), EVENTS).unwrap();
    fs::write(folder.path().join("intel.csv"), INTEL).unwrap();
    folder
}

fn memory_backend(evidence: &Path) -> LocalBackend {
    let mut store = EvidenceStore::new();
    store.ingest_path(evidence).unwrap();
    LocalBackend::new(store, "memory").with_lookup_dir(evidence)
}

fn index_backend(evidence: &Path, index_dir: &Path) -> LocalBackend {
    let mut index = EvidenceIndex::open(index_dir).unwrap();
    index.ingest_path(evidence).unwrap();
    LocalBackend::with_index(index, "index")
}

fn rows(backend: &LocalBackend, query: &str) -> Vec<Row> {
    backend.search_blocking(query).unwrap().rows
}

fn single(text: &str) -> Value {
    Value::Single(text.to_string())
}

fn multi(values: &[&str]) -> Value {
    Value::Multi(values.iter().map(|v| v.to_string()).collect())
}

/// Checks the rows of `ENRICH`, worked out by hand from `EVENTS` and
/// `INTEL`: newest first, multivalue outputs for dave, no outputs for
/// carol, and bob's empty actor left out.
fn assert_enriched(rows: &[Row], backend: &str) {
    assert_eq!(rows.len(), 4, "{backend}: {rows:?}");
    let users: Vec<_> = rows.iter().map(|r| r.get("user").and_then(Value::first)).collect();
    assert_eq!(users, [Some("dave"), Some("carol"), Some("bob"), Some("alice")], "{backend}");

    let (dave, carol, bob, alice) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    assert_eq!(dave.get("reputation"), Some(&multi(&["suspicious", "malicious"])), "{backend}");
    assert_eq!(dave.get("actor"), Some(&multi(&["crew1", "crew2"])), "{backend}");
    assert_eq!(carol.get("src"), Some(&single("192.168.1.1")), "{backend}");
    assert!(carol.get("reputation").is_none_or(|v| v.first() == Some("")), "{backend}");
    assert_eq!(bob.get("reputation"), Some(&single("benign")), "{backend}");
    assert!(bob.get("actor").is_none_or(|v| v.first() == Some("")), "{backend}");
    assert_eq!(alice.get("reputation"), Some(&single("malicious")), "{backend}");
    assert_eq!(alice.get("actor"), Some(&single("APT-X, group")), "{backend}");
}

#[test]
fn lookup_enriches_over_memory() {
    let evidence = evidence_folder();
    let backend = memory_backend(evidence.path());
    assert_enriched(&rows(&backend, ENRICH), "memory");
}

#[test]
fn lookup_enriches_over_index() {
    let evidence = evidence_folder();
    let index_dir = tempfile::tempdir().unwrap();
    let backend = index_backend(evidence.path(), index_dir.path());
    assert_enriched(&rows(&backend, ENRICH), "index");
}

#[test]
fn lookup_counts_match_by_hand() {
    let evidence = evidence_folder();
    let index_dir = tempfile::tempdir().unwrap();
    let backends = [
        ("memory", memory_backend(evidence.path())),
        ("index", index_backend(evidence.path(), index_dir.path())),
    ];
    // alice and dave are malicious, dave is also suspicious, and bob is
    // benign. carol has no reputation and so no group.
    let expected = [("benign", "1"), ("malicious", "2"), ("suspicious", "1")];
    for (name, backend) in &backends {
        let rows = rows(backend, COUNT);
        assert_eq!(rows.len(), expected.len(), "{name}: {rows:?}");
        for (row, (reputation, count)) in rows.iter().zip(expected) {
            assert_eq!(row.get("reputation"), Some(&single(reputation)), "{name}");
            assert_eq!(row.get("count"), Some(&single(count)), "{name}");
        }
    }
}

#[test]
fn index_and_memory_rows_equal() {
    let evidence = evidence_folder();
    let index_dir = tempfile::tempdir().unwrap();
    let memory = memory_backend(evidence.path());
    let index = index_backend(evidence.path(), index_dir.path());
    let queries = [
        ENRICH,
        COUNT,
        "search action=login | lookup intel ip AS src OUTPUTNEW actor AS user",
        "search host=web* | lookup intel ip AS src | table _time user reputation actor",
    ];
    for query in queries {
        assert_eq!(rows(&memory, query), rows(&index, query), "{query}");
    }
}

#[test]
fn reopened_index_keeps_table() {
    let evidence = evidence_folder();
    let index_dir = tempfile::tempdir().unwrap();
    EvidenceIndex::open(index_dir.path()).unwrap().ingest_path(evidence.path()).unwrap();
    fs::remove_file(evidence.path().join("intel.csv")).unwrap();

    let index = EvidenceIndex::open(index_dir.path()).unwrap();
    let backend = LocalBackend::with_index(index, "index");
    assert_enriched(&rows(&backend, ENRICH), "reopened index");
}

#[test]
fn changed_table_is_read_again() {
    let evidence = evidence_folder();
    let index_dir = tempfile::tempdir().unwrap();
    let first = index_backend(evidence.path(), index_dir.path());
    let query = "search user=alice | lookup intel ip AS src OUTPUT reputation";
    let before = rows(&first, query);
    assert_eq!(before[0].get("reputation"), Some(&single("malicious")));

    fs::write(evidence.path().join("intel.csv"), "ip,reputation\n10.0.0.5,cleared\n").unwrap();
    let second = index_backend(evidence.path(), index_dir.path());
    let after = rows(&second, query);
    assert_eq!(after[0].get("reputation"), Some(&single("cleared")));
}

#[test]
fn missing_table_names_index_folder() {
    let evidence = evidence_folder();
    let index_dir = tempfile::tempdir().unwrap();
    let backend = index_backend(evidence.path(), index_dir.path());
    let error = backend.search_blocking("search action=login | lookup assets host").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("lookup table 'assets' not found"), "{message}");
    let lookups = index_dir.path().join("lookups");
    assert!(message.contains(&lookups.display().to_string()), "{message}");
}

#[test]
fn cli_search_over_index_reads_lookup() {
    let evidence = evidence_folder();
    let index_dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(["search", "--evidence"])
        .arg(evidence.path())
        .arg("--index")
        .arg(index_dir.path())
        .arg(ENRICH)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let stdout = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<Row> = stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_enriched(&rows, "cli");
    assert!(index_dir.path().join("lookups/intel.csv").is_file());
}
