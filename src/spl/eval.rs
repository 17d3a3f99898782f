//! Evaluation of `eval` and `where` expressions over result rows.
//!
//! [`compile`] turns an [`Expr`] into a [`Node`] once per query: it checks
//! every function name and arity and compiles regular expressions and `like`
//! patterns, so evaluating a row never parses anything. Values follow Splunk:
//! field values are text, and text that reads as a number acts as a number.

use std::cmp::Ordering;
use std::net::IpAddr;

use regex::Regex;

use super::ast::{BinaryOp, Expr};
use super::SplError;
use crate::event::{Row, Value};

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Multi(Vec<String>),
}

impl Val {
    pub fn from_value(value: &Value) -> Val {
        match value {
            Value::Single(s) => Val::Str(s.clone()),
            Value::Multi(values) if values.len() == 1 => Val::Str(values[0].clone()),
            Value::Multi(values) => Val::Multi(values.clone()),
        }
    }

    /// Returns the value as a number when it is one or reads as one.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Str(s) => parse_number(s),
            Val::Multi(values) => values.first().and_then(|s| parse_number(s)),
            Val::Null | Val::Bool(_) => None,
        }
    }

    /// Returns the value as text; a multivalue gives its first value.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Bool(b) => Some(b.to_string()),
            Val::Num(n) => Some(format_number(*n)),
            Val::Str(s) => Some(s.clone()),
            Val::Multi(values) => values.first().cloned(),
        }
    }

    /// Returns every value as text: none for null, each value of a multivalue.
    pub fn texts(&self) -> Vec<String> {
        match self {
            Val::Multi(values) => values.clone(),
            other => other.as_text().into_iter().collect(),
        }
    }

    pub fn is_true(&self) -> bool {
        matches!(self, Val::Bool(true))
    }
}

/// Parses text as a number the way Splunk reads numeric field values.
pub fn parse_number(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    let first = trimmed.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    trimmed.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Formats a number without a fractional part when it is whole.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Compares two texts: numerically when both read as numbers, else by bytes.
pub fn compare_text(a: &str, b: &str) -> Ordering {
    match (parse_number(a), parse_number(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// A built-in function without special compile-time handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Abs,
    Case,
    Ceiling,
    CidrMatch,
    Coalesce,
    False,
    Floor,
    If,
    In,
    IsNotNull,
    IsNull,
    IsNum,
    IsStr,
    Len,
    Lower,
    Ltrim,
    MvAppend,
    MvCount,
    MvDedup,
    MvIndex,
    MvJoin,
    MvSort,
    Now,
    Null,
    Pow,
    RelativeTime,
    Round,
    Rtrim,
    Split,
    Sqrt,
    Strftime,
    Strptime,
    Substr,
    Time,
    ToNumber,
    ToString,
    Trim,
    True,
    Upper,
}

/// Function names with their argument counts (minimum, maximum).
const FUNCTIONS: &[(&str, Option<Func>, usize, usize)] = &[
    ("abs", Some(Func::Abs), 1, 1),
    ("case", Some(Func::Case), 2, usize::MAX),
    ("ceil", Some(Func::Ceiling), 1, 1),
    ("ceiling", Some(Func::Ceiling), 1, 1),
    ("cidrmatch", Some(Func::CidrMatch), 2, 2),
    ("coalesce", Some(Func::Coalesce), 1, usize::MAX),
    ("false", Some(Func::False), 0, 0),
    ("floor", Some(Func::Floor), 1, 1),
    ("if", Some(Func::If), 3, 3),
    ("in", Some(Func::In), 2, usize::MAX),
    ("isnotnull", Some(Func::IsNotNull), 1, 1),
    ("isnull", Some(Func::IsNull), 1, 1),
    ("isnum", Some(Func::IsNum), 1, 1),
    ("isstr", Some(Func::IsStr), 1, 1),
    ("len", Some(Func::Len), 1, 1),
    ("like", None, 2, 2),
    ("lower", Some(Func::Lower), 1, 1),
    ("ltrim", Some(Func::Ltrim), 1, 2),
    ("match", None, 2, 2),
    ("mvappend", Some(Func::MvAppend), 1, usize::MAX),
    ("mvcount", Some(Func::MvCount), 1, 1),
    ("mvdedup", Some(Func::MvDedup), 1, 1),
    ("mvfind", None, 2, 2),
    ("mvindex", Some(Func::MvIndex), 2, 3),
    ("mvjoin", Some(Func::MvJoin), 2, 2),
    ("mvsort", Some(Func::MvSort), 1, 1),
    ("now", Some(Func::Now), 0, 0),
    ("null", Some(Func::Null), 0, 0),
    ("pow", Some(Func::Pow), 2, 2),
    ("relative_time", Some(Func::RelativeTime), 2, 2),
    ("replace", None, 3, 3),
    ("round", Some(Func::Round), 1, 2),
    ("rtrim", Some(Func::Rtrim), 1, 2),
    ("split", Some(Func::Split), 2, 2),
    ("sqrt", Some(Func::Sqrt), 1, 1),
    ("strftime", Some(Func::Strftime), 2, 2),
    ("strptime", Some(Func::Strptime), 2, 2),
    ("substr", Some(Func::Substr), 2, 3),
    ("time", Some(Func::Time), 0, 0),
    ("tonumber", Some(Func::ToNumber), 1, 2),
    ("tostring", Some(Func::ToString), 1, 2),
    ("trim", Some(Func::Trim), 1, 2),
    ("true", Some(Func::True), 0, 0),
    ("upper", Some(Func::Upper), 1, 1),
];

/// Names of the functions `eval` and `where` support.
pub fn function_names() -> Vec<&'static str> {
    FUNCTIONS.iter().map(|(name, ..)| *name).collect()
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum Node {
    Lit(Val),
    Field(String),
    Neg(Box<Node>),
    Not(Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    /// `like(x, pattern)` or `x LIKE pattern`, as an anchored regex.
    Like(Box<Node>, Regex),
    Match(Box<Node>, Regex),
    /// `match(x, pattern)` with a pattern computed per row; an invalid
    /// pattern gives null.
    MatchDynamic(Box<Node>, Box<Node>),
    /// `mvfind(mv, regex)`: the index of the first value that matches.
    MvFind(Box<Node>, Regex),
    Replace(Box<Node>, Regex, String),
    Call(Func, Vec<Node>),
}

/// Compiles an expression; fails on unknown functions, wrong argument
/// counts, and patterns that are not string literals.
pub fn compile(expr: &Expr) -> Result<Node, SplError> {
    Ok(match expr {
        Expr::Str(s) => Node::Lit(Val::Str(s.clone())),
        Expr::Num(n) => Node::Lit(Val::Num(*n)),
        Expr::Field(name) => Node::Field(name.clone()),
        Expr::Neg(inner) => Node::Neg(Box::new(compile(inner)?)),
        Expr::Not(inner) => Node::Not(Box::new(compile(inner)?)),
        Expr::Binary {
            op: BinaryOp::Like,
            left,
            right,
        } => {
            let pattern = literal_pattern("LIKE", right, 0)?;
            Node::Like(Box::new(compile(left)?), like_regex(&pattern, 0)?)
        }
        Expr::Binary { op, left, right } => {
            Node::Binary(*op, Box::new(compile(left)?), Box::new(compile(right)?))
        }
        Expr::Call {
            name,
            args,
            position,
        } => compile_call(name, args, *position)?,
    })
}

fn compile_call(name: &str, args: &[Expr], position: usize) -> Result<Node, SplError> {
    let lower = name.to_ascii_lowercase();
    let Some((_, func, min, max)) = FUNCTIONS.iter().find(|(n, ..)| *n == lower) else {
        return Err(SplError::unsupported_function(
            name,
            position,
            &function_names(),
        ));
    };
    if args.len() < *min || args.len() > *max {
        let expected = if min == max {
            min.to_string()
        } else {
            format!("at least {min}")
        };
        let msg = format!("{lower}() takes {expected} arguments, got {}", args.len());
        return Err(SplError::invalid(msg, position));
    }
    if let Some(func) = func {
        let nodes = args.iter().map(compile).collect::<Result<Vec<_>, _>>()?;
        return Ok(Node::Call(*func, nodes));
    }
    let subject = Box::new(compile(&args[0])?);
    if lower == "match" && !matches!(args[1], Expr::Str(_)) {
        return Ok(Node::MatchDynamic(subject, Box::new(compile(&args[1])?)));
    }
    let pattern = literal_pattern(&lower, &args[1], position)?;
    Ok(match lower.as_str() {
        "like" => Node::Like(subject, like_regex(&pattern, position)?),
        "match" => Node::Match(subject, build_regex(&pattern, position)?),
        "mvfind" => Node::MvFind(subject, build_regex(&pattern, position)?),
        _ => {
            let replacement = literal_pattern(&lower, &args[2], position)?;
            Node::Replace(
                subject,
                build_regex(&pattern, position)?,
                backrefs(&replacement),
            )
        }
    })
}

fn literal_pattern(function: &str, expr: &Expr, position: usize) -> Result<String, SplError> {
    match expr {
        Expr::Str(s) => Ok(s.clone()),
        _ => {
            let msg = format!(
                "{function}(): the local engine takes the pattern only as a string literal"
            );
            Err(SplError::invalid(msg, position))
        }
    }
}

/// Compiles a regex, reporting an invalid pattern at `position`.
///
/// Splunk's PCRE reads a `{` that does not start a repetition such as `{2}`
/// or `{1,3}` as a literal brace. The `regex` crate rejects such a brace, so
/// the pattern is rewritten to escape it.
pub fn build_regex(pattern: &str, position: usize) -> Result<Regex, SplError> {
    let pattern = &escape_literal_braces(pattern);
    Regex::new(pattern).map_err(|e| {
        SplError::invalid(
            format!("invalid regular expression '{pattern}': {e}"),
            position,
        )
    })
}

fn escape_literal_braces(pattern: &str) -> String {
    let repetition = |rest: &str| {
        let Some(close) = rest.find('}') else {
            return false;
        };
        let inner = &rest[1..close];
        let (low, high) = inner.split_once(',').unwrap_or((inner, "0"));
        !low.is_empty() && low.bytes().chain(high.bytes()).all(|b| b.is_ascii_digit())
    };
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut chars = pattern.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
                continue;
            }
            '[' => in_class = true,
            ']' => in_class = false,
            '{' if !in_class && !repetition(&pattern[at..]) => {
                out.push_str("\\{");
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Translates a SQL `like` pattern (`%` any text, `_` one character) into an
/// anchored, case-sensitive regex.
fn like_regex(pattern: &str, position: usize) -> Result<Regex, SplError> {
    let mut regex = String::from("(?s)^");
    for c in pattern.chars() {
        match c {
            '%' => regex.push_str(".*"),
            '_' => regex.push('.'),
            other => regex.push_str(&regex::escape(other.encode_utf8(&mut [0; 4]))),
        }
    }
    regex.push('$');
    build_regex(&regex, position)
}

/// Rewrites SPL's `\1` group references into the regex crate's `${1}`.
fn backrefs(replacement: &str) -> String {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str(&format!("${{{d}}}"));
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// The row and clock an expression is evaluated against.
pub struct Scope<'a> {
    pub row: &'a Row,
    /// Microseconds since the epoch.
    pub now: i64,
}

/// Evaluates a compiled expression against one row.
pub fn evaluate(node: &Node, scope: &Scope) -> Val {
    match node {
        Node::Lit(v) => v.clone(),
        Node::Field(name) => scope.row.get(name).map_or(Val::Null, Val::from_value),
        Node::Neg(inner) => evaluate(inner, scope)
            .as_num()
            .map_or(Val::Null, |n| Val::Num(-n)),
        Node::Not(inner) => Val::Bool(!evaluate(inner, scope).is_true()),
        Node::Binary(op, left, right) => binary(*op, left, right, scope),
        Node::Like(subject, regex) | Node::Match(subject, regex) => {
            let value = evaluate(subject, scope);
            if value == Val::Null {
                return Val::Null;
            }
            Val::Bool(value.texts().iter().any(|t| regex.is_match(t)))
        }
        Node::MatchDynamic(subject, pattern) => {
            let value = evaluate(subject, scope);
            let regex = evaluate(pattern, scope)
                .as_text()
                .and_then(|p| Regex::new(&p).ok());
            match (value, regex) {
                (Val::Null, _) | (_, None) => Val::Null,
                (value, Some(regex)) => Val::Bool(value.texts().iter().any(|t| regex.is_match(t))),
            }
        }
        Node::MvFind(subject, regex) => {
            let index = evaluate(subject, scope)
                .texts()
                .iter()
                .position(|t| regex.is_match(t));
            index.map_or(Val::Null, |i| Val::Num(i as f64))
        }
        Node::Replace(subject, regex, replacement) => match evaluate(subject, scope).as_text() {
            Some(text) => Val::Str(regex.replace_all(&text, replacement.as_str()).into_owned()),
            None => Val::Null,
        },
        Node::Call(func, args) => super::eval_functions::call(*func, args, scope),
    }
}

fn binary(op: BinaryOp, left: &Node, right: &Node, scope: &Scope) -> Val {
    match op {
        BinaryOp::And => {
            Val::Bool(evaluate(left, scope).is_true() && evaluate(right, scope).is_true())
        }
        BinaryOp::Or => {
            Val::Bool(evaluate(left, scope).is_true() || evaluate(right, scope).is_true())
        }
        BinaryOp::Xor => {
            Val::Bool(evaluate(left, scope).is_true() != evaluate(right, scope).is_true())
        }
        _ => {
            let l = evaluate(left, scope);
            let r = evaluate(right, scope);
            if l == Val::Null || r == Val::Null {
                return Val::Null;
            }
            match op {
                BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge => compare(op, &l, &r),
                BinaryOp::Concat => {
                    Val::Str(l.as_text().unwrap_or_default() + &r.as_text().unwrap_or_default())
                }
                _ => arithmetic(op, &l, &r),
            }
        }
    }
}

/// Compares two values; a multivalue side matches when any of its values does.
fn compare(op: BinaryOp, left: &Val, right: &Val) -> Val {
    let holds = |ordering: Ordering| match op {
        BinaryOp::Eq => ordering == Ordering::Equal,
        BinaryOp::Ne => ordering != Ordering::Equal,
        BinaryOp::Lt => ordering == Ordering::Less,
        BinaryOp::Le => ordering != Ordering::Greater,
        BinaryOp::Gt => ordering == Ordering::Greater,
        _ => ordering != Ordering::Less,
    };
    let (lefts, rights) = (left.texts(), right.texts());
    let any = lefts
        .iter()
        .any(|l| rights.iter().any(|r| holds(compare_text(l, r))));
    Val::Bool(any)
}

fn arithmetic(op: BinaryOp, left: &Val, right: &Val) -> Val {
    let (Some(a), Some(b)) = (left.as_num(), right.as_num()) else {
        // `+` joins two texts when either is not a number.
        if op == BinaryOp::Add {
            if let (Some(a), Some(b)) = (left.as_text(), right.as_text()) {
                return Val::Str(a + &b);
            }
        }
        return Val::Null;
    };
    let result = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if b != 0.0 => a / b,
        BinaryOp::Mod if b != 0.0 => a % b,
        _ => return Val::Null,
    };
    Val::Num(result)
}

/// Parses an IPv4 or IPv6 CIDR block and tests whether `ip` is inside it.
pub fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let (net, bits) = match cidr.trim().split_once('/') {
        Some((net, bits)) => (net, bits.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    match (net.parse::<IpAddr>(), ip.trim().parse::<IpAddr>()) {
        (Ok(IpAddr::V4(net)), Ok(IpAddr::V4(ip))) => {
            let bits = bits.unwrap_or(32);
            bits <= 32 && masked(u32::from(net).into(), u32::from(ip).into(), bits, 32)
        }
        (Ok(IpAddr::V6(net)), Ok(IpAddr::V6(ip))) => {
            let bits = bits.unwrap_or(128);
            bits <= 128 && masked(u128::from(net), u128::from(ip), bits, 128)
        }
        _ => false,
    }
}

fn masked(net: u128, ip: u128, bits: u32, width: u32) -> bool {
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (net >> shift) == (ip >> shift)
}
