use super::layout::{self, Face};
use super::*;
use crate::analysis::TimelineEntry;
use crate::report::sample;

const ACCENTED: &str = "Žluťoučký kůň, Ünïcödé";

/// Builds the sample report with 200 timeline entries, a 5,000-character summary and accented text.
fn large_report() -> Report {
    let mut report = sample::report();
    let sentence = "The attacker cycled through account names from a wordlist. ";
    report.summary = sentence.repeat(5_000 / sentence.len() + 1)[..5_000].to_string();
    report.timeline = (0..200)
        .map(|i| TimelineEntry {
            time: sample::START + i * 13_000_000,
            host: Some(sample::HOST.to_string()),
            description: format!(
                "Failed password for user{i} from {} ({ACCENTED})",
                sample::ATTACKER
            ),
            tactic: Some("credential-access".to_string()),
            techniques: vec!["T1110.001".to_string()],
            evidence: vec!["E1".to_string()],
        })
        .collect();
    report.affected.accounts.push(ACCENTED.to_string());
    report
}

fn parse(bytes: &[u8]) -> lopdf::Document {
    lopdf::Document::load_mem(bytes).expect("output parses as PDF")
}

fn page_text(doc: &lopdf::Document, page: u32) -> String {
    doc.extract_text(&[page]).expect("text extracts")
}

#[test]
fn output_is_pdf() {
    let bytes = render(&sample::report()).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
}

#[test]
fn large_report_spans_pages() {
    let bytes = render(&large_report()).unwrap();
    let doc = parse(&bytes);
    // Each timeline row wraps to two 10.4 pt lines plus 6 pt of padding, so a
    // page of about 730 pt holds under 30 rows and 200 rows need over 6 pages.
    assert!(doc.get_pages().len() > 3, "{} pages", doc.get_pages().len());
}

#[test]
fn accented_text_round_trips() {
    let doc = parse(&render(&large_report()).unwrap());
    let text: String = (1..=doc.get_pages().len() as u32)
        .map(|p| page_text(&doc, p))
        .collect();
    assert!(text.contains("Žluťoučký"), "accented word missing");
    assert!(text.contains("Ünïcödé"), "accented word missing");
}

#[test]
fn pages_have_numbered_footer() {
    let doc = parse(&render(&large_report()).unwrap());
    let total = doc.get_pages().len();
    for page in 1..=total as u32 {
        let text = page_text(&doc, page);
        assert!(
            text.contains(&format!("Page {page} of {total}")),
            "page {page}: {text}"
        );
    }
}

#[test]
fn timeline_header_repeats() {
    let doc = parse(&render(&large_report()).unwrap());
    let mut pages_with_rows = 0;
    for page in 1..=doc.get_pages().len() as u32 {
        let text = page_text(&doc, page);
        if text.contains("Failed password for user") {
            pages_with_rows += 1;
            assert!(
                text.contains("Time (UTC)"),
                "page {page} lacks the header row"
            );
        }
    }
    assert!(
        pages_with_rows >= 3,
        "timeline spans {pages_with_rows} pages"
    );
}

#[test]
fn every_timeline_row_is_drawn() {
    let doc = parse(&render(&large_report()).unwrap());
    let text: String = (1..=doc.get_pages().len() as u32)
        .map(|p| page_text(&doc, p))
        .collect();
    for i in [0, 57, 133, 199] {
        assert!(text.contains(&format!("user{i} ")), "row {i} missing");
    }
}

#[test]
fn query_and_counts_are_printed() {
    let doc = parse(&render(&sample::report()).unwrap());
    let text: String = (1..=doc.get_pages().len() as u32)
        .map(|p| page_text(&doc, p))
        .collect();
    assert!(text.contains("sourcetype=linux_secure"), "query missing");
    assert!(text.contains("Results: 1,208"), "count missing");
    assert!(
        text.contains("failed: no events with sourcetype vpc_flow"),
        "failure missing"
    );
}

fn faces() -> Fonts {
    let mut doc = PdfDocument::new("test");
    Fonts::load(&mut doc).unwrap()
}

#[test]
fn model_table_headers_fit_one_line() {
    let fonts = faces();
    let tables = [
        (&parts::DECISION_HEADERS[..], &DECISION_SHARES[..]),
        (&parts::CALL_HEADERS[..], &CALL_SHARES[..]),
    ];
    for (headers, shares) in tables {
        for (header, share) in headers.iter().zip(shares) {
            let inner = share * layout::TEXT_WIDTH - 2.0 * layout::CELL_PADDING;
            let lines = layout::wrap(&fonts.bold, TABLE, header, inner);
            assert_eq!(lines, vec![header.to_string()], "header {header} wraps");
        }
    }
}

#[test]
fn wrap_uses_glyph_widths() {
    let fonts = faces();
    let wide = "WWWW ".repeat(40);
    let narrow = "iiii ".repeat(40);
    let wide_lines = layout::wrap(&fonts.regular, 10.0, &wide, 200.0);
    let narrow_lines = layout::wrap(&fonts.regular, 10.0, &narrow, 200.0);
    // Same character count, so a fixed characters-per-line rule would give equal counts.
    assert!(
        wide_lines.len() > 2 * narrow_lines.len(),
        "{wide_lines:?} {narrow_lines:?}"
    );
}

#[test]
fn wrapped_lines_fit_width() {
    let fonts = faces();
    let text = format!("{} {}", large_report().summary, "x".repeat(300));
    for face in [&fonts.regular, &fonts.bold, &fonts.mono] {
        for line in layout::wrap(face, 9.5, &text, 250.0) {
            assert!(face.width(&line, 9.5) <= 250.0, "{line}");
        }
    }
}

#[test]
fn wrap_keeps_every_word() {
    let fonts = faces();
    let text = "alpha beta\ngamma delta";
    let lines = layout::wrap(&fonts.regular, 10.0, text, 500.0);
    assert_eq!(lines, ["alpha beta", "gamma delta"]);
}

#[test]
fn long_word_breaks_after_dot() {
    let fonts = faces();
    let host = "gacrux.i-0920036c8ca91e501";
    let width = fonts.regular.width("0920036c8ca91e501", 8.0) + 0.5;
    assert!(fonts.regular.width("gacrux.i-", 8.0) < width);
    let lines = layout::wrap(&fonts.regular, 8.0, host, width);
    assert_eq!(lines, ["gacrux.i-", "0920036c8ca91e501"]);
}

#[test]
fn long_word_without_breaks_is_split() {
    let fonts = faces();
    let word = "a".repeat(100);
    let width = fonts.regular.width(&"a".repeat(30), 8.0);
    let lines = layout::wrap(&fonts.regular, 8.0, &word, width);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines.concat(), word);
}

#[test]
fn width_grows_with_size() {
    let fonts: Fonts = faces();
    let face: &Face = &fonts.regular;
    let small = face.width("Žluťoučký", 10.0);
    assert!(small > 0.0);
    assert!((face.width("Žluťoučký", 20.0) - 2.0 * small).abs() < 0.01);
}

/// Extracts the text of every page with each run of whitespace, such as a wrapped line, as one space.
fn all_text(report: &Report) -> String {
    let doc = parse(&render(report).unwrap());
    let text: String = (1..=doc.get_pages().len() as u32)
        .map(|p| page_text(&doc, p))
        .collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn findings_section_lists_facts() {
    let text = all_text(&sample::report());
    let start = text.find("Findings").expect("findings heading");
    let section = &text[start..text.find("Remediation").expect("remediation heading")];
    assert!(
        section.contains("F1 · 1,208 failed SSH logins"),
        "{section}"
    );
    assert!(
        section.contains("Category: failed_authentication."),
        "{section}"
    );
    assert!(section.contains("Count: 1,208."), "{section}");
    // START is 1702191346 s: 2023-12-10 06:55:46 UTC.
    assert!(
        section.contains("First seen: 2023-12-10T06:55:46Z."),
        "{section}"
    );
    assert!(section.contains("Evidence: E1."), "{section}");
    assert!(
        section.contains("Password failures for 37 account names"),
        "{section}"
    );
}

#[test]
fn steps_section_lists_steps() {
    let text = all_text(&sample::report());
    let start = text.find("Investigation steps").expect("steps heading");
    let section = &text[start..];
    assert!(section.contains("count_failed_logins"), "{section}");
    assert!(section.contains("Size the brute force."), "{section}");
    assert!(section.contains("1,208 events"), "{section}");
    assert!(
        section.contains("failed: no events with sourcetype vpc_flow"),
        "{section}"
    );
    assert!(section.contains("15.0 ms"), "{section}");
}

#[test]
fn sections_appear_in_order() {
    let text = all_text(&sample::report());
    let positions: Vec<usize> = [
        "Affected hosts",
        "Findings",
        "Remediation",
        "Evidence appendix",
        "Investigation steps",
    ]
    .iter()
    .map(|heading| {
        text.find(heading)
            .unwrap_or_else(|| panic!("{heading} missing"))
    })
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[test]
fn zero_count_is_omitted() {
    let mut report = sample::report();
    report.findings.truncate(1);
    report.findings[0].count = 0;
    let text = all_text(&report);
    assert!(!text.contains("Count:"), "{text}");
}

#[test]
fn creation_date_is_generated_at() {
    let report = sample::report();
    assert_eq!(report.generated_at, "2023-12-10T09:30:02Z");
    let doc = parse(&render(&report).unwrap());
    let info = doc
        .trailer
        .get(b"Info")
        .and_then(|o| o.as_reference())
        .unwrap();
    let info = doc.get_dictionary(info).unwrap();
    let date = info.get(b"CreationDate").and_then(|o| o.as_str()).unwrap();
    assert_eq!(date, b"D:20231210093002+00'00'");
}

#[test]
fn verdict_and_chain_are_printed() {
    let text = all_text(&sample::report());
    assert!(
        text.contains("Verdict: true_positive, confidence high, from the analysis"),
        "{text}"
    );
    let start = text.find("Attack chain").expect("attack chain heading");
    let chain = &text[start..text.find("ATT&CK techniques").expect("techniques heading")];
    assert!(chain.contains("initial-access (analysis)"), "{chain}");
    assert!(chain.contains("timeline entries: 0, 1"), "{chain}");
}

#[test]
fn model_section_lists_decisions_and_usage() {
    let text = all_text(&sample::report_with_model());
    let start = text.find("Model Field").expect("model table");
    let model = &text[start..];
    assert!(model.contains("Masking on"), "{model}");
    assert!(model.contains("Tokens in 4200"), "{model}");
    assert!(model.contains("Tokens out 310"), "{model}");
    assert!(model.contains("0.0125"), "{model}");
    assert!(model.contains("unknown action 'delete_logs'"), "{model}");
    assert!(model.contains("openai gpt-test"), "{model}");
    assert!(model.contains("T1486"), "{model}");
    assert!(model.contains("203.0.113.77"), "{model}");
    assert!(model.contains("812.5 ms"), "{model}");
    assert!(model.contains("timed out"), "{model}");
}

#[test]
fn model_section_absent_without_model() {
    let text = all_text(&sample::report());
    assert!(!text.contains("Model calls"), "model section drawn for a playbook report");
}

#[test]
fn remediation_shows_model_wording() {
    let text = all_text(&sample::report_with_model());
    assert!(
        text.contains("Reset the ec2-user password now and end its open sessions."),
        "{text}"
    );
    assert!(text.contains("Worded by the model"), "{text}");
}
