//! JSON lines in the shape of Splunk's JSON export: one object per line with
//! `_time`, `_raw`, `host`, `source`, `sourcetype`, `index` and further
//! fields, optionally wrapped as `{"preview":false,"result":{...}}`.
//!
//! Every other key becomes a field: nested objects flatten to dotted names
//! (`a.b`), arrays become multivalue fields, numbers and booleans become
//! text, and nulls are dropped. A line without `host` gets an empty host,
//! because the export does not say which machine wrote it.
//!
//! Lines from other shippers in the Elastic Common Schema shape are read the
//! same way: `@timestamp` gives the time when `_time` is absent, and a `host`
//! object gives the host from `host.name` (or `host.hostname`).

use std::borrow::Cow;
use std::fmt;

use indexmap::IndexMap;
use serde::de::{Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as Json;

use super::format::{lines, span_of, SourceContext};
use super::sink::{EventHead, EventSink, Fields};
use crate::event::{parse_splunk_time, Event, TimestampMicros, Value};

/// The sourcetype for JSON events that name none (Splunk's built-in JSON sourcetype).
const DEFAULT_SOURCETYPE: &str = "_json";

/// The members of a JSON object in line order. A list rather than a map,
/// because each member is looked up at most once: dropping the per-line hash
/// map raised `benches/ingest.rs` from about 183k to 230k JSON events/s on
/// one core of a shared 2-core machine. Keys without escapes borrow from the
/// line.
#[derive(Debug, Default)]
struct Members<'de>(Vec<(Cow<'de, str>, Json)>);

/// One parsed line: its members, and the `result` object when the line is an
/// export wrapper (`preview` appears before `result`).
#[derive(Debug, Default)]
struct ParsedLine<'de> {
    members: Members<'de>,
    preview: bool,
    result: Option<Members<'de>>,
}

/// Returns whether `key` is one that [`event_parts`] or [`unwrap_export`]
/// reads. Members under other keys only become fields, so a sink that
/// wants no fields gets them skipped unread.
fn is_head_key(key: &str) -> bool {
    matches!(
        key,
        "_time" | "@timestamp" | "_raw" | "host" | "source" | "sourcetype" | "index" | "preview"
            | "result"
    )
}

/// Returns whether `line` is a JSON object.
pub(crate) fn looks_like(line: &str) -> bool {
    line.trim_start().starts_with('{') && parse_line(line, true).is_ok()
}

/// Parses one line into its members. With `keep_fields` false, members
/// that [`is_head_key`] rejects are checked for valid JSON but not kept.
fn parse_line(line: &str, keep_fields: bool) -> serde_json::Result<ParsedLine<'_>> {
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let parsed = deserializer.deserialize_map(ObjectVisitor { keep_fields })?;
    deserializer.end()?;
    Ok(parsed)
}

/// Parses every line of `text` into `sink`; returns the count of malformed
/// lines. Export wrapper lines without a `result` (such as `messages`) carry
/// no event and are passed over without being counted.
pub(crate) fn parse<S: EventSink>(text: &str, context: &SourceContext, sink: &mut S) -> usize {
    let mut skipped = 0;
    let mut previous_time = None;
    for line in lines(text) {
        let Ok(parsed) = parse_line(line, S::WANTS_FIELDS) else {
            skipped += 1;
            continue;
        };
        let members = match unwrap_export(parsed) {
            Ok(Some(members)) => members,
            Ok(None) => continue,
            Err(()) => {
                skipped += 1;
                continue;
            }
        };
        let (head, members) = event_parts(line, members, context, previous_time);
        previous_time = Some(head.time);
        sink.push(span_of(text, line), head, || member_fields(members));
    }
    skipped
}

/// Parses one line again, for a store that kept the line and not the event.
/// Returns `None` for malformed lines and wrapper lines without a result.
pub(crate) fn parse_record(line: &str, source: &str) -> Option<Event> {
    let parsed = parse_line(line, true).ok()?;
    let members = unwrap_export(parsed).ok()??;
    let context = SourceContext {
        source,
        modified: None,
    };
    let (head, members) = event_parts(line, members, &context, None);
    Some(head.into_event(member_fields(members)))
}

/// Returns the event members of a line: the `result` of an export wrapper, or
/// the line's own members. `Ok(None)` is a wrapper line with no result, and
/// `Err` a wrapper whose result is not an object. The wrapper's own members
/// (`preview`, `offset`, `lastrow`) describe the export and are dropped.
fn unwrap_export(parsed: ParsedLine) -> Result<Option<Members>, ()> {
    if !parsed.preview {
        return Ok(Some(parsed.members));
    }
    if let Some(result) = parsed.result {
        return Ok(Some(result));
    }
    let mut members = parsed.members;
    match members.take("result") {
        Some(Json::Object(result)) => {
            let members = result.into_iter().map(|(key, value)| (Cow::Owned(key), value));
            Ok(Some(Members(members.collect())))
        }
        Some(_) => Err(()),
        None => Ok(None),
    }
}

impl Members<'_> {
    /// Returns the first member named `key`.
    fn get(&self, key: &str) -> Option<&Json> {
        self.0.iter().find(|(name, _)| name == key).map(|(_, value)| value)
    }

    /// Removes the first member named `key` and returns its value.
    fn take(&mut self, key: &str) -> Option<Json> {
        let at = self.0.iter().position(|(name, _)| name == key)?;
        Some(self.0.remove(at).1)
    }
}

/// Reads a JSON object as [`Members`], skipping non-head members unless
/// `keep_fields` is set.
struct MembersSeed {
    keep_fields: bool,
}

impl<'de> DeserializeSeed<'de> for MembersSeed {
    type Value = Members<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let visitor = ObjectVisitor {
            keep_fields: self.keep_fields,
        };
        deserializer.deserialize_map(visitor).map(|line| line.members)
    }
}

struct ObjectVisitor {
    keep_fields: bool,
}

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = ParsedLine<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParsedLine<'de>, A::Error> {
        let mut line = ParsedLine::default();
        line.members.0.reserve(map.size_hint().unwrap_or(16));
        while let Some(KeyText(key)) = map.next_key::<KeyText<'de>>()? {
            if key == "result" && line.preview {
                // A wrapper's result that is not an object fails the line.
                let seed = MembersSeed {
                    keep_fields: self.keep_fields,
                };
                line.result = Some(map.next_value_seed(seed)?);
                continue;
            }
            if !self.keep_fields && !is_head_key(&key) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value::<Json>()?;
            if key == "preview" {
                line.preview = true;
            }
            line.members.0.push((key, value));
        }
        Ok(line)
    }
}

/// An object key, borrowed from the line unless it contains escapes.
struct KeyText<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = KeyText<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<KeyText<'de>, E> {
        Ok(KeyText(Cow::Borrowed(key)))
    }

    fn visit_str<E>(self, key: &str) -> Result<KeyText<'de>, E> {
        Ok(KeyText(Cow::Owned(key.to_owned())))
    }

    fn visit_string<E>(self, key: String) -> Result<KeyText<'de>, E> {
        Ok(KeyText(Cow::Owned(key)))
    }
}

/// Takes the time and default fields out of `members`; what remains are the
/// event's other fields. A missing or unreadable `_time` takes the time of
/// the previous event in the file, or else the file's modification time.
fn event_parts<'a>(
    line: &'a str,
    mut members: Members<'a>,
    context: &SourceContext<'a>,
    previous_time: Option<TimestampMicros>,
) -> (EventHead<'a>, Members<'a>) {
    let time = match members.take("_time") {
        Some(value) => parse_time(&value),
        // ECS and other shippers: `@timestamp`, kept as a field too.
        None => members.get("@timestamp").and_then(parse_time),
    };
    let time = time.or(previous_time).unwrap_or_else(|| context.reference_time());
    let raw = take_text(&mut members, "_raw").map_or(Cow::Borrowed(line), Cow::Owned);
    let host = match members.get("host") {
        // An ECS `host` object stays a field group (`host.name`, `host.ip`).
        Some(Json::Object(inner)) => ["name", "hostname"]
            .iter()
            .find_map(|key| inner.get(*key).and_then(Json::as_str))
            .unwrap_or_default()
            .to_string(),
        _ => take_text(&mut members, "host").unwrap_or_default(),
    };
    let mut text_or = |key: &str, default: &'a str| {
        take_text(&mut members, key).map_or(Cow::Borrowed(default), Cow::Owned)
    };
    let source = text_or("source", context.source);
    let sourcetype = text_or("sourcetype", DEFAULT_SOURCETYPE);
    let index = text_or("index", "main");
    let head = EventHead {
        time,
        raw,
        host: Cow::Owned(host),
        source,
        sourcetype,
        index,
    };
    (head, members)
}

/// Turns the members left after [`event_parts`] into fields.
fn member_fields(members: Members) -> Fields {
    let mut fields = IndexMap::with_capacity(members.0.len() + 4);
    for (key, value) in members.0 {
        flatten_into(&mut fields, key.into_owned(), value);
    }
    fields
}

fn parse_time(value: &Json) -> Option<TimestampMicros> {
    match value {
        Json::String(text) => parse_splunk_time(text),
        Json::Number(number) => match number.as_i64() {
            Some(seconds) => seconds.checked_mul(1_000_000),
            None => number
                .as_f64()
                .map(|seconds| (seconds * 1_000_000.0).round() as i64),
        },
        _ => None,
    }
}

/// Removes `key` and returns it as text; null and empty values count as absent.
fn take_text(members: &mut Members, key: &str) -> Option<String> {
    match members.take(key)? {
        Json::Null => None,
        Json::String(text) if text.is_empty() => None,
        Json::String(text) => Some(text),
        Json::Array(items) => items.into_iter().next().and_then(scalar_text),
        other => scalar_text(other),
    }
}

/// Adds `value` under `key`, flattening objects into dotted names.
fn flatten_into(fields: &mut IndexMap<String, Value>, key: String, value: Json) {
    match value {
        Json::Null => {}
        Json::Object(inner) => {
            for (child, child_value) in inner {
                flatten_into(fields, format!("{key}.{child}"), child_value);
            }
        }
        Json::Array(items) => {
            let values: Vec<String> = items.into_iter().filter_map(scalar_text).collect();
            if !values.is_empty() {
                fields.insert(key, Value::Multi(values));
            }
        }
        scalar => {
            if let Some(text) = scalar_text(scalar) {
                fields.insert(key, Value::Single(text));
            }
        }
    }
}

/// Renders a JSON value as Splunk text: strings as they are, objects and
/// arrays as compact JSON, null as nothing.
fn scalar_text(value: Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(text) => Some(text),
        Json::Bool(flag) => Some(flag.to_string()),
        Json::Number(number) => Some(number.to_string()),
        nested => Some(nested.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::sink::EventList;

    fn parse_all(text: &str) -> (Vec<Event>, usize) {
        let context = SourceContext {
            source: "export.json",
            modified: None,
        };
        let mut list = EventList::default();
        let skipped = parse(text, &context, &mut list);
        (list.events, skipped)
    }

    #[test]
    fn export_fields_map_to_event() {
        let line = r#"{"_time":"1702191346","_raw":"hello","host":"web1","source":"/var/log/a","sourcetype":"access_combined","index":"web","status":200}"#;
        let (events, skipped) = parse_all(line);
        assert_eq!(skipped, 0);
        let event = &events[0];
        assert_eq!(event.time, 1_702_191_346_000_000);
        assert_eq!(event.raw, "hello");
        assert_eq!(event.host, "web1");
        assert_eq!(event.source, "/var/log/a");
        assert_eq!(event.sourcetype, "access_combined");
        assert_eq!(event.index, "web");
        assert_eq!(event.fields.get("status"), Some(&Value::from("200")));
        assert!(!event.fields.contains_key("_time"));
    }

    #[test]
    fn time_forms_parse() {
        let text = concat!(
            "{\"_time\": 1702191346.5}\n",
            "{\"_time\": \"2023-12-10T07:55:46.000+01:00\"}\n",
            "{\"_time\": 1702191346}\n"
        );
        let (events, _) = parse_all(text);
        assert_eq!(events[0].time, 1_702_191_346_500_000);
        assert_eq!(events[1].time, 1_702_191_346_000_000);
        assert_eq!(events[2].time, 1_702_191_346_000_000);
    }

    #[test]
    fn missing_time_takes_previous_event_time() {
        let (events, _) = parse_all("{\"_time\": 100}\n{\"_raw\": \"no time\"}\n");
        assert_eq!(events[1].time, 100_000_000);
    }

    #[test]
    fn export_wrapper_unwraps_result() {
        let text = concat!(
            "{\"preview\":false,\"result\":{\"_time\":\"5\",\"_raw\":\"a\",\"user\":\"bob\"}}\n",
            "{\"preview\":false,\"messages\":[{\"type\":\"INFO\",\"text\":\"done\"}]}\n"
        );
        let (events, skipped) = parse_all(text);
        assert_eq!(events.len(), 1);
        assert_eq!(skipped, 0);
        assert_eq!(events[0].raw, "a");
        assert_eq!(events[0].fields.get("user"), Some(&Value::from("bob")));
        assert!(!events[0].fields.contains_key("preview"));
    }

    #[test]
    fn defaults_fill_missing_fields() {
        let line = r#"{"_time":1,"user":"bob"}"#;
        let (events, _) = parse_all(line);
        assert_eq!(events[0].raw, line);
        assert_eq!(events[0].sourcetype, "_json");
        assert_eq!(events[0].source, "export.json");
        assert_eq!(events[0].index, "main");
    }

    #[test]
    fn nested_and_array_values_flatten() {
        let line =
            r#"{"_time":1,"a":{"b":{"c":"deep"},"n":3},"tags":["x","y"],"ok":true,"gone":null}"#;
        let (events, _) = parse_all(line);
        let fields = &events[0].fields;
        assert_eq!(fields.get("a.b.c"), Some(&Value::from("deep")));
        assert_eq!(fields.get("a.n"), Some(&Value::from("3")));
        let tags = Value::Multi(vec!["x".into(), "y".into()]);
        assert_eq!(fields.get("tags"), Some(&tags));
        assert_eq!(fields.get("ok"), Some(&Value::from("true")));
        assert!(!fields.contains_key("gone"));
    }

    #[test]
    fn ecs_line_takes_timestamp_and_host_name() {
        let line = r#"{"@timestamp":"2023-12-10T06:55:46Z","host":{"name":"web1","ip":["10.0.0.1"]},"event":{"action":"logon"}}"#;
        let (events, _) = parse_all(line);
        let event = &events[0];
        // 2023-12-10T06:55:46Z is 1702191346 s after the epoch.
        assert_eq!(event.time, 1_702_191_346_000_000);
        assert_eq!(event.host, "web1");
        assert_eq!(event.fields.get("host.name"), Some(&Value::from("web1")));
        assert_eq!(event.fields.get("event.action"), Some(&Value::from("logon")));
        assert_eq!(event.fields.get("@timestamp"), Some(&Value::from("2023-12-10T06:55:46Z")));
    }

    #[test]
    fn result_before_preview_unwraps() {
        let text = "{\"result\":{\"_raw\":\"a\",\"k\":\"v\"},\"preview\":false}\n";
        let (events, skipped) = parse_all(text);
        assert_eq!(skipped, 0);
        assert_eq!(events[0].raw, "a");
        assert_eq!(events[0].fields.get("k"), Some(&Value::from("v")));
    }

    #[test]
    fn plain_result_field_is_kept() {
        let (events, _) = parse_all("{\"_raw\":\"a\",\"result\":\"ok\"}\n");
        assert_eq!(events[0].fields.get("result"), Some(&Value::from("ok")));
    }

    #[test]
    fn wrapper_with_scalar_result_is_malformed() {
        let (events, skipped) = parse_all("{\"preview\":false,\"result\":5}\n");
        assert!(events.is_empty());
        assert_eq!(skipped, 1);
    }

    #[test]
    fn malformed_lines_are_counted() {
        let text = "{\"_time\":1}\n{not json\n[1,2]\n{\"_time\":2}\n";
        let (events, skipped) = parse_all(text);
        assert_eq!(events.len(), 2);
        assert_eq!(skipped, 2);
    }
}
