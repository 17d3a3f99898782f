//! Severity scoring: a deterministic score from findings, techniques and intel matches,
//! with one reason line per contribution.
//!
//! Contributions (each reason line ends with its weight, such as `(+40)`):
//!
//! | evidence | weight |
//! |---|---|
//! | failed logins, per finding, by count: 100+ / 10+ / fewer | +25 / +15 / +5 |
//! | successful login (from a source that also failed logins, or otherwise suspect) | +50 |
//! | commands run on a host | +10 |
//! | lateral movement | +20 |
//! | outbound connection to a suspect address, once per (host, address) pair | +25 |
//! | cryptomining | +50 |
//! | web attack requests | +25 |
//! | an indicator listed in intel, by its highest confidence: 80+ / 50+ / lower | +20 / +10 / +5 |
//! | a technique under command-and-control, exfiltration or impact, once per tactic | +10 |
//! | no successful login found | +0, never more |
//!
//! Failed-login contributions add up to at most +29, so that failed logins and one successful
//! login stay HIGH; intel contributions add up to at most +30. Two rules then adjust the sum:
//! - without evidence that an attack succeeded (a successful login, commands, lateral
//!   movement, outbound C2 traffic or mining), the score is capped at 49, so failed logins
//!   and web attack attempts alone never rise above MEDIUM;
//! - with such evidence together with C2 or exfiltration, or an intel match of confidence
//!   80 or more, the score is raised to at least 80 (CRITICAL).
//!
//! A contribution whose reason line equals an earlier one is dropped, so no line repeats and
//! the score stays the sum of the listed weights. The score is capped at 100. Levels: 0 INFORMATIONAL, 1–24 LOW, 25–49 MEDIUM,
//! 50–79 HIGH, 80–100 CRITICAL.

use std::collections::HashSet;

use super::{Finding, FindingCategory, IndicatorRecord, Severity, SeverityLevel, TechniqueHit};

/// Lowest score of each level above INFORMATIONAL.
const LOW: u32 = 1;
const MEDIUM: u32 = 25;
const HIGH: u32 = 50;
const CRITICAL: u32 = 80;

const INTEL_CAP: u32 = 30;
const FAILED_LOGIN_CAP: u32 = 29;

/// Confidence at or above which an intel match counts as high confidence.
pub const HIGH_CONFIDENCE: u8 = 80;

/// Maps a score to its level with the thresholds in the module documentation.
pub fn level_for(score: u32) -> SeverityLevel {
    match score {
        s if s >= CRITICAL => SeverityLevel::Critical,
        s if s >= HIGH => SeverityLevel::High,
        s if s >= MEDIUM => SeverityLevel::Medium,
        s if s >= LOW => SeverityLevel::Low,
        _ => SeverityLevel::Informational,
    }
}

#[derive(Default)]
struct Tally {
    score: u32,
    failed_logins: u32,
    reasons: Vec<String>,
    /// (host, address) pairs already scored as outbound connections.
    outbound_pairs: HashSet<(String, String)>,
}

impl Tally {
    /// Adds a contribution and returns true, or returns false without adding anything
    /// when the same reason line was already listed.
    fn add(&mut self, weight: u32, reason: impl AsRef<str>) -> bool {
        let line = format!("{} (+{weight})", reason.as_ref());
        if self.reasons.contains(&line) {
            return false;
        }
        self.score += weight;
        self.reasons.push(line);
        true
    }
}

/// Scores the evidence; see the module documentation for the weights and rules.
pub fn assess(
    findings: &[Finding],
    techniques: &[TechniqueHit],
    indicators: &[IndicatorRecord],
) -> Severity {
    let mut tally = Tally::default();
    for finding in findings {
        score_finding(&mut tally, finding, findings);
    }
    let high_confidence_intel = score_intel(&mut tally, indicators);
    let c2_tactic = score_tactics(&mut tally, techniques);

    let succeeded = findings.iter().any(|f| shows_success(f.category));
    let c2_or_exfil = c2_tactic
        || findings
            .iter()
            .any(|f| f.category == FindingCategory::OutboundConnection);
    if !succeeded && tally.score >= HIGH {
        tally.score = HIGH - 1;
        tally.reasons.push(
            "no evidence that any attempt succeeded: score capped at 49 (MEDIUM)".to_string(),
        );
    }
    if succeeded && (c2_or_exfil || high_confidence_intel) && tally.score < CRITICAL {
        let raise = CRITICAL - tally.score;
        let why = if c2_or_exfil {
            "a compromise with command-and-control or exfiltration"
        } else {
            "a compromise involving an indicator listed with high confidence"
        };
        tally.add(raise, format!("{why} is CRITICAL"));
    }
    let score = tally.score.min(100);
    Severity {
        level: level_for(score),
        score,
        reasons: tally.reasons,
    }
}

/// Checks whether a finding of this category shows an attack that succeeded.
fn shows_success(category: FindingCategory) -> bool {
    matches!(
        category,
        FindingCategory::SuccessfulAuthentication
            | FindingCategory::ProcessExecution
            | FindingCategory::LateralMovement
            | FindingCategory::OutboundConnection
            | FindingCategory::Cryptomining
    )
}

fn score_finding(tally: &mut Tally, finding: &Finding, all: &[Finding]) {
    use FindingCategory::*;
    let addresses = join_or(&finding.addresses, "an unknown source");
    let hosts = join_or(&finding.hosts, "an unnamed host");
    match finding.category {
        FailedAuthentication => {
            let weight = match finding.count {
                100.. => 25,
                10.. => 15,
                _ => 5,
            };
            let weight = weight.min(FAILED_LOGIN_CAP - tally.failed_logins);
            let count = thousands(finding.count);
            if tally.add(weight, format!("{count} failed logins from {addresses}")) {
                tally.failed_logins += weight;
            }
        }
        SuccessfulAuthentication => {
            tally.add(50, success_reason(finding, all));
        }
        ProcessExecution => {
            tally.add(10, format!("commands run on {hosts}"));
        }
        LateralMovement => {
            tally.add(20, format!("lateral movement from {hosts}"));
        }
        OutboundConnection => score_outbound(tally, finding),
        Cryptomining => {
            tally.add(50, format!("cryptomining on {hosts}"));
        }
        WebAttack => {
            let count = thousands(finding.count);
            tally.add(25, format!("{count} web attack requests from {addresses}"));
        }
        NoSuccessfulAuthentication => {
            tally.add(
                0,
                format!("no successful login found from {addresses}; absence of evidence only"),
            );
        }
        IntelMatch | Observation => {}
    }
}

/// Adds +25 for each (host, address) pair of an outbound finding not scored before, so a
/// download and a beacon from one host to one address count once.
fn score_outbound(tally: &mut Tally, finding: &Finding) {
    let hosts = or_placeholder(&finding.hosts, "an unnamed host");
    let addresses = or_placeholder(&finding.addresses, "an unknown destination");
    for host in &hosts {
        for address in &addresses {
            if !tally.outbound_pairs.insert((host.clone(), address.clone())) {
                continue;
            }
            tally.add(25, format!("outbound connection from {host} to {address}"));
        }
    }
}

fn or_placeholder(values: &[String], placeholder: &str) -> Vec<String> {
    if values.is_empty() {
        vec![placeholder.to_string()]
    } else {
        values.to_vec()
    }
}

/// Describes a successful login, naming the failed attempts from the same source if any.
fn success_reason(finding: &Finding, all: &[Finding]) -> String {
    let failed: u64 = all
        .iter()
        .filter(|f| f.category == FindingCategory::FailedAuthentication)
        .filter(|f| f.addresses.iter().any(|a| finding.addresses.contains(a)))
        .map(|f| f.count)
        .sum();
    let addresses = join_or(&finding.addresses, "an unknown source");
    let accounts = if finding.accounts.is_empty() {
        String::new()
    } else {
        format!(" as {}", finding.accounts.join(", "))
    };
    if failed > 0 {
        format!(
            "successful login{accounts} from {addresses} after {} failed attempts",
            thousands(failed)
        )
    } else {
        format!("successful login{accounts} from suspect source {addresses}")
    }
}

/// Adds intel contributions; returns whether any match had high confidence.
fn score_intel(tally: &mut Tally, indicators: &[IndicatorRecord]) -> bool {
    let mut total = 0;
    let mut high = false;
    for record in indicators {
        let Some(best) = record.intel.iter().max_by_key(|m| m.confidence) else {
            continue;
        };
        high |= best.confidence >= HIGH_CONFIDENCE;
        let weight = match best.confidence {
            c if c >= HIGH_CONFIDENCE => 20,
            50.. => 10,
            _ => 5,
        };
        let weight = weight.min(INTEL_CAP - total);
        if weight == 0 {
            continue;
        }
        total += weight;
        tally.add(
            weight,
            format!(
                "{} listed in threat intel ({}, confidence {})",
                record.value, best.source, best.confidence
            ),
        );
    }
    high
}

/// Adds one contribution per high-impact tactic seen; returns whether C2 or exfiltration
/// was among them.
fn score_tactics(tally: &mut Tally, techniques: &[TechniqueHit]) -> bool {
    let mut c2 = false;
    for tactic in ["command-and-control", "exfiltration", "impact"] {
        let ids: Vec<&str> = techniques
            .iter()
            .filter(|t| t.tactics.iter().any(|x| x == tactic))
            .map(|t| t.id.as_str())
            .collect();
        if ids.is_empty() {
            continue;
        }
        c2 |= tactic != "impact";
        tally.add(
            10,
            format!("ATT&CK {tactic} technique seen: {}", ids.join(", ")),
        );
    }
    c2
}

fn join_or(values: &[String], fallback: &str) -> String {
    if values.is_empty() {
        fallback.to_string()
    } else {
        values.join(", ")
    }
}

/// Formats a count with comma thousands separators, such as `1,208`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{IndicatorKind, IntelMatch};

    fn finding(category: FindingCategory, count: u64, addresses: &[&str]) -> Finding {
        let mut f = Finding::new("F1", category, "t");
        f.count = count;
        f.addresses = addresses.iter().map(|s| s.to_string()).collect();
        f.hosts = vec!["gacrux".into()];
        f
    }

    fn technique(id: &str, tactic: &str) -> TechniqueHit {
        TechniqueHit {
            id: id.into(),
            name: id.into(),
            tactics: vec![tactic.into()],
            rules: vec![],
            event_count: 1,
            first_seen: None,
            last_seen: None,
            evidence: vec![],
        }
    }

    fn listed(value: &str, confidence: u8) -> IndicatorRecord {
        IndicatorRecord {
            kind: IndicatorKind::Ipv4,
            value: value.into(),
            occurrences: 1,
            intel: vec![IntelMatch {
                indicator: value.into(),
                confidence,
                source: "argus-demo".into(),
                tags: vec![],
                first_seen: None,
                last_seen: None,
            }],
            evidence: vec![],
        }
    }

    const BRUTE: &str = "5.101.40.81";
    const C2: &str = "91.207.175.249";

    #[test]
    fn nothing_is_informational() {
        let severity = assess(&[], &[], &[]);
        assert_eq!(severity.level, SeverityLevel::Informational);
        assert_eq!(severity.score, 0);
    }

    #[test]
    fn few_failed_logins_are_low() {
        let severity = assess(
            &[finding(FindingCategory::FailedAuthentication, 6, &[BRUTE])],
            &[],
            &[],
        );
        assert_eq!(severity.level, SeverityLevel::Low);
    }

    #[test]
    fn many_failed_logins_are_medium() {
        let f = finding(FindingCategory::FailedAuthentication, 1208, &[BRUTE]);
        let severity = assess(&[f], &[], &[]);
        assert_eq!(severity.level, SeverityLevel::Medium);
        assert_eq!(
            severity.reasons[0],
            "1,208 failed logins from 5.101.40.81 (+25)"
        );
    }

    #[test]
    fn failed_logins_with_intel_stay_medium() {
        let f = finding(FindingCategory::FailedAuthentication, 5000, &[BRUTE]);
        let second = finding(
            FindingCategory::FailedAuthentication,
            3000,
            &["203.0.113.9"],
        );
        let third = finding(
            FindingCategory::FailedAuthentication,
            900,
            &["203.0.113.10"],
        );
        let severity = assess(&[f, second, third], &[], &[listed(BRUTE, 95)]);
        assert_eq!(severity.level, SeverityLevel::Medium);
        assert_eq!(severity.score, 49);
    }

    #[test]
    fn login_after_brute_force_is_high() {
        let failed = finding(FindingCategory::FailedAuthentication, 1208, &[C2]);
        let mut success = finding(FindingCategory::SuccessfulAuthentication, 1, &[C2]);
        success.accounts = vec!["ec2-user".into()];
        let severity = assess(&[failed, success], &[], &[]);
        assert_eq!(severity.level, SeverityLevel::High);
        let expected = "successful login as ec2-user from 91.207.175.249 after 1,208 failed \
                        attempts (+50)";
        assert!(
            severity.reasons.contains(&expected.to_string()),
            "{:?}",
            severity.reasons
        );
    }

    #[test]
    fn many_brute_force_sources_and_login_stay_high() {
        let first = finding(FindingCategory::FailedAuthentication, 1208, &[C2]);
        let second = finding(FindingCategory::FailedAuthentication, 800, &[BRUTE]);
        let success = finding(FindingCategory::SuccessfulAuthentication, 1, &[C2]);
        let severity = assess(&[first, second, success], &[], &[]);
        assert_eq!(severity.level, SeverityLevel::High);
        assert_eq!(severity.score, 79);
    }

    #[test]
    fn account_compromise_alone_is_high() {
        let success = finding(FindingCategory::SuccessfulAuthentication, 1, &[C2]);
        assert_eq!(assess(&[success], &[], &[]).level, SeverityLevel::High);
    }

    #[test]
    fn compromise_with_c2_is_critical() {
        let success = finding(FindingCategory::SuccessfulAuthentication, 1, &[C2]);
        let outbound = finding(FindingCategory::OutboundConnection, 12, &[C2]);
        let severity = assess(&[success, outbound], &[], &[]);
        assert_eq!(severity.level, SeverityLevel::Critical);
    }

    #[test]
    fn compromise_with_high_confidence_intel_is_critical() {
        let success = finding(FindingCategory::SuccessfulAuthentication, 1, &[C2]);
        let severity = assess(&[success], &[], &[listed(C2, 95)]);
        assert_eq!(severity.level, SeverityLevel::Critical);
        assert!(severity.score >= 80);
    }

    #[test]
    fn compromise_with_weak_intel_stays_high() {
        let success = finding(FindingCategory::SuccessfulAuthentication, 1, &[C2]);
        let severity = assess(&[success], &[], &[listed(C2, 40)]);
        assert_eq!(severity.level, SeverityLevel::High);
    }

    #[test]
    fn cryptomining_is_high() {
        let mining = finding(FindingCategory::Cryptomining, 40, &["coinhive.com"]);
        let severity = assess(&[mining], &[], &[]);
        assert_eq!(severity.level, SeverityLevel::High);
        assert_eq!(severity.reasons[0], "cryptomining on gacrux (+50)");
    }

    #[test]
    fn windows_failure_spike_is_medium() {
        let spike = finding(FindingCategory::FailedAuthentication, 240, &["10.0.3.7"]);
        assert_eq!(assess(&[spike], &[], &[]).level, SeverityLevel::Medium);
    }

    #[test]
    fn web_attack_attempts_are_medium() {
        let web = finding(FindingCategory::WebAttack, 310, &["45.77.65.211"]);
        let severity = assess(
            &[web],
            &[technique("T1190", "initial-access")],
            &[listed("45.77.65.211", 70)],
        );
        assert_eq!(severity.level, SeverityLevel::Medium);
    }

    #[test]
    fn intel_raises_score_by_confidence() {
        let failed = finding(FindingCategory::FailedAuthentication, 6, &[BRUTE]);
        let base = assess(std::slice::from_ref(&failed), &[], &[]).score;
        let weak = assess(std::slice::from_ref(&failed), &[], &[listed(BRUTE, 40)]).score;
        let strong = assess(std::slice::from_ref(&failed), &[], &[listed(BRUTE, 90)]).score;
        assert_eq!(weak, base + 5);
        assert_eq!(strong, base + 20);
    }

    #[test]
    fn high_impact_tactics_raise_score() {
        let commands = finding(FindingCategory::ProcessExecution, 5, &[]);
        let base = assess(std::slice::from_ref(&commands), &[], &[]).score;
        let raised = assess(
            std::slice::from_ref(&commands),
            &[technique("T1496", "impact")],
            &[],
        )
        .score;
        assert_eq!(raised, base + 10);
    }

    #[test]
    fn no_success_finding_never_raises() {
        let failed = finding(FindingCategory::FailedAuthentication, 1208, &[BRUTE]);
        let absent = finding(FindingCategory::NoSuccessfulAuthentication, 0, &[BRUTE]);
        let without = assess(std::slice::from_ref(&failed), &[], &[]);
        let with = assess(&[failed, absent], &[], &[]);
        assert_eq!(with.score, without.score);
        assert_eq!(with.level, without.level);
    }

    #[test]
    fn score_capped_at_100() {
        let findings = vec![
            finding(FindingCategory::SuccessfulAuthentication, 1, &[C2]),
            finding(FindingCategory::Cryptomining, 1, &[]),
            finding(FindingCategory::OutboundConnection, 1, &[C2]),
            finding(FindingCategory::LateralMovement, 1, &[]),
        ];
        assert_eq!(assess(&findings, &[], &[]).score, 100);
    }

    /// Returns the outbound-connection reason lines, leaving out the CRITICAL raise that an
    /// outbound finding alone triggers.
    fn outbound_reasons(severity: &Severity) -> Vec<&str> {
        severity
            .reasons
            .iter()
            .map(String::as_str)
            .filter(|r| r.starts_with("outbound connection"))
            .collect()
    }

    #[test]
    fn outbound_pair_scored_once() {
        let download = finding(FindingCategory::OutboundConnection, 1, &[C2]);
        let beacons = finding(FindingCategory::OutboundConnection, 121, &[C2]);
        let severity = assess(&[download, beacons], &[], &[]);
        assert_eq!(
            outbound_reasons(&severity),
            ["outbound connection from gacrux to 91.207.175.249 (+25)"]
        );
    }

    #[test]
    fn outbound_pairs_scored_each() {
        let first = finding(FindingCategory::OutboundConnection, 1, &[C2]);
        let second = finding(FindingCategory::OutboundConnection, 4, &[C2, "203.0.113.9"]);
        let severity = assess(&[first, second], &[], &[]);
        assert_eq!(
            outbound_reasons(&severity),
            [
                "outbound connection from gacrux to 91.207.175.249 (+25)",
                "outbound connection from gacrux to 203.0.113.9 (+25)",
            ]
        );
    }

    #[test]
    fn outbound_pairs_under_critical_raise() {
        // One pair scores 25, so the CRITICAL raise adds 55; two findings for it change nothing.
        let download = finding(FindingCategory::OutboundConnection, 1, &[C2]);
        let beacons = finding(FindingCategory::OutboundConnection, 121, &[C2]);
        let severity = assess(&[download, beacons], &[], &[]);
        assert_eq!(severity.score, 80);
        assert!(
            severity.reasons.last().unwrap().ends_with("(+55)"),
            "{:?}",
            severity.reasons
        );
    }

    #[test]
    fn identical_reasons_listed_once() {
        let first = finding(FindingCategory::ProcessExecution, 5, &[]);
        let second = finding(FindingCategory::ProcessExecution, 9, &[]);
        let severity = assess(&[first, second], &[], &[]);
        assert_eq!(severity.score, 10);
        assert_eq!(
            severity.reasons,
            vec!["commands run on gacrux (+10)".to_string()]
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1208), "1,208");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
