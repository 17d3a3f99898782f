//! Markdown rendering of a report, for analysts who read it in a ticket,
//! a wiki or a terminal.
//!
//! Every value that can come from logs (alert names, hosts, accounts, raw
//! events, rule titles) goes through [`inline`] or a fenced code block, so log
//! content cannot add headings, lists, table columns, links or HTML to the
//! document: Markdown punctuation is backslash-escaped, a block marker at the
//! start of a value is escaped, and line breaks become a visible `↵`.

use std::fmt::Write;

use serde::Serialize;

use crate::analysis::{Finding, IndicatorRecord, RemediationKind, RemediationStep};
use crate::event::{format_rfc3339, parse_splunk_time, Row, TimestampMicros};

use super::parts;
use super::{EvidenceRecord, Report, Status};

/// Maximum characters of `_raw` shown per sample row; longer values end in `…`.
const RAW_PREVIEW_CHARS: usize = 200;
/// Maximum sample rows shown per evidence record.
const MAX_SAMPLES: usize = 3;

/// Renders the report as a Markdown document (CommonMark with GFM tables).
pub fn render(report: &Report) -> String {
    let mut doc = Doc::default();
    title(&mut doc, report);
    metadata(&mut doc, report);
    doc.heading("Summary");
    doc.paragraphs(&report.summary, "No summary was written.");
    verdict(&mut doc, report);
    severity(&mut doc, report);
    confidence(&mut doc, report);
    timeline(&mut doc, report);
    attack_chain(&mut doc, report);
    techniques(&mut doc, report);
    indicators(&mut doc, report);
    affected(&mut doc, report);
    findings(&mut doc, &report.findings);
    remediation(&mut doc, &report.remediation);
    evidence(&mut doc, &report.evidence);
    steps(&mut doc, report);
    model(&mut doc, report);
    doc.heading("Notices");
    doc.list(report.notices.iter().map(|n| inline(n)), "No notices.");
    doc.finish()
}

/// A Markdown document under construction; every block ends with a blank line.
#[derive(Default)]
struct Doc {
    out: String,
}

impl Doc {
    fn heading(&mut self, text: &str) {
        self.out.push_str("## ");
        self.out.push_str(text);
        self.out.push_str("\n\n");
    }

    fn subheading(&mut self, text: &str) {
        self.out.push_str("### ");
        self.out.push_str(text);
        self.out.push_str("\n\n");
    }

    /// Writes a line of already escaped Markdown as its own paragraph.
    fn para(&mut self, markdown: &str) {
        self.out.push_str(markdown);
        self.out.push_str("\n\n");
    }

    /// Writes untrusted text as paragraphs, keeping its blank-line breaks.
    fn paragraphs(&mut self, text: &str, empty: &str) {
        let blocks: Vec<String> = text
            .split("\n\n")
            .map(|block| {
                block
                    .lines()
                    .map(|l| inline(l.trim()))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|block| !block.trim().is_empty())
            .collect();
        if blocks.is_empty() {
            self.para(empty);
        }
        for block in blocks {
            self.para(&block);
        }
    }

    /// Writes a bullet list of already escaped items, or `empty` when there are none.
    fn list(&mut self, items: impl Iterator<Item = String>, empty: &str) {
        let mut any = false;
        for item in items {
            any = true;
            let _ = writeln!(self.out, "- {item}");
        }
        if any {
            self.out.push('\n');
        } else {
            self.para(empty);
        }
    }

    /// Writes a GFM table; cells must already be escaped with [`inline`].
    fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let _ = writeln!(self.out, "| {} |", headers.join(" | "));
        let rule: Vec<&str> = headers.iter().map(|_| "---").collect();
        let _ = writeln!(self.out, "| {} |", rule.join(" | "));
        for row in rows {
            let _ = writeln!(self.out, "| {} |", row.join(" | "));
        }
        self.out.push('\n');
    }

    /// Writes a fenced code block whose fence is longer than any backtick run in `text`.
    fn code_block(&mut self, info: &str, text: &str) {
        let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
        let _ = writeln!(
            self.out,
            "{fence}{info}\n{}\n{fence}\n",
            text.trim_end_matches('\n')
        );
    }

    fn finish(mut self) -> String {
        let end = self.out.trim_end().len();
        self.out.truncate(end);
        self.out.push('\n');
        self.out
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Escapes untrusted text for use inside a paragraph, list item, heading or
/// table cell, so that it renders as the same characters and nothing more.
pub(crate) fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => out.push_str(" ↵ "),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push(' '),
            c if c.is_control() => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    escape_block_marker(out.trim_start())
}

/// Escapes a leading `#`, `-`, `+`, `=`, or an ordered-list marker such as
/// `1. ` or `1)` (digits, then `.` or `)`, then a space or the end), that
/// would start a block.
fn escape_block_marker(text: &str) -> String {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let mut after_digits = text[digits..].chars();
    let delimiter = after_digits.next();
    let ends_marker = after_digits.next().is_none_or(char::is_whitespace);
    if digits > 0 && matches!(delimiter, Some('.') | Some(')')) && ends_marker {
        return format!("{}\\{}", &text[..digits], &text[digits..]);
    }
    match text.chars().next() {
        Some('#' | '-' | '+' | '=') => format!("\\{text}"),
        _ => text.to_string(),
    }
}

/// Escapes each value and joins them with commas; `—` when there are none.
fn joined(values: &[String]) -> String {
    if values.is_empty() {
        return "—".to_string();
    }
    values
        .iter()
        .map(|v| inline(v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn time_or_dash(time: Option<TimestampMicros>) -> String {
    time.map(format_rfc3339).unwrap_or_else(|| "—".to_string())
}

/// Formats an integer with comma thousands separators, as in `1,208`.
pub(crate) fn group_digits(n: u64) -> String {
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

/// Returns the serde name of a unit enum variant, such as `ipv4` or `failed_authentication`.
pub(crate) fn serde_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "unknown".to_string(),
    }
}

/// Describes a status as `ok` or `failed: reason`.
pub(crate) fn status_text(status: &Status) -> String {
    match status {
        Status::Ok => "ok".to_string(),
        Status::Failed { reason } => format!("failed: {reason}"),
    }
}

fn alert_name(report: &Report) -> &str {
    report
        .alert
        .search_name
        .as_deref()
        .unwrap_or("unnamed alert")
}

fn title(doc: &mut Doc, report: &Report) {
    let level = report.severity.level.as_str();
    let _ = write!(doc.out, "# {} — {level}\n\n", inline(alert_name(report)));
}

fn metadata(doc: &mut Doc, report: &Report) {
    let planner = match &report.planner.model {
        Some(model) => format!("{} ({})", report.planner.kind, model),
        None => report.planner.kind.clone(),
    };
    let backend = format!("{}: {}", report.backend.kind, report.backend.description);
    let sid = report.alert.sid.as_deref().unwrap_or("—");
    let rows: Vec<Vec<String>> = [
        ("Report ID", report.id.as_str()),
        ("Generated at", report.generated_at.as_str()),
        ("Alert SID", sid),
        ("Alert class", report.alert.class.label()),
        ("Backend", backend.as_str()),
        ("Planner", planner.as_str()),
        ("Schema version", report.schema_version.as_str()),
    ]
    .iter()
    .map(|(field, value)| vec![field.to_string(), inline(value)])
    .collect();
    doc.table(&["Field", "Value"], &rows);
}

fn severity(doc: &mut Doc, report: &Report) {
    let severity = &report.severity;
    doc.heading("Severity");
    doc.para(&format!(
        "**Level:** {} (score {} of 100)",
        severity.level.as_str(),
        severity.score
    ));
    let reasons = severity.reasons.iter().map(|r| inline(r));
    doc.list(reasons, "No severity reasons were recorded.");
}

fn confidence(doc: &mut Doc, report: &Report) {
    doc.heading("Confidence");
    doc.para(&format!("**Level:** {}", inline(&report.confidence.level)));
    let reasons = report.confidence.reasons.iter().map(|r| inline(r));
    doc.list(reasons, "No confidence reasons were recorded.");
}

fn timeline(doc: &mut Doc, report: &Report) {
    doc.heading("Attack-chain timeline");
    if report.timeline.is_empty() {
        doc.para("The timeline is empty: no events were placed on it.");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .timeline
        .iter()
        .map(|entry| {
            let event = match &entry.tactic {
                Some(tactic) => format!("{} ({})", inline(&entry.description), inline(tactic)),
                None => inline(&entry.description),
            };
            vec![
                format_rfc3339(entry.time),
                inline(entry.host.as_deref().unwrap_or("—")),
                event,
                joined(&entry.techniques),
                joined(&entry.evidence),
            ]
        })
        .collect();
    doc.table(
        &["Time (UTC)", "Host", "Event", "Techniques", "Evidence"],
        &rows,
    );
}

fn techniques(doc: &mut Doc, report: &Report) {
    doc.heading("ATT&CK techniques");
    if report.techniques.is_empty() {
        doc.para("No ATT&CK techniques were mapped.");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .techniques
        .iter()
        .map(|hit| {
            vec![
                inline(&hit.id),
                inline(&hit.name),
                joined(&hit.tactics),
                group_digits(hit.event_count),
                joined(&hit.rules),
                joined(&hit.evidence),
            ]
        })
        .collect();
    doc.table(
        &["ID", "Name", "Tactics", "Events", "Rules", "Evidence"],
        &rows,
    );
}

/// Describes an indicator's intel matches, such as `feed (confidence 90; tags: scanner)`.
fn intel_text(record: &IndicatorRecord) -> String {
    if record.intel.is_empty() {
        return "none".to_string();
    }
    let matches: Vec<String> = record
        .intel
        .iter()
        .map(|m| {
            let mut text = format!("{} (confidence {}", inline(&m.source), m.confidence);
            if m.indicator != record.value {
                let _ = write!(text, "; listed as {}", inline(&m.indicator));
            }
            if !m.tags.is_empty() {
                let _ = write!(text, "; tags: {}", joined(&m.tags));
            }
            text.push(')');
            text
        })
        .collect();
    matches.join("; ")
}

fn indicators(doc: &mut Doc, report: &Report) {
    doc.heading("Indicators");
    if report.indicators.is_empty() {
        doc.para("No indicators were extracted from the evidence.");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .indicators
        .iter()
        .map(|record| {
            vec![
                inline(&record.value),
                serde_name(&record.kind),
                group_digits(record.occurrences),
                intel_text(record),
                joined(&record.evidence),
            ]
        })
        .collect();
    doc.table(
        &["Value", "Kind", "Occurrences", "Intel matches", "Evidence"],
        &rows,
    );
}

fn affected(doc: &mut Doc, report: &Report) {
    doc.heading("Affected hosts, accounts and addresses");
    let affected = &report.affected;
    let groups = [
        ("Hosts", &affected.hosts),
        ("Accounts", &affected.accounts),
        ("Addresses", &affected.addresses),
    ];
    let items = groups.iter().map(|(label, values)| {
        let values = if values.is_empty() {
            "none".to_string()
        } else {
            joined(values)
        };
        format!("**{label}:** {values}")
    });
    doc.list(items, "No hosts, accounts or addresses were identified.");
}

fn findings(doc: &mut Doc, findings: &[Finding]) {
    doc.heading("Findings");
    if findings.is_empty() {
        doc.para("No findings were drawn from the evidence.");
        return;
    }
    for finding in findings {
        doc.subheading(&format!(
            "{} · {}",
            inline(&finding.id),
            inline(&finding.title)
        ));
        let mut items = vec![format!("**Category:** {}", serde_name(&finding.category))];
        // Findings that count no events, such as intel matches, leave the count out.
        if finding.count > 0 {
            items.push(format!("**Count:** {}", group_digits(finding.count)));
        }
        items.extend([
            format!("**First seen:** {}", time_or_dash(finding.first_seen)),
            format!("**Last seen:** {}", time_or_dash(finding.last_seen)),
            format!("**Techniques:** {}", joined(&finding.techniques)),
            format!("**Evidence:** {}", joined(&finding.evidence)),
        ]);
        doc.list(items.into_iter(), "");
        if !finding.detail.trim().is_empty() {
            doc.paragraphs(&finding.detail, "");
        }
    }
}

fn remediation(doc: &mut Doc, steps: &[RemediationStep]) {
    doc.heading("Remediation");
    if steps.is_empty() {
        doc.para("No remediation steps were proposed.");
        return;
    }
    let immediate: Vec<&RemediationStep> = steps
        .iter()
        .filter(|s| s.kind == RemediationKind::Immediate)
        .collect();
    let mitigations: Vec<&RemediationStep> = steps
        .iter()
        .filter(|s| s.kind == RemediationKind::Mitigation)
        .collect();

    doc.subheading("Immediate steps");
    if immediate.is_empty() {
        doc.para("No immediate steps were proposed.");
    } else {
        for (i, step) in immediate.iter().enumerate() {
            let _ = writeln!(doc.out, "{}. {}", i + 1, remediation_text(step));
        }
        doc.out.push('\n');
    }

    doc.subheading("Mitigations");
    let items = mitigations.iter().map(|step| {
        let text = format!(
            "{} Techniques: {}.",
            remediation_text(step),
            joined(&step.techniques)
        );
        match mitigation_prefix(step) {
            Some(id) => format!("**{}:** {text}", inline(id)),
            None => text,
        }
    });
    doc.list(items, "No ATT&CK mitigations apply to the techniques seen.");
}

/// Returns the mitigation ID to print before a step, unless its action already starts with it.
pub(crate) fn mitigation_prefix(step: &RemediationStep) -> Option<&str> {
    step.mitigation
        .as_deref()
        .filter(|id| !step.action.starts_with(id))
}

fn remediation_text(step: &RemediationStep) -> String {
    let mut text = match &step.model_text {
        Some(worded) => format!(
            "**{}** (worded by the model; the analysis wrote: {})",
            inline(worded),
            inline(&step.action)
        ),
        None => format!("**{}**", inline(&step.action)),
    };
    if !step.reason.trim().is_empty() {
        let _ = write!(text, " — {}", inline(&step.reason));
    }
    if !step.findings.is_empty() {
        let _ = write!(text, " (findings: {})", joined(&step.findings));
    }
    text
}

fn evidence(doc: &mut Doc, records: &[EvidenceRecord]) {
    doc.heading("Evidence appendix");
    if records.is_empty() {
        doc.para("No queries ran.");
        return;
    }
    for record in records {
        doc.subheading(&format!(
            "{} · {}",
            inline(&record.id),
            inline(&record.action)
        ));
        let items = [
            format!("**Step:** {}", record.step),
            format!("**Backend:** {}", inline(&record.backend)),
            format!("**Status:** {}", inline(&status_text(&record.status))),
            format!("**Results:** {}", group_digits(record.result_count)),
            format!("**Duration:** {:.1} ms", record.duration_ms),
        ];
        doc.list(items.into_iter(), "");
        doc.code_block("spl", &record.query);
        samples(doc, &record.samples);
    }
}

fn samples(doc: &mut Doc, rows: &[Row]) {
    let displayed = &rows[..rows.len().min(MAX_SAMPLES)];
    if displayed.is_empty() {
        doc.para("No sample rows.");
        return;
    }
    let note = format!("Sample rows ({} of {}):", displayed.len(), rows.len());
    doc.para(&note);
    if displayed.iter().any(|row| row.contains_key("_raw")) {
        let cells: Vec<Vec<String>> = displayed.iter().map(sample_cells).collect();
        doc.table(&["_time", "host", "_raw"], &cells);
    } else {
        let lines: Vec<String> = displayed
            .iter()
            .map(|row| {
                truncate(
                    &serde_json::to_string(row).unwrap_or_default(),
                    RAW_PREVIEW_CHARS,
                )
            })
            .collect();
        doc.code_block("json", &lines.join("\n"));
    }
}

fn sample_cells(row: &Row) -> Vec<String> {
    let field = |name: &str| row.get(name).map(ToString::to_string).unwrap_or_default();
    let time = field("_time");
    let time = parse_splunk_time(&time).map(format_rfc3339).unwrap_or(time);
    vec![
        inline(&time),
        inline(&field("host")),
        inline(&truncate(&field("_raw"), RAW_PREVIEW_CHARS)),
    ]
}

/// Cuts text to at most `max` characters, marking a cut with `…`.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn steps(doc: &mut Doc, report: &Report) {
    doc.heading("Investigation steps");
    if report.steps.is_empty() {
        doc.para("No investigation steps were recorded.");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .steps
        .iter()
        .map(|step| {
            vec![
                step.index.to_string(),
                inline(&step.name),
                inline(&status_text(&step.status)),
                inline(&step.summary),
                inline(&step.reason),
                format_rfc3339(step.started_at),
                format!("{:.1} ms", step.duration_ms),
                joined(&step.evidence),
            ]
        })
        .collect();
    let headers = [
        "#",
        "Step",
        "Status",
        "Outcome",
        "Reason",
        "Started (UTC)",
        "Duration",
        "Evidence",
    ];
    doc.table(&headers, &rows);
}

fn verdict(doc: &mut Doc, report: &Report) {
    doc.heading("Verdict");
    let Some(verdict) = &report.verdict else {
        doc.para("No verdict was recorded.");
        return;
    };
    doc.para(&format!("**Verdict:** {}", inline(&parts::verdict_headline(verdict))));
    let reasons = verdict.reasons.iter().map(|r| inline(r));
    doc.list(reasons, "No verdict reasons were recorded.");
}

fn attack_chain(doc: &mut Doc, report: &Report) {
    doc.heading("Attack chain");
    if report.attack_chain.is_empty() {
        doc.para("The attack chain is empty: no events were placed on the timeline.");
        return;
    }
    for (i, stage) in report.attack_chain.iter().enumerate() {
        let _ = writeln!(
            doc.out,
            "{}. **{}** {} ({})",
            i + 1,
            inline(&parts::stage_title(stage)),
            inline(&stage.text),
            inline(&parts::stage_citations(stage))
        );
    }
    doc.out.push('\n');
}

/// Writes the model section: overview, decisions, rejected parts, marked values and calls.
fn model(doc: &mut Doc, report: &Report) {
    let Some((llm, calls)) = parts::model_part(report) else {
        return;
    };
    doc.heading("Model");
    let overview: Vec<Vec<String>> = parts::model_overview(llm, calls)
        .into_iter()
        .map(|(field, value)| vec![field.to_string(), inline(&value)])
        .collect();
    doc.table(&["Field", "Value"], &overview);

    doc.subheading("Decisions");
    if llm.decisions.is_empty() {
        doc.para("No decisions were recorded.");
    } else {
        doc.table(&parts::DECISION_HEADERS, &escaped(parts::decision_rows(llm)));
    }

    doc.subheading("Rejected parts of the closing answer");
    let rejected = parts::rejected_lines(llm);
    doc.list(rejected.iter().map(|l| inline(l)), "None were rejected.");

    doc.subheading("Unverified values");
    doc.list(llm.unverified.iter().map(|v| inline(v)), "None: every value in model text was returned by a search.");

    doc.subheading("Absence stated as fact");
    doc.list(llm.absence_claims.iter().map(|c| inline(c)), "None.");

    doc.subheading("Model calls");
    if calls.is_empty() {
        doc.para("No model calls were recorded.");
    } else {
        doc.table(&parts::CALL_HEADERS, &escaped(parts::call_rows(calls)));
    }
}

fn escaped(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|row| row.iter().map(|cell| inline(cell)).collect())
        .collect()
}

#[cfg(test)]
mod tests;
