//! Parser from tokens to a [`Pipeline`].
//!
//! The parser first splits the query into commands at top-level pipes and
//! parses every bracketed subsearch recursively, which works for any command.
//! Then it gives the commands the local engine evaluates their typed form;
//! when those arguments do not fit, the command becomes
//! [`CommandKind::Invalid`] instead of failing the whole parse, so callers that
//! only walk commands still see the query.

use super::args;
use super::args_time;
use super::ast::{Command, CommandKind, MacroCall, Pipeline, SearchExpr, TermDirective, TimeBound};
use super::expr;
use super::lookup;
use super::time::parse_time_spec;
use super::token::{tokenize, CompareOp, Token, TokenKind};
use super::{SplError, SplErrorKind};

/// Subsearches nested deeper than this are rejected, bounding recursion.
const MAX_DEPTH: usize = 32;

/// Parses a whole query.
pub fn parse_query(query: &str) -> Result<Pipeline, SplError> {
    let tokens = tokenize(query)?;
    parse_pipeline(query, 0, query.len(), tokens, 0)
}

fn parse_pipeline(
    query: &str,
    start: usize,
    end: usize,
    tokens: Vec<Token>,
    depth: usize,
) -> Result<Pipeline, SplError> {
    if depth > MAX_DEPTH {
        let msg = format!("subsearches nest deeper than {MAX_DEPTH} levels");
        return Err(SplError::syntax(msg, start));
    }
    let (comments, tokens): (Vec<Token>, Vec<Token>) = tokens
        .into_iter()
        .partition(|t| t.kind == TokenKind::Comment);
    let Some(first) = tokens.first() else {
        let msg = "empty search; write search terms, or a command after '|'";
        return Err(SplError::syntax(msg, start));
    };
    let leading_pipe = first.kind == TokenKind::Pipe;
    let mut commands = Vec::new();
    for (index, (pipe_pos, segment)) in split_pipes(tokens, start)?.into_iter().enumerate() {
        let implicit_allowed = index == 0 && !leading_pipe;
        commands.push(parse_command(
            query,
            pipe_pos,
            segment,
            implicit_allowed,
            depth,
        )?);
    }
    let source = query[start..end].to_string();
    Ok(Pipeline {
        source,
        offset: start,
        commands,
        comments,
    })
}

/// Splits tokens at pipes outside brackets; each segment comes with the
/// position of the pipe before it (or of the pipeline start).
fn split_pipes(tokens: Vec<Token>, start: usize) -> Result<Vec<(usize, Vec<Token>)>, SplError> {
    let mut segments = Vec::new();
    let mut current = Vec::new();
    let mut current_pos = start;
    let mut depth = 0usize;
    let leading_pipe = tokens.first().is_some_and(|t| t.kind == TokenKind::Pipe);
    for (i, token) in tokens.into_iter().enumerate() {
        match token.kind {
            TokenKind::LBracket => depth += 1,
            TokenKind::RBracket if depth == 0 => {
                return Err(SplError::syntax(
                    "unexpected ']' without a matching '['",
                    token.start,
                ));
            }
            TokenKind::RBracket => depth -= 1,
            TokenKind::Pipe if depth == 0 => {
                if i > 0 || !leading_pipe {
                    segments.push((current_pos, std::mem::take(&mut current)));
                }
                current_pos = token.start;
                continue;
            }
            _ => {}
        }
        current.push(token);
    }
    segments.push((current_pos, current));
    Ok(segments)
}

fn parse_command(
    query: &str,
    pipe_pos: usize,
    segment: Vec<Token>,
    implicit_allowed: bool,
    depth: usize,
) -> Result<Command, SplError> {
    let (tokens, subsearches) = extract_subsearches(query, segment, depth)?;
    let Some(head) = tokens.first() else {
        return Err(SplError::syntax(
            "empty command after '|'; remove the '|' or add a command",
            pipe_pos,
        ));
    };
    let starts_with_search = head.is_word_ci("search");
    if implicit_allowed && !starts_with_search {
        let kind = typed_kind("search", query, &tokens, head.start);
        let position = head.start;
        let args = tokens;
        return Ok(Command {
            name: "search".into(),
            position,
            implicit: true,
            args,
            subsearches,
            kind,
        });
    }
    let head = head.clone();
    let args = tokens[1..].to_vec();
    let (name, kind) = match head.kind {
        TokenKind::Word => {
            let name = head.text.to_ascii_lowercase();
            let kind = typed_kind(&name, query, &args, head.start);
            (name, kind)
        }
        TokenKind::Macro => {
            let call = parse_macro(&head);
            (call.name.clone(), CommandKind::Macro(call))
        }
        _ => {
            let msg = format!("expected a command name, found '{}'", head.text);
            return Err(SplError::syntax(msg, head.start));
        }
    };
    Ok(Command {
        name,
        position: head.start,
        implicit: false,
        args,
        subsearches,
        kind,
    })
}

/// Replaces each top-level `[ ... ]` group by one subsearch token and parses
/// its content as a pipeline.
fn extract_subsearches(
    query: &str,
    segment: Vec<Token>,
    depth: usize,
) -> Result<(Vec<Token>, Vec<Pipeline>), SplError> {
    let mut tokens = Vec::new();
    let mut subsearches = Vec::new();
    let mut iter = segment.into_iter();
    while let Some(token) = iter.next() {
        if token.kind != TokenKind::LBracket {
            tokens.push(token);
            continue;
        }
        let mut inner = Vec::new();
        let mut level = 1;
        let close = loop {
            let Some(next) = iter.next() else {
                return Err(SplError::syntax(
                    "unclosed '['; add the matching ']'",
                    token.start,
                ));
            };
            match next.kind {
                TokenKind::LBracket => level += 1,
                TokenKind::RBracket => level -= 1,
                _ => {}
            }
            if level == 0 {
                break next;
            }
            inner.push(next);
        };
        let pipeline = parse_pipeline(query, token.end, close.start, inner, depth + 1)?;
        let text = subsearches.len().to_string();
        subsearches.push(pipeline);
        tokens.push(Token {
            kind: TokenKind::Subsearch,
            text,
            start: token.start,
            end: close.end,
        });
    }
    Ok((tokens, subsearches))
}

/// Splits a macro token into its name and comma-separated arguments.
pub fn parse_macro(token: &Token) -> MacroCall {
    let text = token.text.trim();
    let Some((name, rest)) = text.split_once('(') else {
        return MacroCall {
            name: text.to_string(),
            args: Vec::new(),
            position: token.start,
        };
    };
    let body = rest.strip_suffix(')').unwrap_or(rest);
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut depth = 0usize;
    for c in body.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '(' if !in_quotes => depth += 1,
            ')' if !in_quotes => depth = depth.saturating_sub(1),
            ',' if !in_quotes && depth == 0 => {
                args.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() || !args.is_empty() {
        args.push(current.trim().to_string());
    }
    MacroCall {
        name: name.trim().to_string(),
        args,
        position: token.start,
    }
}

/// Gives a command its typed form, or `Other`/`Invalid`; an argument error
/// without a position of its own points at the command name.
fn typed_kind(name: &str, query: &str, args: &[Token], position: usize) -> CommandKind {
    let result = match name {
        "search" => parse_search(args).map(CommandKind::Search),
        "where" => expression_span(name, args)
            .and_then(|(s, e)| expr::parse_expression(query, s, e))
            .map(CommandKind::Where),
        "eval" => expression_span(name, args)
            .and_then(|(s, e)| expr::parse_assignments(query, s, e))
            .map(CommandKind::Eval),
        "stats" => args::stats(args).map(CommandKind::Stats),
        "table" => args::field_list(args).map(CommandKind::Table),
        "fields" => args::fields(args),
        "sort" => args::sort(args).map(CommandKind::Sort),
        "head" => args::row_count(name, args).map(CommandKind::Head),
        "tail" => args::row_count(name, args).map(CommandKind::Tail),
        "dedup" => args::dedup(args).map(CommandKind::Dedup),
        "rex" => args::rex(args).map(CommandKind::Rex),
        "rename" => args::rename(args).map(CommandKind::Rename),
        "fillnull" => args::fillnull(args),
        "top" | "rare" => args::top(name == "rare", args).map(CommandKind::Top),
        "bin" | "bucket" => args_time::bin(name, args).map(CommandKind::Bin),
        "timechart" => args_time::timechart(args).map(CommandKind::Timechart),
        "transaction" => args_time::transaction(args).map(CommandKind::Transaction),
        "lookup" => lookup::parse(args, position).map(CommandKind::Lookup),
        _ => Ok(CommandKind::Other),
    };
    result.unwrap_or_else(|error| CommandKind::Invalid(name_command(error, name, position)))
}

/// Turns an argument error into one that names the command: the query still
/// parses, so a syntax error inside the arguments becomes an invalid argument
/// of that command, and an error without a position points at its name.
fn name_command(mut error: SplError, name: &str, position: usize) -> SplError {
    if error.position == 0 {
        error.position = position;
    }
    error.kind = SplErrorKind::InvalidArgument;
    let named = error
        .message
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == name);
    if !named {
        error.message = format!("{name}: {}", error.message);
    }
    error
}

fn expression_span(name: &str, args: &[Token]) -> Result<(usize, usize), SplError> {
    match (args.first(), args.last()) {
        (Some(first), Some(last)) => Ok((first.start, last.end)),
        _ => Err(SplError::invalid(format!("{name} needs an expression"), 0)),
    }
}

/// Parses search terms; `None` when there are none.
pub fn parse_search(tokens: &[Token]) -> Result<Option<SearchExpr>, SplError> {
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = SearchParser { tokens, at: 0 };
    let expr = parser.conjunction()?;
    if let Some(extra) = parser.peek() {
        let msg = format!("unexpected '{}' in search terms", extra.text);
        return Err(SplError::syntax(msg, extra.start));
    }
    Ok(Some(expr))
}

struct SearchParser<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl<'a> SearchParser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.at)
    }

    fn peek_at(&self, ahead: usize) -> Option<&'a Token> {
        self.tokens.get(self.at + ahead)
    }

    fn end_pos(&self) -> usize {
        self.tokens.last().map_or(0, |t| t.end)
    }

    /// Terms joined by implicit or explicit `AND`, the loosest binding.
    fn conjunction(&mut self) -> Result<SearchExpr, SplError> {
        let mut items = Vec::new();
        while let Some(token) = self.peek() {
            if token.kind == TokenKind::RParen {
                break;
            }
            if token.is_keyword("AND") {
                self.at += 1;
                continue;
            }
            items.push(self.disjunction()?);
        }
        match items.len() {
            0 => Err(SplError::syntax(
                "expected search terms",
                self.peek().map_or(self.end_pos(), |t| t.start),
            )),
            1 => Ok(items.remove(0)),
            _ => Ok(SearchExpr::And(items)),
        }
    }

    /// `OR` binds tighter than `AND` in SPL: `a b OR c` is `a AND (b OR c)`.
    fn disjunction(&mut self) -> Result<SearchExpr, SplError> {
        let mut items = vec![self.negation()?];
        while self.peek().is_some_and(|t| t.is_keyword("OR")) {
            self.at += 1;
            items.push(self.negation()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            SearchExpr::Or(items)
        })
    }

    fn negation(&mut self) -> Result<SearchExpr, SplError> {
        if self.peek().is_some_and(|t| t.is_keyword("NOT")) {
            self.at += 1;
            return Ok(SearchExpr::Not(Box::new(self.negation()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<SearchExpr, SplError> {
        let Some(token) = self.peek() else {
            return Err(SplError::syntax(
                "search terms end too early",
                self.end_pos(),
            ));
        };
        self.at += 1;
        match token.kind {
            TokenKind::LParen => {
                let inner = self.conjunction()?;
                match self.peek() {
                    Some(t) if t.kind == TokenKind::RParen => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err(SplError::syntax("missing ')' in search terms", token.start)),
                }
            }
            TokenKind::Word | TokenKind::Str | TokenKind::SingleQuoted => self.term_or_field(token),
            TokenKind::Macro => Ok(SearchExpr::Macro(parse_macro(token))),
            TokenKind::Subsearch => {
                let index = token.text.parse().unwrap_or(0);
                Ok(SearchExpr::Subsearch {
                    index,
                    position: token.start,
                })
            }
            _ => {
                let msg = format!("unexpected '{}' in search terms", token.text);
                Err(SplError::syntax(msg, token.start))
            }
        }
    }

    fn term_or_field(&mut self, token: &'a Token) -> Result<SearchExpr, SplError> {
        let next = self.peek();
        if let Some(Token {
            kind: TokenKind::Op(op),
            ..
        }) = next
        {
            self.at += 1;
            return self.comparison(token, *op);
        }
        let is_in = next.is_some_and(|t| t.is_word_ci("IN"))
            && self.peek_at(1).is_some_and(|t| t.kind == TokenKind::LParen);
        if is_in && token.kind == TokenKind::Word {
            self.at += 2;
            return self.in_list(token);
        }
        let glued_paren = next.is_some_and(|t| t.kind == TokenKind::LParen && t.start == token.end);
        if glued_paren && token.kind == TokenKind::Word {
            return self.directive(token);
        }
        let quoted = token.kind != TokenKind::Word;
        Ok(SearchExpr::Term {
            text: token.text.clone(),
            quoted,
            position: token.start,
        })
    }

    fn comparison(&mut self, field: &'a Token, op: CompareOp) -> Result<SearchExpr, SplError> {
        let value = match self.peek() {
            Some(t)
                if matches!(
                    t.kind,
                    TokenKind::Word | TokenKind::Str | TokenKind::SingleQuoted
                ) =>
            {
                t
            }
            _ => {
                let msg = format!("missing value after '{}{}'", field.text, op.as_str());
                return Err(SplError::syntax(msg, field.start));
            }
        };
        self.at += 1;
        let position = field.start;
        let bound = match field.text.as_str() {
            "earliest" => Some(TimeBound::Earliest),
            "latest" => Some(TimeBound::Latest),
            _ => None,
        };
        if let (Some(bound), CompareOp::Eq) = (bound, op) {
            let Some(spec) = parse_time_spec(&value.text) else {
                let msg = format!(
                    "invalid time '{}' for {}; use epoch seconds, a relative time such as -24h, \
                     or %m/%d/%Y:%H:%M:%S",
                    value.text, field.text
                );
                return Err(SplError::invalid(msg, value.start));
            };
            return Ok(SearchExpr::Time {
                bound,
                spec,
                position,
            });
        }
        let field = field.text.clone();
        Ok(SearchExpr::Compare {
            field,
            op,
            value: value.text.clone(),
            position,
        })
    }

    /// Reads `TERM(x)` or `CASE(x)` after its name; the tokens inside the
    /// brackets are joined back into one term.
    fn directive(&mut self, name: &'a Token) -> Result<SearchExpr, SplError> {
        let directive = match name.text.to_ascii_uppercase().as_str() {
            "TERM" => TermDirective::Term,
            "CASE" => TermDirective::Case,
            _ => {
                let msg = format!(
                    "search directive '{}(...)' is not supported; use TERM(...) or CASE(...)",
                    name.text
                );
                return Err(SplError::invalid(msg, name.start));
            }
        };
        self.at += 1;
        let mut text = String::new();
        loop {
            let Some(token) = self.peek() else {
                let msg = format!("missing ')' after {}(", name.text);
                return Err(SplError::syntax(msg, name.start));
            };
            self.at += 1;
            match token.kind {
                TokenKind::RParen => break,
                TokenKind::LParen | TokenKind::Subsearch | TokenKind::Pipe => {
                    let msg = format!("unexpected '{}' in {}(...)", token.text, name.text);
                    return Err(SplError::syntax(msg, token.start));
                }
                _ => text.push_str(&token.text),
            }
        }
        if text.is_empty() {
            let msg = format!("{}() needs a term inside the brackets", name.text);
            return Err(SplError::invalid(msg, name.start));
        }
        Ok(SearchExpr::Directive {
            directive,
            text,
            position: name.start,
        })
    }

    fn in_list(&mut self, field: &'a Token) -> Result<SearchExpr, SplError> {
        let mut values = Vec::new();
        loop {
            let Some(token) = self.peek() else {
                return Err(SplError::syntax(
                    "missing ')' after the IN list",
                    field.start,
                ));
            };
            self.at += 1;
            match token.kind {
                TokenKind::RParen => break,
                TokenKind::Comma => {}
                TokenKind::Word | TokenKind::Str | TokenKind::SingleQuoted => {
                    values.push(token.text.clone());
                }
                _ => {
                    let msg = format!("unexpected '{}' in the IN list", token.text);
                    return Err(SplError::syntax(msg, token.start));
                }
            }
        }
        Ok(SearchExpr::In {
            field: field.text.clone(),
            values,
            position: field.start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spl::ast::TimeSpec;

    fn kinds(query: &str) -> Vec<String> {
        let pipeline = parse_query(query).unwrap();
        pipeline.commands.iter().map(|c| c.name.clone()).collect()
    }

    #[test]
    fn parse_implicit_and_explicit_search() {
        let implicit = parse_query("index=main fail*").unwrap();
        assert!(implicit.commands[0].implicit);
        assert_eq!(implicit.commands[0].name, "search");
        let explicit = parse_query("search index=main").unwrap();
        assert!(!explicit.commands[0].implicit);
        assert_eq!(explicit.commands[0].args.len(), 3);
    }

    #[test]
    fn parse_tstats_generic() {
        let query = "| tstats count from datamodel=Endpoint.Processes where Processes.user=x \
                     by Processes.dest | `drop_dm_object_name(Processes)`";
        let pipeline = parse_query(query).unwrap();
        assert_eq!(kinds(query), vec!["tstats", "drop_dm_object_name"]);
        assert_eq!(pipeline.commands[0].kind, CommandKind::Other);
        assert_eq!(pipeline.commands[0].position, 2);
        let CommandKind::Macro(call) = &pipeline.commands[1].kind else {
            panic!("macro")
        };
        assert_eq!(call.args, vec!["Processes"]);
    }

    #[test]
    fn parse_macro_arguments() {
        let token = &tokenize("`m(a, \"b, c\", f(x))`").unwrap()[0];
        let call = parse_macro(token);
        assert_eq!(call.name, "m");
        assert_eq!(call.args, vec!["a", "\"b, c\"", "f(x)"]);
    }

    #[test]
    fn parse_comments_removed_and_kept() {
        let query = "index=a ```why | not a pipe``` | head 3";
        let pipeline = parse_query(query).unwrap();
        assert_eq!(kinds(query), vec!["search", "head"]);
        assert_eq!(pipeline.comments.len(), 1);
        assert_eq!(pipeline.comments[0].text, "why | not a pipe");
    }

    #[test]
    fn parse_nested_subsearches() {
        let query = "index=a [search index=b [| inputlookup x | fields ip] | fields ip] | delete";
        let pipeline = parse_query(query).unwrap();
        assert_eq!(kinds(query), vec!["search", "delete"]);
        let sub = &pipeline.commands[0].subsearches[0];
        assert_eq!(sub.commands[0].name, "search");
        assert_eq!(sub.commands[1].name, "fields");
        let inner = &sub.commands[0].subsearches[0];
        assert_eq!(inner.commands[0].name, "inputlookup");
        let mut names = Vec::new();
        pipeline.walk(&mut |c| names.push(c.name.clone()));
        assert_eq!(
            names,
            vec![
                "search",
                "search",
                "inputlookup",
                "fields",
                "fields",
                "delete"
            ]
        );
    }

    #[test]
    fn parse_unbalanced_brackets_fail() {
        assert!(parse_query("index=a [search b").is_err());
        assert!(parse_query("index=a ] x").is_err());
    }

    #[test]
    fn parse_empty_commands_fail() {
        assert_eq!(parse_query("index=a | | head").unwrap_err().position, 8);
        assert!(parse_query("index=a |").is_err());
        assert!(parse_query("   ").is_err());
    }

    #[test]
    fn parse_or_binds_tighter_than_and() {
        let Some(SearchExpr::And(items)) = parse_search(&tokenize("a b OR c").unwrap()).unwrap()
        else {
            panic!("expected AND")
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1], SearchExpr::Or(_)));
    }

    #[test]
    fn parse_time_modifiers_typed() {
        let expr = parse_search(&tokenize("earliest=-24h").unwrap())
            .unwrap()
            .unwrap();
        let SearchExpr::Time { bound, spec, .. } = expr else {
            panic!("time")
        };
        assert_eq!(bound, TimeBound::Earliest);
        assert!(matches!(spec, TimeSpec::Relative { offset: -24, .. }));
        assert!(matches!(
            parse_query("earliest=soon").unwrap().commands[0].kind,
            CommandKind::Invalid(_)
        ));
    }

    #[test]
    fn parse_in_list() {
        let expr = parse_search(&tokenize("user IN (root, \"a b\")").unwrap())
            .unwrap()
            .unwrap();
        let SearchExpr::In { field, values, .. } = expr else {
            panic!("in")
        };
        assert_eq!(field, "user");
        assert_eq!(values, vec!["root", "a b"]);
    }

    #[test]
    fn parse_known_command_bad_args_is_invalid() {
        let pipeline = parse_query("index=a | head many").unwrap();
        assert!(matches!(pipeline.commands[1].kind, CommandKind::Invalid(_)));
    }

    #[test]
    fn parse_sort_forms() {
        let pipeline = parse_query("x | sort 5 - count, +user, num(port)").unwrap();
        let CommandKind::Sort(sort) = &pipeline.commands[1].kind else {
            panic!("sort")
        };
        assert_eq!(sort.limit, Some(5));
        assert_eq!(sort.keys.len(), 3);
        assert!(sort.keys[0].descending);
        assert!(!sort.keys[1].descending);
        assert_eq!(sort.keys[2].field, "port");
    }
}
