//! Documentation files in an evidence folder are skipped quietly, by the in-memory store and
//! by the persistent index alike.

use std::fs;

use argus::index::EvidenceIndex;

const LINE: &str = "Dec 10 06:55:46 h1 sshd[1]: Connection closed by 1.2.3.4\n";

#[test]
fn index_skips_documentation_files() {
    let evidence = tempfile::tempdir().unwrap();
    fs::write(evidence.path().join("auth.log"), LINE).unwrap();
    fs::write(evidence.path().join("README.md"), "# Demo evidence\n").unwrap();
    fs::write(evidence.path().join("LICENSE"), "CC BY 4.0\n").unwrap();

    let index_dir = tempfile::tempdir().unwrap();
    let mut index = EvidenceIndex::open(index_dir.path()).unwrap();
    let summary = index.ingest_path(evidence.path()).unwrap();
    assert_eq!(summary.files_read, 1);
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
    assert_eq!(index.event_count(), 1);
    assert_eq!(index.files().count(), 1);
}

#[test]
fn search_demo_evidence_no_readme_warning() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/evidence");
    assert!(std::path::Path::new(demo).join("README.md").exists(), "the demo folder has a README");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(["search", "--evidence", demo, "sshd | head 1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("README"), "{stderr}");
}
