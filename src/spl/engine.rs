//! The local evaluator: runs a parsed pipeline over events.
//!
//! Every command is checked and compiled before any event is read, so an
//! unsupported command or function fails fast, and regexes, wildcards and
//! expressions are compiled once per query.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::ast::{Command, CommandKind, Dedup, Pipeline, Sort, SortOrder, Top};
use super::eval::{self, build_regex, compare_text, parse_number, Node, Scope, Val};
use super::eval_functions::to_field_text;
use super::matcher::{self, Matcher};
use super::stats::{self, CompiledStats};
use super::SplError;
use crate::event::{Event, Row, Value};

/// A command ready to run.
enum Stage<'a> {
    Search(Option<Matcher>),
    Where(Node),
    Eval(Vec<(&'a str, Node, usize)>),
    Stats(CompiledStats),
    Table(Vec<Glob>),
    Fields { remove: bool, globs: Vec<Glob> },
    Sort(&'a Sort),
    Head(usize),
    Tail(usize),
    Dedup(&'a Dedup),
    Rex { field: &'a str, regex: Regex, max_match: usize },
    Rename(Vec<(Glob, &'a str)>),
    Fillnull { value: &'a str, fields: &'a [String] },
    Top(&'a Top),
}

pub fn run(pipeline: &Pipeline, events: &[Event], now: i64) -> Result<Vec<Row>, SplError> {
    let Some(first) = pipeline.commands.first() else {
        return Err(SplError::syntax("empty pipeline", pipeline.offset));
    };
    match &first.kind {
        CommandKind::Search(_) | CommandKind::Invalid(_) => {}
        CommandKind::Other | CommandKind::Macro(_) => {
            return Err(SplError::unsupported_command(&first.name, first.position));
        }
        _ => {
            let message = format!(
                "'{}' at position {} cannot start a query in the local engine; \
                 start with search terms, as in 'index=main | {}'",
                first.name, first.position, first.name
            );
            let kind = super::SplErrorKind::UnsupportedCommand;
            return Err(SplError { kind, message, position: first.position });
        }
    }
    let stages = pipeline
        .commands
        .iter()
        .map(|command| compile_stage(command, now))
        .collect::<Result<Vec<_>, _>>()?;
    let (head, rest) = stages.split_first().expect("pipeline has a first stage");
    let Stage::Search(matcher) = head else { unreachable!("first stage is a search") };
    let mut rows: Vec<Row> = events
        .iter()
        .filter(|event| matcher.as_ref().is_none_or(|m| m.matches(*event)))
        .map(Event::to_row)
        .collect();
    for stage in rest {
        rows = apply(stage, rows, now)?;
    }
    Ok(rows)
}

fn compile_stage(command: &Command, now: i64) -> Result<Stage<'_>, SplError> {
    if let Some(sub) = command.args.iter().find(|t| t.kind == super::token::TokenKind::Subsearch) {
        return Err(SplError::unsupported_command("[subsearch]", sub.start));
    }
    Ok(match &command.kind {
        CommandKind::Search(expr) => {
            Stage::Search(expr.as_ref().map(|e| matcher::compile(e, now)).transpose()?)
        }
        CommandKind::Where(expr) => Stage::Where(eval::compile(expr)?),
        CommandKind::Eval(assignments) => Stage::Eval(
            assignments
                .iter()
                .map(|a| Ok((a.field.as_str(), eval::compile(&a.expr)?, command.position)))
                .collect::<Result<_, SplError>>()?,
        ),
        CommandKind::Stats(spec) => Stage::Stats(stats::compile(spec)?),
        CommandKind::Table(fields) => Stage::Table(globs(fields, command.position)?),
        CommandKind::Fields { remove, fields } => {
            Stage::Fields { remove: *remove, globs: globs(fields, command.position)? }
        }
        CommandKind::Sort(sort) => Stage::Sort(sort),
        CommandKind::Head(n) => Stage::Head(*n),
        CommandKind::Tail(n) => Stage::Tail(*n),
        CommandKind::Dedup(dedup) => Stage::Dedup(dedup),
        CommandKind::Rex(rex) => Stage::Rex {
            field: &rex.field,
            regex: build_regex(&rex.regex, rex.position)?,
            max_match: rex.max_match,
        },
        CommandKind::Rename(pairs) => Stage::Rename(
            pairs
                .iter()
                .map(|(from, to)| Ok((Glob::new(from, command.position)?, to.as_str())))
                .collect::<Result<_, SplError>>()?,
        ),
        CommandKind::Fillnull { value, fields } => Stage::Fillnull { value, fields },
        CommandKind::Top(top) => Stage::Top(top),
        CommandKind::Invalid(error) => return Err(error.clone()),
        CommandKind::Macro(call) => {
            return Err(SplError::unsupported_command(&format!("`{}`", call.name), call.position))
        }
        CommandKind::Other => return Err(SplError::unsupported_command(&command.name, command.position)),
    })
}

fn apply(stage: &Stage, rows: Vec<Row>, now: i64) -> Result<Vec<Row>, SplError> {
    Ok(match stage {
        Stage::Search(None) => rows,
        Stage::Search(Some(m)) => rows.into_iter().filter(|row| m.matches(row)).collect(),
        Stage::Where(node) => rows
            .into_iter()
            .filter(|row| eval::evaluate(node, &Scope { row, now }).is_true())
            .collect(),
        Stage::Eval(assignments) => return eval_rows(assignments, rows, now),
        Stage::Stats(spec) => stats::run(spec, rows),
        Stage::Table(globs) => rows.into_iter().map(|row| table(globs, &row)).collect(),
        Stage::Fields { remove, globs } => rows.into_iter().map(|row| fields(*remove, globs, row)).collect(),
        Stage::Sort(sort) => sort_rows(sort, rows),
        Stage::Head(n) => rows.into_iter().take(*n).collect(),
        // Splunk's tail returns the last rows in reverse order.
        Stage::Tail(n) => rows.into_iter().rev().take(*n).collect(),
        Stage::Dedup(dedup) => dedup_rows(dedup, rows),
        Stage::Rex { field, regex, max_match } => {
            rows.into_iter().map(|row| rex(field, regex, *max_match, row)).collect()
        }
        Stage::Rename(pairs) => rows.into_iter().map(|row| rename(pairs, row)).collect(),
        Stage::Fillnull { value, fields } => fillnull(value, fields, rows),
        Stage::Top(top) => super::top::run(top, rows),
    })
}

fn eval_rows(assignments: &[(&str, Node, usize)], mut rows: Vec<Row>, now: i64) -> Result<Vec<Row>, SplError> {
    for row in &mut rows {
        for (field, node, position) in assignments {
            let value = eval::evaluate(node, &Scope { row, now });
            match value {
                Val::Null => {
                    row.shift_remove(*field);
                }
                Val::Bool(_) => {
                    let msg = format!(
                        "eval {field}: the expression is a boolean; wrap it in if(condition, 1, 0)"
                    );
                    return Err(SplError::invalid(msg, *position));
                }
                Val::Multi(values) => {
                    row.insert(field.to_string(), Value::Multi(values));
                }
                other => {
                    let text = to_field_text(&other).unwrap_or_default();
                    row.insert(field.to_string(), Value::Single(text));
                }
            }
        }
    }
    Ok(rows)
}

/// A field-name pattern where `*` matches any run of characters.
pub struct Glob {
    text: String,
    regex: Option<Regex>,
}

impl Glob {
    pub fn new(text: &str, position: usize) -> Result<Glob, SplError> {
        if !text.contains('*') {
            return Ok(Glob { text: text.to_string(), regex: None });
        }
        let parts: Vec<String> = text.split('*').map(regex::escape).collect();
        let regex = build_regex(&format!("(?s)^{}$", parts.join("(.*)")), position)?;
        Ok(Glob { text: text.to_string(), regex: Some(regex) })
    }

    pub fn matches(&self, name: &str) -> bool {
        match &self.regex {
            Some(regex) => regex.is_match(name),
            None => self.text == name,
        }
    }

    /// Returns the new name for `name` under `target`, whose `*`s take the
    /// text the pattern's `*`s matched, or `None` when `name` does not match.
    fn rename(&self, name: &str, target: &str) -> Option<String> {
        let Some(regex) = &self.regex else {
            return (self.text == name).then(|| target.to_string());
        };
        let captures = regex.captures(name)?;
        let mut groups = captures.iter().skip(1).map(|m| m.map_or("", |m| m.as_str()));
        let mut out = String::new();
        for (i, part) in target.split('*').enumerate() {
            if i > 0 {
                out.push_str(groups.next().unwrap_or(""));
            }
            out.push_str(part);
        }
        Some(out)
    }
}

fn globs(fields: &[String], position: usize) -> Result<Vec<Glob>, SplError> {
    fields.iter().map(|f| Glob::new(f, position)).collect()
}

fn table(globs: &[Glob], row: &Row) -> Row {
    let mut out = Row::new();
    for glob in globs {
        match &glob.regex {
            None => {
                if let Some(value) = row.get(&glob.text) {
                    out.insert(glob.text.clone(), value.clone());
                }
            }
            Some(_) => {
                for (name, value) in row.iter().filter(|(name, _)| glob.matches(name)) {
                    if !out.contains_key(name) {
                        out.insert(name.clone(), value.clone());
                    }
                }
            }
        }
    }
    out
}

/// Keeps (or removes) matching fields; keeping also keeps `_time` and `_raw`,
/// as Splunk does unless they are removed explicitly.
fn fields(remove: bool, globs: &[Glob], mut row: Row) -> Row {
    row.retain(|name, _| {
        let listed = globs.iter().any(|g| g.matches(name));
        if remove {
            !listed
        } else {
            listed || name == "_time" || name == "_raw"
        }
    });
    row
}

fn sort_rows(sort: &Sort, mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| {
        for key in &sort.keys {
            let (x, y) = (a.get(&key.field).and_then(Value::first), b.get(&key.field).and_then(Value::first));
            // Rows without the field go last in either direction.
            let ordering = match (x, y) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (Some(_), None) => return std::cmp::Ordering::Less,
                (Some(x), Some(y)) => compare_for_sort(key.order, x, y),
            };
            let ordering = if key.descending { ordering.reverse() } else { ordering };
            if ordering.is_ne() {
                return ordering;
            }
        }
        std::cmp::Ordering::Equal
    });
    if let Some(limit) = sort.limit {
        rows.truncate(limit);
    }
    rows
}

fn compare_for_sort(order: SortOrder, x: &str, y: &str) -> std::cmp::Ordering {
    match order {
        SortOrder::Auto => compare_text(x, y),
        SortOrder::Lexicographic => x.cmp(y),
        SortOrder::Numeric => match (parse_number(x), parse_number(y)) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => x.cmp(y),
        },
    }
}

fn dedup_rows(dedup: &Dedup, rows: Vec<Row>) -> Vec<Row> {
    let mut seen: HashMap<Vec<Value>, usize> = HashMap::new();
    rows.into_iter()
        .filter(|row| {
            let key: Option<Vec<Value>> = dedup.fields.iter().map(|f| row.get(f).cloned()).collect();
            let Some(key) = key else { return dedup.keep_empty };
            let count = seen.entry(key).or_insert(0);
            *count += 1;
            *count <= dedup.count
        })
        .collect()
}

fn rex(field: &str, regex: &Regex, max_match: usize, mut row: Row) -> Row {
    let Some(text) = row.get(field).and_then(Value::first).map(str::to_string) else {
        return row;
    };
    let names: Vec<&str> = regex.capture_names().flatten().collect();
    let limit = if max_match == 0 { usize::MAX } else { max_match };
    let mut extracted: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for captures in regex.captures_iter(&text).take(limit) {
        for (i, name) in names.iter().enumerate() {
            if let Some(m) = captures.name(name) {
                extracted[i].push(m.as_str().to_string());
            }
        }
    }
    for (name, mut values) in names.into_iter().zip(extracted) {
        match values.len() {
            0 => {}
            1 => {
                row.insert(name.to_string(), Value::Single(values.remove(0)));
            }
            _ => {
                row.insert(name.to_string(), Value::Multi(values));
            }
        }
    }
    row
}

fn rename(pairs: &[(Glob, &str)], row: Row) -> Row {
    let mut out = Row::with_capacity(row.len());
    for (name, value) in row {
        let renamed = pairs.iter().find_map(|(glob, to)| glob.rename(&name, to));
        let name = renamed.unwrap_or(name);
        out.insert(name, value);
    }
    out
}

/// Fills absent or empty fields; with no fields listed, fills every field
/// that any row has.
fn fillnull(value: &str, fields: &[String], mut rows: Vec<Row>) -> Vec<Row> {
    let targets: Vec<String> = if fields.is_empty() {
        let mut seen = HashSet::new();
        rows.iter().flat_map(|r| r.keys()).filter(|k| seen.insert(k.to_string())).cloned().collect()
    } else {
        fields.to_vec()
    };
    for row in &mut rows {
        for field in &targets {
            let empty = row.get(field).is_none_or(|v| v.first().is_none_or(str::is_empty));
            if empty {
                row.insert(field.clone(), Value::Single(value.to_string()));
            }
        }
    }
    rows
}
