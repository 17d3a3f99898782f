//! The `lookup` command: enriches rows from a CSV table in the lookup folder.
//!
//! A table is a CSV file with a header row (RFC 4180 quoting). Matching is
//! exact and case-sensitive, as Splunk's default `case_sensitive_match`; a
//! row whose match field is multivalue is looked up once per value, and every
//! matching table row adds its values, so an output field can become
//! multivalue. Lookup definitions from `transforms.conf` (wildcard or CIDR
//! matching, time-based lookups) are not read: the table name is a file name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::args::{is_name, option_at, unexpected};
use super::ast::Lookup;
use super::token::{Token, TokenKind};
use super::SplError;
use crate::event::{Row, Value};

/// Parses `lookup [local=t] [update=t] table field [AS f], ... [OUTPUT|OUTPUTNEW field [AS f], ...]`.
pub fn parse(tokens: &[Token], position: usize) -> Result<Lookup, SplError> {
    let mut at = 0;
    while let Some((name, _)) = option_at(tokens, at) {
        if !matches!(name.to_ascii_lowercase().as_str(), "local" | "update") {
            let msg = format!("lookup option '{name}' is not supported; use local or update");
            return Err(SplError::invalid(msg, tokens[at].start));
        }
        at += 3;
    }
    let Some(table) = tokens.get(at).filter(|t| is_name(t)) else {
        return Err(SplError::invalid(
            "lookup needs a table name and a match field",
            0,
        ));
    };
    let rest = &tokens[at + 1..];
    let split = rest
        .iter()
        .position(|t| t.is_word_ci("OUTPUT") || t.is_word_ci("OUTPUTNEW"));
    let (input_tokens, output_tokens) = match split {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    let inputs = field_pairs(input_tokens)?;
    if inputs.is_empty() {
        let msg = format!("lookup {} needs a match field", table.text);
        return Err(SplError::invalid(msg, table.start));
    }
    let outputs = field_pairs(output_tokens)?;
    if split.is_some() && outputs.is_empty() {
        return Err(SplError::invalid(
            "lookup needs fields after OUTPUT",
            table.start,
        ));
    }
    let output_new = split.is_some_and(|i| rest[i].is_word_ci("OUTPUTNEW"));
    Ok(Lookup {
        table: table.text.clone(),
        inputs,
        outputs,
        output_new,
        position,
    })
}

/// Reads `column [AS field]` pairs separated by spaces or commas.
fn field_pairs(tokens: &[Token]) -> Result<Vec<(String, String)>, SplError> {
    let mut pairs = Vec::new();
    let mut at = 0;
    while let Some(token) = tokens.get(at) {
        at += 1;
        if token.kind == TokenKind::Comma {
            continue;
        }
        if !is_name(token) {
            return Err(unexpected("lookup", token));
        }
        let renamed = tokens.get(at).is_some_and(|t| t.is_word_ci("as"));
        match tokens.get(at + 1) {
            Some(to) if renamed && is_name(to) => {
                pairs.push((token.text.clone(), to.text.clone()));
                at += 2;
            }
            _ if renamed => return Err(SplError::invalid("missing name after 'AS'", token.start)),
            _ => pairs.push((token.text.clone(), token.text.clone())),
        }
    }
    Ok(pairs)
}

/// A lookup table loaded for one query, indexed by its match columns.
#[derive(Debug)]
pub struct LoadedLookup<'a> {
    spec: &'a Lookup,
    /// Table column index and row field of each output.
    outputs: Vec<(usize, String)>,
    rows: Vec<Vec<String>>,
    index: HashMap<Vec<String>, Vec<usize>>,
}

/// Finds and reads the table of `spec` in `dir`.
pub fn load<'a>(spec: &'a Lookup, dir: Option<&Path>) -> Result<LoadedLookup<'a>, SplError> {
    let position = spec.position;
    let Some(dir) = dir else {
        let msg = format!(
            "lookup {}: no lookup folder is set; the local engine reads lookup tables as CSV \
             files from the evidence folder",
            spec.table
        );
        return Err(SplError::invalid(msg, position));
    };
    let path = table_path(dir, &spec.table, position)?;
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let msg = format!("lookup {}: cannot read {}: {e}", spec.table, path.display());
        SplError::invalid(msg, position)
    })?;
    let mut records = parse_csv(&text).into_iter();
    let header = records.next().unwrap_or_default();
    let column = |name: &str| header.iter().position(|h| h == name);
    let missing = |name: &str| {
        let msg = format!(
            "lookup {}: the table has no column '{name}'; its columns are: {}",
            spec.table,
            header.join(", ")
        );
        SplError::invalid(msg, position)
    };
    let inputs = spec
        .inputs
        .iter()
        .map(|(col, _)| column(col).ok_or_else(|| missing(col)))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = output_columns(spec, &header, &inputs)
        .into_iter()
        .map(|(col, field)| Ok((column(col).ok_or_else(|| missing(col))?, field.to_string())))
        .collect::<Result<Vec<_>, SplError>>()?;
    let rows: Vec<Vec<String>> = records.collect();
    let mut index: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let key = inputs
            .iter()
            .map(|&c| row.get(c).cloned().unwrap_or_default())
            .collect();
        index.entry(key).or_default().push(i);
    }
    Ok(LoadedLookup {
        spec,
        outputs,
        rows,
        index,
    })
}

/// Returns the (column, field) outputs: those listed, or every column that is
/// not a match column.
fn output_columns<'a>(
    spec: &'a Lookup,
    header: &'a [String],
    inputs: &[usize],
) -> Vec<(&'a str, &'a str)> {
    if !spec.outputs.is_empty() {
        return spec
            .outputs
            .iter()
            .map(|(c, f)| (c.as_str(), f.as_str()))
            .collect();
    }
    header
        .iter()
        .enumerate()
        .filter(|(i, _)| !inputs.contains(i))
        .map(|(_, name)| (name.as_str(), name.as_str()))
        .collect()
}

/// Resolves a table name to a file in `dir`, refusing names that leave it.
fn table_path(dir: &Path, table: &str, position: usize) -> Result<PathBuf, SplError> {
    let escapes = table.contains(['/', '\\']) || table.starts_with('.');
    if escapes {
        let msg = format!("lookup table '{table}' must be a file name inside the lookup folder");
        return Err(SplError::invalid(msg, position));
    }
    let mut candidates = vec![dir.join(table)];
    if !table.to_ascii_lowercase().ends_with(".csv") {
        candidates.insert(0, dir.join(format!("{table}.csv")));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            let msg = format!(
                "lookup table '{table}' not found: no {} in {}; put the table as a CSV \
                 file directly in the evidence folder",
                if candidates.len() == 2 {
                    format!("{table}.csv or {table}")
                } else {
                    table.into()
                },
                dir.display()
            );
            SplError::invalid(msg, position)
        })
}

impl LoadedLookup<'_> {
    /// Adds the output fields of the matching table rows to `row`.
    pub fn apply(&self, mut row: Row) -> Row {
        if self.spec.output_new && self.outputs.iter().all(|(_, f)| row.contains_key(f)) {
            return row;
        }
        let fields: Vec<String> = self.spec.inputs.iter().map(|(_, f)| f.clone()).collect();
        let matches: Vec<usize> = super::stats::group_keys(&row, &fields)
            .iter()
            .filter_map(|key| self.index.get(key))
            .flatten()
            .copied()
            .collect();
        for (column, field) in &self.outputs {
            let (column, field) = (*column, field.as_str());
            if self.spec.output_new && row.contains_key(field) {
                continue;
            }
            let values: Vec<String> = matches
                .iter()
                .filter_map(|&i| self.rows[i].get(column))
                .filter(|v| !v.is_empty())
                .cloned()
                .collect();
            // NOTE: without a match, OUTPUT clears the field, which is how
            // Splunk's OUTPUT overwrites; OUTPUTNEW never reaches here for a
            // field the row already has.
            match values.len() {
                0 => {
                    row.shift_remove(field);
                }
                1 => {
                    row.insert(field.to_string(), Value::Single(values[0].clone()));
                }
                _ => {
                    row.insert(field.to_string(), Value::Multi(values));
                }
            }
        }
        row
    }
}

/// Splits CSV text into records of fields: commas separate fields, double
/// quotes enclose fields that hold commas, quotes or line breaks, and `""`
/// inside quotes is one quote. Blank lines are skipped.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\r', false) if chars.peek() == Some(&'\n') => {}
            ('\n', false) => end_record(&mut records, &mut record, &mut field),
            _ => field.push(c),
        }
    }
    end_record(&mut records, &mut record, &mut field);
    records
}

fn end_record(records: &mut Vec<Vec<String>>, record: &mut Vec<String>, field: &mut String) {
    record.push(std::mem::take(field));
    let record = std::mem::take(record);
    let blank = record.len() == 1 && record[0].is_empty();
    if !blank {
        records.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_line_breaks() {
        let text = "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n1,\"two\nlines\"\n";
        let records = parse_csv(text);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], vec!["a", "b"]);
        assert_eq!(records[1], vec!["x, y", "say \"hi\""]);
        assert_eq!(records[2], vec!["1", "two\nlines"]);
    }

    #[test]
    fn csv_keeps_empty_fields() {
        assert_eq!(parse_csv("a,,c"), vec![vec!["a", "", "c"]]);
    }

    #[test]
    fn table_path_rejects_escapes() {
        let dir = Path::new("/tmp");
        assert!(table_path(dir, "../etc/passwd", 0).is_err());
        assert!(table_path(dir, "sub/x.csv", 0).is_err());
    }
}
