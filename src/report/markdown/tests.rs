use super::*;
use crate::analysis::Severity;
use crate::event::Value;
use crate::report::sample;

fn sample_markdown() -> String {
    render(&sample::report())
}

/// Counts `|` characters that are not escaped with a backslash.
fn unescaped_pipes(line: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => count += 1,
            _ => escaped = false,
        }
    }
    count
}

fn empty_report() -> Report {
    let mut report = sample::report();
    report.summary.clear();
    report.severity = Severity {
        reasons: Vec::new(),
        ..report.severity
    };
    report.timeline.clear();
    report.techniques.clear();
    report.indicators.clear();
    report.affected = Default::default();
    report.findings.clear();
    report.remediation.clear();
    report.evidence.clear();
    report.steps.clear();
    report.notices.clear();
    report
}

#[test]
fn title_names_alert_and_level() {
    let md = sample_markdown();
    assert_eq!(
        md.lines().next(),
        Some("# SSH Brute Force Detected — CRITICAL")
    );
}

#[test]
fn sections_appear_in_order() {
    let md = sample_markdown();
    let expected = [
        "## Summary",
        "## Verdict",
        "## Severity",
        "## Confidence",
        "## Attack-chain timeline",
        "## Attack chain",
        "## ATT&CK techniques",
        "## Indicators",
        "## Affected hosts, accounts and addresses",
        "## Findings",
        "## Remediation",
        "## Evidence appendix",
        "## Investigation steps",
        "## Notices",
    ];
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(headings, expected);
}

#[test]
fn metadata_table_lists_ids() {
    let md = sample_markdown();
    assert!(
        md.contains("| Report ID | inv-20231210-0655-7f3a |"),
        "{md}"
    );
    assert!(
        md.contains("| Generated at | 2023-12-10T09:30:02Z |"),
        "{md}"
    );
    assert!(md.contains("| Alert class | SSH brute force |"), "{md}");
    assert!(md.contains("| Planner | playbook |"), "{md}");
}

#[test]
fn timeline_row_has_utc_time() {
    let md = sample_markdown();
    // START is 1702191346 s: 2023-12-10 06:55:46 UTC.
    let row = "| 2023-12-10T06:55:46Z | gacrux.i-0920036c8ca91e501 | First failed SSH login \
               from 5.101.40.81 (user root) (credential-access) | T1110.001 | E1 |";
    assert!(md.contains(row), "{md}");
    // 2,834 s after START is 07:43:00 UTC.
    assert!(md.contains("| 2023-12-10T07:43:00Z |"), "{md}");
}

#[test]
fn technique_row_has_counts() {
    let md = sample_markdown();
    let row = "| T1110.001 | Brute Force: Password Guessing | credential-access | 1,208 | \
               SSH Failed Password Burst | E1 |";
    assert!(md.contains(row), "{md}");
}

#[test]
fn indicator_row_has_intel() {
    let md = sample_markdown();
    let row = "| 5.101.40.81 | ipv4 | 1,208 | bundled threat-intel file (confidence 90; tags: \
               ssh-bruteforce, scanner) | E1, E3 |";
    assert!(md.contains(row), "{md}");
}

#[test]
fn remediation_lists_immediate_first() {
    let md = sample_markdown();
    let immediate = md.find("### Immediate steps").expect("immediate heading");
    let mitigations = md.find("### Mitigations").expect("mitigations heading");
    assert!(immediate < mitigations);
    assert!(
        md.contains("1. **Block 5.101.40.81 and 91.207.175.249 at the firewall**"),
        "{md}"
    );
    assert!(md.contains("2. **Reset the ec2-user password"), "{md}");
    assert!(
        md.contains("- **M1032:** **Require multi-factor authentication for SSH**"),
        "{md}"
    );
    assert!(md.contains("Techniques: T1110.001, T1078."), "{md}");
}

#[test]
fn mitigation_id_printed_once() {
    let mut report = sample::report();
    report.remediation[0].action = "M1032 Multi-factor Authentication".to_string();
    let md = render(&report);
    assert_eq!(md.matches("M1032").count(), 1, "{md}");
    assert!(
        md.contains("- **M1032 Multi-factor Authentication** — Guessed"),
        "{md}"
    );
}

#[test]
fn zero_count_is_omitted() {
    let mut report = sample::report();
    report.findings.truncate(1);
    let counted = render(&report);
    assert!(counted.contains("- **Count:** 1,208"), "{counted}");
    report.findings[0].count = 0;
    let md = render(&report);
    assert!(!md.contains("**Count:**"), "{md}");
}

#[test]
fn evidence_shows_query_and_failure() {
    let md = sample_markdown();
    assert!(
        md.contains("```spl\nsearch sourcetype=linux_secure \"Failed password\""),
        "{md}"
    );
    assert!(
        md.contains("**Status:** failed: no events with sourcetype vpc\\_flow"),
        "{md}"
    );
    assert!(md.contains("**Results:** 1,208"), "{md}");
    assert!(md.contains("Sample rows (2 of 2):"), "{md}");
    assert!(
        md.contains("| 2023-12-10T06:55:46Z | gacrux.i-0920036c8ca91e501 | Dec 10"),
        "{md}"
    );
}

#[test]
fn log_content_cannot_add_structure() {
    let mut report = sample::report();
    let raw = "sshd: x\n# Fake heading\n| col | col |\r\n- item <img src=x> [a](http://b)";
    report.evidence[0].samples[0].insert("_raw".into(), Value::from(raw));
    report.affected.accounts.push("# root".into());
    let md = render(&report);

    assert!(!md.lines().any(|l| l.starts_with("# Fake")), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("| col")), "{md}");
    assert!(md.contains("\\<img src=x\\>"), "{md}");
    assert!(!md.replace("\\<", "").contains('<'), "{md}");
    assert!(md.contains("\\[a\\](http://b)"), "{md}");
    assert!(md.contains("\\# root"), "{md}");
    let sample_row = md
        .lines()
        .find(|l| l.contains("Fake heading"))
        .expect("sample row is rendered");
    assert_eq!(unescaped_pipes(sample_row), 4, "{sample_row}");
}

#[test]
fn alert_name_is_escaped_in_title() {
    let mut report = sample::report();
    report.alert.search_name = Some("1. *bold* <b>x</b>\n## Injected".into());
    let md = render(&report);
    let title = md.lines().next().unwrap();
    assert!(
        title.starts_with("# 1\\. \\*bold\\* \\<b\\>x\\</b\\>"),
        "{title}"
    );
    assert!(!md.lines().any(|l| l.starts_with("## Injected")), "{md}");
}

#[test]
fn backticks_in_query_lengthen_fence() {
    let mut report = sample::report();
    report.evidence[0].query = "search x=\"```\"\n# not a heading".into();
    let md = render(&report);
    assert!(
        md.contains("````spl\nsearch x=\"```\"\n# not a heading\n````"),
        "{md}"
    );
}

#[test]
fn long_raw_is_truncated() {
    let mut report = sample::report();
    report.evidence[0].samples[0].insert("_raw".into(), Value::from("é".repeat(500)));
    let md = render(&report);
    let expected = format!("| {}… |", "é".repeat(200));
    assert!(md.contains(&expected), "{md}");
    assert!(!md.contains(&"é".repeat(201)), "{md}");
}

#[test]
fn samples_without_raw_are_json() {
    let mut report = sample::report();
    let mut row = Row::new();
    row.insert("dest".into(), Value::from("203.0.113.9"));
    row.insert("count".into(), Value::from("12"));
    report.evidence[0].samples = vec![row];
    let md = render(&report);
    assert!(
        md.contains("```json\n{\"dest\":\"203.0.113.9\",\"count\":\"12\"}\n```"),
        "{md}"
    );
}

#[test]
fn empty_sections_say_so() {
    let md = render(&empty_report());
    let expected = [
        "No summary was written.",
        "No severity reasons were recorded.",
        "The timeline is empty: no events were placed on it.",
        "No ATT&CK techniques were mapped.",
        "No indicators were extracted from the evidence.",
        "**Hosts:** none",
        "No findings were drawn from the evidence.",
        "No remediation steps were proposed.",
        "No queries ran.",
        "No investigation steps were recorded.",
        "No notices.",
    ];
    for text in expected {
        assert!(md.contains(text), "missing {text:?} in:\n{md}");
    }
}

#[test]
fn addresses_are_not_escaped_as_lists() {
    assert_eq!(inline("5.101.40.81"), "5.101.40.81");
    assert_eq!(inline("1. item"), "1\\. item");
    assert_eq!(inline("2)"), "2\\)");
    assert_eq!(inline("- item"), "\\- item");
}

#[test]
fn digits_are_grouped() {
    assert_eq!(group_digits(0), "0");
    assert_eq!(group_digits(999), "999");
    assert_eq!(group_digits(1_208), "1,208");
    assert_eq!(group_digits(1_234_567), "1,234,567");
}

/// Returns the text from `heading` up to the next heading of the same level.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md.find(heading).unwrap_or_else(|| panic!("{heading} missing"));
    let level = heading.split(' ').next().unwrap();
    let rest = &md[start + heading.len()..];
    let end = rest
        .find(&format!("\n{level} "))
        .map_or(rest.len(), |i| i + 1);
    &md[start..start + heading.len() + end]
}

#[test]
fn verdict_shows_confidence_and_source() {
    let md = sample_markdown();
    let verdict = section(&md, "## Verdict");
    assert!(
        verdict.contains("**Verdict:** true\\_positive, confidence high, from the analysis"),
        "{verdict}"
    );
    assert!(verdict.contains("- Successful login for ec2-user"), "{verdict}");
}

#[test]
fn attack_chain_lists_stages_in_order() {
    let md = sample_markdown();
    let chain = section(&md, "## Attack chain");
    // The sample timeline has two initial-access and two credential-access
    // entries; kill-chain order puts initial access first.
    let first = chain.find("1. **initial-access (analysis)**").expect("stage 1");
    let second = chain.find("2. **credential-access (analysis)**").expect("stage 2");
    assert!(first < second);
    assert!(chain.contains("timeline entries: 2, 3"), "{chain}");
    assert!(chain.contains("timeline entries: 0, 1"), "{chain}");
}

#[test]
fn model_section_absent_without_model() {
    assert!(!sample_markdown().contains("## Model"));
}

#[test]
fn model_overview_shows_usage() {
    let md = render(&sample::report_with_model());
    let model = section(&md, "## Model");
    assert!(model.contains("| Provider | openai |"), "{model}");
    assert!(model.contains("| Model | gpt-test |"), "{model}");
    assert!(model.contains("| Masking | on |"), "{model}");
    assert!(model.contains("| Tokens in | 4200 |"), "{model}");
    assert!(model.contains("| Tokens out | 310 |"), "{model}");
    assert!(model.contains("| Estimated cost | 0.0125"), "{model}");
    // 812.5 + 640.0 + 1,250.25 ms.
    assert!(model.contains("| Model calls | 3 (2702.8 ms in all) |"), "{model}");
}

#[test]
fn model_decisions_show_rejections() {
    let md = render(&sample::report_with_model());
    let model = section(&md, "## Model");
    assert!(
        model.contains("| 1 | 1 | rejected | count\\_failed\\_logins({}) | unknown action 'delete\\_logs' | — |"),
        "{model}"
    );
    assert!(
        model.contains("| summary | 1 | accepted | count\\_failed\\_logins({}) | summary written by the model | openai gpt-test |"),
        "{model}"
    );
}

#[test]
fn model_marks_and_rejected_parts_listed() {
    let md = render(&sample::report_with_model());
    let model = section(&md, "## Model");
    assert!(
        model.contains("- attack\\_chain\\[1\\]: the stage cites technique T1486"),
        "{model}"
    );
    assert!(model.contains("- 203.0.113.77"), "{model}");
    assert!(model.contains("- No data left the host."), "{model}");
}

#[test]
fn model_calls_show_durations() {
    let md = render(&sample::report_with_model());
    let model = section(&md, "## Model");
    assert!(model.contains("| 1 | plan | 812.5 ms | 1500 | 120 |"), "{model}");
    assert!(model.contains("| 3 | summary | 1250.2 ms | 1100 | 100 | 0.0000 | timed out |"), "{model}");
}

#[test]
fn model_wording_shown_beside_analysis() {
    let md = render(&sample::report_with_model());
    assert!(
        md.contains("**Reset the ec2-user password now and end its open sessions** (worded by the model; the analysis wrote: Reset the ec2-user password and review its sessions)"),
        "{md}"
    );
    assert!(md.contains("1. **initial-access (model)** The attacker logged in"), "{md}");
    assert!(md.contains("from the model"), "{md}");
}
