//! Whole files parsed into events together with the text of each event's
//! record, and single records parsed back into events.
//!
//! A record is the part of a file one event came from: a line of syslog or
//! JSON, a CSV row, or an EVTX record's JSON rendering. The persistent index
//! keeps records rather than events, because a record is smaller than the
//! event parsed from it, and rebuilds events with [`RecordReader`] when a
//! search needs them.

use std::ops::Range;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::format::{lines, Format, SourceContext};
use super::evtx::FieldSet;
use super::sink::{forward_events, EventList, EventSink};
use super::{compressed, evtx, extract, jsonl, splunk_csv, syslog};
use crate::event::Event;

/// How a stored record is parsed back into an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordFormat {
    Syslog,
    JsonLines,
    SplunkCsv,
    Evtx,
}

impl RecordFormat {
    pub fn name(self) -> &'static str {
        match self {
            RecordFormat::Syslog => "syslog",
            RecordFormat::JsonLines => "json lines",
            RecordFormat::SplunkCsv => "splunk csv",
            RecordFormat::Evtx => "evtx",
        }
    }

    /// Returns the noun for one record of this format in messages: "line",
    /// "row" for CSV, or "record" for EVTX.
    pub fn unit(self) -> &'static str {
        match self {
            RecordFormat::Syslog | RecordFormat::JsonLines => "line",
            RecordFormat::SplunkCsv => "row",
            RecordFormat::Evtx => "record",
        }
    }

    /// Returns whether key=value and sshd/sudo fields are extracted from
    /// `_raw` at search time. EVTX events carry their fields already, and
    /// their JSON `_raw` holds no key=value pairs.
    pub fn extracts_fields(self) -> bool {
        self != RecordFormat::Evtx
    }

    fn from_text_format(format: Format) -> Self {
        match format {
            Format::Syslog => RecordFormat::Syslog,
            Format::JsonLines => RecordFormat::JsonLines,
            Format::SplunkCsv => RecordFormat::SplunkCsv,
        }
    }
}

/// One file's events, before search-time field extraction, with their records.
#[derive(Debug)]
pub struct ParsedFile {
    pub format: RecordFormat,
    pub events: Vec<Event>,
    /// For each event, the byte range of its record in `text`.
    pub spans: Vec<Range<usize>>,
    /// The decoded file text, or the EVTX records' JSON one after another.
    pub text: String,
    /// The header row of a CSV export, which every record needs to be read again.
    pub csv_header: Option<String>,
    /// Lines or records that no parser accepted.
    pub skipped: usize,
}

/// Parses a whole evidence file: gzip and EVTX are detected from their magic
/// bytes, text formats from their first lines. Returns the reason when the
/// file cannot be read at all.
pub fn parse_file(
    source: &str,
    bytes: &[u8],
    modified: Option<SystemTime>,
) -> Result<ParsedFile, String> {
    if compressed::is_gzip(bytes) {
        let inner = compressed::gunzip(bytes)?;
        return parse_decoded(source, inner, modified, FieldSet::All);
    }
    parse_decoded(source, bytes.to_vec(), modified, FieldSet::All)
}

/// Parses a whole evidence file like [`parse_file`], taking ownership of
/// the bytes so that uncompressed text is not copied.
pub fn parse_file_owned(
    source: &str,
    bytes: Vec<u8>,
    modified: Option<SystemTime>,
) -> Result<ParsedFile, String> {
    parse_owned(source, bytes, modified, FieldSet::All)
}

fn parse_owned(
    source: &str,
    bytes: Vec<u8>,
    modified: Option<SystemTime>,
    evtx_fields: FieldSet,
) -> Result<ParsedFile, String> {
    if compressed::is_gzip(&bytes) {
        let inner = compressed::gunzip(&bytes)?;
        return parse_decoded(source, inner, modified, evtx_fields);
    }
    parse_decoded(source, bytes, modified, evtx_fields)
}

fn parse_decoded(
    source: &str,
    bytes: Vec<u8>,
    modified: Option<SystemTime>,
    evtx_fields: FieldSet,
) -> Result<ParsedFile, String> {
    if evtx::looks_like(&bytes) {
        return parse_evtx(source, bytes, evtx_fields);
    }
    let (text, format) = decode_text(source, bytes)?;
    let context = SourceContext { source, modified };
    let capacity = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
    let mut list = EventList::with_capacity(capacity);
    let skipped = format.parse(&text, &context, &mut list);
    let EventList { events, spans, .. } = list;
    let record_format = RecordFormat::from_text_format(format);
    if events.is_empty() {
        return Err(no_events_reason(record_format, skipped));
    }
    Ok(ParsedFile {
        format: record_format,
        events,
        spans,
        csv_header: csv_header(format, &text),
        text,
        skipped,
    })
}

/// The format, text and skip count of a file parsed by [`parse_file_into`].
#[derive(Debug)]
pub(crate) struct FileRead {
    pub format: RecordFormat,
    /// The decoded file text, or the EVTX records' JSON one after another:
    /// the text the byte ranges handed to the sink refer to.
    pub text: String,
    /// The header row of a CSV export, which every record needs to be read again.
    pub csv_header: Option<String>,
    /// Lines or records that no parser accepted.
    pub skipped: usize,
}

/// Parses a whole evidence file like [`parse_file_owned`], handing each
/// event to `sink` as it is parsed instead of collecting [`Event`] values.
pub(crate) fn parse_file_into<S: EventSink>(
    source: &str,
    bytes: Vec<u8>,
    modified: Option<SystemTime>,
    sink: &mut S,
) -> Result<FileRead, String> {
    let bytes = match compressed::is_gzip(&bytes) {
        true => compressed::gunzip(&bytes)?,
        false => bytes,
    };
    if evtx::looks_like(&bytes) {
        // A sink that wants no other fields gets only the EVTX fields every
        // event keeps as columns; the rest are read from the record when searched.
        let fields = if S::WANTS_FIELDS {
            FieldSet::All
        } else {
            FieldSet::Defaults
        };
        let parsed = parse_evtx(source, bytes, fields)?;
        forward_events(parsed.events, parsed.spans, sink);
        return Ok(FileRead {
            format: RecordFormat::Evtx,
            text: parsed.text,
            csv_header: None,
            skipped: parsed.skipped,
        });
    }
    let (text, format) = decode_text(source, bytes)?;
    let context = SourceContext { source, modified };
    let pushed_before = sink.len();
    let skipped = format.parse(&text, &context, sink);
    let record_format = RecordFormat::from_text_format(format);
    if sink.len() == pushed_before {
        return Err(no_events_reason(record_format, skipped));
    }
    Ok(FileRead {
        format: record_format,
        csv_header: csv_header(format, &text),
        text,
        skipped,
    })
}

/// Decodes file bytes as text and detects the text format.
fn decode_text(source: &str, bytes: Vec<u8>) -> Result<(String, Format), String> {
    // Invalid UTF-8 sequences become U+FFFD so that one bad byte costs no line.
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(invalid) => String::from_utf8_lossy(invalid.as_bytes()).into_owned(),
    };
    if text.trim().is_empty() {
        return Err("file is empty".to_string());
    }
    let Some(format) = Format::detect(source, &text) else {
        // A plain CSV table beside the logs is what `| lookup` reads.
        if source.to_ascii_lowercase().ends_with(".csv") {
            return Err("a CSV table, not a log: not searched as events, but `| lookup` \
                        can use it by its file name"
                .to_string());
        }
        return Err("no recognised log format (expected syslog, JSON lines, Splunk CSV, EVTX \
                    or gzip of one of them)"
            .to_string());
    };
    Ok((text, format))
}

fn csv_header(format: Format, text: &str) -> Option<String> {
    match format {
        Format::SplunkCsv => lines(text).next().map(str::to_string),
        _ => None,
    }
}

/// Returns why a file that is not empty gave no event at all, so that it is
/// reported as skipped rather than as read.
fn no_events_reason(format: RecordFormat, skipped: usize) -> String {
    let unit = format.unit();
    let mut reason = match format {
        RecordFormat::Evtx => {
            "no readable EVTX records; the file may be truncated or damaged".to_string()
        }
        _ => format!(
            "no readable {} {unit}s; check that the file is a complete log",
            format.name()
        ),
    };
    if skipped > 0 {
        let plural = if skipped == 1 { "" } else { "s" };
        reason += &format!(" ({skipped} malformed {unit}{plural})");
    }
    reason
}

fn parse_evtx(source: &str, bytes: Vec<u8>, fields: FieldSet) -> Result<ParsedFile, String> {
    let read = evtx::parse(bytes, source, fields)?;
    if read.events.is_empty() {
        return Err(no_events_reason(RecordFormat::Evtx, read.records_skipped));
    }
    let mut text = String::with_capacity(read.events.iter().map(|e| e.raw.len()).sum());
    let mut spans = Vec::with_capacity(read.events.len());
    for event in &read.events {
        let start = text.len();
        text.push_str(&event.raw);
        spans.push(start..text.len());
    }
    Ok(ParsedFile {
        format: RecordFormat::Evtx,
        events: read.events,
        spans,
        text,
        csv_header: None,
        skipped: read.records_skipped,
    })
}

/// Parses stored records of one file back into events, with search-time
/// fields extracted.
pub struct RecordReader {
    format: RecordFormat,
    csv: Option<splunk_csv::Columns>,
}

impl RecordReader {
    /// Prepares a reader; CSV records need the file's header row.
    pub fn new(format: RecordFormat, csv_header: Option<&str>) -> Self {
        let csv = csv_header.and_then(splunk_csv::Columns::from_header);
        RecordReader { format, csv }
    }

    /// Parses one record; `source` is the file path. The event's time is
    /// whatever the record alone gives (zero for syslog without a year), so
    /// callers set the time they stored. Returns `None` for a record that
    /// does not parse, which cannot happen for records this crate stored
    /// unless the format code changed in between.
    pub fn read(&self, record: &str, source: &str) -> Option<Event> {
        let mut event = match self.format {
            RecordFormat::Syslog => syslog::parse_record(record, source)?,
            RecordFormat::JsonLines => jsonl::parse_record(record, source)?,
            RecordFormat::SplunkCsv => self.csv.as_ref()?.parse_record(record, source)?,
            RecordFormat::Evtx => evtx::parse_record(record, source)?,
        };
        if self.format.extracts_fields() {
            extract::apply(&mut event);
        }
        Some(event)
    }
}
