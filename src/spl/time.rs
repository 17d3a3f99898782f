//! Time modifiers: `earliest=` and `latest=` values and their resolution.
//!
//! Accepted forms: epoch seconds (`1702191346`), `now`, relative offsets with
//! an optional snap (`-24h`, `-7d@d`, `@h`), and absolute times in Splunk's
//! default `%m/%d/%Y:%H:%M:%S` format. Absolute times and snapping use UTC,
//! where Splunk would use the searching user's time zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

use super::ast::{TimeSpec, TimeUnit};

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
    fn invalid_times_rejected() {
        assert_eq!(parse_time_spec("yesterday"), None);
        assert_eq!(parse_time_spec("-5q"), None);
        assert_eq!(parse_time_spec("13/45/2023:00:00:00"), None);
    }
}
