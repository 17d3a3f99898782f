//! Times the model planner's own work and an investigation with slow answers.
//!
//! Run with `cargo bench --bench planner`. Two measures:
//!
//! 1. Planner overhead per step with 1,000 findings: one `LlmPlanner::plan`
//!    call (build the prompt, mask it, send it to a scripted model that
//!    answers at once, parse and validate the answer, record the call and the
//!    decision), so the model's own latency is left out. Masking off and on.
//! 2. The demo SSH investigation with a model that answers in 1 s and a
//!    search backend that answers in 200 ms, in real time, next to the bound
//!    (model calls x 1 s) + (dependent searches x 200 ms) + 10% that
//!    `tests/planner_timing.rs` checks on a paused clock.
//!
//! Each figure comes with the CPU time it took and the load average, since
//! other work on a shared machine slows the wall time.

#[path = "../tests/support/latency.rs"]
mod latency;

use std::sync::Arc;
use std::time::{Duration, Instant};

use argus::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use argus::agent::planner::{PlanContext, Planner};
use argus::agent::sink::NullSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::analysis::{Finding, FindingCategory};
use argus::demo;
use argus::evidence::EvidenceStore;
use argus::llm::scripted::ScriptedModel;
use argus::llm::ModelInfo;
use argus::search::local::LocalBackend;
use argus::search::SearchBackend;
use serde_json::json;

use latency::{DelayedBackend, DelayedModel};

const FINDINGS: usize = 1_000;
const STEPS: usize = 200;
const HOST: &str = "gacrux.i-0920036c8ca91e501";
const C2: &str = "91.207.175.249";

fn main() {
    println!("load average (1, 5, 15 min): {}", load_average());
    let runtime = tokio::runtime::Runtime::new().expect("runtime starts");
    for masking in [false, true] {
        planner_overhead(&runtime, masking);
    }
    slow_investigation(&runtime);
    println!("load average (1, 5, 15 min): {}", load_average());
}

/// Builds `FINDINGS` findings with a host, an account and an address each.
fn findings() -> Vec<Finding> {
    (0..FINDINGS)
        .map(|i| {
            let mut f = Finding::new(
                format!("F{}", i + 1),
                FindingCategory::FailedAuthentication,
                format!("{} failed SSH logins for user{i} from 203.0.113.{}", i * 3 + 1, i % 250),
            );
            f.count = (i * 3 + 1) as u64;
            f.hosts = vec![format!("web{:03}.example.internal", i % 100)];
            f.accounts = vec![format!("user{i}")];
            f.addresses = vec![format!("203.0.113.{}", i % 250)];
            f.evidence = vec![format!("E{}", i + 1)];
            f
        })
        .collect()
}

fn planner_overhead(runtime: &tokio::runtime::Runtime, masking: bool) {
    let mut store = EvidenceStore::new();
    demo::ingest(&mut store);
    let backend = LocalBackend::new(store, "demo");
    let schema = runtime.block_on(backend.schema()).expect("schema");
    let alert = Alert::from_json(demo::alert_json("ssh_brute_force").expect("demo alert"))
        .expect("demo alert parses");
    let entities = alert.entities();
    let findings = findings();

    let answer = json!({"done": false, "reason": "check the source", "actions": [
        {"action": "correlate_ioc", "args": {"indicator": C2}, "reason": "known C2?"}]})
    .to_string();
    let info = ModelInfo { provider: "scripted".into(), model: "scripted".into(), remote: masking };
    let model = ScriptedModel::new(vec![answer; STEPS + 1]).with_info(info);
    let planner = LlmPlanner::new(Arc::new(model), LlmPlannerSettings::default());
    let context = |iteration| PlanContext {
        alert: &alert,
        class: alert.class(),
        entities: &entities,
        schema: Some(&schema),
        findings: &findings,
        completed: &[],
        iteration,
        max_iterations: STEPS + 1,
    };
    // A warm-up step compiles the masking patterns and registers the names.
    runtime.block_on(planner.plan(&context(1))).expect("plan");

    let cpu_before = process_cpu_seconds();
    let mut times: Vec<Duration> = (0..STEPS)
        .map(|i| {
            let started = Instant::now();
            runtime.block_on(planner.plan(&context(i + 2))).expect("plan");
            started.elapsed()
        })
        .collect();
    let cpu = process_cpu_seconds().zip(cpu_before).map(|(a, b)| (a - b) / STEPS as f64);
    times.sort();
    println!(
        "planner step, {FINDINGS} findings, masking {} ({STEPS} steps): median {:.2} ms, \
         p95 {:.2} ms, max {:.2} ms; cpu {} per step (target under 5 ms)",
        if masking { "on" } else { "off" },
        ms(times[STEPS / 2]),
        ms(times[STEPS * 95 / 100]),
        ms(times[STEPS - 1]),
        cpu.map_or("unknown".to_string(), |c| format!("{:.2} ms", c * 1000.0))
    );
}

fn slow_investigation(runtime: &tokio::runtime::Runtime) {
    let first = json!({"done": false, "reason": "independent checks", "actions": [
        {"action": "check_login_success", "args": {"host": HOST}, "reason": "any login?"},
        {"action": "correlate_ioc", "args": {"indicator": C2}, "reason": "known C2?"},
        {"action": "expand_to_network_logs", "args": {"ip": "5.101.40.81"}, "reason": "traffic?"}
    ]});
    let second = json!({"done": false, "reason": "after the login", "actions": [
        {"action": "check_process_execution", "args": {"host": HOST}, "reason": "what ran?"}]});
    let done = json!({"done": true, "reason": "enough", "actions": []});
    let summary = json!({"summary": "Brute force, then a login.", "verdict": "true_positive",
                         "confidence": "high", "reasons": ["login"], "attack_chain": [],
                         "remediation": []});
    let script = [first, second, done, summary].map(|v| v.to_string());
    let model = DelayedModel { inner: ScriptedModel::new(script), latency: Duration::from_secs(1) };
    let mut store = EvidenceStore::new();
    demo::ingest(&mut store);
    let local = Arc::new(LocalBackend::new(store, "demo"));
    let backend = Arc::new(DelayedBackend::new(local, Duration::from_millis(200)));
    let planner = LlmPlanner::new(Arc::new(model), LlmPlannerSettings::default());
    let agent = Agent::new(backend.clone(), Arc::new(planner), Arc::new(NullSink), AgentConfig::default());
    let alert = Alert::from_json(demo::alert_json("ssh_brute_force").expect("demo alert"))
        .expect("demo alert parses");

    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    let report = runtime.block_on(agent.investigate(&alert)).expect("investigation succeeds");
    let elapsed = started.elapsed();
    let cpu = process_cpu_seconds().zip(cpu_before).map(|(a, b)| a - b);
    let searches = backend.searches.load(std::sync::atomic::Ordering::SeqCst);
    // The same chain count as tests/planner_timing.rs: the alert search, the
    // schema, then the longest action of each of the two planner iterations.
    let chain = report.steps[0].evidence.len()
        + 1
        + report.steps[2..5].iter().map(|s| s.evidence.len()).max().unwrap_or(0)
        + report.steps[5].evidence.len();
    let floor = 1000.0 * report.model_calls.len() as f64 + 200.0 * chain as f64;
    println!(
        "slow ssh investigation: {:.0} ms wall, cpu {}; {} model calls, {searches} searches, \
         dependent chain {chain}; bound {:.0} ms (floor {floor:.0} ms + 10%)",
        ms(elapsed),
        cpu.map_or("unknown".to_string(), |c| format!("{:.0} ms", c * 1000.0)),
        report.model_calls.len(),
        floor * 1.1
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Returns this process's user plus system CPU time in seconds, from
/// `/proc/self/stat` (Linux only; `None` elsewhere). Assumes the usual
/// 100 clock ticks per second.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
