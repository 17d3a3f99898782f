//! The local evaluator: runs a parsed pipeline over events.
//!
//! Every command is checked and compiled before any event is read, so an
//! unsupported command or function fails fast, and regexes, wildcards and
//! expressions are compiled once per query.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::ast::{Bin, Command, CommandKind, Dedup, Pipeline, Sort, SortOrder, Top, Transaction};
use super::eval::{self, build_regex, compare_text, parse_number, Node, Scope, Val};
use super::eval_functions::to_field_text;
use super::lookup::{self, LoadedLookup};
use super::matcher::{self, Matcher};
use super::stats::{self, CompiledStats};
use super::timechart::{self, CompiledChart};
use super::transaction;
use super::{RunContext, SplError, SplErrorKind};
use crate::event::{Event, Row, Value};

/// A command ready to run.
enum Stage<'a> {
    Search(Option<Matcher>),
    Where(Node),
    Eval(Vec<(&'a str, Node, usize)>),
    Stats(CompiledStats),
    Table(Vec<Glob>),
    Fields {
        remove: bool,
        globs: Vec<Glob>,
    },
    Sort(&'a Sort),
    Head(usize),
    Tail(usize),
    Dedup(&'a Dedup),
    Rex {
        field: &'a str,
        regex: Regex,
        max_match: usize,
    },
    Rename(Vec<(Glob, &'a str)>),
    Fillnull {
        value: &'a str,
        fields: &'a [String],
    },
    Top(&'a Top),
    Bin(&'a Bin),
    Timechart(CompiledChart<'a>),
    Transaction(&'a Transaction),
    Lookup(LoadedLookup<'a>),
}

pub fn run(
    pipeline: &Pipeline,
    events: &[Event],
    context: &RunContext,
) -> Result<Vec<Row>, SplError> {
    let now = context.now;
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
                "'{}' cannot start a query in the local engine; \
                 start with search terms, as in 'index=main | {}'",
                first.name, first.name
            );
            let kind = SplErrorKind::UnsupportedCommand;
            return Err(SplError {
                kind,
                message,
                position: first.position,
            });
        }
    }
    let stages = pipeline
        .commands
        .iter()
        .map(|command| compile_stage(command, context))
        .collect::<Result<Vec<_>, _>>()?;
    let (head, rest) = stages.split_first().expect("pipeline has a first stage");
    let Stage::Search(matcher) = head else {
        unreachable!("first stage is a search")
    };
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

/// Compiles one command; an invalid argument found while compiling (a bad
/// regex, a missing lookup table) names the command in its message.
fn compile_stage<'a>(command: &'a Command, context: &RunContext) -> Result<Stage<'a>, SplError> {
    compile_command(command, context).map_err(|mut error| {
        let named = error
            .message
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == command.name);
        if error.kind == SplErrorKind::InvalidArgument && !named {
            error.message = format!("{}: {}", command.name, error.message);
        }
        error
    })
}

fn compile_command<'a>(command: &'a Command, context: &RunContext) -> Result<Stage<'a>, SplError> {
    let now = context.now;
    if let Some(sub) = command
        .args
        .iter()
        .find(|t| t.kind == super::token::TokenKind::Subsearch)
    {
        return Err(SplError::unsupported_command("[subsearch]", sub.start));
    }
    Ok(match &command.kind {
        CommandKind::Search(expr) => Stage::Search(
            expr.as_ref()
                .map(|e| matcher::compile(e, now))
                .transpose()?,
        ),
        CommandKind::Where(expr) => Stage::Where(eval::compile(expr)?),
        CommandKind::Eval(assignments) => Stage::Eval(
            assignments
                .iter()
                .map(|a| Ok((a.field.as_str(), eval::compile(&a.expr)?, command.position)))
                .collect::<Result<_, SplError>>()?,
        ),
        CommandKind::Stats(spec) => Stage::Stats(stats::compile(spec)?),
        CommandKind::Table(fields) => Stage::Table(globs(fields, command.position)?),
        CommandKind::Fields { remove, fields } => Stage::Fields {
            remove: *remove,
            globs: globs(fields, command.position)?,
        },
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
        CommandKind::Bin(bin) => Stage::Bin(bin),
        CommandKind::Timechart(chart) => Stage::Timechart(timechart::compile(chart)?),
        CommandKind::Transaction(spec) => Stage::Transaction(spec),
        CommandKind::Lookup(spec) => {
            Stage::Lookup(lookup::load(spec, context.lookup_dir.as_deref())?)
        }
        CommandKind::Invalid(error) => return Err(error.clone()),
        CommandKind::Macro(call) => {
            return Err(SplError::unsupported_command(
                &format!("`{}`", call.name),
                call.position,
            ))
        }
        CommandKind::Other => {
            return Err(SplError::unsupported_command(
                &command.name,
                command.position,
            ))
        }
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
        Stage::Fields { remove, globs } => rows
            .into_iter()
            .map(|row| fields(*remove, globs, row))
            .collect(),
        Stage::Sort(sort) => sort_rows(sort, rows),
        Stage::Head(n) => rows.into_iter().take(*n).collect(),
        // Splunk's tail returns the last rows in reverse order.
        Stage::Tail(n) => rows.into_iter().rev().take(*n).collect(),
        Stage::Dedup(dedup) => dedup_rows(dedup, rows),
        Stage::Rex {
            field,
            regex,
            max_match,
        } => rows
            .into_iter()
            .map(|row| rex(field, regex, *max_match, row))
            .collect(),
        Stage::Rename(pairs) => rows.into_iter().map(|row| rename(pairs, row)).collect(),
        Stage::Fillnull { value, fields } => fillnull(value, fields, rows),
        Stage::Top(top) => super::top::run(top, rows),
        Stage::Bin(spec) => timechart::bin(spec, rows),
        Stage::Timechart(chart) => timechart::run(chart, rows),
        Stage::Transaction(spec) => transaction::run(spec, rows),
        Stage::Lookup(table) => rows.into_iter().map(|row| table.apply(row)).collect(),
    })
}

fn eval_rows(
    assignments: &[(&str, Node, usize)],
    mut rows: Vec<Row>,
    now: i64,
) -> Result<Vec<Row>, SplError> {
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
            return Ok(Glob {
                text: text.to_string(),
                regex: None,
            });
        }
        let parts: Vec<String> = text.split('*').map(regex::escape).collect();
        let regex = build_regex(&format!("(?s)^{}$", parts.join("(.*)")), position)?;
        Ok(Glob {
            text: text.to_string(),
            regex: Some(regex),
        })
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
        let mut groups = captures
            .iter()
            .skip(1)
            .map(|m| m.map_or("", |m| m.as_str()));
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
            let (x, y) = (
                a.get(&key.field).and_then(Value::first),
                b.get(&key.field).and_then(Value::first),
            );
            // Rows without the field go last in either direction.
            let ordering = match (x, y) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (Some(_), None) => return std::cmp::Ordering::Less,
                (Some(x), Some(y)) => compare_for_sort(key.order, x, y),
            };
            let ordering = if key.descending {
                ordering.reverse()
            } else {
                ordering
            };
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
            let key: Option<Vec<Value>> =
                dedup.fields.iter().map(|f| row.get(f).cloned()).collect();
            let Some(key) = key else {
                return dedup.keep_empty;
            };
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
    let limit = if max_match == 0 {
        usize::MAX
    } else {
        max_match
    };
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
        rows.iter()
            .flat_map(|r| r.keys())
            .filter(|k| seen.insert(k.to_string()))
            .cloned()
            .collect()
    } else {
        fields.to_vec()
    };
    for row in &mut rows {
        for field in &targets {
            let empty = row
                .get(field)
                .is_none_or(|v| v.first().is_none_or(str::is_empty));
            if empty {
                row.insert(field.clone(), Value::Single(value.to_string()));
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spl::parse;
    use indexmap::IndexMap;

    fn event(raw: &str, fields: &[(&str, Value)]) -> Event {
        Event {
            time: 1_000_000,
            raw: raw.into(),
            host: "h1".into(),
            source: "s".into(),
            sourcetype: "st".into(),
            index: "main".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<IndexMap<_, _>>(),
        }
    }

    fn count(query: &str, events: &[Event]) -> usize {
        rows(query, events).len()
    }

    fn one(raw: &str) -> Vec<Event> {
        vec![event(raw, &[])]
    }

    #[test]
    fn term_matches_at_segment_boundaries() {
        assert_eq!(count("101", &one("from 5.101.40.81 port")), 1);
        assert_eq!(count("10", &one("from 5.101.40.81 port")), 0);
        assert_eq!(count("FAILED", &one("Failed password")), 1);
        assert_eq!(count("fail", &one("Failed password")), 0);
        assert_eq!(count("fail*", &one("Failed password")), 1);
        assert_eq!(count("*word", &one("Failed password")), 1);
    }

    #[test]
    fn phrase_matches_at_segment_boundaries() {
        assert_eq!(
            count("\"failed password\"", &one("x Failed password for")),
            1
        );
        assert_eq!(count("\"ed pass\"", &one("x Failed password for")), 0);
    }

    #[test]
    fn absent_field_never_compares() {
        let events = one("x");
        assert_eq!(count("user=root", &events), 0);
        assert_eq!(count("user!=root", &events), 0);
        assert_eq!(count("NOT user=root", &events), 1);
    }

    #[test]
    fn field_values_case_insensitive_names_not() {
        let events = vec![event("x", &[("user", Value::from("Root"))])];
        assert_eq!(count("user=root", &events), 1);
        assert_eq!(count("User=root", &events), 0);
        assert_eq!(count("user=r*", &events), 1);
        assert_eq!(count("user!=root", &events), 0);
        assert_eq!(count("user!=admin", &events), 1);
    }

    #[test]
    fn multivalue_matches_any_value() {
        let groups = Value::Multi(vec!["users".into(), "wheel".into()]);
        let events = vec![event("x", &[("group", groups)])];
        assert_eq!(count("group=wheel", &events), 1);
        assert_eq!(count("group=admin", &events), 0);
    }

    #[test]
    fn comparisons_numeric_or_text() {
        let events = vec![event(
            "x",
            &[("port", Value::from("100")), ("name", Value::from("b"))],
        )];
        assert_eq!(count("port>20", &events), 1);
        assert_eq!(count("port<=99", &events), 0);
        assert_eq!(count("name>a", &events), 1);
        assert_eq!(count("name>=c", &events), 0);
    }

    #[test]
    fn selectors_are_fields() {
        let events = one("x");
        assert_eq!(
            count("index=main sourcetype=ST host=h1 source=s", &events),
            1
        );
        assert_eq!(count("index=other", &events), 0);
    }

    #[test]
    fn latest_is_exclusive() {
        let events = one("x");
        assert_eq!(count("latest=1", &events), 0);
        assert_eq!(count("earliest=1 latest=2", &events), 1);
    }

    #[test]
    fn where_functions_and_operators() {
        let events = vec![event(
            "x",
            &[("user", Value::from("Admin")), ("n", Value::from("7"))],
        )];
        let cases = [
            ("like(user, \"Ad%\")", 1),
            ("like(user, \"ad%\")", 0),
            ("match(user, \"^A.m\")", 1),
            ("isnull(missing) AND isnotnull(user)", 1),
            ("lower(user)=\"admin\" XOR n>100", 1),
            ("len(user)=5 AND n % 2 = 1", 1),
            ("if(n>5, \"big\", \"small\")=\"big\"", 1),
            ("coalesce(missing, user).\"!\"=\"Admin!\"", 1),
            ("tonumber(n) + 1 = 8", 1),
            ("tostring(n*2)=\"14\"", 1),
            ("cidrmatch(\"10.0.0.0/8\", \"10.2.3.4\")", 1),
            ("cidrmatch(\"10.0.0.0/8\", \"11.2.3.4\")", 0),
            ("'user'=\"Admin\" AND NOT (n < 3 OR n > 9)", 1),
            ("user IN (\"x\", \"Admin\")", 1),
        ];
        for (expr, expected) in cases {
            let query = format!("* | where {expr}");
            assert_eq!(count(&query, &events), expected, "{expr}");
        }
    }

    fn rows(query: &str, events: &[Event]) -> Vec<Row> {
        run(&parse(query).unwrap(), events, &RunContext::default()).unwrap()
    }

    fn text<'a>(row: &'a Row, field: &str) -> Option<&'a str> {
        row.get(field).and_then(Value::first)
    }

    fn numbered(values: &[(&str, &str, i64)]) -> Vec<Event> {
        values
            .iter()
            .map(|(user, n, secs)| {
                let mut e = event("x", &[("user", Value::from(*user)), ("n", Value::from(*n))]);
                e.time = secs * 1_000_000;
                e
            })
            .collect()
    }

    #[test]
    fn stats_min_max_sum_avg() {
        // Events newest first: times 30, 20, 10.
        let events = numbered(&[("a", "10", 30), ("b", "9", 20), ("a", "x", 10)]);
        let out = rows(
            "* | stats min(n) max(n) sum(n) avg(n) earliest(user) latest(user) first(n) last(n)",
            &events,
        );
        assert_eq!(out.len(), 1);
        // "x" is not numeric, so min and max compare text: "10" < "9" < "x".
        assert_eq!(text(&out[0], "min(n)"), Some("10"));
        assert_eq!(text(&out[0], "max(n)"), Some("x"));
        assert_eq!(text(&out[0], "sum(n)"), Some("19"));
        assert_eq!(text(&out[0], "avg(n)"), Some("9.5"));
        assert_eq!(text(&out[0], "earliest(user)"), Some("a"));
        assert_eq!(text(&out[0], "latest(user)"), Some("a"));
        assert_eq!(text(&out[0], "first(n)"), Some("10"));
        assert_eq!(text(&out[0], "last(n)"), Some("x"));
    }

    #[test]
    fn stats_numeric_min_when_all_numbers() {
        let events = numbered(&[("a", "10", 3), ("b", "9", 2)]);
        let out = rows("* | stats min(n) as lo max(n) as hi", &events);
        assert_eq!(text(&out[0], "lo"), Some("9"));
        assert_eq!(text(&out[0], "hi"), Some("10"));
    }

    #[test]
    fn stats_by_drops_missing_splits_multivalue() {
        let mut events = numbered(&[("b", "1", 3), ("a", "2", 2)]);
        events[0]
            .fields
            .insert("user".into(), Value::Multi(vec!["b".into(), "c".into()]));
        events.push(event("no user", &[]));
        let out = rows("* | stats count list(n) as ns by user", &events);
        let users: Vec<_> = out.iter().map(|r| text(r, "user").unwrap()).collect();
        assert_eq!(users, vec!["a", "b", "c"]);
        assert_eq!(text(&out[1], "count"), Some("1"));
        assert_eq!(text(&out[2], "ns"), Some("1"));
    }

    #[test]
    fn stats_without_rows_counts_zero() {
        let out = rows("nothing_matches | stats count", &one("x"));
        assert_eq!(out.len(), 1);
        assert_eq!(text(&out[0], "count"), Some("0"));
    }

    #[test]
    fn sort_head_tail_dedup() {
        let events = numbered(&[
            ("a", "10", 4),
            ("b", "9", 3),
            ("a", "100", 2),
            ("c", "1", 1),
        ]);
        let sorted = rows("* | sort -n | table n", &events);
        let ns: Vec<_> = sorted.iter().map(|r| text(r, "n").unwrap()).collect();
        assert_eq!(ns, vec!["100", "10", "9", "1"]);
        let limited = rows("* | sort 2 str(n) | table n", &events);
        let ns: Vec<_> = limited.iter().map(|r| text(r, "n").unwrap()).collect();
        assert_eq!(ns, vec!["1", "10"]);
        assert_eq!(rows("* | head 3", &events).len(), 3);
        let tail = rows("* | tail 2", &events);
        assert_eq!(text(&tail[0], "n"), Some("1"));
        assert_eq!(text(&tail[1], "n"), Some("100"));
        let deduped = rows("* | dedup user", &events);
        let users: Vec<_> = deduped.iter().map(|r| text(r, "user").unwrap()).collect();
        assert_eq!(users, vec!["a", "b", "c"]);
    }

    #[test]
    fn table_fields_rename_fillnull() {
        let events = vec![event(
            "x",
            &[("src_ip", Value::from("1")), ("src_port", Value::from("2"))],
        )];
        let out = rows("* | table src* user", &events);
        assert_eq!(
            out[0].keys().collect::<Vec<_>>(),
            vec!["src_ip", "src_port"]
        );
        let out = rows("* | fields - src_port _raw", &events);
        assert!(out[0].contains_key("src_ip"));
        assert!(!out[0].contains_key("src_port"));
        assert!(!out[0].contains_key("_raw"));
        let out = rows("* | fields src_ip", &events);
        assert_eq!(
            out[0].keys().collect::<Vec<_>>(),
            vec!["_time", "_raw", "src_ip"]
        );
        let out = rows("* | rename src_* AS source_*, host AS hostname", &events);
        assert!(out[0].contains_key("source_ip"));
        assert!(out[0].contains_key("hostname"));
        let out = rows("* | fillnull value=none user src_ip", &events);
        assert_eq!(text(&out[0], "user"), Some("none"));
        assert_eq!(text(&out[0], "src_ip"), Some("1"));
    }

    #[test]
    fn rex_max_match_collects_all() {
        let events = one("ip=1.1.1.1 ip=2.2.2.2");
        let out = rows(r#"* | rex "ip=(?<ip>[\d.]+)""#, &events);
        assert_eq!(out[0].get("ip"), Some(&Value::from("1.1.1.1")));
        let out = rows(r#"* | rex max_match=0 "ip=(?<ip>[\d.]+)""#, &events);
        assert_eq!(
            out[0].get("ip"),
            Some(&Value::Multi(vec!["1.1.1.1".into(), "2.2.2.2".into()]))
        );
    }

    #[test]
    fn eval_assigns_in_order() {
        let out = rows("* | eval a=2, b=a*3, c=null()", &one("x"));
        assert_eq!(text(&out[0], "b"), Some("6"));
        assert!(!out[0].contains_key("c"));
    }

    #[test]
    fn run_rejects_unsupported_parts() {
        let cases = [
            ("| tstats count", SplErrorKind::UnsupportedCommand),
            ("`macro` x", SplErrorKind::UnsupportedCommand),
            ("x [search y]", SplErrorKind::UnsupportedCommand),
            ("x | stats perc95(n)", SplErrorKind::UnsupportedFunction),
            ("x | stats count(eval(n>1))", SplErrorKind::InvalidArgument),
            ("x | rex \"(\"", SplErrorKind::InvalidArgument),
        ];
        for (query, kind) in cases {
            let err = run(&parse(query).unwrap(), &one("x"), &RunContext::default()).unwrap_err();
            assert_eq!(err.kind, kind, "{query}: {err}");
        }
    }

    #[test]
    fn errors_state_position_once() {
        // Each query's first command starts at byte 2, after "| ".
        for query in ["| tstats count", "| stats count", "| inputlookup x"] {
            let err = run(&parse(query).unwrap(), &one("x"), &RunContext::default()).unwrap_err();
            let text = err.to_string();
            assert_eq!(text.matches("position").count(), 1, "{text}");
            assert!(text.ends_with("(at position 2)"), "{text}");
        }
        let err = run(&parse("x | stats perc95(n)").unwrap(), &one("x"), &RunContext::default())
            .unwrap_err();
        assert_eq!(err.kind, SplErrorKind::UnsupportedFunction);
        assert_eq!(err.to_string().matches("position").count(), 1, "{err}");
    }
}
