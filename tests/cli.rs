//! The `argus` command line, run as a user would run it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn argus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_argus"))
}

#[test]
fn demo_writes_three_reports() {
    let out = tempfile::tempdir().unwrap();
    let output = argus().args(["investigate", "--out"]).arg(out.path()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let stdout = String::from_utf8(output.stdout).unwrap();
    for name in ["report.json", "report.md", "report.pdf"] {
        let path = out.path().join(name);
        assert!(stdout.contains(path.to_str().unwrap()), "{stdout}");
        assert!(path.metadata().unwrap().len() > 0, "{name} is empty");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["severity"]["level"], "CRITICAL");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("fetch_alert_data"), "progress lines missing: {stderr}");
}

#[test]
fn evidence_without_alert_rejected() {
    let output = argus().args(["investigate", "--evidence", "."]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--evidence needs --alert"), "{stderr}");
}

#[test]
fn out_pointing_at_file_rejected_early() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let output = argus().args(["investigate", "--out"]).arg(file.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("is a file; give a folder"), "{stderr}");
    assert!(!stderr.contains("fetch_alert_data"), "investigation ran before the check: {stderr}");
}

#[test]
fn folder_at_report_name_rejected_early() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir(out.path().join("report.pdf")).unwrap();
    let output = argus().args(["investigate", "--out"]).arg(out.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("holds a folder named report.pdf"), "{stderr}");
    assert!(!stderr.contains("fetch_alert_data"), "investigation ran before the check: {stderr}");
    // With formats that leave the PDF out, the folder is in no one's way.
    let output = argus()
        .args(["investigate", "--format", "json", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn malformed_alert_named() {
    let dir = tempfile::tempdir().unwrap();
    let alert = dir.path().join("alert.json");
    std::fs::write(&alert, "{\"sid\": ").unwrap();
    let output = argus().args(["investigate", "--alert"]).arg(&alert).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("alert.json"), "{stderr}");
    assert!(stderr.contains("not valid JSON"), "{stderr}");
}

#[test]
fn unsupported_spl_names_command() {
    let output = argus().args(["search", "sourcetype=linux_secure | eventstats count"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("eventstats"), "{stderr}");
}

/// Writes the first 30,000 bytes of a real EVTX file into `dir`: the file
/// header and part of the first chunk, so no record is complete. Returns
/// `None` with the reason printed when the real data is absent.
fn truncated_evtx(dir: &Path) -> Option<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/real/evtx/Command and Control/bits_openvpn.evtx");
    if !source.exists() {
        eprintln!("skipped: {} is absent", source.display());
        return None;
    }
    let bytes = std::fs::read(&source).unwrap();
    let truncated = dir.join("truncated.evtx");
    std::fs::write(&truncated, &bytes[..30_000]).unwrap();
    Some(truncated)
}

#[test]
fn truncated_evtx_named_in_report() {
    let evidence = tempfile::tempdir().unwrap();
    let Some(truncated) = truncated_evtx(evidence.path()) else { return };
    let demo_log = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/evidence/gacrux/secure.log");
    std::fs::copy(demo_log, evidence.path().join("secure.log")).unwrap();

    let out = tempfile::tempdir().unwrap();
    let output = argus()
        .args(["investigate", "--demo", "ssh_brute_force", "--format", "json", "--evidence"])
        .arg(evidence.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    let reason = "no readable EVTX records; the file may be truncated or damaged";
    let console_line = format!("skipped {}: {reason}", truncated.display());
    assert!(stderr.contains(&console_line), "{stderr}");
    assert!(stderr.contains("from 1 file (1 file skipped)"), "{stderr}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let notices = report["notices"].to_string();
    assert!(notices.contains(truncated.to_str().unwrap()), "{notices}");
    assert!(notices.contains(reason), "{notices}");
}

/// Copies the demo SSH log into a new folder and returns the folder and the
/// number of non-empty lines in the log, one event each.
fn demo_ssh_log() -> (tempfile::TempDir, usize) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/evidence/gacrux/secure.log");
    let text = std::fs::read_to_string(&source).unwrap();
    let lines = text.lines().filter(|line| !line.trim().is_empty()).count();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secure.log"), text).unwrap();
    (dir, lines)
}

/// Runs `argus search --index DIR` with a query that counts every event.
fn count_in_index(dir: &Path) -> std::process::Output {
    let query = "index=main | stats count";
    argus().args(["search", "--index"]).arg(dir).arg(query).output().unwrap()
}

#[test]
fn search_index_alone_reads_index() {
    let (evidence, lines) = demo_ssh_log();
    let index = tempfile::tempdir().unwrap();
    let ingest = argus()
        .args(["search", "--evidence"])
        .arg(evidence.path())
        .arg("--index")
        .arg(index.path())
        .arg("index=main | stats count")
        .output()
        .unwrap();
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));

    let output = count_in_index(index.path());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.trim(), format!("{{\"count\":\"{lines}\"}}"));
    assert!(stderr.contains("events from 1 file"), "{stderr}");
}

#[test]
fn search_missing_index_rejected() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("no-index");
    let output = count_in_index(&missing);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let message = format!("index folder {} does not exist", missing.display());
    assert!(stderr.contains(&message), "{stderr}");
    assert!(stderr.contains("--evidence PATH --index"), "{stderr}");
    assert!(!missing.exists(), "the check created the folder");
}

#[test]
fn search_empty_index_rejected() {
    let empty = tempfile::tempdir().unwrap();
    let output = count_in_index(empty.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let message = format!("index folder {} contains no events", empty.path().display());
    assert!(stderr.contains(&message), "{stderr}");
    assert!(stderr.contains("--evidence PATH --index"), "{stderr}");
}

#[test]
fn investigate_index_alone_reads_index() {
    let (evidence, _) = demo_ssh_log();
    let index = tempfile::tempdir().unwrap();
    let ingest = argus()
        .args(["search", "--evidence"])
        .arg(evidence.path())
        .arg("--index")
        .arg(index.path())
        .arg("index=main | stats count")
        .output()
        .unwrap();
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));

    let out = tempfile::tempdir().unwrap();
    let output = argus()
        .args(["investigate", "--demo", "ssh_brute_force", "--format", "json", "--index"])
        .arg(index.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("events from 1 file"), "{stderr}");
    assert!(out.path().join("report.json").exists());
}

#[test]
fn index_without_alert_rejected() {
    let index = tempfile::tempdir().unwrap();
    let output = argus().args(["investigate", "--index"]).arg(index.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--index needs --alert"), "{stderr}");
}

#[test]
fn index_console_names_skipped_file() {
    let (evidence, _) = demo_ssh_log();
    let Some(truncated) = truncated_evtx(evidence.path()) else { return };
    let index = tempfile::tempdir().unwrap();
    let output = argus()
        .args(["search", "--evidence"])
        .arg(evidence.path())
        .arg("--index")
        .arg(index.path())
        .arg("index=main | stats count")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    let reason = "no readable EVTX records; the file may be truncated or damaged";
    assert!(stderr.contains(&format!("skipped {}: {reason}", truncated.display())), "{stderr}");
    assert!(stderr.contains("from 1 file (0 files unchanged, 1 file skipped)"), "{stderr}");
    // One row: the count.
    assert!(stderr.lines().any(|line| line == "1 row"), "{stderr}");
}

/// Runs `argus` in a temporary folder with Splunk settings that point at a
/// closed loopback port, so a check that comes too late reaches no real server
/// and writes no reports into the source tree.
fn argus_with_closed_splunk(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    argus()
        .current_dir(dir.path())
        .args(args)
        .env("SPLUNK_HOST", "127.0.0.1")
        .env("SPLUNK_PORT", "9")
        .env("SPLUNK_TOKEN", "t")
        .env("SPLUNK_RETRIES", "0")
        .output()
        .unwrap()
}

#[test]
fn splunk_backend_rejects_local_options() {
    let alert = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/alerts/ssh_brute_force.json");
    let cases: [(&[&str], &str); 4] = [
        (&["investigate", "--backend", "splunk", "--alert", alert, "--evidence", "."], "--evidence"),
        (&["investigate", "--backend", "splunk", "--index", "idx"], "--index"),
        (&["search", "--backend", "splunk", "--evidence", ".", "sshd"], "--evidence"),
        (&["search", "--backend", "splunk", "--evidence", ".", "--index", "idx", "sshd"], "--evidence and --index"),
    ];
    for (args, named) in cases {
        let output = argus_with_closed_splunk(args);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        let expected = format!("argus: {named} cannot be used with --backend splunk");
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
        assert!(stderr.contains("searches Splunk's indexes"), "{args:?}: {stderr}");
        assert!(stderr.contains("go with --backend local"), "{args:?}: {stderr}");
        assert!(!stderr.contains("cannot reach"), "{args:?} contacted Splunk: {stderr}");
    }
}
