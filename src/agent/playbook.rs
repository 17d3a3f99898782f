//! The playbook planner: deterministic investigation plans per alert class.
//!
//! Each iteration it works out every action the playbook wants given the alert
//! class and the findings so far (a suspicious login leads to process,
//! network and lateral-movement checks on that host), and returns the ones
//! that have not run yet. When none remain, it is done. No model is needed.

use std::collections::BTreeSet;
use std::net::IpAddr;

use async_trait::async_trait;

use crate::alert::AlertClass;
use crate::analysis::FindingCategory;
use crate::report::PlannerInfo;

use super::action::{Account, Action, HostName};
use super::planner::{Plan, PlanContext, PlanError, PlannedAction, Planner};
use super::tools::is_external;

/// The embedded planner that needs no model.
#[derive(Debug, Default)]
pub struct PlaybookPlanner;

#[async_trait]
impl Planner for PlaybookPlanner {
    fn info(&self) -> PlannerInfo {
        PlannerInfo { kind: "playbook".into(), model: None }
    }

    async fn plan(&self, context: &PlanContext<'_>) -> Result<Plan, PlanError> {
        let wanted = wanted_actions(context);
        let mut seen = BTreeSet::new();
        let next: Vec<PlannedAction> = wanted
            .into_iter()
            .filter(|p| !context.already_ran(&p.action) && seen.insert(p.action.describe()))
            .collect();
        if next.is_empty() {
            let reason = "every playbook step for this alert class and its findings has run";
            return Ok(Plan::Done { reason: reason.into() });
        }
        Ok(Plan::Run(next))
    }
}

/// Every action the playbook wants at this point, whether or not it already ran.
fn wanted_actions(context: &PlanContext<'_>) -> Vec<PlannedAction> {
    let alert = context.alert;
    let host = alert.field("host").and_then(|h| HostName::try_from(h.to_string()).ok());
    let ip = |names: &[&str]| names.iter().find_map(|n| alert.field(n)?.parse::<IpAddr>().ok());
    let mut plan = Vec::new();
    let mut push = |action: Action, reason: String| plan.push(PlannedAction { action, reason });

    match context.class {
        AlertClass::SshBruteForce | AlertClass::WindowsAuthFailure => {
            let src = ip(&["src_ip", "src", "Source_Network_Address", "IpAddress", "rhost"]);
            let accounts = targeted_accounts(context);
            push(
                Action::CheckLoginSuccess { host: host.clone(), src_ip: src, accounts },
                "did any login succeed after the failures?".into(),
            );
            if let Some(src) = src {
                push(Action::CorrelateIoc { indicator: src.to_string() }, format!("where else does {src} appear, and is it known-bad?"));
                if context.class == AlertClass::WindowsAuthFailure {
                    push(
                        Action::CheckLateralMovement { host: None, host_ip: Some(src), since: None },
                        format!("did {src} log on to other hosts?"),
                    );
                }
                if !has_suspicious_login(context) {
                    push(Action::ExpandToNetworkLogs { ip: src }, format!("what else did {src} talk to?"));
                }
            }
        }
        AlertClass::SuspiciousOutbound => {
            let dest = ip(&["dest_ip", "dest"]);
            let src = ip(&["src_ip", "src"]);
            push(
                Action::CheckOutboundConnections { host: host.clone(), src_ip: src },
                "which external destinations does this host reach?".into(),
            );
            if let Some(dest) = dest {
                push(Action::CorrelateIoc { indicator: dest.to_string() }, format!("where else does {dest} appear, and is it known-bad?"));
                push(
                    Action::CheckLoginSuccess { host: None, src_ip: Some(dest), accounts: Vec::new() },
                    format!("did {dest} log in anywhere?"),
                );
            }
        }
        AlertClass::Cryptomining => {
            push(Action::CheckCryptomining { host: host.clone() }, "how much mining traffic, from which hosts?".into());
            if let Some(host) = &host {
                push(
                    Action::CheckOutboundConnections { host: Some(host.clone()), src_ip: None },
                    format!("does {host} connect out to pools or C2?"),
                );
                push(
                    Action::CheckProcessExecution { host: host.clone(), account: None, since: None },
                    format!("which processes ran on {host}?"),
                );
            }
            if let Some(query) = alert.field("query").filter(|q| crate::alert::is_hostname(q)) {
                push(Action::CorrelateIoc { indicator: query.to_string() }, format!("is {query} known-bad?"));
            }
        }
        AlertClass::WebAttack => {
            if let Some(src) = ip(&["src_ip", "clientip", "src"]) {
                push(Action::CorrelateIoc { indicator: src.to_string() }, format!("where else does {src} appear, and is it known-bad?"));
                push(Action::ExpandToNetworkLogs { ip: src }, format!("what else did {src} talk to?"));
                push(
                    Action::CheckLoginSuccess { host: None, src_ip: Some(src), accounts: Vec::new() },
                    format!("did {src} log in anywhere?"),
                );
            }
        }
        AlertClass::Unknown => {
            let entities = context.entities;
            for host in entities.hosts.iter().filter_map(|h| HostName::try_from(h.clone()).ok()) {
                push(
                    Action::CheckProcessExecution { host: host.clone(), account: None, since: None },
                    format!("which processes ran on {host}?"),
                );
            }
            for ip in entities.ips.iter().filter(|ip| is_external(**ip)) {
                push(Action::CorrelateIoc { indicator: ip.to_string() }, format!("where else does {ip} appear, and is it known-bad?"));
            }
        }
    }
    plan.extend(follow_suspicious_logins(context));
    plan
}

/// Accounts named by failed-login findings.
fn targeted_accounts(context: &PlanContext<'_>) -> Vec<Account> {
    let names: BTreeSet<&String> = context
        .findings
        .iter()
        .filter(|f| f.category == FindingCategory::FailedAuthentication)
        .flat_map(|f| f.accounts.iter())
        .collect();
    names.into_iter().filter_map(|n| Account::try_from(n.clone()).ok()).collect()
}

fn has_suspicious_login(context: &PlanContext<'_>) -> bool {
    context.findings.iter().any(|f| f.category == FindingCategory::SuccessfulAuthentication)
}

/// After a suspicious login: what ran on the host, where it connects, where
/// the intruder went next, and what is known of the address it came from.
fn follow_suspicious_logins(context: &PlanContext<'_>) -> Vec<PlannedAction> {
    let mut plan = Vec::new();
    for f in context.findings.iter().filter(|f| f.category == FindingCategory::SuccessfulAuthentication) {
        let Some(host) = f.hosts.first().and_then(|h| HostName::try_from(h.clone()).ok()) else {
            continue;
        };
        let account = f.accounts.first().and_then(|a| Account::try_from(a.clone()).ok());
        let since = f.first_seen;
        let who = account.as_ref().map_or("the intruder".to_string(), |a| a.as_str().to_string());
        plan.push(PlannedAction {
            action: Action::CheckProcessExecution { host: host.clone(), account: account.clone(), since },
            reason: format!("what did {who} run on {host} after the login?"),
        });
        plan.push(PlannedAction {
            action: Action::CheckOutboundConnections { host: Some(host.clone()), src_ip: None },
            reason: format!("does {host} connect out after the login?"),
        });
        plan.push(PlannedAction {
            action: Action::CheckLateralMovement { host: Some(host.clone()), host_ip: None, since },
            reason: format!("did {who} move from {host} to other hosts?"),
        });
        if let Some(src) = f.addresses.first().and_then(|a| a.parse::<IpAddr>().ok()) {
            plan.push(PlannedAction {
                action: Action::CorrelateIoc { indicator: src.to_string() },
                reason: format!("where else does {src} appear, and is it known-bad?"),
            });
            plan.push(PlannedAction {
                action: Action::ExpandToNetworkLogs { ip: src },
                reason: format!("what network traffic involves {src}?"),
            });
        }
    }
    plan
}
