//! The five bundled demo alerts, checked against the story's ground truth.
//!
//! `demo/story.json` is written by `scripts/gen_demo.py` while it generates
//! the evidence, and the script recounts its files with plain string tests,
//! so every expected number here comes from outside the program under test.

mod common;

use std::sync::OnceLock;

use argus::analysis::{FindingCategory, SeverityLevel};
use argus::demo;
use argus::event::parse_splunk_time;
use argus::evidence::EvidenceStore;
use argus::report::Report;
use serde_json::Value;

use common::{findings, investigate, technique_ids};

fn story() -> &'static Value {
    static STORY: OnceLock<Value> = OnceLock::new();
    STORY.get_or_init(|| {
        let text = include_str!("../demo/story.json");
        serde_json::from_str(text).expect("story.json parses")
    })
}

fn run(name: &str) -> Report {
    let mut store = EvidenceStore::new();
    demo::ingest(&mut store);
    investigate(store, demo::alert_json(name).unwrap()).0
}

fn time(value: &Value) -> i64 {
    parse_splunk_time(value.as_str().unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn assert_techniques(report: &Report, expected: &[&str]) {
    let found = technique_ids(report);
    for id in expected {
        assert!(found.contains(id), "{id} missing from {found:?}");
    }
}

fn indicator<'a>(report: &'a Report, value: &str) -> &'a argus::analysis::IndicatorRecord {
    report
        .indicators
        .iter()
        .find(|i| i.value == value)
        .unwrap_or_else(|| panic!("indicator {value} missing from {:?}", report.indicators))
}

#[test]
fn ssh_brute_force_story() {
    let truth = &story()["ssh_brute_force"];
    let report = run("ssh_brute_force");

    let failed = findings(&report, FindingCategory::FailedAuthentication);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].count, truth["failed_password_count"].as_u64().unwrap());
    assert_eq!(failed[0].accounts, strings(&truth["accounts"]));
    assert_eq!(failed[0].first_seen, Some(time(&truth["first_seen"])));
    assert_eq!(failed[0].last_seen, Some(time(&truth["last_seen"])));

    let logins = findings(&report, FindingCategory::SuccessfulAuthentication);
    assert_eq!(logins.len(), 1, "{:#?}", report.findings);
    assert_eq!(logins[0].accounts, ["ec2-user"]);
    assert_eq!(logins[0].addresses, ["91.207.175.249"]);
    assert_eq!(logins[0].first_seen, Some(time(&truth["login"]["time"])));

    // The typed commands appear in the timeline in the order they were run.
    let commands = strings(&story()["post_compromise"]["command_lines"]);
    let mut positions = Vec::new();
    for command in &commands {
        let quoted = format!("ran \"{command}\"");
        let at = report.timeline.iter().position(|e| e.description.starts_with(&quoted));
        positions.push(at.unwrap_or_else(|| panic!("timeline lacks {quoted}")));
    }
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "commands out of order: {positions:?}");
    let login_at = report.timeline.iter().position(|e| e.description.starts_with("Successful login")).unwrap();
    let brute_at = report.timeline.iter().position(|e| e.description.contains("failed SSH")).unwrap();
    assert!(brute_at < login_at, "brute force at {brute_at}, login at {login_at}");
    assert!(login_at < positions[0], "login at {login_at}, first command at {}", positions[0]);

    let c2 = &story()["c2"];
    let outbound = findings(&report, FindingCategory::OutboundConnection);
    let port_4444 = outbound.iter().find(|f| f.title.contains("91.207.175.249:4444")).expect("C2 finding");
    assert_eq!(port_4444.count, c2["port_4444_connection_count"].as_u64().unwrap());

    assert_techniques(&report, &["T1110", "T1110.001", "T1078", "T1033", "T1082", "T1087", "T1057", "T1049"]);
    assert_techniques(&report, &["T1016", "T1105", "T1222", "T1053.003", "T1070", "T1071", "T1041"]);
    assert!(!indicator(&report, "5.101.40.81").intel.is_empty());
    assert!(!indicator(&report, "91.207.175.249").intel.is_empty());
    assert_eq!(report.severity.level, SeverityLevel::Critical, "{:?}", report.severity);
    assert!(report.remediation.iter().any(|r| r.action.contains("91.207.175.249")));
}

#[test]
fn suspicious_outbound_story() {
    let truth = &story()["c2"];
    let report = run("suspicious_outbound");

    let outbound = findings(&report, FindingCategory::OutboundConnection);
    let port_4444 = outbound.iter().find(|f| f.title.contains("91.207.175.249:4444")).expect("C2 finding");
    assert_eq!(port_4444.count, truth["port_4444_connection_count"].as_u64().unwrap());
    assert_eq!(port_4444.first_seen, Some(time(&truth["first_beacon"])));
    assert!(port_4444.detail.contains(&truth["upload_bytes_out"].as_u64().unwrap().to_string()));

    // The C2 address also logged in: the investigation finds the intrusion behind the traffic.
    let logins = findings(&report, FindingCategory::SuccessfulAuthentication);
    assert!(logins.iter().any(|f| f.accounts == ["ec2-user"]), "{:#?}", report.findings);
    assert_techniques(&report, &["T1071", "T1078", "T1041"]);
    assert!(!indicator(&report, "91.207.175.249").intel.is_empty());
    assert!(report.severity.level >= SeverityLevel::High, "{:?}", report.severity);
}

#[test]
fn cryptomining_story() {
    let truth = &story()["cryptomining"];
    let report = run("cryptomining");

    let mining = findings(&report, FindingCategory::Cryptomining);
    assert!(!mining.is_empty());
    assert_eq!(mining[0].count, truth["miner_query_count"].as_u64().unwrap());
    assert_eq!(mining[0].addresses, strings(&truth["domains"]));
    assert_eq!(mining[0].hosts, [truth["host"].as_str().unwrap()]);
    assert_eq!(mining[0].first_seen, Some(time(&truth["first_seen"])));
    assert_techniques(&report, &["T1496"]);
    assert!(!indicator(&report, "coinhive.com").intel.is_empty());
    assert!(report.severity.level >= SeverityLevel::High, "{:?}", report.severity);
}

#[test]
fn windows_auth_failure_story() {
    let truth = &story()["windows_auth_failure"];
    let report = run("windows_auth_failure");

    let failed = findings(&report, FindingCategory::FailedAuthentication);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].count, truth["failure_count"].as_u64().unwrap());
    assert_eq!(failed[0].accounts.len() as u64, truth["account_count"].as_u64().unwrap());
    assert_eq!(failed[0].hosts, ["hildegard"]);
    assert!(findings(&report, FindingCategory::SuccessfulAuthentication).is_empty());
    assert_eq!(findings(&report, FindingCategory::NoSuccessfulAuthentication).len(), 1);
    assert_techniques(&report, &["T1110"]);
    assert!(report.severity.level < SeverityLevel::High, "{:?}", report.severity);
}

#[test]
fn web_attack_story() {
    let truth = &story()["web_attack"];
    let report = run("web_attack");

    let attacks = findings(&report, FindingCategory::WebAttack);
    assert_eq!(attacks.len(), 1);
    assert_eq!(attacks[0].count, truth["request_count"].as_u64().unwrap());
    assert_eq!(attacks[0].addresses, ["45.77.65.211"]);
    let by_pattern = &truth["requests_by_pattern"];
    let expected = [
        ("SQL injection", "sqli"),
        ("cross-site scripting", "xss"),
        ("path traversal", "traversal"),
        ("sensitive file probe", "probe"),
    ];
    for (label, key) in expected {
        let text = format!("{label}: {}", by_pattern[key].as_u64().unwrap());
        assert!(attacks[0].detail.contains(&text), "{text} missing from {}", attacks[0].detail);
    }
    for (status, count) in truth["requests_by_status"].as_object().unwrap() {
        let text = format!("{status}: {}", count.as_u64().unwrap());
        assert!(attacks[0].detail.contains(&text), "{text} missing from {}", attacks[0].detail);
    }
    assert_techniques(&report, &["T1190"]);
    assert!(!indicator(&report, "45.77.65.211").intel.is_empty());
}
