//! Runs the 1,051 published detection searches of Splunk's security_content
//! repository (`security_content_detections.jsonl`). Every one must parse.
//! Running each through the local engine must return rows or an error that
//! names a command or function of that search, and must never panic.

use std::collections::BTreeMap;

use argus::event::{Event, Value};
use argus::spl::{self, CommandKind, SplErrorKind};
use indexmap::IndexMap;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/spl/security_content_detections.jsonl"
);

/// Reads the `search` of every corpus line, or `None` when the file is absent.
fn searches(test: &str) -> Option<Vec<String>> {
    let Ok(text) = std::fs::read_to_string(CORPUS) else {
        eprintln!("skipping {test}: {CORPUS} is absent");
        return None;
    };
    let searches = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("corpus line is JSON");
            record["search"].as_str().map(str::to_string)
        })
        .collect();
    Some(searches)
}

/// Builds two events with fields the detections often use.
fn events() -> Vec<Event> {
    let make = |secs: i64, raw: &str, fields: &[(&str, &str)]| Event {
        time: secs * 1_000_000,
        raw: raw.to_string(),
        host: "ws01".into(),
        source: "WinEventLog:Security".into(),
        sourcetype: "WinEventLog:Security".into(),
        index: "main".into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect::<IndexMap<_, _>>(),
    };
    vec![
        make(
            1_702_191_400,
            "EventCode=4688 powershell.exe -enc AAAA",
            &[
                ("EventCode", "4688"),
                ("process_name", "powershell.exe"),
                ("user", "bob"),
            ],
        ),
        make(
            1_702_191_300,
            "EventCode=4625 failed logon for admin from 10.0.0.9",
            &[
                ("EventCode", "4625"),
                ("user", "admin"),
                ("src", "10.0.0.9"),
            ],
        ),
    ]
}

#[test]
fn corpus_every_search_parses() {
    let Some(searches) = searches("corpus_every_search_parses") else {
        return;
    };
    assert!(
        searches.len() >= 1000,
        "expected about 1051 searches, found {}",
        searches.len()
    );
    let mut failures = Vec::new();
    let mut untyped = 0;
    for search in &searches {
        match spl::parse(search) {
            Ok(pipeline) => pipeline.walk(&mut |c| {
                if matches!(c.kind, CommandKind::Invalid(_)) {
                    untyped += 1;
                }
            }),
            Err(e) => failures.push(format!("{e}: {}", &search[..search.len().min(120)])),
        }
    }
    eprintln!(
        "parsed {} of {}; {untyped} known commands have arguments the engine cannot read",
        searches.len() - failures.len(),
        searches.len()
    );
    assert!(
        failures.is_empty(),
        "{} searches failed to parse: {failures:#?}",
        failures.len()
    );
}

/// Returns the command and function names of a search: every command (a
/// macro command by its name), `search` (which starts every query, written
/// or not), `[subsearch]` when there is one, and every `name(` call.
fn names_in(search: &str, pipeline: &spl::Pipeline) -> Vec<String> {
    let mut names = vec!["search".to_string()];
    pipeline.walk(&mut |c| names.push(c.name.clone()));
    if search.contains('[') {
        names.push("[subsearch]".into());
    }
    let call = regex::Regex::new(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(").unwrap();
    names.extend(call.captures_iter(search).map(|c| c[1].to_lowercase()));
    let macro_name = regex::Regex::new(r"`([A-Za-z0-9_]+)").unwrap();
    names.extend(macro_name.captures_iter(search).map(|c| c[1].to_string()));
    names
}

/// Returns the name from `names` that the message mentions first, as a whole word.
fn named_subject(message: &str, names: &[String]) -> Option<String> {
    let lower = message.to_lowercase();
    names
        .iter()
        .filter_map(|name| {
            let name = name.to_lowercase();
            let found = lower.match_indices(&name).find(|(at, _)| {
                let before = lower[..*at].chars().next_back();
                let after = lower[at + name.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after)
            });
            found.map(|(at, _)| (at, name))
        })
        .min()
        .map(|(_, name)| name)
}

/// Runs every search and checks each refusal; returns how many ran and the
/// refusal counts by kind and name.
fn run_all(searches: &[String]) -> (usize, BTreeMap<String, usize>) {
    let events = events();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    let mut ran = 0;
    for search in searches {
        let pipeline = spl::parse(search).expect("corpus searches parse");
        let Err(error) = spl::run(&pipeline, &events, 1_702_191_460_000_000) else {
            ran += 1;
            continue;
        };
        let accepted = [
            SplErrorKind::UnsupportedCommand,
            SplErrorKind::UnsupportedFunction,
            SplErrorKind::InvalidArgument,
        ];
        assert!(
            accepted.contains(&error.kind),
            "{:?} for a parsed search: {error}\n{search}",
            error.kind
        );
        let subject = named_subject(&error.message, &names_in(search, &pipeline));
        let Some(subject) = subject else {
            panic!("the error names no command or function of the search: {error}\n{search}");
        };
        *refusals
            .entry(format!("{:?} {subject}", error.kind))
            .or_default() += 1;
    }
    (ran, refusals)
}

fn print_summary(title: &str, total: usize, ran: usize, refusals: BTreeMap<String, usize>) {
    let mut table: Vec<_> = refusals.into_iter().collect();
    table.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    eprintln!("{title}: ran {ran} of {total}; top refusal reasons:");
    for (reason, count) in table.iter().take(15) {
        eprintln!("  {count:>5}  {reason}");
    }
}

#[test]
fn corpus_runs_or_names_refusal() {
    let Some(searches) = searches("corpus_runs_or_names_refusal") else {
        return;
    };
    let (ran, refusals) = run_all(&searches);
    print_summary("as published", searches.len(), ran, refusals);
}

/// Removes comments and macros, which the local engine cannot expand, to see
/// which commands and functions the detections need beyond them.
#[test]
fn corpus_without_macros_runs_or_names_refusal() {
    let Some(searches) = searches("corpus_without_macros_runs_or_names_refusal") else {
        return;
    };
    let comment = regex::Regex::new(r"(?s)```.*?```").unwrap();
    let macro_command = regex::Regex::new(r"\|\s*`[^`]*`").unwrap();
    let macro_term = regex::Regex::new(r"`[^`]*`").unwrap();
    let stripped: Vec<String> = searches
        .iter()
        .map(|s| {
            let s = comment.replace_all(s, " ");
            let s = macro_command.replace_all(&s, " ");
            macro_term.replace_all(&s, " ").into_owned()
        })
        .filter(|s| spl::parse(s).is_ok())
        .collect();
    eprintln!(
        "{} of {} searches parse without macros",
        stripped.len(),
        searches.len()
    );
    assert!(
        stripped.len() * 10 >= searches.len() * 9,
        "too few parse without macros"
    );
    let (ran, refusals) = run_all(&stripped);
    print_summary("without macros", stripped.len(), ran, refusals);
    assert!(ran > 0, "no search ran once its macros were removed");
}
