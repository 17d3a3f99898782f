//! The `stats` command: aggregation of rows into groups.
//!
//! Rows lacking a `by` field are dropped, a multivalue `by` field puts the row
//! in one group per value, and groups come out ordered by their `by` values
//! (numerically where both values are numbers), as in Splunk.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;

use super::ast::Stats;
use super::eval::{compare_text, format_number, parse_number};
use super::matcher::Record;
use super::SplError;
use crate::event::{Row, Value};

/// `list()` keeps at most this many values, as Splunk's default `list_maxsize`.
const LIST_MAX: usize = 100;

const FUNCTIONS: &[&str] = &[
    "count",
    "c",
    "dc",
    "distinct_count",
    "values",
    "list",
    "min",
    "max",
    "sum",
    "avg",
    "mean",
    "earliest",
    "latest",
    "first",
    "last",
    "range",
    "stdev",
    "stdevp",
    "var",
    "varp",
    "mode",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Count,
    Dc,
    Values,
    List,
    Min,
    Max,
    Sum,
    Avg,
    Earliest,
    Latest,
    First,
    Last,
    Range,
    /// Sample (`stdev`, `var`) or population (`stdevp`, `varp`) spread.
    Spread {
        root: bool,
        sample: bool,
    },
    Mode,
}

/// A `stats` command ready to run.
#[derive(Debug)]
pub struct CompiledStats {
    aggregations: Vec<(Function, Option<String>, String)>,
    by: Vec<String>,
}

/// Checks function names and arguments.
pub fn compile(stats: &Stats) -> Result<CompiledStats, SplError> {
    let mut aggregations = Vec::new();
    for agg in &stats.aggregations {
        let function = match agg.function.as_str() {
            "count" | "c" => Function::Count,
            "dc" | "distinct_count" => Function::Dc,
            "values" => Function::Values,
            "list" => Function::List,
            "min" => Function::Min,
            "max" => Function::Max,
            "sum" => Function::Sum,
            "avg" | "mean" => Function::Avg,
            "earliest" => Function::Earliest,
            "latest" => Function::Latest,
            "first" => Function::First,
            "last" => Function::Last,
            "range" => Function::Range,
            "stdev" => Function::Spread {
                root: true,
                sample: true,
            },
            "stdevp" => Function::Spread {
                root: true,
                sample: false,
            },
            "var" => Function::Spread {
                root: false,
                sample: true,
            },
            "varp" => Function::Spread {
                root: false,
                sample: false,
            },
            "mode" => Function::Mode,
            other => {
                return Err(SplError::unsupported_function(
                    other,
                    agg.position,
                    FUNCTIONS,
                ))
            }
        };
        if function != Function::Count && agg.field.is_none() {
            let msg = format!(
                "{}() needs a field, as in {}(src_ip)",
                agg.function, agg.function
            );
            return Err(SplError::invalid(msg, agg.position));
        }
        aggregations.push((function, agg.field.clone(), agg.output.clone()));
    }
    Ok(CompiledStats {
        aggregations,
        by: stats.by.clone(),
    })
}

/// The running state of one function in one group.
#[derive(Debug, Default)]
struct Acc {
    count: u64,
    distinct: HashSet<String>,
    sorted: BTreeSet<String>,
    list: Vec<String>,
    sum: f64,
    sum_squares: f64,
    numbers: u64,
    /// Count and first-seen rank of each value, for `mode`.
    frequencies: HashMap<String, (u64, usize)>,
    all_numeric: bool,
    min_num: Option<(f64, String)>,
    max_num: Option<(f64, String)>,
    min_text: Option<String>,
    max_text: Option<String>,
    timed: Option<(i64, Value)>,
    picked: Option<Value>,
}

impl Acc {
    fn new() -> Self {
        Acc {
            all_numeric: true,
            ..Acc::default()
        }
    }

    fn add(&mut self, function: Function, value: Option<&Value>, time: Option<i64>) {
        let Some(value) = value else {
            if function == Function::Count {
                self.count += 1;
            }
            return;
        };
        match function {
            Function::Earliest | Function::Latest => self.add_timed(function, value, time),
            Function::First if self.picked.is_none() => self.picked = Some(value.clone()),
            Function::Last => self.picked = Some(value.clone()),
            _ => value.iter().for_each(|v| self.add_text(function, v)),
        }
    }

    fn add_timed(&mut self, function: Function, value: &Value, time: Option<i64>) {
        let Some(time) = time else { return };
        let replace = match &self.timed {
            None => true,
            Some((seen, _)) if function == Function::Earliest => time < *seen,
            Some((seen, _)) => time > *seen,
        };
        if replace {
            self.timed = Some((time, value.clone()));
        }
    }

    fn add_text(&mut self, function: Function, text: &str) {
        match function {
            Function::Count => self.count += 1,
            Function::Dc => {
                self.distinct.insert(text.to_string());
            }
            Function::Values => {
                self.sorted.insert(text.to_string());
            }
            Function::List if self.list.len() < LIST_MAX => self.list.push(text.to_string()),
            Function::Sum | Function::Avg | Function::Spread { .. } => {
                if let Some(n) = parse_number(text) {
                    self.sum += n;
                    self.sum_squares += n * n;
                    self.numbers += 1;
                }
            }
            Function::Min | Function::Max | Function::Range => self.add_extreme(text),
            Function::Mode => {
                let rank = self.frequencies.len();
                self.frequencies
                    .entry(text.to_string())
                    .or_insert((0, rank))
                    .0 += 1;
            }
            _ => {}
        }
    }

    fn add_extreme(&mut self, text: &str) {
        match parse_number(text) {
            Some(n) => {
                if self.min_num.as_ref().is_none_or(|(m, _)| n < *m) {
                    self.min_num = Some((n, text.to_string()));
                }
                if self.max_num.as_ref().is_none_or(|(m, _)| n > *m) {
                    self.max_num = Some((n, text.to_string()));
                }
            }
            None => self.all_numeric = false,
        }
        if self.min_text.as_deref().is_none_or(|m| text < m) {
            self.min_text = Some(text.to_string());
        }
        if self.max_text.as_deref().is_none_or(|m| text > m) {
            self.max_text = Some(text.to_string());
        }
    }

    fn finish(self, function: Function) -> Option<Value> {
        let text = |s: String| Some(Value::Single(s));
        match function {
            Function::Count => text(self.count.to_string()),
            Function::Dc => text(self.distinct.len().to_string()),
            Function::Values => multi(self.sorted.into_iter().collect()),
            Function::List => multi(self.list),
            Function::Sum => (self.numbers > 0).then(|| Value::Single(format_number(self.sum))),
            Function::Avg => (self.numbers > 0)
                .then(|| Value::Single(format_number(self.sum / self.numbers as f64))),
            Function::Min if self.all_numeric => self.min_num.map(|(_, s)| Value::Single(s)),
            Function::Max if self.all_numeric => self.max_num.map(|(_, s)| Value::Single(s)),
            Function::Min => self.min_text.map(Value::Single),
            Function::Max => self.max_text.map(Value::Single),
            Function::Earliest | Function::Latest => self.timed.map(|(_, v)| v),
            Function::First | Function::Last => self.picked,
            Function::Range => {
                let (min, max) = (self.min_num?.0, self.max_num?.0);
                Some(Value::Single(format_number(max - min)))
            }
            Function::Spread { root, sample } => {
                spread(self.sum, self.sum_squares, self.numbers, root, sample)
            }
            Function::Mode => self
                .frequencies
                .into_iter()
                .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.1 .1.cmp(&a.1 .1)))
                .map(|(value, _)| Value::Single(value)),
        }
    }
}

/// Returns the variance (or with `root`, the standard deviation) of numbers
/// from their sum and sum of squares; a sample needs at least two numbers.
fn spread(sum: f64, sum_squares: f64, count: u64, root: bool, sample: bool) -> Option<Value> {
    let divisor = if sample { count.checked_sub(1)? } else { count };
    if divisor == 0 {
        return None;
    }
    let n = count as f64;
    let variance = ((sum_squares - sum * sum / n) / divisor as f64).max(0.0);
    let value = if root { variance.sqrt() } else { variance };
    Some(Value::Single(format_number(value)))
}

fn multi(values: Vec<String>) -> Option<Value> {
    match values.len() {
        0 => None,
        1 => values.into_iter().next().map(Value::Single),
        _ => Some(Value::Multi(values)),
    }
}

/// Aggregates rows into one row per group.
pub fn run(stats: &CompiledStats, rows: Vec<Row>) -> Vec<Row> {
    let mut groups: IndexMap<Vec<String>, Vec<Acc>> = IndexMap::new();
    if stats.by.is_empty() {
        groups.insert(
            Vec::new(),
            stats.aggregations.iter().map(|_| Acc::new()).collect(),
        );
    }
    for row in &rows {
        let time = row.time();
        for key in group_keys(row, &stats.by) {
            let accs = groups
                .entry(key)
                .or_insert_with(|| stats.aggregations.iter().map(|_| Acc::new()).collect());
            for ((function, field, _), acc) in stats.aggregations.iter().zip(accs.iter_mut()) {
                let value = field.as_ref().and_then(|f| row.get(f));
                if field.is_some() && value.is_none() {
                    continue;
                }
                acc.add(*function, value, time);
            }
        }
    }
    let mut entries: Vec<_> = groups.into_iter().collect();
    entries.sort_by(|(a, _), (b, _)| compare_keys(a, b));
    entries
        .into_iter()
        .map(|(key, accs)| output_row(stats, key, accs))
        .collect()
}

/// Returns every combination of the row's `by` values; none when one is absent.
pub fn group_keys(row: &Row, by: &[String]) -> Vec<Vec<String>> {
    let mut keys = vec![Vec::with_capacity(by.len())];
    for field in by {
        let Some(value) = row.get(field) else {
            return Vec::new();
        };
        if value.is_empty() {
            return Vec::new();
        }
        keys = keys
            .into_iter()
            .flat_map(|key| {
                value.iter().map(move |v| {
                    let mut next = key.clone();
                    next.push(v.to_string());
                    next
                })
            })
            .collect();
    }
    keys
}

fn compare_keys(a: &[String], b: &[String]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| compare_text(x, y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn output_row(stats: &CompiledStats, key: Vec<String>, accs: Vec<Acc>) -> Row {
    let mut row = Row::new();
    for (field, value) in stats.by.iter().zip(key) {
        row.insert(field.clone(), Value::Single(value));
    }
    for ((function, _, output), acc) in stats.aggregations.iter().zip(accs) {
        if let Some(value) = acc.finish(*function) {
            row.insert(output.clone(), value);
        }
    }
    row
}
