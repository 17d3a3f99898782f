//! The `top` and `rare` commands: the most or least common value combinations.

use std::cmp::Ordering;

use indexmap::IndexMap;

use super::ast::Top;
use super::eval::format_number;
use crate::event::{Row, Value};

/// Counts value combinations of `top.fields` (per `top.by` group) and keeps
/// the `limit` most common (all for 0) (or, for `rare`, least common), with `count` and
/// `percent` fields; ties keep first-seen order.
pub fn run(top: &Top, rows: Vec<Row>) -> Vec<Row> {
    let mut groups: IndexMap<Vec<String>, IndexMap<Vec<String>, u64>> = IndexMap::new();
    for row in &rows {
        let Some(by) = values_of(row, &top.by) else {
            continue;
        };
        let Some(key) = values_of(row, &top.fields) else {
            continue;
        };
        *groups.entry(by).or_default().entry(key).or_insert(0) += 1;
    }
    let mut out = Vec::new();
    for (by, counts) in groups {
        let total: u64 = counts.values().sum();
        let mut entries: Vec<_> = counts.into_iter().collect();
        entries.sort_by(|a, b| {
            let ordering: Ordering = b.1.cmp(&a.1);
            if top.rare {
                ordering.reverse()
            } else {
                ordering
            }
        });
        for (key, count) in entries.into_iter().take(if top.limit == 0 {
            usize::MAX
        } else {
            top.limit
        }) {
            let mut row = Row::new();
            for (field, value) in top.by.iter().zip(&by).chain(top.fields.iter().zip(&key)) {
                row.insert(field.clone(), Value::Single(value.clone()));
            }
            row.insert("count".into(), Value::Single(count.to_string()));
            let percent = count as f64 * 100.0 / total as f64;
            row.insert("percent".into(), Value::Single(format_number(percent)));
            out.push(row);
        }
    }
    out
}

fn values_of(row: &Row, fields: &[String]) -> Option<Vec<String>> {
    fields
        .iter()
        .map(|f| row.get(f).and_then(Value::first).map(str::to_string))
        .collect()
}
