use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::*;
use crate::event::Value;

const OPENSSH_2K: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/real/syslog/OpenSSH_2k.log"
);

fn field<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    event.fields.get(name).and_then(Value::first)
}

/// 2024-01-01T00:00:00Z.
fn new_year_2024() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

#[test]
fn ingest_path_missing_is_not_found() {
    let mut store = EvidenceStore::new();
    let err = store
        .ingest_path(Path::new("/no/such/evidence.log"))
        .unwrap_err();
    assert!(matches!(err, EvidenceError::NotFound { .. }));
    assert!(err.to_string().contains("/no/such/evidence.log"));
}

#[test]
fn folder_skips_unknown_and_reads_rest() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("nested")).unwrap();
    fs::write(
        dir.path().join("a.log"),
        "Dec 10 06:55:46 h1 sshd[1]: Connection closed by 1.2.3.4\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("nested/b.json"),
        "{\"_time\":1,\"_raw\":\"x\"}\nnot json\n",
    )
    .unwrap();
    fs::write(dir.path().join("c.bin"), [0u8, 159, 146, 150, 1, 2]).unwrap();
    fs::write(dir.path().join("d.txt"), "").unwrap();

    let mut store = EvidenceStore::new();
    let summary = store.ingest_path(dir.path()).unwrap();
    assert_eq!(summary.files_read, 2);
    assert_eq!(summary.events, 2);
    assert_eq!(summary.lines_skipped, 1);
    let skipped: Vec<_> = summary
        .skipped
        .iter()
        .map(|s| s.path.file_name().unwrap())
        .collect();
    assert_eq!(skipped, vec!["c.bin", "d.txt"]);
    assert!(summary.skipped[0]
        .reason
        .contains("no recognised log format"));
    assert_eq!(store.events().len(), 2);
}

#[test]
fn lookup_table_skipped_as_a_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("intel.csv"), "ip,label\n10.0.0.5,scanner\n").unwrap();
    let mut store = EvidenceStore::new();
    let summary = store.ingest_path(dir.path()).unwrap();
    assert_eq!(summary.events, 0);
    assert_eq!(summary.skipped.len(), 1);
    let reason = &summary.skipped[0].reason;
    assert!(reason.starts_with("a CSV table, not a log"), "{reason}");
    assert!(reason.contains("`| lookup`"), "{reason}");
}

#[test]
fn events_newest_first_ties_in_file_order() {
    let mut store = EvidenceStore::new();
    let text = concat!(
        "{\"_time\": 10, \"_raw\": \"first at 10\"}\n",
        "{\"_time\": 30, \"_raw\": \"at 30\"}\n",
        "{\"_time\": 10, \"_raw\": \"second at 10\"}\n",
    );
    store.ingest_bytes("a.json", text.as_bytes(), None);
    store.ingest_bytes(
        "b.json",
        b"{\"_time\": 10, \"_raw\": \"third at 10\"}\n",
        None,
    );
    let raws: Vec<&str> = store.events().iter().map(|e| e.raw.as_str()).collect();
    assert_eq!(
        raws,
        vec!["at 30", "first at 10", "second at 10", "third at 10"]
    );
}

#[test]
fn ordered_file_ties_keep_file_order() {
    let mut store = EvidenceStore::new();
    let text = "{\"_time\":1,\"_raw\":\"a\"}\n{\"_time\":2,\"_raw\":\"b\"}\n\
                {\"_time\":2,\"_raw\":\"c\"}\n{\"_time\":3,\"_raw\":\"d\"}\n";
    store.ingest_bytes("a.json", text.as_bytes(), None);
    store.ingest_bytes("b.json", b"{\"_time\":2,\"_raw\":\"e\"}\n", None);
    let raws: Vec<&str> = store.events().iter().map(|e| e.raw.as_str()).collect();
    assert_eq!(raws, vec!["d", "b", "c", "e", "a"]);
}

#[test]
fn ingest_reader_reads_syslog() {
    let mut store = EvidenceStore::new();
    let text = "Jan  1 23:00:00 web1 sudo: bob : TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh\n";
    let summary = store
        .ingest_reader("auth.log", text.as_bytes(), Some(new_year_2024()))
        .unwrap();
    assert_eq!(summary.events, 1);
    let event = &store.events()[0];
    // 2024-01-01T23:00:00Z, within a day after the modification time.
    assert_eq!(event.time, 1_704_150_000_000_000);
    assert_eq!(field(event, "user"), Some("bob"));
    assert_eq!(field(event, "command"), Some("/bin/sh"));
    assert_eq!(field(event, "run_as"), Some("root"));
}

#[test]
fn syslog_more_than_day_ahead_is_last_year() {
    let mut store = EvidenceStore::new();
    let text = "Jan  2 03:04:05 web1 kernel: eth0 link up\n";
    store.ingest_bytes("kern.log", text.as_bytes(), Some(new_year_2024()));
    // 2023-01-02T03:04:05Z: in 2024 the line would be 27 hours after the file was written.
    assert_eq!(store.events()[0].time, 1_672_628_645_000_000);
}

#[test]
fn json_events_get_extraction() {
    let mut store = EvidenceStore::new();
    let line =
        "{\"_time\":1,\"sourcetype\":\"linux_secure\",\"_raw\":\"Dec 10 06:55:46 h sshd[9]: \
                Failed password for root from 9.9.9.9 port 22 ssh2\",\"user\":\"fromjson\"}\n";
    store.ingest_bytes("x.json", line.as_bytes(), None);
    let event = &store.events()[0];
    assert_eq!(field(event, "src_ip"), Some("9.9.9.9"));
    assert_eq!(field(event, "action"), Some("failure"));
    assert_eq!(field(event, "user"), Some("fromjson"));
}

fn load_openssh() -> Option<EvidenceStore> {
    let path = Path::new(OPENSSH_2K);
    if !path.exists() {
        eprintln!("skipping: {OPENSSH_2K} is absent");
        return None;
    }
    let mut store = EvidenceStore::new();
    store.ingest_path(path).unwrap();
    Some(store)
}

#[test]
fn openssh_every_line_is_an_event() {
    let Some(store) = load_openssh() else { return };
    // `wc -l` prints 1999 because the last line has no newline: 2,000 lines.
    assert_eq!(store.events().len(), 2000);
}

#[test]
fn openssh_host_is_labsz() {
    let Some(store) = load_openssh() else { return };
    assert!(store.events().iter().all(|e| e.host == "LabSZ"));
    assert!(store
        .events()
        .iter()
        .all(|e| e.sourcetype == "linux_secure"));
}

#[test]
fn openssh_failed_password_count_for_ip() {
    let Some(store) = load_openssh() else { return };
    // grep "Failed password" OpenSSH_2k.log | grep -c 183.62.140.253 prints 286.
    let count = store
        .events()
        .iter()
        .filter(|e| field(e, "action") == Some("failure"))
        .filter(|e| field(e, "src_ip") == Some("183.62.140.253"))
        .filter(|e| e.raw.contains("Failed password"))
        .count();
    assert_eq!(count, 286);
}

#[test]
fn openssh_all_failed_passwords_have_source() {
    let Some(store) = load_openssh() else { return };
    // grep -c "Failed password" prints 520.
    let failed: Vec<&Event> = store
        .events()
        .iter()
        .filter(|e| e.raw.contains("Failed password"))
        .collect();
    assert_eq!(failed.len(), 520);
    assert!(failed.iter().all(|e| field(e, "action") == Some("failure")));
    assert!(failed.iter().all(|e| field(e, "src_ip").is_some()));
}

#[test]
fn openssh_hostname_rhost_is_src_host() {
    let Some(store) = load_openssh() else { return };
    // grep -c "rhost=ec2-52-80-34-196" OpenSSH_2k.log prints 5.
    let named: Vec<&Event> = store
        .events()
        .iter()
        .filter(|e| {
            field(e, "src_host") == Some("ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn")
        })
        .collect();
    assert_eq!(named.len(), 5);
    assert!(named.iter().all(|e| field(e, "src_ip").is_none()));
}

#[test]
fn openssh_accepted_login_fields() {
    let Some(store) = load_openssh() else { return };
    let accepted: Vec<&Event> = store
        .events()
        .iter()
        .filter(|e| field(e, "action") == Some("success"))
        .collect();
    assert_eq!(accepted.len(), 1);
    let event = accepted[0];
    assert_eq!(field(event, "user"), Some("fztu"));
    assert_eq!(field(event, "src_ip"), Some("119.137.62.142"));
    assert_eq!(field(event, "src_port"), Some("49116"));
    assert_eq!(field(event, "auth_method"), Some("password"));
    assert_eq!(field(event, "pid"), Some("24680"));
    assert_eq!(field(event, "app"), Some("sshd"));
}

#[test]
fn openssh_times_are_newest_first() {
    let Some(store) = load_openssh() else { return };
    let events = store.events();
    assert!(events.windows(2).all(|pair| pair[0].time >= pair[1].time));
    // The newest line is `Dec 10 11:04:45`; the oldest is `Dec 10 06:55:46`.
    let newest = chrono::DateTime::from_timestamp_micros(events[0].time).unwrap();
    assert_eq!(
        newest.format("%m-%d %H:%M:%S").to_string(),
        "12-10 11:04:45"
    );
    let oldest = chrono::DateTime::from_timestamp_micros(events[1999].time).unwrap();
    assert_eq!(
        oldest.format("%m-%d %H:%M:%S").to_string(),
        "12-10 06:55:46"
    );
}

#[test]
fn single_unknown_file_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    fs::write(&path, "shopping list\nmilk\n").unwrap();
    let mut store = EvidenceStore::new();
    let summary = store.ingest_path(&path).unwrap();
    assert_eq!(summary.files_read, 0);
    assert_eq!(summary.skipped.len(), 1);
    assert_eq!(summary.skipped[0].path, path);
}

#[test]
fn invalid_utf8_line_still_ingested() {
    let mut store = EvidenceStore::new();
    let bytes = b"Dec 10 06:55:46 h1 sshd[1]: Invalid user \xff\xfe from 1.2.3.4\r\n";
    let summary = store.ingest_bytes("auth.log", bytes, Some(new_year_2024()));
    assert_eq!(summary.events, 1);
    let event = &store.events()[0];
    assert_eq!(field(event, "src_ip"), Some("1.2.3.4"));
    assert_eq!(field(event, "user"), Some("\u{fffd}\u{fffd}"));
    assert!(!event.raw.ends_with('\r'));
}

#[test]
fn csv_header_only_is_skipped() {
    let mut store = EvidenceStore::new();
    let summary = store.ingest_bytes("export.csv", b"_time,host,_raw\n", None);
    assert_eq!(summary.files_read, 0);
    assert_eq!(summary.skipped.len(), 1);
    assert_eq!(summary.skipped[0].path, Path::new("export.csv"));
    assert!(summary.skipped[0]
        .reason
        .starts_with("no readable splunk csv rows"));
}

#[test]
fn unreadable_parts_name_each_kind() {
    let summary = IngestSummary {
        lines_skipped: 1,
        rows_skipped: 2,
        records_skipped: 34,
        ..IngestSummary::default()
    };
    let parts = summary.unreadable_parts();
    assert_eq!(parts, vec!["1 line", "2 CSV rows", "34 EVTX records"]);
    assert!(IngestSummary::default().unreadable_parts().is_empty());
}

#[test]
fn malformed_json_line_counts_as_line() {
    let mut store = EvidenceStore::new();
    let text = b"{\"_time\": 1, \"_raw\": \"a\"}\nnot json\n";
    let summary = store.ingest_bytes("a.json", text, None);
    assert_eq!(summary.lines_skipped, 1);
    assert_eq!(summary.records_skipped, 0);
    assert_eq!(summary.rows_skipped, 0);
}

#[test]
fn folder_skips_documentation_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let line = "Dec 10 06:55:46 h1 sshd[1]: Connection closed by 1.2.3.4\n";
    fs::write(dir.path().join("auth.log"), line).unwrap();
    for name in ["README.md", "README", "LICENSE", "notice.txt", "notes.markdown", "CHANGES.MD"] {
        fs::write(dir.path().join(name), "# Demo evidence\n\nNot a log.\n").unwrap();
    }

    let mut store = EvidenceStore::new();
    let summary = store.ingest_path(dir.path()).unwrap();
    assert_eq!(summary.files_read, 1);
    assert_eq!(summary.events, 1);
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
}

#[test]
fn documentation_names_matched() {
    for name in ["README.md", "readme.txt", "LICENSE", "NOTICE", "guide.Md", "a/b/README"] {
        assert!(is_documentation_file(Path::new(name)), "{name}");
    }
    for name in ["auth.log", "notice.log", "license.csv", "readme.json", "md", "mdfile.log"] {
        assert!(!is_documentation_file(Path::new(name)), "{name}");
    }
}

#[test]
fn single_readme_file_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("README.md");
    fs::write(&path, "Dec 10 06:55:46 h1 sshd[1]: Connection closed by 1.2.3.4\n").unwrap();
    let summary = EvidenceStore::new().ingest_path(&path).unwrap();
    assert_eq!(summary.events, 1, "a file named on its own is read whatever its name");
}
