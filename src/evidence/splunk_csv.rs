//! CSV in the shape of Splunk's CSV export: a header row of field names, then
//! one event per record. Records may span lines inside quotes (multiline
//! `_raw`).
//!
//! `_time`, `_raw`, `host`, `source`, `sourcetype` and `index` become the
//! event's default fields and every other column a field. Splunk writes a
//! multivalue field twice: joined by newlines in its own column, and as
//! `$one$;$two$` in a `__mv_<name>` column. The `__mv_` form is used when it
//! is present. Other columns starting with `_` (`_serial`, `_si`, `_cd`,
//! `_indextime`, ...) are Splunk internals and are dropped, as are empty
//! values.

use std::ops::Range;

use indexmap::IndexMap;

use super::format::SourceContext;
use crate::event::{parse_splunk_time, Event, TimestampMicros, Value};

/// Columns whose presence in the header marks a Splunk export.
const DEFAULT_COLUMNS: &[&str] = &["_time", "_raw", "host", "source", "sourcetype", "index"];

/// The sourcetype for rows that name none.
const DEFAULT_SOURCETYPE: &str = "csv";

/// Returns whether `line` is the header row of a Splunk CSV export: at
/// least two column names, one of them a Splunk default field.
pub(crate) fn looks_like_header(line: &str) -> bool {
    let Some(names) = read_header(line) else {
        return false;
    };
    names.len() >= 2
        && names.iter().all(|name| is_field_name(name))
        && names.iter().any(|name| DEFAULT_COLUMNS.contains(&name.as_str()))
}

fn read_header(line: &str) -> Option<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(str::to_string).collect())
}

fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || "_.:- ".contains(c))
}

/// Parses every record of `text` into `out`; returns the count of records
/// that could not be read (malformed quoting, or a column count that does
/// not match the header).
pub(crate) fn parse(
    text: &str,
    context: &SourceContext,
    out: &mut Vec<Event>,
    spans: &mut Vec<Range<usize>>,
) -> usize {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let Ok(header) = reader.headers().cloned() else {
        return 1;
    };
    let columns = Columns::new(header.iter());
    let mut skipped = 0;
    let mut previous_time = None;
    let mut record = csv::StringRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) if reader.position().byte() as usize > start => {
                skipped += 1;
                continue;
            }
            // An error that consumed nothing would repeat forever.
            Err(_) => {
                skipped += 1;
                break;
            }
        }
        let end = reader.position().byte() as usize;
        let event = columns.build_event(record.iter(), context, previous_time);
        previous_time = Some(event.time);
        out.push(event);
        spans.push(start..end);
    }
    skipped
}

/// The header, with the `__mv_` column of each field found once.
pub(crate) struct Columns {
    names: Vec<String>,
    /// For each column, the index of its `__mv_` column, if any.
    multivalue: Vec<Option<usize>>,
}

impl Columns {
    /// Reads the header row of an export.
    pub(crate) fn from_header(line: &str) -> Option<Columns> {
        let names = read_header(line)?;
        Some(Columns::new(names.iter().map(String::as_str)))
    }

    /// Parses one record (one CSV row, which may span lines) again, for a
    /// store that kept the record and not the event. The time falls back to
    /// zero when `_time` is unreadable, so the caller sets the time it stored.
    pub(crate) fn parse_record(&self, record: &str, source: &str) -> Option<Event> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(record.as_bytes());
        let row = reader.records().next()?.ok()?;
        let context = SourceContext {
            source,
            modified: Some(std::time::SystemTime::UNIX_EPOCH),
        };
        Some(self.build_event(row.iter(), &context, None))
    }

    fn new<'a>(header: impl Iterator<Item = &'a str>) -> Self {
        let names: Vec<String> = header.map(str::to_string).collect();
        let multivalue = names
            .iter()
            .map(|name| {
                let encoded = format!("__mv_{name}");
                names.iter().position(|other| *other == encoded)
            })
            .collect();
        Columns { names, multivalue }
    }

    fn build_event<'r>(
        &self,
        record: impl Iterator<Item = &'r str>,
        context: &SourceContext,
        previous_time: Option<TimestampMicros>,
    ) -> Event {
        let cells: Vec<&str> = record.collect();
        let mut event = Event {
            time: 0,
            raw: String::new(),
            host: String::new(),
            source: context.source.to_string(),
            sourcetype: DEFAULT_SOURCETYPE.to_string(),
            index: "main".to_string(),
            fields: IndexMap::with_capacity(cells.len()),
        };
        let mut time = None;
        for (column, (name, cell)) in self.names.iter().zip(&cells).enumerate() {
            if cell.is_empty() {
                continue;
            }
            match name.as_str() {
                "_time" => time = parse_export_time(cell),
                "_raw" => event.raw = cell.to_string(),
                "host" => event.host = cell.to_string(),
                "source" => event.source = cell.to_string(),
                "sourcetype" => event.sourcetype = cell.to_string(),
                "index" => event.index = cell.to_string(),
                internal if internal.starts_with('_') => {}
                _ => {
                    let encoded = self.multivalue[column].and_then(|at| cells.get(at).copied());
                    event.fields.insert(name.clone(), cell_value(cell, encoded));
                }
            }
        }
        event.time = time
            .or(previous_time)
            .unwrap_or_else(|| context.reference_time());
        if event.raw.is_empty() {
            event.raw = cells.join(",");
        }
        event
    }
}

/// Reads `_time` as Splunk writes it in exports: ISO 8601 with an offset
/// (`2023-12-10T06:55:46.000+0000`), epoch seconds, or `2023-12-10
/// 06:55:46.000 UTC`.
fn parse_export_time(text: &str) -> Option<TimestampMicros> {
    if let Some(time) = parse_splunk_time(text) {
        return Some(time);
    }
    let utc = text.strip_suffix(" UTC")?;
    chrono::NaiveDateTime::parse_from_str(utc, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|time| time.and_utc().timestamp_micros())
}

/// Returns a cell's value: the `__mv_` encoding when it holds values,
/// otherwise the cell itself.
fn cell_value(cell: &str, encoded: Option<&str>) -> Value {
    match encoded.filter(|text| !text.is_empty()).map(decode_multivalue) {
        Some(values) if !values.is_empty() => Value::Multi(values),
        _ => Value::Single(cell.to_string()),
    }
}

/// Decodes Splunk's `$one$;$two$` multivalue encoding, where `$$` is a
/// literal `$`.
fn decode_multivalue(encoded: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut chars = encoded.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            continue;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek() == Some(&'$') {
                chars.next();
                value.push('$');
            } else if c == '$' {
                break;
            } else {
                value.push(c);
            }
        }
        values.push(value);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> (Vec<Event>, usize) {
        let context = SourceContext {
            source: "export.csv",
            modified: None,
        };
        let mut events = Vec::new();
        let skipped = parse(text, &context, &mut events, &mut Vec::new());
        (events, skipped)
    }

    #[test]
    fn header_detection() {
        assert!(looks_like_header("\"_time\",\"host\",\"_raw\""));
        assert!(looks_like_header("_time,user,action"));
        assert!(!looks_like_header("a,b,c"));
        assert!(!looks_like_header("Dec 10 06:55:46 host sshd[1]: a, host"));
        assert!(!looks_like_header("_raw"));
    }

    #[test]
    fn export_columns_map_to_event() {
        let text = concat!(
            "\"_serial\",\"_time\",\"host\",\"source\",\"sourcetype\",\"index\",\"user\",\"_raw\"\n",
            "0,\"2023-12-10T06:55:46.000+0000\",web1,\"/var/log/a\",linux_secure,os,bob,",
            "\"line one\nline two\"\n"
        );
        let (events, skipped) = parse_all(text);
        assert_eq!(skipped, 0);
        assert_eq!(events.len(), 1);
        let event = &events[0];
        // 2023-12-10T06:55:46Z is 1702191346 s after the epoch.
        assert_eq!(event.time, 1_702_191_346_000_000);
        assert_eq!(event.host, "web1");
        assert_eq!(event.source, "/var/log/a");
        assert_eq!(event.sourcetype, "linux_secure");
        assert_eq!(event.index, "os");
        assert_eq!(event.raw, "line one\nline two");
        assert_eq!(event.fields.get("user"), Some(&Value::from("bob")));
        assert!(!event.fields.contains_key("_serial"));
    }

    #[test]
    fn multivalue_column_decodes() {
        let text = "_time,tag,__mv_tag\n1,\"a\nb$\",\"$a$;$b$$$\"\n";
        let (events, _) = parse_all(text);
        let tag = Value::Multi(vec!["a".into(), "b$".into()]);
        assert_eq!(events[0].fields.get("tag"), Some(&tag));
        assert!(!events[0].fields.contains_key("__mv_tag"));
    }

    #[test]
    fn utc_suffix_time_parses() {
        assert_eq!(
            parse_export_time("2023-12-10 06:55:46.500 UTC"),
            Some(1_702_191_346_500_000)
        );
    }

    #[test]
    fn short_record_is_skipped() {
        let (events, skipped) = parse_all("_time,host\n1,a\n2\n3,c\n");
        assert_eq!(events.len(), 2);
        assert_eq!(skipped, 1);
    }

    #[test]
    fn missing_raw_joins_cells() {
        let (events, _) = parse_all("_time,host,user\n1,a,bob\n");
        assert_eq!(events[0].raw, "1,a,bob");
        assert_eq!(events[0].sourcetype, "csv");
    }
}
