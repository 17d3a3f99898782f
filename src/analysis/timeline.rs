//! The attack-chain timeline: what happened, in order, with its evidence.
//!
//! Each finding contributes an entry at its first sighting; commands run on a
//! host contribute one entry each, since the order of an intruder's commands
//! is itself evidence. Entries are sorted by time.

use crate::agent::report_builder::MappedEvent;

use super::attack::Catalogue;
use super::{Finding, FindingCategory, TimelineEntry};

/// Maximum number of single-command entries, so a busy host cannot flood the timeline.
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

fn command_entries<'a>(
    finding: &'a Finding,
    events: &'a [MappedEvent],
    catalogue: &'a Catalogue,
) -> impl Iterator<Item = TimelineEntry> + 'a {
    events
        .iter()
        .filter(|e| e.command.is_some() && finding.evidence.iter().any(|id| e.evidence.contains(id)))
        .filter_map(|e| Some((e.time?, e)))
        .take(MAX_COMMAND_ENTRIES)
        .map(|(time, e)| TimelineEntry {
            time,
            host: e.host.clone(),
            description: format!("ran `{}`", e.command.as_deref().unwrap_or_default()),
            tactic: tactic_of(&e.techniques, catalogue),
            techniques: e.techniques.clone(),
            evidence: e.evidence.iter().cloned().collect(),
        })
}

/// The first tactic of the first technique the catalogue knows.
fn tactic_of(techniques: &[String], catalogue: &Catalogue) -> Option<String> {
    techniques.iter().find_map(|id| catalogue.get(id)?.tactics.first().cloned())
}
