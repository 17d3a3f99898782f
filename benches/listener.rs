//! Load and fault benchmark of `argus serve`.
//!
//! Run with `cargo bench --bench listener`. Starts the release `argus serve`
//! on a temporary data folder and:
//! 1. posts 10,000 distinct alerts from 50 concurrent clients on loopback
//!    while polling the health route, and prints accepted alerts per second,
//!    the p50 and p99 answer times, and the health route's p99; then waits
//!    for the workers to drain the backlog and checks that every alert was
//!    stored once and investigated once;
//! 2. repeats 20 rounds of 500 alerts from 50 clients, each ended by SIGKILL
//!    at a random moment, restarts, drains and checks that no 2xx-answered
//!    alert was lost or doubled and no report is complete without being
//!    stored in full.
//!
//! `ARGUS_BENCH_ALERTS` and `ARGUS_BENCH_ROUNDS` change the sizes.

#[path = "../tests/listener_common/load.rs"]
mod load;

use std::path::Path;
use std::time::{Duration, Instant};

use load::{check_store, post_alerts, quantile_ms, random_below, states, ServerProcess, EVIDENCE};

const BINARY: &str = env!("CARGO_BIN_EXE_argus");
const CLIENTS: usize = 50;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn wait_for_drain(db: &Path, timeout: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        let counts = states(db);
        if counts.get("queued").copied().unwrap_or(0) + counts.get("running").copied().unwrap_or(0)
            == 0
        {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    None
}

/// Polls the health route until `stop` turns true; returns each answer time.
async fn poll_health(
    base: String,
    token: String,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<Duration> {
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    while !*stop.borrow() {
        let sent = Instant::now();
        let answer = client
            .get(format!("{base}/api/health"))
            .bearer_auth(&token)
            .send()
            .await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            times.push(sent.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    times
}

async fn throughput(dir: &Path, evidence: &Path, alerts: usize) {
    let data = dir.join("load");
    let server = ServerProcess::spawn(BINARY, &data, evidence, 2);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let health = tokio::spawn(poll_health(
        server.base.clone(),
        server.api_token.clone(),
        stopped,
    ));
    let sids = (0..alerts).map(|i| (format!("load-{i}"), i)).collect();
    let mut outcome = post_alerts(&server.hook_url, sids, CLIENTS).await;
    // Keep polling while the workers drain the backlog: the listener must stay responsive.
    let db = data.join("argus.db");
    let drain = tokio::task::spawn_blocking(move || wait_for_drain(&db, Duration::from_secs(1800)));
    let drained = drain.await.unwrap();
    let _ = stop.send(true);
    let mut health_times = health.await.unwrap();

    let rate = outcome.accepted.len() as f64 / outcome.elapsed.as_secs_f64();
    println!(
        "load: {alerts} alerts from {CLIENTS} clients in {:.2} s",
        outcome.elapsed.as_secs_f64()
    );
    println!(
        "  accepted {} ({rate:.0}/s), rejected {}, unanswered {}",
        outcome.accepted.len(),
        outcome.rejected,
        outcome.unanswered
    );
    println!(
        "  answer time p50 {:.2} ms, p99 {:.2} ms",
        quantile_ms(&mut outcome.latencies, 0.5),
        quantile_ms(&mut outcome.latencies, 0.99)
    );
    println!(
        "  health p50 {:.2} ms, p99 {:.2} ms over {} polls during ingest and drain",
        quantile_ms(&mut health_times, 0.5),
        quantile_ms(&mut health_times, 0.99),
        health_times.len()
    );
    match drained {
        Some(time) => println!(
            "  backlog drained in {:.1} s: {:?}",
            time.as_secs_f64(),
            states(&data.join("argus.db"))
        ),
        None => println!(
            "  backlog NOT drained: {:?}",
            states(&data.join("argus.db"))
        ),
    }
    let problems = check_store(&data.join("argus.db"), &outcome.accepted);
    println!(
        "  store check: {}",
        if problems.is_empty() {
            "ok".to_string()
        } else {
            format!("{problems:?}")
        }
    );
}

async fn kill_rounds(dir: &Path, evidence: &Path, rounds: usize, per_round: usize) {
    let data = dir.join("faults");
    let db = data.join("argus.db");
    let mut accepted: Vec<String> = Vec::new();
    let mut unanswered = 0;
    for round in 0..rounds {
        let mut server = ServerProcess::spawn(BINARY, &data, evidence, 2);
        let sids = (0..per_round)
            .map(|i| (format!("fault-{round}-{i}"), round * per_round + i))
            .collect();
        let pid = server.pid();
        let kill_after = Duration::from_millis(20 + random_below(300));
        let killer = tokio::spawn(async move {
            tokio::time::sleep(kill_after).await;
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        });
        let outcome = post_alerts(&server.hook_url, sids, CLIENTS).await;
        killer.await.unwrap();
        server.kill();
        unanswered += outcome.unanswered;
        accepted.extend(outcome.accepted);
        let problems = check_store(&db, &accepted);
        if !problems.is_empty() {
            println!("faults: round {round}: {problems:?}");
        }
    }
    let mut server = ServerProcess::spawn(BINARY, &data, evidence, 2);
    let drained = tokio::task::spawn_blocking({
        let db = db.clone();
        move || wait_for_drain(&db, Duration::from_secs(1800))
    })
    .await
    .unwrap();
    server.terminate();
    let problems = check_store(&db, &accepted);
    println!(
        "faults: {rounds} SIGKILL rounds of {per_round} alerts: {} accepted, {unanswered} unanswered (server down)",
        accepted.len()
    );
    println!(
        "  drained after restart: {}; states {:?}",
        drained.is_some(),
        states(&db)
    );
    println!(
        "  store check: {}",
        if problems.is_empty() {
            "ok".to_string()
        } else {
            format!("{problems:?}")
        }
    );
}

#[tokio::main]
async fn main() {
    let alerts = setting("ARGUS_BENCH_ALERTS", 10_000);
    let rounds = setting("ARGUS_BENCH_ROUNDS", 20);
    let dir = tempfile::tempdir().expect("temporary folder");
    let evidence = dir.path().join("secure.log");
    std::fs::write(&evidence, EVIDENCE).expect("evidence written");
    throughput(dir.path(), &evidence, alerts).await;
    kill_rounds(dir.path(), &evidence, rounds, 500).await;
}
