//! Time modifiers: `earliest=` and `latest=` values and their resolution.
//!
//! Accepted forms: epoch seconds (`1702191346`), `now`, relative offsets with
//! an optional snap (`-24h`, `-7d@d`, `@h`), and absolute times in Splunk's
//! default `%m/%d/%Y:%H:%M:%S` format. Absolute times and snapping use UTC,
//! where Splunk would use the searching user's time zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

use super::ast::{Span, TimeSpec, TimeUnit};

/// Parses a time modifier value; returns `None` when it is not a time.
pub fn parse_time_spec(text: &str) -> Option<TimeSpec> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("now") || text.eq_ignore_ascii_case("now()") {
        return Some(TimeSpec::Now);
    }
    if let Ok(secs) = text.parse::<i64>() {
        return Some(TimeSpec::Absolute(secs.checked_mul(1_000_000)?));
    }
    if let Ok(secs) = text.parse::<f64>() {
        return secs
            .is_finite()
            .then(|| TimeSpec::Absolute((secs * 1e6).round() as i64));
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%m/%d/%Y:%H:%M:%S") {
        return Some(TimeSpec::Absolute(time.and_utc().timestamp_micros()));
    }
    parse_relative(text)
}

/// Parses `[+-]N unit [@snap]` or `@snap`.
fn parse_relative(text: &str) -> Option<TimeSpec> {
    let (offset_text, snap_text) = match text.split_once('@') {
        Some((offset, snap)) => (offset, Some(snap)),
        None => (text, None),
    };
    let snap = match snap_text {
        Some(snap) => Some(parse_unit(
            snap.trim_start_matches(|c: char| c.is_ascii_digit()),
        )?),
        None => None,
    };
    if offset_text.is_empty() {
        return snap.map(|_| TimeSpec::Relative {
            offset: 0,
            unit: TimeUnit::Second,
            snap,
        });
    }
    let (sign, rest) = match offset_text.as_bytes()[0] {
        b'-' => (-1, &offset_text[1..]),
        b'+' => (1, &offset_text[1..]),
        _ => return None,
    };
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let count: i64 = if digits == 0 {
        1
    } else {
        rest[..digits].parse().ok()?
    };
    let unit = parse_unit(&rest[digits..])?;
    Some(TimeSpec::Relative {
        offset: sign * count,
        unit,
        snap,
    })
}

fn parse_unit(text: &str) -> Option<TimeUnit> {
    let unit = match text.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => TimeUnit::Second,
        "m" | "min" | "mins" | "minute" | "minutes" => TimeUnit::Minute,
        "h" | "hr" | "hrs" | "hour" | "hours" => TimeUnit::Hour,
        "d" | "day" | "days" => TimeUnit::Day,
        "w" | "week" | "weeks" => TimeUnit::Week,
        "mon" | "month" | "months" => TimeUnit::Month,
        "y" | "yr" | "yrs" | "year" | "years" => TimeUnit::Year,
        _ => return None,
    };
    Some(unit)
}

const SECOND: i64 = 1_000_000;
const DAY: i64 = 86_400 * SECOND;
/// 1970-01-04, the first Sunday after the epoch, where week bins start.
const FIRST_SUNDAY: i64 = 3 * DAY;

/// Parses a span such as `30s`, `5m`, `1h`, `1d`, `1w`, `1mon`, `1y`, or a
/// plain positive number; returns `None` for anything else.
pub fn parse_span(text: &str) -> Option<Span> {
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let count: f64 = text[..digits].parse().ok().filter(|n: &f64| *n > 0.0)?;
    if digits == text.len() {
        return Some(Span::Number(count));
    }
    let whole = (count.fract() == 0.0).then_some(count as i64)?;
    let unit = match text[digits..].to_ascii_lowercase().as_str() {
        "q" | "qtr" | "qtrs" | "quarter" | "quarters" => {
            return u32::try_from(whole * 3).ok().map(Span::Months)
        }
        other => parse_unit(other)?,
    };
    let micros = match unit {
        TimeUnit::Second => SECOND,
        TimeUnit::Minute => 60 * SECOND,
        TimeUnit::Hour => 3_600 * SECOND,
        TimeUnit::Day => DAY,
        TimeUnit::Week => 7 * DAY,
        TimeUnit::Month => return u32::try_from(whole).ok().map(Span::Months),
        TimeUnit::Year => return u32::try_from(whole * 12).ok().map(Span::Months),
    };
    whole.checked_mul(micros).map(Span::Micros)
}

/// Returns the span as microseconds of time, reading a plain number as seconds;
/// `None` for calendar months, which have no fixed length.
pub fn span_micros(span: Span) -> Option<i64> {
    match span {
        Span::Micros(micros) => Some(micros),
        Span::Number(secs) => Some((secs * SECOND as f64).round() as i64),
        Span::Months(_) => None,
    }
}

/// Returns the start of the time bin that contains `time`, in microseconds.
///
/// Bins are aligned in UTC: fixed spans on multiples of the span since the
/// epoch (weeks since the first Sunday), months on multiples of the span
/// since January 1970. Splunk aligns days and longer to the user's time zone.
pub fn floor_time(time: i64, span: Span) -> i64 {
    match span {
        Span::Months(months) => {
            month_start(month_index(time).div_euclid(i64::from(months)) * i64::from(months))
        }
        _ => {
            let width = span_micros(span).unwrap_or(SECOND).max(1);
            let origin = if width % (7 * DAY) == 0 {
                FIRST_SUNDAY
            } else {
                0
            };
            (time - origin).div_euclid(width) * width + origin
        }
    }
}

/// Returns the start of the bin after the one starting at `start`.
pub fn next_bin(start: i64, span: Span) -> i64 {
    match span {
        Span::Months(months) => month_start(month_index(start) + i64::from(months)),
        _ => start + span_micros(span).unwrap_or(SECOND).max(1),
    }
}

/// Months since January 1970 of the month holding `time`.
fn month_index(time: i64) -> i64 {
    let date = DateTime::from_timestamp_micros(time).unwrap_or_default();
    (i64::from(date.year()) - 1970) * 12 + i64::from(date.month0())
}

fn month_start(index: i64) -> i64 {
    let year = i32::try_from(1970 + index.div_euclid(12)).unwrap_or(1970);
    let month = index.rem_euclid(12) as u32 + 1;
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |t| t.and_utc().timestamp_micros())
}

/// Resolves a time modifier against `now`, both in microseconds since the epoch.
pub fn resolve(spec: &TimeSpec, now: i64) -> i64 {
    match spec {
        TimeSpec::Absolute(micros) => *micros,
        TimeSpec::Now => now,
        TimeSpec::Relative { offset, unit, snap } => {
            let Some(start) = DateTime::from_timestamp_micros(now) else {
                return now;
            };
            let moved = shift(start, *offset, *unit).unwrap_or(start);
            let snapped = match snap {
                Some(unit) => snap_to(moved, *unit),
                None => moved,
            };
            snapped.timestamp_micros()
        }
    }
}

fn shift(time: DateTime<Utc>, count: i64, unit: TimeUnit) -> Option<DateTime<Utc>> {
    let fixed = match unit {
        TimeUnit::Second => Duration::try_seconds(count)?,
        TimeUnit::Minute => Duration::try_minutes(count)?,
        TimeUnit::Hour => Duration::try_hours(count)?,
        TimeUnit::Day => Duration::try_days(count)?,
        TimeUnit::Week => Duration::try_weeks(count)?,
        TimeUnit::Month => return shift_months(time, count),
        TimeUnit::Year => return shift_months(time, count.checked_mul(12)?),
    };
    time.checked_add_signed(fixed)
}

fn shift_months(time: DateTime<Utc>, months: i64) -> Option<DateTime<Utc>> {
    let amount = chrono::Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months < 0 {
        time.checked_sub_months(amount)
    } else {
        time.checked_add_months(amount)
    }
}

/// Rounds a time down to the start of its unit; weeks start on Sunday.
fn snap_to(time: DateTime<Utc>, unit: TimeUnit) -> DateTime<Utc> {
    let date = time.date_naive();
    let at = |day: NaiveDate, hour: u32, minute: u32, second: u32| {
        let naive = day.and_hms_opt(hour, minute, second).unwrap_or_default();
        Utc.from_utc_datetime(&naive)
    };
    match unit {
        TimeUnit::Second => at(date, time.hour(), time.minute(), time.second()),
        TimeUnit::Minute => at(date, time.hour(), time.minute(), 0),
        TimeUnit::Hour => at(date, time.hour(), 0, 0),
        TimeUnit::Day => at(date, 0, 0, 0),
        TimeUnit::Week => {
            let back = date.weekday().num_days_from_sunday();
            at(date - Duration::days(i64::from(back)), 0, 0, 0)
        }
        TimeUnit::Month => at(date.with_day(1).unwrap_or(date), 0, 0, 0),
        TimeUnit::Year => at(
            date.with_day(1)
                .and_then(|d| d.with_month(1))
                .unwrap_or(date),
            0,
            0,
            0,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2023-12-10T06:55:46Z, a Sunday.
    const NOW: i64 = 1_702_191_346_000_000;

    fn at(text: &str) -> i64 {
        resolve(&parse_time_spec(text).unwrap(), NOW)
    }

    #[test]
    fn relative_hours_and_days() {
        assert_eq!(at("-24h"), NOW - 86_400_000_000);
        assert_eq!(at("-7d"), NOW - 7 * 86_400_000_000);
        assert_eq!(at("-15m"), NOW - 900_000_000);
        assert_eq!(at("-30s"), NOW - 30_000_000);
    }

    #[test]
    fn relative_snaps_to_unit() {
        // Midnight of 2023-12-10 is 1702166400.
        assert_eq!(at("@d"), 1_702_166_400_000_000);
        assert_eq!(at("-1d@d"), 1_702_080_000_000_000);
        assert_eq!(at("@h"), 1_702_188_000_000_000);
    }

    #[test]
    fn relative_months() {
        // 2023-11-10T06:55:46Z is 1699599346.
        assert_eq!(at("-1mon"), 1_699_599_346_000_000);
    }

    #[test]
    fn absolute_forms() {
        assert_eq!(at("1702191346"), NOW);
        assert_eq!(at("12/10/2023:06:55:46"), NOW);
        assert_eq!(at("now"), NOW);
    }

    #[test]
    fn spans_parse() {
        assert_eq!(parse_span("5m"), Some(Span::Micros(300_000_000)));
        assert_eq!(parse_span("1h"), Some(Span::Micros(3_600_000_000)));
        assert_eq!(parse_span("2d"), Some(Span::Micros(2 * DAY)));
        assert_eq!(parse_span("1mon"), Some(Span::Months(1)));
        assert_eq!(parse_span("1q"), Some(Span::Months(3)));
        assert_eq!(parse_span("1y"), Some(Span::Months(12)));
        assert_eq!(parse_span("100"), Some(Span::Number(100.0)));
        assert_eq!(parse_span("0m"), None);
        assert_eq!(parse_span("log10"), None);
        assert_eq!(parse_span("1.5h"), None);
    }

    #[test]
    fn floor_fixed_spans() {
        // 06:55:46 floors to 06:55:00 (1702191300) and to 06:00:00 (1702188000).
        assert_eq!(
            floor_time(NOW, parse_span("5m").unwrap()),
            1_702_191_300 * SECOND
        );
        assert_eq!(
            floor_time(NOW, parse_span("1h").unwrap()),
            1_702_188_000 * SECOND
        );
        // 2023-12-10 is a Sunday, so its midnight starts the week bin.
        assert_eq!(
            floor_time(NOW, parse_span("1w").unwrap()),
            1_702_166_400 * SECOND
        );
    }

    #[test]
    fn floor_and_step_months() {
        // 2023-12-01T00:00:00Z is 1701388800; 2024-01-01 is 1704067200.
        let month = Span::Months(1);
        assert_eq!(floor_time(NOW, month), 1_701_388_800 * SECOND);
        assert_eq!(
            next_bin(1_701_388_800 * SECOND, month),
            1_704_067_200 * SECOND
        );
        // 2023-01-01 is 1672531200.
        assert_eq!(floor_time(NOW, Span::Months(12)), 1_672_531_200 * SECOND);
    }

    #[test]
    fn invalid_times_rejected() {
        assert_eq!(parse_time_spec("yesterday"), None);
        assert_eq!(parse_time_spec("-5q"), None);
        assert_eq!(parse_time_spec("13/45/2023:00:00:00"), None);
    }
}
