//! PDF rendering of a report, for sharing and printing.
//!
//! The document is A4 with 18 mm side margins and a footer carrying the
//! report id and "Page i of n". Text is set in DejaVu Sans (queries in DejaVu
//! Sans Mono), embedded in the file, so accented Latin, Greek and Cyrillic
//! text from logs renders. Lines wrap by measured glyph widths, and tables
//! break across pages with their header row repeated.
//!
//! NOTE: the three fonts are embedded whole, because printpdf 0.12 subsets
//! fonts only with its `text_layout` feature, which this build leaves off. A
//! two-page report is therefore about 0.95 MB.
//!
//! NOTE: DejaVu has no CJK glyphs, so Chinese, Japanese and Korean text is
//! drawn as missing-glyph boxes. The JSON and Markdown reports keep it intact.

mod layout;

use printpdf::{OffsetDateTime, PdfDocument, PdfSaveOptions};

use crate::analysis::{Finding, RemediationKind, RemediationStep};
use crate::event::{format_rfc3339, parse_splunk_time, Row, TimestampMicros};

use super::markdown::{group_digits, mitigation_prefix, serde_name, status_text, truncate};
use super::parts;
use super::{EvidenceRecord, Report, ReportError};
use layout::{Column, Fonts, Layout, Style};

/// Body text size in points.
const BODY: f32 = 9.5;
/// Table text size in points.
const TABLE: f32 = 8.0;
/// Shares of the text width taken by the columns of the decisions table,
/// wide enough for each header on one line.
const DECISION_SHARES: [f32; 6] = [0.1, 0.1, 0.1, 0.27, 0.31, 0.12];
/// Shares of the text width taken by the columns of the model calls table.
const CALL_SHARES: [f32; 7] = [0.05, 0.12, 0.13, 0.12, 0.12, 0.1, 0.36];
/// Maximum characters of `_raw` shown per sample row.
const RAW_PREVIEW_CHARS: usize = 200;
/// Maximum sample rows shown per evidence record.
const MAX_SAMPLES: usize = 3;

/// Renders the report as a PDF document.
pub fn render(report: &Report) -> Result<Vec<u8>, ReportError> {
    let title = alert_name(report);
    let mut doc = PdfDocument::new(&format!("{title}: incident report"));
    set_dates(&mut doc, &report.generated_at);
    let fonts = Fonts::load(&mut doc)?;
    let mut page = Layout::new(&fonts);

    heading_block(&mut page, report);
    summary(&mut page, report);
    verdict(&mut page, report);
    severity(&mut page, report);
    timeline(&mut page, report);
    attack_chain(&mut page, report);
    techniques(&mut page, report);
    indicators(&mut page, report);
    affected(&mut page, report);
    findings(&mut page, &report.findings);
    remediation(&mut page, &report.remediation);
    evidence(&mut page, &report.evidence);
    steps(&mut page, report);
    model(&mut page, report);
    notices(&mut page, report);

    let pages = page.finish(&format!("Argus incident report {}", report.id));
    doc.with_pages(pages);
    let mut warnings = Vec::new();
    let bytes = doc.save(&PdfSaveOptions::default(), &mut warnings);
    if bytes.is_empty() {
        return Err(ReportError::Pdf(format!(
            "printpdf returned no output: {warnings:?}"
        )));
    }
    Ok(bytes)
}

/// Sets the document's creation, modification and metadata dates to the report's
/// `generated_at`. A value that is not RFC 3339 leaves printpdf's default, the Unix epoch.
fn set_dates(doc: &mut PdfDocument, generated_at: &str) {
    let Ok(time) = chrono::DateTime::parse_from_rfc3339(generated_at) else {
        return;
    };
    let Ok(date) = OffsetDateTime::from_unix_timestamp(time.timestamp()) else {
        return;
    };
    let info = &mut doc.metadata.info;
    info.creation_date = date;
    info.modification_date = date;
    info.metadata_date = date;
}

fn alert_name(report: &Report) -> &str {
    report
        .alert
        .search_name
        .as_deref()
        .unwrap_or("unnamed alert")
}

fn body(page: &mut Layout, text: &str) {
    page.paragraph(Style::Regular(BODY), text, 0.0);
}

fn bullets<'t>(page: &mut Layout, items: impl IntoIterator<Item = &'t String>, empty: &str) {
    let mut any = false;
    for item in items {
        any = true;
        page.bullet(Style::Regular(BODY), item);
    }
    if !any {
        body(page, empty);
    }
}

fn columns<'h>(spec: &[(&'h str, f32)]) -> Vec<Column<'h>> {
    spec.iter()
        .map(|&(header, share)| Column {
            header,
            share,
            mono: false,
        })
        .collect()
}

fn joined(values: &[String]) -> String {
    if values.is_empty() {
        "—".to_string()
    } else {
        values.join(", ")
    }
}

fn heading_block(page: &mut Layout, report: &Report) {
    page.paragraph(Style::Bold(17.0), alert_name(report), 0.0);
    page.paragraph(
        Style::Bold(12.0),
        &format!("Severity {}", report.severity.level.as_str()),
        0.0,
    );
    page.space(4.0);
    let planner = match &report.planner.model {
        Some(model) => format!("{} ({model})", report.planner.kind),
        None => report.planner.kind.clone(),
    };
    let rows = [
        ("Report ID", report.id.clone()),
        ("Generated at", report.generated_at.clone()),
        (
            "Alert SID",
            report.alert.sid.clone().unwrap_or_else(|| "—".to_string()),
        ),
        ("Alert class", report.alert.class.label().to_string()),
        (
            "Backend",
            format!("{}: {}", report.backend.kind, report.backend.description),
        ),
        ("Planner", planner),
    ];
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(field, value)| vec![field.to_string(), value])
        .collect();
    page.table(&columns(&[("Field", 0.22), ("Value", 0.78)]), &rows, TABLE);
}

fn summary(page: &mut Layout, report: &Report) {
    page.heading("Summary", 13.0);
    let text = if report.summary.trim().is_empty() {
        "No summary was written."
    } else {
        report.summary.as_str()
    };
    for paragraph in text.split("\n\n") {
        body(page, paragraph);
        page.space(3.0);
    }
}

fn severity(page: &mut Layout, report: &Report) {
    let severity = &report.severity;
    page.heading("Severity", 13.0);
    let level = format!(
        "{} (score {} of 100)",
        severity.level.as_str(),
        severity.score
    );
    page.paragraph(Style::Bold(BODY), &level, 0.0);
    bullets(
        page,
        &severity.reasons,
        "No severity reasons were recorded.",
    );
    let confidence = format!("Confidence: {}", report.confidence.level);
    page.space(3.0);
    page.paragraph(Style::Bold(BODY), &confidence, 0.0);
    bullets(
        page,
        &report.confidence.reasons,
        "No confidence reasons were recorded.",
    );
}

fn timeline(page: &mut Layout, report: &Report) {
    if report.timeline.is_empty() {
        page.heading("Attack-chain timeline", 13.0);
        body(page, "The timeline is empty: no events were placed on it.");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .timeline
        .iter()
        .map(|entry| {
            let event = match &entry.tactic {
                Some(tactic) => format!("{} ({tactic})", entry.description),
                None => entry.description.clone(),
            };
            vec![
                format_rfc3339(entry.time),
                entry.host.clone().unwrap_or_else(|| "—".to_string()),
                event,
                joined(&entry.techniques),
                joined(&entry.evidence),
            ]
        })
        .collect();
    let spec = [
        ("Time (UTC)", 0.21),
        ("Host", 0.26),
        ("Event", 0.31),
        ("Techniques", 0.12),
        ("Evidence", 0.1),
    ];
    page.titled_table("Attack-chain timeline", 13.0, &columns(&spec), &rows, TABLE);
}

fn techniques(page: &mut Layout, report: &Report) {
    if report.techniques.is_empty() {
        page.heading("ATT&CK techniques", 13.0);
        body(page, "No ATT&CK techniques were mapped.");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .techniques
        .iter()
        .map(|hit| {
            vec![
                hit.id.clone(),
                hit.name.clone(),
                joined(&hit.tactics),
                group_digits(hit.event_count),
                joined(&hit.rules),
                joined(&hit.evidence),
            ]
        })
        .collect();
    let spec = [
        ("ID", 0.11),
        ("Name", 0.22),
        ("Tactics", 0.2),
        ("Events", 0.09),
        ("Rules", 0.27),
        ("Evidence", 0.11),
    ];
    page.titled_table("ATT&CK techniques", 13.0, &columns(&spec), &rows, TABLE);
}

fn indicators(page: &mut Layout, report: &Report) {
    if report.indicators.is_empty() {
        page.heading("Indicators", 13.0);
        body(page, "No indicators were extracted from the evidence.");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .indicators
        .iter()
        .map(|record| {
            let intel: Vec<String> = record
                .intel
                .iter()
                .map(|m| {
                    let mut text = format!("{} (confidence {}", m.source, m.confidence);
                    if m.indicator != record.value {
                        text.push_str(&format!("; listed as {}", m.indicator));
                    }
                    if !m.tags.is_empty() {
                        text.push_str(&format!("; tags: {}", m.tags.join(", ")));
                    }
                    text + ")"
                })
                .collect();
            vec![
                record.value.clone(),
                serde_name(&record.kind),
                group_digits(record.occurrences),
                if intel.is_empty() {
                    "none".to_string()
                } else {
                    intel.join("; ")
                },
                joined(&record.evidence),
            ]
        })
        .collect();
    let spec = [
        ("Value", 0.2),
        ("Kind", 0.07),
        ("Occurrences", 0.14),
        ("Intel matches", 0.46),
        ("Evidence", 0.13),
    ];
    page.titled_table("Indicators", 13.0, &columns(&spec), &rows, TABLE);
}

fn affected(page: &mut Layout, report: &Report) {
    page.heading("Affected hosts, accounts and addresses", 13.0);
    let affected = &report.affected;
    let none = |values: &[String]| {
        if values.is_empty() {
            "none".to_string()
        } else {
            values.join(", ")
        }
    };
    let items = [
        format!("Hosts: {}", none(&affected.hosts)),
        format!("Accounts: {}", none(&affected.accounts)),
        format!("Addresses: {}", none(&affected.addresses)),
    ];
    bullets(page, &items, "");
}

fn time_or_dash(time: Option<TimestampMicros>) -> String {
    time.map(format_rfc3339).unwrap_or_else(|| "—".to_string())
}

fn findings(page: &mut Layout, findings: &[Finding]) {
    page.heading("Findings", 13.0);
    if findings.is_empty() {
        body(page, "No findings were drawn from the evidence.");
        return;
    }
    for finding in findings {
        let title = format!("{} · {}", finding.id, finding.title);
        page.paragraph(Style::Bold(10.5), &title, 0.0);
        body(page, &finding_facts(finding));
        if !finding.detail.trim().is_empty() {
            page.space(2.0);
            body(page, finding.detail.trim());
        }
        page.space(6.0);
    }
}

/// Lists a finding's category, count, times, techniques and evidence in one
/// paragraph. The count is left out when it is 0, as for intel matches.
fn finding_facts(finding: &Finding) -> String {
    let mut facts = vec![format!("Category: {}.", serde_name(&finding.category))];
    if finding.count > 0 {
        facts.push(format!("Count: {}.", group_digits(finding.count)));
    }
    facts.push(format!("First seen: {}.", time_or_dash(finding.first_seen)));
    facts.push(format!("Last seen: {}.", time_or_dash(finding.last_seen)));
    facts.push(format!("Techniques: {}.", joined(&finding.techniques)));
    facts.push(format!("Evidence: {}.", joined(&finding.evidence)));
    facts.join(" ")
}

fn remediation(page: &mut Layout, steps: &[RemediationStep]) {
    page.heading("Remediation", 13.0);
    if steps.is_empty() {
        body(page, "No remediation steps were proposed.");
        return;
    }
    for (kind, title) in [
        (RemediationKind::Immediate, "Immediate steps"),
        (RemediationKind::Mitigation, "Mitigations"),
    ] {
        page.paragraph(Style::Bold(10.5), title, 0.0);
        let items: Vec<String> = steps
            .iter()
            .filter(|step| step.kind == kind)
            .map(|step| {
                let mut pieces = match &step.model_text {
                    Some(worded) => vec![
                        sentence(worded),
                        format!("(Worded by the model; the analysis wrote: {})", sentence(&step.action)),
                    ],
                    None => vec![sentence(&step.action)],
                };
                pieces.push(sentence(&step.reason));
                if !step.techniques.is_empty() {
                    pieces.push(format!("Techniques: {}.", step.techniques.join(", ")));
                }
                let text = pieces
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>();
                match mitigation_prefix(step) {
                    Some(id) => format!("{id}: {}", text.join(" ")),
                    None => text.join(" "),
                }
            })
            .collect();
        bullets(page, &items, "None proposed.");
        page.space(3.0);
    }
}

/// Trims text, capitalises its first letter and ends it with a full stop unless it
/// already ends in punctuation.
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    match text.chars().last() {
        None => String::new(),
        Some('.' | '!' | '?' | '…') => text,
        Some(_) => format!("{text}."),
    }
}

fn evidence(page: &mut Layout, records: &[EvidenceRecord]) {
    page.heading("Evidence appendix", 13.0);
    if records.is_empty() {
        body(page, "No queries ran.");
        return;
    }
    for record in records {
        let title = format!("{} · {} (step {})", record.id, record.action, record.step);
        page.paragraph(Style::Bold(10.5), &title, 0.0);
        let facts = format!(
            "Backend: {}. Status: {}. Results: {}. Duration: {:.1} ms.",
            record.backend,
            status_text(&record.status),
            group_digits(record.result_count),
            record.duration_ms
        );
        body(page, &facts);
        page.paragraph(Style::Mono(8.0), &record.query, 8.0);
        page.space(2.0);
        samples(page, &record.samples);
        page.space(6.0);
    }
}

fn samples(page: &mut Layout, rows: &[Row]) {
    let displayed = &rows[..rows.len().min(MAX_SAMPLES)];
    if displayed.is_empty() {
        body(page, "No sample rows.");
        return;
    }
    let cells: Vec<Vec<String>> = displayed
        .iter()
        .map(|row| {
            let field = |name: &str| row.get(name).map(ToString::to_string);
            let time = field("_time").unwrap_or_default();
            let time = parse_splunk_time(&time).map(format_rfc3339).unwrap_or(time);
            let raw =
                field("_raw").unwrap_or_else(|| serde_json::to_string(row).unwrap_or_default());
            vec![
                time,
                field("host").unwrap_or_default(),
                truncate(&raw, RAW_PREVIEW_CHARS),
            ]
        })
        .collect();
    let mut spec = columns(&[("_time", 0.21), ("host", 0.26), ("_raw", 0.53)]);
    spec[2].mono = true;
    page.table(&spec, &cells, TABLE);
}

fn steps(page: &mut Layout, report: &Report) {
    if report.steps.is_empty() {
        page.heading("Investigation steps", 13.0);
        body(page, "No investigation steps were recorded.");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .steps
        .iter()
        .map(|step| {
            vec![
                step.index.to_string(),
                step.name.clone(),
                status_text(&step.status),
                step.summary.clone(),
                step.reason.clone(),
                format!("{:.1} ms", step.duration_ms),
                joined(&step.evidence),
            ]
        })
        .collect();
    let spec = [
        ("#", 0.04),
        ("Step", 0.19),
        ("Status", 0.12),
        ("Outcome", 0.2),
        ("Reason", 0.24),
        ("Duration", 0.1),
        ("Evidence", 0.11),
    ];
    page.titled_table("Investigation steps", 13.0, &columns(&spec), &rows, TABLE);
}

fn verdict(page: &mut Layout, report: &Report) {
    page.heading("Verdict", 13.0);
    let Some(verdict) = &report.verdict else {
        body(page, "No verdict was recorded.");
        return;
    };
    let headline = format!("Verdict: {}", parts::verdict_headline(verdict));
    page.paragraph(Style::Bold(BODY), &headline, 0.0);
    bullets(page, &verdict.reasons, "No verdict reasons were recorded.");
}

fn attack_chain(page: &mut Layout, report: &Report) {
    page.heading("Attack chain", 13.0);
    if report.attack_chain.is_empty() {
        body(page, "The attack chain is empty: no events were placed on the timeline.");
        return;
    }
    let items: Vec<String> = report
        .attack_chain
        .iter()
        .map(|stage| {
            format!(
                "{}: {} ({})",
                parts::stage_title(stage),
                stage.text,
                parts::stage_citations(stage)
            )
        })
        .collect();
    bullets(page, &items, "");
}

/// Draws the model section: overview, decisions, rejected parts, marked values and calls.
fn model(page: &mut Layout, report: &Report) {
    let Some((llm, calls)) = parts::model_part(report) else {
        return;
    };
    let overview: Vec<Vec<String>> = parts::model_overview(llm, calls)
        .into_iter()
        .map(|(field, value)| vec![field.to_string(), value])
        .collect();
    let spec = columns(&[("Field", 0.22), ("Value", 0.78)]);
    page.titled_table("Model", 13.0, &spec, &overview, TABLE);

    let decisions = parts::decision_rows(llm);
    let spec: Vec<(&str, f32)> = parts::DECISION_HEADERS
        .iter()
        .copied()
        .zip(DECISION_SHARES)
        .collect();
    if decisions.is_empty() {
        page.heading("Decisions", 11.0);
        body(page, "No decisions were recorded.");
    } else {
        page.titled_table("Decisions", 11.0, &columns(&spec), &decisions, TABLE);
    }

    page.heading("Rejected parts of the closing answer", 11.0);
    bullets(page, &parts::rejected_lines(llm), "None were rejected.");
    page.heading("Unverified values", 11.0);
    bullets(page, &llm.unverified, "None: every value in model text was returned by a search.");
    page.heading("Absence stated as fact", 11.0);
    bullets(page, &llm.absence_claims, "None.");

    let spec: Vec<(&str, f32)> = parts::CALL_HEADERS
        .iter()
        .copied()
        .zip(CALL_SHARES)
        .collect();
    if calls.is_empty() {
        page.heading("Model calls", 11.0);
        body(page, "No model calls were recorded.");
    } else {
        page.titled_table("Model calls", 11.0, &columns(&spec), &parts::call_rows(calls), TABLE);
    }
}

fn notices(page: &mut Layout, report: &Report) {
    if report.notices.is_empty() {
        return;
    }
    page.heading("Notices", 13.0);
    for notice in &report.notices {
        page.paragraph(Style::Regular(8.0), notice, 0.0);
    }
}

#[cfg(test)]
mod tests;
