//! Parser for `eval` and `where` expressions.
//!
//! Expressions get their own lexer because `-`, `*`, `/` and `.` are
//! operators here but word characters in search terms. An unquoted field name
//! may contain letters, digits, `_`, `@`, `$`, `:`, `{}` and inner dots
//! (`Processes.user`), so `a.b` is one field; write `a . b` to concatenate.

use super::ast::{Assignment, BinaryOp, Expr};
use super::SplError;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Quoted(String),
    Punct(&'static str),
}

#[derive(Debug, Clone)]
struct Lexed {
    tok: Tok,
    pos: usize,
}

const PUNCTS: [&str; 17] = [
    "==", "!=", "<=", ">=", "(", ")", ",", "+", "-", "*", "/", "%", ".", "=", "<", ">", "!",
];

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || matches!(c, '_' | '@' | '$')
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '$' | ':' | '{' | '}')
}

fn lex(query: &str, start: usize, end: usize) -> Result<Vec<Lexed>, SplError> {
    let text = &query[start..end];
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let pos = start + i;
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if rest.starts_with("```") {
            let close = rest[3..].find("```").ok_or_else(|| {
                SplError::syntax("unterminated comment; close it with '```'", pos)
            })?;
            i += close + 6;
        } else if c == '"' {
            let (value, len) = lex_string(rest, pos)?;
            out.push(Lexed {
                tok: Tok::Str(value),
                pos,
            });
            i += len;
        } else if c == '\'' {
            let close = rest[1..].find('\'').ok_or_else(|| {
                SplError::syntax(
                    "unterminated single-quoted field name; add the closing \"'\"",
                    pos,
                )
            })?;
            out.push(Lexed {
                tok: Tok::Quoted(rest[1..1 + close].to_string()),
                pos,
            });
            i += close + 2;
        } else if c.is_ascii_digit() {
            let len = number_len(rest);
            let value = rest[..len]
                .parse::<f64>()
                .map_err(|_| SplError::syntax(format!("invalid number '{}'", &rest[..len]), pos))?;
            out.push(Lexed {
                tok: Tok::Num(value),
                pos,
            });
            i += len;
        } else if is_ident_start(c) {
            let len = ident_len(rest);
            out.push(Lexed {
                tok: Tok::Ident(rest[..len].to_string()),
                pos,
            });
            i += len;
        } else if let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            out.push(Lexed {
                tok: Tok::Punct(p),
                pos,
            });
            i += p.len();
        } else {
            return Err(SplError::syntax(
                format!("unexpected character '{c}' in expression"),
                pos,
            ));
        }
    }
    Ok(out)
}

fn lex_string(rest: &str, pos: usize) -> Result<(String, usize), SplError> {
    let mut value = String::new();
    let mut chars = rest.char_indices().skip(1);
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return Ok((value, offset + 1)),
            '\\' => match chars.next() {
                Some((_, escaped @ ('"' | '\\'))) => value.push(escaped),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => break,
            },
            _ => value.push(c),
        }
    }
    Err(SplError::syntax(
        "unterminated double-quoted string; add the closing '\"'",
        pos,
    ))
}

fn number_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut len = 0;
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    len += digits(len);
    if bytes.get(len) == Some(&b'.') && bytes.get(len + 1).is_some_and(u8::is_ascii_digit) {
        len += 1 + digits(len + 1);
    }
    if matches!(bytes.get(len), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(len + 1), Some(b'+' | b'-')));
        let exp = digits(len + 1 + sign);
        if exp > 0 {
            len += 1 + sign + exp;
        }
    }
    len
}

fn ident_len(rest: &str) -> usize {
    let mut len = 0;
    let mut chars = rest.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        let next_is_ident = chars.peek().is_some_and(|(_, n)| is_ident_char(*n));
        if is_ident_char(c) || (c == '.' && offset > 0 && next_is_ident) {
            len = offset + c.len_utf8();
        } else {
            break;
        }
    }
    len
}

/// Parses a whole expression from `query[start..end]`.
pub fn parse_expression(query: &str, start: usize, end: usize) -> Result<Expr, SplError> {
    let mut parser = Parser {
        toks: lex(query, start, end)?,
        at: 0,
        end,
    };
    let expr = parser.or()?;
    parser.expect_end()?;
    Ok(expr)
}

/// Parses `eval` assignments `name = expr, name2 = expr` from `query[start..end]`.
pub fn parse_assignments(
    query: &str,
    start: usize,
    end: usize,
) -> Result<Vec<Assignment>, SplError> {
    let mut parser = Parser {
        toks: lex(query, start, end)?,
        at: 0,
        end,
    };
    let mut assignments = Vec::new();
    loop {
        let pos = parser.pos();
        let field = match parser.next() {
            Some(Tok::Ident(name) | Tok::Quoted(name) | Tok::Str(name)) => name,
            _ => return Err(SplError::syntax("expected a field name to assign", pos)),
        };
        if !parser.eat("=") {
            let msg = format!("expected '=' after '{field}' in eval");
            return Err(SplError::syntax(msg, parser.pos()));
        }
        let expr = parser.or()?;
        assignments.push(Assignment { field, expr });
        if parser.at == parser.toks.len() {
            return Ok(assignments);
        }
        if !parser.eat(",") {
            return Err(SplError::syntax(
                "expected ',' between eval assignments",
                parser.pos(),
            ));
        }
    }
}

struct Parser {
    toks: Vec<Lexed>,
    at: usize,
    end: usize,
}

impl Parser {
    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |t| t.pos)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.toks.get(self.at).map(|t| t.tok.clone());
        self.at += 1;
        tok
    }

    fn eat(&mut self, punct: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(p)) if *p == punct) {
            self.at += 1;
            return true;
        }
        false
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(keyword)) {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect_end(&self) -> Result<(), SplError> {
        if self.at < self.toks.len() {
            return Err(SplError::syntax(
                "unexpected text after the expression",
                self.pos(),
            ));
        }
        Ok(())
    }

    fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    fn or(&mut self) -> Result<Expr, SplError> {
        let mut left = self.xor()?;
        while self.eat_keyword("OR") {
            left = Self::binary(BinaryOp::Or, left, self.xor()?);
        }
        Ok(left)
    }

    fn xor(&mut self) -> Result<Expr, SplError> {
        let mut left = self.and()?;
        while self.eat_keyword("XOR") {
            left = Self::binary(BinaryOp::Xor, left, self.and()?);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SplError> {
        let mut left = self.not()?;
        while self.eat_keyword("AND") {
            left = Self::binary(BinaryOp::And, left, self.not()?);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, SplError> {
        if self.eat_keyword("NOT") || self.eat("!") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SplError> {
        let left = self.additive()?;
        let in_list = matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("IN"))
            && matches!(
                self.toks.get(self.at + 1),
                Some(Lexed {
                    tok: Tok::Punct("("),
                    ..
                })
            );
        if in_list {
            // `x IN (a, b)` is the function call `in(x, a, b)`.
            let position = self.pos();
            self.at += 2;
            let Expr::Call { args, .. } = self.call("in".into(), position)? else {
                unreachable!("call() returns a call")
            };
            let args = std::iter::once(left).chain(args).collect();
            return Ok(Expr::Call {
                name: "in".into(),
                args,
                position,
            });
        }
        let op = match self.peek() {
            Some(Tok::Punct("=" | "==")) => BinaryOp::Eq,
            Some(Tok::Punct("!=")) => BinaryOp::Ne,
            Some(Tok::Punct("<")) => BinaryOp::Lt,
            Some(Tok::Punct("<=")) => BinaryOp::Le,
            Some(Tok::Punct(">")) => BinaryOp::Gt,
            Some(Tok::Punct(">=")) => BinaryOp::Ge,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("LIKE") => BinaryOp::Like,
            _ => return Ok(left),
        };
        self.at += 1;
        Ok(Self::binary(op, left, self.additive()?))
    }

    fn additive(&mut self) -> Result<Expr, SplError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Punct("+")) => BinaryOp::Add,
                Some(Tok::Punct("-")) => BinaryOp::Sub,
                Some(Tok::Punct(".")) => BinaryOp::Concat,
                _ => return Ok(left),
            };
            self.at += 1;
            left = Self::binary(op, left, self.multiplicative()?);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, SplError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Punct("*")) => BinaryOp::Mul,
                Some(Tok::Punct("/")) => BinaryOp::Div,
                Some(Tok::Punct("%")) => BinaryOp::Mod,
                _ => return Ok(left),
            };
            self.at += 1;
            left = Self::binary(op, left, self.unary()?);
        }
    }

    fn unary(&mut self) -> Result<Expr, SplError> {
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.eat("+") {
            return self.unary();
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SplError> {
        let pos = self.pos();
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Str(s)) => Ok(Expr::Str(s)),
            Some(Tok::Quoted(name)) => Ok(Expr::Field(name)),
            Some(Tok::Ident(name)) if self.eat("(") => self.call(name, pos),
            Some(Tok::Ident(name)) => Ok(Expr::Field(name)),
            Some(Tok::Punct("(")) => {
                let inner = self.or()?;
                if !self.eat(")") {
                    return Err(SplError::syntax("missing ')' in expression", self.pos()));
                }
                Ok(inner)
            }
            Some(Tok::Punct(p)) => Err(SplError::syntax(
                format!("unexpected '{p}' in expression"),
                pos,
            )),
            None => Err(SplError::syntax("expression ends too early", pos)),
        }
    }

    fn call(&mut self, name: String, position: usize) -> Result<Expr, SplError> {
        let mut args = Vec::new();
        if self.eat(")") {
            return Ok(Expr::Call {
                name,
                args,
                position,
            });
        }
        loop {
            args.push(self.or()?);
            if self.eat(")") {
                return Ok(Expr::Call {
                    name,
                    args,
                    position,
                });
            }
            if !self.eat(",") {
                let msg = format!("expected ',' or ')' in the arguments of {name}()");
                return Err(SplError::syntax(msg, self.pos()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Expr {
        parse_expression(text, 0, text.len()).unwrap()
    }

    fn field(name: &str) -> Box<Expr> {
        Box::new(Expr::Field(name.into()))
    }

    #[test]
    fn expr_precedence_mul_over_add() {
        let expected = Expr::Binary {
            op: BinaryOp::Add,
            left: Box::new(Expr::Num(1.0)),
            right: Box::new(Expr::Binary {
                op: BinaryOp::Mul,
                left: field("x"),
                right: Box::new(Expr::Num(2.0)),
            }),
        };
        assert_eq!(parse("1 + x*2"), expected);
    }

    #[test]
    fn expr_not_binds_looser_than_compare() {
        let Expr::Not(inner) = parse("NOT a=1") else {
            panic!("expected NOT")
        };
        assert!(matches!(
            *inner,
            Expr::Binary {
                op: BinaryOp::Eq,
                ..
            }
        ));
    }

    #[test]
    fn expr_dotted_field_and_concat() {
        assert_eq!(
            parse("Processes.user"),
            Expr::Field("Processes.user".into())
        );
        let Expr::Binary { op, .. } = parse("first.\" \".last") else {
            panic!("binary")
        };
        assert_eq!(op, BinaryOp::Concat);
    }

    #[test]
    fn expr_function_call() {
        let Expr::Binary { right, .. } = parse("x AND if(a=\"b\", 1, 0)") else {
            panic!("expected a binary expression")
        };
        let Expr::Call {
            name,
            args,
            position,
        } = *right
        else {
            panic!("expected a call")
        };
        assert_eq!(name, "if");
        assert_eq!(args.len(), 3);
        assert_eq!(position, 6);
    }

    #[test]
    fn expr_in_list_is_call() {
        let Expr::Call { name, args, .. } = parse("user IN (\"a\", \"b\")") else {
            panic!("expected a call")
        };
        assert_eq!(name, "in");
        assert_eq!(
            args,
            vec![
                Expr::Field("user".into()),
                Expr::Str("a".into()),
                Expr::Str("b".into())
            ]
        );
    }

    #[test]
    fn expr_single_quoted_field() {
        assert_eq!(parse("'src ip'"), Expr::Field("src ip".into()));
    }

    #[test]
    fn expr_assignments() {
        let text = "a=1, 'b c'=x.\"s\"";
        let assignments = parse_assignments(text, 0, text.len()).unwrap();
        assert_eq!(assignments.len(), 2);
        assert_eq!(assignments[1].field, "b c");
    }

    #[test]
    fn expr_errors_have_positions() {
        let err = parse_expression("a + ", 0, 4).unwrap_err();
        assert_eq!(err.position, 4);
        let err = parse_expression("(a", 0, 2).unwrap_err();
        assert_eq!(err.position, 2);
    }
}
