//! Quoting and escaping for values placed into generated SPL.
//!
//! Every value that comes from outside (alert fields, indicators, user
//! names) enters a generated query through these functions, so it stays one
//! string literal however it is written. Field names cannot be quoted in
//! search terms, so they are validated instead: a field name is 1 to 256
//! characters of ASCII letters, digits, `_`, `.`, `:` and `-`, and starts
//! with a letter or `_`.

use super::SplError;

/// The longest field name [`validate_field`] accepts.
const FIELD_MAX_LEN: usize = 256;

/// Quotes a value as an SPL string literal: wraps it in double quotes and
/// escapes backslashes and double quotes.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Checks that `field` is safe to place unquoted in a query.
pub fn validate_field(field: &str) -> Result<(), SplError> {
    let mut chars = field.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    if starts_well && rest_ok && field.len() <= FIELD_MAX_LEN {
        return Ok(());
    }
    let message = format!(
        "invalid field name '{}'; use up to {FIELD_MAX_LEN} ASCII letters, digits, '_', '.', ':' \
         or '-', starting with a letter or '_'",
        field.escape_debug()
    );
    Err(SplError::invalid(message, 0))
}

/// Builds `field="value"` with the value quoted and the field name validated.
pub fn field_equals(field: &str, value: &str) -> Result<String, SplError> {
    validate_field(field)?;
    Ok(format!("{field}={}", quote(value)))
}

/// Builds `(field="a" OR field="b")`; fails when `values` is empty, because
/// an empty disjunction has no SPL form.
pub fn or_values<S: AsRef<str>>(field: &str, values: &[S]) -> Result<String, SplError> {
    validate_field(field)?;
    if values.is_empty() {
        let message = format!("no values to match for field '{field}'; pass at least one");
        return Err(SplError::invalid(message, 0));
    }
    let terms: Vec<String> = values
        .iter()
        .map(|v| format!("{field}={}", quote(v.as_ref())))
        .collect();
    Ok(format!("({})", terms.join(" OR ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spl::ast::{CommandKind, SearchExpr};
    use crate::spl::parse;
    use crate::spl::token::CompareOp;

    const HOSTILE: &[&str] = &[
        "plain",
        "",
        "a\"b",
        "a\\",
        "\\\"",
        "x\" | delete | search \"y",
        "] | outputlookup evil.csv [",
        "`evil_macro` ```comment```",
        "line1\nline2\r\n| delete",
        "(a OR b) NOT c",
        "user=root",
        "\\\\\\\"\\",
        "'single' quotes",
        "trailing backslash \\",
        "ünïcödé ✓",
    ];

    /// Parses `query` and returns the only search comparison in it.
    fn single_comparison(query: &str) -> (String, CompareOp, String) {
        let pipeline = parse(query).unwrap_or_else(|e| panic!("{query:?} did not parse: {e}"));
        assert_eq!(pipeline.commands.len(), 1, "{query:?} split into commands");
        assert!(pipeline.comments.is_empty(), "{query:?} produced a comment");
        assert!(
            pipeline.commands[0].subsearches.is_empty(),
            "{query:?} produced a subsearch"
        );
        let CommandKind::Search(Some(SearchExpr::Compare {
            field, op, value, ..
        })) = &pipeline.commands[0].kind
        else {
            panic!(
                "{query:?} is not one comparison: {:?}",
                pipeline.commands[0].kind
            );
        };
        (field.clone(), *op, value.clone())
    }

    #[test]
    fn quote_escapes_quotes_and_backslashes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn field_equals_hostile_values_stay_literal() {
        for value in HOSTILE {
            let query = field_equals("user", value).unwrap();
            let (field, op, parsed) = single_comparison(&query);
            assert_eq!(field, "user", "field of {query:?}");
            assert_eq!(op, CompareOp::Eq, "operator of {query:?}");
            assert_eq!(parsed, *value, "value of {query:?}");
        }
    }

    #[test]
    fn or_values_hostile_values_stay_literal() {
        let query = or_values("src_ip", HOSTILE).unwrap();
        let pipeline = parse(&query).unwrap();
        assert_eq!(pipeline.commands.len(), 1);
        let CommandKind::Search(Some(SearchExpr::Or(items))) = &pipeline.commands[0].kind else {
            panic!("not a disjunction: {:?}", pipeline.commands[0].kind);
        };
        assert_eq!(items.len(), HOSTILE.len());
        for (item, expected) in items.iter().zip(HOSTILE) {
            let SearchExpr::Compare { field, value, .. } = item else {
                panic!("not a comparison: {item:?}");
            };
            assert_eq!(field, "src_ip");
            assert_eq!(value, expected);
        }
    }

    #[test]
    fn or_values_rejects_empty() {
        assert!(or_values::<&str>("user", &[]).is_err());
    }

    #[test]
    fn field_names_validated() {
        assert!(validate_field("src_ip").is_ok());
        assert!(validate_field("Processes.process_name").is_ok());
        assert!(validate_field("_time").is_ok());
        assert!(validate_field("a:b-c").is_ok());
        assert!(validate_field("").is_err());
        assert!(validate_field("1abc").is_err());
        assert!(validate_field("user=x").is_err());
        assert!(validate_field("a b").is_err());
        assert!(validate_field("a|b").is_err());
        assert!(validate_field("a\"b").is_err());
        assert!(validate_field(&"a".repeat(257)).is_err());
        assert!(field_equals("bad field", "x").is_err());
    }
}
