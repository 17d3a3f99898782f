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

/// Calls `visit` with every token of `raw`, in order, repeats included,
/// for text that may hold letters outside ASCII.
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

/// Posting lists by token, as a segment stores and searches them.
#[derive(Debug, Default)]
pub(crate) struct Postings {
    pub lists: FxHashMap<Box<str>, Posting>,
}

impl Postings {
    pub fn get(&self, token: &str) -> Option<&Posting> {
        self.lists.get(token)
    }
}

/// Posting lists being built while events are added in order.
///
/// A token of at most 16 bytes is keyed by its bytes packed into a `u128`
/// (little-endian, zero-padded), so a lookup hashes and compares integers
/// instead of following a pointer to a string key and calling `memcmp`:
/// that lookup was the largest cost of ingest. Packing is one-to-one
/// because tokens never contain a zero byte. Longer tokens are keyed by
/// their text.
#[derive(Debug, Default)]
pub(crate) struct PostingsBuilder {
    short: FxHashMap<u128, Posting>,
    long: FxHashMap<Box<str>, Posting>,
    /// A reusable buffer for lower-cased tokens.
    scratch: String,
}

impl PostingsBuilder {
    /// Adds every token of `raw` for event number `event`.
    pub fn add_event(&mut self, event: u32, raw: &str) {
        if raw.is_ascii() {
            self.add_ascii(event, raw.as_bytes());
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        unicode_tokens(raw, &mut scratch, &mut |token| match pack(token.as_bytes()) {
            Some(key) => self.short.entry(key).or_default().add(event),
            None => self.add_long(event, token),
        });
        self.scratch = scratch;
    }

    /// Adds the tokens of an ASCII `raw`, packing and lower-casing short
    /// tokens in registers rather than copying them.
    fn add_ascii(&mut self, event: u32, raw: &[u8]) {
        let mut at = 0;
        while at < raw.len() {
            while at < raw.len() && !raw[at].is_ascii_alphanumeric() {
                at += 1;
            }
            let start = at;
            while at < raw.len() && raw[at].is_ascii_alphanumeric() {
                at += 1;
            }
            if at == start {
                continue;
            }
            match pack_ascii_lowercase(raw, start, at) {
                Some(key) => self.short.entry(key).or_default().add(event),
                None => {
                    let mut token = std::mem::take(&mut self.scratch);
                    token.clear();
                    // The bytes are ASCII, so every slice of them is a `str`.
                    token.push_str(std::str::from_utf8(&raw[start..at]).unwrap_or_default());
                    token.make_ascii_lowercase();
                    self.add_long(event, &token);
                    self.scratch = token;
                }
            }
        }
    }

    fn add_long(&mut self, event: u32, token: &str) {
        match self.long.get_mut(token) {
            Some(posting) => posting.add(event),
            None => {
                let mut posting = Posting::default();
                posting.add(event);
                self.long.insert(token.into(), posting);
            }
        }
    }

    /// Returns the finished posting lists.
    pub fn finish(self) -> Postings {
        let mut lists = self.long;
        lists.reserve(self.short.len());
        for (key, posting) in self.short {
            lists.insert(unpack(key).into(), posting);
        }
        Postings { lists }
    }
}

/// Packs a token of at most 16 bytes into an integer.
fn pack(token: &[u8]) -> Option<u128> {
    if token.len() > 16 {
        return None;
    }
    let mut key = 0u128;
    for (at, &byte) in token.iter().enumerate() {
        key |= u128::from(byte) << (8 * at);
    }
    Some(key)
}

/// Packs the ASCII token `raw[start..end]`, in lower case, when it has at
/// most 16 bytes. Reads 16 bytes at once where the input is long enough.
fn pack_ascii_lowercase(raw: &[u8], start: usize, end: usize) -> Option<u128> {
    let len = end - start;
    if len > 16 {
        return None;
    }
    let key = match raw.get(start..start + 16) {
        Some(window) => {
            let loaded = u128::from_le_bytes(window.try_into().expect("window is 16 bytes"));
            match len {
                16 => loaded,
                _ => loaded & ((1u128 << (8 * len)) - 1),
            }
        }
        None => pack(&raw[start..end])?,
    };
    Some(ascii_lowercase(key))
}

/// Lower-cases the ASCII letters among 16 packed bytes of at most 0x7f.
fn ascii_lowercase(key: u128) -> u128 {
    const ONES: u128 = u128::MAX / 0xff;
    const HIGH_BITS: u128 = ONES * 0x80;
    // Each byte is at most 0x7f, so these sums never carry into the next
    // byte: the high bit says whether the byte is at least b'A', or above b'Z'.
    let at_least_a = key + ONES * (0x80 - u128::from(b'A'));
    let above_z = key + ONES * (0x80 - u128::from(b'Z') - 1);
    let upper = at_least_a & !above_z & HIGH_BITS;
    key | (upper >> 2)
}

/// Unpacks a key of [`pack`] into its text.
fn unpack(key: u128) -> String {
    let bytes = key.to_le_bytes();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(16);
    String::from_utf8_lossy(&bytes[..len]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the distinct tokens of `raw`, sorted.
    fn tokens(raw: &str) -> Vec<String> {
        let mut builder = PostingsBuilder::default();
        builder.add_event(0, raw);
        let mut found: Vec<String> = builder.finish().lists.into_keys().map(String::from).collect();
        found.sort();
        found
    }

    #[test]
    fn ascii_splits_on_punctuation() {
        assert_eq!(
            tokens("Failed password for ROOT from 10.0.2.17 port 22 from"),
            ["0", "10", "17", "2", "22", "failed", "for", "from", "password", "port", "root"]
        );
    }

    #[test]
    fn unicode_letters_join_runs() {
        assert_eq!(tokens("Café ſkip \u{212A}ey €5"), ["5", "café", "key", "skip"]);
    }

    #[test]
    fn ascii_tokens_at_line_end_pack_alike() {
        // The same token read with 16 bytes after it and at the line end.
        let line = "WEB10 sshd 0123456789ABCDEF web10";
        assert_eq!(tokens(line), ["0123456789abcdef", "sshd", "web10"]);
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
        let mut builder = PostingsBuilder::default();
        builder.add_event(0, "a b a");
        builder.add_event(1, "B c");
        let postings = builder.finish();
        assert_eq!(postings.get("a").unwrap().events(), vec![0]);
        assert_eq!(postings.get("b").unwrap().events(), vec![0, 1]);
        assert!(postings.get("d").is_none());
    }

    #[test]
    fn postings_keep_long_and_short_tokens_apart() {
        let long = "abcdefghijklmnopq";
        let sixteen = "abcdefghijklmnop";
        let mut builder = PostingsBuilder::default();
        builder.add_event(0, &format!("{long} {sixteen}"));
        builder.add_event(1, long);
        builder.add_event(2, "Abcdefghijklmnop");
        let postings = builder.finish();
        assert_eq!(postings.get(long).unwrap().events(), vec![0, 1]);
        assert_eq!(postings.get(sixteen).unwrap().events(), vec![0, 2]);
        assert_eq!(postings.lists.len(), 2);
    }

    #[test]
    fn postings_list_events_per_token() {
        let lines = [
            "Jan  1 00:00:00 WEB10 sshd[21691]: Invalid user Test7 from 99.154.69.214",
            "Café ſkip web10 ABCDEFGHIJKLMNOPQRSTU sshd",
            "abcdefghijklmnopqrstu Sshd",
        ];
        let mut builder = PostingsBuilder::default();
        for (number, line) in lines.iter().enumerate() {
            builder.add_event(number as u32, line);
        }
        let postings = builder.finish();
        let events = |token: &str| postings.get(token).map(Posting::events);
        assert_eq!(events("web10"), Some(vec![0, 1]));
        assert_eq!(events("sshd"), Some(vec![0, 1, 2]));
        assert_eq!(events("abcdefghijklmnopqrstu"), Some(vec![1, 2]));
        assert_eq!(events("99"), Some(vec![0]));
        assert_eq!(events("skip"), Some(vec![1]));
        assert_eq!(events("WEB10"), None);
        // Line 0 has 14 distinct tokens, line 1 adds 3, line 2 none.
        assert_eq!(postings.lists.len(), 17);
    }

    #[test]
    fn ascii_lowercase_changes_only_letters() {
        let text = b"@AZ[`az{09 \x7f";
        let key = pack(text).unwrap();
        let lowered = ascii_lowercase(key).to_le_bytes();
        assert_eq!(&lowered[..text.len()], b"@az[`az{09 \x7f");
    }
}
