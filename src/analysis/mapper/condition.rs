//! The Sigma `condition` expression: parsing and evaluation.
//!
//! Supported: selection names, `and`, `or`, `not`, parentheses, and the quantifiers
//! `1 of NAME*`, `any of NAME*`, `all of NAME*`, `1 of them`, `all of them`. Aggregations
//! after a pipe (`| count() > 5`) are rejected, because one row cannot satisfy them.

#[cfg(test)]
use std::collections::HashMap;

/// A parsed condition over named selections.
#[derive(Debug, Clone)]
pub(super) enum Expr {
    Selection(String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    AnyOf(Vec<String>),
    AllOf(Vec<String>),
}

impl Expr {
    /// Evaluates the expression, given each selection's result.
    #[cfg(test)]
    pub(super) fn eval(&self, results: &HashMap<&str, bool>) -> bool {
        self.eval_with(&|name| results.get(name).copied().unwrap_or(false))
    }

    /// Evaluates the condition, testing each selection only when the result
    /// depends on it, so `selection and not filter` skips the filter when
    /// the selection fails.
    pub(super) fn eval_with(&self, selection: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Expr::Selection(name) => selection(name),
            Expr::Not(inner) => !inner.eval_with(selection),
            Expr::And(parts) => parts.iter().all(|p| p.eval_with(selection)),
            Expr::Or(parts) => parts.iter().any(|p| p.eval_with(selection)),
            Expr::AnyOf(names) => names.iter().any(|n| selection(n)),
            Expr::AllOf(names) => names.iter().all(|n| selection(n)),
        }
    }
}

/// Parses `text`, resolving names and patterns against the rule's selection names.
pub(super) fn parse(text: &str, names: &[String]) -> Result<Expr, String> {
    if text.contains('|') {
        return Err(format!(
            "aggregation in condition '{text}' is not supported"
        ));
    }
    let tokens = tokenize(text);
    let mut parser = Parser {
        tokens,
        pos: 0,
        names,
    };
    let expr = parser.parse_or()?;
    if let Some(extra) = parser.tokens.get(parser.pos) {
        return Err(format!("unexpected '{extra}' in condition '{text}'"));
    }
    Ok(expr)
}

fn tokenize(text: &str) -> Vec<String> {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    spaced.split_whitespace().map(str::to_string).collect()
}

struct Parser<'a> {
    tokens: Vec<String>,
    pos: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek_lower(&self) -> Option<String> {
        self.tokens.get(self.pos).map(|t| t.to_ascii_lowercase())
    }

    fn next(&mut self) -> Result<String, String> {
        let token = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or("condition ends early")?;
        self.pos += 1;
        Ok(token)
    }

    fn parse_or(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.parse_and()?];
        while self.peek_lower().as_deref() == Some("or") {
            self.pos += 1;
            parts.push(self.parse_and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn parse_and(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.parse_not()?];
        while self.peek_lower().as_deref() == Some("and") {
            self.pos += 1;
            parts.push(self.parse_not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn parse_not(&mut self) -> Result<Expr, String> {
        if self.peek_lower().as_deref() == Some("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.parse_not()?)));
        }
        self.parse_atom()
    }

    fn parse_atom(&mut self) -> Result<Expr, String> {
        let token = self.next()?;
        let lower = token.to_ascii_lowercase();
        if token == "(" {
            let inner = self.parse_or()?;
            return match self.next()?.as_str() {
                ")" => Ok(inner),
                other => Err(format!("expected ')' but found '{other}'")),
            };
        }
        if lower == "1" || lower == "any" || lower == "all" {
            if self.peek_lower().as_deref() != Some("of") {
                return Err(format!("expected 'of' after '{token}'"));
            }
            self.pos += 1;
            let pattern = self.next()?;
            let names = self.resolve_pattern(&pattern)?;
            return Ok(if lower == "all" {
                Expr::AllOf(names)
            } else {
                Expr::AnyOf(names)
            });
        }
        if self.names.contains(&token) {
            return Ok(Expr::Selection(token));
        }
        Err(format!(
            "condition names '{token}', which is not a selection of the rule"
        ))
    }

    /// Expands `them` or a `prefix*` pattern to the selection names it covers.
    fn resolve_pattern(&self, pattern: &str) -> Result<Vec<String>, String> {
        let names: Vec<String> = if pattern == "them" {
            self.names
                .iter()
                .filter(|n| !n.starts_with('_'))
                .cloned()
                .collect()
        } else if let Some(prefix) = pattern.strip_suffix('*') {
            self.names
                .iter()
                .filter(|n| n.starts_with(prefix))
                .cloned()
                .collect()
        } else {
            self.names
                .iter()
                .filter(|n| *n == pattern)
                .cloned()
                .collect()
        };
        if names.is_empty() {
            return Err(format!("'{pattern}' in the condition matches no selection"));
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn results<'a>(pairs: &[(&'a str, bool)]) -> HashMap<&'a str, bool> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let expr = parse("a or b and c", &names(&["a", "b", "c"])).unwrap();
        assert!(expr.eval(&results(&[("a", true), ("b", false), ("c", false)])));
        assert!(!expr.eval(&results(&[("a", false), ("b", true), ("c", false)])));
    }

    #[test]
    fn not_with_parentheses() {
        let expr = parse("sel and not (f1 or f2)", &names(&["sel", "f1", "f2"])).unwrap();
        assert!(expr.eval(&results(&[("sel", true), ("f1", false), ("f2", false)])));
        assert!(!expr.eval(&results(&[("sel", true), ("f1", false), ("f2", true)])));
    }

    #[test]
    fn quantifiers_over_patterns() {
        let all = names(&["selection_a", "selection_b", "filter"]);
        let any = parse("1 of selection_*", &all).unwrap();
        let every = parse("all of selection_*", &all).unwrap();
        let state = results(&[
            ("selection_a", true),
            ("selection_b", false),
            ("filter", true),
        ]);
        assert!(any.eval(&state));
        assert!(!every.eval(&state));
    }

    #[test]
    fn aggregation_rejected() {
        assert!(parse("selection | count() > 5", &names(&["selection"])).is_err());
    }

    #[test]
    fn unknown_name_rejected() {
        assert!(parse("selection and other", &names(&["selection"])).is_err());
    }
}
