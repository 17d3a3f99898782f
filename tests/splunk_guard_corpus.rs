//! The read-only guard over Splunk's published detection searches.
//!
//! Every search that writes must be rejected with a reason naming the
//! writing command; every other rejection is counted by reason and printed,
//! so each one is explained in the test output.

use std::collections::BTreeMap;

use argus::spl::guard::{inspect, Refusal};

const CORPUS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/spl/security_content_detections.jsonl");

/// Commands with side effects, as written in the corpus.
const WRITERS: &[&str] = &["outputlookup", "outputcsv", "collect", "sendemail", "delete"];

fn load() -> Option<Vec<(String, String)>> {
    let Ok(text) = std::fs::read_to_string(CORPUS) else {
        eprintln!("skipped: {CORPUS} is absent");
        return None;
    };
    let rows = text
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("corpus line is JSON");
            let name = value["name"].as_str().expect("name").to_string();
            (name, value["search"].as_str().expect("search").to_string())
        })
        .collect();
    Some(rows)
}

/// The writing command a search uses after a pipe or bracket, found by a
/// plain regex that is independent of the guard's parser.
fn writer_in(search: &str) -> Option<&'static str> {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        let alternatives = WRITERS.join("|");
        regex::Regex::new(&format!(r"(?i)[|\[]\s*({alternatives})\b")).expect("regex")
    });
    let found = pattern.captures(search)?.get(1)?.as_str().to_ascii_lowercase();
    WRITERS.iter().copied().find(|w| *w == found)
}

/// The search with comments blanked out and macro calls replaced by
/// `search *`, so the guard meets the writing command instead of stopping at
/// an unknown macro.
fn without_macros(search: &str) -> String {
    let comments = regex::Regex::new(r"(?s)```.*?```").expect("regex");
    let macros = regex::Regex::new(r"`[^`]*`").expect("regex");
    let text = comments.replace_all(search, " ");
    macros.replace_all(&text, " search * ").into_owned()
}

fn reason_kind(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Macro(err) => match err {
            argus::spl::macros::MacroError::Unknown { .. } => "macro without a known expansion".into(),
            argus::spl::macros::MacroError::Arity { .. } => "macro with wrong arity".into(),
        },
        Refusal::Denied { canonical, .. } => format!("denied command {canonical}"),
        Refusal::NotAllowed { command } => format!("command not on the allow-list: {command}"),
        Refusal::SubsearchHead { word } => format!("subsearch starting with {word}"),
        Refusal::Syntax(_) => "syntax error".into(),
        other => other.to_string(),
    }
}

#[test]
fn corpus_writers_refused_by_name() {
    let Some(rows) = load() else { return };
    let mut writers = 0;
    for (name, search) in &rows {
        let Some(writer) = writer_in(search) else { continue };
        writers += 1;
        let refusal = inspect(search).refusal;
        assert!(refusal.is_some(), "allowed a write: {name}");
        // An unknown macro met before the writer may be the first refusal,
        // so the search without its macros must be refused by the writer's name.
        let plain = inspect(&without_macros(search)).refusal.expect("refused without macros");
        let message = plain.to_string();
        assert!(message.contains(&format!("'{writer}'")), "{name}: {message}");
    }
    // grep -ciE '(\||\[) *(outputlookup|outputcsv|collect|sendemail|delete)\b' on the corpus.
    assert_eq!(writers, 13);
}

#[test]
fn corpus_refusals_explained() {
    let Some(rows) = load() else { return };
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    let mut allowed = 0;
    for (_, search) in rows.iter().filter(|(_, s)| writer_in(s).is_none()) {
        match inspect(search).refusal {
            None => allowed += 1,
            Some(refusal) => *by_reason.entry(reason_kind(&refusal)).or_default() += 1,
        }
    }
    eprintln!("allowed: {allowed}");
    let mut reasons: Vec<(&String, &usize)> = by_reason.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    for (reason, count) in reasons {
        eprintln!("refused {count:5}: {reason}");
    }
    assert!(!by_reason.contains_key("syntax error"), "{by_reason:?}");
    // 443 searches that do not write call only the ESCU macros the guard
    // knows (counted with a regex over their backtick calls); one of them
    // also runs the custom command cyberchef.
    assert_eq!(allowed, 442);
    assert_eq!(by_reason.get("command not on the allow-list: cyberchef"), Some(&1));
    let explained = by_reason.keys().all(|reason| {
        reason == "macro without a known expansion" || reason.starts_with("command not on")
    });
    assert!(explained, "{by_reason:?}");
}
