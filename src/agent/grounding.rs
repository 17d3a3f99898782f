//! Rules that bind model text to the evidence.
//!
//! The analysis decides the counts, indicators, intel matches, techniques,
//! timeline, the severity floor and the default verdict. A model may write
//! the narrative, raise the severity with a reason and propose a verdict, but
//! these functions keep it from lowering the severity or contradicting a
//! finding, and they mark every address, domain, hash or time in its text
//! that no search returned as `[unverified: ...]`. A sentence that states an
//! absence as a fact ("no login happened") is marked as absence of evidence,
//! because a search that found nothing does not show that nothing happened.
//! A model's attack-chain stage must cite techniques the analysis found and
//! timeline entries that exist, and its wording of a remediation step may
//! not bring in a value (address, count, technique id) the step lacks.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

use crate::analysis::{ioc, Finding, FindingCategory, RemediationStep, SeverityLevel};
use crate::event::Value;
use crate::report::{ChainStage, EvidenceRecord, Report, Verdict};

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

/// The prefix of a sentence marked as stating an absence as a fact.
pub const ABSENCE_MARK: &str = "[absence of evidence, not proof: ";

/// Words after "not" or "never" that describe a search result rather than
/// state that something did not happen, as in "was not found".
const SEARCH_WORDS: &[&str] = &[
    "found",
    "seen",
    "observed",
    "returned",
    "detected",
    "identified",
    "located",
    "recorded",
    "shown",
    "visible",
    "present",
    "searched",
    "available",
    "confirmed",
    "proven",
    "established",
    "in",
];

struct AbsencePatterns {
    negated_verb: Regex,
    no_subject: Regex,
    there_was_no: Regex,
}

fn absence_patterns() -> &'static AbsencePatterns {
    static PATTERNS: OnceLock<AbsencePatterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let compile = |pattern: &str| Regex::new(pattern).expect("absence pattern is valid");
        AbsencePatterns {
            negated_verb: compile(
                r"(?i)\b(?:did\s+not|didn't|does\s+not|doesn't|was\s+not|wasn't|were\s+not|weren't|has\s+not|hasn't|have\s+not|haven't|had\s+not|hadn't|never|could\s+not\s+have)\s+(?:been\s+|be\s+)?([a-z]+)",
            ),
            no_subject: compile(
                r"(?i)\bno\s+(\w+)(?:\s+[\w-]+){0,4}?\s+(?:occurred|happened|took\s+place|succeeded|was\s+made|were\s+made|was\s+compromised)\b",
            ),
            there_was_no: compile(r"(?i)\bthere\s+(?:was|were|is|are|has\s+been|have\s+been)\s+no\s+(\w+)"),
        }
    })
}

/// Returns whether `sentence` states that something did not happen, rather
/// than that no search found it.
pub fn states_absence(sentence: &str) -> bool {
    let patterns = absence_patterns();
    let hedge = |word: &str| {
        matches!(
            word.to_ascii_lowercase().as_str(),
            "evidence" | "sign" | "signs" | "search" | "searches" | "record" | "records"
                | "indication" | "trace" | "traces"
        )
    };
    let negated = patterns.negated_verb.captures_iter(sentence).any(|c| {
        let word = c[1].to_ascii_lowercase();
        !SEARCH_WORDS.contains(&word.as_str())
    });
    let no_subject = patterns
        .no_subject
        .captures_iter(sentence)
        .any(|c| !hedge(&c[1]));
    let there_was_no = patterns
        .there_was_no
        .captures_iter(sentence)
        .any(|c| !hedge(&c[1]));
    negated || no_subject || there_was_no
}

/// Splits text into sentences at `.`, `!` or `?` followed by whitespace, keeping
/// the whitespace with the sentence before it.
fn sentences(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let ends = matches!(b, b'.' | b'!' | b'?')
            && bytes.get(i + 1).is_some_and(|next| next.is_ascii_whitespace());
        if ends {
            let mut end = i + 1;
            while bytes.get(end).is_some_and(|c| c.is_ascii_whitespace()) {
                end += 1;
            }
            parts.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
}

/// Marks each sentence that states an absence as a fact as
/// `[absence of evidence, not proof: ...]`, and returns the text and those sentences.
pub fn mark_absence_claims(text: &str) -> (String, Vec<String>) {
    let mut marked = String::with_capacity(text.len());
    let mut claims = Vec::new();
    for sentence in sentences(text) {
        let body = sentence.trim_end();
        if body.starts_with(ABSENCE_MARK) || !states_absence(body) {
            marked.push_str(sentence);
            continue;
        }
        claims.push(body.to_string());
        marked.push_str(ABSENCE_MARK);
        marked.push_str(body);
        marked.push(']');
        marked.push_str(&sentence[body.len()..]);
    }
    (marked, claims)
}

/// Model text after both marks, with what was marked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BoundText {
    pub text: String,
    pub unverified: Vec<String>,
    pub absence_claims: Vec<String>,
}

/// Applies [`mark_unverified`] and [`mark_absence_claims`] to model text.
pub fn bind_text(text: &str, report: &Report) -> BoundText {
    let (marked, unverified) = mark_unverified(text.trim(), report);
    let (text, absence_claims) = mark_absence_claims(&marked);
    BoundText {
        text,
        unverified,
        absence_claims,
    }
}

fn technique_ids() -> &'static Regex {
    static IDS: OnceLock<Regex> = OnceLock::new();
    IDS.get_or_init(|| Regex::new(r"\bT\d{4}(?:\.\d{3})?\b").expect("technique id pattern"))
}

/// Checks a model's attack-chain stage against the analysis, and builds it with
/// the tactic and evidence of the entries it cites. Returns the reason when it is
/// rejected. The text is kept as given, so the caller marks it with [`bind_text`].
pub fn check_stage(
    text: &str,
    techniques: &[String],
    timeline: &[usize],
    report: &Report,
) -> Result<ChainStage, String> {
    if text.trim().is_empty() {
        return Err("the stage has no text".into());
    }
    let found = |id: &str| report.techniques.iter().any(|t| t.id == id);
    let in_text = technique_ids().find_iter(text).map(|m| m.as_str());
    if let Some(id) = techniques.iter().map(String::as_str).chain(in_text).find(|id| !found(id)) {
        return Err(format!("the stage cites technique {id}, which the analysis did not find"));
    }
    if timeline.is_empty() {
        return Err("the stage cites no timeline entry".into());
    }
    if let Some(position) = timeline.iter().find(|&&p| p >= report.timeline.len()) {
        return Err(format!(
            "the stage cites timeline entry {position}, but the timeline has {} entries \
             (0 to {})",
            report.timeline.len(),
            report.timeline.len().saturating_sub(1)
        ));
    }
    let mut evidence: Vec<String> = Vec::new();
    for &position in timeline {
        for id in &report.timeline[position].evidence {
            if !evidence.contains(id) {
                evidence.push(id.clone());
            }
        }
    }
    Ok(ChainStage {
        tactic: report.timeline[timeline[0]].tactic.clone(),
        text: text.trim().to_string(),
        techniques: techniques.to_vec(),
        timeline: timeline.to_vec(),
        evidence,
        source: "model".into(),
    })
}

/// Splits text into lowercase words, keeping the dots, dashes, colons and
/// slashes inside addresses, hostnames, ids and times.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || ",;()[]{}\"'`".contains(c))
        .map(|w| w.trim_end_matches(['.', ':', '!', '?']))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Checks a model's wording of a remediation step: every word with a digit
/// (an address, count, time or technique id) and every indicator in it must
/// appear in the step itself. Returns why the wording is rejected otherwise.
pub fn check_rewording(step: &RemediationStep, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the wording is empty".into());
    }
    let own = format!(
        "{} {} {} {} {}",
        step.action,
        step.reason,
        step.mitigation.as_deref().unwrap_or_default(),
        step.techniques.join(" "),
        step.findings.join(" ")
    );
    let own_words: BTreeSet<String> = words(&own).collect();
    let own_indicators: BTreeSet<String> = ioc::extract(&own).into_iter().map(|i| i.value).collect();
    if let Some(word) = words(text).find(|w| w.contains(|c: char| c.is_ascii_digit()) && !own_words.contains(w)) {
        return Err(format!("the wording states '{word}', which the step does not"));
    }
    if let Some(indicator) = ioc::extract(text)
        .into_iter()
        .find(|i| !own_indicators.contains(&i.value))
    {
        return Err(format!("the wording names '{}', which the step does not", indicator.value));
    }
    Ok(())
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

#[cfg(test)]
mod wording_tests {
    use super::*;
    use crate::analysis::RemediationKind;

    #[test]
    fn absence_did_not_happen_marked() {
        let (text, claims) = mark_absence_claims("Brute force seen. The login did not succeed.");
        assert_eq!(
            text,
            "Brute force seen. [absence of evidence, not proof: The login did not succeed.]"
        );
        assert_eq!(claims, ["The login did not succeed."]);
    }

    #[test]
    fn absence_no_subject_occurred_marked() {
        assert!(states_absence("No lateral movement occurred."));
    }

    #[test]
    fn absence_there_was_no_marked() {
        assert!(states_absence("There was no exfiltration."));
    }

    #[test]
    fn absence_was_not_compromised_marked() {
        assert!(states_absence("The host was not compromised."));
    }

    #[test]
    fn absence_never_logged_in_marked() {
        assert!(states_absence("The attacker never logged in."));
    }

    #[test]
    fn no_evidence_wording_kept() {
        assert!(!states_absence("No evidence of lateral movement was found."));
    }

    #[test]
    fn not_found_wording_kept() {
        assert!(!states_absence("A successful login was not found in the searched data."));
    }

    #[test]
    fn there_was_no_sign_kept() {
        assert!(!states_absence("There was no sign of exfiltration in the searched data."));
    }

    #[test]
    fn absence_mark_not_doubled() {
        let (once, _) = mark_absence_claims("Nothing happened. It did not spread.");
        let (twice, claims) = mark_absence_claims(&once);
        assert_eq!(once, twice);
        assert!(claims.is_empty());
    }

    #[test]
    fn sentences_keep_addresses_whole() {
        let parts = sentences("From 1.2.3.4 at noon. Then it stopped.");
        assert_eq!(parts, ["From 1.2.3.4 at noon. ", "Then it stopped."]);
    }

    fn step() -> RemediationStep {
        RemediationStep {
            kind: RemediationKind::Immediate,
            action: "Block 5.101.40.81 at the firewall".into(),
            reason: "It made 1,208 failed logins.".into(),
            mitigation: None,
            techniques: vec!["T1110.001".into()],
            findings: vec!["F1".into()],
            model_text: None,
        }
    }

    #[test]
    fn rewording_with_same_values_accepted() {
        let text = "Block 5.101.40.81 on the perimeter firewall now (T1110.001, F1).";
        assert_eq!(check_rewording(&step(), text), Ok(()));
    }

    #[test]
    fn rewording_changed_address_rejected() {
        let why = check_rewording(&step(), "Block 5.101.40.82 at the firewall.").unwrap_err();
        assert!(why.contains("5.101.40.82"), "{why}");
    }

    #[test]
    fn rewording_changed_count_rejected() {
        let why = check_rewording(&step(), "It made 12 failed logins; block it.").unwrap_err();
        assert!(why.contains("'12'"), "{why}");
    }

    #[test]
    fn rewording_new_technique_rejected() {
        let why = check_rewording(&step(), "Block it; this stops T1078.").unwrap_err();
        assert!(why.contains("t1078"), "{why}");
    }

    #[test]
    fn rewording_new_domain_rejected() {
        let why = check_rewording(&step(), "Block it and evil.example.com.").unwrap_err();
        assert!(why.contains("evil.example.com"), "{why}");
    }

    #[test]
    fn rewording_empty_rejected() {
        assert!(check_rewording(&step(), "  ").is_err());
    }
}
