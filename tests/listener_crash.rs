//! Crash safety of `argus serve`: alerts are posted by concurrent clients
//! while the process is killed with SIGKILL at random moments and started
//! again. After the last restart drains the queue, no alert answered 2xx
//! may be missing, none may be stored or investigated twice, and no report
//! may be marked complete unless it is stored in full.
//!
//! The default size is small (3 rounds of 150 alerts, 20 clients).
//! `ARGUS_FULL_LOAD=1` runs 20 rounds of 500 alerts from 50 clients.

mod listener_common;

use std::time::{Duration, Instant};

use listener_common::load::{check_store, post_alerts, random_below, states, ServerProcess};

const BINARY: &str = env!("CARGO_BIN_EXE_argus");

struct Sizes {
    rounds: usize,
    alerts_per_round: usize,
    clients: usize,
}

fn sizes() -> Sizes {
    if std::env::var("ARGUS_FULL_LOAD").is_ok_and(|v| v == "1") {
        Sizes {
            rounds: 20,
            alerts_per_round: 500,
            clients: 50,
        }
    } else {
        Sizes {
            rounds: 3,
            alerts_per_round: 150,
            clients: 20,
        }
    }
}

/// Waits until nothing is queued or running, or the timeout passes.
fn wait_for_drain(db: &std::path::Path, timeout: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        let counts = states(db);
        let pending = counts.get("queued").copied().unwrap_or(0)
            + counts.get("running").copied().unwrap_or(0);
        if pending == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_load_loses_nothing() {
    let sizes = sizes();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let evidence = dir.path().join("secure.log");
    std::fs::write(&evidence, listener_common::load::EVIDENCE).unwrap();
    let db = data.join("argus.db");
    let mut accepted: Vec<String> = Vec::new();

    for round in 0..sizes.rounds {
        let mut server = ServerProcess::spawn(BINARY, &data, &evidence, 2);
        let mut sids: Vec<(String, usize)> = (0..sizes.alerts_per_round)
            .map(|i| {
                (
                    format!("crash-{round}-{i}"),
                    round * sizes.alerts_per_round + i,
                )
            })
            .collect();
        // Re-send part of what the last round had accepted: it must be acknowledged, not re-queued.
        let resend = accepted.iter().rev().take(20).cloned();
        sids.extend(resend.map(|sid| {
            let n = sid_number(&sid, sizes.alerts_per_round);
            (sid, n)
        }));
        let kill_after = Duration::from_millis(50 + random_below(400));
        let pid = server.pid();
        let killer = tokio::spawn(async move {
            tokio::time::sleep(kill_after).await;
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        });
        let outcome = post_alerts(&server.hook_url, sids, sizes.clients).await;
        killer.await.unwrap();
        server.kill();
        eprintln!(
            "round {round}: killed after {kill_after:?}; {} accepted, {} unanswered, {} rejected",
            outcome.accepted.len(),
            outcome.unanswered,
            outcome.rejected
        );
        assert_eq!(outcome.rejected, 0, "no request may get a non-2xx status");
        accepted.extend(outcome.accepted);
        let problems = check_store(&db, &accepted);
        assert!(problems.is_empty(), "after round {round}: {problems:?}");
    }

    let mut server = ServerProcess::spawn(BINARY, &data, &evidence, 2);
    let drained = wait_for_drain(&db, Duration::from_secs(240));
    assert!(server.terminate(), "argus serve exits cleanly on SIGTERM");
    assert!(drained, "the queue did not drain: {:?}", states(&db));
    let problems = check_store(&db, &accepted);
    assert!(problems.is_empty(), "{problems:?}");
    let counts = states(&db);
    assert_eq!(counts.get("failed"), None, "{counts:?}");
}

/// Recovers the alert number from a `crash-<round>-<i>` sid.
fn sid_number(sid: &str, per_round: usize) -> usize {
    let mut parts = sid.rsplit('-');
    let i: usize = parts.next().unwrap().parse().unwrap();
    let round: usize = parts.next().unwrap().parse().unwrap();
    round * per_round + i
}
