//! Turning a request body into an [`Alert`], with the listener's limits.
//!
//! Checks run in this order, so each bad body gets one clear status: UTF-8
//! (400), nesting depth (400), JSON syntax (400), then the alert's shape
//! and field sizes (422 with the path of the first field at fault, such as
//! `$.result.src_ip[2]`). Depth is checked by a byte scan before parsing so
//! a deeply nested body never reaches the recursive parser.

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::alert::Alert;

/// Size and shape limits of an alert body.
#[derive(Debug, Clone)]
pub struct AlertLimits {
    /// Maximum JSON nesting depth accepted (objects and arrays).
    pub max_depth: usize,
    /// Maximum length of `sid`, `search_name`, `app`, `owner` and `results_link`, in bytes.
    pub max_header_field: usize,
    /// Maximum number of fields in `result`.
    pub max_result_fields: usize,
    /// Maximum length of a field name in `result`, in bytes.
    pub max_field_name: usize,
    /// Maximum length of one value in `result`, in bytes.
    pub max_value: usize,
    /// Maximum number of values in one multivalue field.
    pub max_values: usize,
    /// Maximum number of top-level fields beyond Splunk's six.
    pub max_extra_fields: usize,
}

impl Default for AlertLimits {
    fn default() -> Self {
        AlertLimits {
            max_depth: 16,
            max_header_field: 4096,
            max_result_fields: 1000,
            max_field_name: 256,
            max_value: 256 * 1024,
            max_values: 1000,
            max_extra_fields: 64,
        }
    }
}

const HEADER_FIELDS: [&str; 5] = ["sid", "search_name", "app", "owner", "results_link"];

/// Parses and checks an alert body.
pub fn parse_alert(body: &[u8], limits: &AlertLimits) -> Result<Alert, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| ApiError::Encoding(e.valid_up_to()))?;
    let text = crate::alert::strip_byte_order_mark(text);
    if nesting_depth(text.as_bytes()) > limits.max_depth {
        return Err(ApiError::TooDeep(limits.max_depth));
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| ApiError::MalformedJson(syntax_error(&e)))?;
    let Value::Object(object) = value else {
        return Err(shape(
            "$",
            format!("expected a JSON object, found {}", kind(&value)),
        ));
    };
    check_object(&object, limits)?;
    serde_json::from_value(Value::Object(object))
        .map_err(|e| shape("$", format!("cannot read the alert: {}", syntax_error(&e))))
}

/// Returns a serde_json error's category and position, without its text.
fn syntax_error(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "unexpected end of input",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected value",
        serde_json::error::Category::Io => "read error",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

fn shape(path: impl Into<String>, problem: impl Into<String>) -> ApiError {
    ApiError::Shape {
        path: path.into(),
        problem: problem.into(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Returns the deepest nesting of objects and arrays, ignoring brackets in strings.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Shows a field name in a path, shortened and with control characters escaped.
fn field_path(parent: &str, name: &str) -> String {
    let short: String = name.chars().take(64).collect();
    let plain = !short.is_empty() && short.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{parent}.{short}")
    } else {
        format!("{parent}[{short:?}]")
    }
}

fn check_object(object: &Map<String, Value>, limits: &AlertLimits) -> Result<(), ApiError> {
    for name in HEADER_FIELDS {
        match object.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.len() > limits.max_header_field => {
                let problem = format!("longer than {} bytes", limits.max_header_field);
                return Err(shape(format!("$.{name}"), problem));
            }
            Some(Value::String(_)) => {}
            Some(other) => {
                let problem = format!("expected a string or null, found {}", kind(other));
                return Err(shape(format!("$.{name}"), problem));
            }
        }
    }
    let named = |n: &str| {
        object
            .get(n)
            .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
    };
    if !named("sid") && !named("search_name") {
        return Err(shape("$", "expected a non-empty sid or search_name"));
    }
    let extra = object
        .keys()
        .filter(|k| !HEADER_FIELDS.contains(&k.as_str()) && *k != "result");
    if extra.count() > limits.max_extra_fields {
        return Err(shape(
            "$",
            format!("more than {} top-level fields", limits.max_extra_fields),
        ));
    }
    match object.get("result") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(result)) => check_result(result, limits),
        Some(other) => Err(shape(
            "$.result",
            format!("expected an object or null, found {}", kind(other)),
        )),
    }
}

fn check_result(result: &Map<String, Value>, limits: &AlertLimits) -> Result<(), ApiError> {
    if result.len() > limits.max_result_fields {
        let problem = format!("more than {} fields", limits.max_result_fields);
        return Err(shape("$.result", problem));
    }
    for (name, value) in result {
        let path = field_path("$.result", name);
        if name.is_empty() || name.len() > limits.max_field_name {
            let problem = format!("field names must be 1 to {} bytes", limits.max_field_name);
            return Err(shape(path, problem));
        }
        check_result_value(&path, value, limits)?;
    }
    Ok(())
}

fn check_result_value(path: &str, value: &Value, limits: &AlertLimits) -> Result<(), ApiError> {
    let too_long = || {
        shape(
            path,
            format!("value longer than {} bytes", limits.max_value),
        )
    };
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
        Value::String(s) if s.len() > limits.max_value => Err(too_long()),
        Value::String(_) => Ok(()),
        Value::Array(items) if items.len() > limits.max_values => Err(shape(
            path,
            format!("more than {} values", limits.max_values),
        )),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{index}]");
                match item {
                    Value::Null | Value::Number(_) => {}
                    Value::String(s) if s.len() > limits.max_value => {
                        return Err(shape(
                            item_path,
                            format!("value longer than {} bytes", limits.max_value),
                        ));
                    }
                    Value::String(_) => {}
                    other => {
                        let problem = format!("expected a string, found {}", kind(other));
                        return Err(shape(item_path, problem));
                    }
                }
            }
            Ok(())
        }
        Value::Object(_) => Err(shape(
            path,
            "expected a string or an array of strings, found an object",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Alert, ApiError> {
        parse_alert(body.as_bytes(), &AlertLimits::default())
    }

    fn shape_path(body: &str) -> String {
        match parse(body) {
            Err(ApiError::Shape { path, .. }) => path,
            other => panic!("expected a shape error, got {other:?}"),
        }
    }

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(nesting_depth(br#"{"a":"[[[{{{\"[["}"#), 1);
    }

    #[test]
    fn depth_counts_nested_arrays() {
        assert_eq!(nesting_depth(b"[[[]],[]]"), 3);
    }

    #[test]
    fn valid_alert_parses() {
        let alert = parse(r#"{"sid":"s","result":{"src_ip":"10.0.0.1","n":3}}"#).unwrap();
        assert_eq!(alert.field("src_ip"), Some("10.0.0.1"));
        assert_eq!(alert.field("n"), Some("3"));
    }

    #[test]
    fn nested_list_item_path() {
        assert_eq!(
            shape_path(r#"{"sid":"s","result":{"ips":["a",{}]}}"#),
            "$.result.ips[1]"
        );
    }

    #[test]
    fn odd_field_name_quoted() {
        assert_eq!(
            shape_path(r#"{"sid":"s","result":{"a b":{}}}"#),
            r#"$.result["a b"]"#
        );
    }

    #[test]
    fn numeric_sid_rejected() {
        assert_eq!(shape_path(r#"{"sid":5}"#), "$.sid");
    }

    #[test]
    fn error_does_not_echo_content() {
        let err = parse(r#"{"sid":"s","result":{"password":{"x":"hunter2"}}}"#).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse(r#"{"sid": "hunter2"#).unwrap_err();
        assert!(matches!(err, ApiError::MalformedJson(_)));
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
