//! Investigations of real sshd logs from an internet-facing server
//! (OpenSSH_2k.log from the loghub collection).
//!
//! Expected values were counted from the file with grep:
//! `grep 'Failed password' OpenSSH_2k.log | grep -c 183.62.140.253` gives 286,
//! the first and last of those lines are stamped Dec 10 10:54:29 and
//! 11:04:43, and the only `Accepted` line is fztu's from 119.137.62.142.

mod common;

use argus::analysis::{FindingCategory, SeverityLevel};
use argus::event::format_rfc3339;

use common::{findings, investigate, shared_data, store_from, technique_ids};

const LOG: &str = "real/syslog/OpenSSH_2k.log";

#[test]
fn brute_force_counts_match_the_log() {
    let Some(path) = shared_data(LOG) else { return };
    let alert = r#"{"sid":"t1","search_name":"SSH Brute Force Detected",
                   "result":{"src_ip":"183.62.140.253","host":"LabSZ"}}"#;
    let (report, _) = investigate(store_from(&path), alert);

    // Recount independently of the program: one attempt per "Failed password" line.
    let text = std::fs::read_to_string(&path).unwrap();
    let by_hand = text.lines().filter(|l| l.contains("Failed password") && l.contains("183.62.140.253")).count();
    assert_eq!(by_hand, 286);

    let failed = findings(&report, FindingCategory::FailedAuthentication);
    assert_eq!(failed.len(), 1, "{:#?}", report.findings);
    assert_eq!(failed[0].count, 286);
    let expected_accounts =
        ["123", "123456", "boot", "dff", "git", "oracle", "root", "test", "ubuntu", "zhangyan"];
    assert_eq!(failed[0].accounts, expected_accounts);
    let first = format_rfc3339(failed[0].first_seen.unwrap());
    let last = format_rfc3339(failed[0].last_seen.unwrap());
    assert!(first.ends_with("-12-10T10:54:29Z"), "first seen {first}");
    assert!(last.ends_with("-12-10T11:04:43Z"), "last seen {last}");
}

#[test]
fn brute_force_without_success_is_stated() {
    let Some(path) = shared_data(LOG) else { return };
    let alert = r#"{"sid":"t1","search_name":"SSH Brute Force Detected",
                   "result":{"src_ip":"183.62.140.253","host":"LabSZ"}}"#;
    let (report, _) = investigate(store_from(&path), alert);

    assert!(findings(&report, FindingCategory::SuccessfulAuthentication).is_empty());
    let absent = findings(&report, FindingCategory::NoSuccessfulAuthentication);
    assert_eq!(absent.len(), 1);
    assert_eq!(absent[0].addresses, ["183.62.140.253"]);
    assert!(report.summary.contains("No successful login from 183.62.140.253"), "{}", report.summary);

    let techniques = technique_ids(&report);
    assert!(techniques.contains(&"T1110"), "{techniques:?}");
    assert!(techniques.contains(&"T1110.001"), "{techniques:?}");
    assert!(!techniques.contains(&"T1078"), "no login succeeded, yet {techniques:?}");
    assert!(report.severity.level < SeverityLevel::Critical, "{:?}", report.severity);
}

#[test]
fn successful_login_of_fztu_found() {
    let Some(path) = shared_data(LOG) else { return };
    let alert = r#"{"sid":"t2","search_name":"SSH Brute Force Detected",
                   "result":{"src_ip":"119.137.62.142","host":"LabSZ"}}"#;
    let (report, _) = investigate(store_from(&path), alert);

    let logins = findings(&report, FindingCategory::SuccessfulAuthentication);
    assert_eq!(logins.len(), 1, "{:#?}", report.findings);
    assert_eq!(logins[0].accounts, ["fztu"]);
    assert_eq!(logins[0].addresses, ["119.137.62.142"]);
    assert_eq!(logins[0].hosts, ["LabSZ"]);
    let time = format_rfc3339(logins[0].first_seen.unwrap());
    assert!(time.ends_with("-12-10T09:32:20Z"), "{time}");
}

#[test]
fn every_query_is_recorded_as_evidence() {
    let Some(path) = shared_data(LOG) else { return };
    let alert = r#"{"sid":"t1","search_name":"SSH Brute Force Detected",
                   "result":{"src_ip":"183.62.140.253","host":"LabSZ"}}"#;
    let (report, sink) = investigate(store_from(&path), alert);

    assert_eq!(report.steps[0].name, "fetch_alert_data");
    assert_eq!(report.steps[1].name, "discover_schema");
    assert!(report.evidence[0].query.contains("src_ip=\"183.62.140.253\""), "{}", report.evidence[0].query);
    assert_eq!(report.evidence[0].backend, "local evidence (test evidence)");
    for finding in &report.findings {
        assert!(!finding.evidence.is_empty(), "finding {} cites no evidence", finding.id);
        for id in &finding.evidence {
            assert!(report.evidence.iter().any(|e| &e.id == id), "finding {} cites missing {id}", finding.id);
        }
    }
    // Every step streams a start and a finish event.
    let events = sink.events();
    assert_eq!(events.len(), 2 * report.steps.len() + 2);
}
