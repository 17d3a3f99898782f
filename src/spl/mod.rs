//! SPL, the Search Processing Language: tokenizer, parser, evaluator and the
//! quoting helpers every generated query goes through.
//!
//! The AST is shared by the local evidence engine, the read-only guard and
//! the Splunk backend, so one parser decides what a query means everywhere.
//! [`parse`] accepts any command; [`run`] evaluates the subset listed in
//! [`SUPPORTED_COMMANDS`] and rejects the rest with an error that names the
//! command or function and its position.
//!
//! # Layout
//!
//! - [`token`]: the tokenizer.
//! - [`ast`]: pipelines, commands, search and eval expressions.
//! - `parser`, `args`, `expr`: from tokens to the AST.
//! - `engine`, `matcher`, `eval`, `stats`: evaluation over events and rows.
//! - `timechart`, `transaction`, `lookup`, `top`: the commands with files of their own.
//! - [`quote`]: string literals and field comparisons for generated queries.
//! - [`guard`], [`macros`]: the read-only guard and its table of macro expansions.

mod args;
mod args_time;
pub mod ast;
mod engine;
mod eval;
mod eval_functions;
mod eval_time;
mod expr;
pub mod guard;
mod lookup;
pub mod macros;
mod matcher;
mod parser;
pub mod quote;
mod stats;
pub mod terms;
mod time;
mod timechart;
pub mod token;
mod top;
mod transaction;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use ast::{Command, CommandKind, Expr, Pipeline, SearchExpr};

use crate::event::{Event, Row};

/// Commands [`run`] evaluates.
pub const SUPPORTED_COMMANDS: &[&str] = &[
    "search",
    "where",
    "stats",
    "table",
    "fields",
    "sort",
    "head",
    "tail",
    "dedup",
    "rex",
    "eval",
    "rename",
    "fillnull",
    "top",
    "rare",
    "bin",
    "bucket",
    "timechart",
    "transaction",
    "lookup",
];

/// The kind of problem an SPL query has.
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

impl SplError {
    pub fn syntax(message: impl Into<String>, position: usize) -> Self {
        SplError {
            kind: SplErrorKind::Syntax,
            message: message.into(),
            position,
        }
    }

    pub fn invalid(message: impl Into<String>, position: usize) -> Self {
        SplError {
            kind: SplErrorKind::InvalidArgument,
            message: message.into(),
            position,
        }
    }

    /// Builds the error for a command [`run`] does not evaluate.
    pub fn unsupported_command(name: &str, position: usize) -> Self {
        let message = format!(
            "unsupported command '{name}'; the local engine supports: {}",
            SUPPORTED_COMMANDS.join(", ")
        );
        SplError {
            kind: SplErrorKind::UnsupportedCommand,
            message,
            position,
        }
    }

    /// Builds the error for a function [`run`] does not evaluate.
    pub fn unsupported_function(name: &str, position: usize, supported: &[&str]) -> Self {
        let message = format!(
            "unsupported function '{name}'; the local engine supports: {}",
            supported.join(", ")
        );
        SplError {
            kind: SplErrorKind::UnsupportedFunction,
            message,
            position,
        }
    }
}

/// Parses an SPL query into its AST.
///
/// A query that starts with neither `|` nor the word `search` is an implicit
/// `search`. Syntax errors (an unterminated string, macro or comment, an
/// unbalanced bracket, an empty command) fail the parse; a known command with
/// arguments the local engine cannot read parses as [`CommandKind::Invalid`].
pub fn parse(query: &str) -> Result<Pipeline, SplError> {
    parser::parse_query(query)
}

/// Runs a parsed pipeline over events; `now` (microseconds since the epoch)
/// anchors relative times such as `earliest=-24h`.
///
/// The first command must be `search`. Its results are the matching events as
/// rows, in the order the events arrive (newest first); later commands
/// transform those rows.
pub fn run(pipeline: &Pipeline, events: &[Event], now: i64) -> Result<Vec<Row>, SplError> {
    let context = RunContext {
        now,
        lookup_dir: None,
    };
    engine::run(pipeline, events, &context)
}

/// Inputs of a run besides the query and the events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunContext {
    /// Microseconds since the epoch that relative times such as `-24h` count from.
    pub now: i64,
    /// The folder `lookup` reads its CSV tables from; without one, `lookup`
    /// fails with an error that says so.
    pub lookup_dir: Option<PathBuf>,
}

/// Runs a parsed pipeline over events like [`run`], with lookup tables.
pub fn run_with(
    pipeline: &Pipeline,
    events: &[Event],
    context: &RunContext,
) -> Result<Vec<Row>, SplError> {
    engine::run(pipeline, events, context)
}
