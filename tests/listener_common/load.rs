//! A load client and a handle on a spawned `argus serve` process, shared by
//! the crash tests and the listener benchmark.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// Syslog lines the served investigations search: small, so they finish fast.
pub const EVIDENCE: &str = "\
2026-08-02T09:44:22+00:00 gacrux sshd[1]: Failed password for root from 5.101.40.81 port 1 ssh2
2026-08-02T09:44:23+00:00 gacrux sshd[1]: Failed password for admin from 5.101.40.81 port 2 ssh2
2026-08-02T09:45:01+00:00 gacrux sshd[2]: Accepted password for ec2-user from 91.207.175.249 port 3 ssh2
";

/// A running `argus serve`.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    pub hook_url: String,
    pub api_token: String,
}

impl ServerProcess {
    /// Starts `argus serve` on a free loopback port and reads its banner.
    pub fn spawn(binary: &str, data_dir: &Path, evidence: &Path, workers: u16) -> ServerProcess {
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--port",
                "0",
                "--workers",
                &workers.to_string(),
                "--shutdown-grace",
                "2",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--evidence")
            .arg(evidence)
            .env("RUST_LOG", "error")
            .env_remove("WEBHOOK_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("argus serve starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = || lines.next().expect("banner line").expect("readable banner");
        let base = next().trim_start_matches("listening on ").to_string();
        let hook_url = next()
            .split(": ")
            .nth(1)
            .expect("webhook URL in banner")
            .to_string();
        // Read the whole banner, so the server never writes to a closed pipe.
        next();
        next();
        let api_token = std::fs::read_to_string(data_dir.join("api_token"))
            .unwrap()
            .trim()
            .to_string();
        ServerProcess {
            child,
            base,
            hook_url,
            api_token,
        }
    }

    /// Sends SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for a graceful exit; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns an SSH brute-force alert with its own `sid` and source address.
pub fn alert_body(sid: &str, n: usize) -> String {
    let ip = format!("5.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    format!(
        r#"{{"sid":"{sid}","search_name":"SSH Brute Force Detected","app":"argus_alerts","owner":"nobody","result_count":1,"result":{{"_time":"1785663862","host":"gacrux","sourcetype":"linux_secure","src_ip":"{ip}","user":"root","count":"12"}}}}"#
    )
}

/// What a load run saw.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    /// `sid`s answered 2xx.
    pub accepted: Vec<String>,
    /// Latency of each 2xx answer.
    pub latencies: Vec<Duration>,
    /// Requests answered with another status.
    pub rejected: usize,
    /// Requests with no answer (connection refused or reset).
    pub unanswered: usize,
    pub elapsed: Duration,
}

/// Posts one alert per `sid` from `clients` concurrent clients.
pub async fn post_alerts(url: &str, sids: Vec<(String, usize)>, clients: usize) -> LoadOutcome {
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let queue = Arc::new(Mutex::new(sids));
    let outcome = Arc::new(Mutex::new(LoadOutcome::default()));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, queue, outcome, url) = (
                client.clone(),
                queue.clone(),
                outcome.clone(),
                url.to_string(),
            );
            tokio::spawn(async move {
                loop {
                    let Some((sid, n)) = queue.lock().await.pop() else {
                        break;
                    };
                    let sent = Instant::now();
                    let result = client.post(&url).body(alert_body(&sid, n)).send().await;
                    let mut outcome = outcome.lock().await;
                    match result {
                        Ok(response) if response.status().is_success() => {
                            outcome.latencies.push(sent.elapsed());
                            outcome.accepted.push(sid);
                        }
                        Ok(_) => outcome.rejected += 1,
                        Err(_) => outcome.unanswered += 1,
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut outcome = std::mem::take(&mut *outcome.lock().await);
    outcome.elapsed = started.elapsed();
    outcome
}

/// Returns the value at quantile `q` (0 to 1) of the durations, in milliseconds.
pub fn quantile_ms(values: &mut [Duration], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort();
    let index = ((values.len() - 1) as f64 * q).round() as usize;
    values[index].as_secs_f64() * 1000.0
}

/// Returns a random number below `bound` from the OS, for kill timing.
pub fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes) % bound.max(1)
}

/// Checks the store after a run: returns a description of each broken invariant.
pub fn check_store(db_path: &Path, accepted: &[String]) -> Vec<String> {
    let db = rusqlite::Connection::open(db_path).unwrap();
    let mut problems = Vec::new();
    let mut stmt = db
        .prepare("SELECT sid, count(*) FROM alerts GROUP BY sid")
        .unwrap();
    let stored: std::collections::HashMap<String, i64> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let lost = accepted
        .iter()
        .filter(|sid| !stored.contains_key(*sid))
        .count();
    if lost > 0 {
        problems.push(format!("{lost} accepted alerts are missing from the store"));
    }
    let doubled = stored.values().filter(|n| **n > 1).count();
    if doubled > 0 {
        problems.push(format!("{doubled} sids are stored more than once"));
    }
    let q = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let duplicated = q("SELECT count(*) FROM (SELECT alert_id FROM investigations GROUP BY alert_id HAVING count(*) > 1)");
    if duplicated > 0 {
        problems.push(format!(
            "{duplicated} alerts have more than one investigation"
        ));
    }
    let orphans = q("SELECT count(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM investigations i WHERE i.alert_id = a.id)");
    if orphans > 0 {
        problems.push(format!("{orphans} alerts have no investigation"));
    }
    let complete_without_report = q(
        "SELECT count(*) FROM investigations i WHERE i.state = 'complete'
        AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.investigation_id = i.id)",
    );
    if complete_without_report > 0 {
        problems.push(format!(
            "{complete_without_report} complete investigations have no report"
        ));
    }
    let report_not_complete = q(
        "SELECT count(*) FROM reports r JOIN investigations i ON i.id = r.investigation_id
        WHERE i.state != 'complete'",
    );
    if report_not_complete > 0 {
        problems.push(format!(
            "{report_not_complete} reports belong to investigations not complete"
        ));
    }
    let mut bodies = db.prepare("SELECT r.body, (SELECT count(*) FROM steps s WHERE s.investigation_id = r.investigation_id) FROM reports r").unwrap();
    let rows = bodies
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap();
    for row in rows {
        let (body, steps) = row.unwrap();
        match serde_json::from_str::<argus::report::Report>(&body) {
            Ok(report) if report.steps.len() as i64 != steps => problems.push(format!(
                "report {} has {} steps but {steps} are stored",
                report.id,
                report.steps.len()
            )),
            Ok(_) => {}
            Err(e) => problems.push(format!("a stored report does not parse: {e}")),
        }
    }
    problems
}

/// Counts investigations by state.
pub fn states(db_path: &Path) -> std::collections::BTreeMap<String, i64> {
    let db = rusqlite::Connection::open(db_path).unwrap();
    let mut stmt = db
        .prepare("SELECT state, count(*) FROM investigations GROUP BY state")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}
