//! The `bin` (alias `bucket`) and `timechart` commands.
//!
//! `bin` puts `_time` (or any time span on any time field) in the bin that
//! contains it, as epoch seconds, and a numeric field with a plain-number span in
//! a range written `lo-hi`, as Splunk does. `timechart` bins `_time`, runs the
//! `stats` functions per bin (and per value of the split-by field), and turns
//! each bin into one row with one column per function or per series.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::ast::{Bin, Span, Stats, Timechart};
use super::eval::{compare_text, format_number, parse_number};
use super::matcher::Record;
use super::stats::{self, CompiledStats};
use super::time::{floor_time, next_bin};
use super::SplError;
use crate::event::{format_epoch_seconds, parse_splunk_time, Row, Value};

/// The series of rows that lack the split-by field, as Splunk's `nullstr`.
const NULL_SERIES: &str = "NULL";
/// The series that gathers those beyond `limit`, as Splunk's `otherstr`.
const OTHER_SERIES: &str = "OTHER";
/// `timechart` without `span=` uses the first of these spans (in seconds) that
/// gives at most [`AUTO_MAX_BINS`] bins over the rows' time range.
const AUTO_SPANS: &[i64] = &[1, 10, 30, 60, 300, 600, 1_800, 3_600, 86_400, 604_800];
const AUTO_MAX_BINS: i64 = 100;
/// The field that carries each row's bin through `stats`, so that `_time`
/// keeps the event time for `earliest` and `latest`.
const BIN_FIELD: &str = "_timechart_bin";

/// Applies `bin` to every row.
pub fn bin(spec: &Bin, rows: Vec<Row>) -> Vec<Row> {
    rows.into_iter().map(|row| bin_row(spec, row)).collect()
}

fn bin_row(spec: &Bin, mut row: Row) -> Row {
    let Some(value) = row.get(&spec.field) else {
        return row;
    };
    let time_bins = spec.field == "_time" || !matches!(spec.span, Span::Number(_));
    let binned: Vec<String> = value
        .iter()
        .filter_map(|text| {
            if time_bins {
                let time = parse_splunk_time(text)?;
                Some(format_epoch_seconds(floor_time(time, spec.span)))
            } else {
                numeric_bin(text, spec.span)
            }
        })
        .collect();
    match binned.len() {
        0 => {}
        1 => {
            row.insert(spec.output.clone(), Value::Single(binned[0].clone()));
        }
        _ => {
            row.insert(spec.output.clone(), Value::Multi(binned));
        }
    }
    row
}

/// Returns the range `lo-hi` of width `span` that contains the number `text`.
fn numeric_bin(text: &str, span: Span) -> Option<String> {
    let Span::Number(width) = span else {
        return None;
    };
    let n = parse_number(text)?;
    let low = (n / width).floor() * width;
    Some(format!(
        "{}-{}",
        format_number(low),
        format_number(low + width)
    ))
}

/// A `timechart` ready to run.
pub struct CompiledChart<'a> {
    chart: &'a Timechart,
    stats: CompiledStats,
    split: Option<&'a str>,
}

/// Checks the functions of a `timechart`.
pub fn compile(chart: &Timechart) -> Result<CompiledChart<'_>, SplError> {
    let split = chart.stats.by.first().map(String::as_str);
    let by = std::iter::once(BIN_FIELD.to_string())
        .chain(split.map(str::to_string))
        .collect();
    let stats = stats::compile(&Stats {
        aggregations: chart.stats.aggregations.clone(),
        by,
    })?;
    Ok(CompiledChart {
        chart,
        stats,
        split,
    })
}

/// Runs a `timechart`: one row per bin from the first to the last, oldest first.
pub fn run(compiled: &CompiledChart, rows: Vec<Row>) -> Vec<Row> {
    let times: Vec<i64> = rows.iter().filter_map(Record::time).collect();
    let (Some(&first), Some(&last)) = (times.iter().min(), times.iter().max()) else {
        return Vec::new();
    };
    let span = compiled
        .chart
        .span
        .unwrap_or_else(|| auto_span(last - first));
    let mut binned: Vec<Row> = rows
        .into_iter()
        .filter_map(|row| bin_for_chart(compiled, span, row))
        .collect();
    let mut cells = aggregate(compiled, &binned);
    if let Some(split) = compiled.split {
        let kept = top_series(compiled.chart, &cells);
        if kept.len() < series_of(&cells).len() {
            relabel_series(compiled.chart, split, &kept, &mut binned);
            cells = aggregate(compiled, &binned);
        }
    }
    chart_rows(
        compiled,
        span,
        floor_time(first, span),
        floor_time(last, span),
        &cells,
    )
}

/// Picks the first span of [`AUTO_SPANS`] that gives at most [`AUTO_MAX_BINS`] bins.
///
/// NOTE: Splunk picks the span from the search's time range, which the local
/// engine does not have, so it uses the range of the rows instead.
fn auto_span(range_micros: i64) -> Span {
    let seconds = AUTO_SPANS
        .iter()
        .copied()
        .find(|s| range_micros / (s * 1_000_000) < AUTO_MAX_BINS)
        .unwrap_or(86_400 * 30);
    Span::Micros(seconds * 1_000_000)
}

fn bin_for_chart(compiled: &CompiledChart, span: Span, mut row: Row) -> Option<Row> {
    let time = row.time()?;
    row.insert(
        BIN_FIELD.into(),
        Value::Single(floor_time(time, span).to_string()),
    );
    if let Some(split) = compiled.split {
        if compiled.chart.use_null && !row.contains_key(split) {
            row.insert(split.to_string(), Value::from(NULL_SERIES));
        }
    }
    Some(row)
}

/// Cells keyed by (bin start in microseconds, series), holding function outputs.
type Cells = HashMap<(i64, String), Row>;

fn aggregate(compiled: &CompiledChart, rows: &[Row]) -> Cells {
    let mut cells = Cells::new();
    for mut row in stats::run(&compiled.stats, rows.to_vec()) {
        let Some(bin) = row
            .shift_remove(BIN_FIELD)
            .and_then(|v| v.first()?.parse().ok())
        else {
            continue;
        };
        let series = match compiled.split {
            Some(split) => row
                .shift_remove(split)
                .and_then(|v| v.first().map(str::to_string)),
            None => Some(String::new()),
        };
        if let Some(series) = series {
            cells.insert((bin, series), row);
        }
    }
    cells
}

/// Returns the series in column order: by value, with `NULL` and `OTHER` last.
fn series_of(cells: &Cells) -> Vec<String> {
    let mut series: Vec<String> = cells.keys().map(|(_, s)| s.clone()).collect();
    series.sort_by(|a, b| series_rank(a).cmp(&series_rank(b)).then(compare_text(a, b)));
    series.dedup();
    series
}

fn series_rank(series: &str) -> u8 {
    match series {
        NULL_SERIES => 1,
        OTHER_SERIES => 2,
        _ => 0,
    }
}

/// Returns the `limit` series with the largest sums of their numeric cells,
/// or all of them for `limit=0`. Ties go to the earlier series in column order.
fn top_series(chart: &Timechart, cells: &Cells) -> Vec<String> {
    let series = series_of(cells);
    if chart.limit == 0 || series.len() <= chart.limit {
        return series;
    }
    let mut totals: HashMap<&str, f64> = HashMap::new();
    for ((_, name), row) in cells {
        let sum: f64 = row
            .values()
            .filter_map(|v| v.first().and_then(parse_number))
            .sum();
        *totals.entry(name).or_default() += sum;
    }
    let mut ranked = series.clone();
    ranked.sort_by(|a, b| {
        let (x, y) = (totals[a.as_str()], totals[b.as_str()]);
        y.partial_cmp(&x).unwrap_or(Ordering::Equal)
    });
    ranked.truncate(chart.limit);
    ranked
}

/// Moves rows of series beyond the limit to `OTHER`, or drops them without `useother`.
fn relabel_series(chart: &Timechart, split: &str, kept: &[String], rows: &mut Vec<Row>) {
    let is_kept = |row: &Row| {
        row.get(split)
            .and_then(Value::first)
            .is_some_and(|s| kept.iter().any(|k| k == s))
    };
    if !chart.use_other {
        rows.retain(is_kept);
        return;
    }
    for row in rows.iter_mut() {
        if !is_kept(row) {
            row.insert(split.to_string(), Value::from(OTHER_SERIES));
        }
    }
}

fn chart_rows(
    compiled: &CompiledChart,
    span: Span,
    first: i64,
    last: i64,
    cells: &Cells,
) -> Vec<Row> {
    let series = series_of(cells);
    let aggregations = &compiled.chart.stats.aggregations;
    let mut out = Vec::new();
    let mut bin = first;
    while bin <= last {
        let mut row = Row::new();
        row.insert("_time".into(), Value::Single(format_epoch_seconds(bin)));
        for name in &series {
            let cell = cells.get(&(bin, name.clone()));
            for agg in aggregations {
                let column = column_name(compiled, &agg.output, name);
                let counts = matches!(
                    agg.function.as_str(),
                    "count" | "c" | "dc" | "distinct_count"
                );
                match cell.and_then(|c| c.get(&agg.output)) {
                    Some(value) => row.insert(column, value.clone()),
                    None if counts => row.insert(column, Value::from("0")),
                    None => None,
                };
            }
        }
        out.push(row);
        bin = next_bin(bin, span);
    }
    out
}

/// Names a column: the function output without a split-by field, the series
/// with one function, and `output: series` with several.
fn column_name(compiled: &CompiledChart, output: &str, series: &str) -> String {
    if compiled.split.is_none() {
        return output.to_string();
    }
    if compiled.chart.stats.aggregations.len() == 1 {
        return series.to_string();
    }
    format!("{output}: {series}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_bin_ranges() {
        assert_eq!(
            numeric_bin("1043", Span::Number(500.0)).as_deref(),
            Some("1000-1500")
        );
        assert_eq!(
            numeric_bin("-5", Span::Number(10.0)).as_deref(),
            Some("-10-0")
        );
        assert_eq!(numeric_bin("x", Span::Number(10.0)), None);
    }

    #[test]
    fn auto_span_keeps_bins_under_limit() {
        // 2 hours is 7200 s: 60 s spans give 120 bins, 300 s spans give 24.
        assert_eq!(auto_span(7_200_000_000), Span::Micros(300_000_000));
        assert_eq!(auto_span(50_000_000), Span::Micros(1_000_000));
    }
}
