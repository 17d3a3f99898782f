//! One Sigma rule: parsing the YAML into compiled matchers, and matching a row.
//!
//! Supported field modifiers: `contains`, `startswith`, `endswith`, `re` (with the `i`, `m`
//! and `s` flags), `all`, `windash`, `cidr`, `exists`, `cased`, `gt`, `gte`, `lt` and `lte`.
//! Values may use the `*` and `?` wildcards with `\` escapes. Comparisons ignore case
//! unless `cased` is given, and `re` follows the regex's own flags. Numbers and booleans in
//! a rule compare as text, because every row value is text; `gt` and friends parse both
//! sides as numbers. A multivalue field matches when any of its values does. Keyword lists
//! match anywhere in `_raw`, or in any field when the row has no `_raw`.
//! Any other modifier makes the rule unsupported, and the caller skips it with the reason.

use std::cmp::Ordering;
use std::net::IpAddr;

use regex::Regex;
use serde_yaml::Value as Yaml;

use super::condition::{self, Expr};
use crate::event::{Row, Value};

/// The `logsource` section of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logsource {
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
}

/// A rule compiled for matching.
#[derive(Debug)]
pub(super) struct Rule {
    pub id: String,
    pub title: String,
    pub level: String,
    pub techniques: Vec<String>,
    pub logsource: Logsource,
    selections: Vec<(String, Selection)>,
    condition: Expr,
}

/// The reason a rule could not be loaded.
#[derive(Debug)]
pub(super) enum RuleProblem {
    /// The text is not a Sigma rule (invalid YAML, missing fields).
    Invalid(String),
    /// The rule is valid Sigma but uses a feature this evaluator does not implement.
    Unsupported(String),
}

#[derive(Debug)]
enum Selection {
    Keywords(Vec<Matcher>),
    /// Alternatives (a list of maps), each a conjunction of field tests.
    Maps(Vec<Vec<FieldTest>>),
}

#[derive(Debug)]
struct FieldTest {
    field: String,
    matchers: Vec<Matcher>,
    all: bool,
    exists: Option<bool>,
}

#[derive(Debug)]
enum Matcher {
    /// Text comparison; the needle is lowercased unless the comparison is `cased`.
    Text {
        mode: Mode,
        needle: String,
        cased: bool,
    },
    Regex(Regex),
    Cidr(IpAddr, u8),
    /// `gt`, `gte`, `lt` or `lte` against a number; text that is not a number never matches.
    Compare(Ordering, bool, f64),
    /// `field: null`: the field is missing or empty.
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Exact,
    Contains,
    StartsWith,
    EndsWith,
}

impl Rule {
    /// Parses one rule document; `origin` names the file in messages.
    pub(super) fn parse(text: &str, origin: &str) -> Result<Rule, RuleProblem> {
        let doc: Yaml = serde_yaml::from_str(text)
            .map_err(|e| RuleProblem::Invalid(format!("invalid YAML in {origin}: {e}")))?;
        let id = string_at(&doc, "id").unwrap_or_else(|| origin.to_string());
        let title = string_at(&doc, "title")
            .ok_or_else(|| RuleProblem::Invalid(format!("rule {id} has no title")))?;
        if doc.get("correlation").is_some() {
            return Err(RuleProblem::Unsupported(
                "correlation rules are not supported".into(),
            ));
        }
        let detection = doc
            .get("detection")
            .and_then(Yaml::as_mapping)
            .ok_or_else(|| RuleProblem::Invalid(format!("rule {id} has no detection map")))?;
        let (selections, condition) = parse_detection(detection)?;
        Ok(Rule {
            level: string_at(&doc, "level").unwrap_or_else(|| "medium".into()),
            techniques: techniques_from_tags(&doc),
            logsource: parse_logsource(&doc),
            id,
            title,
            selections,
            condition,
        })
    }

    /// Checks the row against the detection. The caller has already checked the logsource.
    pub(super) fn detects(&self, row: &Row) -> bool {
        let selection = |name: &str| {
            self.selections.iter().find(|(n, _)| n == name).is_some_and(|(_, s)| s.matches(row))
        };
        self.condition.eval_with(&selection)
    }
}

fn string_at(doc: &Yaml, key: &str) -> Option<String> {
    doc.get(key).and_then(scalar_text)
}

fn scalar_text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_logsource(doc: &Yaml) -> Logsource {
    let part = |key: &str| {
        doc.get("logsource")
            .and_then(|l| l.get(key))
            .and_then(scalar_text)
            .map(|s| s.to_lowercase())
    };
    Logsource {
        product: part("product"),
        service: part("service"),
        category: part("category"),
    }
}

/// Turns tags like `attack.t1110.001` into technique IDs like `T1110.001`.
fn techniques_from_tags(doc: &Yaml) -> Vec<String> {
    let Some(tags) = doc.get("tags").and_then(Yaml::as_sequence) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for tag in tags.iter().filter_map(Yaml::as_str) {
        let Some(rest) = tag.strip_prefix("attack.") else {
            continue;
        };
        let is_technique = rest.len() > 1
            && rest.starts_with(['t', 'T'])
            && rest[1..].chars().all(|c| c.is_ascii_digit() || c == '.');
        if is_technique && !ids.iter().any(|i: &String| i.eq_ignore_ascii_case(rest)) {
            ids.push(rest.to_ascii_uppercase());
        }
    }
    ids
}

type Detection = (Vec<(String, Selection)>, Expr);

fn parse_detection(detection: &serde_yaml::Mapping) -> Result<Detection, RuleProblem> {
    let mut selections = Vec::new();
    let mut condition_text = None;
    for (key, value) in detection {
        let name = key.as_str().unwrap_or_default().to_string();
        match name.as_str() {
            "condition" => condition_text = Some(value.clone()),
            "timeframe" => {
                return Err(RuleProblem::Unsupported(
                    "timeframe is not supported".into(),
                ));
            }
            _ => selections.push((name, parse_selection(value)?)),
        }
    }
    let names: Vec<String> = selections.iter().map(|(n, _)| n.clone()).collect();
    let texts: Vec<String> = match condition_text {
        Some(Yaml::String(s)) => vec![s],
        Some(Yaml::Sequence(list)) => list.iter().filter_map(scalar_text).collect(),
        _ => return Err(RuleProblem::Invalid("detection has no condition".into())),
    };
    let mut parts = Vec::new();
    for text in &texts {
        parts.push(condition::parse(text, &names).map_err(RuleProblem::Unsupported)?);
    }
    let condition = if parts.len() == 1 {
        parts.remove(0)
    } else {
        Expr::Or(parts)
    };
    Ok((selections, condition))
}

fn parse_selection(value: &Yaml) -> Result<Selection, RuleProblem> {
    match value {
        Yaml::Mapping(map) => Ok(Selection::Maps(vec![parse_field_map(map)?])),
        Yaml::Sequence(items) if items.iter().all(Yaml::is_mapping) => {
            let alternatives = items
                .iter()
                .filter_map(Yaml::as_mapping)
                .map(parse_field_map)
                .collect::<Result<_, _>>()?;
            Ok(Selection::Maps(alternatives))
        }
        Yaml::Sequence(items) => {
            let mut matchers = Vec::new();
            for item in items {
                let text = scalar_text(item).ok_or_else(|| {
                    RuleProblem::Unsupported("keyword list mixes text and maps".into())
                })?;
                matchers.push(text_matcher(&text, Mode::Contains, false)?);
            }
            Ok(Selection::Keywords(merge_regexes(matchers)?))
        }
        other => match scalar_text(other) {
            Some(text) => Ok(Selection::Keywords(vec![text_matcher(
                &text,
                Mode::Contains,
                false,
            )?])),
            None => Err(RuleProblem::Invalid(
                "selection is neither a map nor a list".into(),
            )),
        },
    }
}

fn parse_field_map(map: &serde_yaml::Mapping) -> Result<Vec<FieldTest>, RuleProblem> {
    map.iter()
        .map(|(key, value)| parse_field_test(key.as_str().unwrap_or_default(), value))
        .collect()
}

/// The modifiers after a field name, such as `|contains|all`.
#[derive(Default)]
struct Modifiers {
    mode: Option<Mode>,
    all: bool,
    cased: bool,
    windash: bool,
    is_regex: bool,
    is_cidr: bool,
    regex_flags: String,
    compare: Option<String>,
    exists: bool,
}

fn parse_modifiers(field: &str, names: &[&str]) -> Result<Modifiers, RuleProblem> {
    let mut modifiers = Modifiers::default();
    for name in names {
        match *name {
            "contains" => modifiers.mode = Some(Mode::Contains),
            "startswith" => modifiers.mode = Some(Mode::StartsWith),
            "endswith" => modifiers.mode = Some(Mode::EndsWith),
            "all" => modifiers.all = true,
            "cased" => modifiers.cased = true,
            "windash" => modifiers.windash = true,
            "re" => modifiers.is_regex = true,
            "i" | "m" | "s" if modifiers.is_regex => modifiers.regex_flags.push_str(name),
            "cidr" => modifiers.is_cidr = true,
            "gt" | "gte" | "lt" | "lte" => modifiers.compare = Some(name.to_string()),
            "exists" => modifiers.exists = true,
            other => {
                return Err(RuleProblem::Unsupported(format!(
                    "field modifier '{other}' on {field} is not supported"
                )))
            }
        }
    }
    Ok(modifiers)
}

fn parse_field_test(key: &str, value: &Yaml) -> Result<FieldTest, RuleProblem> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default().to_string();
    let names: Vec<&str> = parts.collect();
    let modifiers = parse_modifiers(&field, &names)?;

    if modifiers.exists {
        let expected = value
            .as_bool()
            .ok_or_else(|| RuleProblem::Invalid(format!("{field}|exists needs true or false")))?;
        let matchers = Vec::new();
        return Ok(FieldTest {
            field,
            matchers,
            all: false,
            exists: Some(expected),
        });
    }

    let values: Vec<&Yaml> = match value {
        Yaml::Sequence(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut matchers = Vec::new();
    for value in values {
        let Some(text) = scalar_text(value) else {
            if value.is_null() {
                matchers.push(Matcher::Null);
                continue;
            }
            return Err(RuleProblem::Invalid(format!(
                "value of {field} is not a scalar"
            )));
        };
        matchers.extend(value_matchers(&modifiers, &text)?);
    }
    let matchers = if modifiers.all { matchers } else { merge_regexes(matchers)? };
    Ok(FieldTest {
        field,
        matchers,
        all: modifiers.all,
        exists: None,
    })
}

/// Replaces the regex matchers of an any-of list with one alternation, so a
/// value is scanned once instead of once per pattern. Each pattern carries
/// its flags inline, which keeps them scoped to its own branch.
fn merge_regexes(matchers: Vec<Matcher>) -> Result<Vec<Matcher>, RuleProblem> {
    let (regexes, mut others): (Vec<Matcher>, Vec<Matcher>) =
        matchers.into_iter().partition(|m| matches!(m, Matcher::Regex(_)));
    if regexes.len() < 2 {
        others.extend(regexes);
        return Ok(others);
    }
    let branches: Vec<String> = regexes
        .iter()
        .filter_map(|m| match m {
            Matcher::Regex(regex) => Some(format!("(?:{})", regex.as_str())),
            _ => None,
        })
        .collect();
    let combined = Regex::new(&branches.join("|"))
        .map_err(|e| RuleProblem::Invalid(format!("patterns do not combine into one regex: {e}")))?;
    others.push(Matcher::Regex(combined));
    Ok(others)
}

/// Compiles one rule value under the field's modifiers; `windash` can yield several.
fn value_matchers(modifiers: &Modifiers, text: &str) -> Result<Vec<Matcher>, RuleProblem> {
    if let Some(op) = &modifiers.compare {
        return Ok(vec![compare_matcher(op, text)?]);
    }
    if modifiers.is_regex {
        return Ok(vec![regex_matcher(text, &modifiers.regex_flags)?]);
    }
    if modifiers.is_cidr {
        return Ok(vec![cidr_matcher(text)?]);
    }
    let mode = modifiers.mode.unwrap_or(Mode::Exact);
    windash_variants(text, modifiers.windash)
        .iter()
        .map(|variant| text_matcher(variant, mode, modifiers.cased))
        .collect()
}

/// Expands a `-` at the start of the value or after a space into the dash forms Windows
/// command lines accept (`-`, `/`, en dash, em dash, horizontal bar).
fn windash_variants(text: &str, windash: bool) -> Vec<String> {
    if !windash {
        return vec![text.to_string()];
    }
    ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}']
        .iter()
        .map(|dash| {
            let mut out = String::with_capacity(text.len());
            let mut previous = ' ';
            for c in text.chars() {
                out.push(if c == '-' && previous == ' ' {
                    *dash
                } else {
                    c
                });
                previous = c;
            }
            out
        })
        .collect()
}

fn regex_matcher(pattern: &str, flags: &str) -> Result<Matcher, RuleProblem> {
    // Flags go inline so the pattern text alone carries them (see merge_regexes).
    let inline: String = flags.chars().filter(|c| matches!(c, 'i' | 'm' | 's')).collect();
    let full = if inline.is_empty() { pattern.to_string() } else { format!("(?{inline}){pattern}") };
    Regex::new(&full)
        .map(Matcher::Regex)
        .map_err(|e| RuleProblem::Invalid(format!("invalid regex '{pattern}': {e}")))
}

fn compare_matcher(op: &str, text: &str) -> Result<Matcher, RuleProblem> {
    let number: f64 = text
        .parse()
        .map_err(|_| RuleProblem::Invalid(format!("'{text}' after |{op} is not a number")))?;
    let (ordering, or_equal) = match op {
        "gt" => (Ordering::Greater, false),
        "gte" => (Ordering::Greater, true),
        "lt" => (Ordering::Less, false),
        _ => (Ordering::Less, true),
    };
    Ok(Matcher::Compare(ordering, or_equal, number))
}

fn cidr_matcher(text: &str) -> Result<Matcher, RuleProblem> {
    let invalid = || RuleProblem::Invalid(format!("invalid CIDR block '{text}'"));
    let (address, bits) = text.split_once('/').ok_or_else(invalid)?;
    let address: IpAddr = address.parse().map_err(|_| invalid())?;
    let bits: u8 = bits.parse().map_err(|_| invalid())?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(invalid());
    }
    Ok(Matcher::Cidr(address, bits))
}

/// Builds a text matcher; a value with unescaped `*` or `?` becomes an anchored regex.
fn text_matcher(text: &str, mode: Mode, cased: bool) -> Result<Matcher, RuleProblem> {
    let (literal, has_wildcards, pattern) = translate_wildcards(text);
    if !has_wildcards {
        let needle = if cased {
            literal
        } else {
            literal.to_lowercase()
        };
        return Ok(Matcher::Text {
            mode,
            needle,
            cased,
        });
    }
    let anchored = match mode {
        Mode::Exact => format!("^{pattern}$"),
        Mode::Contains => pattern,
        Mode::StartsWith => format!("^{pattern}"),
        Mode::EndsWith => format!("{pattern}$"),
    };
    let flags = if cased { "(?s)" } else { "(?is)" };
    Regex::new(&format!("{flags}{anchored}"))
        .map(Matcher::Regex)
        .map_err(|e| RuleProblem::Invalid(format!("value '{text}' does not compile: {e}")))
}

/// Returns the unescaped literal, whether the value has wildcards, and the regex form.
fn translate_wildcards(text: &str) -> (String, bool, String) {
    let mut literal = String::new();
    let mut pattern = String::new();
    let mut has_wildcards = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                let escaped = chars.next().unwrap_or('\\');
                literal.push(escaped);
                pattern.push_str(&regex::escape(&escaped.to_string()));
            }
            '*' => {
                has_wildcards = true;
                pattern.push_str(".*");
            }
            '?' => {
                has_wildcards = true;
                pattern.push('.');
            }
            other => {
                literal.push(other);
                pattern.push_str(&regex::escape(&other.to_string()));
            }
        }
    }
    (literal, has_wildcards, pattern)
}

impl Selection {
    fn matches(&self, row: &Row) -> bool {
        match self {
            Selection::Keywords(matchers) => {
                let haystacks = Prepared::new(keyword_haystacks(row));
                matchers.iter().any(|m| haystacks.any(m))
            }
            Selection::Maps(alternatives) => alternatives
                .iter()
                .any(|tests| tests.iter().all(|t| t.matches(row))),
        }
    }
}

fn keyword_haystacks(row: &Row) -> Vec<&str> {
    match row.get("_raw") {
        Some(raw) => raw.iter().collect(),
        None => row.values().flat_map(Value::iter).collect(),
    }
}

impl FieldTest {
    fn matches(&self, row: &Row) -> bool {
        let value = lookup_field(row, &self.field);
        if let Some(wanted) = self.exists {
            return value.is_some() == wanted;
        }
        let values = Prepared::new(value.map(|v| v.iter().collect()).unwrap_or_default());
        let test = |m: &Matcher| match m {
            Matcher::Null => values.texts.iter().all(|v| v.is_empty()),
            other => values.any(other),
        };
        if self.all {
            self.matchers.iter().all(test)
        } else {
            self.matchers.iter().any(test)
        }
    }
}

/// Field names of Splunk's classic (non-XML) `WinEventLog:Security` sourcetype, keyed by the
/// XML name that Sigma's Windows rules use. The classic rendering names fields after the
/// labels in the event message, so `IpAddress` appears as `Source_Network_Address`.
///
/// NOTE: the classic `Account_Name` and `Account_Domain` are multivalue in logon events,
/// holding the subject's value first and the target's second. A rule's `TargetUserName`
/// therefore matches when either value does, which can match on the subject as well.
const CLASSIC_WINDOWS_FIELDS: &[(&str, &str)] = &[
    ("EventID", "EventCode"),
    ("IpAddress", "Source_Network_Address"),
    ("TargetUserName", "Account_Name"),
    ("LogonType", "Logon_Type"),
    ("WorkstationName", "Workstation_Name"),
    ("TargetDomainName", "Account_Domain"),
    ("ProcessName", "Process_Name"),
];

/// Finds a field by its exact name, then by its classic Windows name from
/// [`CLASSIC_WINDOWS_FIELDS`] when the rule uses the XML name, then by its name ignoring
/// case.
fn lookup_field<'r>(row: &'r Row, name: &str) -> Option<&'r Value> {
    if let Some(value) = row.get(name) {
        return Some(value);
    }
    let classic = CLASSIC_WINDOWS_FIELDS
        .iter()
        .find(|(xml, _)| *xml == name)
        .and_then(|(_, classic)| row.get(*classic));
    if classic.is_some() {
        return classic;
    }
    row.iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Texts to test, with their lowercase forms computed once on first need:
/// rules test many case-insensitive needles against the same few values.
struct Prepared<'a> {
    texts: Vec<&'a str>,
    lowered: std::cell::OnceCell<Vec<String>>,
}

impl<'a> Prepared<'a> {
    fn new(texts: Vec<&'a str>) -> Self {
        Prepared { texts, lowered: std::cell::OnceCell::new() }
    }

    /// Returns whether the matcher matches any of the texts.
    fn any(&self, matcher: &Matcher) -> bool {
        match matcher {
            Matcher::Text { cased: false, .. } => {
                let lowered = self.lowered.get_or_init(|| self.texts.iter().map(|t| t.to_lowercase()).collect());
                lowered.iter().any(|t| matcher.matches_lowered(t))
            }
            _ => self.texts.iter().any(|t| matcher.matches_text(t)),
        }
    }
}

impl Matcher {
    /// Matches text that is already lowercase, as case-insensitive text matchers expect.
    fn matches_lowered(&self, lowered: &str) -> bool {
        match self {
            Matcher::Text { mode, needle, .. } => match mode {
                Mode::Exact => lowered == needle,
                Mode::Contains => lowered.contains(needle.as_str()),
                Mode::StartsWith => lowered.starts_with(needle.as_str()),
                Mode::EndsWith => lowered.ends_with(needle.as_str()),
            },
            other => other.matches_text(lowered),
        }
    }

    fn matches_text(&self, text: &str) -> bool {
        match self {
            Matcher::Text {
                mode,
                needle,
                cased,
            } => {
                let lowered;
                let hay = if *cased {
                    text
                } else {
                    lowered = text.to_lowercase();
                    &lowered
                };
                match mode {
                    Mode::Exact => hay == needle,
                    Mode::Contains => hay.contains(needle.as_str()),
                    Mode::StartsWith => hay.starts_with(needle.as_str()),
                    Mode::EndsWith => hay.ends_with(needle.as_str()),
                }
            }
            Matcher::Regex(regex) => regex.is_match(text),
            Matcher::Cidr(network, bits) => cidr_contains(*network, *bits, text),
            Matcher::Compare(ordering, or_equal, number) => match text.trim().parse::<f64>() {
                Ok(value) => match value.partial_cmp(number) {
                    Some(Ordering::Equal) => *or_equal,
                    Some(found) => found == *ordering,
                    None => false,
                },
                Err(_) => false,
            },
            Matcher::Null => text.is_empty(),
        }
    }
}

fn cidr_contains(network: IpAddr, bits: u8, text: &str) -> bool {
    match (network, text.trim().parse::<IpAddr>()) {
        (IpAddr::V4(net), Ok(IpAddr::V4(ip))) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), Ok(IpAddr::V6(ip))) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC_IP_RULE: &str =
        include_str!("../../../data/rules/sigma/win_security_susp_failed_logon_source.yml");

    /// Builds a classic `WinEventLog:Security` 4625 row from the given source address.
    fn classic_failed_logon(address: &str) -> Row {
        [
            ("sourcetype", "WinEventLog:Security"),
            ("EventCode", "4625"),
            ("Account_Name", "administrator"),
            ("Logon_Type", "3"),
            ("Source_Network_Address", address),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), Value::from(value)))
        .collect()
    }

    fn public_ip_rule() -> Rule {
        Rule::parse(PUBLIC_IP_RULE, "win_security_susp_failed_logon_source.yml").unwrap()
    }

    #[test]
    fn classic_private_source_not_public() {
        let row = classic_failed_logon("192.168.250.100");
        assert!(!public_ip_rule().detects(&row));
    }

    #[test]
    fn classic_public_source_detected() {
        let row = classic_failed_logon("8.8.8.8");
        assert!(public_ip_rule().detects(&row));
    }

    #[test]
    fn xml_name_preferred_over_classic() {
        let mut row = classic_failed_logon("8.8.8.8");
        row.insert("IpAddress".to_string(), Value::from("10.1.2.3"));
        assert!(!public_ip_rule().detects(&row));
    }

    #[test]
    fn classic_names_resolve() {
        let row: Row = CLASSIC_WINDOWS_FIELDS
            .iter()
            .map(|(_, classic)| (classic.to_string(), Value::from(*classic)))
            .collect();
        for (xml, classic) in CLASSIC_WINDOWS_FIELDS {
            let value = lookup_field(&row, xml).map(ToString::to_string);
            assert_eq!(value.as_deref(), Some(*classic), "{xml}");
        }
    }
}
