//! Syslog parsing: RFC 3164 (`Dec 10 06:55:46 host prog[pid]: msg`), RFC 5424
//! (`<34>1 2003-10-11T22:14:15.003Z host app procid msgid [sd] msg`) and the
//! rsyslog variant with an ISO 8601 timestamp (`2024-01-15T10:00:00+00:00 host
//! prog[pid]: msg`).
//!
//! RFC 3164 timestamps carry neither a year nor a time zone, so they are read
//! as UTC and their year is inferred per file. A time that goes backwards by
//! more than `ROLLOVER_GAP_SECONDS` (31 days) means the year advanced, as at a
//! Dec to Jan rollover. The years chosen are the latest that put no event more
//! than a day after the file's modification time (or after now, when unknown).
//!
//! The RFC 3164 header is parsed by hand, without regex, because it is the
//! per-line hot path of an ingest.

use std::borrow::Cow;

use indexmap::IndexMap;

use super::format::{lines, span_of, SourceContext};
use super::sink::{EventHead, EventSink, Fields};
use crate::event::{Event, TimestampMicros, Value};

/// A backwards step larger than this (31 days) between consecutive RFC 3164
/// times in one file is taken as a year rollover.
const ROLLOVER_GAP_SECONDS: i64 = 31 * 86_400;
const DAY_MICROS: i64 = 86_400 * 1_000_000;
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Programs whose messages get the `linux_secure` sourcetype; every other
/// program gets `syslog`.
const AUTH_PROGRAMS: &[&str] = &[
    "sshd",
    "sshd-session",
    "sudo",
    "su",
    "login",
    "systemd-logind",
    "useradd",
    "userdel",
    "usermod",
    "groupadd",
    "groupdel",
    "passwd",
    "chpasswd",
    "chage",
    "gpasswd",
    "unix_chkpwd",
    "polkitd",
    "pkexec",
    "gdm-password",
];

/// A RFC 3164 time: month (1-12), day and second of the day, with no year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NoYearTime {
    month: u8,
    day: u8,
    second_of_day: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// A complete time (RFC 5424 or ISO 8601), microseconds since the epoch.
    Absolute(TimestampMicros),
    /// A RFC 3164 time whose year is inferred once the whole file is read.
    NoYear(NoYearTime),
    /// The RFC 5424 nil timestamp (`-`).
    Missing,
}

/// The parts of one syslog line.
#[derive(Debug, Default)]
struct Line<'a> {
    host: &'a str,
    process: Option<&'a str>,
    pid: Option<&'a str>,
    msgid: Option<&'a str>,
    structured_data: Option<&'a str>,
}

/// Returns whether `line` starts with a syslog header this module can parse.
pub(crate) fn looks_like(line: &str) -> bool {
    parse_line(line).is_some()
}

/// Parses every line of `text` into `sink`; returns the count of malformed lines.
pub(crate) fn parse(text: &str, context: &SourceContext, sink: &mut impl EventSink) -> usize {
    let mut years = YearInference::default();
    let mut skipped = 0;
    let mut previous_time = None;
    for line in lines(text) {
        let Some((stamp, parts)) = parse_line(line) else {
            skipped += 1;
            continue;
        };
        let time = match stamp {
            Stamp::Absolute(time) => {
                previous_time = Some(time);
                time
            }
            Stamp::NoYear(partial) => {
                years.push(sink.len(), partial);
                0
            }
            // An event without a timestamp takes the time of the event before it.
            Stamp::Missing => previous_time.unwrap_or_else(|| context.reference_time()),
        };
        let head = event_head(line, &parts, context.source, time);
        sink.push(span_of(text, line), head, || line_fields(&parts));
    }
    years.apply(sink, context.reference_time());
    skipped
}

fn event_head<'a>(
    line: &'a str,
    parts: &Line<'a>,
    source: &'a str,
    time: TimestampMicros,
) -> EventHead<'a> {
    EventHead {
        time,
        raw: Cow::Borrowed(line),
        host: Cow::Borrowed(parts.host),
        source: Cow::Borrowed(source),
        sourcetype: Cow::Borrowed(sourcetype_for(parts.process)),
        index: Cow::Borrowed("main"),
    }
}

/// Returns the fields a syslog header gives beyond the default ones.
fn line_fields(parts: &Line) -> Fields {
    let present = [parts.process, parts.pid, parts.msgid, parts.structured_data];
    let mut fields = IndexMap::with_capacity(present.iter().flatten().count());
    let mut put = |name: &str, value: Option<&str>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            fields.insert(name.to_string(), Value::Single(value.to_string()));
        }
    };
    put("process", parts.process);
    put("pid", parts.pid);
    put("msgid", parts.msgid);
    put("structured_data", parts.structured_data);
    if let Some(data) = parts.structured_data {
        add_structured_params(data, &mut fields);
    }
    fields
}

fn sourcetype_for(process: Option<&str>) -> &'static str {
    match process {
        Some(name) if AUTH_PROGRAMS.contains(&name) => "linux_secure",
        _ => "syslog",
    }
}

/// Parses one line again, for a store that kept the line and not the event.
/// The event's time is left at zero because a year-less time needs the
/// whole file, so the caller sets the time it stored.
pub(crate) fn parse_record(line: &str, source: &str) -> Option<Event> {
    let (_, parts) = parse_line(line)?;
    Some(event_head(line, &parts, source, 0).into_event(line_fields(&parts)))
}

/// Parses the header of any supported syslog form.
fn parse_line(line: &str) -> Option<(Stamp, Line<'_>)> {
    let bytes = line.as_bytes();
    let (priority_len, after_priority) = match bytes.first()? {
        b'<' => {
            let close = bytes.iter().take(5).position(|&b| b == b'>')?;
            (close + 1, bytes.get(close + 1)?)
        }
        _ => (0, bytes.first()?),
    };
    let rest = &line[priority_len..];
    if after_priority.is_ascii_digit() && priority_len > 0 {
        return parse_rfc5424(rest).or_else(|| parse_iso(rest));
    }
    if after_priority.is_ascii_digit() {
        return parse_iso(rest);
    }
    parse_rfc3164(rest)
}

/// Parses `Mmm dd hh:mm:ss host tag[pid]: message` (the day may be space-padded).
fn parse_rfc3164(text: &str) -> Option<(Stamp, Line<'_>)> {
    let bytes = text.as_bytes();
    let month_name: &[u8; 3] = bytes.get(..3)?.try_into().ok()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as u8 + 1;
    let mut at = 3;
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let (day, digits) = parse_digits(&bytes[at..], 2)?;
    at += digits;
    if bytes.get(at) != Some(&b' ') || !(1..=31).contains(&day) {
        return None;
    }
    let second_of_day = parse_clock(bytes.get(at + 1..at + 9)?)?;
    at += 9;
    if bytes.get(at) != Some(&b' ') {
        return None;
    }
    let stamp = Stamp::NoYear(NoYearTime {
        month,
        day: day as u8,
        second_of_day,
    });
    Some((stamp, parse_host_and_tag(&text[at + 1..])?))
}

/// Parses `2024-01-15T10:00:00+00:00 host tag[pid]: message`.
fn parse_iso(text: &str) -> Option<(Stamp, Line<'_>)> {
    let (timestamp, rest) = text.split_once(' ')?;
    let time = chrono::DateTime::parse_from_rfc3339(timestamp)
        .ok()?
        .timestamp_micros();
    Some((Stamp::Absolute(time), parse_host_and_tag(rest)?))
}

/// Parses `host tag[pid]: message`; a message without a tag leaves `process` unset.
fn parse_host_and_tag(text: &str) -> Option<Line<'_>> {
    let (host, message) = text.split_once(' ').unwrap_or((text, ""));
    if host.is_empty() {
        return None;
    }
    let mut parts = Line {
        host,
        ..Line::default()
    };
    let tag_end = message
        .bytes()
        .position(|b| b == b':' || b == b'[' || b == b' ');
    match tag_end.map(|end| (end, message.as_bytes()[end])) {
        Some((end, b':')) if end > 0 => parts.process = Some(&message[..end]),
        Some((end, b'[')) if end > 0 => {
            let close = message[end..].find(']').map(|at| at + end);
            if let Some(close) = close.filter(|&c| message.as_bytes().get(c + 1) == Some(&b':')) {
                parts.process = Some(&message[..end]);
                parts.pid = Some(&message[end + 1..close]);
            }
        }
        _ => {}
    }
    Some(parts)
}

/// Parses `1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]` after the priority.
fn parse_rfc5424(text: &str) -> Option<(Stamp, Line<'_>)> {
    let mut tokens = text.splitn(7, ' ');
    let version = tokens.next()?;
    if version != "1" {
        return None;
    }

    let timestamp = tokens.next()?;
    let stamp = match timestamp {
        "-" => Stamp::Missing,
        _ => Stamp::Absolute(
            chrono::DateTime::parse_from_rfc3339(timestamp)
                .ok()?
                .timestamp_micros(),
        ),
    };

    let host = tokens.next()?;
    let process = nil(tokens.next()?);
    let pid = nil(tokens.next()?);
    let msgid = nil(tokens.next()?);

    let data_and_message = tokens.next().unwrap_or("-");
    let structured_data = match data_and_message.strip_prefix('-') {
        Some(_) => None,
        None => Some(&data_and_message[..structured_data_len(data_and_message)?]),
    };
    let host = if host == "-" { "" } else { host };
    Some((
        stamp,
        Line {
            host,
            process,
            pid,
            msgid,
            structured_data,
        },
    ))
}

/// Returns `None` for the RFC 5424 nil value `-`.
fn nil(token: &str) -> Option<&str> {
    (token != "-").then_some(token)
}

/// Returns the length of the leading `[id k="v"]...` elements of `text`.
fn structured_data_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while bytes.get(at) == Some(&b'[') {
        let mut in_quotes = false;
        at += 1;
        loop {
            match *bytes.get(at)? {
                b'\\' if in_quotes => at += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
            at += 1;
        }
        at += 1;
    }
    (at > 0).then_some(at)
}

/// Adds each `name="value"` parameter of RFC 5424 structured data as a field,
/// keeping the first value of a repeated name.
fn add_structured_params(data: &str, fields: &mut IndexMap<String, Value>) {
    for element in data.split_inclusive(']') {
        let body = element.trim_start_matches('[');
        let mut rest = body.split_once(' ').map_or("", |(_, params)| params);
        while let Some((name, after)) = rest.split_once("=\"") {
            let name = name.trim();
            let (value, next) = split_quoted(after);
            if !name.is_empty() && !value.is_empty() && !fields.contains_key(name) {
                fields.insert(name.to_string(), Value::Single(value));
            }
            rest = next;
        }
    }
}

/// Splits a quoted value (after its opening quote) from the text after its
/// closing quote, undoing `\"`, `\\` and `\]` escapes.
fn split_quoted(text: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            '"' => return (value, &text[at + 1..]),
            _ => value.push(c),
        }
    }
    (value, "")
}

/// Parses up to `max` ASCII digits; returns the value and the digit count.
fn parse_digits(bytes: &[u8], max: usize) -> Option<(u32, usize)> {
    let count = bytes
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if count == 0 {
        return None;
    }
    let value = bytes[..count]
        .iter()
        .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'));
    Some((value, count))
}

/// Parses `hh:mm:ss` into a second of the day.
fn parse_clock(bytes: &[u8]) -> Option<u32> {
    if bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let two = |at: usize| parse_digits(&bytes[at..at + 2], 2).filter(|(_, n)| *n == 2);
    let (hour, _) = two(0)?;
    let (minute, _) = two(3)?;
    let (second, _) = two(6)?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(hour * 3600 + minute * 60 + second)
}

/// Collects the RFC 3164 times of one file and dates them once the file is read.
#[derive(Default)]
struct YearInference {
    /// Event index in the output, years advanced since the first line, and time.
    pending: Vec<(usize, i32, NoYearTime)>,
    rollovers: i32,
    previous: Option<NoYearTime>,
}

impl YearInference {
    fn push(&mut self, index: usize, time: NoYearTime) {
        if let Some(previous) = self.previous {
            let step = seconds_in_year(time) - seconds_in_year(previous);
            if step < -ROLLOVER_GAP_SECONDS {
                self.rollovers += 1;
            }
        }
        self.previous = Some(time);
        self.pending.push((index, self.rollovers, time));
    }

    /// Sets each pending event's time. The first year is the latest one that
    /// keeps every event within a day after `reference`.
    fn apply(&self, sink: &mut impl EventSink, reference: TimestampMicros) {
        if self.pending.is_empty() {
            return;
        }
        let reference_year = year_of(reference);
        let mut first_year = reference_year - self.rollovers;
        let latest = |first: i32| {
            self.pending
                .iter()
                .map(|&(_, k, t)| to_micros(first + k, t))
                .max()
                .unwrap_or(0)
        };
        if latest(first_year) > reference + DAY_MICROS {
            first_year -= 1;
        }
        for &(index, rollovers, time) in &self.pending {
            sink.set_time(index, to_micros(first_year + rollovers, time));
        }
    }
}

/// Seconds since Jan 1 in a non-leap year, to compare times without a year.
fn seconds_in_year(time: NoYearTime) -> i64 {
    const DAYS_BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let days = DAYS_BEFORE[usize::from(time.month - 1)] + i64::from(time.day) - 1;
    days * 86_400 + i64::from(time.second_of_day)
}

/// Converts a date and time (UTC) into microseconds since the epoch. Feb 29
/// in a year that is not a leap year becomes Mar 1.
fn to_micros(year: i32, time: NoYearTime) -> TimestampMicros {
    let days = days_from_civil(i64::from(year), i64::from(time.month), i64::from(time.day));
    (days * 86_400 + i64::from(time.second_of_day)) * 1_000_000
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil` algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn year_of(micros: TimestampMicros) -> i32 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp_micros(micros).map_or(1970, |t| t.year())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::evidence::sink::EventList;

    /// Seconds since the epoch of a UTC date and time, computed by chrono.
    fn utc(text: &str) -> TimestampMicros {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_micros()
    }

    fn parse_with(text: &str, modified: &str) -> (Vec<Event>, usize) {
        let seconds = utc(modified) / 1_000_000;
        let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds as u64);
        let context = SourceContext {
            source: "/var/log/auth.log",
            modified: Some(modified),
        };
        let mut list = EventList::default();
        let skipped = parse(text, &context, &mut list);
        (list.events, skipped)
    }

    fn field<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
        event.fields.get(name).and_then(Value::first)
    }

    #[test]
    fn rfc3164_header_fields() {
        let line = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 1.2.3.4";
        let (events, skipped) = parse_with(line, "2023-12-31T00:00:00Z");
        assert_eq!(skipped, 0);
        let event = &events[0];
        assert_eq!(event.host, "LabSZ");
        assert_eq!(field(event, "process"), Some("sshd"));
        assert_eq!(field(event, "pid"), Some("24200"));
        assert_eq!(event.sourcetype, "linux_secure");
        assert_eq!(event.source, "/var/log/auth.log");
        assert_eq!(event.index, "main");
        assert_eq!(event.raw, line);
        assert_eq!(event.time, utc("2023-12-10T06:55:46Z"));
    }

    #[test]
    fn rfc3164_padded_day_and_no_pid() {
        let line = "Jan  5 01:02:03 web1 CRON: (root) CMD (run-parts /etc/cron.hourly)";
        let (events, _) = parse_with(line, "2024-02-01T00:00:00Z");
        assert_eq!(events[0].time, utc("2024-01-05T01:02:03Z"));
        assert_eq!(field(&events[0], "process"), Some("CRON"));
        assert_eq!(field(&events[0], "pid"), None);
        assert_eq!(events[0].sourcetype, "syslog");
    }

    #[test]
    fn year_comes_before_modification_time() {
        // Modified in March 2024: a December line belongs to December 2023.
        let (events, _) = parse_with("Dec 31 23:00:00 h kernel: x", "2024-03-01T00:00:00Z");
        assert_eq!(events[0].time, utc("2023-12-31T23:00:00Z"));
    }

    #[test]
    fn year_allows_one_day_after_modification() {
        let (events, _) = parse_with("Mar  1 12:00:00 h kernel: x", "2024-03-01T00:00:00Z");
        assert_eq!(events[0].time, utc("2024-03-01T12:00:00Z"));
    }

    #[test]
    fn year_rolls_over_from_december_to_january() {
        let text = "Dec 31 23:59:58 h kernel: a\nJan  1 00:00:02 h kernel: b\n";
        let (events, _) = parse_with(text, "2024-01-01T00:10:00Z");
        assert_eq!(events[0].time, utc("2023-12-31T23:59:58Z"));
        assert_eq!(events[1].time, utc("2024-01-01T00:00:02Z"));
    }

    #[test]
    fn small_backward_step_keeps_year() {
        let text = "Mar  2 00:00:05 h kernel: a\nMar  1 23:59:59 h kernel: b\n";
        let (events, _) = parse_with(text, "2024-06-01T00:00:00Z");
        assert_eq!(events[1].time, utc("2024-03-01T23:59:59Z"));
    }

    #[test]
    fn rfc5424_fields() {
        let line = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su 1234 ID47 \
                    [exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"x\\\"\"] 'su root' failed";
        let (events, skipped) = parse_with(line, "2024-01-01T00:00:00Z");
        assert_eq!(skipped, 0);
        let event = &events[0];
        assert_eq!(event.time, utc("2003-10-11T22:14:15.003Z"));
        assert_eq!(event.host, "mymachine.example.com");
        assert_eq!(field(event, "process"), Some("su"));
        assert_eq!(field(event, "pid"), Some("1234"));
        assert_eq!(field(event, "msgid"), Some("ID47"));
        assert_eq!(field(event, "iut"), Some("3"));
        assert_eq!(field(event, "eventSource"), Some("App\"x\""));
        assert_eq!(event.sourcetype, "linux_secure");
    }

    #[test]
    fn rfc5424_offset_and_nil_values() {
        let line = "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - hello";
        let (events, _) = parse_with(line, "2024-01-01T00:00:00Z");
        assert_eq!(events[0].time, utc("2003-08-24T12:14:15.000003Z"));
        assert_eq!(field(&events[0], "msgid"), None);
        assert_eq!(field(&events[0], "structured_data"), None);
    }

    #[test]
    fn iso_timestamp_variant() {
        let line = "2024-01-15T10:00:00+02:00 db1 sudo[77]: alice : TTY=pts/0 ; COMMAND=/bin/id";
        let (events, _) = parse_with(line, "2020-01-01T00:00:00Z");
        assert_eq!(events[0].time, utc("2024-01-15T08:00:00Z"));
        assert_eq!(events[0].host, "db1");
        assert_eq!(field(&events[0], "process"), Some("sudo"));
        assert_eq!(field(&events[0], "pid"), Some("77"));
        assert_eq!(events[0].sourcetype, "linux_secure");
    }

    #[test]
    fn malformed_lines_are_counted() {
        let text = "Dec 10 06:55:46 h sshd[1]: ok\n  continuation text\nDec 99 00:00:00 h x\n";
        let (events, skipped) = parse_with(text, "2024-01-01T00:00:00Z");
        assert_eq!(events.len(), 1);
        assert_eq!(skipped, 2);
    }
}
