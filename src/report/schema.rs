//! Checks that `docs/report-schema.md` and the serialised [`Report`] agree:
//! every field table in the document lists exactly the keys that the JSON
//! has at that path, and the document's example parses as a report.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{sample, Report};

const SCHEMA_DOC: &str = include_str!("../../docs/report-schema.md");

/// Returns each documented path (such as `indicators[].intel[]`, or an empty string for the
/// top level) with the keys its field table lists.
fn documented_tables() -> Vec<(String, BTreeSet<String>)> {
    let fields = SCHEMA_DOC
        .split("## Fields")
        .nth(1)
        .expect("doc has a Fields section");
    let fields = fields.split("## Example").next().unwrap_or(fields);
    let mut tables: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in fields.lines() {
        if let Some(title) = line.strip_prefix("### ") {
            let path = if title == "(top level)" {
                ""
            } else {
                title.trim()
            };
            tables.push((path.to_string(), BTreeSet::new()));
        } else if let Some(rest) = line.strip_prefix("| `") {
            let key = rest.split('`').next().unwrap_or_default();
            let (_, keys) = tables.last_mut().expect("a table row follows a heading");
            keys.insert(key.to_string());
        }
    }
    tables
}

/// Returns the union of the object keys found at `path`, looking into every array element.
fn keys_at(root: &Value, path: &str) -> BTreeSet<String> {
    let mut values = vec![root];
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let name = segment.trim_end_matches("[]");
        values = values.iter().filter_map(|v| v.get(name)).collect();
        if segment.ends_with("[]") {
            values = values
                .iter()
                .filter_map(|v| v.as_array())
                .flatten()
                .collect();
        }
    }
    values
        .iter()
        .filter_map(|v| v.as_object())
        .flat_map(|o| o.keys().cloned())
        .collect()
}

fn sample_json() -> Value {
    serde_json::to_value(sample::report()).expect("sample serialises")
}

#[test]
fn doc_lists_every_top_level_key() {
    let tables = documented_tables();
    let (path, documented) = &tables[0];
    assert_eq!(path, "", "the first table documents the top level");
    let serialised = keys_at(&sample_json(), "");
    assert_eq!(documented, &serialised);
}

#[test]
fn doc_tables_match_nested_keys() {
    let json = sample_json();
    let tables = documented_tables();
    assert!(
        tables.len() >= 15,
        "only {} field tables found",
        tables.len()
    );
    for (path, documented) in &tables {
        let serialised = keys_at(&json, path);
        assert_eq!(documented, &serialised, "keys at {path:?}");
    }
}

#[test]
fn doc_example_parses() {
    let example = SCHEMA_DOC
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("doc has a JSON example");
    let report: Report = serde_json::from_str(example).expect("example is a valid report");
    assert_eq!(report.schema_version, super::SCHEMA_VERSION);
    assert_eq!(
        report.alert.search_name.as_deref(),
        Some("SSH Brute Force Detected")
    );
}
