//! Remediation: concrete steps that name the hosts, accounts and addresses in the findings,
//! followed by the ATT&CK mitigations for the techniques seen.
//!
//! Immediate steps come first, in finding order. Blocking is only recommended for public
//! addresses: a private source (RFC 1918, loopback, link-local, unique local) gets an
//! investigation step instead, since blocking it at the perimeter would do nothing.
//! Mitigations are deduplicated across techniques and list every technique they cover; a
//! sub-technique that ATT&CK links to no mitigation borrows its parent's. Their guidance text
//! is cleaned of ATT&CK markup by [`clean_attack_text`].

use std::net::IpAddr;
use std::sync::OnceLock;

use regex::Regex;

use super::attack::Catalogue;
use super::{Finding, FindingCategory, RemediationKind, RemediationStep, TechniqueHit};

/// Recommends immediate steps for the findings, then mitigations for the techniques.
pub fn recommend(
    findings: &[Finding],
    techniques: &[TechniqueHit],
    catalogue: &Catalogue,
) -> Vec<RemediationStep> {
    let mut steps = Steps::default();
    for finding in findings {
        immediate_steps(&mut steps, finding);
    }
    mitigation_steps(&mut steps, findings, techniques, catalogue);
    steps.list
}

#[derive(Default)]
struct Steps {
    list: Vec<RemediationStep>,
}

impl Steps {
    /// Adds an immediate step, or merges the finding into an identical earlier step.
    fn immediate(&mut self, action: String, reason: &str, finding: &Finding) {
        if let Some(existing) = self.list.iter_mut().find(|s| s.action == action) {
            if !existing.findings.contains(&finding.id) {
                existing.findings.push(finding.id.clone());
            }
            return;
        }
        self.list.push(RemediationStep {
            kind: RemediationKind::Immediate,
            action,
            reason: reason.to_string(),
            mitigation: None,
            techniques: finding.techniques.clone(),
            findings: vec![finding.id.clone()],
            model_text: None,
        });
    }
}

/// The kind of an address string, which decides how to block it.
enum Address<'a> {
    Public(&'a str),
    Private(&'a str),
    Domain(&'a str),
    Url(&'a str),
}

fn classify(address: &str) -> Address<'_> {
    if address.contains("://") {
        return Address::Url(address);
    }
    match address.parse::<IpAddr>() {
        Ok(ip) if is_private(ip) => Address::Private(address),
        Ok(_) => Address::Public(address),
        Err(_) => Address::Domain(address),
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Adds blocking steps for each address: `place` names where public addresses are blocked.
fn block_addresses(steps: &mut Steps, finding: &Finding, place: &str, reason: &str) {
    for address in &finding.addresses {
        let action = match classify(address) {
            Address::Public(ip) => format!("Block {ip} at the {place}"),
            Address::Private(ip) => {
                format!("Investigate internal host {ip}, a source in this incident")
            }
            Address::Domain(domain) => format!("Sinkhole {domain} in DNS"),
            Address::Url(url) => format!("Block the URL {url} at the web proxy"),
        };
        steps.immediate(action, reason, finding);
    }
}

fn hosts_or_default(finding: &Finding) -> Vec<String> {
    if finding.hosts.is_empty() {
        vec!["the affected host".to_string()]
    } else {
        finding.hosts.clone()
    }
}

fn immediate_steps(steps: &mut Steps, finding: &Finding) {
    use FindingCategory::*;
    match finding.category {
        FailedAuthentication => {
            block_addresses(
                steps,
                finding,
                "perimeter",
                "source of repeated failed logins",
            );
            for host in &finding.hosts {
                steps.immediate(
                    format!(
                        "Enforce account lockout or login throttling on {host}, and allow \
                         SSH or RDP only from known networks"
                    ),
                    "repeated failed logins reached this host",
                    finding,
                );
            }
        }
        SuccessfulAuthentication => {
            for account in &finding.accounts {
                for host in hosts_or_default(finding) {
                    steps.immediate(
                        format!(
                            "Reset the password of {account} on {host} and review its \
                             authorized_keys"
                        ),
                        "the account logged in from a suspect source",
                        finding,
                    );
                }
            }
            block_addresses(
                steps,
                finding,
                "perimeter",
                "source of a suspect successful login",
            );
        }
        ProcessExecution => {
            for host in hosts_or_default(finding) {
                steps.immediate(
                    format!(
                        "Collect volatile data (processes, connections, shell history) from \
                         {host} before cleaning it"
                    ),
                    "an intruder ran commands on this host",
                    finding,
                );
            }
        }
        OutboundConnection => {
            block_addresses(
                steps,
                finding,
                "egress firewall",
                "destination of suspect outbound traffic",
            );
        }
        Cryptomining => {
            for host in hosts_or_default(finding) {
                steps.immediate(
                    format!(
                        "Isolate host {host} and remove the mining process and its persistence"
                    ),
                    "the host is mining cryptocurrency",
                    finding,
                );
            }
            block_addresses(
                steps,
                finding,
                "egress firewall",
                "mining pool or mining script host",
            );
        }
        LateralMovement => {
            for host in hosts_or_default(finding) {
                steps.immediate(
                    format!(
                        "Isolate host {host} and review logins to the internal hosts it reached"
                    ),
                    "the host was used to move to other internal hosts",
                    finding,
                );
            }
        }
        WebAttack => {
            block_addresses(
                steps,
                finding,
                "web application firewall",
                "source of web attack requests",
            );
            for host in &finding.hosts {
                steps.immediate(
                    format!(
                        "Review the application logs on {host} for attack requests that \
                         returned data or errors"
                    ),
                    "attack requests reached this web server",
                    finding,
                );
            }
        }
        IntelMatch => {
            block_addresses(steps, finding, "egress firewall", "listed in threat intel");
        }
        NoSuccessfulAuthentication | Observation => {}
    }
}

/// Returns the mitigations of a technique, or of its parent when it has none of its own.
fn mitigations_of<'c>(catalogue: &'c Catalogue, id: &str) -> &'c [super::attack::Mitigation] {
    match catalogue.get(id) {
        Some(technique) if !technique.mitigations.is_empty() => &technique.mitigations,
        _ => catalogue
            .parent(id)
            .map(|p| p.mitigations.as_slice())
            .unwrap_or(&[]),
    }
}

fn mitigation_steps(
    steps: &mut Steps,
    findings: &[Finding],
    techniques: &[TechniqueHit],
    catalogue: &Catalogue,
) {
    let first_mitigation = steps.list.len();
    for hit in techniques {
        let related: Vec<String> = findings
            .iter()
            .filter(|f| f.techniques.iter().any(|t| t == &hit.id))
            .map(|f| f.id.clone())
            .collect();
        for mitigation in mitigations_of(catalogue, &hit.id) {
            let existing = steps.list[first_mitigation..]
                .iter_mut()
                .find(|s| s.mitigation.as_deref() == Some(mitigation.id.as_str()));
            if let Some(step) = existing {
                if !step.techniques.contains(&hit.id) {
                    step.techniques.push(hit.id.clone());
                }
                for id in &related {
                    if !step.findings.contains(id) {
                        step.findings.push(id.clone());
                    }
                }
                continue;
            }
            let name = catalogue
                .mitigation(&mitigation.id)
                .map(|m| m.name.as_str())
                .unwrap_or("");
            steps.list.push(RemediationStep {
                kind: RemediationKind::Mitigation,
                action: format!("{} {name}", mitigation.id).trim_end().to_string(),
                reason: clean_attack_text(&mitigation.how),
                mitigation: Some(mitigation.id.clone()),
                techniques: vec![hit.id.clone()],
                findings: related.clone(),
                model_text: None,
            });
        }
    }
}

/// Marker the bundled catalogue appends to guidance it cut short.
const CUT_MARKER: &str = "...";

/// Patterns for ATT&CK markup, compiled once.
struct Markup {
    /// `(Citation: Source Name)`.
    citation: Regex,
    /// `[text](url)`, capturing the text.
    link: Regex,
    /// An HTML tag such as `<code>`, `</code>` or `<br/>`. Only lowercase tag names
    /// match, so placeholders in registry paths such as `<NetworkProviderName>` stay.
    tag: Regex,
    /// What a cut can leave at the end: a link, tag or citation missing its close.
    open_link: Regex,
    open_tag: Regex,
    open_citation: Regex,
}

fn markup() -> &'static Markup {
    static MARKUP: OnceLock<Markup> = OnceLock::new();
    MARKUP.get_or_init(|| {
        let compile = |pattern: &str| Regex::new(pattern).expect("markup pattern is valid");
        Markup {
            citation: compile(r"\s*\(Citation:[^)]*\)"),
            link: compile(r"\[([^\]]*)\]\([^)]*\)"),
            tag: compile(r"</?[a-z][a-z0-9]*(\s[^>]*)?/?>"),
            open_link: compile(r"\[([^\]]*)(\]\([^)]*)?$"),
            open_tag: compile(r"</?[a-z][^>]*$"),
            open_citation: compile(r"\s*\(Cit[^)]*$"),
        }
    })
}

/// Rewrites ATT&CK guidance as plain text: markdown links become their text, HTML tags
/// and `(Citation: …)` references are removed, and runs of whitespace become one space.
/// Text the catalogue cut short (ending in `...`) is cut back to its last full sentence,
/// or, when it has none, kept with a trailing `…`.
pub fn clean_attack_text(text: &str) -> String {
    let markup = markup();
    let trimmed = text.trim_end();
    let truncated = trimmed.ends_with(CUT_MARKER);
    let mut text = trimmed
        .strip_suffix(CUT_MARKER)
        .unwrap_or(trimmed)
        .to_string();
    if truncated {
        text = markup.open_citation.replace(&text, "").into_owned();
        text = markup.open_tag.replace(&text, "").into_owned();
        text = markup.open_link.replace(&text, "$1").into_owned();
    }
    text = markup.citation.replace_all(&text, "").into_owned();
    text = markup.link.replace_all(&text, "$1").into_owned();
    text = markup.tag.replace_all(&text, "").into_owned();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !truncated {
        return text;
    }
    match last_sentence_end(&text) {
        Some(end) => text[..end].to_string(),
        None if text.is_empty() => text,
        None => format!("{text}…"),
    }
}

/// Returns the byte offset just past the last sentence end: `.`, `!` or `?`, with any
/// closing brackets or quotes, followed by the end of the text or by a space and a
/// capital letter or digit. "e.g. plaintext" therefore does not end a sentence.
fn last_sentence_end(text: &str) -> Option<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut end = None;
    for (k, &(_, c)) in chars.iter().enumerate() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let mut next = k + 1;
        while chars
            .get(next)
            .is_some_and(|&(_, c)| matches!(c, ')' | '"' | '\''))
        {
            next += 1;
        }
        let starts_sentence = |c: char| c.is_uppercase() || c.is_ascii_digit();
        let boundary = match chars.get(next) {
            None => true,
            Some(&(_, ' ')) => chars
                .get(next + 1)
                .is_some_and(|&(_, c)| starts_sentence(c)),
            Some(_) => false,
        };
        if boundary {
            end = Some(chars.get(next).map_or(text.len(), |&(i, _)| i));
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, category: FindingCategory) -> Finding {
        Finding::new(id, category, "t")
    }

    fn hit(id: &str) -> TechniqueHit {
        TechniqueHit {
            id: id.into(),
            name: String::new(),
            tactics: vec![],
            rules: vec![],
            event_count: 1,
            first_seen: None,
            last_seen: None,
            evidence: vec![],
        }
    }

    fn actions(steps: &[RemediationStep]) -> Vec<&str> {
        steps.iter().map(|s| s.action.as_str()).collect()
    }

    fn story() -> Vec<Finding> {
        let mut failed = finding("F1", FindingCategory::FailedAuthentication);
        failed.addresses = vec!["5.101.40.81".into()];
        failed.techniques = vec!["T1110.001".into()];
        let mut success = finding("F2", FindingCategory::SuccessfulAuthentication);
        success.accounts = vec!["ec2-user".into()];
        success.hosts = vec!["gacrux.i-0920036c8ca91e501".into()];
        success.addresses = vec!["91.207.175.249".into()];
        success.techniques = vec!["T1078".into()];
        let mut outbound = finding("F3", FindingCategory::OutboundConnection);
        outbound.addresses = vec!["91.207.175.249".into()];
        let mut mining = finding("F4", FindingCategory::Cryptomining);
        mining.hosts = vec!["mercury".into()];
        mining.addresses = vec!["coinhive.com".into()];
        mining.techniques = vec!["T1496".into()];
        vec![failed, success, outbound, mining]
    }

    #[test]
    fn story_steps_name_actual_values() {
        let steps = recommend(&story(), &[], Catalogue::bundled());
        let list = actions(&steps);
        let expected = [
            "Block 5.101.40.81 at the perimeter",
            "Reset the password of ec2-user on gacrux.i-0920036c8ca91e501 and review its authorized_keys",
            "Block 91.207.175.249 at the egress firewall",
            "Isolate host mercury and remove the mining process and its persistence",
            "Sinkhole coinhive.com in DNS",
        ];
        for action in expected {
            assert!(list.contains(&action), "missing {action:?} in {list:#?}");
        }
    }

    #[test]
    fn immediate_steps_come_first() {
        let steps = recommend(&story(), &[hit("T1110.001")], Catalogue::bundled());
        let first_mitigation = steps
            .iter()
            .position(|s| s.kind == RemediationKind::Mitigation);
        let last_immediate = steps
            .iter()
            .rposition(|s| s.kind == RemediationKind::Immediate);
        assert!(first_mitigation.unwrap() > last_immediate.unwrap());
    }

    #[test]
    fn private_source_not_blocked() {
        let mut failed = finding("F1", FindingCategory::FailedAuthentication);
        failed.addresses = vec!["10.0.3.7".into()];
        let steps = recommend(&[failed], &[], Catalogue::bundled());
        assert!(!actions(&steps)
            .iter()
            .any(|a| a.starts_with("Block 10.0.3.7")));
        assert!(actions(&steps)
            .iter()
            .any(|a| a.contains("Investigate internal host 10.0.3.7")));
    }

    #[test]
    fn mitigations_deduplicated_across_techniques() {
        // T1110 and T1110.001 share M1027, M1032 and M1036 in ATT&CK v18.1.
        let steps = recommend(&[], &[hit("T1110"), hit("T1110.001")], Catalogue::bundled());
        let m1032: Vec<&RemediationStep> = steps
            .iter()
            .filter(|s| s.mitigation.as_deref() == Some("M1032"))
            .collect();
        assert_eq!(m1032.len(), 1);
        assert_eq!(
            m1032[0].techniques,
            vec!["T1110".to_string(), "T1110.001".to_string()]
        );
        assert_eq!(m1032[0].action, "M1032 Multi-factor Authentication");
        assert!(!m1032[0].reason.is_empty());
    }

    #[test]
    fn mitigation_count_for_brute_force() {
        // T1110: M1018 M1027 M1032 M1036; T1110.001 adds M1051. Five distinct.
        let steps = recommend(&[], &[hit("T1110"), hit("T1110.001")], Catalogue::bundled());
        assert_eq!(steps.len(), 5);
    }

    #[test]
    fn mitigation_lists_related_findings() {
        let steps = recommend(&story(), &[hit("T1110.001")], Catalogue::bundled());
        let m1051 = steps
            .iter()
            .find(|s| s.mitigation.as_deref() == Some("M1051"))
            .unwrap();
        assert_eq!(m1051.findings, vec!["F1".to_string()]);
    }

    #[test]
    fn repeated_address_merges_findings() {
        let steps = recommend(&story(), &[], Catalogue::bundled());
        let block = steps
            .iter()
            .find(|s| s.action == "Block 91.207.175.249 at the perimeter")
            .unwrap();
        assert_eq!(block.findings, vec!["F2".to_string()]);
        let egress = steps
            .iter()
            .find(|s| s.action == "Block 91.207.175.249 at the egress firewall")
            .unwrap();
        assert_eq!(egress.findings, vec!["F3".to_string()]);
    }

    #[test]
    fn no_success_finding_adds_nothing() {
        let mut absent = finding("F9", FindingCategory::NoSuccessfulAuthentication);
        absent.addresses = vec!["5.101.40.81".into()];
        assert!(recommend(&[absent], &[], Catalogue::bundled()).is_empty());
    }

    #[test]
    fn clean_text_unwraps_links() {
        let text =
            "Enable rules to block [Visual Basic](https://attack.mitre.org/techniques/T1059/005) \
                    and [JavaScript](https://attack.mitre.org/techniques/T1059/007) scripts.";
        assert_eq!(
            clean_attack_text(text),
            "Enable rules to block Visual Basic and JavaScript scripts."
        );
    }

    #[test]
    fn clean_text_removes_tags() {
        let text = "Restrict access to the <code>authorized_keys</code> file.";
        assert_eq!(
            clean_attack_text(text),
            "Restrict access to the authorized_keys file."
        );
    }

    #[test]
    fn clean_text_keeps_placeholders() {
        let text = "Audit <code>HKLM\\Providers\\<NetworkProviderName></code> for changes.";
        assert_eq!(
            clean_attack_text(text),
            "Audit HKLM\\Providers\\<NetworkProviderName> for changes."
        );
    }

    #[test]
    fn clean_text_removes_citations() {
        let text =
            "Change default passwords before deployment.(Citation: US-CERT Alert TA13-175A) \
                    Audit them yearly. (Citation: Vendor Guide)";
        assert_eq!(
            clean_attack_text(text),
            "Change default passwords before deployment. Audit them yearly."
        );
    }

    #[test]
    fn cut_text_ends_at_last_sentence() {
        let text = "Use network signatures to identify malware traffic. Signatures are ...";
        assert_eq!(
            clean_attack_text(text),
            "Use network signatures to identify malware traffic."
        );
    }

    #[test]
    fn cut_text_drops_open_tag() {
        let text = "Run tasks as the user. The Registry key is located at <code>H...";
        assert_eq!(clean_attack_text(text), "Run tasks as the user.");
    }

    #[test]
    fn cut_text_drops_open_citation() {
        let text = "Change default passwords before deployment.(Citation: US-CERT Alert ...";
        assert_eq!(
            clean_attack_text(text),
            "Change default passwords before deployment."
        );
    }

    #[test]
    fn cut_text_ignores_abbreviations() {
        let text = "Do not store credentials insecurely (e.g. plaintext credentials in co...";
        assert_eq!(
            clean_attack_text(text),
            "Do not store credentials insecurely (e.g. plaintext credentials in co…"
        );
    }

    #[test]
    fn cut_text_without_sentence_gets_ellipsis() {
        let text = "On Windows 10, enable rules to block [Visual Basic](https://attack.mitre.org/t\
                    echniques/T1059/005) and [JavaScript](https://att...";
        assert_eq!(
            clean_attack_text(text),
            "On Windows 10, enable rules to block Visual Basic and JavaScript…"
        );
    }

    #[test]
    fn bundled_guidance_has_no_markup() {
        let steps = recommend(&[], &[hit("T1053"), hit("T1059")], Catalogue::bundled());
        assert!(!steps.is_empty());
        for step in &steps {
            let reason = &step.reason;
            assert!(!reason.contains("<code>"), "{reason}");
            assert!(!reason.contains("]("), "{reason}");
            assert!(!reason.contains("(Citation"), "{reason}");
            assert!(!reason.ends_with("..."), "{reason}");
        }
    }
}
