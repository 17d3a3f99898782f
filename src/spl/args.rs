//! Argument parsers for the transforming commands the local engine runs:
//! `stats`, `table`, `fields`, `sort`, `head`, `tail`, `dedup`, `rex`,
//! `rename`, `fillnull`, `top` and `rare`.

use super::ast::{Aggregation, CommandKind, Dedup, Rex, Sort, SortKey, SortOrder, Stats, Top};
use super::token::{CompareOp, Token, TokenKind};
use super::SplError;

/// Splunk's `sort` keeps this many rows unless a limit is given; `sort 0` keeps all.
const SORT_DEFAULT_LIMIT: usize = 10_000;

pub fn is_name(token: &Token) -> bool {
    matches!(
        token.kind,
        TokenKind::Word | TokenKind::Str | TokenKind::SingleQuoted
    )
}

pub fn unexpected(command: &str, token: &Token) -> SplError {
    SplError::invalid(
        format!("unexpected '{}' in {command}", token.text),
        token.start,
    )
}

/// Reads `name=value` at `tokens[at..]`, returning the name and value.
pub fn option_at(tokens: &[Token], at: usize) -> Option<(&str, &Token)> {
    match (tokens.get(at), tokens.get(at + 1), tokens.get(at + 2)) {
        (Some(name), Some(op), Some(value))
            if name.kind == TokenKind::Word
                && op.kind == TokenKind::Op(CompareOp::Eq)
                && is_name(value) =>
        {
            Some((name.text.as_str(), value))
        }
        _ => None,
    }
}

pub fn parse_count(command: &str, token: &Token) -> Result<usize, SplError> {
    token.text.parse().map_err(|_| {
        let msg = format!(
            "invalid count '{}' for {command}; use a whole number",
            token.text
        );
        SplError::invalid(msg, token.start)
    })
}

/// Parses a list of field names separated by spaces or commas.
pub fn field_list(tokens: &[Token]) -> Result<Vec<String>, SplError> {
    let mut fields = Vec::new();
    for token in tokens {
        match token.kind {
            TokenKind::Comma => {}
            _ if is_name(token) => fields.push(token.text.clone()),
            _ => return Err(unexpected("the field list", token)),
        }
    }
    Ok(fields)
}

/// Parses `fields [+|-] f1, f2`.
pub fn fields(tokens: &[Token]) -> Result<CommandKind, SplError> {
    let (remove, rest) = match tokens.first() {
        Some(t) if t.kind == TokenKind::Word && t.text == "-" => (true, &tokens[1..]),
        Some(t) if t.kind == TokenKind::Word && t.text == "+" => (false, &tokens[1..]),
        _ => (false, tokens),
    };
    let fields = field_list(rest)?;
    if fields.is_empty() {
        return Err(SplError::invalid("fields needs at least one field name", 0));
    }
    Ok(CommandKind::Fields { remove, fields })
}

/// Parses `stats agg [as name] ... [by f1, f2]`.
pub fn stats(tokens: &[Token]) -> Result<Stats, SplError> {
    let mut aggregations = Vec::new();
    let mut at = 0;
    while let Some(token) = tokens.get(at) {
        if token.kind == TokenKind::Comma {
            at += 1;
            continue;
        }
        if token.is_word_ci("by") {
            let by = field_list(&tokens[at + 1..])?;
            if by.is_empty() {
                return Err(SplError::invalid(
                    "stats 'by' needs at least one field",
                    token.start,
                ));
            }
            return finish_stats(aggregations, by, token.start);
        }
        let (mut aggregation, next) = aggregation_at(tokens, at)?;
        at = next;
        let rename = tokens.get(at).is_some_and(|t| t.is_word_ci("as"));
        if rename {
            match tokens.get(at + 1) {
                Some(name) if is_name(name) => aggregation.output = name.text.clone(),
                _ => {
                    return Err(SplError::invalid(
                        "missing name after 'as'",
                        tokens[at].start,
                    ))
                }
            }
            at += 2;
        }
        aggregations.push(aggregation);
    }
    finish_stats(aggregations, Vec::new(), tokens.last().map_or(0, |t| t.end))
}

fn finish_stats(aggs: Vec<Aggregation>, by: Vec<String>, pos: usize) -> Result<Stats, SplError> {
    if aggs.is_empty() {
        return Err(SplError::invalid(
            "stats needs at least one function such as count",
            pos,
        ));
    }
    Ok(Stats {
        aggregations: aggs,
        by,
    })
}

/// Reads `name` or `name(field)` at `tokens[at]`; returns the next index.
fn aggregation_at(tokens: &[Token], at: usize) -> Result<(Aggregation, usize), SplError> {
    let token = &tokens[at];
    if token.kind != TokenKind::Word {
        return Err(unexpected("stats", token));
    }
    let function = token.text.to_ascii_lowercase();
    let position = token.start;
    let has_call = tokens
        .get(at + 1)
        .is_some_and(|t| t.kind == TokenKind::LParen);
    if !has_call {
        let output = token.text.clone();
        return Ok((
            Aggregation {
                function,
                field: None,
                output,
                position,
            },
            at + 1,
        ));
    }
    match (tokens.get(at + 2), tokens.get(at + 3)) {
        (Some(field), Some(close)) if is_name(field) && close.kind == TokenKind::RParen => {
            let output = format!("{}({})", token.text, field.text);
            let field = Some(field.text.clone());
            Ok((
                Aggregation {
                    function,
                    field,
                    output,
                    position,
                },
                at + 4,
            ))
        }
        _ => {
            let msg = format!(
                "{}(...) takes one field name in the local engine; \
                 expressions such as eval(...) are not supported",
                token.text
            );
            Err(SplError::invalid(msg, position))
        }
    }
}

/// Parses `sort [N] [limit=N] [+|-]field, num(f), str(f) [desc]`.
pub fn sort(tokens: &[Token]) -> Result<Sort, SplError> {
    let mut limit = Some(SORT_DEFAULT_LIMIT);
    let mut keys = Vec::new();
    let mut at = 0;
    let mut pending_descending = None;
    if let Some(first) = tokens
        .first()
        .filter(|t| t.text.bytes().all(|b| b.is_ascii_digit()))
    {
        let count = parse_count("sort", first)?;
        limit = (count > 0).then_some(count);
        at = 1;
    }
    while let Some(token) = tokens.get(at) {
        if let Some(("limit", value)) = option_at(tokens, at) {
            let count = parse_count("sort", value)?;
            limit = (count > 0).then_some(count);
            at += 3;
            continue;
        }
        at += 1;
        match token.kind {
            TokenKind::Comma => continue,
            TokenKind::Word if token.text == "-" || token.text == "+" => {
                pending_descending = Some(token.text == "-");
                continue;
            }
            TokenKind::Word
                if at == tokens.len() && matches!(token.text.as_str(), "d" | "desc") =>
            {
                keys.iter_mut()
                    .for_each(|k: &mut SortKey| k.descending = !k.descending);
                continue;
            }
            _ if !is_name(token) => return Err(unexpected("sort", token)),
            _ => {}
        }
        let (key, next) = sort_key(tokens, at - 1, pending_descending.take())?;
        keys.push(key);
        at = next;
    }
    if keys.is_empty() {
        return Err(SplError::invalid("sort needs at least one field", 0));
    }
    Ok(Sort { limit, keys })
}

fn sort_key(tokens: &[Token], at: usize, sign: Option<bool>) -> Result<(SortKey, usize), SplError> {
    let token = &tokens[at];
    let mut text = token.text.as_str();
    let mut descending = sign.unwrap_or(false);
    if token.kind == TokenKind::Word {
        if let Some(rest) = text.strip_prefix('-') {
            descending = true;
            text = rest;
        } else if let Some(rest) = text.strip_prefix('+') {
            text = rest;
        }
    }
    let order = match text {
        "num" => Some(SortOrder::Numeric),
        "str" => Some(SortOrder::Lexicographic),
        "auto" | "ip" => Some(SortOrder::Auto),
        _ => None,
    };
    let wrapped = tokens
        .get(at + 1)
        .is_some_and(|t| t.kind == TokenKind::LParen);
    if let (Some(order), true) = (order, wrapped) {
        return match (tokens.get(at + 2), tokens.get(at + 3)) {
            (Some(field), Some(close)) if is_name(field) && close.kind == TokenKind::RParen => {
                let key = SortKey {
                    field: field.text.clone(),
                    descending,
                    order,
                };
                Ok((key, at + 4))
            }
            _ => Err(SplError::invalid(
                format!("expected {text}(field) in sort"),
                token.start,
            )),
        };
    }
    let key = SortKey {
        field: text.to_string(),
        descending,
        order: SortOrder::Auto,
    };
    Ok((key, at + 1))
}

/// Parses the row count of `head` and `tail`: `N`, `limit=N` or nothing (10).
pub fn row_count(command: &str, tokens: &[Token]) -> Result<usize, SplError> {
    match tokens {
        [] => Ok(10),
        [count] if count.kind == TokenKind::Word => parse_count(command, count),
        _ => match option_at(tokens, 0) {
            Some(("limit", value)) if tokens.len() == 3 => parse_count(command, value),
            _ => {
                let msg = format!("{command} takes a row count such as '{command} 10'");
                Err(SplError::invalid(msg, tokens[0].start))
            }
        },
    }
}

/// Parses `dedup [N] fields [keepempty=true]`.
pub fn dedup(tokens: &[Token]) -> Result<Dedup, SplError> {
    let mut count = 1;
    let mut keep_empty = false;
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(token) = tokens.get(at) {
        if let Some((name, value)) = option_at(tokens, at) {
            if name != "keepempty" {
                let msg = format!("dedup option '{name}' is not supported; use keepempty");
                return Err(SplError::invalid(msg, token.start));
            }
            keep_empty = value.text.eq_ignore_ascii_case("true");
            at += 3;
            continue;
        }
        let leading_count = at == 0 && token.text.bytes().all(|b| b.is_ascii_digit());
        if leading_count {
            count = parse_count("dedup", token)?.max(1);
        } else if token.kind != TokenKind::Comma {
            if !is_name(token) {
                return Err(unexpected("dedup", token));
            }
            names.push(token.text.clone());
        }
        at += 1;
    }
    if names.is_empty() {
        return Err(SplError::invalid("dedup needs at least one field", 0));
    }
    Ok(Dedup {
        count,
        fields: names,
        keep_empty,
    })
}

/// Parses `rex [field=F] [max_match=N] "regex"`.
pub fn rex(tokens: &[Token]) -> Result<Rex, SplError> {
    let mut field = "_raw".to_string();
    let mut max_match = 1;
    let mut regex = None;
    let mut at = 0;
    while let Some(token) = tokens.get(at) {
        if let Some((name, value)) = option_at(tokens, at) {
            match name {
                "field" => field = value.text.clone(),
                "max_match" => max_match = parse_count("rex max_match", value)?,
                _ => {
                    let msg =
                        format!("rex option '{name}' is not supported; use field or max_match");
                    return Err(SplError::invalid(msg, token.start));
                }
            }
            at += 3;
            continue;
        }
        if token.kind != TokenKind::Str || regex.is_some() {
            return Err(unexpected("rex", token));
        }
        regex = Some((token.text.clone(), token.start));
        at += 1;
    }
    let Some((regex, position)) = regex else {
        return Err(SplError::invalid(
            "rex needs a regular expression in double quotes",
            0,
        ));
    };
    Ok(Rex {
        field,
        regex,
        max_match,
        position,
    })
}

/// Parses `rename a AS b, c AS d`.
pub fn rename(tokens: &[Token]) -> Result<Vec<(String, String)>, SplError> {
    let mut pairs = Vec::new();
    let mut at = 0;
    while let Some(token) = tokens.get(at) {
        if token.kind == TokenKind::Comma {
            at += 1;
            continue;
        }
        match (tokens.get(at + 1), tokens.get(at + 2)) {
            (Some(as_word), Some(to))
                if is_name(token) && as_word.is_word_ci("as") && is_name(to) =>
            {
                pairs.push((token.text.clone(), to.text.clone()));
                at += 3;
            }
            _ => {
                return Err(SplError::invalid(
                    "expected 'old AS new' in rename",
                    token.start,
                ))
            }
        }
    }
    if pairs.is_empty() {
        return Err(SplError::invalid("rename needs 'old AS new'", 0));
    }
    Ok(pairs)
}

/// Parses `fillnull [value=X] [fields]`.
pub fn fillnull(tokens: &[Token]) -> Result<CommandKind, SplError> {
    let mut value = "0".to_string();
    let mut rest = tokens;
    if let Some(("value", given)) = option_at(tokens, 0) {
        value = given.text.clone();
        rest = &tokens[3..];
    }
    Ok(CommandKind::Fillnull {
        value,
        fields: field_list(rest)?,
    })
}

/// Parses `top|rare [N] [limit=N] fields [by fields]`.
pub fn top(rare: bool, tokens: &[Token]) -> Result<Top, SplError> {
    let command = if rare { "rare" } else { "top" };
    let mut limit = 10;
    let mut at = 0;
    if let Some(first) = tokens
        .first()
        .filter(|t| t.text.bytes().all(|b| b.is_ascii_digit()))
    {
        limit = parse_count(command, first)?;
        at = 1;
    }
    if let Some(("limit", value)) = option_at(tokens, at) {
        limit = parse_count(command, value)?;
        at += 3;
    }
    let rest = &tokens[at..];
    let by_at = rest
        .iter()
        .position(|t| t.is_word_ci("by"))
        .unwrap_or(rest.len());
    let fields = field_list(&rest[..by_at])?;
    let by = if by_at < rest.len() {
        field_list(&rest[by_at + 1..])?
    } else {
        Vec::new()
    };
    if fields.is_empty() {
        return Err(SplError::invalid(
            format!("{command} needs at least one field"),
            0,
        ));
    }
    Ok(Top {
        rare,
        limit,
        fields,
        by,
    })
}
