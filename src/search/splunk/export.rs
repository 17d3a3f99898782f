//! Reader of Splunk's export stream (`output_mode=json`).
//!
//! The export endpoints answer with one JSON object per line: preview rows
//! (`"preview": true`) while the search runs, then final rows with a `result`
//! object, `messages` (a list of `{type, text}`) and `"lastrow": true` on the
//! last result. The reader keeps final results and messages and stops at
//! `lastrow`. An empty body, a FATAL or ERROR message, an unparseable line or
//! a stream that ends after results but before `lastrow` is an error, never an
//! empty result.

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::event::{format_epoch_seconds, parse_splunk_time, Row, Value};
use crate::search::{SearchError, SearchResults};

/// Whether the reader wants more lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The final row (`lastrow`) has been read.
    Done,
}

/// Incremental reader: feed it lines with [`ExportReader::push_line`], then
/// call [`ExportReader::finish`].
#[derive(Debug, Default)]
pub struct ExportReader {
    rows: Vec<Row>,
    messages: Vec<String>,
    lines: usize,
    final_lines: usize,
    saw_lastrow: bool,
}

impl ExportReader {
    /// Reads one line of the stream.
    pub fn push_line(&mut self, line: &str) -> Result<Flow, SearchError> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(Flow::Continue);
        }
        self.lines += 1;
        let object: Json = serde_json::from_str(line).map_err(|e| {
            SearchError::Protocol(format!("export line {} is not JSON ({e}): {}", self.lines, clip(line)))
        })?;
        self.read_messages(&object)?;
        if object.get("preview").and_then(Json::as_bool) == Some(true) {
            return Ok(Flow::Continue);
        }
        self.final_lines += 1;
        if let Some(result) = object.get("result").and_then(Json::as_object) {
            self.rows.push(to_row(result));
        }
        if object.get("lastrow").and_then(Json::as_bool) == Some(true) {
            self.saw_lastrow = true;
            return Ok(Flow::Done);
        }
        Ok(Flow::Continue)
    }

    /// Ends the stream and returns what it held.
    pub fn finish(self) -> Result<SearchResults, SearchError> {
        if self.lines == 0 {
            return Err(SearchError::Protocol("the server returned an empty body".into()));
        }
        // NOTE: a search with no results may end without a `lastrow` line, so
        // a cut before the first final result cannot be told from no results.
        if !self.saw_lastrow && !self.rows.is_empty() {
            return Err(SearchError::Protocol(format!(
                "the export stream ended after {} rows without its final row (lastrow); \
                 the response was truncated",
                self.rows.len()
            )));
        }
        if self.final_lines == 0 {
            return Err(SearchError::Protocol(
                "the export stream held only preview rows; the response was truncated".into(),
            ));
        }
        Ok(SearchResults { rows: self.rows, messages: self.messages })
    }

    fn read_messages(&mut self, object: &Json) -> Result<(), SearchError> {
        let Some(messages) = object.get("messages").and_then(Json::as_array) else {
            return Ok(());
        };
        for message in messages {
            let kind = message.get("type").and_then(Json::as_str).unwrap_or("INFO");
            let text = message.get("text").and_then(Json::as_str).unwrap_or("");
            if matches!(kind, "FATAL" | "ERROR") {
                return Err(classify_message(text));
            }
            let entry = format!("{kind}: {text}");
            if !self.messages.contains(&entry) {
                self.messages.push(entry);
            }
        }
        Ok(())
    }
}

/// Turns a FATAL or ERROR message into a failure: quota messages can be
/// retried, anything else is a problem with the query.
pub fn classify_message(text: &str) -> SearchError {
    if is_quota_message(text) {
        SearchError::Quota(text.to_string())
    } else {
        SearchError::BadQuery(text.to_string())
    }
}

/// True for Splunk's messages about its concurrent-search limits, such as
/// "The maximum number of concurrent historical searches on this instance has
/// been reached".
pub fn is_quota_message(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("maximum number of concurrent") || lower.contains("disk usage quota")
}

fn to_row(result: &serde_json::Map<String, Json>) -> Row {
    let mut row: Row = IndexMap::with_capacity(result.len());
    for (name, value) in result {
        let value = match value {
            Json::Array(items) => Value::from(items.iter().map(scalar).collect::<Vec<_>>()),
            other => Value::from(scalar(other)),
        };
        row.insert(name.clone(), value);
    }
    normalise_time(&mut row);
    row
}

fn scalar(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// Rewrites `_time` as epoch seconds, the form the local store returns, when
/// it arrives as an ISO 8601 time.
fn normalise_time(row: &mut Row) {
    let Some(Value::Single(text)) = row.get("_time") else { return };
    if let Some(micros) = parse_splunk_time(text) {
        row.insert("_time".into(), Value::Single(format_epoch_seconds(micros)));
    }
}

fn clip(text: &str) -> String {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<SearchResults, SearchError> {
        let mut reader = ExportReader::default();
        for line in body.lines() {
            if reader.push_line(line)? == Flow::Done {
                break;
            }
        }
        reader.finish()
    }

    #[test]
    fn reads_results_until_lastrow() {
        let body = r#"{"preview":true,"offset":0,"result":{"a":"0"}}

{"preview":false,"offset":0,"result":{"a":"1","b":["x","y"]}}
{"preview":false,"offset":1,"lastrow":true,"result":{"a":"2"}}
{"preview":false,"offset":2,"result":{"a":"after"}}"#;
        let results = read(body).unwrap();
        assert_eq!(results.rows.len(), 2);
        assert_eq!(results.rows[0]["a"], Value::from("1"));
        assert_eq!(results.rows[0]["b"], Value::from(vec!["x".to_string(), "y".to_string()]));
        assert_eq!(results.rows[1]["a"], Value::from("2"));
    }

    #[test]
    fn iso_time_becomes_epoch() {
        let body = r#"{"preview":false,"lastrow":true,"result":{"_time":"2023-12-10T06:55:46.000+00:00"}}"#;
        let results = read(body).unwrap();
        assert_eq!(results.rows[0]["_time"], Value::from("1702191346"));
    }

    #[test]
    fn epoch_time_kept() {
        let body = r#"{"preview":false,"lastrow":true,"result":{"_time":"1702191346.5"}}"#;
        assert_eq!(read(body).unwrap().rows[0]["_time"], Value::from("1702191346.5"));
    }

    #[test]
    fn empty_body_fails() {
        assert!(matches!(read("\n\n"), Err(SearchError::Protocol(_))));
    }

    #[test]
    fn truncated_stream_fails() {
        let body = r#"{"preview":false,"offset":0,"result":{"a":"1"}}"#;
        let err = read(body).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn cut_json_line_fails() {
        let body = "{\"preview\":false,\"offset\":0,\"resu";
        assert!(matches!(read(body), Err(SearchError::Protocol(_))));
    }

    #[test]
    fn fatal_message_fails() {
        let body = r#"{"messages":[{"type":"FATAL","text":"Unknown search command 'foo'."}]}"#;
        let err = read(body).unwrap_err();
        assert!(matches!(err, SearchError::BadQuery(ref t) if t.contains("foo")), "{err}");
    }

    #[test]
    fn quota_message_retryable() {
        let text = "The maximum number of concurrent historical searches on this instance has been reached.";
        let body = format!(r#"{{"messages":[{{"type":"ERROR","text":"{text}"}}]}}"#);
        let err = read(&body).unwrap_err();
        assert_eq!(err.class(), crate::search::FailureClass::Retryable);
    }

    #[test]
    fn info_messages_kept() {
        let body = r#"{"preview":false,"messages":[{"type":"INFO","text":"Your timerange was substituted"}]}
{"preview":false,"lastrow":true}"#;
        let results = read(body).unwrap();
        assert!(results.rows.is_empty());
        assert_eq!(results.messages, vec!["INFO: Your timerange was substituted"]);
    }

    #[test]
    fn only_previews_fail() {
        let body = r#"{"preview":true,"result":{"a":"1"}}"#;
        assert!(matches!(read(body), Err(SearchError::Protocol(_))));
    }
}
