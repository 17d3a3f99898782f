//! Plain-text pieces of the verdict, the attack chain and the model record,
//! shared by the Markdown and PDF renderings so both show the same facts.
//!
//! Cells are unescaped text: the Markdown renderer escapes each one, the PDF
//! renderer prints it as it is.

use super::{ChainStage, LlmRecord, ModelCall, Report, Verdict};

/// Describes a verdict as `true_positive, confidence high, from the analysis`.
pub(crate) fn verdict_headline(verdict: &Verdict) -> String {
    format!(
        "{}, confidence {}, from the {}",
        verdict.verdict, verdict.confidence, verdict.source
    )
}

/// Returns a stage's title, such as `Credential access (model)`.
pub(crate) fn stage_title(stage: &ChainStage) -> String {
    let tactic = stage.tactic.as_deref().unwrap_or("other activity");
    format!("{tactic} ({})", stage.source)
}

/// Lists what a stage cites: techniques, timeline entries and evidence.
pub(crate) fn stage_citations(stage: &ChainStage) -> String {
    let positions: Vec<String> = stage.timeline.iter().map(usize::to_string).collect();
    format!(
        "techniques: {}; timeline entries: {}; evidence: {}",
        dash_if_empty(&stage.techniques.join(", ")),
        dash_if_empty(&positions.join(", ")),
        dash_if_empty(&stage.evidence.join(", "))
    )
}

fn dash_if_empty(text: &str) -> String {
    if text.is_empty() {
        "—".to_string()
    } else {
        text.to_string()
    }
}

/// Field and value rows of the model overview: provider, masking, usage, cost.
pub(crate) fn model_overview(llm: &LlmRecord, calls: &[ModelCall]) -> Vec<(&'static str, String)> {
    let masking = if llm.masking { "on" } else { "off" };
    let total_ms: f64 = calls.iter().map(|c| c.duration_ms).sum();
    vec![
        ("Provider", llm.provider.clone()),
        ("Model", llm.model.clone()),
        ("Masking", masking.to_string()),
        ("Summary written by", dash_if_empty(&llm.summary_source)),
        ("Tokens in", llm.input_tokens.to_string()),
        ("Tokens out", llm.output_tokens.to_string()),
        ("Estimated cost", format!("{:.4} (from the configured prices)", llm.cost)),
        ("Model calls", format!("{} ({total_ms:.1} ms in all)", calls.len())),
    ]
}

/// Column headers of [`decision_rows`].
pub(crate) const DECISION_HEADERS: [&str; 6] =
    ["Iteration", "Attempt", "Outcome", "Actions", "Reason", "Decided by"];

/// Builds one row per planner decision, showing iteration 0 (the closing summary) as `summary`.
pub(crate) fn decision_rows(llm: &LlmRecord) -> Vec<Vec<String>> {
    llm.decisions
        .iter()
        .map(|d| {
            let iteration = if d.iteration == 0 {
                "summary".to_string()
            } else {
                d.iteration.to_string()
            };
            vec![
                iteration,
                d.attempt.to_string(),
                d.outcome.clone(),
                dash_if_empty(&d.actions.join("; ")),
                d.reason.clone(),
                d.decided_by.clone().unwrap_or_else(|| "—".to_string()),
            ]
        })
        .collect()
}

/// Column headers of [`call_rows`].
pub(crate) const CALL_HEADERS: [&str; 7] =
    ["#", "Purpose", "Duration", "Tokens in", "Tokens out", "Cost", "Error"];

/// Builds one row per model call, numbered from 1.
pub(crate) fn call_rows(calls: &[ModelCall]) -> Vec<Vec<String>> {
    calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            vec![
                (i + 1).to_string(),
                call.purpose.clone(),
                format!("{:.1} ms", call.duration_ms),
                call.input_tokens.to_string(),
                call.output_tokens.to_string(),
                format!("{:.4}", call.cost),
                call.error.clone().unwrap_or_else(|| "—".to_string()),
            ]
        })
        .collect()
}

/// Lists the rejected parts of the closing response as `part: reason`.
pub(crate) fn rejected_lines(llm: &LlmRecord) -> Vec<String> {
    llm.rejected
        .iter()
        .map(|r| format!("{}: {}", r.part, r.reason))
        .collect()
}

/// Returns the model record and calls when a model took part.
pub(crate) fn model_part(report: &Report) -> Option<(&LlmRecord, &[ModelCall])> {
    report.llm.as_ref().map(|llm| (llm, report.model_calls.as_slice()))
}
