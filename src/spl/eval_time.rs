//! The time functions of `eval` and `where`: `strftime`, `strptime`,
//! `relative_time`, `time` and `now`.
//!
//! Times are epoch seconds, as in Splunk, and formats use strftime
//! specifiers plus Splunk's subsecond forms `%3N`, `%6N`, `%9N` (and `%Q`,
//! `%3Q`...) for milliseconds, microseconds and nanoseconds. Formatting and
//! parsing use UTC, where Splunk uses the searching user's time zone.

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{DateTime, NaiveTime};

use super::eval::Val;
use super::time::{parse_time_spec, resolve};

/// Rewrites Splunk's subsecond specifiers into chrono's `%3f`, `%6f`, `%9f`.
fn chrono_format(format: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let digit = chars.next_if(char::is_ascii_digit);
        match (digit, chars.peek().copied()) {
            (digit, Some('N' | 'Q')) => {
                chars.next();
                let width = match digit {
                    Some('6') => '6',
                    Some('9') => '9',
                    _ => '3',
                };
                out.push('%');
                out.push(width);
                out.push('f');
            }
            (digit, _) => {
                out.push('%');
                out.extend(digit);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
        }
    }
    out
}

/// Parses a format into chrono items; `None` when a specifier is unknown.
fn format_items(format: &str) -> Option<Vec<Item<'static>>> {
    let items: Vec<Item<'static>> = StrftimeItems::new(format)
        .map(|item| item.to_owned())
        .collect();
    let valid = !items.iter().any(|item| matches!(item, Item::Error));
    valid.then_some(items)
}

/// `strftime(time, format)`: formats epoch seconds.
pub fn strftime(time: &Val, format: &Val) -> Val {
    let (Some(seconds), Some(format)) = (time.as_num(), format.as_text()) else {
        return Val::Null;
    };
    let Some(items) = format_items(&chrono_format(&format)) else {
        return Val::Null;
    };
    let micros = (seconds * 1_000_000.0).round() as i64;
    match DateTime::from_timestamp_micros(micros) {
        Some(time) => Val::Str(time.format_with_items(items.into_iter()).to_string()),
        None => Val::Null,
    }
}

/// `strptime(text, format)`: parses a time into epoch seconds; a format
/// without an offset reads the time as UTC, and one without a time of day
/// reads midnight.
pub fn strptime(text: &Val, format: &Val) -> Val {
    let (Some(text), Some(format)) = (text.as_text(), format.as_text()) else {
        return Val::Null;
    };
    let Some(items) = format_items(&chrono_format(&format)) else {
        return Val::Null;
    };
    let mut parsed = Parsed::new();
    if chrono::format::parse(&mut parsed, &text, items.iter()).is_err() {
        return Val::Null;
    }
    let micros = parsed
        .to_datetime()
        .map(|t| t.timestamp_micros())
        .or_else(|_| {
            parsed
                .to_naive_datetime_with_offset(0)
                .map(|t| t.and_utc().timestamp_micros())
        })
        .or_else(|_| {
            parsed
                .to_naive_date()
                .map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp_micros())
        });
    match micros {
        Ok(micros) => Val::Num(micros as f64 / 1_000_000.0),
        Err(_) => Val::Null,
    }
}

/// `relative_time(time, modifier)`: applies a modifier such as `-1d@d` to
/// epoch seconds.
pub fn relative_time(time: &Val, modifier: &Val) -> Val {
    let (Some(seconds), Some(modifier)) = (time.as_num(), modifier.as_text()) else {
        return Val::Null;
    };
    let Some(spec) = parse_time_spec(&modifier) else {
        return Val::Null;
    };
    let micros = resolve(&spec, (seconds * 1_000_000.0).round() as i64);
    Val::Num(micros as f64 / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splunk_subseconds_become_chrono() {
        assert_eq!(chrono_format("%H:%M:%S.%3N"), "%H:%M:%S.%3f");
        assert_eq!(chrono_format("%6N %Q %9Q %%"), "%6f %3f %9f %%");
    }

    #[test]
    fn unknown_specifier_is_null() {
        assert_eq!(strftime(&Val::Num(0.0), &Val::Str("%J%".into())), Val::Null);
    }
}
