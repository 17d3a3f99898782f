//! SPL, the Search Processing Language: tokenizer, parser, evaluator and the
//! quoting helpers every generated query goes through.
//!
//! The AST is shared by the local evidence engine, the read-only guard and
//! the Splunk backend, so one parser decides what a query means everywhere.

pub mod quote;

use serde::{Deserialize, Serialize};

/// What kind of problem an SPL query has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplErrorKind {
    /// The text does not tokenize or parse.
    Syntax,
    /// A command the local engine does not implement.
    UnsupportedCommand,
    /// A function (in `stats`, `eval`, `where`) the local engine does not implement.
    UnsupportedFunction,
    /// Arguments of a known command or function are wrong.
    InvalidArgument,
}

/// An SPL error with the byte offset in the query where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message} (at position {position})")]
pub struct SplError {
    pub kind: SplErrorKind,
    pub message: String,
    /// Byte offset into the query text.
    pub position: usize,
}

use crate::event::{Event, Row};

/// A parsed query: a pipeline of commands.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub source: String,
}

/// Parses an SPL query into its AST.
pub fn parse(query: &str) -> Result<Pipeline, SplError> {
    Ok(Pipeline { source: query.to_string() })
}

/// Runs a parsed pipeline over events; `now` (microseconds since the epoch)
/// anchors relative times such as `earliest=-24h`.
pub fn run(pipeline: &Pipeline, events: &[Event], now: i64) -> Result<Vec<Row>, SplError> {
    let _ = (pipeline, events, now);
    Err(SplError {
        kind: SplErrorKind::UnsupportedCommand,
        message: "the SPL engine is not built yet".into(),
        position: 0,
    })
}
