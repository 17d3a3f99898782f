//! Tokens of `_raw` and the posting lists that map each token to the events
//! containing it.
//!
//! A token is a maximal run of letters and digits (`\p{L}` or `\p{N}`) in
//! lower case, the unit [`crate::spl::terms`] builds requirements from. The
//! Kelvin sign and the long s become `k` and `s`, because SPL's
//! case-insensitive match treats them as those ASCII letters.
//!
//! A posting list holds ascending event numbers as LEB128 gaps, so dense
//! lists of common tokens take about one byte per event.

use rustc_hash::FxHashMap;

use crate::spl::terms::is_word_char;

/// Calls `visit` with every token of `raw`, in order, repeats included.
pub(crate) fn for_each_token(raw: &str, scratch: &mut String, mut visit: impl FnMut(&str)) {
    if raw.is_ascii() {
        ascii_tokens(raw, scratch, &mut visit);
    } else {
        unicode_tokens(raw, scratch, &mut visit);
    }
}

fn ascii_tokens(raw: &str, scratch: &mut String, visit: &mut impl FnMut(&str)) {
    let bytes = raw.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        while at < bytes.len() && !bytes[at].is_ascii_alphanumeric() {
            at += 1;
        }
        let start = at;
        while at < bytes.len() && bytes[at].is_ascii_alphanumeric() {
            at += 1;
        }
        if at == start {
            continue;
        }
        let token = &raw[start..at];
        if token.bytes().any(|b| b.is_ascii_uppercase()) {
            scratch.clear();
            scratch.push_str(token);
            scratch.make_ascii_lowercase();
            visit(scratch);
        } else {
            visit(token);
        }
    }
}

fn unicode_tokens(raw: &str, scratch: &mut String, visit: &mut impl FnMut(&str)) {
    scratch.clear();
    for c in raw.chars() {
        if is_word_char(c) {
            push_folded(scratch, c);
        } else if !scratch.is_empty() {
            visit(scratch);
            scratch.clear();
        }
    }
    if !scratch.is_empty() {
        visit(scratch);
        scratch.clear();
    }
}

fn push_folded(token: &mut String, c: char) {
    match c {
        'A'..='Z' => token.push(c.to_ascii_lowercase()),
        '\u{212A}' => token.push('k'),
        '\u{017F}' => token.push('s'),
        _ if c.is_ascii() => token.push(c),
        _ => token.extend(c.to_lowercase()),
    }
}

/// One token's events, as LEB128 gaps.
#[derive(Debug, Default, Clone)]
pub(crate) struct Posting {
    pub bytes: Vec<u8>,
    pub count: u32,
    /// One more than the last event added; zero when the list is empty.
    last: u32,
}

impl Posting {
    /// Adds `event` unless it is already the last one (a repeated token).
    pub fn add(&mut self, event: u32) {
        let next = event + 1;
        if next == self.last {
            return;
        }
        let mut gap = u64::from(next - self.last);
        while gap >= 0x80 {
            self.bytes.push((gap as u8) | 0x80);
            gap >>= 7;
        }
        self.bytes.push(gap as u8);
        self.last = next;
        self.count += 1;
    }

    /// Rebuilds a posting from its stored bytes and event count.
    pub fn from_parts(bytes: Vec<u8>, count: u32) -> Posting {
        let last = decode(&bytes).last().map_or(0, |event| event + 1);
        Posting { bytes, count, last }
    }

    /// Returns the events in ascending order.
    pub fn events(&self) -> Vec<u32> {
        decode(&self.bytes)
    }
}

fn decode(bytes: &[u8]) -> Vec<u32> {
    let mut events = Vec::new();
    let mut current = 0u64;
    let mut gap = 0u64;
    let mut shift = 0;
    for &byte in bytes {
        gap |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            current += gap;
            events.push((current - 1) as u32);
            gap = 0;
            shift = 0;
        }
    }
    events
}

/// Posting lists by token, built while events are added in order.
#[derive(Debug, Default)]
pub(crate) struct Postings {
    pub lists: FxHashMap<Box<str>, Posting>,
}

impl Postings {
    /// Adds every token of `raw` for event number `event`.
    pub fn add_event(&mut self, event: u32, raw: &str, scratch: &mut String) {
        for_each_token(raw, scratch, |token| match self.lists.get_mut(token) {
            Some(posting) => posting.add(event),
            None => {
                let mut posting = Posting::default();
                posting.add(event);
                self.lists.insert(token.into(), posting);
            }
        });
    }

    pub fn get(&self, token: &str) -> Option<&Posting> {
        self.lists.get(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(raw: &str) -> Vec<String> {
        let mut found = Vec::new();
        for_each_token(raw, &mut String::new(), |t| found.push(t.to_string()));
        found
    }

    #[test]
    fn ascii_splits_on_punctuation() {
        assert_eq!(
            tokens("Failed password for ROOT from 10.0.2.17 port 22"),
            ["failed", "password", "for", "root", "from", "10", "0", "2", "17", "port", "22"]
        );
    }

    #[test]
    fn unicode_letters_join_runs() {
        assert_eq!(tokens("Café ſkip \u{212A}ey €5"), ["café", "skip", "key", "5"]);
    }

    #[test]
    fn posting_skips_repeats_and_round_trips() {
        let mut posting = Posting::default();
        for event in [0, 0, 3, 200, 200, 70_000] {
            posting.add(event);
        }
        assert_eq!(posting.events(), vec![0, 3, 200, 70_000]);
        assert_eq!(posting.count, 4);
        let restored = Posting::from_parts(posting.bytes.clone(), posting.count);
        let mut extended = restored.clone();
        extended.add(70_001);
        assert_eq!(extended.events(), vec![0, 3, 200, 70_000, 70_001]);
    }

    #[test]
    fn postings_index_each_event_once() {
        let mut postings = Postings::default();
        let mut scratch = String::new();
        postings.add_event(0, "a b a", &mut scratch);
        postings.add_event(1, "B c", &mut scratch);
        assert_eq!(postings.get("a").unwrap().events(), vec![0]);
        assert_eq!(postings.get("b").unwrap().events(), vec![0, 1]);
        assert!(postings.get("d").is_none());
    }
}
