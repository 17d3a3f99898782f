//! Expansions of the search macros the read-only guard can see through.
//!
//! Splunk replaces each backtick macro with its definition before it parses a
//! query, so a macro can hide any command. The guard expands only the macros
//! listed here and rejects every other one, because a definition it cannot see
//! cannot be checked. The definitions follow Splunk's Enterprise Security
//! Content Update (ESCU) app, which the detection searches argus may be handed
//! are written against.

use super::parser::parse_macro;
use super::token::Token;

/// A macro whose expansion the guard knows.
struct KnownMacro {
    name: &'static str,
    /// Argument names, substituted where `$name$` appears in the definition.
    params: &'static [&'static str],
    definition: &'static str,
}

const KNOWN: &[KnownMacro] = &[
    KnownMacro {
        name: "security_content_summariesonly",
        params: &[],
        definition: "summariesonly=false allow_old_summaries=true fillnull_value=null",
    },
    KnownMacro {
        name: "security_content_ctime",
        params: &["field"],
        definition: "convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime($field$)",
    },
    KnownMacro {
        name: "drop_dm_object_name",
        params: &["object"],
        definition: "rename $object$.* AS *",
    },
];

/// Suffix of the per-detection tuning macros, which are shipped as `search *`
/// for the site to narrow.
const FILTER_SUFFIX: &str = "_filter";

/// Why a macro could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacroError {
    #[error("macro `{name}` has no known expansion, so its commands cannot be checked")]
    Unknown { name: String },
    #[error("macro `{name}` takes {expected} arguments but {found} were given")]
    Arity { name: String, expected: usize, found: usize },
}

/// Returns the text that replaces the macro call in `token` (the text between
/// the backticks, such as `security_content_ctime(firstTime)`).
pub fn expand(token: &Token) -> Result<String, MacroError> {
    let call = parse_macro(token);
    let name = call.name.as_str();
    if let Some(known) = KNOWN.iter().find(|m| m.name == name) {
        return substitute(known, &call.args);
    }
    let is_filter = name.len() > FILTER_SUFFIX.len() && name.ends_with(FILTER_SUFFIX);
    if is_filter && call.args.is_empty() && is_macro_name(name) {
        return Ok("search *".to_string());
    }
    Err(MacroError::Unknown { name: name.to_string() })
}

fn substitute(known: &KnownMacro, args: &[String]) -> Result<String, MacroError> {
    if args.len() != known.params.len() {
        return Err(MacroError::Arity {
            name: known.name.to_string(),
            expected: known.params.len(),
            found: args.len(),
        });
    }
    let mut text = known.definition.to_string();
    // Splunk substitutes arguments as written, quotes included.
    for (param, arg) in known.params.iter().zip(args) {
        text = text.replace(&format!("${param}$"), arg);
    }
    Ok(text)
}

fn is_macro_name(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spl::token::TokenKind;

    fn macro_token(text: &str) -> Token {
        Token { kind: TokenKind::Macro, text: text.to_string(), start: 0, end: text.len() + 2 }
    }

    #[test]
    fn expand_ctime_substitutes_field() {
        let text = expand(&macro_token("security_content_ctime(firstTime)")).unwrap();
        assert_eq!(text, "convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime(firstTime)");
    }

    #[test]
    fn expand_drop_dm_keeps_quotes() {
        let text = expand(&macro_token("drop_dm_object_name(\"Processes\")")).unwrap();
        assert_eq!(text, "rename \"Processes\".* AS *");
    }

    #[test]
    fn expand_filter_macro() {
        let text = expand(&macro_token("detect_x_filter")).unwrap();
        assert_eq!(text, "search *");
    }

    #[test]
    fn expand_unknown_rejected() {
        let err = expand(&macro_token("sysmon")).unwrap_err();
        assert_eq!(err, MacroError::Unknown { name: "sysmon".into() });
    }

    #[test]
    fn expand_wrong_arity_rejected() {
        let err = expand(&macro_token("security_content_ctime")).unwrap_err();
        assert!(matches!(err, MacroError::Arity { expected: 1, found: 0, .. }), "{err}");
    }

    #[test]
    fn expand_filter_with_args_rejected() {
        assert!(expand(&macro_token("x_filter(a)")).is_err());
    }
}
