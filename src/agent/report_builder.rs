//! Assembles the report from findings, evidence and the rows behind them.
//!
//! Techniques come from the detection rules run over the rows that support
//! findings; indicators from the alert, the findings and those rows, checked
//! against the bundled intel; severity and remediation from the analysis
//! modules. Nothing here is written by a planner, so these parts of the
//! report always rest on what the searches returned.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::alert::{Alert, AlertClass};
use crate::analysis::attack::{self, Catalogue};
use crate::analysis::intel::IntelDb;
use crate::analysis::mapper::Mapper;
use crate::analysis::{
    ioc, remediation, severity, timeline, Finding, FindingCategory, IndicatorRecord, TechniqueHit,
    TimelineEntry,
};
use crate::event::{Row, TimestampMicros};
use crate::report::{
    Affected, AlertSummary, ChainStage, Confidence, EvidenceRecord, PlannerInfo, Report, Status,
    StepRecord, SCHEMA_VERSION,
};
use crate::search::BackendInfo;

use super::tools::{first_of, is_external, row_time};
use super::AgentError;

/// Identity of an event across queries: its time, host and a hash of its raw text.
pub type EventKey = (Option<TimestampMicros>, String, u64);

/// Returns the identity of the event a row shows.
pub fn event_key(row: &Row) -> EventKey {
    use std::hash::{Hash, Hasher};
    let host = first_of(row, &["host"]).unwrap_or("").to_string();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    first_of(row, &["_raw"]).unwrap_or("").hash(&mut hasher);
    (row_time(row), host, hasher.finish())
}

/// One distinct event seen by the investigation, with the rules it matched.
pub struct MappedEvent {
    pub key: EventKey,
    pub time: Option<TimestampMicros>,
    pub host: Option<String>,
    pub command: Option<String>,
    pub techniques: Vec<String>,
    /// Titles of the rules that matched, each with the techniques it names.
    pub rules: Vec<(String, Vec<String>)>,
    pub evidence: BTreeSet<String>,
}

/// Builds the complete report.
#[allow(clippy::too_many_arguments)]
pub fn build(
    id: String,
    alert: &Alert,
    class: AlertClass,
    backend: BackendInfo,
    planner: PlannerInfo,
    mut findings: Vec<Finding>,
    finding_events: &BTreeMap<String, BTreeSet<EventKey>>,
    evidence: Vec<EvidenceRecord>,
    rows: Vec<(String, Vec<Row>)>,
    steps: Vec<StepRecord>,
) -> Result<Report, AgentError> {
    let catalogue = Catalogue::bundled();
    let mapper = Mapper::bundled()?;
    let events = map_events(mapper, &rows);
    let techniques = technique_hits(&events, catalogue);
    attach_techniques(&mut findings, finding_events, &events);
    let indicators = indicators(alert, &findings, &rows);
    let severity = severity::assess(&findings, &techniques, &indicators);
    let remediation = remediation::recommend(&findings, &techniques, catalogue);
    let timeline = timeline::build(&findings, &events, catalogue);
    let attack_chain = attack_chain(&timeline);
    let confidence = confidence(&findings, &evidence, &steps);
    let affected = affected(&findings);
    let summary = summary(alert, class, &findings, severity.level.as_str());
    let verdict = super::grounding::verdict_from_findings(&findings, &evidence);

    let mut notices = vec![attack::NOTICE.to_string()];
    if techniques.iter().any(|t| t.rules.iter().any(|r| r.starts_with("Sigma:"))) {
        notices.push("Detection rules from SigmaHQ, under the Detection Rule License 1.1.".into());
    }
    Ok(Report {
        schema_version: SCHEMA_VERSION.to_string(),
        id,
        generated_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        alert: AlertSummary {
            sid: alert.sid.clone(),
            search_name: alert.search_name.clone(),
            app: alert.app.clone(),
            owner: alert.owner.clone(),
            results_link: alert.results_link.clone(),
            class,
            result: alert.result.clone(),
        },
        backend,
        planner,
        severity,
        confidence,
        summary,
        timeline,
        attack_chain,
        techniques,
        indicators,
        affected,
        findings,
        remediation,
        evidence,
        steps,
        notices,
        verdict: Some(verdict),
        llm: None,
        model_calls: Vec::new(),
    })
}

/// Runs the detection rules over each distinct event once. Events returned
/// by several queries are one event, identified by time, host and raw text.
fn map_events(mapper: &Mapper, rows: &[(String, Vec<Row>)]) -> Vec<MappedEvent> {
    let mut index: BTreeMap<EventKey, usize> = BTreeMap::new();
    let mut events: Vec<MappedEvent> = Vec::new();
    for (evidence, batch) in rows {
        for row in batch {
            let key = event_key(row);
            if let Some(&i) = index.get(&key) {
                events[i].evidence.insert(evidence.clone());
                continue;
            }
            let mut techniques: Vec<String> = Vec::new();
            let mut rules = Vec::new();
            for m in mapper.match_row(row) {
                techniques.extend(m.techniques.iter().cloned());
                rules.push((m.title, m.techniques));
            }
            techniques.sort();
            techniques.dedup();
            index.insert(key.clone(), events.len());
            events.push(MappedEvent {
                time: key.0,
                host: Some(key.1.clone()).filter(|h| !h.is_empty()),
                key,
                command: first_of(row, &["CommandLine", "command", "COMMAND"]).map(str::to_string),
                techniques,
                rules,
                evidence: BTreeSet::from([evidence.clone()]),
            });
        }
    }
    events
}

fn technique_hits(events: &[MappedEvent], catalogue: &Catalogue) -> Vec<TechniqueHit> {
    let mut hits: BTreeMap<String, TechniqueHit> = BTreeMap::new();
    for event in events {
        for id in &event.techniques {
            let hit = hits.entry(id.clone()).or_insert_with(|| {
                let technique = catalogue.get(id);
                TechniqueHit {
                    id: id.clone(),
                    name: technique.map_or_else(|| id.clone(), |t| t.name.clone()),
                    tactics: technique.map(|t| t.tactics.clone()).unwrap_or_default(),
                    rules: Vec::new(),
                    event_count: 0,
                    first_seen: None,
                    last_seen: None,
                    evidence: Vec::new(),
                }
            });
            hit.event_count += 1;
            for (title, ids) in &event.rules {
                if ids.contains(id) && !hit.rules.contains(title) {
                    hit.rules.push(title.clone());
                }
            }
            if let Some(t) = event.time {
                hit.first_seen = Some(hit.first_seen.map_or(t, |f| f.min(t)));
                hit.last_seen = Some(hit.last_seen.map_or(t, |l| l.max(t)));
            }
            for e in &event.evidence {
                if !hit.evidence.contains(e) {
                    hit.evidence.push(e.clone());
                }
            }
        }
    }
    hits.into_values().collect()
}

/// Gives each finding the techniques of the events behind it: its own events
/// where the tool named them, else every mapped event of its evidence.
fn attach_techniques(
    findings: &mut [Finding],
    finding_events: &BTreeMap<String, BTreeSet<EventKey>>,
    events: &[MappedEvent],
) {
    for finding in findings.iter_mut() {
        let own_evidence = matches!(
            finding.category,
            FindingCategory::Observation | FindingCategory::IntelMatch | FindingCategory::NoSuccessfulAuthentication
        );
        if own_evidence {
            continue;
        }
        let keys = finding_events.get(&finding.id);
        let behind = |e: &&MappedEvent| match keys {
            Some(keys) => keys.contains(&e.key),
            None => finding.evidence.iter().any(|id| e.evidence.contains(id)),
        };
        let techniques: BTreeSet<&String> =
            events.iter().filter(behind).flat_map(|e| e.techniques.iter()).collect();
        finding.techniques = techniques.into_iter().cloned().collect();
    }
}

/// Extracts indicators from the alert, the findings and the rows behind them,
/// leaves out internal addresses, and checks the rest against threat intel.
fn indicators(alert: &Alert, findings: &[Finding], rows: &[(String, Vec<Row>)]) -> Vec<IndicatorRecord> {
    let mut texts: Vec<String> = alert.result.iter().filter(|(k, _)| !k.starts_with('_')).map(|(_, v)| v.to_string()).collect();
    for f in findings.iter().filter(|f| f.category != FindingCategory::Observation) {
        texts.extend(f.addresses.iter().cloned());
    }
    for (_, batch) in rows {
        texts.extend(batch.iter().filter_map(|r| first_of(r, &["CommandLine", "command", "url", "query"]).map(str::to_string)));
    }
    let mut seen = BTreeSet::new();
    let mut records = Vec::new();
    let lowered_raws: Vec<Vec<String>> = rows
        .iter()
        .map(|(_, batch)| batch.iter().map(|r| first_of(r, &["_raw"]).unwrap_or("").to_lowercase()).collect())
        .collect();
    for text in &texts {
        for indicator in ioc::extract(text) {
            let internal = indicator.value.parse::<IpAddr>().is_ok_and(|ip| !is_external(ip));
            if internal || !seen.insert(indicator.clone()) {
                continue;
            }
            // Occurrences count distinct events: several queries may return the same one.
            let mut events = BTreeSet::new();
            let mut evidence = Vec::new();
            for ((id, batch), lowered) in rows.iter().zip(&lowered_raws) {
                for (row, raw) in batch.iter().zip(lowered) {
                    if !row_mentions(row, raw, &indicator.value) {
                        continue;
                    }
                    events.insert(event_key(row));
                    if !evidence.contains(id) {
                        evidence.push(id.clone());
                    }
                }
            }
            let occurrences = events.len() as u64;
            let intel = IntelDb::bundled().lookup(&indicator);
            records.push(IndicatorRecord { kind: indicator.kind, value: indicator.value, occurrences, intel, evidence });
        }
    }
    // Known-bad first, then by how often each was seen.
    records.sort_by(|a, b| b.intel.is_empty().cmp(&a.intel.is_empty()).reverse().then(b.occurrences.cmp(&a.occurrences)));
    records
}

/// Returns whether a row mentions an indicator (already lowercase): in its
/// raw text, given lowercased, or as the whole value of a field.
fn row_mentions(row: &Row, lowered_raw: &str, indicator: &str) -> bool {
    lowered_raw.contains(indicator)
        || row.values().any(|v| v.iter().any(|s| s.eq_ignore_ascii_case(indicator)))
}

fn confidence(findings: &[Finding], evidence: &[EvidenceRecord], steps: &[StepRecord]) -> Confidence {
    let mut reasons = Vec::new();
    let failed = steps.iter().filter(|s| s.status != Status::Ok).count();
    let alert_events = evidence.first().map_or(0, |e| e.result_count);
    let substantive = findings.iter().filter(|f| !matches!(f.category, FindingCategory::Observation)).count();
    if alert_events == 0 {
        reasons.push("the alert's own events were not found in the searched data".to_string());
    } else {
        reasons.push(format!("the alert's own search returned {alert_events} events"));
    }
    if failed > 0 {
        reasons.push(format!("{failed} step(s) failed, so part of the picture is missing"));
    }
    reasons.push(format!("{substantive} findings rest on search results"));
    let level = if alert_events == 0 || substantive == 0 {
        "low"
    } else if failed > 0 {
        "medium"
    } else {
        "high"
    };
    Confidence { level: level.into(), reasons }
}

fn affected(findings: &[Finding]) -> Affected {
    let mut hosts = BTreeSet::new();
    let mut compromised = BTreeSet::new();
    let mut targeted = BTreeSet::new();
    let mut addresses = BTreeSet::new();
    for f in findings {
        if matches!(f.category, FindingCategory::Observation | FindingCategory::NoSuccessfulAuthentication) {
            continue;
        }
        hosts.extend(f.hosts.iter().cloned());
        match f.category {
            FindingCategory::SuccessfulAuthentication | FindingCategory::ProcessExecution => {
                compromised.extend(f.accounts.iter().cloned())
            }
            FindingCategory::FailedAuthentication => targeted.extend(f.accounts.iter().cloned()),
            _ => {}
        }
        for a in &f.addresses {
            let external = a.parse::<IpAddr>().map_or(true, is_external);
            if external {
                addresses.insert(a.clone());
            }
        }
    }
    let accounts = if compromised.is_empty() { targeted } else { compromised };
    Affected {
        hosts: hosts.into_iter().collect(),
        accounts: accounts.into_iter().collect(),
        addresses: addresses.into_iter().collect(),
    }
}

/// Writes the narrative from the findings, most telling first.
fn summary(alert: &Alert, class: AlertClass, findings: &[Finding], level: &str) -> String {
    let mut sentences = vec![format!("Alert '{}' was investigated as {}.", alert.name(), class.label())];
    let mut ordered: Vec<&Finding> = findings.iter().filter(|f| f.category != FindingCategory::Observation).collect();
    ordered.sort_by_key(|f| (f.first_seen.unwrap_or(i64::MAX), f.category));
    for f in ordered {
        sentences.push(format!("{}.", f.title.trim_end_matches('.')));
    }
    if findings.iter().all(|f| f.category == FindingCategory::Observation) {
        sentences.push("No suspicious activity was found in the searched data.".into());
    }
    sentences.push(format!("Severity is {level}."));
    sentences.join(" ")
}

/// ATT&CK Enterprise tactics in kill-chain order, as the matrix lists them.
pub const KILL_CHAIN: [&str; 14] = [
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// Descriptions quoted per stage before the rest are counted, so a busy tactic stays one sentence.
const MAX_STAGE_EVENTS: usize = 4;

/// Groups the timeline by tactic in kill-chain order, one stage per tactic; entries
/// without a tactic form a last stage. Each stage quotes its entries' descriptions.
pub fn attack_chain(timeline: &[TimelineEntry]) -> Vec<ChainStage> {
    let rank = |tactic: Option<&str>| {
        tactic
            .and_then(|t| KILL_CHAIN.iter().position(|k| *k == t))
            .unwrap_or(KILL_CHAIN.len())
    };
    let mut groups: BTreeMap<(usize, Option<&str>), Vec<usize>> = BTreeMap::new();
    for (position, entry) in timeline.iter().enumerate() {
        let tactic = entry.tactic.as_deref();
        groups.entry((rank(tactic), tactic)).or_default().push(position);
    }
    groups
        .into_iter()
        .map(|((_, tactic), positions)| stage(timeline, tactic, positions))
        .collect()
}

fn stage(timeline: &[TimelineEntry], tactic: Option<&str>, positions: Vec<usize>) -> ChainStage {
    let mut techniques: Vec<String> = Vec::new();
    let mut evidence: Vec<String> = Vec::new();
    let mut events: Vec<String> = Vec::new();
    for &position in &positions {
        let entry = &timeline[position];
        for id in &entry.techniques {
            if !techniques.contains(id) {
                techniques.push(id.clone());
            }
        }
        for id in &entry.evidence {
            if !evidence.contains(id) {
                evidence.push(id.clone());
            }
        }
        if events.len() < MAX_STAGE_EVENTS {
            let host = entry.host.as_deref().map(|h| format!(" on {h}")).unwrap_or_default();
            events.push(format!("{}{host}", entry.description.trim_end_matches('.')));
        }
    }
    let hidden = positions.len() - events.len();
    let mut text = format!("{}: {}", tactic_label(tactic), events.join("; "));
    if hidden > 0 {
        text.push_str(&format!("; and {hidden} more"));
    }
    text.push('.');
    ChainStage {
        tactic: tactic.map(str::to_string),
        text,
        techniques,
        timeline: positions,
        evidence,
        source: "analysis".into(),
    }
}

/// Turns a tactic short name such as `command-and-control` into `Command and control`.
fn tactic_label(tactic: Option<&str>) -> String {
    let Some(tactic) = tactic else {
        return "Other activity".to_string();
    };
    let words = tactic.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(time: i64, description: &str, tactic: Option<&str>, technique: &str) -> TimelineEntry {
        TimelineEntry {
            time,
            host: Some("web01".into()),
            description: description.into(),
            tactic: tactic.map(str::to_string),
            techniques: vec![technique.to_string()],
            evidence: vec![format!("E{time}")],
        }
    }

    fn sample_timeline() -> Vec<TimelineEntry> {
        vec![
            entry(1, "failed logins", Some("credential-access"), "T1110.001"),
            entry(2, "login as root", Some("initial-access"), "T1078"),
            entry(3, "ran \"id\"", None, "T0000"),
            entry(4, "more failed logins", Some("credential-access"), "T1110.001"),
        ]
    }

    #[test]
    fn chain_orders_tactics_by_kill_chain() {
        let chain = attack_chain(&sample_timeline());
        let tactics: Vec<Option<&str>> = chain.iter().map(|s| s.tactic.as_deref()).collect();
        assert_eq!(tactics, [Some("initial-access"), Some("credential-access"), None]);
    }

    #[test]
    fn chain_groups_entries_of_one_tactic() {
        let chain = attack_chain(&sample_timeline());
        assert_eq!(chain[1].timeline, [0, 3]);
        assert_eq!(chain[1].techniques, ["T1110.001"]);
        assert_eq!(chain[1].evidence, ["E1", "E4"]);
    }

    #[test]
    fn chain_text_names_tactic_and_events() {
        let chain = attack_chain(&sample_timeline());
        assert_eq!(
            chain[1].text,
            "Credential access: failed logins on web01; more failed logins on web01."
        );
        assert!(chain[2].text.starts_with("Other activity: "), "{}", chain[2].text);
    }

    #[test]
    fn chain_counts_events_past_limit() {
        let timeline: Vec<TimelineEntry> =
            (0..6).map(|i| entry(i, "scan", Some("discovery"), "T1046")).collect();
        let chain = attack_chain(&timeline);
        assert_eq!(chain.len(), 1);
        assert!(chain[0].text.ends_with("; and 2 more."), "{}", chain[0].text);
    }

    #[test]
    fn chain_of_empty_timeline_is_empty() {
        assert!(attack_chain(&[]).is_empty());
    }

    #[test]
    fn chain_source_is_analysis() {
        let chain = attack_chain(&sample_timeline());
        assert!(chain.iter().all(|s| s.source == "analysis"));
    }
}
