//! Tokenizer for SPL text.
//!
//! The tokenizer knows nothing about commands: it splits the query into words,
//! quoted strings, macros, comments, brackets, operators and pipes, each with
//! its byte range, so the parser, the read-only guard and error messages all
//! point at the same place in the query.

use super::SplError;

/// A comparison operator in search terms (`field=value`, `count>5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// Returns the operator as written in SPL (`==` is read as `=`).
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of characters without spaces or delimiters: terms, field names,
    /// numbers, wildcards (`fail*`), relative times (`-24h`).
    Word,
    /// A double-quoted string; the token text is the unescaped content.
    Str,
    /// A single-quoted string (a field name in `eval` and `where`).
    SingleQuoted,
    /// A macro call in single backticks; the text is what is inside them.
    Macro,
    /// A comment in triple backticks; the text is what is inside them.
    Comment,
    Pipe,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Op(CompareOp),
    /// A subsearch, which the parser puts in place of its bracketed tokens;
    /// the text is the index into [`super::Command::subsearches`].
    Subsearch,
}

/// One token with its byte range in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    /// The word, or the decoded content of a string, macro or comment.
    pub text: String,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// Returns true for a word equal to `keyword`, compared case-sensitively,
    /// as SPL's boolean operators must be upper case.
    pub fn is_keyword(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text == keyword
    }

    /// Returns true for a word equal to `word`, ignoring ASCII case.
    pub fn is_word_ci(&self, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(word)
    }
}

/// Splits SPL text into tokens.
///
/// Double-quoted strings decode `\"` and `\\`; any other backslash is kept
/// with the character after it, as Splunk does (`"C:\Windows"`). A single
/// quote starts a single-quoted string only at the start of a token and only
/// when a closing quote follows; elsewhere it is part of a word (`don't`).
pub fn tokenize(query: &str) -> Result<Vec<Token>, SplError> {
    let mut lexer = Lexer {
        src: query,
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), SplError> {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            let start = self.pos;
            match c {
                '"' => self.double_quoted(start)?,
                '`' => self.backtick(start)?,
                '\'' => {
                    if !self.single_quoted(start) {
                        self.word(start);
                    }
                }
                '|' => self.punct(TokenKind::Pipe, 1),
                '[' => self.punct(TokenKind::LBracket, 1),
                ']' => self.punct(TokenKind::RBracket, 1),
                '(' => self.punct(TokenKind::LParen, 1),
                ')' => self.punct(TokenKind::RParen, 1),
                ',' => self.punct(TokenKind::Comma, 1),
                '=' | '<' | '>' | '!' if self.operator().is_some() => {
                    let (op, len) = self.operator().unwrap_or((CompareOp::Eq, 1));
                    self.punct(TokenKind::Op(op), len);
                }
                _ => self.word(start),
            }
        }
        Ok(())
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn push(&mut self, kind: TokenKind, text: String, start: usize) {
        self.tokens.push(Token {
            kind,
            text,
            start,
            end: self.pos,
        });
    }

    fn punct(&mut self, kind: TokenKind, len: usize) {
        let start = self.pos;
        self.pos += len;
        let text = self.src[start..self.pos].to_string();
        self.push(kind, text, start);
    }

    /// Returns the comparison operator at the cursor and its length in bytes.
    fn operator(&self) -> Option<(CompareOp, usize)> {
        let rest = self.rest();
        let two = [
            ("==", CompareOp::Eq),
            ("!=", CompareOp::Ne),
            ("<=", CompareOp::Le),
            (">=", CompareOp::Ge),
        ];
        for (text, op) in two {
            if rest.starts_with(text) {
                return Some((op, 2));
            }
        }
        match rest.as_bytes().first() {
            Some(b'=') => Some((CompareOp::Eq, 1)),
            Some(b'<') => Some((CompareOp::Lt, 1)),
            Some(b'>') => Some((CompareOp::Gt, 1)),
            _ => None,
        }
    }

    fn word(&mut self, start: usize) {
        // The first character always belongs to the word, so a lone `'` or
        // `!` cannot stall the lexer.
        let first = self.peek().map_or(1, char::len_utf8);
        self.pos += first;
        while let Some(c) = self.peek() {
            // A backslash outside quotes keeps the next character in the word (`\"`).
            if c == '\\' {
                self.pos += 1;
                self.pos += self.peek().map_or(0, char::len_utf8);
                continue;
            }
            let ends = c.is_whitespace()
                || matches!(
                    c,
                    '"' | '`' | '|' | '[' | ']' | '(' | ')' | ',' | '=' | '<' | '>'
                )
                || (c == '!' && self.rest().starts_with("!="));
            if ends {
                break;
            }
            self.pos += c.len_utf8();
        }
        let text = self.src[start..self.pos].to_string();
        self.push(TokenKind::Word, text, start);
    }

    fn double_quoted(&mut self, start: usize) -> Result<(), SplError> {
        self.pos += 1;
        let mut text = String::new();
        let mut chars = self.src[self.pos..].char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += offset + 1;
                    self.push(TokenKind::Str, text, start);
                    return Ok(());
                }
                '\\' => match chars.next() {
                    Some((_, escaped @ ('"' | '\\'))) => text.push(escaped),
                    Some((_, other)) => {
                        text.push('\\');
                        text.push(other);
                    }
                    None => break,
                },
                _ => text.push(c),
            }
        }
        Err(SplError::syntax(
            "unterminated double-quoted string; add the closing '\"'",
            start,
        ))
    }

    /// Reads a single-quoted string; returns false, consuming nothing, when
    /// no closing quote follows.
    fn single_quoted(&mut self, start: usize) -> bool {
        let Some(len) = self.src[start + 1..].find('\'') else {
            return false;
        };
        let text = self.src[start + 1..start + 1 + len].to_string();
        self.pos = start + len + 2;
        self.push(TokenKind::SingleQuoted, text, start);
        true
    }

    fn backtick(&mut self, start: usize) -> Result<(), SplError> {
        if self.rest().starts_with("```") {
            let body = start + 3;
            let Some(len) = self.src[body..].find("```") else {
                let msg = "unterminated comment; close it with '```'";
                return Err(SplError::syntax(msg, start));
            };
            self.pos = body + len + 3;
            let text = self.src[body..body + len].to_string();
            self.push(TokenKind::Comment, text, start);
            return Ok(());
        }
        let body = start + 1;
        let Some(len) = self.src[body..].find('`') else {
            return Err(SplError::syntax(
                "unterminated macro; close it with '`'",
                start,
            ));
        };
        self.pos = body + len + 1;
        let text = self.src[body..body + len].to_string();
        self.push(TokenKind::Macro, text, start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(query: &str) -> Vec<TokenKind> {
        tokenize(query)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn texts(query: &str) -> Vec<String> {
        tokenize(query)
            .unwrap()
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn tokenize_field_value_pairs() {
        let query = r#"src_ip="1.2.3.4" count>=5 user!=root"#;
        assert_eq!(
            kinds(query),
            vec![
                TokenKind::Word,
                TokenKind::Op(CompareOp::Eq),
                TokenKind::Str,
                TokenKind::Word,
                TokenKind::Op(CompareOp::Ge),
                TokenKind::Word,
                TokenKind::Word,
                TokenKind::Op(CompareOp::Ne),
                TokenKind::Word,
            ]
        );
        assert_eq!(texts(query)[2], "1.2.3.4");
    }

    #[test]
    fn tokenize_string_escapes() {
        let tokens = tokenize(r#""a \"b\" c\\d \w""#).unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].text, r#"a "b" c\d \w"#);
        assert_eq!(tokens[0].end, 17);
    }

    #[test]
    fn tokenize_string_keeps_delimiters() {
        let tokens = tokenize("\"a | [b] `c` \n d\"").unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].text, "a | [b] `c` \n d");
    }

    #[test]
    fn tokenize_macros_and_comments() {
        let query = "`m(a, \"b\")` ```note | here``` | x";
        assert_eq!(
            kinds(query),
            vec![
                TokenKind::Macro,
                TokenKind::Comment,
                TokenKind::Pipe,
                TokenKind::Word
            ]
        );
        assert_eq!(texts(query)[0], "m(a, \"b\")");
        assert_eq!(texts(query)[1], "note | here");
    }

    #[test]
    fn tokenize_words_with_wildcards() {
        assert_eq!(
            texts("fail* -24h 5.101.40.81 a{}.b */grant*"),
            vec!["fail*", "-24h", "5.101.40.81", "a{}.b", "*/grant*"]
        );
    }

    #[test]
    fn tokenize_escaped_quote_in_word() {
        assert_eq!(
            texts(r#"a=*\"x\":true* b"#),
            vec!["a", "=", r#"*\"x\":true*"#, "b"]
        );
    }

    #[test]
    fn tokenize_single_quotes() {
        assert_eq!(kinds("'Processes.user'"), vec![TokenKind::SingleQuoted]);
        assert_eq!(texts("'Processes.user'"), vec!["Processes.user"]);
        assert_eq!(texts("don't"), vec!["don't"]);
        assert_eq!(texts("'lonely"), vec!["'lonely"]);
    }

    #[test]
    fn tokenize_brackets_and_parens() {
        assert_eq!(
            kinds("[search x] (a, b)"),
            vec![
                TokenKind::LBracket,
                TokenKind::Word,
                TokenKind::Word,
                TokenKind::RBracket,
                TokenKind::LParen,
                TokenKind::Word,
                TokenKind::Comma,
                TokenKind::Word,
                TokenKind::RParen,
            ]
        );
    }

    #[test]
    fn tokenize_unterminated_string_fails() {
        let err = tokenize("a \"open").unwrap_err();
        assert_eq!(err.kind, crate::spl::SplErrorKind::Syntax);
        assert_eq!(err.position, 2);
    }

    #[test]
    fn tokenize_unterminated_macro_fails() {
        assert!(tokenize("x `open").is_err());
        assert!(tokenize("x ```open`").is_err());
    }
}
