//! The tools behind each action: the SPL they run and how their rows become findings.
//!
//! Every query is built from constant field names and values that were
//! validated (IP addresses, hostnames, accounts) and then quoted with
//! [`quote`]; no raw alert or log value is ever concatenated into SPL.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::alert::{Alert, AlertClass};
use crate::analysis::intel::IntelDb;
use crate::analysis::ioc;
use crate::analysis::severity::thousands;
use crate::analysis::{EvidenceId, Finding, FindingCategory};
use crate::event::{parse_splunk_time, Row, TimestampMicros};
use crate::spl::quote::quote;

use super::action::{Account, Action, HostName};

/// Field names that carry a source address across sourcetypes.
const SOURCE_FIELDS: [&str; 3] = ["src_ip", "Source_Network_Address", "IpAddress"];
/// Field names that carry an account across sourcetypes.
const ACCOUNT_FIELDS: [&str; 5] = ["user", "Account_Name", "TargetUserName", "User", "src_user"];
/// Commands listed in a process finding's detail; the evidence has them all.
const MAX_LISTED_COMMANDS: usize = 30;
/// Fragments of domain names used by public mining pools and browser miners.
const MINING_DOMAINS: [&str; 10] = [
    "coinhive", "minexmr", "xmrpool", "nanopool", "supportxmr", "monerohash", "cryptonight",
    "2miners", "f2pool", "nicehash",
];

/// The results of one query, as a tool interprets them.
#[derive(Debug, Clone)]
pub struct QueryOutcome {
    pub evidence: EvidenceId,
    pub rows: Vec<Row>,
    /// The failure reason, when the query failed.
    pub failure: Option<String>,
}

/// Addresses and accounts under suspicion, which shape how rows are read.
#[derive(Debug, Clone, Default)]
pub struct Suspects {
    /// Addresses seen attacking or controlling (brute-force sources, C2).
    pub addresses: BTreeSet<IpAddr>,
    /// Accounts an attacker targeted or used.
    pub accounts: BTreeSet<String>,
}

/// Findings drawn from one action's rows, and a one-line summary for the step.
#[derive(Debug, Clone, Default)]
pub struct Interpretation {
    pub findings: Vec<Finding>,
    pub summary: String,
    /// Indices of the rows that support the findings; `None` means all rows.
    /// Only these rows are mapped to ATT&CK techniques, so routine activity
    /// returned alongside (such as other users' logins) is not reported.
    pub relevant: Option<Vec<usize>>,
    /// Rows behind individual findings, as (finding index, row indices), for
    /// findings that rest on only part of their query's rows.
    pub finding_rows: Vec<(usize, Vec<usize>)>,
}

/// Builds the SPL queries an action runs. `limit` caps rows per query.
pub fn queries(action: &Action, limit: usize) -> Vec<String> {
    let cap = format!(" | head {limit}");
    match action {
        Action::CheckLoginSuccess { host, src_ip, .. } => {
            let mut spl = format!("search {}", login_success_filter());
            match (host, src_ip) {
                (Some(host), _) => spl.push_str(&format!(" {}", field_eq("host", host.as_str()))),
                (None, Some(ip)) => spl.push_str(&format!(" {}", any_field_eq(&SOURCE_FIELDS, &ip.to_string()))),
                (None, None) => {}
            }
            vec![spl + &cap]
        }
        Action::CheckProcessExecution { host, account, since } => {
            let mut spl = format!(
                "search {} {}",
                field_eq("host", host.as_str()),
                "(sourcetype=\"sysmon:linux\" OR sourcetype=\"linux:audit\" \
                 OR sourcetype=\"XmlWinEventLog:Microsoft-Windows-Sysmon/Operational\" \
                 OR EventCode=4688 OR (sourcetype=linux_secure \"COMMAND=\"))"
            );
            if let Some(account) = account {
                spl.push_str(&format!(" {}", any_field_eq(&["User", "user"], account.as_str())));
            }
            if let Some(since) = since {
                spl.push_str(&format!(" earliest={}", since.div_euclid(1_000_000)));
            }
            vec![spl + " | sort _time" + &cap]
        }
        Action::ExpandToNetworkLogs { ip } => {
            let ip = ip.to_string();
            vec![format!("search {}{cap}", any_field_eq(&["src_ip", "dest_ip", "src", "dest"], &ip))]
        }
        Action::CheckLateralMovement { host, host_ip, since } => {
            let mut clauses = Vec::new();
            if let Some(ip) = host_ip {
                let from_ip = any_field_eq(&SOURCE_FIELDS, &ip.to_string());
                clauses.push(format!("({} {from_ip})", login_success_filter()));
            }
            if let Some(host) = host {
                clauses.push(format!(
                    "({} (CommandLine=\"ssh *\" OR CommandLine=\"scp *\" OR CommandLine=\"*psexec*\"))",
                    field_eq("host", host.as_str())
                ));
            }
            let mut spl = format!("search ({})", clauses.join(" OR "));
            if let Some(since) = since {
                spl.push_str(&format!(" earliest={}", since.div_euclid(1_000_000)));
            }
            vec![spl + &cap]
        }
        Action::CheckOutboundConnections { host, src_ip } => {
            let mut spl = String::from("search (sourcetype=\"stream:tcp\" OR sourcetype=\"stream:udp\")");
            if let Some(host) = host {
                spl.push_str(&format!(" {}", field_eq("host", host.as_str())));
            }
            if let Some(ip) = src_ip {
                spl.push_str(&format!(" {}", field_eq("src_ip", &ip.to_string())));
            }
            vec![spl + &cap]
        }
        Action::CheckCryptomining { host } => {
            let domains: Vec<String> =
                MINING_DOMAINS.iter().map(|d| format!("query={}", quote(&format!("*{d}*")))).collect();
            let mut spl = format!(
                "search ((sourcetype=\"stream:dns\" ({})) OR \"stratum+tcp\" OR xmrig)",
                domains.join(" OR ")
            );
            if let Some(host) = host {
                spl.push_str(&format!(" {}", field_eq("host", host.as_str())));
            }
            vec![spl + &cap]
        }
        Action::CorrelateIoc { indicator } => vec![format!("search {}{cap}", quote(indicator))],
        Action::RunSpl { query } => vec![query.clone()],
    }
}

/// Builds the SPL that fetches the alert's own events, from its class and
/// fields, or returns `None` when an unclassified alert names nothing to
/// search for (searching everything would report unrelated activity).
pub fn alert_query(alert: &Alert, class: AlertClass, limit: usize) -> Option<String> {
    let mut terms: Vec<String> = Vec::new();
    let host = alert.field("host").filter(|h| crate::alert::is_hostname(h));
    let ip_field = |names: &[&str]| names.iter().find_map(|n| alert.field(n)?.parse::<IpAddr>().ok());
    match class {
        AlertClass::SshBruteForce => {
            terms.push("sourcetype=linux_secure".into());
            if let Some(ip) = ip_field(&["src_ip", "src", "rhost"]) {
                terms.push(field_eq("src_ip", &ip.to_string()));
            }
        }
        AlertClass::SuspiciousOutbound => {
            terms.push("(sourcetype=\"stream:tcp\" OR sourcetype=\"stream:udp\")".into());
            if let Some(ip) = ip_field(&["dest_ip", "dest"]) {
                terms.push(field_eq("dest_ip", &ip.to_string()));
            }
            if let Some(ip) = ip_field(&["src_ip", "src"]) {
                terms.push(field_eq("src_ip", &ip.to_string()));
            }
        }
        AlertClass::Cryptomining => {
            terms.push("sourcetype=\"stream:dns\"".into());
            let domains: Vec<String> =
                MINING_DOMAINS.iter().map(|d| format!("query={}", quote(&format!("*{d}*")))).collect();
            terms.push(format!("({})", domains.join(" OR ")));
        }
        AlertClass::WindowsAuthFailure => {
            terms.push("sourcetype=\"WinEventLog:Security\" (EventCode=4625 OR EventCode=4771)".into());
            if let Some(ip) = ip_field(&["Source_Network_Address", "src_ip", "src", "IpAddress"]) {
                terms.push(any_field_eq(&SOURCE_FIELDS, &ip.to_string()));
            }
        }
        AlertClass::WebAttack => {
            terms.push("(sourcetype=\"stream:http\" OR sourcetype=access_combined)".into());
            if let Some(ip) = ip_field(&["src_ip", "clientip", "src"]) {
                terms.push(any_field_eq(&["src_ip", "clientip"], &ip.to_string()));
            }
        }
        AlertClass::Unknown => {
            let entities = alert.entities();
            let mut any: Vec<String> = entities.ips.iter().map(|ip| quote(&ip.to_string())).collect();
            any.extend(entities.users.iter().filter_map(|u| {
                Account::try_from(u.clone()).ok().map(|a| quote(a.as_str()))
            }));
            if !any.is_empty() {
                terms.push(format!("({})", any.join(" OR ")));
            }
        }
    }
    if let Some(host) = host {
        terms.push(field_eq("host", host));
    }
    if terms.is_empty() {
        return None;
    }
    Some(format!("search {} | head {limit}", terms.join(" ")))
}

/// Reads the alert's own events into findings, by alert class.
pub fn interpret_alert_events(class: AlertClass, outcome: &QueryOutcome) -> Interpretation {
    match class {
        AlertClass::SshBruteForce | AlertClass::WindowsAuthFailure => failed_logins(outcome),
        AlertClass::SuspiciousOutbound => network(outcome, &Suspects::default(), true),
        AlertClass::Cryptomining => cryptomining(outcome),
        AlertClass::WebAttack => web_attack(outcome),
        AlertClass::Unknown => observation(outcome, "the alert's entities"),
    }
}

/// Reads the rows of an action's queries into findings.
pub fn interpret(action: &Action, outcomes: &[QueryOutcome], suspects: &Suspects) -> Interpretation {
    let Some(outcome) = outcomes.first() else {
        return Interpretation::default();
    };
    if let Some(reason) = &outcome.failure {
        let summary = format!("query failed: {reason}");
        return Interpretation { findings: Vec::new(), summary, relevant: Some(Vec::new()), finding_rows: Vec::new() };
    }
    match action {
        Action::CheckLoginSuccess { src_ip, accounts, .. } => {
            login_success(outcome, *src_ip, accounts, suspects)
        }
        Action::CheckProcessExecution { host, account, .. } => {
            process_execution(outcome, host, account.as_ref())
        }
        Action::ExpandToNetworkLogs { .. } | Action::CheckOutboundConnections { .. } => {
            network(outcome, suspects, false)
        }
        Action::CheckLateralMovement { host, .. } => lateral_movement(outcome, host.as_ref()),
        Action::CheckCryptomining { .. } => cryptomining(outcome),
        Action::CorrelateIoc { indicator } => correlate(outcome, indicator),
        Action::RunSpl { .. } => observation(outcome, "the query"),
    }
}

fn login_success_filter() -> &'static str {
    "((sourcetype=linux_secure app=sshd action=success) OR (sourcetype=\"WinEventLog:Security\" EventCode=4624))"
}

fn field_eq(field: &str, value: &str) -> String {
    format!("{field}={}", quote(value))
}

fn any_field_eq(fields: &[&str], value: &str) -> String {
    let parts: Vec<String> = fields.iter().map(|f| field_eq(f, value)).collect();
    format!("({})", parts.join(" OR "))
}

/// Returns the first value of the first field present in a row.
pub fn first_of<'a>(row: &'a Row, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| row.get(*n).and_then(|v| v.first())).filter(|v| !v.is_empty())
}

/// Returns a row's `_time` in microseconds.
pub fn row_time(row: &Row) -> Option<TimestampMicros> {
    row.get("_time").and_then(|v| v.first()).and_then(parse_splunk_time)
}

fn raw(row: &Row) -> &str {
    row.get("_raw").and_then(|v| v.first()).unwrap_or("")
}

/// Tracks the time span of a set of rows.
#[derive(Debug, Default, Clone, Copy)]
struct Span {
    first: Option<TimestampMicros>,
    last: Option<TimestampMicros>,
}

impl Span {
    fn add(&mut self, row: &Row) {
        if let Some(t) = row_time(row) {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }
}

/// Returns whether an address lies outside the private, loopback,
/// link-local and unspecified ranges, so traffic to it leaves the network.
pub fn is_external(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            let unique_local = (v6.segments()[0] & 0xfe00) == 0xfc00;
            let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local)
        }
    }
}

fn finding(category: FindingCategory, title: String, outcome: &QueryOutcome) -> Finding {
    let mut f = Finding::new("", category, title);
    f.evidence.push(outcome.evidence.clone());
    f
}

fn join_limited(items: &BTreeSet<String>, limit: usize) -> String {
    let shown: Vec<&str> = items.iter().take(limit).map(String::as_str).collect();
    let more = items.len().saturating_sub(limit);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Failed login attempts from one source address.
#[derive(Debug, Default)]
struct FailedFrom {
    attempts: u64,
    accounts: BTreeSet<String>,
    hosts: BTreeSet<String>,
    span: Span,
    windows: bool,
    rows: Vec<usize>,
}

/// Sources reported one by one; the rest are summed into the step summary.
const MAX_FAILED_SOURCES: usize = 10;

/// Counts failed login attempts per source address: sshd `Failed ... for`
/// lines (a `message repeated N times` line counts N) and Windows events
/// 4625 and 4771.
fn failed_logins(outcome: &QueryOutcome) -> Interpretation {
    let mut by_source: BTreeMap<String, FailedFrom> = BTreeMap::new();
    for (index, row) in outcome.rows.iter().enumerate() {
        let text = raw(row);
        let event_code = first_of(row, &["EventCode", "EventID"]);
        let ssh_failure = text.contains("Failed password")
            || text.contains("Failed publickey")
            || text.contains("Failed keyboard-interactive");
        let win_failure = matches!(event_code, Some("4625") | Some("4771"));
        if !(ssh_failure || win_failure) {
            continue;
        }
        let source = first_of(row, &SOURCE_FIELDS).unwrap_or("unknown address").to_string();
        let entry = by_source.entry(source).or_default();
        entry.windows |= win_failure;
        entry.attempts += first_of(row, &["repeat_count"]).and_then(|n| n.parse().ok()).unwrap_or(1);
        if let Some(account) = first_of(row, &ACCOUNT_FIELDS) {
            entry.accounts.insert(account.to_string());
        }
        if let Some(host) = first_of(row, &["host"]) {
            entry.hosts.insert(host.to_string());
        }
        entry.span.add(row);
        entry.rows.push(index);
    }
    if by_source.is_empty() {
        let summary = format!("{}, none of them a failed login", plural(outcome.rows.len() as u64, "event"));
        return Interpretation { findings: Vec::new(), summary, relevant: None, finding_rows: Vec::new() };
    }

    let mut sources: Vec<(String, FailedFrom)> = by_source.into_iter().collect();
    sources.sort_by(|a, b| b.1.attempts.cmp(&a.1.attempts).then(a.0.cmp(&b.0)));
    let total: u64 = sources.iter().map(|(_, s)| s.attempts).sum();
    let mut findings = Vec::new();
    let mut finding_rows = Vec::new();
    for (source, from) in sources.iter().take(MAX_FAILED_SOURCES) {
        let kind = if from.windows { "Windows logon" } else { "SSH password" };
        let title = format!(
            "{} failed {kind} {} from {source} against {} on {}",
            thousands(from.attempts),
            if from.attempts == 1 { "attempt" } else { "attempts" },
            plural(from.accounts.len() as u64, "account"),
            join_limited(&from.hosts, 3)
        );
        let mut f = finding(FindingCategory::FailedAuthentication, title, outcome);
        f.detail = format!("Accounts tried: {}.", join_limited(&from.accounts, 25));
        f.count = from.attempts;
        f.first_seen = from.span.first;
        f.last_seen = from.span.last;
        f.accounts = from.accounts.iter().cloned().collect();
        f.addresses = vec![source.clone()];
        f.hosts = from.hosts.iter().cloned().collect();
        finding_rows.push((findings.len(), from.rows.clone()));
        findings.push(f);
    }
    let summary = format!(
        "{} failed login {} from {}",
        thousands(total),
        if total == 1 { "attempt" } else { "attempts" },
        plural(sources.len() as u64, "source address")
    );
    Interpretation { findings, summary, relevant: None, finding_rows }
}

/// Formats a count with its noun, plural unless the count is one. The plural
/// adds `es` after a final s, x, z, ch or sh ("matches", "addresses") and
/// `s` otherwise, so nouns with other plurals must not be passed.
pub fn plural(count: u64, noun: &str) -> String {
    let sibilant = ["s", "x", "z", "ch", "sh"].iter().any(|end| noun.ends_with(end));
    let suffix = match (count, sibilant) {
        (1, _) => "",
        (_, true) => "es",
        (_, false) => "s",
    };
    format!("{} {noun}{suffix}", thousands(count))
}

/// A successful login, grouped by host, account and source.
type LoginKey = (String, String, String);

fn login_success(
    outcome: &QueryOutcome,
    suspect_src: Option<IpAddr>,
    targeted: &[Account],
    suspects: &Suspects,
) -> Interpretation {
    let targeted: BTreeSet<&str> = targeted.iter().map(Account::as_str).collect();
    let mut groups: BTreeMap<LoginKey, (u64, Span, Vec<usize>)> = BTreeMap::new();
    for (index, row) in outcome.rows.iter().enumerate() {
        let host = first_of(row, &["host"]).unwrap_or("unknown host").to_string();
        let account = first_of(row, &ACCOUNT_FIELDS).unwrap_or("unknown account").to_string();
        let src = first_of(row, &SOURCE_FIELDS).unwrap_or("unknown address").to_string();
        let entry = groups.entry((host, account, src)).or_default();
        entry.0 += 1;
        entry.1.add(row);
        entry.2.push(index);
    }

    let mut findings = Vec::new();
    let mut routine = 0u64;
    let mut relevant = Vec::new();
    let mut finding_rows = Vec::new();
    for ((host, account, src), (count, span, rows)) in &groups {
        let ip = src.parse::<IpAddr>().ok();
        let from_suspect = ip.is_some() && (ip == suspect_src || ip.is_some_and(|i| suspects.addresses.contains(&i)));
        let targeted_account = targeted.contains(account.as_str()) || suspects.accounts.contains(account);
        let external = ip.is_some_and(is_external);
        if !(from_suspect || (external && targeted_account)) {
            routine += count;
            continue;
        }
        let why = if from_suspect {
            "from an address under suspicion".to_string()
        } else {
            "from an external address, to an account that was targeted".to_string()
        };
        relevant.extend(rows);
        finding_rows.push((findings.len(), rows.clone()));
        let title = format!("Successful login as {account} from {src} on {host}");
        let mut f = finding(FindingCategory::SuccessfulAuthentication, title, outcome);
        f.detail = format!("{count} successful login(s) {why}.");
        f.count = *count;
        f.first_seen = span.first;
        f.last_seen = span.last;
        f.hosts = vec![host.clone()];
        f.accounts = vec![account.clone()];
        f.addresses = vec![src.clone()];
        findings.push(f);
    }

    if let Some(src) = suspect_src {
        let src_text = src.to_string();
        if !groups.keys().any(|(_, _, s)| *s == src_text) {
            let title = format!("No successful login from {src} was found");
            let mut f = finding(FindingCategory::NoSuccessfulAuthentication, title, outcome);
            f.detail = format!(
                "{} successful logins were searched and none came from {src}. This is an absence \
                 of evidence in the searched data and time range, not proof that no login happened.",
                outcome.rows.len()
            );
            f.addresses = vec![src_text];
            findings.push(f);
        }
    }
    let suspicious = findings.iter().filter(|f| f.category == FindingCategory::SuccessfulAuthentication).count();
    let summary = format!(
        "{}: {suspicious} suspicious, {routine} routine",
        plural(outcome.rows.len() as u64, "successful login")
    );
    relevant.sort_unstable();
    Interpretation { findings, summary, relevant: Some(relevant), finding_rows }
}

fn command_of(row: &Row) -> Option<String> {
    first_of(row, &["CommandLine", "command", "COMMAND", "cmd", "process", "Image"]).map(str::to_string)
}

fn process_execution(outcome: &QueryOutcome, host: &HostName, account: Option<&Account>) -> Interpretation {
    let mut commands = Vec::new();
    let mut accounts = BTreeSet::new();
    let mut span = Span::default();
    for row in &outcome.rows {
        if let Some(command) = command_of(row) {
            commands.push(command);
        }
        if let Some(user) = first_of(row, &["User", "user"]) {
            accounts.insert(user.to_string());
        }
        span.add(row);
    }
    if commands.is_empty() {
        let summary = format!("no process events on {host}");
        return Interpretation { findings: Vec::new(), summary, relevant: None, finding_rows: Vec::new() };
    }
    let by = account.map_or(String::new(), |a| format!(" by {}", a.as_str()));
    let title = format!("{} commands run on {host}{by}", thousands(commands.len() as u64));
    let mut f = finding(FindingCategory::ProcessExecution, title, outcome);
    let shown: Vec<&str> = commands.iter().take(MAX_LISTED_COMMANDS).map(String::as_str).collect();
    let more = commands.len().saturating_sub(MAX_LISTED_COMMANDS);
    let tail = if more > 0 { format!("; and {more} more in the evidence") } else { String::new() };
    f.detail = format!("Commands in order: {}{tail}.", shown.join("; "));
    f.count = commands.len() as u64;
    f.first_seen = span.first;
    f.last_seen = span.last;
    f.hosts = vec![host.to_string()];
    f.accounts = accounts.into_iter().collect();
    let summary = f.title.clone();
    Interpretation { findings: vec![f], summary, relevant: None, finding_rows: Vec::new() }
}

/// Connections to one external destination.
#[derive(Debug, Default)]
struct Destination {
    connections: u64,
    bytes_out: u64,
    max_bytes_out: u64,
    times: Vec<TimestampMicros>,
    span: Span,
    hosts: BTreeSet<String>,
    sources: BTreeSet<String>,
    rows: Vec<usize>,
}

fn network(outcome: &QueryOutcome, suspects: &Suspects, alerted: bool) -> Interpretation {
    let mut destinations: BTreeMap<(String, String), Destination> = BTreeMap::new();
    for (index, row) in outcome.rows.iter().enumerate() {
        let Some(dest) = first_of(row, &["dest_ip", "dest"]) else { continue };
        let Ok(dest_ip) = dest.parse::<IpAddr>() else { continue };
        if !is_external(dest_ip) {
            continue;
        }
        let port = first_of(row, &["dest_port"]).unwrap_or("-").to_string();
        let entry = destinations.entry((dest.to_string(), port)).or_default();
        let bytes = first_of(row, &["bytes_out"]).and_then(|b| b.parse::<u64>().ok()).unwrap_or(0);
        entry.rows.push(index);
        entry.connections += 1;
        entry.bytes_out += bytes;
        entry.max_bytes_out = entry.max_bytes_out.max(bytes);
        entry.times.extend(row_time(row));
        entry.span.add(row);
        if let Some(host) = first_of(row, &["host"]) {
            entry.hosts.insert(host.to_string());
        }
        if let Some(src) = first_of(row, &["src_ip", "src"]) {
            entry.sources.insert(src.to_string());
        }
    }

    let mut findings = Vec::new();
    let mut relevant = Vec::new();
    let mut finding_rows = Vec::new();
    for ((dest, port), d) in &destinations {
        let dest_ip: IpAddr = dest.parse().expect("destination parsed above");
        let usual_port = matches!(port.as_str(), "80" | "443" | "53" | "123");
        let suspect = suspects.addresses.contains(&dest_ip);
        let large_upload = d.max_bytes_out >= 1_000_000;
        if !(alerted || suspect || !usual_port || large_upload) {
            continue;
        }
        relevant.extend(&d.rows);
        finding_rows.push((findings.len(), d.rows.clone()));
        let title = format!(
            "{} {} to {dest}:{port} from {}",
            thousands(d.connections),
            if d.connections == 1 { "connection" } else { "connections" },
            join_limited(&d.hosts, 3)
        );
        let mut f = finding(FindingCategory::OutboundConnection, title, outcome);
        let mut detail = format!("{} bytes sent in all.", d.bytes_out);
        if let Some(interval) = median_interval_seconds(&d.times) {
            if d.connections >= 10 {
                detail.push_str(&format!(" Connections repeat about every {interval} s, a beacon pattern."));
            }
        }
        if large_upload {
            detail.push_str(&format!(" The largest single upload was {} bytes.", d.max_bytes_out));
        }
        f.detail = detail;
        f.count = d.connections;
        f.first_seen = d.span.first;
        f.last_seen = d.span.last;
        f.hosts = d.hosts.iter().cloned().collect();
        f.addresses = vec![dest.clone()];
        findings.push(f);
    }
    let summary = format!(
        "{}, {}, {} flagged",
        plural(outcome.rows.len() as u64, "event"),
        plural(destinations.len() as u64, "external destination"),
        findings.len()
    );
    relevant.sort_unstable();
    Interpretation { findings, summary, relevant: Some(relevant), finding_rows }
}

fn median_interval_seconds(times: &[TimestampMicros]) -> Option<i64> {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let mut gaps: Vec<i64> = sorted.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    Some(gaps[gaps.len() / 2] / 1_000_000)
}

fn lateral_movement(outcome: &QueryOutcome, host: Option<&HostName>) -> Interpretation {
    let own = host.map(HostName::as_str);
    let mut targets = BTreeSet::new();
    let mut span = Span::default();
    let mut count = 0;
    for row in &outcome.rows {
        let target = first_of(row, &["host"]).unwrap_or("");
        let is_command = row.contains_key("CommandLine");
        if (!target.is_empty() && Some(target) != own) || is_command {
            count += 1;
            span.add(row);
            targets.insert(if is_command { command_of(row).unwrap_or_default() } else { target.to_string() });
        }
    }
    if count == 0 {
        let summary = "no logins or remote sessions to other internal hosts".to_string();
        return Interpretation { findings: Vec::new(), summary, relevant: None, finding_rows: Vec::new() };
    }
    let title = format!("{count} possible lateral movement events: {}", join_limited(&targets, 5));
    let mut f = finding(FindingCategory::LateralMovement, title, outcome);
    f.count = count;
    f.first_seen = span.first;
    f.last_seen = span.last;
    f.hosts = own.map(str::to_string).into_iter().collect();
    let summary = f.title.clone();
    Interpretation { findings: vec![f], summary, relevant: None, finding_rows: Vec::new() }
}

fn cryptomining(outcome: &QueryOutcome) -> Interpretation {
    let mut domains = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut span = Span::default();
    let mut count = 0;
    for row in &outcome.rows {
        let query = first_of(row, &["query"]).unwrap_or("").to_ascii_lowercase();
        let text = raw(row).to_ascii_lowercase();
        let hit = MINING_DOMAINS.iter().any(|d| query.contains(d))
            || text.contains("stratum+tcp")
            || text.contains("xmrig");
        if !hit {
            continue;
        }
        count += 1;
        span.add(row);
        if !query.is_empty() {
            domains.insert(query);
        }
        if let Some(host) = first_of(row, &["host"]) {
            hosts.insert(host.to_string());
        }
    }
    if count == 0 {
        return Interpretation { findings: Vec::new(), summary: "no mining activity found".into(), relevant: None, finding_rows: Vec::new() };
    }
    let title = format!(
        "{} mining-related lookups or connections from {}",
        thousands(count),
        join_limited(&hosts, 3)
    );
    let mut f = finding(FindingCategory::Cryptomining, title, outcome);
    f.detail = format!("Mining domains: {}.", join_limited(&domains, 10));
    f.count = count;
    f.first_seen = span.first;
    f.last_seen = span.last;
    f.hosts = hosts.into_iter().collect();
    f.addresses = domains.into_iter().collect();
    let summary = f.title.clone();
    Interpretation { findings: vec![f], summary, relevant: None, finding_rows: Vec::new() }
}

/// Web attack patterns, each with the lowercase fragments that show it.
/// Fragments are matched against the URL-decoded path, query and user agent.
const WEB_PATTERNS: [(&str, &[&str]); 5] = [
    ("SQL injection", &["union select", "union all select", "' or '", "' or 1=1", " or 1=1", "information_schema", "sleep(", "benchmark(", "waitfor delay", "' and '", "'--"]),
    ("cross-site scripting", &["<script", "onerror=", "onload=", "javascript:", "<svg", "<img src"]),
    ("path traversal", &["../", "..\\", "/etc/passwd", "/etc/shadow", "win.ini"]),
    ("sensitive file probe", &["wp-login.php", "/wp-admin", "/.env", "phpmyadmin", "/.git", "/.htaccess", "/server-status", "/admin/", "backup.zip", ".bak", "/config.php", "/robots.txt"]),
    ("scanner user agent", &["sqlmap", "nikto", "nmap", "masscan", "gobuster", "dirbuster", "wpscan"]),
];

/// Decodes `%XX` escapes and `+` (a space in query strings), so encoded
/// attack strings match the same fragments as plain ones.
fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn web_attack(outcome: &QueryOutcome) -> Interpretation {
    let mut by_pattern: BTreeMap<&str, u64> = BTreeMap::new();
    let mut sources = BTreeSet::new();
    let mut sites = BTreeSet::new();
    let mut span = Span::default();
    let mut attacks = 0u64;
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for row in &outcome.rows {
        let text = url_decode(&format!(
            "{} {} {} {}",
            first_of(row, &["uri_path"]).unwrap_or(""),
            first_of(row, &["uri_query"]).unwrap_or(""),
            first_of(row, &["http_user_agent"]).unwrap_or(""),
            if row.contains_key("uri_path") { "" } else { raw(row) }
        ))
        .to_ascii_lowercase();
        let matched: Vec<&str> = WEB_PATTERNS
            .iter()
            .filter(|(_, fragments)| fragments.iter().any(|f| text.contains(f)))
            .map(|(name, _)| *name)
            .collect();
        if matched.is_empty() {
            continue;
        }
        attacks += 1;
        for name in matched {
            *by_pattern.entry(name).or_default() += 1;
        }
        let status = first_of(row, &["status"]).unwrap_or("unknown");
        *by_status.entry(status.to_string()).or_default() += 1;
        if let Some(src) = first_of(row, &["src_ip", "clientip"]) {
            sources.insert(src.to_string());
        }
        if let Some(site) = first_of(row, &["site", "host"]) {
            sites.insert(site.to_string());
        }
        span.add(row);
    }
    if attacks == 0 {
        let summary = format!("{} web requests, none with attack patterns", outcome.rows.len());
        return Interpretation { findings: Vec::new(), summary, relevant: None, finding_rows: Vec::new() };
    }
    let title = format!(
        "{} web attack requests from {} to {}",
        thousands(attacks),
        join_limited(&sources, 3),
        join_limited(&sites, 3)
    );
    let mut f = finding(FindingCategory::WebAttack, title, outcome);
    let patterns: Vec<String> = by_pattern.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let statuses: Vec<String> = by_status.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let succeeded = by_status.get("200").copied().unwrap_or(0);
    f.detail = format!(
        "Requests by pattern (a request can show several): {}. Responses by HTTP status: {}. \
         {succeeded} of these requests were answered with HTTP 200, so check those responses \
         for signs that an attack worked.",
        patterns.join(", "),
        statuses.join(", ")
    );
    f.count = attacks;
    f.first_seen = span.first;
    f.last_seen = span.last;
    f.hosts = sites.into_iter().collect();
    f.addresses = sources.into_iter().collect();
    let summary = f.title.clone();
    Interpretation { findings: vec![f], summary, relevant: None, finding_rows: Vec::new() }
}

fn correlate(outcome: &QueryOutcome, indicator: &str) -> Interpretation {
    let mut by_sourcetype: BTreeMap<String, u64> = BTreeMap::new();
    let mut hosts = BTreeSet::new();
    let mut span = Span::default();
    for row in &outcome.rows {
        let sourcetype = first_of(row, &["sourcetype"]).unwrap_or("unknown").to_string();
        *by_sourcetype.entry(sourcetype).or_default() += 1;
        if let Some(host) = first_of(row, &["host"]) {
            hosts.insert(host.to_string());
        }
        span.add(row);
    }
    let mut findings = Vec::new();
    if !outcome.rows.is_empty() {
        let spread: Vec<String> = by_sourcetype.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        let title = format!(
            "{indicator} appears in {} across {}",
            plural(outcome.rows.len() as u64, "event"),
            plural(by_sourcetype.len() as u64, "sourcetype")
        );
        let mut f = finding(FindingCategory::Observation, title, outcome);
        f.detail = format!("By sourcetype: {}. Hosts: {}.", spread.join(", "), join_limited(&hosts, 10));
        f.count = outcome.rows.len() as u64;
        f.first_seen = span.first;
        f.last_seen = span.last;
        f.hosts = hosts.into_iter().collect();
        f.addresses = vec![indicator.to_string()];
        findings.push(f);
    }
    for parsed in ioc::extract(indicator) {
        for m in IntelDb::bundled().lookup(&parsed) {
            let title = format!(
                "{} is listed by {} ({}, confidence {})",
                parsed.value,
                m.source,
                m.tags.join(", "),
                m.confidence
            );
            let mut f = finding(FindingCategory::IntelMatch, title, outcome);
            f.detail = format!("Intel entry {} last seen {}.", m.indicator, m.last_seen.as_deref().unwrap_or("unknown"));
            f.addresses = vec![parsed.value.clone()];
            findings.push(f);
        }
    }
    let matches = findings.iter().filter(|f| f.category == FindingCategory::IntelMatch).count();
    let summary = format!(
        "{} mention {indicator}; {}",
        plural(outcome.rows.len() as u64, "event"),
        plural(matches as u64, "intel match")
    );
    Interpretation { findings, summary, relevant: None, finding_rows: Vec::new() }
}

fn observation(outcome: &QueryOutcome, what: &str) -> Interpretation {
    let mut by_sourcetype: BTreeMap<String, u64> = BTreeMap::new();
    for row in &outcome.rows {
        let sourcetype = first_of(row, &["sourcetype"]).unwrap_or("results").to_string();
        *by_sourcetype.entry(sourcetype).or_default() += 1;
    }
    let spread: Vec<String> = by_sourcetype.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    let summary = format!("{} for {what} ({})", plural(outcome.rows.len() as u64, "row"), spread.join(", "));
    let mut findings = Vec::new();
    if !outcome.rows.is_empty() {
        let mut f = finding(FindingCategory::Observation, summary.clone(), outcome);
        f.count = outcome.rows.len() as u64;
        let mut span = Span::default();
        outcome.rows.iter().for_each(|r| span.add(r));
        f.first_seen = span.first;
        f.last_seen = span.last;
        findings.push(f);
    }
    Interpretation { findings, summary, relevant: None, finding_rows: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spl::{self, CommandKind, SearchExpr};

    const HOSTILE: [&str; 6] = [
        "x\" | delete",
        "a\\\" | outputlookup evil.csv | search \"",
        "[| rest /services/server/info]",
        "`evil_macro`",
        "```comment``` | sendemail to=x",
        "line\nbreak | script",
    ];

    #[test]
    fn plural_adds_es_after_sibilants() {
        assert_eq!(plural(2, "intel match"), "2 intel matches");
        assert_eq!(plural(3, "source address"), "3 source addresses");
        assert_eq!(plural(1, "intel match"), "1 intel match");
        assert_eq!(plural(1_207, "event"), "1,207 events");
        assert_eq!(plural(0, "file"), "0 files");
    }

    #[test]
    fn hostile_indicator_stays_one_term() {
        for value in HOSTILE {
            let action = Action::CorrelateIoc { indicator: value.to_string() };
            let spl = &queries(&action, 100)[0];
            let pipeline = spl::parse(spl).unwrap_or_else(|e| panic!("{spl}: {e}"));
            let names: Vec<&str> = pipeline.commands.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["search", "head"], "{spl}");
            match &pipeline.commands[0].kind {
                CommandKind::Search(Some(SearchExpr::Term { text, quoted: true, .. })) => {
                    assert_eq!(text, value, "{spl}");
                }
                other => panic!("{spl} parsed as {other:?}"),
            }
        }
    }

    #[test]
    fn every_action_query_parses() {
        let host = HostName::try_from("gacrux.i-0920036c8ca91e501".to_string()).unwrap();
        let ip: IpAddr = "91.207.175.249".parse().unwrap();
        let account = Account::try_from("ec2-user".to_string()).unwrap();
        let actions = [
            Action::CheckLoginSuccess { host: Some(host.clone()), src_ip: Some(ip), accounts: vec![account.clone()] },
            Action::CheckProcessExecution { host: host.clone(), account: Some(account), since: Some(1_785_664_331_000_000) },
            Action::ExpandToNetworkLogs { ip },
            Action::CheckLateralMovement { host: Some(host.clone()), host_ip: Some(ip), since: None },
            Action::CheckOutboundConnections { host: Some(host.clone()), src_ip: Some(ip) },
            Action::CheckCryptomining { host: Some(host) },
        ];
        for action in &actions {
            for spl in queries(action, 50) {
                let pipeline = spl::parse(&spl).unwrap_or_else(|e| panic!("{spl}: {e}"));
                let last = pipeline.commands.last().unwrap();
                assert_eq!(last.name, "head", "{spl}");
            }
        }
    }

    #[test]
    fn external_ranges() {
        assert!(is_external("91.207.175.249".parse().unwrap()));
        assert!(!is_external("172.31.5.20".parse().unwrap()));
        assert!(!is_external("192.168.250.100".parse().unwrap()));
        assert!(!is_external("fd00::1".parse().unwrap()));
        assert!(is_external("2001:4860::8888".parse().unwrap()));
    }
}
