//! A realistic report for the renderers' tests: an SSH brute force from
//! 5.101.40.81 against gacrux.i-0920036c8ca91e501, followed by an `ec2-user`
//! login from 91.207.175.249.
//!
//! Times are on 2023-12-10 UTC, where 1702191346 s after the epoch is 06:55:46Z.

use crate::alert::AlertClass;
use crate::analysis::{
    Finding, FindingCategory, IndicatorKind, IndicatorRecord, IntelMatch, RemediationKind,
    RemediationStep, Severity, SeverityLevel, TechniqueHit, TimelineEntry,
};
use crate::event::{Row, Value};
use crate::search::BackendInfo;

use super::{
    Affected, AlertSummary, Confidence, EvidenceRecord, LlmRecord, ModelCall, ModelDecision,
    PlannerInfo, RejectedPart, Report, Status, StepRecord, SCHEMA_VERSION,
};

pub(crate) const HOST: &str = "gacrux.i-0920036c8ca91e501";
pub(crate) const ATTACKER: &str = "5.101.40.81";
pub(crate) const LOGIN_SOURCE: &str = "91.207.175.249";

/// 2023-12-10T06:55:46Z in microseconds since the epoch.
pub(crate) const START: i64 = 1_702_191_346_000_000;
const SECOND: i64 = 1_000_000;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn row(fields: &[(&str, &str)]) -> Row {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect()
}

/// Builds the sample report.
pub(crate) fn report() -> Report {
    Report {
        schema_version: SCHEMA_VERSION.to_string(),
        id: "inv-20231210-0655-7f3a".to_string(),
        generated_at: "2023-12-10T09:30:02Z".to_string(),
        alert: alert(),
        backend: BackendInfo {
            kind: "local".to_string(),
            description: "local evidence: /var/log/secure (1,412 events)".to_string(),
        },
        planner: PlannerInfo {
            kind: "playbook".to_string(),
            model: None,
        },
        severity: severity(),
        confidence: Confidence {
            level: "high".to_string(),
            reasons: strings(&[
                "Failed and successful logins come from the same host's sshd log.",
                "Both source addresses are listed by threat intel.",
            ]),
        },
        summary: summary(),
        timeline: timeline(),
        attack_chain: crate::agent::report_builder::attack_chain(&timeline()),
        techniques: techniques(),
        indicators: indicators(),
        affected: Affected {
            hosts: strings(&[HOST]),
            accounts: strings(&["root", "admin", "ec2-user"]),
            addresses: strings(&[ATTACKER, LOGIN_SOURCE]),
        },
        findings: findings(),
        remediation: remediation(),
        evidence: evidence(),
        steps: steps(),
        notices: strings(&[
            "MITRE ATT&CK® Enterprise v18.1, © The MITRE Corporation, used under its terms of use.",
        ]),
        verdict: Some(crate::report::Verdict {
            verdict: "true_positive".into(),
            confidence: "high".into(),
            reasons: strings(&["Successful login for ec2-user from 91.207.175.249 (F2)"]),
            source: "analysis".into(),
        }),
        llm: None,
        model_calls: Vec::new(),
    }
}

/// Builds the sample report as a model would leave it: two planning decisions (one
/// rejected), a model-worded attack-chain stage and remediation step, a rejected
/// stage, an unverified value, a marked absence claim and three model calls.
pub(crate) fn report_with_model() -> Report {
    let mut report = report();
    report.planner = PlannerInfo {
        kind: "openai".to_string(),
        model: Some("gpt-test".to_string()),
    };
    report.verdict = Some(crate::report::Verdict {
        verdict: "true_positive".into(),
        confidence: "high".into(),
        reasons: strings(&["ec2-user logged in from a listed scanner (F2)"]),
        source: "model".into(),
    });
    report.attack_chain[0].text =
        "The attacker logged in as ec2-user from 91.207.175.249 after guessing.".to_string();
    report.attack_chain[0].source = "model".to_string();
    report.remediation[2].model_text =
        Some("Reset the ec2-user password now and end its open sessions".to_string());
    report.llm = Some(LlmRecord {
        provider: "openai".into(),
        model: "gpt-test".into(),
        masking: true,
        decisions: vec![
            decision(1, 1, "rejected", "unknown action 'delete_logs'", None),
            decision(1, 2, "accepted", "size the brute force", Some("openai gpt-test")),
            decision(0, 1, "accepted", "summary written by the model", Some("openai gpt-test")),
        ],
        unverified: strings(&["203.0.113.77"]),
        summary_source: "model".into(),
        rejected: vec![RejectedPart {
            part: "attack_chain[1]".into(),
            reason: "the stage cites technique T1486, which the analysis did not find".into(),
        }],
        absence_claims: strings(&["No data left the host."]),
        input_tokens: 4_200,
        output_tokens: 310,
        cost: 0.0125,
    });
    report.model_calls = vec![call("plan", 1_500, 120, 812.5, None), call("plan", 1_600, 90, 640.0, None)];
    report.model_calls.push(call("summary", 1_100, 100, 1_250.25, Some("timed out")));
    report
}

fn decision(
    iteration: usize,
    attempt: usize,
    outcome: &str,
    reason: &str,
    decided_by: Option<&str>,
) -> ModelDecision {
    ModelDecision {
        iteration,
        attempt,
        outcome: outcome.to_string(),
        actions: strings(&["count_failed_logins({})"]),
        reason: reason.to_string(),
        decided_by: decided_by.map(str::to_string),
    }
}

fn call(purpose: &str, input: u64, output: u64, ms: f64, error: Option<&str>) -> ModelCall {
    ModelCall {
        purpose: purpose.to_string(),
        request: crate::llm::ChatRequest {
            system: "system".into(),
            messages: Vec::new(),
            max_tokens: 1024,
            temperature: 0.0,
            json: true,
            answer_schema: None,
        },
        response: String::new(),
        error: error.map(str::to_string),
        input_tokens: input,
        output_tokens: output,
        duration_ms: ms,
        cost: 0.0,
        provider: None,
        model: None,
        chain_attempt: false,
    }
}

fn alert() -> AlertSummary {
    AlertSummary {
        sid: Some("scheduler__admin__search__RMD5ssh_at_1702191600_118".to_string()),
        search_name: Some("SSH Brute Force Detected".to_string()),
        app: Some("search".to_string()),
        owner: Some("admin".to_string()),
        results_link: None,
        class: AlertClass::SshBruteForce,
        result: row(&[
            ("_time", "1702191346"),
            ("host", HOST),
            ("src_ip", ATTACKER),
            ("count", "1208"),
        ]),
    }
}

fn severity() -> Severity {
    Severity {
        level: SeverityLevel::Critical,
        score: 85,
        reasons: strings(&[
            "+30: 1,208 failed SSH logins from 5.101.40.81 (F1)",
            "+40: successful login as ec2-user from 91.207.175.249 (F2)",
            "+15: both source addresses match threat intel",
        ]),
    }
}

fn summary() -> String {
    format!(
        "Between 06:55 and 07:41 UTC on 10 December 2023, {ATTACKER} made 1,208 failed SSH \
         login attempts against {HOST}, cycling through root, admin and other common account \
         names. At 07:43 UTC the account ec2-user logged in successfully with a password from \
         {LOGIN_SOURCE}, an address that threat intel lists as an SSH scanner. The login \
         followed the brute force and should be treated as a compromise of the host."
    )
}

fn timeline() -> Vec<TimelineEntry> {
    let entry = |offset: i64, description: &str, tactic: &str, techniques: &[&str], ev: &[&str]| {
        TimelineEntry {
            time: START + offset * SECOND,
            host: Some(HOST.to_string()),
            description: description.to_string(),
            tactic: Some(tactic.to_string()),
            techniques: strings(techniques),
            evidence: strings(ev),
        }
    };
    vec![
        entry(
            0,
            "First failed SSH login from 5.101.40.81 (user root)",
            "credential-access",
            &["T1110.001"],
            &["E1"],
        ),
        entry(
            2_760,
            "Last of 1,208 failed SSH logins from 5.101.40.81",
            "credential-access",
            &["T1110.001"],
            &["E1"],
        ),
        entry(
            2_834,
            "Accepted password for ec2-user from 91.207.175.249",
            "initial-access",
            &["T1078", "T1021.004"],
            &["E2"],
        ),
        entry(
            2_840,
            "Session opened for ec2-user by sshd",
            "initial-access",
            &["T1078"],
            &["E2"],
        ),
    ]
}

fn techniques() -> Vec<TechniqueHit> {
    vec![
        TechniqueHit {
            id: "T1110.001".to_string(),
            name: "Brute Force: Password Guessing".to_string(),
            tactics: strings(&["credential-access"]),
            rules: strings(&["SSH Failed Password Burst"]),
            event_count: 1_208,
            first_seen: Some(START),
            last_seen: Some(START + 2_760 * SECOND),
            evidence: strings(&["E1"]),
        },
        TechniqueHit {
            id: "T1078".to_string(),
            name: "Valid Accounts".to_string(),
            tactics: strings(&[
                "defense-evasion",
                "persistence",
                "privilege-escalation",
                "initial-access",
            ]),
            rules: strings(&["SSH Login After Brute Force"]),
            event_count: 1,
            first_seen: Some(START + 2_834 * SECOND),
            last_seen: Some(START + 2_834 * SECOND),
            evidence: strings(&["E2"]),
        },
    ]
}

fn intel(indicator: &str, confidence: u8, tags: &[&str]) -> IntelMatch {
    IntelMatch {
        indicator: indicator.to_string(),
        confidence,
        source: "bundled threat-intel file".to_string(),
        tags: strings(tags),
        first_seen: Some("2023-11-02".to_string()),
        last_seen: Some("2023-12-09".to_string()),
    }
}

fn indicators() -> Vec<IndicatorRecord> {
    vec![
        IndicatorRecord {
            kind: IndicatorKind::Ipv4,
            value: ATTACKER.to_string(),
            occurrences: 1_208,
            intel: vec![intel(ATTACKER, 90, &["ssh-bruteforce", "scanner"])],
            evidence: strings(&["E1", "E3"]),
        },
        IndicatorRecord {
            kind: IndicatorKind::Ipv4,
            value: LOGIN_SOURCE.to_string(),
            occurrences: 2,
            intel: vec![intel(LOGIN_SOURCE, 75, &["ssh-scanner"])],
            evidence: strings(&["E2"]),
        },
    ]
}

fn findings() -> Vec<Finding> {
    let mut failed = Finding::new(
        "F1",
        FindingCategory::FailedAuthentication,
        "1,208 failed SSH logins from 5.101.40.81",
    );
    failed.detail = "Password failures for 37 account names, 26 per minute on average.".into();
    failed.count = 1_208;
    failed.first_seen = Some(START);
    failed.last_seen = Some(START + 2_760 * SECOND);
    failed.hosts = strings(&[HOST]);
    failed.accounts = strings(&["root", "admin"]);
    failed.addresses = strings(&[ATTACKER]);
    failed.techniques = strings(&["T1110.001"]);
    failed.evidence = strings(&["E1"]);

    let mut login = Finding::new(
        "F2",
        FindingCategory::SuccessfulAuthentication,
        "ec2-user logged in from 91.207.175.249 after the brute force",
    );
    login.detail = "Accepted password, 74 seconds after the last failure.".into();
    login.count = 1;
    login.first_seen = Some(START + 2_834 * SECOND);
    login.last_seen = login.first_seen;
    login.hosts = strings(&[HOST]);
    login.accounts = strings(&["ec2-user"]);
    login.addresses = strings(&[LOGIN_SOURCE]);
    login.techniques = strings(&["T1078"]);
    login.evidence = strings(&["E2"]);

    vec![failed, login]
}

fn remediation() -> Vec<RemediationStep> {
    let step = |kind, action: &str, reason: &str, mitigation: Option<&str>, techniques: &[&str]| {
        RemediationStep {
            kind,
            action: action.to_string(),
            reason: reason.to_string(),
            mitigation: mitigation.map(str::to_string),
            techniques: strings(techniques),
            findings: strings(&["F1", "F2"]),
            model_text: None,
        }
    };
    vec![
        step(
            RemediationKind::Mitigation,
            "Require multi-factor authentication for SSH",
            "Guessed passwords alone then cannot log in.",
            Some("M1032"),
            &["T1110.001", "T1078"],
        ),
        step(
            RemediationKind::Immediate,
            "Block 5.101.40.81 and 91.207.175.249 at the firewall",
            "Both addresses attacked the host.",
            None,
            &[],
        ),
        step(
            RemediationKind::Immediate,
            "Reset the ec2-user password and review its sessions",
            "The account logged in after the brute force.",
            None,
            &["T1078"],
        ),
    ]
}

fn evidence() -> Vec<EvidenceRecord> {
    let failures = [
        (
            "1702191346",
            "Failed password for root from 5.101.40.81 port 40118 ssh2",
        ),
        (
            "1702191348",
            "Failed password for invalid user admin from 5.101.40.81 port 40260 ssh2",
        ),
    ];
    let samples = failures
        .iter()
        .map(|(time, text)| {
            let raw = format!("Dec 10 06:55:46 gacrux sshd[24200]: {text}");
            row(&[("_time", time), ("host", HOST), ("_raw", raw.as_str())])
        })
        .collect();
    let accepted = "Dec 10 07:43:00 gacrux sshd[24791]: Accepted password for ec2-user from \
                    91.207.175.249 port 51034 ssh2";
    vec![
        EvidenceRecord {
            id: "E1".to_string(),
            step: 1,
            action: "count_failed_logins".to_string(),
            query: format!(
                "search sourcetype=linux_secure \"Failed password\" src_ip=\"{ATTACKER}\""
            ),
            backend: "local evidence: /var/log/secure".to_string(),
            status: Status::Ok,
            result_count: 1_208,
            duration_ms: 12.4,
            samples,
        },
        EvidenceRecord {
            id: "E2".to_string(),
            step: 2,
            action: "check_login_success".to_string(),
            query: format!("search sourcetype=linux_secure \"Accepted\" host=\"{HOST}\""),
            backend: "local evidence: /var/log/secure".to_string(),
            status: Status::Ok,
            result_count: 1,
            duration_ms: 8.1,
            samples: vec![row(&[
                ("_time", "1702194180"),
                ("host", HOST),
                ("_raw", accepted),
            ])],
        },
        EvidenceRecord {
            id: "E3".to_string(),
            step: 3,
            action: "outbound_from_host".to_string(),
            query: format!("search sourcetype=vpc_flow src=\"{HOST}\" | stats count by dest"),
            backend: "local evidence: /var/log/secure".to_string(),
            status: Status::Failed {
                reason: "no events with sourcetype vpc_flow".to_string(),
            },
            result_count: 0,
            duration_ms: 0.9,
            samples: Vec::new(),
        },
    ]
}

fn steps() -> Vec<StepRecord> {
    let step = |index: usize, name: &str, reason: &str, summary: &str, ev: &[&str]| StepRecord {
        index,
        name: name.to_string(),
        reason: reason.to_string(),
        status: Status::Ok,
        summary: summary.to_string(),
        started_at: START + 9_000 * SECOND + index as i64 * SECOND,
        duration_ms: 15.0,
        evidence: strings(ev),
    };
    let mut outbound = step(
        3,
        "outbound_from_host",
        "Look for traffic out of the host.",
        "search failed",
        &["E3"],
    );
    outbound.status = Status::Failed {
        reason: "no events with sourcetype vpc_flow".to_string(),
    };
    vec![
        step(
            0,
            "discover_schema",
            "Learn which sourcetypes exist.",
            "1 sourcetype, 1 host",
            &[],
        ),
        step(
            1,
            "count_failed_logins",
            "Size the brute force.",
            "1,208 events",
            &["E1"],
        ),
        step(
            2,
            "check_login_success",
            "Look for a login after it.",
            "1 event",
            &["E2"],
        ),
        outbound,
    ]
}
