//! The read-only guard: decides whether a query may run.
//!
//! Every query goes through [`check`] before any backend runs it, above all
//! queries written by a model. A query passes only when every command it
//! contains, in subsearches at any depth and in the expansion of every macro,
//! is on [`ALLOWED_COMMANDS`]. Commands that write, send, run programs, run
//! other searches or read configuration are rejected by name, with the effect
//! that makes them unsafe. Any other command is rejected as unknown.
//!
//! The query is read twice, and must pass both readings:
//!
//! - as Splunk reads it: triple-backtick comments are replaced by a space
//!   before anything else, and backtick macros are expanded wherever they
//!   appear, even inside quoted strings;
//! - token by token: comments and macros are only recognised outside quoted
//!   strings, as the local engine reads them.
//!
//! In both readings a scan of the raw text also rejects a denied command
//! name that follows any `|` or `[` outside double quotes, so a command
//! hidden behind single quotes or an unusual escape is still caught.

use serde::Serialize;

use super::ast::{Command, CommandKind, Pipeline};
use super::macros::{self, MacroError};
use super::token::{tokenize, Token, TokenKind};
use super::SplError;

/// Read-only commands a query may use, by their canonical names: Splunk's
/// built-in commands plus `apply` and `summary` from the Machine Learning
/// Toolkit, which read a trained model without changing it.
pub const ALLOWED_COMMANDS: &[&str] = &[
    "abstract", "accum", "addcoltotals", "addinfo", "addtotals", "analyzefields", "anomalies",
    "anomalousvalue", "anomalydetection", "append", "appendcols", "appendpipe", "apply", "arules",
    "associate", "autoregress", "bin", "bucketdir", "chart", "cluster", "cofilter", "concurrency",
    "contingency", "convert", "correlate", "datamodel", "dbinspect", "dedup", "delta", "diff",
    "eval", "eventcount", "eventstats", "extract", "fieldformat", "fields", "fieldsummary",
    "filldown", "fillnull", "findtypes", "folderize", "foreach", "format", "from", "fromjson",
    "gauge", "gentimes", "geom", "geomfilter", "geostats", "head", "highlight", "iconify",
    "inputcsv", "inputlookup", "iplocation", "join", "kmeans", "kvform", "localize", "lookup",
    "makecontinuous", "makemv", "makeresults", "metadata", "metasearch", "mpreview", "mstats",
    "multikv", "multisearch", "mvcombine", "mvexpand", "nomv", "outlier", "overlap", "pivot",
    "predict", "rangemap", "rare", "regex", "reltime", "rename", "replace", "return", "reverse",
    "rex", "rtorder", "search", "searchtxn", "selfjoin", "set", "setfields", "sichart", "sirare",
    "sistats", "sitimechart", "sitop", "sort", "spath", "stats", "strcat", "streamstats",
    "summary", "table", "tags", "tail", "timechart", "timewrap", "tojson", "top", "transaction",
    "transpose", "trendline", "tstats", "typeahead", "typelearner", "typer", "union", "uniq",
    "untable", "walklex", "where", "x11", "xmlkv", "xmlunescape", "xpath", "xyseries",
];

/// Command aliases Splunk accepts, with the command each one runs.
/// NOTE: only `bucket` was checked against the Splunk 9 search reference; the
/// others come from older command lists.
pub const ALIASES: &[(&str, &str)] = &[
    ("ar", "autoregress"),
    ("bucket", "bin"),
    ("common", "top"),
    ("discretize", "bin"),
    ("excerpt", "abstract"),
    ("kv", "extract"),
    ("maketable", "xyseries"),
    ("run", "script"),
    ("summaryindex", "collect"),
    ("transam", "transaction"),
];

/// Commands rejected by name, with the effect that makes each unsafe.
pub const DENIED_COMMANDS: &[(&str, &str)] = &[
    ("collect", "writes search results to a summary index"),
    ("crawl", "adds data inputs to the server's configuration"),
    ("dbxoutput", "writes rows to an external database"),
    ("dbxquery", "runs a query on an external database"),
    ("delete", "marks indexed events as deleted"),
    ("dump", "writes events to files on the search head"),
    ("fit", "trains a model and saves it on the search head"),
    ("history", "reads other users' search history"),
    ("input", "adds data inputs to the server's configuration"),
    ("loadjob", "loads the results of another search job"),
    ("map", "runs a search once for every result"),
    ("mcollect", "writes metrics to an index"),
    ("meventcollect", "writes metric events to an index"),
    ("outputcsv", "writes a CSV file on the search head"),
    ("outputlookup", "writes a lookup table"),
    ("outputtext", "writes events to text files on the search head"),
    ("rest", "calls the server's REST API and reads its configuration"),
    ("runshellscript", "runs a shell script on the search head"),
    ("savedsearch", "runs a saved search whose text the guard cannot see"),
    ("script", "runs an external program on the search head"),
    ("sendalert", "runs an alert action"),
    ("sendemail", "sends email"),
    ("tscollect", "writes tsidx files on the search head"),
];

/// Macro expansions nested deeper than this are rejected, bounding the work.
const MAX_MACRO_PASSES: usize = 8;

/// The reason a query may not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("query does not parse: {0}")]
    Syntax(SplError),
    #[error("unterminated comment at position {position}; close it with '```'")]
    UnterminatedComment { position: usize },
    #[error("unterminated macro at position {position}; close it with '`'")]
    UnterminatedMacro { position: usize },
    #[error("{0}; read-only queries may use only macros with a known expansion")]
    Macro(MacroError),
    #[error("macros nest deeper than {MAX_MACRO_PASSES} levels")]
    MacroDepth,
    #[error("command '{command}'{alias} {effect}; only read-only commands may run",
        alias = alias_note(.command, .canonical))]
    Denied { command: String, canonical: String, effect: String },
    #[error(
        "command '{command}' is not on the read-only allow-list; it may be a custom command \
         whose effects cannot be checked"
    )]
    NotAllowed { command: String },
    #[error(
        "subsearch starts with '{word}', which Splunk may run as a command; start the \
         subsearch with 'search' or '|'"
    )]
    SubsearchHead { word: String },
}

fn alias_note(command: &str, canonical: &str) -> String {
    if command == canonical {
        String::new()
    } else {
        format!(" (an alias of {canonical})")
    }
}

/// The guard's decision on one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Canonical names of the commands found, parents before subsearches.
    pub commands: Vec<String>,
    /// The reason the query may not run, or `None` when it may.
    pub refusal: Option<Refusal>,
}

/// One line of `argus spl check` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictRecord {
    /// `allow` or `refuse`.
    pub verdict: &'static str,
    /// The reason the query was refused, empty when it is allowed.
    pub reason: String,
    pub commands: Vec<String>,
}

impl Verdict {
    pub fn is_allowed(&self) -> bool {
        self.refusal.is_none()
    }

    /// Converts the verdict to its `argus spl check` form.
    pub fn to_record(&self) -> VerdictRecord {
        match &self.refusal {
            None => VerdictRecord {
                verdict: "allow",
                reason: String::new(),
                commands: self.commands.clone(),
            },
            Some(refusal) => VerdictRecord {
                verdict: "refuse",
                reason: refusal.to_string(),
                commands: self.commands.clone(),
            },
        }
    }
}

/// Checks that `query` only reads; returns the refusal otherwise.
pub fn check(query: &str) -> Result<(), Refusal> {
    match inspect(query).refusal {
        None => Ok(()),
        Some(refusal) => Err(refusal),
    }
}

/// Reads `query` both ways and returns the commands found and the first refusal.
pub fn inspect(query: &str) -> Verdict {
    let splunk = check_reading(query, Reading::Splunk);
    if splunk.refusal.is_some() {
        return splunk;
    }
    let tokens = check_reading(query, Reading::Tokens);
    if tokens.refusal.is_some() {
        return tokens;
    }
    splunk
}

/// The way comments and macros are found before the query is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// In the raw text, ignoring quotes.
    Splunk,
    /// As tokens, so quoted strings hide them.
    Tokens,
}

fn check_reading(query: &str, reading: Reading) -> Verdict {
    let mut commands = Vec::new();
    let refusal = expand(query, reading)
        .and_then(|text| check_text(&text, &mut commands))
        .err();
    Verdict { commands, refusal }
}

fn check_text(text: &str, commands: &mut Vec<String>) -> Result<(), Refusal> {
    let pipeline = super::parse(text).map_err(Refusal::Syntax)?;
    check_pipeline(&pipeline, false, commands)?;
    scan_raw_heads(text)
}

/// Replaces comments by a space and expands macros until none is left.
fn expand(query: &str, reading: Reading) -> Result<String, Refusal> {
    let mut text = match reading {
        Reading::Splunk => strip_comments_raw(query)?,
        Reading::Tokens => query.to_string(),
    };
    for _ in 0..MAX_MACRO_PASSES {
        let next = match reading {
            Reading::Splunk => expand_macros_raw(&text)?,
            Reading::Tokens => expand_tokens(&text)?,
        };
        match next {
            None => return Ok(text),
            Some(expanded) => text = expanded,
        }
    }
    Err(Refusal::MacroDepth)
}

fn strip_comments_raw(query: &str) -> Result<String, Refusal> {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    let mut offset = 0;
    while let Some(start) = rest.find("```") {
        out.push_str(&rest[..start]);
        let body = &rest[start + 3..];
        let Some(len) = body.find("```") else {
            return Err(Refusal::UnterminatedComment { position: offset + start });
        };
        out.push(' ');
        offset += start + 3 + len + 3;
        rest = &body[len + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands every backtick macro in the raw text; `None` when there is none.
fn expand_macros_raw(text: &str) -> Result<Option<String>, Refusal> {
    if !text.contains('`') {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let body = &rest[start + 1..];
        let Some(len) = body.find('`') else {
            return Err(Refusal::UnterminatedMacro { position: offset + start });
        };
        let token = Token {
            kind: TokenKind::Macro,
            text: body[..len].to_string(),
            start: offset + start,
            end: offset + start + len + 2,
        };
        out.push(' ');
        out.push_str(&macros::expand(&token).map_err(Refusal::Macro)?);
        out.push(' ');
        offset += start + len + 2;
        rest = &body[len + 1..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

/// Replaces comment tokens by a space and macro tokens by their expansion;
/// `None` when there is neither.
fn expand_tokens(text: &str) -> Result<Option<String>, Refusal> {
    let tokens = tokenize(text).map_err(Refusal::Syntax)?;
    let special: Vec<&Token> = tokens
        .iter()
        .filter(|t| matches!(t.kind, TokenKind::Macro | TokenKind::Comment))
        .collect();
    if special.is_empty() {
        return Ok(None);
    }
    let mut out = text.to_string();
    for token in special.into_iter().rev() {
        let replacement = match token.kind {
            TokenKind::Macro => format!(" {} ", macros::expand(token).map_err(Refusal::Macro)?),
            _ => " ".to_string(),
        };
        out.replace_range(token.start..token.end, &replacement);
    }
    Ok(Some(out))
}

fn check_pipeline(
    pipeline: &Pipeline,
    is_subsearch: bool,
    commands: &mut Vec<String>,
) -> Result<(), Refusal> {
    for (index, command) in pipeline.commands.iter().enumerate() {
        if command.implicit && is_subsearch && index == 0 {
            check_subsearch_head(command)?;
        }
        let canonical = check_command(command)?;
        commands.push(canonical);
        for sub in &command.subsearches {
            check_pipeline(sub, true, commands)?;
        }
    }
    Ok(())
}

/// Checks one command's name; returns its canonical name.
fn check_command(command: &Command) -> Result<String, Refusal> {
    if let CommandKind::Macro(call) = &command.kind {
        return Err(Refusal::Macro(MacroError::Unknown { name: call.name.clone() }));
    }
    check_name(&command.name)
}

fn check_name(name: &str) -> Result<String, Refusal> {
    let name = name.to_ascii_lowercase();
    let canonical = canonical_name(&name);
    if let Some((_, effect)) = DENIED_COMMANDS.iter().find(|(n, _)| *n == canonical) {
        return Err(Refusal::Denied {
            command: name.clone(),
            canonical: canonical.to_string(),
            effect: effect.to_string(),
        });
    }
    if ALLOWED_COMMANDS.contains(&canonical) {
        Ok(canonical.to_string())
    } else {
        Err(Refusal::NotAllowed { command: name })
    }
}

/// Returns the command an alias runs, or `name` itself.
pub fn canonical_name(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, canonical)| canonical)
}

/// A subsearch whose first word is a command name may run that command
/// (`[inputlookup x]`, the templates of `foreach` and `appendpipe`), so that
/// word must be an allowed command or an ordinary search term.
fn check_subsearch_head(command: &Command) -> Result<(), Refusal> {
    let (Some(first), next) = (command.args.first(), command.args.get(1)) else {
        return Ok(());
    };
    let is_comparison = next.is_some_and(|t| matches!(t.kind, TokenKind::Op(_)));
    if first.kind != TokenKind::Word || is_comparison {
        return Ok(());
    }
    let word = first.text.to_ascii_lowercase();
    let canonical = canonical_name(&word);
    let is_denied = DENIED_COMMANDS.iter().any(|(n, _)| *n == canonical);
    if is_denied || ALLOWED_COMMANDS.contains(&canonical) {
        check_name(&word).map(|_| ())
    } else if is_plain_term(&word) {
        Err(Refusal::SubsearchHead { word })
    } else {
        Ok(())
    }
}

/// True for a word that could be a command name: letters, digits, `_`.
fn is_plain_term(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && word.starts_with(|c: char| c.is_ascii_alphabetic())
}

/// Rejects a denied command name after any `|` or `[` outside double quotes.
fn scan_raw_heads(text: &str) -> Result<(), Refusal> {
    let mut chars = text.char_indices().peekable();
    let mut in_quotes = false;
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            '|' | '[' if !in_quotes => check_raw_head(&text[at + 1..])?,
            _ => {}
        }
    }
    Ok(())
}

fn check_raw_head(rest: &str) -> Result<(), Refusal> {
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '|' || c == '[');
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let word = rest[..end].to_ascii_lowercase();
    let canonical = canonical_name(&word);
    if DENIED_COMMANDS.iter().any(|(n, _)| *n == canonical) {
        check_name(&word).map(|_| ())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
