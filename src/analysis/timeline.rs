//! The attack-chain timeline: what happened, in order, with its evidence.
//!
//! Each finding contributes an entry at its first sighting. Commands run on a
//! host contribute one entry per distinct command, because the order of an
//! intruder's commands is itself evidence. Entries are sorted by time.

use std::collections::HashMap;

use crate::agent::report_builder::MappedEvent;
use crate::event::{format_rfc3339, TimestampMicros};

use super::attack::Catalogue;
use super::{Finding, FindingCategory, TimelineEntry};

/// Maximum number of distinct-command entries, so a busy host cannot flood the timeline.
const MAX_COMMAND_ENTRIES: usize = 40;

/// Builds the timeline from findings and the events behind them.
pub fn build(findings: &[Finding], events: &[MappedEvent], catalogue: &Catalogue) -> Vec<TimelineEntry> {
    let mut entries = Vec::new();
    for finding in findings {
        let skip = matches!(
            finding.category,
            FindingCategory::Observation | FindingCategory::IntelMatch | FindingCategory::NoSuccessfulAuthentication
        );
        if skip {
            continue;
        }
        if finding.category == FindingCategory::ProcessExecution {
            entries.extend(command_entries(finding, events, catalogue));
            continue;
        }
        let Some(time) = finding.first_seen else { continue };
        entries.push(TimelineEntry {
            time,
            host: finding.hosts.first().cloned(),
            description: finding.title.clone(),
            tactic: tactic_of(&finding.techniques, catalogue),
            techniques: finding.techniques.clone(),
            evidence: finding.evidence.clone(),
        });
    }
    entries.sort_by(|a, b| a.time.cmp(&b.time).then(a.description.cmp(&b.description)));
    entries
}

fn command_entries(finding: &Finding, events: &[MappedEvent], catalogue: &Catalogue) -> Vec<TimelineEntry> {
    // Identical commands (a cron job running every five minutes) become one
    // entry at their first run, with the run count and the last run time.
    let mut entries: Vec<TimelineEntry> = Vec::new();
    let mut repeats: Vec<(usize, TimestampMicros)> = Vec::new();
    let mut by_command: HashMap<&str, usize> = HashMap::new();
    let cited = |e: &&MappedEvent| finding.evidence.iter().any(|id| e.evidence.contains(id));
    let mut commands: Vec<(TimestampMicros, &MappedEvent)> = events
        .iter()
        .filter(cited)
        .filter_map(|e| Some((e.time?, e)))
        .filter(|(_, e)| e.command.is_some())
        .collect();
    commands.sort_by_key(|(time, _)| *time);
    for (time, event) in commands {
        let command = event.command.as_deref().unwrap_or_default();
        if let Some(&i) = by_command.get(command) {
            repeats[i].0 += 1;
            repeats[i].1 = time;
            continue;
        }
        if entries.len() == MAX_COMMAND_ENTRIES {
            continue;
        }
        by_command.insert(command, entries.len());
        repeats.push((1, time));
        entries.push(TimelineEntry {
            time,
            host: event.host.clone(),
            description: format!("ran \"{command}\""),
            tactic: tactic_of(&event.techniques, catalogue),
            techniques: event.techniques.clone(),
            evidence: event.evidence.iter().cloned().collect(),
        });
    }
    for (entry, (count, last)) in entries.iter_mut().zip(repeats) {
        if count > 1 {
            entry.description.push_str(&format!(" ({count} times, the last at {})", format_rfc3339(last)));
        }
    }
    entries
}

/// ATT&CK Enterprise tactics in kill-chain order, as the ATT&CK matrix lists them.
const KILL_CHAIN: [&str; 14] = [
    "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
    "privilege-escalation", "defense-evasion", "credential-access", "discovery",
    "lateral-movement", "collection", "command-and-control", "exfiltration", "impact",
];

/// Returns the earliest kill-chain tactic of the first technique found in
/// the catalogue, so a valid-account login reads as initial access rather
/// than the first tactic the catalogue happens to list.
fn tactic_of(techniques: &[String], catalogue: &Catalogue) -> Option<String> {
    let tactics = techniques.iter().find_map(|id| catalogue.get(id).map(|t| &t.tactics))?;
    let rank = |t: &String| KILL_CHAIN.iter().position(|k| k == t).unwrap_or(KILL_CHAIN.len());
    tactics.iter().min_by_key(|t| rank(t)).cloned()
}
