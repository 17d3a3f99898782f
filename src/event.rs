//! Events and result rows: the values every search backend returns.
//!
//! An [`Event`] is one normalised log record as the local evidence store keeps
//! it. A [`Row`] is one search result: a field map in the shape Splunk returns,
//! where `_time`, `_raw`, `host`, `source` and `sourcetype` are ordinary fields
//! and every value is a string or a list of strings (a multivalue field).

use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One search result or alert result row, in field order.
pub type Row = IndexMap<String, Value>;

/// A field value: Splunk carries every value as text, multivalue fields as lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Single(String),
    Multi(Vec<String>),
}

impl Value {
    /// Returns the first value, as Splunk does when a multivalue field is used as a scalar.
    pub fn first(&self) -> Option<&str> {
        match self {
            Value::Single(s) => Some(s),
            Value::Multi(values) => values.first().map(String::as_str),
        }
    }

    /// Iterates over every value; a single value yields once.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let slice: &[String] = match self {
            Value::Single(s) => std::slice::from_ref(s),
            Value::Multi(values) => values,
        };
        slice.iter().map(String::as_str)
    }

    /// Number of values: 1 for a single value.
    pub fn len(&self) -> usize {
        match self {
            Value::Single(_) => 1,
            Value::Multi(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Single(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Single(s)
    }
}

impl From<Vec<String>> for Value {
    fn from(values: Vec<String>) -> Self {
        Value::Multi(values)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Single(s) => f.write_str(s),
            Value::Multi(values) => f.write_str(&values.join(", ")),
        }
    }
}

/// Microseconds since the Unix epoch, UTC.
pub type TimestampMicros = i64;

/// One normalised log event.
///
/// The five fixed fields mirror Splunk's default fields; `fields` holds every
/// other field, including those extracted from `raw` at ingest (key=value
/// pairs, sshd fields, JSON keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event time in microseconds since the Unix epoch, UTC.
    pub time: TimestampMicros,
    pub raw: String,
    pub host: String,
    pub source: String,
    pub sourcetype: String,
    /// The index the event belongs to; the local store uses `main` unless the
    /// evidence names another.
    pub index: String,
    pub fields: IndexMap<String, Value>,
}

impl Event {
    /// Returns a field by its Splunk name, including the default fields
    /// `_raw`, `host`, `source`, `sourcetype`, `index` (`_time` is returned
    /// by [`Event::to_row`] only, as it needs formatting).
    pub fn field(&self, name: &str) -> Option<FieldRef<'_>> {
        match name {
            "_raw" => Some(FieldRef::Str(&self.raw)),
            "host" => Some(FieldRef::Str(&self.host)),
            "source" => Some(FieldRef::Str(&self.source)),
            "sourcetype" => Some(FieldRef::Str(&self.sourcetype)),
            "index" => Some(FieldRef::Str(&self.index)),
            _ => self.fields.get(name).map(FieldRef::Value),
        }
    }

    /// Converts the event into a result row, with `_time` as epoch seconds the
    /// way Splunk's export API returns it (`1702191346.000000` becomes
    /// `1702191346` when there is no fractional part).
    pub fn to_row(&self) -> Row {
        let mut row = Row::with_capacity(self.fields.len() + 6);
        row.insert("_time".into(), Value::Single(format_epoch_seconds(self.time)));
        row.insert("_raw".into(), Value::Single(self.raw.clone()));
        row.insert("host".into(), Value::Single(self.host.clone()));
        row.insert("source".into(), Value::Single(self.source.clone()));
        row.insert("sourcetype".into(), Value::Single(self.sourcetype.clone()));
        row.insert("index".into(), Value::Single(self.index.clone()));
        for (name, value) in &self.fields {
            row.insert(name.clone(), value.clone());
        }
        row
    }
}

/// A borrowed field value of an [`Event`].
#[derive(Debug, Clone, Copy)]
pub enum FieldRef<'a> {
    Str(&'a str),
    Value(&'a Value),
}

impl<'a> FieldRef<'a> {
    /// Iterates over every value of the field.
    pub fn values(self) -> Box<dyn Iterator<Item = &'a str> + 'a> {
        match self {
            FieldRef::Str(s) => Box::new(std::iter::once(s)),
            FieldRef::Value(v) => Box::new(v.iter()),
        }
    }
}

/// Formats microseconds since the epoch as Splunk's `_time`: decimal epoch
/// seconds, with up to six fractional digits and no trailing zeros.
pub fn format_epoch_seconds(micros: TimestampMicros) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    if frac == 0 {
        return secs.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{secs}.{}", digits.trim_end_matches('0'))
}

/// Parses Splunk's `_time` as epoch seconds (`1702191346` or `1702191346.5`)
/// or as an ISO 8601 / RFC 3339 time with an offset, into microseconds.
pub fn parse_splunk_time(text: &str) -> Option<TimestampMicros> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return secs.checked_mul(1_000_000);
    }
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() {
            return Some((secs * 1_000_000.0).round() as i64);
        }
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %z"))
        .ok()
        .map(|t| t.timestamp_micros())
}

/// Formats microseconds since the epoch as an RFC 3339 UTC time, for reports.
pub fn format_rfc3339(micros: TimestampMicros) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("{micros}us"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_formatting_trims_zeros() {
        assert_eq!(format_epoch_seconds(1_702_191_346_000_000), "1702191346");
        assert_eq!(format_epoch_seconds(1_702_191_346_500_000), "1702191346.5");
    }

    #[test]
    fn splunk_time_forms_parse() {
        assert_eq!(parse_splunk_time("1702191346"), Some(1_702_191_346_000_000));
        assert_eq!(parse_splunk_time("1702191346.25"), Some(1_702_191_346_250_000));
        // 2023-12-10T06:55:46Z is 1702191346 seconds after the epoch.
        assert_eq!(parse_splunk_time("2023-12-10T07:55:46.000+01:00"), Some(1_702_191_346_000_000));
    }
}
