//! The built-in functions of `eval` and `where`, evaluated per row.

use super::eval::{
    cidr_contains, compare_text, evaluate, format_number, parse_number, Func, Node, Scope, Val,
};
use super::eval_time;

/// Calls a built-in function; `if`, `case` and `coalesce` evaluate only the
/// arguments they need.
pub fn call(func: Func, args: &[Node], scope: &Scope) -> Val {
    let arg = |i: usize| args.get(i).map_or(Val::Null, |node| evaluate(node, scope));
    match func {
        Func::If => {
            if arg(0).is_true() {
                arg(1)
            } else {
                arg(2)
            }
        }
        Func::Case => {
            for pair in args.chunks(2) {
                if pair.len() == 2 && evaluate(&pair[0], scope).is_true() {
                    return evaluate(&pair[1], scope);
                }
            }
            Val::Null
        }
        Func::Coalesce => args
            .iter()
            .map(|n| evaluate(n, scope))
            .find(|v| *v != Val::Null)
            .unwrap_or(Val::Null),
        Func::In => {
            let subject = arg(0).texts();
            let found = args[1..]
                .iter()
                .flat_map(|n| evaluate(n, scope).texts())
                .any(|candidate| subject.iter().any(|s| compare_text(s, &candidate).is_eq()));
            Val::Bool(found)
        }
        Func::Null => Val::Null,
        Func::True => Val::Bool(true),
        Func::False => Val::Bool(false),
        Func::Now => Val::Num((scope.now / 1_000_000) as f64),
        // NOTE: Splunk's time() is the wall clock when the row is evaluated;
        // here it is the run's clock, with microseconds.
        Func::Time => Val::Num(scope.now as f64 / 1_000_000.0),
        Func::MvAppend => mv_append(args.iter().map(|n| evaluate(n, scope))),
        Func::IsNull => Val::Bool(arg(0) == Val::Null),
        Func::IsNotNull => Val::Bool(arg(0) != Val::Null),
        Func::IsNum => Val::Bool(matches!(arg(0), Val::Num(_)) || is_numeric_text(&arg(0))),
        Func::IsStr => Val::Bool(matches!(arg(0), Val::Str(_)) && !is_numeric_text(&arg(0))),
        _ => call_on_value(
            func,
            arg(0),
            &args[1..]
                .iter()
                .map(|n| evaluate(n, scope))
                .collect::<Vec<_>>(),
        ),
    }
}

fn is_numeric_text(value: &Val) -> bool {
    matches!(value, Val::Str(s) if parse_number(s).is_some())
}

/// Functions of a first value and further already evaluated arguments.
fn call_on_value(func: Func, value: Val, rest: &[Val]) -> Val {
    if value == Val::Null {
        return Val::Null;
    }
    match func {
        Func::Lower => map_texts(&value, |s| s.to_lowercase()),
        Func::Upper => map_texts(&value, |s| s.to_uppercase()),
        Func::Trim => map_texts(&value, |s| trim(s, rest.first(), true, true)),
        Func::Ltrim => map_texts(&value, |s| trim(s, rest.first(), true, false)),
        Func::Rtrim => map_texts(&value, |s| trim(s, rest.first(), false, true)),
        Func::Len => number(value.as_text().map(|s| s.chars().count() as f64)),
        Func::Abs => number(value.as_num().map(f64::abs)),
        Func::Ceiling => number(value.as_num().map(f64::ceil)),
        Func::Floor => number(value.as_num().map(f64::floor)),
        Func::Sqrt => number(value.as_num().filter(|n| *n >= 0.0).map(f64::sqrt)),
        Func::Pow => {
            let exponent = rest.first().and_then(Val::as_num);
            number(value.as_num().zip(exponent).map(|(b, e)| b.powf(e)))
        }
        Func::Strftime => eval_time::strftime(&value, rest.first().unwrap_or(&Val::Null)),
        Func::Strptime => eval_time::strptime(&value, rest.first().unwrap_or(&Val::Null)),
        Func::RelativeTime => eval_time::relative_time(&value, rest.first().unwrap_or(&Val::Null)),
        Func::MvDedup => {
            let mut seen = std::collections::HashSet::new();
            multi(
                value
                    .texts()
                    .into_iter()
                    .filter(|v| seen.insert(v.clone()))
                    .collect(),
            )
        }
        Func::MvSort => {
            let mut values = value.texts();
            values.sort();
            multi(values)
        }
        Func::MvJoin => match rest.first().and_then(Val::as_text) {
            Some(delimiter) => Val::Str(value.texts().join(&delimiter)),
            None => Val::Null,
        },
        Func::Round => round(&value, rest.first()),
        Func::ToNumber => to_number(&value, rest.first()),
        Func::ToString => to_string(&value, rest.first()),
        Func::MvCount => Val::Num(value.texts().len() as f64),
        Func::MvIndex => mv_index(&value, rest),
        Func::Split => split(&value, rest.first()),
        Func::Substr => substr(&value, rest),
        Func::CidrMatch => {
            let cidr = value.as_text().unwrap_or_default();
            let ips = rest.first().map(Val::texts).unwrap_or_default();
            Val::Bool(ips.iter().any(|ip| cidr_contains(&cidr, ip)))
        }
        _ => Val::Null,
    }
}

/// Returns a list as a multivalue, a single value, or null when empty.
fn multi(mut values: Vec<String>) -> Val {
    match values.len() {
        0 => Val::Null,
        1 => Val::Str(values.remove(0)),
        _ => Val::Multi(values),
    }
}

/// `mvappend(a, b, ...)`: every value of every non-null argument, in order.
fn mv_append(args: impl Iterator<Item = Val>) -> Val {
    multi(args.flat_map(|v| v.texts()).collect())
}

/// `tostring(x[, format])` with Splunk's formats `hex`, `commas` and `duration`.
fn to_string(value: &Val, format: Option<&Val>) -> Val {
    let format = format.and_then(Val::as_text);
    let Some(format) = format else {
        return value.as_text().map_or(Val::Null, Val::Str);
    };
    let Some(n) = value.as_num() else {
        return Val::Null;
    };
    match format.as_str() {
        "hex" => Val::Str(format!("0x{:X}", n as i64)),
        "commas" => Val::Str(with_commas(n)),
        "duration" => {
            let secs = n.max(0.0) as i64;
            let (days, rest) = (secs / 86_400, secs % 86_400);
            let clock = format!(
                "{:02}:{:02}:{:02}",
                rest / 3_600,
                rest % 3_600 / 60,
                rest % 60
            );
            Val::Str(if days > 0 {
                format!("{days}+{clock}")
            } else {
                clock
            })
        }
        _ => Val::Null,
    }
}

/// Formats a number with thousands separators, rounded to two decimals when
/// it has a fraction, as `tostring(x, "commas")` does.
fn with_commas(n: f64) -> String {
    let text = if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.2}")
    };
    let (sign, text) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |t| ("-", t));
    let (whole, fraction) = text
        .split_once('.')
        .map_or((text, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn number(n: Option<f64>) -> Val {
    n.map_or(Val::Null, Val::Num)
}

fn map_texts(value: &Val, f: impl Fn(&str) -> String) -> Val {
    match value {
        Val::Multi(values) => Val::Multi(values.iter().map(|s| f(s)).collect()),
        other => other.as_text().map_or(Val::Null, |s| Val::Str(f(&s))),
    }
}

fn trim(text: &str, chars: Option<&Val>, left: bool, right: bool) -> String {
    let set: Vec<char> = match chars.and_then(Val::as_text) {
        Some(chars) => chars.chars().collect(),
        None => vec![' ', '\t'],
    };
    let mut out = text;
    if left {
        out = out.trim_start_matches(set.as_slice());
    }
    if right {
        out = out.trim_end_matches(set.as_slice());
    }
    out.to_string()
}

fn round(value: &Val, digits: Option<&Val>) -> Val {
    let Some(n) = value.as_num() else {
        return Val::Null;
    };
    let digits = digits.and_then(Val::as_num).unwrap_or(0.0).clamp(0.0, 15.0) as i32;
    let scale = 10f64.powi(digits);
    Val::Num((n * scale).round() / scale)
}

fn to_number(value: &Val, base: Option<&Val>) -> Val {
    let Some(text) = value.as_text() else {
        return Val::Null;
    };
    let text = text.trim();
    match base.and_then(Val::as_num) {
        None => number(parse_number(text)),
        Some(base) if (2.0..=36.0).contains(&base) => {
            let digits = if base == 16.0 {
                text.trim_start_matches("0x")
            } else {
                text
            };
            number(
                i64::from_str_radix(digits, base as u32)
                    .ok()
                    .map(|n| n as f64),
            )
        }
        Some(_) => Val::Null,
    }
}

fn mv_index(value: &Val, rest: &[Val]) -> Val {
    let values = value.texts();
    let len = values.len() as i64;
    let resolve = |v: &Val| {
        v.as_num()
            .map(|n| if n < 0.0 { len + n as i64 } else { n as i64 })
    };
    let Some(start) = rest.first().and_then(resolve) else {
        return Val::Null;
    };
    let end = rest.get(1).and_then(resolve).unwrap_or(start);
    if start < 0 || start >= len || end < start {
        return Val::Null;
    }
    let picked: Vec<String> = values[start as usize..=(end.min(len - 1) as usize)].to_vec();
    if picked.len() == 1 {
        return Val::Str(picked[0].clone());
    }
    Val::Multi(picked)
}

fn split(value: &Val, delimiter: Option<&Val>) -> Val {
    let (Some(text), Some(delimiter)) = (value.as_text(), delimiter.and_then(Val::as_text)) else {
        return Val::Null;
    };
    if delimiter.is_empty() {
        return Val::Multi(text.chars().map(String::from).collect());
    }
    Val::Multi(text.split(delimiter.as_str()).map(String::from).collect())
}

/// `substr(text, start[, length])` with a 1-based start; a negative start
/// counts from the end.
fn substr(value: &Val, rest: &[Val]) -> Val {
    let Some(text) = value.as_text() else {
        return Val::Null;
    };
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len() as i64;
    let Some(start) = rest.first().and_then(Val::as_num).map(|n| n as i64) else {
        return Val::Null;
    };
    let from = if start < 0 {
        (len + start).max(0)
    } else {
        (start - 1).max(0)
    };
    let count = rest
        .get(1)
        .and_then(Val::as_num)
        .map_or(len, |n| n.max(0.0) as i64);
    let to = (from + count).min(len);
    if from >= to {
        return Val::Str(String::new());
    }
    Val::Str(chars[from as usize..to as usize].iter().collect())
}

/// Formats a value for output the way `eval` stores it.
pub fn to_field_text(value: &Val) -> Option<String> {
    match value {
        Val::Num(n) => Some(format_number(*n)),
        other => other.as_text(),
    }
}
