//! The `argus` command line, run as a user would run it.

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
