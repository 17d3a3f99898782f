//! Alert files and webhook bodies saved with a leading UTF-8 byte order mark are read.

use std::process::Command;

use argus::listener::validate::{parse_alert, AlertLimits};

const BOM: &str = "\u{feff}";
const ALERT: &str = r#"{"sid":"scheduler_bom","search_name":"ssh brute force","result":{"host":"web01"}}"#;

#[test]
fn webhook_body_with_bom_parses() {
    let body = format!("{BOM}{ALERT}");
    let alert = parse_alert(body.as_bytes(), &AlertLimits::default()).unwrap();
    assert_eq!(alert.sid.as_deref(), Some("scheduler_bom"));
}

#[test]
fn cli_alert_file_with_bom_investigates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alert.json");
    std::fs::write(&path, format!("{BOM}{ALERT}")).unwrap();
    let evidence = dir.path().join("auth.log");
    std::fs::write(&evidence, "Dec 10 06:55:46 web01 sshd[1]: Failed password for root from 10.0.0.5 port 22 ssh2\n")
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(["investigate", "--format", "json", "--alert"])
        .arg(&path)
        .arg("--evidence")
        .arg(&evidence)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("not valid JSON"), "{stderr}");
    assert!(output.status.success(), "{stderr}");
    assert!(dir.path().join("out/report.json").exists(), "{stderr}");
}
