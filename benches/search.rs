//! Persistent index benchmark: ingest rate, index size, search time against
//! `rg -c`, and peak memory while searching.
//!
//! Needs the files written by `scripts/gen_bench_data.py` (syslog.log and
//! events.jsonl) in the folder `ARGUS_BENCH_DATA` names, and `rg` on the
//! PATH. For each file the benchmark:
//!
//! 1. ingests it into a new index folder beside the data and prints events
//!    per second and the index size on disk relative to the file;
//! 2. starts itself again in a new process that opens the index, times each
//!    query (best of five runs) next to `rg -c TERM FILE` on the same file,
//!    both warm in the page cache, and prints the process's peak resident
//!    memory (`VmHWM`) relative to the file size.
//!
//! The ingest line also gives the process's user and system CPU time for the
//! ingest, read from `/proc/self/stat` (Linux only, 10 ms resolution), because
//! wall time on a shared machine includes time spent waiting for other work.
//! `ARGUS_BENCH_INGEST_ONLY=1` skips the searches, and `ARGUS_BENCH_FILES`
//! (comma-separated, such as `syslog.log`) picks the files to run.
//!
//! With `ARGUS_BENCH_EVTX` naming a folder of `.evtx` files and `evtx_dump`
//! (from the `evtx` crate) on the PATH or in `ARGUS_EVTX_DUMP`, it also
//! compares EVTX ingest time with `evtx_dump -t 1 -o json` over the same files.
//!
//! Run: `ARGUS_BENCH_DATA=/tmp/argus-bench cargo bench --bench search`

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use argus::index::EvidenceIndex;
use argus::spl;

/// Queries per file: (label, SPL, the literal term `rg -c` counts).
const QUERIES: &[(&str, &str, &str)] = &[
    ("common term, count by host", "search Failed | stats count by host", "Failed"),
    ("rare term, count by host", "search test7 | stats count by host", "test7"),
    ("rare address, events", "search \"99.154.69.214\"", "99.154.69.214"),
];

const RUNS: usize = 5;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(data) = std::env::var_os("ARGUS_BENCH_DATA").map(PathBuf::from) else {
        eprintln!("set ARGUS_BENCH_DATA to a folder written by scripts/gen_bench_data.py");
        std::process::exit(2);
    };
    if let Ok(file) = std::env::var("ARGUS_BENCH_SEARCH_FILE") {
        let index = std::env::var("ARGUS_BENCH_SEARCH_INDEX").expect("index folder is set");
        search_phase(Path::new(&file), Path::new(&index));
        return;
    }
    let names = std::env::var("ARGUS_BENCH_FILES")
        .unwrap_or_else(|_| "syslog.log,events.jsonl".to_string());
    let ingest_only = std::env::var_os("ARGUS_BENCH_INGEST_ONLY").is_some();
    for name in names.split(',').filter(|name| !name.is_empty()) {
        let file = data.join(name);
        let index = data.join(format!("index-{name}"));
        ingest_phase(&file, &index);
        if !ingest_only {
            run_search_process(&data, &file, &index);
        }
    }
    if let Some(folder) = std::env::var_os("ARGUS_BENCH_EVTX") {
        evtx_phase(Path::new(&folder));
    }
}

fn ingest_phase(file: &Path, index_dir: &Path) {
    let _ = std::fs::remove_dir_all(index_dir);
    let raw = std::fs::metadata(file).expect("bench data file exists").len();
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    let mut index = EvidenceIndex::open(index_dir).expect("index folder opens");
    let summary = index.ingest_path(file).expect("ingest runs");
    let seconds = start.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds();
    let (user, system) = (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1);
    let disk = index.disk_bytes();

    println!("{}", file.display());
    println!("  ingest:  {} events in {seconds:.2} s, {:.0} events/s (one thread)",
        summary.events, summary.events as f64 / seconds);
    println!("  cpu:     user {user:.2} s ({:.0} events per user second), system {system:.2} s",
        summary.events as f64 / user);
    println!("  skipped: {} lines", summary.lines_skipped);
    println!("  index:   {:.1} MiB on disk for {:.1} MiB of evidence ({:.2}x)",
        mib(disk), mib(raw), disk as f64 / raw as f64);

    let start = Instant::now();
    let again = index.ingest_path(file).expect("second ingest runs");
    println!("  re-ingest of the unchanged file: {:.2} s ({} unchanged, {} read)",
        start.elapsed().as_secs_f64(), again.files_unchanged, again.files_read);
}

fn run_search_process(data: &Path, file: &Path, index: &Path) {
    let status = Command::new(std::env::current_exe().expect("bench binary path"))
        .env("ARGUS_BENCH_DATA", data)
        .env("ARGUS_BENCH_SEARCH_FILE", file)
        .env("ARGUS_BENCH_SEARCH_INDEX", index)
        .status()
        .expect("search process starts");
    assert!(status.success(), "search process failed: {status}");
}

fn search_phase(file: &Path, index_dir: &Path) {
    let raw = std::fs::metadata(file).expect("bench data file exists").len();
    let start = Instant::now();
    let index = EvidenceIndex::open(index_dir).expect("index opens");
    println!("  open:    {:.2} s for {} events", start.elapsed().as_secs_f64(), index.event_count());

    for (label, query, term) in QUERIES {
        let pipeline = spl::parse(query).expect("bench query parses");
        let mut rows = 0;
        let ours = best_of(|| {
            rows = index.search(&pipeline, 0).expect("bench query runs").len();
        });
        let mut rg_output = String::new();
        let rg = best_of(|| rg_output = rg_count(term, file));
        println!("  {label}: `{query}`");
        println!("    argus {:>8.1} ms ({rows} rows)   rg -c {:>8.1} ms ({} lines)   rg/argus {:.1}x",
            ms(ours), ms(rg), rg_output.trim(), rg.as_secs_f64() / ours.as_secs_f64());
    }
    let peak = peak_resident_bytes();
    println!("  peak resident memory: {:.1} MiB ({:.2}x the evidence file)",
        mib(peak), peak as f64 / raw as f64);
}

fn evtx_phase(folder: &Path) {
    let dump = std::env::var_os("ARGUS_EVTX_DUMP").map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("evtx_dump"));
    let files: Vec<PathBuf> = walkdir::WalkDir::new(folder)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "evtx"))
        .collect();
    let ours = best_of(|| {
        let mut index = EvidenceIndex::in_memory();
        for file in &files {
            index.ingest_path(file).expect("evtx ingests");
        }
    });
    let theirs = best_of(|| {
        for file in &files {
            let status = Command::new(&dump)
                .args(["-t", "1", "-o", "json"])
                .arg(file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("evtx_dump runs; set ARGUS_EVTX_DUMP to its path");
            assert!(status.success());
        }
    });
    println!("{} ({} files)", folder.display(), files.len());
    println!("  argus ingest {:.1} ms   evtx_dump -t 1 -o json {:.1} ms   argus speed {:.0}% of evtx_dump",
        ms(ours), ms(theirs), 100.0 * theirs.as_secs_f64() / ours.as_secs_f64());
}

fn rg_count(term: &str, file: &Path) -> String {
    let output = Command::new("rg")
        .args(["-c", "--fixed-strings", term])
        .arg(file)
        .output()
        .expect("rg runs (install ripgrep)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn best_of(mut run: impl FnMut()) -> Duration {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .expect("at least one run")
}

/// Returns the process's peak resident set size from /proc (Linux only; 0 elsewhere).
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Returns the process's (user, system) CPU seconds from `/proc/self/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s on Linux); zeros elsewhere.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name in field 2 may contain spaces, so count from its closing bracket.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |at: usize| fields.get(at).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // Field 14 (utime) is the 12th after the name, since field 3 comes first.
    (ticks(11) / 100.0, ticks(12) / 100.0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
