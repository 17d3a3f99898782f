//! Masking of hosts, accounts, IP addresses and emails in model prompts.
//!
//! Before text leaves the machine for a cloud model, [`Masker::mask`]
//! replaces each host, account, IP address and email with a stable
//! placeholder (`HOST_1`, `USER_1`, `IP_1`, `EMAIL_1`): the same value gets
//! the same placeholder for the whole investigation, so the model can still
//! relate events. [`Masker::unmask`] maps placeholders in the model's answer
//! back to the real values. IP addresses and emails are found by pattern;
//! hosts and accounts must be registered first (from the alert's entities and
//! the findings), because free text gives no reliable way to tell them apart
//! from other words. Two kinds of name are never masked: the generic account
//! names in [`GENERIC_ACCOUNTS`], which identify nobody and are also ordinary
//! words, and the words passed to [`Masker::keep`] (the field names of the
//! alert and the schema), so that `"user": "root"` keeps its field name.

use std::collections::BTreeMap;

use aho_corasick::AhoCorasick;
use regex::Regex;

/// Account names that come with an operating system, a cloud image or a
/// common service, compared without case. They name a role rather than a
/// person, and most are ordinary words, so masking them hides nothing and
/// garbles the prompt.
pub const GENERIC_ACCOUNTS: &[&str] = &[
    "admin",
    "administrator",
    "anonymous",
    "daemon",
    "ec2-user",
    "ftp",
    "guest",
    "mysql",
    "nobody",
    "oracle",
    "pi",
    "postgres",
    "root",
    "system",
    "test",
    "ubuntu",
    "user",
    "www-data",
];

/// Returns whether `name` is one of the [`GENERIC_ACCOUNTS`].
pub fn is_generic_account(name: &str) -> bool {
    GENERIC_ACCOUNTS
        .iter()
        .any(|generic| generic.eq_ignore_ascii_case(name.trim()))
}

/// The kinds of value a [`Masker`] replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MaskKind {
    Host,
    User,
    Ip,
    Email,
}

impl MaskKind {
    fn prefix(self) -> &'static str {
        match self {
            MaskKind::Host => "HOST",
            MaskKind::User => "USER",
            MaskKind::Ip => "IP",
            MaskKind::Email => "EMAIL",
        }
    }
}

/// Stable two-way mapping between sensitive values and placeholders.
#[derive(Debug)]
pub struct Masker {
    to_placeholder: BTreeMap<String, String>,
    to_value: BTreeMap<String, String>,
    counts: BTreeMap<MaskKind, usize>,
    /// Registered hosts and accounts with their kind.
    names: Vec<(String, MaskKind)>,
    /// Finds every registered name in one pass; rebuilt after a registration.
    finder: Option<AhoCorasick>,
    ip: Regex,
    email: Regex,
    placeholder: Regex,
}

impl Default for Masker {
    fn default() -> Self {
        Masker {
            to_placeholder: BTreeMap::new(),
            to_value: BTreeMap::new(),
            counts: BTreeMap::new(),
            names: Vec::new(),
            finder: None,
            ip: Regex::new(concat!(
                r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b",
                r"|\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b",
            ))
            .expect("address regex"),
            email: Regex::new(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
                .expect("email regex"),
            placeholder: Regex::new(r"\b(?:HOST|USER|IP|EMAIL)_\d+\b").expect("placeholder regex"),
        }
    }
}

/// Whether `text[start..end]` is a whole name and not part of a longer word.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    before.is_none_or(|c| !word(c) && c != '.' && c != '-')
        && after.is_none_or(|c| !word(c) && c != '-')
}

impl Masker {
    /// Registers a host or account name to mask wherever it appears as a
    /// whole word. Names shorter than 3 characters, generic account names
    /// and words passed to [`Masker::keep`] are skipped.
    pub fn register(&mut self, value: &str, kind: MaskKind) {
        let value = value.trim();
        // Very short names (such as `-` or `x`) would mask ordinary words.
        let too_short = value.chars().count() < 3;
        let generic = kind == MaskKind::User && is_generic_account(value);
        // A name equal to the data-block marker would unfence the prompt's logs.
        let marker = value.eq_ignore_ascii_case(super::prompt::FENCE_WORD);
        if too_short || generic || marker {
            return;
        }
        if self.names.iter().any(|(v, _)| v == value) {
            return;
        }
        self.names.push((value.to_string(), kind));
        self.finder = None;
    }

    /// Returns the placeholder of a value, assigning the next number of its kind.
    fn placeholder_for(&mut self, value: &str, kind: MaskKind) -> String {
        if let Some(existing) = self.to_placeholder.get(value) {
            return existing.clone();
        }
        let n = self.counts.entry(kind).or_default();
        *n += 1;
        let placeholder = format!("{}_{}", kind.prefix(), n);
        self.to_placeholder
            .insert(value.to_string(), placeholder.clone());
        self.to_value.insert(placeholder.clone(), value.to_string());
        placeholder
    }

    /// Replaces emails, IP addresses and registered names with placeholders.
    pub fn mask(&mut self, text: &str) -> String {
        let mut out = self.mask_pattern(text, MaskKind::Email);
        out = self.mask_pattern(&out, MaskKind::Ip);
        self.mask_names(&out)
    }

    /// Replaces registered names that stand as whole words: not preceded by
    /// a word character, `.` or `-`, nor followed by a word character or `-`.
    /// Where names overlap, the longest one starting first wins, so
    /// `gacrux.example` is masked whole rather than as `gacrux`.
    fn mask_names(&mut self, text: &str) -> String {
        if self.names.is_empty() {
            return text.to_string();
        }
        let finder = self.finder.get_or_insert_with(|| {
            AhoCorasick::new(self.names.iter().map(|(name, _)| name))
                .expect("names build a search automaton")
        });
        let mut found: Vec<(usize, usize, usize)> = finder
            .find_overlapping_iter(text)
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for (start, end, index) in found {
            if start < copied || !stands_alone(text, start, end) {
                continue;
            }
            let (value, kind) = self.names[index].clone();
            let placeholder = self.placeholder_for(&value, kind);
            out.push_str(&text[copied..start]);
            out.push_str(&placeholder);
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    fn mask_pattern(&mut self, text: &str, kind: MaskKind) -> String {
        let re = if kind == MaskKind::Email {
            self.email.clone()
        } else {
            self.ip.clone()
        };
        let found: Vec<String> = re.find_iter(text).map(|m| m.as_str().to_string()).collect();
        // The pattern also matches clock times such as `09:44:22`, which do not parse.
        let valid = |v: &String| kind == MaskKind::Email || v.parse::<std::net::IpAddr>().is_ok();
        for value in found.iter().filter(|v| valid(v)) {
            self.placeholder_for(value, kind);
        }
        re.replace_all(text, |caps: &regex::Captures| {
            self.to_placeholder
                .get(&caps[0])
                .cloned()
                .unwrap_or_else(|| caps[0].to_string())
        })
        .into_owned()
    }

    /// Replaces placeholders with their values; unknown placeholders stay as they are.
    pub fn unmask(&self, text: &str) -> String {
        self.placeholder
            .replace_all(text, |caps: &regex::Captures| {
                self.to_value
                    .get(&caps[0])
                    .cloned()
                    .unwrap_or_else(|| caps[0].to_string())
            })
            .into_owned()
    }

    /// Returns how many distinct values have been masked.
    pub fn len(&self) -> usize {
        self.to_value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.to_value.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_ip_and_email() {
        let mut masker = Masker::default();
        let out = masker.mask("login from 91.207.175.249 by bob@example.com");
        assert_eq!(out, "login from IP_1 by EMAIL_1");
    }

    #[test]
    fn clock_time_not_masked() {
        let mut masker = Masker::default();
        let out = masker.mask("at 09:44:22 from 2001:db8:0:0:0:0:0:1");
        assert_eq!(out, "at 09:44:22 from IP_1");
    }

    #[test]
    fn placeholders_are_stable() {
        let mut masker = Masker::default();
        let first = masker.mask("5.101.40.81 then 10.0.0.5");
        let second = masker.mask("10.0.0.5 again, 5.101.40.81");
        assert_eq!(first, "IP_1 then IP_2");
        assert_eq!(second, "IP_2 again, IP_1");
    }

    #[test]
    fn masks_registered_names() {
        let mut masker = Masker::default();
        masker.register("gacrux", MaskKind::Host);
        masker.register("svc-backup", MaskKind::User);
        let out = masker.mask("svc-backup logged in to gacrux; gacruxes is another word");
        assert_eq!(out, "USER_1 logged in to HOST_1; gacruxes is another word");
    }

    #[test]
    fn longest_overlapping_name_wins() {
        let mut masker = Masker::default();
        masker.register("gacrux", MaskKind::Host);
        masker.register("gacrux.example", MaskKind::Host);
        masker.register("alice", MaskKind::User);
        let out = masker.mask("gacrux.example, gacrux. pre-alice alice-x alice_1 x.alice alice");
        assert_eq!(
            out,
            "HOST_1, HOST_2. pre-alice alice-x alice_1 x.alice USER_1"
        );
    }

    #[test]
    fn generic_account_not_masked() {
        let mut masker = Masker::default();
        masker.register("user", MaskKind::User);
        masker.register("Root", MaskKind::User);
        masker.register("svc-backup", MaskKind::User);
        let out = masker.mask(r#""user": "root", "account": "svc-backup""#);
        assert_eq!(out, r#""user": "root", "account": "USER_1""#);
    }

    #[test]
    fn generic_name_still_masked_as_host() {
        let mut masker = Masker::default();
        masker.register("oracle", MaskKind::Host);
        assert_eq!(masker.mask("ssh to oracle"), "ssh to HOST_1");
    }

    #[test]
    fn host_named_like_a_field_still_masked() {
        // A `chart count by host` alert has one column per host: privacy wins.
        let mut masker = Masker::default();
        masker.register("web01", MaskKind::Host);
        let out = masker.mask(r#""_time": "12:00", "web01": "42""#);
        assert_eq!(out, r#""_time": "12:00", "HOST_1": "42""#);
    }

    #[test]
    fn fence_word_never_masked() {
        let mut masker = Masker::default();
        masker.register("DATA", MaskKind::User);
        masker.register("data", MaskKind::Host);
        let fenced = super::super::prompt::fence("Log", "Failed password for DATA", "t0k");
        assert_eq!(masker.mask(&fenced), fenced);
    }

    #[test]
    fn unmask_restores_values() {
        let mut masker = Masker::default();
        masker.register("gacrux", MaskKind::Host);
        let masked = masker.mask("gacrux talks to 91.207.175.249");
        assert_eq!(masker.unmask(&masked), "gacrux talks to 91.207.175.249");
        assert_eq!(masker.unmask("HOST_1 and HOST_9"), "gacrux and HOST_9");
    }
}
