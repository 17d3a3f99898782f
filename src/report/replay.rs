//! Re-running an investigation from the model calls recorded in its report.
//!
//! [`prepare`] rebuilds the alert from the report and a planner that plays
//! back the recorded responses in order ([`LlmPlanner::replay`]). Run against
//! the same evidence, the investigation takes the same steps, and the model
//! record, findings and severity come out the same; ids, times and durations
//! differ. [`first_difference`] checks that: it compares the new report
//! with the recorded one and names the first step, decision or severity that
//! differs, as happens when the evidence changed or calls were removed.
//!
//! NOTE: top-level alert fields beyond Splunk's six (such as `result_count`)
//! are not kept in the report, so the replayed alert lacks them. No step reads
//! them today.

use crate::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use crate::alert::Alert;

use super::{AlertSummary, ModelDecision, Report};

/// Errors replaying a report.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(
        "report {id} has no recorded model calls, so there is nothing to replay; only \
         investigations planned by a model (LLM_PROVIDER set) can be replayed"
    )]
    NoModelCalls { id: String },
    #[error("cannot read report {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is not an Argus report: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

/// Reads and parses a report file.
pub fn read_report(path: &std::path::Path) -> Result<Report, ReplayError> {
    let path_text = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ReplayError::Read {
        path: path_text.clone(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|source| ReplayError::Json {
        path: path_text,
        source,
    })
}

/// Returns the alert and the replaying planner for a recorded investigation.
pub fn prepare(report: &Report) -> Result<(Alert, LlmPlanner), ReplayError> {
    if report.model_calls.is_empty() {
        return Err(ReplayError::NoModelCalls {
            id: report.id.clone(),
        });
    }
    let wrote_summary = report.model_calls.iter().any(|c| c.purpose == "summary");
    let settings = LlmPlannerSettings {
        write_summary: wrote_summary,
        ..LlmPlannerSettings::default()
    };
    let planner = LlmPlanner::replay(report, settings);
    Ok((alert_of(&report.alert), planner))
}

/// Compares a replayed report with the recorded one: step names in order,
/// each model decision's outcome and actions, then the severity level.
/// Returns the first difference in words, or `None` when they match. Decision
/// reasons are not compared, because fallback reasons quote error text.
pub fn first_difference(recorded: &Report, replayed: &Report) -> Option<String> {
    let step_count = recorded.steps.len().max(replayed.steps.len());
    for index in 0..step_count {
        let name = |report: &Report| report.steps.get(index).map(|s| s.name.clone());
        let (old, new) = (name(recorded), name(replayed));
        if old != new {
            return Some(format!(
                "step {} was {} and is now {}",
                index + 1,
                or_none(old),
                or_none(new)
            ));
        }
    }

    // Same steps over other evidence find other things, and the model saw them.
    for (index, (before, after)) in recorded.steps.iter().zip(&replayed.steps).enumerate() {
        if before.summary != after.summary {
            return Some(format!(
                "step {} ({}) found \"{}\" and now finds \"{}\"",
                index + 1,
                before.name,
                before.summary,
                after.summary
            ));
        }
    }

    let (old, new) = (decisions_of(recorded), decisions_of(replayed));
    for index in 0..old.len().max(new.len()) {
        let (before, after) = (old.get(index), new.get(index));
        let same = match (before, after) {
            (Some(a), Some(b)) => a.outcome == b.outcome && a.actions == b.actions,
            _ => false,
        };
        if !same {
            return Some(format!(
                "decision {} was {} and is now {}",
                index + 1,
                describe_decision(before),
                describe_decision(after)
            ));
        }
    }

    let (old, new) = (recorded.severity.level, replayed.severity.level);
    (old != new).then(|| format!("severity was {old:?} and is now {new:?}"))
}

fn decisions_of(report: &Report) -> &[ModelDecision] {
    report.llm.as_ref().map_or(&[], |llm| &llm.decisions)
}

fn or_none(name: Option<String>) -> String {
    name.unwrap_or_else(|| "absent".to_string())
}

fn describe_decision(decision: Option<&ModelDecision>) -> String {
    match decision {
        None => "absent".to_string(),
        Some(d) if d.actions.is_empty() => format!("{} (no actions)", d.outcome),
        Some(d) => format!("{} ({})", d.outcome, d.actions.join(", ")),
    }
}

/// Rebuilds the alert the report restates.
pub fn alert_of(summary: &AlertSummary) -> Alert {
    Alert {
        sid: summary.sid.clone(),
        search_name: summary.search_name.clone(),
        app: summary.app.clone(),
        owner: summary.owner.clone(),
        results_link: summary.results_link.clone(),
        result: summary.result.clone(),
        extra: serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn report_without_calls_rejected() {
        let report = sample::report();
        let error = prepare(&report).err().expect("no calls to replay");
        let message = error.to_string();
        assert!(message.contains("inv-20231210-0655-7f3a"), "{message}");
        assert!(message.contains("no recorded model calls"), "{message}");
    }

    #[test]
    fn alert_keeps_class() {
        let report = sample::report();
        let alert = alert_of(&report.alert);
        assert_eq!(alert.class(), report.alert.class);
        assert_eq!(alert.sid, report.alert.sid);
    }

    #[test]
    fn same_report_has_no_difference() {
        let report = sample::report_with_model();
        assert_eq!(first_difference(&report, &report.clone()), None);
    }

    #[test]
    fn missing_step_is_difference() {
        let recorded = sample::report_with_model();
        let mut replayed = recorded.clone();
        let removed = replayed.steps.pop().expect("sample has steps");
        let message = first_difference(&recorded, &replayed).expect("steps differ");
        let position = recorded.steps.len();
        assert_eq!(
            message,
            format!("step {position} was {} and is now absent", removed.name)
        );
    }

    #[test]
    fn changed_step_result_is_difference() {
        let recorded = sample::report_with_model();
        let mut replayed = recorded.clone();
        replayed.steps[1].summary = "3,562 events, 3 sourcetypes, 1 host".into();
        let message = first_difference(&recorded, &replayed).expect("results differ");
        let expected = format!(
            "step 2 ({}) found \"{}\" and now finds \"3,562 events, 3 sourcetypes, 1 host\"",
            recorded.steps[1].name, recorded.steps[1].summary
        );
        assert_eq!(message, expected);
    }

    #[test]
    fn changed_decision_is_difference() {
        let recorded = sample::report_with_model();
        let mut replayed = recorded.clone();
        let decisions = &mut replayed.llm.as_mut().unwrap().decisions;
        decisions[0].outcome = "fallback".into();
        decisions[0].actions = vec!["run_spl(x)".into()];
        let message = first_difference(&recorded, &replayed).expect("decisions differ");
        assert!(message.starts_with("decision 1 was "), "{message}");
        assert!(
            message.ends_with("is now fallback (run_spl(x))"),
            "{message}"
        );
    }

    #[test]
    fn replay_keeps_masking() {
        let report = sample::report_with_model();
        let (_, planner) = prepare(&report).expect("calls recorded");
        assert!(planner.masking());
    }
}
