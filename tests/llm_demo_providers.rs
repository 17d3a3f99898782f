//! The five demo alerts through each provider's wire format.
//!
//! For every plan call, the test runs the playbook on the same context,
//! queues its choice on the provider's loopback server as that provider's
//! tool call (Gemini: the JSON text its response schema asks for), and lets
//! the model planner send the real request and read the answer back. Each
//! report is then checked against the story's ground truth in
//! `demo/story.json`, which the demo generator writes and recounts with
//! plain string tests, so no expected number comes from the program.
//! One ingest of the demo evidence serves every investigation.

mod common;
#[path = "support/llm_server.rs"]
mod llm_server;

use std::sync::{Arc, OnceLock};

use argus::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use argus::agent::planner::{Plan, PlanContext, PlanError, Planner};
use argus::agent::playbook::PlaybookPlanner;
use argus::agent::sink::NullSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::analysis::{FindingCategory, SeverityLevel};
use argus::demo;
use argus::event::parse_splunk_time;
use argus::evidence::EvidenceStore;
use argus::llm::prompt::PLAN_TOOL;
use argus::report::{PlannerInfo, Report};
use argus::search::local::LocalBackend;
use async_trait::async_trait;
use llm_server::{LlmServer, Wire};
use serde_json::{json, Value};

use common::{findings, technique_ids};

const ALERTS: [&str; 5] = [
    "ssh_brute_force",
    "suspicious_outbound",
    "cryptomining",
    "windows_auth_failure",
    "web_attack",
];

fn story() -> &'static Value {
    static STORY: OnceLock<Value> = OnceLock::new();
    STORY.get_or_init(|| serde_json::from_str(include_str!("../demo/story.json")).unwrap())
}

/// Returns the demo evidence, ingested once for every test in this file.
fn backend() -> Arc<LocalBackend> {
    static BACKEND: OnceLock<Arc<LocalBackend>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut store = EvidenceStore::new();
            demo::ingest(&mut store);
            Arc::new(LocalBackend::new(store, "demo evidence"))
        })
        .clone()
}

/// A model planner whose server answers each plan call with the playbook's
/// choice for the same context, encoded in the provider's wire format.
struct PlaybookOverWire {
    wire: Wire,
    server: Arc<LlmServer>,
    model_planner: LlmPlanner,
}

/// Encodes a plan as the planner's answer object.
fn plan_arguments(plan: &Plan) -> Value {
    match plan {
        Plan::Done { reason } => json!({"done": true, "reason": reason, "actions": []}),
        Plan::Run(actions) => {
            let actions: Vec<Value> = actions
                .iter()
                .map(|planned| {
                    let mut action = serde_json::to_value(&planned.action).unwrap();
                    action["reason"] = json!(planned.reason);
                    action
                })
                .collect();
            json!({"done": false, "reason": "playbook choice", "actions": actions})
        }
    }
}

#[async_trait]
impl Planner for PlaybookOverWire {
    fn info(&self) -> PlannerInfo {
        self.model_planner.info()
    }

    async fn plan(&self, context: &PlanContext<'_>) -> Result<Plan, PlanError> {
        let expected = PlaybookPlanner.plan(context).await?;
        let arguments = plan_arguments(&expected);
        self.server
            .push(self.wire.tool_reply(PLAN_TOOL, &arguments));
        let plan = self.model_planner.plan(context).await?;
        assert_eq!(plan, expected, "{:?} read back another plan", self.wire);
        Ok(plan)
    }

    async fn finish(&self, report: &mut Report) {
        self.model_planner.finish(report).await;
    }
}

/// Investigates one demo alert through `wire`; returns the report and the
/// number of requests the server received.
async fn investigate(wire: Wire, alert_name: &str) -> (Report, usize) {
    let server = Arc::new(LlmServer::start(Vec::new()).await);
    let settings = LlmPlannerSettings {
        write_summary: false,
        ..Default::default()
    };
    let planner = PlaybookOverWire {
        wire,
        server: server.clone(),
        model_planner: LlmPlanner::new(wire.model(&server), settings),
    };
    let agent = Agent::new(
        backend(),
        Arc::new(planner),
        Arc::new(NullSink),
        AgentConfig::default(),
    );
    let alert = Alert::from_json(demo::alert_json(alert_name).unwrap()).unwrap();
    let report = agent.investigate(&alert).await.unwrap();
    let requests = server.requests();
    for request in &requests {
        assert_eq!(request.path, wire.path());
    }
    (report, requests.len())
}

fn time(value: &Value) -> i64 {
    parse_splunk_time(value.as_str().unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    let items = value.as_array().unwrap();
    items
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn assert_techniques(report: &Report, expected: &[&str]) {
    let found = technique_ids(report);
    for id in expected {
        assert!(found.contains(id), "{id} missing from {found:?}");
    }
}

fn has_intel(report: &Report, value: &str) -> bool {
    report
        .indicators
        .iter()
        .any(|i| i.value == value && !i.intel.is_empty())
}

fn check_ssh_brute_force(report: &Report) {
    let truth = &story()["ssh_brute_force"];
    let failed = findings(report, FindingCategory::FailedAuthentication);
    assert_eq!(failed.len(), 1);
    let count = truth["failed_password_count"].as_u64().unwrap();
    assert_eq!(failed[0].count, count);
    assert_eq!(failed[0].accounts, strings(&truth["accounts"]));
    assert_eq!(failed[0].first_seen, Some(time(&truth["first_seen"])));
    let logins = findings(report, FindingCategory::SuccessfulAuthentication);
    assert_eq!(logins.len(), 1);
    assert_eq!(
        logins[0].accounts,
        [truth["login"]["user"].as_str().unwrap()]
    );
    assert_eq!(
        logins[0].addresses,
        [truth["login"]["src_ip"].as_str().unwrap()]
    );
    assert_eq!(logins[0].first_seen, Some(time(&truth["login"]["time"])));
    for command in strings(&story()["post_compromise"]["command_lines"]) {
        let quoted = format!("ran \"{command}\"");
        let found = report
            .timeline
            .iter()
            .any(|e| e.description.starts_with(&quoted));
        assert!(found, "timeline lacks {quoted}");
    }
    assert_techniques(
        report,
        &["T1110", "T1110.001", "T1078", "T1033", "T1082", "T1105"],
    );
    assert_techniques(report, &["T1053.003", "T1070", "T1071", "T1041"]);
    assert!(has_intel(report, "5.101.40.81"));
    assert!(has_intel(report, "91.207.175.249"));
    assert_eq!(report.severity.level, SeverityLevel::Critical);
}

fn check_suspicious_outbound(report: &Report) {
    let truth = &story()["c2"];
    let outbound = findings(report, FindingCategory::OutboundConnection);
    let c2 = outbound
        .iter()
        .find(|f| f.title.contains("91.207.175.249:4444"))
        .expect("C2 finding");
    let count = truth["port_4444_connection_count"].as_u64().unwrap();
    assert_eq!(c2.count, count);
    assert_eq!(c2.first_seen, Some(time(&truth["first_beacon"])));
    let upload = truth["upload_bytes_out"].as_u64().unwrap().to_string();
    assert!(c2.detail.contains(&upload), "{}", c2.detail);
    let logins = findings(report, FindingCategory::SuccessfulAuthentication);
    assert!(logins.iter().any(|f| f.accounts == ["ec2-user"]));
    assert_techniques(report, &["T1071", "T1078", "T1041"]);
    assert!(has_intel(report, "91.207.175.249"));
    assert!(report.severity.level >= SeverityLevel::High);
}

fn check_cryptomining(report: &Report) {
    let truth = &story()["cryptomining"];
    let mining = findings(report, FindingCategory::Cryptomining);
    assert!(!mining.is_empty());
    assert_eq!(
        mining[0].count,
        truth["miner_query_count"].as_u64().unwrap()
    );
    assert_eq!(mining[0].addresses, strings(&truth["domains"]));
    assert_eq!(mining[0].hosts, [truth["host"].as_str().unwrap()]);
    assert_eq!(mining[0].first_seen, Some(time(&truth["first_seen"])));
    assert_techniques(report, &["T1496"]);
    assert!(has_intel(report, "coinhive.com"));
    assert!(report.severity.level >= SeverityLevel::High);
}

fn check_windows_auth_failure(report: &Report) {
    let truth = &story()["windows_auth_failure"];
    let failed = findings(report, FindingCategory::FailedAuthentication);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].count, truth["failure_count"].as_u64().unwrap());
    let accounts = truth["account_count"].as_u64().unwrap();
    assert_eq!(failed[0].accounts.len() as u64, accounts);
    assert_eq!(failed[0].hosts, [truth["host"].as_str().unwrap()]);
    assert!(findings(report, FindingCategory::SuccessfulAuthentication).is_empty());
    let absent = findings(report, FindingCategory::NoSuccessfulAuthentication);
    assert_eq!(absent.len(), 1);
    assert_techniques(report, &["T1110"]);
    assert!(report.severity.level < SeverityLevel::High);
}

fn check_web_attack(report: &Report) {
    let truth = &story()["web_attack"];
    let attacks = findings(report, FindingCategory::WebAttack);
    assert_eq!(attacks.len(), 1);
    assert_eq!(attacks[0].count, truth["request_count"].as_u64().unwrap());
    assert_eq!(attacks[0].addresses, [truth["src_ip"].as_str().unwrap()]);
    let by_pattern = &truth["requests_by_pattern"];
    let labels = [
        ("SQL injection", "sqli"),
        ("cross-site scripting", "xss"),
        ("path traversal", "traversal"),
        ("sensitive file probe", "probe"),
    ];
    for (label, key) in labels {
        let text = format!("{label}: {}", by_pattern[key].as_u64().unwrap());
        assert!(attacks[0].detail.contains(&text), "{text} missing");
    }
    assert_techniques(report, &["T1190"]);
    assert!(has_intel(report, "45.77.65.211"));
}

fn check_story(alert_name: &str, report: &Report) {
    match alert_name {
        "ssh_brute_force" => check_ssh_brute_force(report),
        "suspicious_outbound" => check_suspicious_outbound(report),
        "cryptomining" => check_cryptomining(report),
        "windows_auth_failure" => check_windows_auth_failure(report),
        "web_attack" => check_web_attack(report),
        other => panic!("no story check for {other}"),
    }
}

/// Runs the five alerts through `wire` and checks every report.
async fn run_demo(wire: Wire) {
    for alert_name in ALERTS {
        let (report, requests) = investigate(wire, alert_name).await;
        check_story(alert_name, &report);

        let llm = report.llm.as_ref().expect("model record");
        assert_eq!(llm.provider, wire.name());
        let outcomes: Vec<&str> = llm.decisions.iter().map(|d| d.outcome.as_str()).collect();
        assert!(
            outcomes.iter().all(|o| *o == "accepted" || *o == "done"),
            "{wire:?} {alert_name}: {outcomes:?}"
        );
        let provider = format!("{}/", wire.name());
        for decision in &llm.decisions {
            let decided_by = decision.decided_by.as_deref().unwrap_or_default();
            assert!(decided_by.starts_with(&provider), "{wire:?}: {decided_by}");
        }
        assert_eq!(requests, llm.decisions.len(), "one request per decision");
        assert_eq!(report.model_calls.len(), requests);
        assert_eq!(llm.input_tokens, 40 * requests as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_through_openai() {
    run_demo(Wire::OpenAi).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_through_openai_compatible() {
    run_demo(Wire::OpenAiCompatible).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_through_anthropic() {
    run_demo(Wire::Anthropic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_through_gemini() {
    run_demo(Wire::Gemini).await;
}

/// A local model that ignores tools and prints its calls as text, in a
/// different chat-template form at each step, still drives the
/// investigation through an OpenAI-compatible server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_model_printed_calls() {
    let host = json!({"host": "gacrux.i-0920036c8ca91e501"});
    let call = |name: &str, args: Value| json!({"name": name, "arguments": args}).to_string();
    let llama_call = json!({"name": "expand_to_network_logs", "parameters": {"ip": "5.101.40.81"}});
    let single_action = json!({"action": "check_cryptomining", "args": host, "reason": "miner?"});
    let done = json!({"done": true, "reason": "enough", "actions": []});
    let answers = [
        format!(
            "<tool_call>{}</tool_call>",
            call("correlate_ioc", json!({"indicator": "91.207.175.249"}))
        ),
        format!(
            "[TOOL_CALLS] [{}]",
            call("check_process_execution", host.clone())
        ),
        format!("<|python_tag|>{llama_call}<|eom_id|>"),
        format!("functions.check_outbound_connections({host})"),
        format!("```json\n{single_action}\n```"),
        format!("All clear. {done}"),
    ];
    let wire = Wire::OpenAiCompatible;
    let replies = answers.iter().map(|text| wire.text_reply(text)).collect();
    let server = LlmServer::start(replies).await;
    let settings = LlmPlannerSettings {
        write_summary: false,
        ..Default::default()
    };
    let planner = LlmPlanner::new(wire.model(&server), settings);
    let agent = Agent::new(
        backend(),
        Arc::new(planner),
        Arc::new(NullSink),
        AgentConfig::default(),
    );
    let alert = Alert::from_json(demo::alert_json("ssh_brute_force").unwrap()).unwrap();
    let report = agent.investigate(&alert).await.unwrap();

    let steps: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    let expected = [
        "fetch_alert_data",
        "discover_schema",
        "correlate_ioc",
        "check_process_execution",
        "expand_to_network_logs",
        "check_outbound_connections",
        "check_cryptomining",
    ];
    assert_eq!(steps, expected);
    let llm = report.llm.as_ref().unwrap();
    let outcomes: Vec<&str> = llm.decisions.iter().map(|d| d.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        ["accepted", "accepted", "accepted", "accepted", "accepted", "done"]
    );
    assert_eq!(report.steps[6].reason, "miner?");
    assert_eq!(server.requests().len(), 6);
}
