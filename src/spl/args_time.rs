//! Argument parsers for the time-bucketing commands: `bin` (and its alias
//! `bucket`), `timechart` and `transaction`.

use super::args::{self, is_name, option_at, parse_count, unexpected};
use super::ast::{Bin, Span, Timechart, Transaction};
use super::time::{parse_span, span_micros};
use super::token::{Token, TokenKind};
use super::SplError;

/// `timechart` keeps this many series of a split-by field unless `limit=` says otherwise.
const TIMECHART_DEFAULT_LIMIT: usize = 10;
/// `transaction` closes a transaction at this many events unless `maxevents=` says otherwise.
const TRANSACTION_DEFAULT_MAX_EVENTS: usize = 1000;

fn span_value(command: &str, token: &Token) -> Result<Span, SplError> {
    parse_span(&token.text).ok_or_else(|| {
        let msg = format!(
            "invalid span '{}' for {command}; use a number with a unit such as 30s, 5m, 1h, \
             1d, 1w or 1mon",
            token.text
        );
        SplError::invalid(msg, token.start)
    })
}

fn flag_value(command: &str, token: &Token) -> Result<bool, SplError> {
    match token.text.to_ascii_lowercase().as_str() {
        "t" | "true" | "1" => Ok(true),
        "f" | "false" | "0" => Ok(false),
        _ => {
            let msg = format!(
                "invalid flag '{}' for {command}; use true or false",
                token.text
            );
            Err(SplError::invalid(msg, token.start))
        }
    }
}

fn unsupported_option(command: &str, name: &str, token: &Token, accepted: &str) -> SplError {
    let msg = format!("{command} option '{name}' is not supported; use {accepted}");
    SplError::invalid(msg, token.start)
}

/// Parses `bin|bucket [span=X] field [as name] [span=X]`.
pub fn bin(command: &str, tokens: &[Token]) -> Result<Bin, SplError> {
    let mut span = None;
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(token) = tokens.get(at) {
        if let Some((name, value)) = option_at(tokens, at) {
            if name != "span" {
                return Err(unsupported_option(command, name, token, "span"));
            }
            span = Some(span_value(command, value)?);
            at += 3;
            continue;
        }
        if !is_name(token) {
            return Err(unexpected(command, token));
        }
        names.push(token);
        at += 1;
    }
    let (field, output) = match names.as_slice() {
        [field] => (field.text.clone(), field.text.clone()),
        [field, as_word, output] if as_word.is_word_ci("as") => {
            (field.text.clone(), output.text.clone())
        }
        _ => {
            let msg = format!("{command} takes one field, as in '{command} span=1h _time'");
            return Err(SplError::invalid(msg, 0));
        }
    };
    let Some(span) = span else {
        let msg = format!("{command} needs span=, as in '{command} span=1h _time'");
        return Err(SplError::invalid(msg, 0));
    };
    Ok(Bin {
        field,
        span,
        output,
    })
}

/// Parses `timechart [span=X] [limit=N] [useother=B] [usenull=B] functions [by field]`.
pub fn timechart(tokens: &[Token]) -> Result<Timechart, SplError> {
    let mut chart = Timechart {
        span: None,
        limit: TIMECHART_DEFAULT_LIMIT,
        use_other: true,
        use_null: true,
        stats: super::ast::Stats {
            aggregations: Vec::new(),
            by: Vec::new(),
        },
    };
    let mut rest = Vec::new();
    let mut at = 0;
    while let Some(token) = tokens.get(at) {
        let Some((name, value)) = option_at(tokens, at) else {
            rest.push(token.clone());
            at += 1;
            continue;
        };
        match name.to_ascii_lowercase().as_str() {
            "span" => chart.span = Some(span_value("timechart", value)?),
            "limit" => chart.limit = parse_count("timechart", value)?,
            "useother" => chart.use_other = flag_value("timechart", value)?,
            "usenull" => chart.use_null = flag_value("timechart", value)?,
            _ => {
                let accepted = "span, limit, useother or usenull";
                return Err(unsupported_option("timechart", name, token, accepted));
            }
        }
        at += 3;
    }
    chart.stats = args::stats(&rest)?;
    if chart.stats.by.len() > 1 {
        let msg = "timechart splits by one field only; use stats with bin _time for more";
        return Err(SplError::invalid(msg, 0));
    }
    Ok(chart)
}

/// Parses `transaction fields [maxspan=X] [maxpause=X] [maxevents=N]`.
pub fn transaction(tokens: &[Token]) -> Result<Transaction, SplError> {
    let mut transaction = Transaction {
        fields: Vec::new(),
        max_span: None,
        max_pause: None,
        max_events: TRANSACTION_DEFAULT_MAX_EVENTS,
    };
    let mut at = 0;
    while let Some(token) = tokens.get(at) {
        if let Some((name, value)) = option_at(tokens, at) {
            transaction_option(&mut transaction, name, token, value)?;
            at += 3;
            continue;
        }
        match token.kind {
            TokenKind::Comma => {}
            _ if is_name(token) => transaction.fields.push(token.text.clone()),
            _ => return Err(unexpected("transaction", token)),
        }
        at += 1;
    }
    if transaction.fields.is_empty() {
        let msg = "transaction needs at least one field, as in 'transaction user maxspan=5m'";
        return Err(SplError::invalid(msg, 0));
    }
    Ok(transaction)
}

fn transaction_option(
    transaction: &mut Transaction,
    name: &str,
    token: &Token,
    value: &Token,
) -> Result<(), SplError> {
    let duration = |value: &Token| -> Result<Option<i64>, SplError> {
        // Splunk reads -1 as no limit.
        if value.text == "-1" {
            return Ok(None);
        }
        let span = span_value("transaction", value)?;
        span_micros(span).map(Some).ok_or_else(|| {
            let msg = "transaction spans take s, m, h, d or w units, not months";
            SplError::invalid(msg, value.start)
        })
    };
    match name.to_ascii_lowercase().as_str() {
        "maxspan" => transaction.max_span = duration(value)?,
        "maxpause" => transaction.max_pause = duration(value)?,
        "maxevents" if value.text == "-1" => transaction.max_events = usize::MAX,
        "maxevents" => transaction.max_events = parse_count("transaction", value)?.max(1),
        _ => {
            let accepted = "maxspan, maxpause or maxevents";
            return Err(unsupported_option("transaction", name, token, accepted));
        }
    }
    Ok(())
}
