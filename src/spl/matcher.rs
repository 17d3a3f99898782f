//! Matching of search terms against events and rows.
//!
//! [`compile`] turns a [`SearchExpr`] into a [`Matcher`] once per query,
//! compiling every term and wildcard into a regex. Matching follows Splunk:
//! terms and field values compare case-insensitively, field names
//! case-sensitively; a bare term or phrase matches `_raw` where the text on
//! both sides of it is a non-alphanumeric character or the edge of `_raw`; a
//! multivalue field matches when any value does; and an absent field matches
//! neither `f=v` nor `f!=v`, though `NOT f=v` matches it.

use std::cmp::Ordering;

use regex::Regex;

use super::ast::{SearchExpr, TermDirective, TimeBound};
use super::eval::{build_regex, compare_text};
use super::time::resolve;
use super::token::CompareOp;
use super::SplError;
use crate::event::{format_epoch_seconds, parse_splunk_time, Event, FieldRef, Row};

/// Something search terms can be matched against: an event or a result row.
pub trait Record {
    /// Returns whether `test` holds for any value of the field, or `None`
    /// when the field is absent.
    fn any_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> Option<bool>;
    fn raw(&self) -> Option<&str>;
    /// The record time in microseconds since the epoch.
    fn time(&self) -> Option<i64>;
}

impl Record for Event {
    fn any_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        if name == "_time" {
            return Some(test(&format_epoch_seconds(self.time)));
        }
        match self.field(name)? {
            FieldRef::Str(s) => Some(test(s)),
            FieldRef::Value(value) => Some(value.iter().any(test)),
        }
    }

    fn raw(&self) -> Option<&str> {
        Some(&self.raw)
    }

    fn time(&self) -> Option<i64> {
        Some(self.time)
    }
}

impl Record for Row {
    fn any_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        self.get(name).map(|value| value.iter().any(test))
    }

    fn raw(&self) -> Option<&str> {
        self.get("_raw").and_then(|v| v.first())
    }

    fn time(&self) -> Option<i64> {
        self.get("_time")
            .and_then(|v| v.first())
            .and_then(parse_splunk_time)
    }
}

/// A compiled search condition.
#[derive(Debug)]
pub enum Matcher {
    All,
    And(Vec<Matcher>),
    Or(Vec<Matcher>),
    Not(Box<Matcher>),
    Term(Regex),
    /// `field=value` (or with `negated`, `field!=value`): the field must be
    /// present, and any of its values must pass (or fail) the test.
    Field {
        name: String,
        test: ValueTest,
        negated: bool,
    },
    TimeAtLeast(i64),
    TimeBefore(i64),
}

/// A test on one field value.
#[derive(Debug)]
pub enum ValueTest {
    /// Case-insensitive equality with this lower-case text.
    Equal(String),
    /// An anchored case-insensitive wildcard pattern.
    Pattern(Regex),
    Order(CompareOp, String),
    AnyOf(Vec<ValueTest>),
}

/// Compiles search terms, resolving relative times against `now`.
pub fn compile(expr: &SearchExpr, now: i64) -> Result<Matcher, SplError> {
    Ok(match expr {
        SearchExpr::And(items) => Matcher::And(compile_all(items, now)?),
        SearchExpr::Or(items) => Matcher::Or(compile_all(items, now)?),
        SearchExpr::Not(inner) => Matcher::Not(Box::new(compile(inner, now)?)),
        SearchExpr::Term { text, .. } if text.chars().all(|c| c == '*') => Matcher::All,
        SearchExpr::Term { text, position, .. } => Matcher::Term(term_regex(text, *position)?),
        SearchExpr::Directive {
            directive,
            text,
            position,
        } => Matcher::Term(directive_regex(*directive, text, *position)?),
        SearchExpr::Compare {
            field,
            op,
            value,
            position,
        } => compare_matcher(field, *op, value, *position)?,
        SearchExpr::In {
            field,
            values,
            position,
        } => {
            let tests = values
                .iter()
                .map(|v| equality(v, *position))
                .collect::<Result<_, _>>()?;
            Matcher::Field {
                name: field.clone(),
                test: ValueTest::AnyOf(tests),
                negated: false,
            }
        }
        SearchExpr::Time {
            bound: TimeBound::Earliest,
            spec,
            ..
        } => Matcher::TimeAtLeast(resolve(spec, now)),
        SearchExpr::Time {
            bound: TimeBound::Latest,
            spec,
            ..
        } => Matcher::TimeBefore(resolve(spec, now)),
        SearchExpr::Macro(call) => {
            let name = format!("`{}`", call.name);
            return Err(SplError::unsupported_command(&name, call.position));
        }
        SearchExpr::Subsearch { position, .. } => {
            return Err(SplError::unsupported_command("[subsearch]", *position));
        }
    })
}

fn compile_all(items: &[SearchExpr], now: i64) -> Result<Vec<Matcher>, SplError> {
    items.iter().map(|item| compile(item, now)).collect()
}

fn compare_matcher(
    field: &str,
    op: CompareOp,
    value: &str,
    position: usize,
) -> Result<Matcher, SplError> {
    let name = field.to_string();
    let (test, negated) = match op {
        CompareOp::Eq => (equality(value, position)?, false),
        CompareOp::Ne => (equality(value, position)?, true),
        other => (ValueTest::Order(other, value.to_string()), false),
    };
    Ok(Matcher::Field {
        name,
        test,
        negated,
    })
}

fn equality(value: &str, position: usize) -> Result<ValueTest, SplError> {
    if !value.contains('*') {
        return Ok(ValueTest::Equal(value.to_lowercase()));
    }
    let body: Vec<String> = value.split('*').map(regex::escape).collect();
    let pattern = format!("(?is)^{}$", body.join(".*"));
    Ok(ValueTest::Pattern(build_regex(&pattern, position)?))
}

/// Builds the regex for a term: the text (with `*` as any run of
/// characters) between segment boundaries.
fn term_regex(text: &str, position: usize) -> Result<Regex, SplError> {
    let body: Vec<String> = text.split('*').map(regex::escape).collect();
    let boundary = r"[^\p{L}\p{N}]";
    let pattern = format!("(?is)(?:^|{boundary}){}(?:$|{boundary})", body.join(".*?"));
    build_regex(&pattern, position)
}

/// Major breakers of Splunk's default segmentation (`segmenters.conf`),
/// as a regex class: whitespace and `[]<>(){}|!;,'"&?+`.
const MAJOR_BREAKERS: &str = r#"[\s\[\]<>(){}|!;,'"&?+]"#;

/// Builds the regex for `TERM(x)` (bounded by major breakers, so minor
/// breakers such as `.`, `=`, `:` or `/` next to it do not make a match) or
/// `CASE(x)` (bounded like a bare term, but matched case-sensitively).
fn directive_regex(
    directive: TermDirective,
    text: &str,
    position: usize,
) -> Result<Regex, SplError> {
    let body: Vec<String> = text.split('*').map(regex::escape).collect();
    let body = body.join(".*?");
    let pattern = match directive {
        TermDirective::Term => format!("(?is)(?:^|{MAJOR_BREAKERS}){body}(?:$|{MAJOR_BREAKERS})"),
        TermDirective::Case => {
            let boundary = r"[^\p{L}\p{N}]";
            format!("(?s)(?:^|{boundary}){body}(?:$|{boundary})")
        }
    };
    build_regex(&pattern, position)
}

impl ValueTest {
    fn test(&self, value: &str) -> bool {
        match self {
            ValueTest::Equal(expected) => equals_ignore_case(value, expected),
            ValueTest::Pattern(regex) => regex.is_match(value),
            ValueTest::Order(op, expected) => {
                let ordering = compare_text(value, expected);
                match op {
                    CompareOp::Lt => ordering == Ordering::Less,
                    CompareOp::Le => ordering != Ordering::Greater,
                    CompareOp::Gt => ordering == Ordering::Greater,
                    CompareOp::Ge => ordering != Ordering::Less,
                    CompareOp::Eq => ordering == Ordering::Equal,
                    CompareOp::Ne => ordering != Ordering::Equal,
                }
            }
            ValueTest::AnyOf(tests) => tests.iter().any(|t| t.test(value)),
        }
    }
}

/// Compares `value` with an already lower-cased `expected`.
fn equals_ignore_case(value: &str, expected: &str) -> bool {
    if value.is_ascii() {
        return value.len() == expected.len() && value.eq_ignore_ascii_case(expected);
    }
    value.to_lowercase() == expected
}

impl Matcher {
    /// Returns whether the record satisfies the condition.
    pub fn matches(&self, record: &dyn Record) -> bool {
        match self {
            Matcher::All => true,
            Matcher::And(items) => items.iter().all(|m| m.matches(record)),
            Matcher::Or(items) => items.iter().any(|m| m.matches(record)),
            Matcher::Not(inner) => !inner.matches(record),
            Matcher::Term(regex) => record.raw().is_some_and(|raw| regex.is_match(raw)),
            Matcher::Field {
                name,
                test,
                negated,
            } => {
                let mut check = |v: &str| test.test(v) != *negated;
                record.any_value(name, &mut check).unwrap_or(false)
            }
            Matcher::TimeAtLeast(bound) => record.time().is_some_and(|t| t >= *bound),
            Matcher::TimeBefore(bound) => record.time().is_some_and(|t| t < *bound),
        }
    }
}
