//! Rules that bind model text to the evidence.
//!
//! The analysis decides the counts, indicators, intel matches, techniques,
//! timeline, the severity floor and the default verdict. A model may write
//! the narrative, raise the severity with a reason and propose a verdict, but
//! these functions keep it from lowering the severity or contradicting a
//! finding, and they mark every address, domain, hash or time in its text
//! that no search returned as `[unverified: ...]`.

use std::collections::BTreeSet;

use regex::Regex;

use crate::analysis::{ioc, Finding, FindingCategory, SeverityLevel};
use crate::event::Value;
use crate::report::{EvidenceRecord, Report, Verdict};

/// The verdicts a report may carry.
pub const VERDICTS: [&str; 4] = [
    "true_positive",
    "benign_true_positive",
    "false_positive",
    "inconclusive",
];

/// Finding categories that show an attack got somewhere (or is known-bad),
/// so the alert cannot be benign or false.
const COMPROMISE: [FindingCategory; 6] = [
    FindingCategory::SuccessfulAuthentication,
    FindingCategory::ProcessExecution,
    FindingCategory::LateralMovement,
    FindingCategory::Cryptomining,
    FindingCategory::IntelMatch,
    FindingCategory::WebAttack,
];

/// Returns the verdict the findings support on their own.
pub fn verdict_from_findings(findings: &[Finding], evidence: &[EvidenceRecord]) -> Verdict {
    let alert_events = evidence.first().map_or(0, |e| e.result_count);
    let compromise: Vec<&Finding> = findings
        .iter()
        .filter(|f| COMPROMISE.contains(&f.category))
        .collect();
    let attempts: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            matches!(
                f.category,
                FindingCategory::FailedAuthentication | FindingCategory::OutboundConnection
            )
        })
        .collect();
    let cite = |f: &&Finding| format!("{} ({})", f.title.trim_end_matches('.'), f.id);
    let (verdict, confidence, mut reasons) = if !compromise.is_empty() {
        let level = if alert_events > 0 { "high" } else { "medium" };
        (
            "true_positive",
            level,
            compromise.iter().map(cite).collect::<Vec<_>>(),
        )
    } else if !attempts.is_empty() {
        let mut reasons: Vec<String> = attempts.iter().map(cite).collect();
        reasons.push(
            "no search found that the activity succeeded; this is an absence of \
                      evidence in the searched data, not proof that it failed"
                .into(),
        );
        ("true_positive", "medium", reasons)
    } else {
        let reason = "no finding beyond observations rests on the searched data".to_string();
        ("inconclusive", "low", vec![reason])
    };
    if alert_events == 0 {
        reasons.push("the alert's own events were not found in the searched data".into());
    }
    Verdict {
        verdict: verdict.into(),
        confidence: confidence.into(),
        reasons,
        source: "analysis".into(),
    }
}

/// Returns why a proposed verdict contradicts the findings, or `None` when it may stand.
pub fn contradiction(proposed: &str, findings: &[Finding]) -> Option<String> {
    if !VERDICTS.contains(&proposed) {
        return Some(format!(
            "unknown verdict '{proposed}'; expected one of {}",
            VERDICTS.join(", ")
        ));
    }
    let benign = matches!(proposed, "false_positive" | "benign_true_positive");
    let against = findings.iter().find(|f| COMPROMISE.contains(&f.category));
    match against {
        Some(f) if benign => Some(format!(
            "verdict '{proposed}' contradicts finding {} ({})",
            f.id,
            f.title.trim_end_matches('.')
        )),
        _ => None,
    }
}

/// Applies a model's verdict when the findings allow it; otherwise keeps the
/// analysis verdict and records why the model's was rejected.
pub fn apply_verdict(report: &mut Report, proposed: &str, confidence: &str, reasons: Vec<String>) {
    let base = report
        .verdict
        .clone()
        .unwrap_or_else(|| verdict_from_findings(&report.findings, &report.evidence));
    if let Some(why) = contradiction(proposed, &report.findings) {
        let mut kept = base;
        kept.reasons
            .push(format!("the model's verdict was rejected: {why}"));
        report.verdict = Some(kept);
        return;
    }
    let confidence = match confidence {
        "low" | "medium" | "high" => confidence.to_string(),
        _ => base.confidence.clone(),
    };
    report.verdict = Some(Verdict {
        verdict: proposed.to_string(),
        confidence,
        reasons,
        source: "model".into(),
    });
}

/// Raises the severity to `proposed` with the model's reason; a level at or
/// below the analysis floor leaves the severity as it is. Returns whether it rose.
pub fn raise_severity(report: &mut Report, proposed: SeverityLevel, reason: &str) -> bool {
    if proposed <= report.severity.level {
        return false;
    }
    let floor = report.severity.level;
    report.severity.level = proposed;
    report.severity.reasons.push(format!(
        "raised from {} to {} by the model: {}",
        floor.as_str(),
        proposed.as_str(),
        reason.trim()
    ));
    true
}

/// Parses a severity name such as `HIGH` or `high`.
pub fn parse_severity(text: &str) -> Option<SeverityLevel> {
    match text.trim().to_ascii_uppercase().as_str() {
        "INFORMATIONAL" | "INFO" => Some(SeverityLevel::Informational),
        "LOW" => Some(SeverityLevel::Low),
        "MEDIUM" => Some(SeverityLevel::Medium),
        "HIGH" => Some(SeverityLevel::High),
        "CRITICAL" => Some(SeverityLevel::Critical),
        _ => None,
    }
}

/// Values the searches returned or the analysis derived from them, lowercased.
pub fn verified_values(report: &Report) -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    let mut add = |v: &str| {
        known.insert(v.to_ascii_lowercase());
    };
    for f in &report.findings {
        f.hosts
            .iter()
            .chain(&f.accounts)
            .chain(&f.addresses)
            .for_each(|v| add(v));
        add(&f.title);
        add(&f.detail);
    }
    report.indicators.iter().for_each(|i| add(&i.value));
    report
        .timeline
        .iter()
        .filter_map(|t| t.host.as_deref())
        .for_each(&mut add);
    report.timeline.iter().for_each(|t| add(&t.description));
    for (_, value) in report.alert.result.iter() {
        value_texts(value).for_each(&mut add);
    }
    for sample in report.evidence.iter().flat_map(|e| &e.samples) {
        sample.values().flat_map(value_texts).for_each(&mut add);
    }
    known
}

fn value_texts(value: &Value) -> impl Iterator<Item = &str> {
    let values: Vec<&str> = match value {
        Value::Single(s) => vec![s.as_str()],
        Value::Multi(values) => values.iter().map(String::as_str).collect(),
    };
    values.into_iter()
}

/// Minutes (`YYYY-MM-DD HH:MM`, UTC) at which the findings and timeline place events.
fn verified_minutes(report: &Report) -> BTreeSet<String> {
    let mut times: Vec<i64> = report.timeline.iter().map(|t| t.time).collect();
    for f in &report.findings {
        times.extend(f.first_seen);
        times.extend(f.last_seen);
    }
    times
        .into_iter()
        .filter_map(chrono::DateTime::from_timestamp_micros)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .collect()
}

/// Wraps every address, domain, hash or time in `text` that no search
/// returned as `[unverified: value]`, and returns the text and those values.
///
/// NOTE: bare host and account names without dots are not recognised in free
/// text, so a made-up short hostname or account passes unmarked.
pub fn mark_unverified(text: &str, report: &Report) -> (String, Vec<String>) {
    let known = verified_values(report);
    let minutes = verified_minutes(report);
    let is_known = |value: &str| {
        let lowered = value.to_ascii_lowercase();
        known.contains(&lowered) || known.iter().any(|k| k.contains(&lowered))
    };
    let mut unverified: Vec<String> = Vec::new();
    for indicator in ioc::extract(text) {
        if !is_known(&indicator.value) && !unverified.contains(&indicator.value) {
            unverified.push(indicator.value);
        }
    }
    let time =
        Regex::new(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?Z?\b").expect("time regex");
    for m in time.find_iter(text) {
        let minute = m.as_str().replace('T', " ");
        let minute = minute.get(..16).unwrap_or(&minute).to_string();
        if !minutes.contains(&minute) && !unverified.contains(&m.as_str().to_string()) {
            unverified.push(m.as_str().to_string());
        }
    }
    let mut marked = text.to_string();
    for value in &unverified {
        marked = replace_whole(&marked, value, &format!("[unverified: {value}]"));
    }
    (marked, unverified)
}

/// Replaces `value` where it is not part of a longer address or name.
fn replace_whole(text: &str, value: &str, with: &str) -> String {
    let pattern = format!(r"(^|[^\w.-]){}($|[^\w-]|\.(?:\W|$))", regex::escape(value));
    let re = Regex::new(&pattern).expect("escaped value is a valid regex");
    let mut out = String::new();
    let mut rest = text;
    // One match at a time, because adjacent matches share their separator characters.
    while let Some(caps) = re.captures(rest) {
        let lead = caps.get(1).expect("lead group");
        let tail = caps.get(2).expect("tail group");
        out.push_str(&rest[..lead.end()]);
        out.push_str(with);
        rest = &rest[tail.start()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, category: FindingCategory) -> Finding {
        Finding::new(id, category, format!("finding {id}"))
    }

    #[test]
    fn verdict_compromise_is_true_positive() {
        let findings = vec![finding("F1", FindingCategory::SuccessfulAuthentication)];
        let verdict = verdict_from_findings(&findings, &[]);
        assert_eq!(verdict.verdict, "true_positive");
    }

    #[test]
    fn verdict_nothing_is_inconclusive() {
        let findings = vec![finding("F1", FindingCategory::Observation)];
        assert_eq!(
            verdict_from_findings(&findings, &[]).verdict,
            "inconclusive"
        );
    }

    #[test]
    fn false_positive_contradicts_login() {
        let findings = vec![finding("F2", FindingCategory::SuccessfulAuthentication)];
        let why = contradiction("false_positive", &findings).unwrap();
        assert!(why.contains("F2"));
    }

    #[test]
    fn false_positive_allowed_without_compromise() {
        let findings = vec![finding("F1", FindingCategory::FailedAuthentication)];
        assert_eq!(contradiction("false_positive", &findings), None);
    }

    #[test]
    fn unknown_verdict_rejected() {
        assert!(contradiction("malicious", &[]).is_some());
    }

    #[test]
    fn replace_whole_skips_longer_address() {
        let text = "from 1.2.3.4 and 1.2.3.45";
        let out = replace_whole(text, "1.2.3.4", "[x]");
        assert_eq!(out, "from [x] and 1.2.3.45");
    }

    #[test]
    fn replace_whole_wraps_value_once() {
        let out = replace_whole("1.2.3.4, 1.2.3.4.", "1.2.3.4", "[u: 1.2.3.4]");
        assert_eq!(out, "[u: 1.2.3.4], [u: 1.2.3.4].");
    }
}
