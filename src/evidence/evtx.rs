//! Windows event logs (EVTX), read with the `evtx` crate.
//!
//! Each record becomes one event. The `System` element and the
//! `EventData`/`UserData` elements are flattened to fields named after their
//! XML elements and attributes. That gives `EventID`, `Channel`, `Computer`,
//! `Provider` and `TimeCreated`, and event data names such as `Image`,
//! `CommandLine` and `TargetUserName`. `EventCode` repeats `EventID`, because
//! Splunk's `WinEventLog` sourcetypes and the queries written for them use
//! that name.
//!
//! - `host` is the `Computer` element and `sourcetype` is
//!   `XmlWinEventLog:<Channel>`, following Splunk's naming.
//! - `_raw` is the record rendered as compact JSON by the `evtx` crate (with
//!   XML attributes under `<element>_attributes` keys), not the XML Splunk
//!   stores. Terms match the same values either way, and JSON is what the
//!   store re-reads fields from.
//! - `_time` is `TimeCreated/@SystemTime`, or the record header's time when
//!   that is missing.

mod fields;

use evtx::{EvtxParser, ParserSettings};

use crate::event::{parse_splunk_time, Event, TimestampMicros, Value};
use fields::{record_fields, record_fields_only, Fields, DEFAULT_SOURCES};

/// The first bytes of every EVTX file (the file header signature).
pub(crate) const MAGIC: &[u8; 8] = b"ElfFile\0";

/// The outcome of reading one EVTX file.
pub(crate) struct EvtxRead {
    pub events: Vec<Event>,
    /// Records the parser could not decode.
    pub records_skipped: usize,
}

/// Returns whether `bytes` start with the EVTX file signature.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The fields [`parse`] gives each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldSet {
    /// Every `System`, `EventData` and `UserData` field.
    All,
    /// Only `TimeCreated`, `Computer` and `Channel`, which give the time,
    /// `host` and `sourcetype`. A store that keeps `_raw` reads the other
    /// fields from it again when it searches.
    Defaults,
}

/// Parses every record of an EVTX file held in `bytes`. Fails with a
/// reason when the file header itself cannot be read.
pub(crate) fn parse(bytes: Vec<u8>, source: &str, field_set: FieldSet) -> Result<EvtxRead, String> {
    let settings = ParserSettings::new()
        .separate_json_attributes(true)
        .indent(false);
    let mut parser = EvtxParser::from_buffer(bytes)
        .map_err(|err| format!("invalid EVTX file header: {err}"))?
        .with_configuration(settings);

    let mut read = EvtxRead {
        events: Vec::new(),
        records_skipped: 0,
    };
    let mut sourcetypes = Sourcetypes::default();
    // The crate renders each record as JSON text. One streaming pass over
    // that text gives the fields, and the text itself becomes `_raw`.
    for record in parser.records_json() {
        let parsed = record.and_then(|record| {
            let fields = match field_set {
                FieldSet::All => record_fields(&record.data),
                FieldSet::Defaults => record_fields_only(&record.data, DEFAULT_SOURCES),
            };
            let fields = fields.map_err(evtx::err::SerializationError::from)?;
            Ok((fields, record))
        });
        match parsed {
            Ok((fields, record)) => {
                let fallback = record.timestamp.as_microsecond();
                let event = event_from(fields, record.data, source, fallback, &mut sourcetypes);
                read.events.push(event);
            }
            Err(err) => {
                tracing::debug!(source, error = %err, "skipped an EVTX record");
                read.records_skipped += 1;
            }
        }
    }
    Ok(read)
}

/// Parses a record's JSON rendering (an event's `_raw`) again, for a store
/// that kept the text and not the event.
pub(crate) fn parse_record(raw: &str, source: &str) -> Option<Event> {
    let fields = record_fields(raw).ok()?;
    let mut sourcetypes = Sourcetypes::default();
    Some(event_from(fields, raw.to_string(), source, 0, &mut sourcetypes))
}

/// The sourcetype of the last channel seen, because the records of one file
/// nearly always share their channel.
#[derive(Default)]
struct Sourcetypes {
    channel: String,
    sourcetype: String,
}

impl Sourcetypes {
    /// Returns `XmlWinEventLog:<channel>`, Splunk's sourcetype for XML
    /// event logs of that channel.
    fn of(&mut self, channel: &str) -> String {
        if self.sourcetype.is_empty() || self.channel != channel {
            self.channel = channel.to_string();
            self.sourcetype = format!("XmlWinEventLog:{channel}");
        }
        self.sourcetype.clone()
    }
}

/// Builds an event from a record's flattened `fields` and its JSON
/// rendering `raw`. `fallback_time` is the record header's time.
fn event_from(
    fields: Fields,
    raw: String,
    source: &str,
    fallback_time: TimestampMicros,
    sourcetypes: &mut Sourcetypes,
) -> Event {
    let text = |name: &str| fields.get(name).and_then(Value::first).unwrap_or_default();
    let time = parse_splunk_time(text("TimeCreated")).unwrap_or(fallback_time);
    let host = text("Computer").to_string();
    let sourcetype = sourcetypes.of(text("Channel"));
    Event {
        time,
        raw,
        host,
        source: source.to_string(),
        sourcetype,
        index: "main".to_string(),
        fields,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value as Json;

    use super::*;

    /// Builds an event from a record given as a JSON value. `fallback_time`
    /// is the record header's time.
    fn build_event(record: &Json, source: &str, fallback_time: TimestampMicros) -> Event {
        let raw = record.to_string();
        let fields = record_fields(&raw).expect("record JSON parses");
        event_from(fields, raw, source, fallback_time, &mut Sourcetypes::default())
    }

    fn sample() -> Json {
        serde_json::json!({
            "Event_attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "Event": {
                "System": {
                    "Provider_attributes": {"Name": "Microsoft-Windows-Security-Auditing",
                                            "Guid": "{54849625}"},
                    "EventID": 4624,
                    "TimeCreated_attributes": {"SystemTime": "2020-07-22T20:29:36.4148271Z"},
                    "Correlation": null,
                    "Execution_attributes": {"ProcessID": 568, "ThreadID": 2476},
                    "Channel": "Security",
                    "Computer": "dc1.example.com"
                },
                "EventData": {
                    "TargetUserName": "alice",
                    "IpAddress": "172.16.66.1",
                    "LogonType": 3,
                    "Data": ["a", "b"]
                },
                "UserData": {
                    "LogFileCleared_attributes": {"xmlns": "x"},
                    "LogFileCleared": {"SubjectUserName": "admin"}
                }
            }
        })
    }

    #[test]
    fn system_fields_flatten() {
        let event = build_event(&sample(), "a.evtx", 0);
        let field = |name: &str| event.fields.get(name).and_then(Value::first);
        assert_eq!(field("EventID"), Some("4624"));
        assert_eq!(field("EventCode"), Some("4624"));
        assert_eq!(field("Provider"), Some("Microsoft-Windows-Security-Auditing"));
        assert_eq!(field("ProviderGuid"), Some("{54849625}"));
        assert_eq!(field("TimeCreated"), Some("2020-07-22T20:29:36.4148271Z"));
        assert_eq!(field("ProcessID"), Some("568"));
        assert_eq!(field("Channel"), Some("Security"));
        assert!(!event.fields.contains_key("Correlation"));
    }

    #[test]
    fn event_and_user_data_flatten() {
        let event = build_event(&sample(), "a.evtx", 0);
        let field = |name: &str| event.fields.get(name).and_then(Value::first);
        assert_eq!(field("TargetUserName"), Some("alice"));
        assert_eq!(field("IpAddress"), Some("172.16.66.1"));
        assert_eq!(field("LogonType"), Some("3"));
        assert_eq!(field("SubjectUserName"), Some("admin"));
        let data = Value::Multi(vec!["a".into(), "b".into()]);
        assert_eq!(event.fields.get("Data"), Some(&data));
        assert!(!event.fields.contains_key("xmlns"));
    }

    #[test]
    fn default_fields_follow_splunk() {
        let event = build_event(&sample(), "a.evtx", 0);
        assert_eq!(event.host, "dc1.example.com");
        assert_eq!(event.sourcetype, "XmlWinEventLog:Security");
        assert_eq!(event.source, "a.evtx");
        // 2020-07-22T20:29:36Z is 1595449776 s after the epoch; .4148271 s is
        // truncated to whole microseconds.
        assert_eq!(event.time, 1_595_449_776_414_827);
    }

    #[test]
    fn missing_time_uses_record_header() {
        let record = serde_json::json!({"Event": {"System": {"Channel": "Setup"}}});
        let event = build_event(&record, "a.evtx", 42);
        assert_eq!(event.time, 42);
        assert_eq!(event.sourcetype, "XmlWinEventLog:Setup");
    }

    #[test]
    fn header_signature_detects() {
        assert!(looks_like(b"ElfFile\0rest"));
        assert!(!looks_like(b"ElfFile"));
    }
}
