//! Remediation: concrete steps that name the hosts, accounts and addresses in the findings,
//! followed by the ATT&CK mitigations for the techniques seen.
//!
//! Immediate steps come first, in finding order. Blocking is only recommended for public
//! addresses: a private source (RFC 1918, loopback, link-local, unique local) gets an
//! investigation step instead, since blocking it at the perimeter would do nothing.
//! Mitigations are deduplicated across techniques and list every technique they cover; a
//! sub-technique that ATT&CK links to no mitigation borrows its parent's.

use std::net::IpAddr;

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
                reason: mitigation.how.clone(),
                mitigation: Some(mitigation.id.clone()),
                techniques: vec![hit.id.clone()],
                findings: related.clone(),
            });
        }
    }
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
}
