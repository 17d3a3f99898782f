//! Quoting and escaping for values placed into generated SPL.

/// Quotes a value as an SPL string literal: wraps it in double quotes and
/// escapes backslashes and double quotes.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
