//! Re-running an investigation from the model calls recorded in its report.
//!
//! [`prepare`] rebuilds the alert from the report and a planner that plays
//! back the recorded responses in order ([`LlmPlanner::replay`]). Run against
//! the same evidence, the investigation takes the same steps, and the model
//! record, findings and severity come out the same; ids, times and durations
//! differ.
//!
//! NOTE: top-level alert fields beyond Splunk's six (such as `result_count`)
//! are not kept in the report, so the replayed alert lacks them. No step reads
//! them today.

use crate::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use crate::alert::Alert;

use super::{AlertSummary, Report};

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
    fn replay_keeps_masking() {
        let report = sample::report_with_model();
        let (_, planner) = prepare(&report).expect("calls recorded");
        assert!(planner.masking());
    }
}
