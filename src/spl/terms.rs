//! What an index can check before events are parsed: the tokens, default
//! field values and time bounds that every event matching a query's first
//! `search` command must have.
//!
//! [`prefilter`] turns the search expression into a [`Requirement`] tree. The
//! requirement is necessary for a match, so an index that keeps only the
//! events meeting it loses no match. When it is also sufficient,
//! [`Prefilter::exact`] is true and the index result needs no check by the
//! matcher.
//!
//! Tokens are maximal runs of letters and digits (`\p{L}` and `\p{N}`), the
//! same boundary the matcher uses for bare terms, in lower case. Only runs
//! of ASCII letters and digits that are not next to a `*` wildcard become
//! token requirements: other runs are dropped from the requirement, which
//! keeps it necessary.

use std::cmp::Ordering;

use regex::Regex;

use super::ast::{CommandKind, Pipeline, SearchExpr, TimeBound};
use super::time::resolve;
use super::token::CompareOp;

/// The fields every event has, which an index keeps as columns.
pub const DEFAULT_FIELDS: [&str; 4] = ["host", "source", "sourcetype", "index"];

/// A condition an index can evaluate without parsing events.
#[derive(Debug, Clone)]
pub enum Requirement {
    /// Nothing the index can check: every event is a candidate.
    Any,
    /// `_raw` contains this token (lower-case ASCII letters and digits).
    Token(String),
    /// A default field's value passes a test (with `negated`, fails it).
    Field {
        name: String,
        test: ValueTest,
        negated: bool,
    },
    /// Event time at or after this many microseconds since the epoch.
    TimeAtLeast(i64),
    /// Event time before this many microseconds since the epoch.
    TimeBefore(i64),
    All(Vec<Requirement>),
    AnyOf(Vec<Requirement>),
}

/// A test on a default field's value, as the matcher applies it: equality
/// ignoring case, with `*` matching any run of characters.
#[derive(Debug, Clone)]
pub enum ValueTest {
    Equal(String),
    Pattern(Regex),
    AnyOf(Vec<ValueTest>),
}

impl ValueTest {
    fn new(value: &str) -> Option<ValueTest> {
        if !value.contains('*') {
            return Some(ValueTest::Equal(value.to_lowercase()));
        }
        let body: Vec<String> = value.split('*').map(regex::escape).collect();
        Regex::new(&format!("(?is)^{}$", body.join(".*")))
            .ok()
            .map(ValueTest::Pattern)
    }

    /// Returns whether `value` passes.
    pub fn test(&self, value: &str) -> bool {
        match self {
            ValueTest::Equal(expected) if value.is_ascii() => {
                value.len() == expected.len() && value.eq_ignore_ascii_case(expected)
            }
            ValueTest::Equal(expected) => value.to_lowercase() == *expected,
            ValueTest::Pattern(regex) => regex.is_match(value),
            ValueTest::AnyOf(tests) => tests.iter().any(|t| t.test(value)),
        }
    }
}

/// The index-checkable part of a query.
#[derive(Debug, Clone)]
pub struct Prefilter {
    pub requirement: Requirement,
    /// True when an event meeting the requirement always matches the first
    /// `search` command, so the index result needs no further check.
    pub exact: bool,
}

/// Builds the prefilter of a pipeline's first command when it is a
/// `search`; any other first command gives no requirement.
pub fn prefilter(pipeline: &Pipeline, now: i64) -> Prefilter {
    let Some(first) = pipeline.commands.first() else {
        return Prefilter { requirement: Requirement::Any, exact: false };
    };
    match &first.kind {
        CommandKind::Search(None) => Prefilter { requirement: Requirement::Any, exact: true },
        CommandKind::Search(Some(expr)) => {
            let (requirement, exact) = requirement_of(expr, now);
            Prefilter { requirement, exact }
        }
        _ => Prefilter { requirement: Requirement::Any, exact: false },
    }
}

fn requirement_of(expr: &SearchExpr, now: i64) -> (Requirement, bool) {
    match expr {
        SearchExpr::And(items) => {
            let parts: Vec<_> = items.iter().map(|item| requirement_of(item, now)).collect();
            let exact = parts.iter().all(|(_, exact)| *exact);
            (Requirement::All(parts.into_iter().map(|(r, _)| r).collect()), exact)
        }
        SearchExpr::Or(items) => {
            let parts: Vec<_> = items.iter().map(|item| requirement_of(item, now)).collect();
            let exact = parts.iter().all(|(_, exact)| *exact);
            if parts.iter().any(|(r, _)| matches!(r, Requirement::Any)) {
                return (Requirement::Any, exact);
            }
            (Requirement::AnyOf(parts.into_iter().map(|(r, _)| r).collect()), exact)
        }
        SearchExpr::Term { text, .. } => term_requirement(text),
        SearchExpr::Compare { field, op, value, .. } => compare_requirement(field, *op, value),
        SearchExpr::In { field, values, .. } if is_default_field(field) => {
            let tests: Option<Vec<ValueTest>> = values.iter().map(|v| ValueTest::new(v)).collect();
            match tests {
                Some(tests) => (field_requirement(field, ValueTest::AnyOf(tests), false), true),
                None => (Requirement::Any, false),
            }
        }
        SearchExpr::Time { bound: TimeBound::Earliest, spec, .. } => {
            (Requirement::TimeAtLeast(resolve(spec, now)), true)
        }
        SearchExpr::Time { bound: TimeBound::Latest, spec, .. } => {
            (Requirement::TimeBefore(resolve(spec, now)), true)
        }
        // NOT, other fields, macros and subsearches: the index cannot help.
        _ => (Requirement::Any, false),
    }
}

/// A bare term or phrase: each complete ASCII run is a required token. The
/// result is exact when the term is one such run and nothing else.
fn term_requirement(text: &str) -> (Requirement, bool) {
    if text.chars().all(|c| c == '*') {
        return (Requirement::Any, true);
    }
    let runs = complete_runs(text);
    let exact = runs.len() == 1 && runs[0].len() == text.len();
    let tokens: Vec<Requirement> = runs
        .into_iter()
        .filter(|run| run.is_ascii())
        .map(|run| Requirement::Token(run.to_ascii_lowercase()))
        .collect();
    match tokens.len() {
        0 => (Requirement::Any, false),
        _ => (Requirement::All(tokens), exact),
    }
}

/// Returns the letter-and-digit runs of `text` that no `*` touches.
fn complete_runs(text: &str) -> Vec<&str> {
    let mut runs = Vec::new();
    let mut start: Option<usize> = None;
    for (at, c) in text.char_indices() {
        match (is_word_char(c), start) {
            (true, None) => start = Some(at),
            (false, Some(begin)) => {
                if c != '*' && !text[..begin].ends_with('*') {
                    runs.push(&text[begin..at]);
                }
                start = None;
            }
            _ => {}
        }
    }
    if let Some(begin) = start {
        if !text[..begin].ends_with('*') {
            runs.push(&text[begin..]);
        }
    }
    runs
}

/// Returns whether `c` belongs to a token: `\p{L}` or `\p{N}`.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    static WORD: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let word = WORD.get_or_init(|| Regex::new(r"^[\p{L}\p{N}]$").expect("valid regex"));
    let mut buffer = [0u8; 4];
    word.is_match(c.encode_utf8(&mut buffer))
}

fn compare_requirement(field: &str, op: CompareOp, value: &str) -> (Requirement, bool) {
    if !is_default_field(field) {
        return (Requirement::Any, false);
    }
    let negated = match op {
        CompareOp::Eq => false,
        CompareOp::Ne => true,
        _ => return (Requirement::Any, false),
    };
    match ValueTest::new(value) {
        Some(test) => (field_requirement(field, test, negated), true),
        None => (Requirement::Any, false),
    }
}

fn field_requirement(field: &str, test: ValueTest, negated: bool) -> Requirement {
    Requirement::Field { name: field.to_string(), test, negated }
}

fn is_default_field(field: &str) -> bool {
    DEFAULT_FIELDS.contains(&field)
}

/// A `stats` command that only counts, grouped by default fields, which an
/// index can answer from its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountByDefaults {
    /// The output names of the `count` aggregations.
    pub outputs: Vec<String>,
    /// The `by` fields, each one of [`DEFAULT_FIELDS`].
    pub by: Vec<String>,
}

/// Returns the count shape when the pipeline is one `search` followed by
/// `stats count [as name] [by default fields]` and nothing else.
pub fn count_by_defaults(pipeline: &Pipeline) -> Option<CountByDefaults> {
    let [first, second] = pipeline.commands.as_slice() else {
        return None;
    };
    if !matches!(first.kind, CommandKind::Search(_)) {
        return None;
    }
    let CommandKind::Stats(stats) = &second.kind else {
        return None;
    };
    let counts_only = stats
        .aggregations
        .iter()
        .all(|a| matches!(a.function.as_str(), "count" | "c") && a.field.is_none());
    let by_defaults = stats.by.iter().all(|f| is_default_field(f));
    if !counts_only || !by_defaults || stats.aggregations.is_empty() {
        return None;
    }
    Some(CountByDefaults {
        outputs: stats.aggregations.iter().map(|a| a.output.clone()).collect(),
        by: stats.by.clone(),
    })
}

/// Orders two field values as `stats` orders its groups: numbers by value,
/// then text.
pub fn compare_values(a: &str, b: &str) -> Ordering {
    super::eval::compare_text(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spl::parse;

    fn of(query: &str) -> Prefilter {
        prefilter(&parse(query).unwrap(), 0)
    }

    fn tokens(requirement: &Requirement) -> Vec<String> {
        match requirement {
            Requirement::Token(token) => vec![token.clone()],
            Requirement::All(items) | Requirement::AnyOf(items) => {
                items.iter().flat_map(tokens).collect()
            }
            _ => Vec::new(),
        }
    }

    #[test]
    fn single_word_term_is_exact() {
        let filter = of("search Failed");
        assert!(filter.exact);
        assert_eq!(tokens(&filter.requirement), vec!["failed"]);
    }

    #[test]
    fn dotted_term_needs_every_run() {
        let filter = of("search 10.0.2.17");
        assert!(!filter.exact);
        assert_eq!(tokens(&filter.requirement), vec!["10", "0", "2", "17"]);
    }

    #[test]
    fn wildcard_runs_are_dropped() {
        let filter = of("search \"ab.fail*\"");
        assert_eq!(tokens(&filter.requirement), vec!["ab"]);
        assert!(!filter.exact);
        assert!(matches!(of("search fail*").requirement, Requirement::Any));
    }

    #[test]
    fn other_fields_give_no_requirement() {
        let filter = of("search user=root");
        assert!(matches!(filter.requirement, Requirement::Any));
        assert!(!filter.exact);
    }

    #[test]
    fn default_fields_are_exact() {
        let filter = of("search host=web* sourcetype!=syslog");
        assert!(filter.exact);
        let Requirement::All(items) = filter.requirement else { panic!("expected All") };
        let Requirement::Field { test, negated, .. } = &items[0] else { panic!("expected Field") };
        assert!(!negated);
        assert!(test.test("WEB01"));
        assert!(!test.test("db01"));
    }

    #[test]
    fn or_with_open_branch_is_any() {
        let filter = of("search failed OR user=root");
        assert!(matches!(filter.requirement, Requirement::Any));
    }

    #[test]
    fn not_is_never_exact() {
        assert!(!of("search NOT failed").exact);
    }

    #[test]
    fn count_shape_detects() {
        let shape = count_by_defaults(&parse("search failed | stats count by host").unwrap());
        let expected = CountByDefaults { outputs: vec!["count".into()], by: vec!["host".into()] };
        assert_eq!(shape, Some(expected));
        assert_eq!(count_by_defaults(&parse("failed | stats count by user").unwrap()), None);
        assert_eq!(count_by_defaults(&parse("failed | stats dc(user)").unwrap()), None);
        assert_eq!(count_by_defaults(&parse("failed | stats count | head 1").unwrap()), None);
    }

    #[test]
    fn non_ascii_letters_join_tokens() {
        assert!(is_word_char('é'));
        assert!(is_word_char('٣'));
        assert!(!is_word_char('€'));
        assert!(!is_word_char('\u{0345}'));
    }
}
