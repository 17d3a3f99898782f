//! Format detection and dispatch: one [`Format`] variant per supported log
//! format, chosen from a file's content rather than its extension.
//!
//! Adding a format means adding a variant, a module with `looks_like` and
//! `parse` functions, and the two match arms below.

use std::ops::Range;
use std::time::SystemTime;

use memchr::memchr;

use super::sink::{forward_events, EventSink};
use super::{jsonl, splunk_csv, syslog};
use crate::event::TimestampMicros;

/// How many non-empty lines at the top of a file are inspected to detect its format.
const DETECT_LINES: usize = 5;

/// A log format the evidence store can parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Syslog,
    JsonLines,
    /// A Splunk CSV export, detected from its header row alone.
    SplunkCsv,
}

/// The file a parser is reading, as events record it.
pub(crate) struct SourceContext<'a> {
    /// The file path, stored as each event's `source`.
    pub source: &'a str,
    /// The file's modification time, the reference for dates without a year.
    pub modified: Option<SystemTime>,
}

impl SourceContext<'_> {
    /// Returns the modification time in microseconds, or now when unknown.
    pub fn reference_time(&self) -> TimestampMicros {
        let time = self.modified.unwrap_or_else(SystemTime::now);
        match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(elapsed) => elapsed.as_micros() as TimestampMicros,
            Err(before) => -(before.duration().as_micros() as TimestampMicros),
        }
    }
}

impl Format {
    /// The formats detected by votes over the first lines.
    const LINE_FORMATS: [Format; 2] = [Format::JsonLines, Format::Syslog];

    /// Detects the format from the first non-empty lines: the format that
    /// accepts the most of them wins, and ties go to the one `source`'s
    /// extension suggests. A first line that is a Splunk CSV header picks
    /// CSV. Returns `None` when no format accepts any line.
    pub fn detect(source: &str, text: &str) -> Option<Format> {
        let head: Vec<&str> = lines(text).take(DETECT_LINES).collect();
        if head.first().is_some_and(|line| splunk_csv::looks_like_header(line)) {
            return Some(Format::SplunkCsv);
        }
        let hinted = Format::from_extension(source);
        let mut best: Option<(usize, Format)> = None;
        for format in Format::LINE_FORMATS {
            let votes = head.iter().filter(|line| format.accepts(line)).count();
            let better = match best {
                None => votes > 0,
                Some((best_votes, _)) => {
                    votes > best_votes || (votes == best_votes && Some(format) == hinted)
                }
            };
            if better {
                best = Some((votes, format));
            }
        }
        best.map(|(_, format)| format)
    }

    fn from_extension(source: &str) -> Option<Format> {
        let name = source.strip_suffix(".gz").unwrap_or(source);
        let extension = name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())?;
        match extension.as_str() {
            "json" | "jsonl" | "ndjson" => Some(Format::JsonLines),
            "log" | "syslog" | "messages" => Some(Format::Syslog),
            "csv" => Some(Format::SplunkCsv),
            _ => None,
        }
    }

    fn accepts(self, line: &str) -> bool {
        match self {
            Format::Syslog => syslog::looks_like(line),
            Format::JsonLines => jsonl::looks_like(line),
            Format::SplunkCsv => splunk_csv::looks_like_header(line),
        }
    }

    /// Parses every line (every record, for CSV) of `text` into `sink`.
    /// Returns the number of non-empty lines or records skipped as malformed.
    pub fn parse(self, text: &str, context: &SourceContext, sink: &mut impl EventSink) -> usize {
        match self {
            Format::Syslog => syslog::parse(text, context, sink),
            Format::JsonLines => jsonl::parse(text, context, sink),
            Format::SplunkCsv => {
                let mut events = Vec::new();
                let mut spans = Vec::new();
                let skipped = splunk_csv::parse(text, context, &mut events, &mut spans);
                forward_events(events, spans, sink);
                skipped
            }
        }
    }
}

/// Returns the byte range of `part`, a slice of `text`, within `text`.
pub(crate) fn span_of(text: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    start..start + part.len()
}

/// Iterates over the non-blank lines of `text`, without their line ending
/// (`\n` or `\r\n`).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr(b'\n', rest.as_bytes()) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, ""),
        };
        rest = next;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !line.trim_start().is_empty() {
            return Some(line);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blank_and_strip_crlf() {
        let found: Vec<&str> = lines("a\r\n\n  \nb\nc").collect();
        assert_eq!(found, vec!["a", "b", "c"]);
    }

    #[test]
    fn detect_prefers_content_over_extension() {
        let syslog_text = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4\n";
        assert_eq!(Format::detect("a.json", syslog_text), Some(Format::Syslog));
        let json_text = "{\"_time\": 1, \"_raw\": \"x\"}\n";
        assert_eq!(Format::detect("a.log", json_text), Some(Format::JsonLines));
    }

    #[test]
    fn detect_rejects_unknown_text() {
        assert_eq!(
            Format::detect("notes.txt", "hello world\nsecond line\n"),
            None
        );
    }

    #[test]
    fn detect_outvotes_one_bad_first_line() {
        let text = "garbage\n{\"_raw\": \"a\"}\n{\"_raw\": \"b\"}\n";
        assert_eq!(Format::detect("x", text), Some(Format::JsonLines));
    }
}
