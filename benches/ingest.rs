//! Ingest throughput of the evidence store, single-threaded.
//!
//! With `ARGUS_BENCH_DATA` set to a folder written by
//! `scripts/gen_bench_data.py` (syslog.log and events.jsonl), those files are
//! ingested. Without it, 200,000 syslog lines and 200,000 JSON lines are
//! generated in memory so that `cargo bench --bench ingest` needs no setup.
//!
//! Prints input lines per second, events per second and an estimate of the
//! heap the ingested events take. Each format is timed in its own store.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use argus::event::{Event, Value};
use argus::evidence::EvidenceStore;

const SAMPLE_LINES: usize = 200_000;

fn main() {
    let inputs = match std::env::var_os("ARGUS_BENCH_DATA") {
        Some(folder) => load_inputs(PathBuf::from(folder)),
        None => {
            eprintln!("ARGUS_BENCH_DATA is unset; generating {SAMPLE_LINES} lines per format");
            vec![
                (
                    "syslog (generated)".to_string(),
                    generate_syslog(SAMPLE_LINES),
                ),
                (
                    "json lines (generated)".to_string(),
                    generate_json(SAMPLE_LINES),
                ),
            ]
        }
    };
    for (name, bytes) in &inputs {
        run(name, bytes);
    }
}

fn load_inputs(folder: PathBuf) -> Vec<(String, Vec<u8>)> {
    ["syslog.log", "events.jsonl"]
        .iter()
        .map(|name| {
            let path = folder.join(name);
            let bytes = std::fs::read(&path).unwrap_or_else(|err| {
                panic!(
                    "cannot read {}: {err}; run scripts/gen_bench_data.py first",
                    path.display()
                )
            });
            (path.display().to_string(), bytes)
        })
        .collect()
}

fn run(name: &str, bytes: &[u8]) {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    let mut store = EvidenceStore::new();
    let start = Instant::now();
    let summary = store.ingest_bytes(name, bytes, None);
    let seconds = start.elapsed().as_secs_f64();

    let events = store.events();
    let heap = estimate_heap_bytes(events);
    println!("{name}");
    println!(
        "  input:   {lines} lines, {:.1} MiB",
        bytes.len() as f64 / 1048576.0
    );
    println!("  time:    {seconds:.3} s");
    println!(
        "  rate:    {:.0} lines/s, {:.0} events/s",
        lines as f64 / seconds,
        summary.events as f64 / seconds
    );
    println!("  skipped: {} lines", summary.lines_skipped);
    println!(
        "  memory:  {:.1} MiB for {} events (estimate, {:.0} bytes/event)",
        heap as f64 / 1048576.0,
        events.len(),
        heap as f64 / events.len().max(1) as f64
    );
}

/// Estimates the bytes the events occupy: the `Event` structs, string
/// capacities, and field map slots (key, value, cached hash, index slot and
/// control byte). Allocator overhead per allocation is not counted.
fn estimate_heap_bytes(events: &[Event]) -> usize {
    let entry = std::mem::size_of::<(String, Value)>() + 2 * std::mem::size_of::<usize>() + 1;
    events
        .iter()
        .map(|event| {
            let strings = event.raw.capacity()
                + event.host.capacity()
                + event.source.capacity()
                + event.sourcetype.capacity()
                + event.index.capacity();
            let fields: usize = event
                .fields
                .iter()
                .map(|(key, value)| key.capacity() + value_bytes(value))
                .sum();
            std::mem::size_of::<Event>() + strings + fields + event.fields.capacity() * entry
        })
        .sum()
}

fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Single(text) => text.capacity(),
        Value::Multi(values) => values
            .iter()
            .map(|v| v.capacity() + std::mem::size_of::<String>())
            .sum(),
    }
}

/// A xorshift generator: the sample only needs variety, not quality.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }

    fn ip(&mut self) -> String {
        format!(
            "{}.{}.{}.{}",
            1 + self.below(223),
            self.below(256),
            self.below(256),
            1 + self.below(254)
        )
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const USERS: &[&str] = &["root", "admin", "alice", "bob", "deploy", "oracle", "test"];
const HOSTS: &[&str] = &["web01", "web02", "web03", "db01", "bastion", "mail01"];

fn generate_syslog(count: usize) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(count * 100);
    for n in 0..count {
        let second = n / 2;
        let stamp = format!(
            "Jan {:2} {:02}:{:02}:{:02}",
            1 + second / 86_400 % 28,
            second / 3600 % 24,
            second / 60 % 60,
            second % 60
        );
        let host = rng.pick(HOSTS);
        let (user, ip, port) = (rng.pick(USERS), rng.ip(), 1024 + rng.below(60_000));
        let pid = 100 + rng.below(60_000);
        let body = match rng.below(10) {
            0..=3 => format!("sshd[{pid}]: Failed password for {user} from {ip} port {port} ssh2"),
            4 => format!("sshd[{pid}]: Accepted publickey for {user} from {ip} port {port} ssh2"),
            5 => format!("sshd[{pid}]: Invalid user {user}9 from {ip}"),
            6 => format!(
                "sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 \
                 euid=0 tty=ssh ruser= rhost={ip}  user={user}"
            ),
            7 => {
                format!("sudo: {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/ls")
            }
            8 => format!("CRON[{pid}]: (root) CMD (run-parts /etc/cron.hourly)"),
            _ => format!("kernel: [UFW BLOCK] IN=eth0 OUT= SRC={ip} DST=10.0.0.5 PROTO=TCP DPT=22"),
        };
        let _ = writeln!(out, "{stamp} {host} {body}");
    }
    out.into_bytes()
}

fn generate_json(count: usize) -> Vec<u8> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut out = String::with_capacity(count * 350);
    for n in 0..count {
        let (host, user, ip) = (rng.pick(HOSTS), rng.pick(USERS), rng.ip());
        let status = rng.pick(&["200", "302", "404", "500"]);
        let row = format!(
            "{{\"_time\":\"{}.{:03}\",\"host\":\"{host}\",\"source\":\"/var/log/access.log\",\
             \"sourcetype\":\"access_combined\",\"index\":\"web\",\"_raw\":\"{ip} - {user} \
             [01/Jan/2024:00:00:00 +0000] \\\"GET /login HTTP/1.1\\\" {status} 512\",\
             \"clientip\":\"{ip}\",\"user\":\"{user}\",\"status\":\"{status}\",\
             \"tag\":[\"web\",\"authentication\"],\"req\":{{\"method\":\"GET\",\"bytes\":512}}}}",
            1_704_067_200 + n / 2,
            rng.below(1000)
        );
        if n % 5 == 0 {
            let _ = writeln!(out, "{{\"preview\":false,\"result\":{row}}}");
        } else {
            let _ = writeln!(out, "{row}");
        }
    }
    out.into_bytes()
}
