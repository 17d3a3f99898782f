//! The `transaction` command: groups rows that share field values into one
//! row per transaction.
//!
//! Rows with the same values of every listed field (the first value of a
//! multivalue field) form a group, taken oldest first. A transaction closes
//! when the next row would make it longer than `maxspan`, follow a gap longer
//! than `maxpause`, or exceed `maxevents` rows. Each transaction becomes one
//! row: `_time` of its first event, `duration` in seconds from the first to
//! the last event, `eventcount`, `_raw` lines joined oldest first, and every
//! other field with its distinct values in lexicographic order (Splunk's
//! default `mvlist=false`). Transactions come out newest first.
//!
//! NOTE: Splunk also joins rows that lack some of the fields into a
//! transaction that has the others; this engine drops such rows.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use super::ast::Transaction;
use super::eval::format_number;
use super::matcher::Record;
use crate::event::{format_epoch_seconds, Row, Value};

/// Groups rows into transactions.
pub fn run(spec: &Transaction, rows: Vec<Row>) -> Vec<Row> {
    let mut groups: IndexMap<Vec<String>, Vec<(i64, Row)>> = IndexMap::new();
    for row in rows {
        let key: Option<Vec<String>> = spec
            .fields
            .iter()
            .map(|f| row.get(f).and_then(Value::first).map(str::to_string))
            .collect();
        if let (Some(key), Some(time)) = (key, row.time()) {
            groups.entry(key).or_default().push((time, row));
        }
    }
    let mut out: Vec<(i64, Row)> = Vec::new();
    for (_, mut events) in groups {
        events.sort_by_key(|(time, _)| *time);
        for members in split(spec, events) {
            out.push((members[0].0, merge(&members)));
        }
    }
    out.sort_by_key(|(time, _)| std::cmp::Reverse(*time));
    out.into_iter().map(|(_, row)| row).collect()
}

/// Splits one group's rows, oldest first, at the `maxspan`, `maxpause` and
/// `maxevents` limits.
fn split(spec: &Transaction, events: Vec<(i64, Row)>) -> Vec<Vec<(i64, Row)>> {
    let mut transactions: Vec<Vec<(i64, Row)>> = Vec::new();
    for (time, row) in events {
        let fits = transactions.last().is_some_and(|current| {
            let (start, previous) = (current[0].0, current[current.len() - 1].0);
            spec.max_span.is_none_or(|span| time - start <= span)
                && spec.max_pause.is_none_or(|pause| time - previous <= pause)
                && current.len() < spec.max_events
        });
        match transactions.last_mut() {
            Some(current) if fits => current.push((time, row)),
            _ => transactions.push(vec![(time, row)]),
        }
    }
    transactions
}

fn merge(members: &[(i64, Row)]) -> Row {
    let (first, last) = (members[0].0, members[members.len() - 1].0);
    let mut values: IndexMap<&str, BTreeSet<&str>> = IndexMap::new();
    let mut raws = Vec::new();

    for (_, row) in members {
        for (name, value) in row {
            match name.as_str() {
                "_time" => {}
                "_raw" => raws.extend(value.iter()),
                _ => values.entry(name).or_default().extend(value.iter()),
            }
        }
    }

    let mut row = Row::new();
    row.insert("_time".into(), Value::Single(format_epoch_seconds(first)));
    if !raws.is_empty() {
        row.insert("_raw".into(), Value::Single(raws.join("\n")));
    }
    for (name, set) in values {
        let mut list: Vec<String> = set.into_iter().map(str::to_string).collect();
        let value = if list.len() == 1 {
            Value::Single(list.remove(0))
        } else {
            Value::Multi(list)
        };
        row.insert(name.to_string(), value);
    }

    let duration = (last - first) as f64 / 1_000_000.0;
    row.insert("duration".into(), Value::Single(format_number(duration)));
    row.insert(
        "eventcount".into(),
        Value::Single(members.len().to_string()),
    );
    row
}
