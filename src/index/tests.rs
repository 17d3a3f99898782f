use std::io::Write;
use std::path::Path;

use super::builder::SegmentBuilder;
use super::postings::{Posting, PostingsBuilder};
use super::*;
use crate::event::Value;
use crate::evidence::{parse_file, EvidenceStore};
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
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    assert_eq!(index.event_count(), 0);
    // Opening leaves them, as they may belong to an ingest still running.
    assert!(folder.path().join("00000009.seg").exists());
    let evidence = evidence_dir();
    index.ingest_path(evidence.path()).unwrap();
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

/// Parses `path` into events as the in-memory store does and into a segment
/// as the index does, and checks that the segment contains the same events:
/// record text, time, default fields and the tokens of `_raw`.
fn assert_segment_matches_events(path: &Path) {
    let bytes = fs::read(path).unwrap();
    let modified = fs::metadata(path).unwrap().modified().ok();
    let source = path.to_string_lossy();
    let Ok(parsed) = parse_file(&source, &bytes, modified) else {
        return;
    };
    let mut builder = SegmentBuilder::default();
    let read = parse_file_into(&source, bytes, modified, &mut builder).unwrap();
    assert_eq!(read.format, parsed.format, "{source}");
    assert_eq!(read.skipped, parsed.skipped, "{source}");
    assert_eq!(read.csv_header, parsed.csv_header, "{source}");
    let entry = FileEntry { path: source.to_string(), size: 0, modified_nanos: 0, sha256: [0; 32] };
    let segment = builder.finish(entry, read);
    assert_eq!(segment.len(), parsed.events.len(), "{source}");

    let mut expected_postings = PostingsBuilder::default();
    let mut start = 0;
    for (number, (event, span)) in parsed.events.iter().zip(&parsed.spans).enumerate() {
        let end = segment.ends[number] as usize;
        assert_eq!(&segment.text[start..end], &parsed.text[span.clone()], "{source} #{number}");
        start = end;
        assert_eq!(segment.times[number], event.time, "{source} #{number}");
        let defaults = segment.defaults_of(number as u32);
        assert_eq!(defaults.host, event.host, "{source} #{number}");
        assert_eq!(defaults.source, event.source, "{source} #{number}");
        assert_eq!(defaults.sourcetype, event.sourcetype, "{source} #{number}");
        assert_eq!(defaults.index, event.index, "{source} #{number}");
        expected_postings.add_event(number as u32, &event.raw);
    }
    let expected = expected_postings.finish();
    assert_eq!(segment.postings.lists.len(), expected.lists.len(), "{source}");
    for (token, posting) in &expected.lists {
        let found = segment.postings.get(token).map(Posting::events);
        assert_eq!(found, Some(posting.events()), "{source} token {token}");
    }
}

fn assert_folder_matches_events(folder: &Path) -> usize {
    let mut files = 0;
    for entry in walkdir::WalkDir::new(folder).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            assert_segment_matches_events(entry.path());
            files += 1;
        }
    }
    files
}

#[test]
fn segment_matches_events_on_demo_evidence() {
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/evidence"));
    assert!(assert_folder_matches_events(folder) >= 6);
}

#[test]
fn segment_matches_events_on_real_data() {
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/real"));
    if !folder.exists() {
        eprintln!("skipped: {} is absent", folder.display());
        return;
    }
    // OpenSSH_2k.log, 16 EVTX files and two licence texts, which parse as no format.
    assert!(assert_folder_matches_events(folder) >= 17);
}

#[test]
fn segment_matches_events_on_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let json = concat!(
        "{\"preview\":false,\"result\":{\"_time\":\"5\",\"_raw\":\"Wrapped LINE\",\"extra\":1}}\n",
        "{\"preview\":false,\"messages\":[{\"type\":\"INFO\"}]}\n",
        "{\"result\":{\"_raw\":\"result first\",\"host\":\"h9\"},\"preview\":false}\n",
        "{\"@timestamp\":\"2023-12-10T06:55:46Z\",\"host\":{\"name\":\"ecs1\"},\"msg\":\"x\"}\n",
        "{\"h\\u006fst\":\"escaped key\",\"_raw\":\"esc \\\"quoted\\\" \\u00e9t\\u00e9\"}\n",
        "{\"host\":[\"first\",\"second\"],\"source\":null,\"index\":7,\"sourcetype\":\"\"}\n",
        "{\"host\":\"dup1\",\"host\":\"dup2\",\"skip\":{\"deep\":[1,{\"a\":null}]}}\n",
        "{\"_time\":1,\"bad\":tru}\n",
        "{\"preview\":false,\"result\":5}\n",
        "not json at all\n",
        "{\"_raw\":\"Kelvin \u{212A} ſ ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789abcdef\"}\n",
    );
    let syslog = concat!(
        "<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 [a b=\"c\"] 'su root' failed\n",
        "<34>1 - - sshd 12 - - no time or host\n",
        "2024-01-15T10:00:00+00:00 host1 sudo[5]: ISO line\n",
        "Dec 31 23:59:59 h1 kernel: before the rollover\n",
        "  continuation line\n",
        "Jan  1 00:00:01 h1 CRON[2]: after the rollover\r\n",
        "Feb 29 12:00:00 h2 app: leap day\n",
    );
    write(dir.path(), "edge.json", json);
    write(dir.path(), "edge.log", syslog);
    assert_eq!(assert_folder_matches_events(dir.path()), 2);
}

#[test]
fn other_segment_version_is_reingested() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    index.ingest_path(evidence.path()).unwrap();

    // Rewrite the first segment as version 2, with a valid checksum, as a
    // future format would write it.
    let segment = folder.path().join(&index.names[0]);
    let bytes = fs::read(&segment).unwrap();
    let content_len = bytes.len() - 4;
    let mut content = bytes[..content_len].to_vec();
    assert_eq!(content[SEGMENT_MAGIC.len()], 1, "version 1 is one varint byte");
    content[SEGMENT_MAGIC.len()] = 2;
    let checksum = crc32fast::hash(&content);
    content.extend_from_slice(&checksum.to_le_bytes());
    fs::write(&segment, content).unwrap();

    let mut reopened = EvidenceIndex::open(folder.path()).unwrap();
    assert_eq!(reopened.event_count(), 2, "only the JSON file's events remain");
    let again = reopened.ingest_path(evidence.path()).unwrap();
    assert_eq!(again.files_read, 1);
    assert_eq!(again.files_unchanged, 1);
    assert_eq!(reopened.event_count(), 6);
}

/// Names of the segment files in `folder`, sorted.
#[test]
fn deleted_file_is_dropped_from_the_index() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    index.ingest_path(evidence.path()).unwrap();
    assert_eq!(index.event_count(), 6);

    let web = evidence.path().join("web.json");
    fs::remove_file(&web).unwrap();
    let again = index.ingest_path(evidence.path()).unwrap();
    assert_eq!(again.files_removed, vec![web]);
    assert_eq!(again.files_unchanged, 1);
    // auth.log holds the 4 syslog lines; the 2 JSON events are gone.
    assert_eq!(index.event_count(), 4);
    let rows = index.search(&spl::parse("search bob").unwrap(), 0).unwrap();
    assert!(rows.is_empty(), "{rows:?}");

    let reopened = EvidenceIndex::open(folder.path()).unwrap();
    assert_eq!(reopened.event_count(), 4);
    assert_eq!(segment_files(folder.path()), vec!["00000000.seg"]);
}

#[test]
fn file_turned_unreadable_is_dropped_from_the_index() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    index.ingest_path(evidence.path()).unwrap();

    // web.json becomes binary junk that no parser accepts.
    let web = write(evidence.path(), "web.json", "\u{1}\u{2}\u{3} not a log \u{0}\n");
    let again = index.ingest_path(evidence.path()).unwrap();
    assert_eq!(again.skipped.len(), 1);
    assert_eq!(again.files_removed, vec![web]);
    assert_eq!(index.event_count(), 4);
    let rows = index.search(&spl::parse("search bob").unwrap(), 0).unwrap();
    assert!(rows.is_empty(), "{rows:?}");
    assert_eq!(EvidenceIndex::open(folder.path()).unwrap().event_count(), 4);
}

#[test]
fn failed_table_copy_keeps_the_ingest() {
    let evidence = evidence_dir();
    write(evidence.path(), "intel.csv", "ip,label\n10.0.0.5,scanner\n");
    let folder = tempfile::tempdir().unwrap();
    // A file where the lookup folder goes makes copying the table fail.
    write(folder.path(), "lookups", "in the way");
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    let summary = index.ingest_path(evidence.path()).unwrap();
    assert_eq!(summary.events, 6);
    let copy_failures: Vec<_> = summary
        .skipped
        .iter()
        .filter(|s| s.reason.starts_with("lookup tables were not copied"))
        .collect();
    assert_eq!(copy_failures.len(), 1, "{:?}", summary.skipped);
    assert_eq!(copy_failures[0].path, evidence.path());
    assert_eq!(EvidenceIndex::open(folder.path()).unwrap().event_count(), 6);
}

#[test]
fn file_outside_the_ingested_folder_is_kept() {
    let first = evidence_dir();
    let second = tempfile::tempdir().unwrap();
    let other = write(second.path(), "other.log", SYSLOG);
    let mut index = EvidenceIndex::in_memory();
    index.ingest_path(&other).unwrap();
    index.ingest_path(first.path()).unwrap();
    fs::remove_file(&other).unwrap();

    let again = index.ingest_path(first.path()).unwrap();
    assert!(again.files_removed.is_empty());
    assert_eq!(index.event_count(), 10);
}

fn segment_files(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".seg"))
        .collect();
    names.sort();
    names
}

#[test]
fn folder_ingest_writes_manifest_once() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    let summary = index.ingest_path(evidence.path()).unwrap();
    assert_eq!(summary.files_read, 2);
    assert_eq!(segment_files(folder.path()), vec!["00000000.seg", "00000001.seg"]);

    let bytes = fs::read(folder.path().join(MANIFEST_NAME)).unwrap();
    let mut next_id = 0;
    let names = read_manifest(&bytes, Path::new("manifest"), &mut next_id).unwrap();
    assert_eq!(names, vec!["00000000.seg", "00000001.seg"]);
    assert_eq!(next_id, 2);
}

#[test]
fn interruption_before_manifest_keeps_old_state() {
    let evidence = evidence_dir();
    let folder = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    index.ingest_path(evidence.path()).unwrap();
    let manifest_before = fs::read(folder.path().join(MANIFEST_NAME)).unwrap();

    // A changed file and a new one, so the next ingest writes two segment
    // files. A folder at the manifest's temporary name makes the manifest
    // write fail after both segment files are written and synced, as a
    // crash at that point would.
    let extra = "Dec 10 07:00:00 web09 sshd[1]: Failed password for eve from 10.0.0.8 port 1\n";
    write(evidence.path(), "auth.log", &format!("{SYSLOG}{extra}"));
    write(evidence.path(), "more.log", extra);
    let blocker = folder.path().join(format!("{MANIFEST_NAME}.tmp{}", std::process::id()));
    fs::create_dir(&blocker).unwrap();
    let error = index.ingest_path(evidence.path()).err().expect("manifest write fails");
    assert!(error.to_string().contains("manifest.tmp"), "{error}");

    assert_eq!(index.event_count(), 6, "the index in memory keeps its previous events");
    assert_eq!(segment_files(folder.path()), vec!["00000000.seg", "00000001.seg"]);
    let manifest_after = fs::read(folder.path().join(MANIFEST_NAME)).unwrap();
    assert_eq!(manifest_before, manifest_after);

    // A crash leaves the new segment files behind; the manifest does not
    // name them, so opening ignores them and the next ingest deletes them.
    fs::remove_dir(&blocker).unwrap();
    write(folder.path(), "00000002.seg", "left by a crash");
    write(folder.path(), "00000009.seg", "left by a crash");
    drop(index);
    let mut reopened = EvidenceIndex::open(folder.path()).unwrap();
    assert_eq!(reopened.event_count(), 6);

    let again = reopened.ingest_path(evidence.path()).unwrap();
    assert_eq!(again.files_read, 2);
    assert_eq!(again.files_unchanged, 1);
    assert_eq!(reopened.event_count(), 8);
    assert!(!folder.path().join("00000009.seg").exists());
    assert_eq!(EvidenceIndex::open(folder.path()).unwrap().event_count(), 8);
}

#[test]
fn failed_segment_write_removes_new_files() {
    let evidence = evidence_dir();
    write(evidence.path(), "zz.log", "Dec 10 07:00:00 web09 sshd[1]: last file\n");
    let folder = tempfile::tempdir().unwrap();
    // A folder under the third segment's name makes that segment's write
    // fail after the first two are written.
    fs::create_dir(folder.path().join("00000002.seg")).unwrap();
    let mut index = EvidenceIndex::open(folder.path()).unwrap();
    let error = index.ingest_path(evidence.path()).err().expect("segment write fails");
    assert!(error.to_string().contains("00000002.seg"), "{error}");

    assert_eq!(index.event_count(), 0);
    assert!(!folder.path().join("00000000.seg").exists());
    assert!(!folder.path().join("00000001.seg").exists());
    assert!(!folder.path().join(MANIFEST_NAME).exists());
    assert_eq!(EvidenceIndex::open(folder.path()).unwrap().event_count(), 0);
}
