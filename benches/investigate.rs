//! Times the whole playbook investigation of the demo SSH alert, after ingest.
//!
//! Run with `cargo bench --bench investigate`. Prints the ingest time once,
//! then the median, 95th percentile and maximum wall time of repeated
//! investigations and their CPU time,
//! (each one: every search, the ATT&CK mapping, and the report model; the
//! report files are not written).

use std::sync::Arc;
use std::time::{Duration, Instant};

use argus::agent::playbook::PlaybookPlanner;
use argus::agent::sink::NullSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::demo;
use argus::evidence::EvidenceStore;
use argus::search::local::LocalBackend;

const RUNS: usize = 50;

fn main() {
    let started = Instant::now();
    let mut store = EvidenceStore::new();
    let summary = demo::ingest(&mut store);
    println!("ingest: {} events in {:.1} ms", summary.events, ms(started.elapsed()));

    let alert = Alert::from_json(demo::alert_json("ssh_brute_force").expect("demo alert exists"))
        .expect("demo alert parses");
    let backend = Arc::new(LocalBackend::new(store, "demo"));
    let agent = Agent::new(backend, Arc::new(PlaybookPlanner), Arc::new(NullSink), AgentConfig::default());
    let runtime = tokio::runtime::Runtime::new().expect("runtime starts");

    // One warm-up run loads the bundled catalogue, rules and intel.
    let report = runtime.block_on(agent.investigate(&alert)).expect("investigation succeeds");
    println!("warm-up: {} steps, {} queries, severity {}", report.steps.len(), report.evidence.len(), report.severity.level.as_str());

    let cpu_before = process_cpu_seconds();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            runtime.block_on(agent.investigate(&alert)).expect("investigation succeeds");
            t.elapsed()
        })
        .collect();
    let cpu_per_run = process_cpu_seconds().zip(cpu_before).map(|(after, before)| (after - before) / RUNS as f64);
    times.sort();
    println!(
        "investigate ssh_brute_force ({RUNS} runs): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(times[RUNS / 2]),
        ms(times[RUNS * 95 / 100]),
        ms(times[RUNS - 1])
    );
    // CPU time is what an idle machine would need at most, whatever else is running now.
    if let Some(cpu) = cpu_per_run {
        println!("cpu time per investigation (all threads): {:.1} ms", cpu * 1000.0);
    }
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
