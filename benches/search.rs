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
//! compares EVTX ingest into the in-memory store, into an index in memory and
//! into an index folder with `evtx_dump -t 1 -o json` over the same files, by
//! wall time and by user CPU time. Either variable may be set alone.
//!
//! Run: `ARGUS_BENCH_DATA=/tmp/argus-bench cargo bench --bench search`

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use argus::evidence::EvidenceStore;
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
    let data = std::env::var_os("ARGUS_BENCH_DATA").map(PathBuf::from);
    let evtx = std::env::var_os("ARGUS_BENCH_EVTX").map(PathBuf::from);
    if data.is_none() && evtx.is_none() {
        eprintln!(
            "set ARGUS_BENCH_DATA to a folder written by scripts/gen_bench_data.py, \
             or ARGUS_BENCH_EVTX to a folder of .evtx files, or both"
        );
        std::process::exit(2);
    }
    if let Ok(file) = std::env::var("ARGUS_BENCH_SEARCH_FILE") {
        let index = std::env::var("ARGUS_BENCH_SEARCH_INDEX").expect("index folder is set");
        search_phase(Path::new(&file), Path::new(&index));
        return;
    }
    if let Some(data) = data {
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
    }
    if let Some(folder) = evtx {
        evtx_phase(&folder);
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

/// Runs of each EVTX measurement. The files are small, so many runs are
/// needed for CPU times well above the 10 ms resolution of `/proc/self/stat`.
const EVTX_RUNS: usize = 30;

fn evtx_phase(folder: &Path) {
    let dump = std::env::var_os("ARGUS_EVTX_DUMP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("evtx_dump"));
    let files: Vec<PathBuf> = walkdir::WalkDir::new(folder)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "evtx"))
        .collect();
    let scratch = tempfile::tempdir().expect("temporary index folder");
    println!("{} ({} files)", folder.display(), files.len());

    let dump_time = measure_cpu(|| {
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
    print_evtx_line("evtx_dump -t 1 -o json", &dump_time, &dump_time);

    let store_time = measure_cpu(|| {
        let mut store = EvidenceStore::new();
        for file in &files {
            store.ingest_path(file).expect("evtx ingests");
        }
    });
    print_evtx_line("in-memory store (EvidenceStore)", &store_time, &dump_time);

    let memory_index_time = measure_cpu(|| {
        let mut index = EvidenceIndex::in_memory();
        for file in &files {
            index.ingest_path(file).expect("evtx ingests");
        }
    });
    print_evtx_line("index in memory", &memory_index_time, &dump_time);

    // A folder is ingested in one call, as `argus investigate --index` does,
    // so the manifest is written once. Files other than `.evtx` are skipped.
    let mut run = 0;
    let disk_index_time = measure_cpu(|| {
        run += 1;
        let dir = scratch.path().join(run.to_string());
        let mut index = EvidenceIndex::open(&dir).expect("index folder opens");
        index.ingest_path(folder).expect("evtx folder ingests");
    });
    print_evtx_line("index folder on disk", &disk_index_time, &dump_time);
}

/// Wall and CPU time of repeated runs of one measurement.
struct CpuTimes {
    best_wall: Duration,
    median_wall: Duration,
    /// User CPU seconds per run, of this process and its waited-for children.
    user: f64,
    /// System CPU seconds per run, of this process and its waited-for children.
    system: f64,
}

fn measure_cpu(mut run: impl FnMut()) -> CpuTimes {
    run();
    let before = cpu_seconds();
    let mut walls: Vec<Duration> = (0..EVTX_RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    let after = cpu_seconds();
    walls.sort();
    CpuTimes {
        best_wall: walls[0],
        median_wall: walls[walls.len() / 2],
        user: (after.0 - before.0) / EVTX_RUNS as f64,
        system: (after.1 - before.1) / EVTX_RUNS as f64,
    }
}

fn print_evtx_line(label: &str, times: &CpuTimes, dump: &CpuTimes) {
    let wall_ratio = dump.median_wall.as_secs_f64() / times.median_wall.as_secs_f64();
    println!(
        "  {label:<36} wall best {:>6.1} ms, median {:>6.1} ms; user {:>6.1} ms, sys {:>5.1} ms \
         per run; speed {:>3.0}% of evtx_dump by median wall, {:>3.0}% by user CPU",
        ms(times.best_wall),
        ms(times.median_wall),
        times.user * 1000.0,
        times.system * 1000.0,
        100.0 * wall_ratio,
        100.0 * dump.user / times.user,
    );
}

/// Returns (user, system) CPU seconds of this process plus its waited-for
/// children, from `/proc/self/stat` (Linux only, zero elsewhere).
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name in brackets may contain spaces, so fields are counted
    // after its closing bracket. utime, stime, cutime and cstime are fields
    // 14 to 17 of proc(5), at indexes 11 to 14 after the bracket. Linux
    // reports them in USER_HZ ticks, which are 100 per second.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> = after_name
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0.0))
        .collect();
    if fields.len() < 16 {
        return (0.0, 0.0);
    }
    let ticks = 100.0;
    ((fields[11] + fields[13]) / ticks, (fields[12] + fields[14]) / ticks)
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

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
