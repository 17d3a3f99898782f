//! The `argus` command: investigate an alert from the command line.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use argus::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use argus::agent::planner::Planner;
use argus::agent::playbook::PlaybookPlanner;
use argus::llm::config as llm_config;
use argus::agent::sink::StderrSink;
use argus::agent::tools::plural;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::config::Settings;
use argus::demo;
use argus::evidence::EvidenceStore;
use argus::index::EvidenceIndex;
use argus::report::replay;
use argus::report::write::{write_reports, Format};
use argus::search::deadline::DeadlineBackend;
use argus::search::local::LocalBackend;
use argus::search::splunk::{SplunkBackend, SplunkSettings};
use argus::search::SearchBackend;
use argus::spl;

const EXAMPLES: &str = "\
Examples:
  argus investigate
      Investigate the bundled SSH brute-force demo alert against the bundled demo evidence.
  argus investigate --demo cryptomining
      Investigate another bundled demo alert.
  argus investigate --alert alert.json --evidence /var/log/ --out reports/
      Investigate a Splunk webhook payload against a folder of logs.
  argus search --evidence /var/log/auth.log 'sshd \"Failed password\" | stats count by src_ip'
      Run one SPL query over evidence files and print the rows as JSON lines.
  argus replay argus-reports/inv-1/report.json
      Re-run a model-planned investigation from the model answers its report recorded.
  argus serve
      Run the webhook listener for Splunk and investigate each alert it receives.
  argus spl check queries.txt
      Check queries with the read-only guard.
  argus key set gemini < gemini.key
      Store a model provider's API key in the OS keyring.";

/// Investigates fired security alerts and writes incident reports.
#[derive(Debug, Parser)]
#[command(version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Investigate an alert and write its report as JSON, Markdown and PDF.
    #[command(after_help = "\
Examples:
  argus investigate
  argus investigate --demo suspicious_outbound --format md
  argus investigate --alert alert.json --evidence logs/ --out reports/
  cat alert.json | argus investigate --alert - --evidence logs/

With neither --alert nor --evidence, the bundled SSH brute-force demo runs.
With --alert but no --evidence, the bundled demo evidence is searched.
With --evidence or --index, give --alert (or --demo to try a demo alert on
your evidence). --index DIR without --evidence searches what the index holds.
Settings: MAX_AGENT_ITERATIONS (default 6); LLM_PROVIDER (none, openai,
openai-compatible, anthropic, gemini, or a comma-separated list such as
gemini,openai tried in order) with each provider's key and model variables
selects a model planner; none (the default) uses the playbook. A key missing
from the environment is read from the OS keyring (see `argus key`).
LLM_TEMPERATURE, LLM_MAX_TOKENS, LLM_MAX_RETRIES, LLM_MASKING (auto, on, off),
LLM_PRICE_INPUT and LLM_PRICE_OUTPUT tune the model planner.")]
    Investigate {
        /// Alert file in Splunk's webhook JSON format; `-` reads standard input.
        #[arg(long, value_name = "FILE|-", conflicts_with = "demo")]
        alert: Option<String>,
        /// Bundled demo alert to investigate.
        #[arg(long, value_name = "NAME", value_parser = demo::ALERT_NAMES)]
        demo: Option<String>,
        /// Evidence file or folder (searched recursively) of logs to investigate.
        #[arg(long, value_name = "PATH")]
        evidence: Option<PathBuf>,
        /// Index folder that keeps ingested evidence between runs (unchanged files are not
        /// parsed again); searches cover every file the index holds. Alone, it searches the
        /// index as it is.
        #[arg(long, value_name = "DIR")]
        index: Option<PathBuf>,
        /// Folder for the report files [default: argus-reports/<investigation id>].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Report formats, comma-separated.
        #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "json,md,pdf")]
        format: Vec<Format>,
        /// Search backend: the local evidence, or Splunk (settings from SPLUNK_* variables).
        #[arg(long, value_enum, default_value = "local")]
        backend: BackendKind,
    },
    /// Re-run an investigation from the model responses recorded in its JSON report.
    #[command(after_help = "\
Examples:
  argus replay argus-reports/inv-1/report.json
  argus replay report.json --evidence logs/ --out replayed/ --format json,md

Give the evidence the original investigation searched (the bundled demo
evidence by default). The model is not called: its recorded answers are
played back in order, so the same steps run and the same report results.")]
    Replay {
        /// The report.json of an investigation planned by a model.
        #[arg(value_name = "REPORT.json")]
        report: PathBuf,
        /// Evidence file or folder the original investigation searched.
        #[arg(long, value_name = "PATH")]
        evidence: Option<PathBuf>,
        /// Index folder that keeps ingested evidence between runs.
        #[arg(long, value_name = "DIR", requires = "evidence")]
        index: Option<PathBuf>,
        /// Folder for the new report files [default: argus-reports/<new investigation id>].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Report formats, comma-separated.
        #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "json,md,pdf")]
        format: Vec<Format>,
    },
    /// Run one SPL query over evidence files and print the rows as JSON lines.
    #[command(after_help = "\
Examples:
  argus search --evidence logs/ 'sourcetype=linux_secure action=failure | stats count by src_ip | sort -count'
  argus search 'index=main sourcetype=\"stream:dns\" query=*coinhive* | head 5'

Without --evidence or --index the bundled demo evidence is searched. --index
DIR without --evidence searches what the index holds.")]
    Search {
        /// Evidence file or folder to search.
        #[arg(long, value_name = "PATH")]
        evidence: Option<PathBuf>,
        /// Index folder that keeps ingested evidence between runs (unchanged files are not
        /// parsed again); searches cover every file the index holds. Alone, it searches the
        /// index as it is.
        #[arg(long, value_name = "DIR")]
        index: Option<PathBuf>,
        /// The SPL query.
        query: String,
        /// Search backend: the local evidence, or Splunk (settings from SPLUNK_* variables).
        #[arg(long, value_enum, default_value = "local")]
        backend: BackendKind,
    },
    /// SPL tools.
    Spl {
        #[command(subcommand)]
        command: SplCommand,
    },
    /// Run the webhook listener, the investigation queue and the agent as a server.
    #[command(after_help = "\
Examples:
  argus serve
  argus serve --evidence /var/log/ --workers 4
  ARGUS_DATA_DIR=/srv/argus BACKEND_PORT=9001 argus serve
  argus serve --rotate-token

Prints the Splunk webhook URL (with its secret token) on start. Alerts, reports
and secrets are kept in the data folder.")]
    Serve(argus::server::ServeArgs),
    /// Store, delete or list model provider API keys in the OS keyring.
    #[command(after_help = "\
Examples:
  argus key set gemini < gemini.key
  argus key status
  argus key delete openai

Keys are stored under service `argus`, user the provider name. A provider's
environment variable (GEMINI_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY)
overrides the stored key. ARGUS_KEYRING=off stops argus from using the keyring.")]
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Read a provider's API key from standard input and store it in the OS keyring.
    Set {
        #[arg(value_parser = KEY_PROVIDERS)]
        provider: String,
    },
    /// Delete a provider's API key from the OS keyring.
    Delete {
        #[arg(value_parser = KEY_PROVIDERS)]
        provider: String,
    },
    /// List which providers have a key and where it comes from; keys are never shown.
    Status,
}

const KEY_PROVIDERS: [&str; 4] = ["gemini", "openai", "anthropic", "openai-compatible"];

#[derive(Debug, Subcommand)]
enum SplCommand {
    /// Check queries with the read-only guard; print one JSON verdict per query.
    #[command(after_help = "\
Reads one query per line, or JSON lines with a `search` field, and prints
{\"verdict\": \"allow\" | \"refuse\", \"reason\": ..., \"commands\": [...]} for each.
Exits with status 1 when any query is refused.")]
    Check {
        /// File of queries; `-` or nothing reads standard input.
        #[arg(value_name = "FILE|-", default_value = "-")]
        input: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BackendKind {
    Local,
    Splunk,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The evtx crate logs each damaged record; argus counts them instead.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,evtx=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Investigate { alert, demo, evidence, index, out, format, backend } => {
            check_local_options(backend, &evidence, &index)
                .and_then(|()| investigate(alert, demo, evidence, index, out, &format, backend))
        }
        Command::Replay { report, evidence, index, out, format } => replay(&report, evidence, index, out, &format),
        Command::Search { evidence, index, query, backend } => {
            check_local_options(backend, &evidence, &index)
                .and_then(|()| search(evidence, index, &query, backend))
        }
        Command::Spl { command: SplCommand::Check { input } } => spl_check(&input),
        Command::Serve(args) => serve(args),
        Command::Key { command } => key(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("argus: {message}");
            ExitCode::FAILURE
        }
    }
}

fn investigate(
    alert: Option<String>,
    demo_name: Option<String>,
    evidence: Option<PathBuf>,
    index: Option<PathBuf>,
    out: Option<PathBuf>,
    formats: &[Format],
    backend_kind: BackendKind,
) -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    // Model settings are checked before any evidence is read, so a bad key fails fast.
    let planner: Arc<dyn Planner> = match llm_config::from_env().map_err(|e| e.to_string())? {
        Some(model) => {
            let planner_settings = LlmPlannerSettings::from_env().map_err(|e| e.to_string())?;
            Arc::new(LlmPlanner::new(model, planner_settings))
        }
        None => Arc::new(PlaybookPlanner),
    };
    if alert.is_none() && demo_name.is_none() {
        let flag = match (&evidence, &index) {
            (Some(_), _) => Some("--evidence"),
            (None, Some(_)) => Some("--index"),
            (None, None) => None,
        };
        if let Some(flag) = flag {
            let hint = "(or --demo NAME to run a demo alert on this evidence)";
            return Err(format!("{flag} needs --alert FILE {hint}"));
        }
    }
    if let Some(dir) = &out {
        prepare_out_dir(dir, formats)?;
    }
    let alert = match (alert.as_deref(), demo_name.as_deref()) {
        (Some(source), _) => read_alert(source)?,
        (None, name) => {
            let name = name.unwrap_or("ssh_brute_force");
            Alert::from_json(demo::alert_json(name).expect("demo names are checked by clap"))
                .map_err(|e| format!("bundled demo alert {name} is invalid: {e}"))?
        }
    };
    for warning in alert.warnings() {
        eprintln!("warning: {warning}");
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let (backend, ingest_notices): (Arc<dyn SearchBackend>, Vec<String>) = match backend_kind {
        BackendKind::Local => {
            let (local, notices) = open_backend(evidence.as_deref(), index.as_deref())?;
            (Arc::new(local), notices)
        }
        BackendKind::Splunk => {
            let splunk = open_splunk(&runtime)?;
            let budget = splunk.settings().investigation_timeout;
            (Arc::new(DeadlineBackend::new(Arc::new(splunk), budget)), Vec::new())
        }
    };

    let config = AgentConfig { max_iterations: settings.max_agent_iterations, ..AgentConfig::default() };
    let agent = Agent::new(backend, planner, Arc::new(StderrSink), config);
    let mut report = runtime.block_on(agent.investigate(&alert)).map_err(|e| e.to_string())?;
    report.notices.extend(ingest_notices);

    let dir = out.unwrap_or_else(|| Path::new("argus-reports").join(&report.id));
    let paths = write_reports(&report, &dir, formats).map_err(|e| e.to_string())?;
    for path in paths {
        println!("{}", path.display());
    }
    Ok(())
}

fn replay(
    report_path: &Path,
    evidence: Option<PathBuf>,
    index: Option<PathBuf>,
    out: Option<PathBuf>,
    formats: &[Format],
) -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let recorded = replay::read_report(report_path).map_err(|e| e.to_string())?;
    let (alert, planner) = replay::prepare(&recorded).map_err(|e| e.to_string())?;
    if let Some(dir) = &out {
        prepare_out_dir(dir, formats)?;
    }
    let (backend, notices) = open_backend(evidence.as_deref(), index.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let config = AgentConfig { max_iterations: settings.max_agent_iterations, ..AgentConfig::default() };
    let agent = Agent::new(Arc::new(backend), Arc::new(planner), Arc::new(StderrSink), config);
    let mut report = runtime.block_on(agent.investigate(&alert)).map_err(|e| e.to_string())?;
    report.notices.extend(notices);
    report.notices.push(format!("Replayed from the model calls recorded in report {}.", recorded.id));
    let difference = replay::first_difference(&recorded, &report);
    if let Some(difference) = &difference {
        report.notices.push(format!("This replay differs from report {}: {difference}.", recorded.id));
    }
    let dir = out.unwrap_or_else(|| Path::new("argus-reports").join(&report.id));
    for path in write_reports(&report, &dir, formats).map_err(|e| e.to_string())? {
        println!("{}", path.display());
    }
    match difference {
        Some(difference) => Err(format!(
            "the replay no longer matches report {}: {difference}; the new report is written to {}",
            recorded.id,
            dir.display()
        )),
        None => Ok(()),
    }
}

fn read_alert(source: &str) -> Result<Alert, String> {
    let text = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the alert from standard input: {e}"))?;
        text
    } else {
        std::fs::read_to_string(source).map_err(|e| format!("cannot read alert file {source}: {e}"))?
    };
    let name = if source == "-" { "standard input" } else { source };
    Alert::from_json(&text).map_err(|e| format!("invalid alert in {name}: {e}"))
}

/// Checks that `--out` names a folder that exists or can be created, before
/// any work is done.
fn prepare_out_dir(dir: &Path, formats: &[Format]) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!("--out {} is a file; give a folder for the report files", dir.display()));
    }
    // Checked before the investigation runs, which may take minutes.
    for format in formats {
        let target = dir.join(format.file_name());
        if target.is_dir() {
            return Err(format!(
                "--out folder {} holds a folder named {}, where the report file goes; \
                 move that folder or choose another --out",
                dir.display(),
                format.file_name()
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create --out folder {}: {e}", dir.display()))
}

/// Ingests the evidence path, or the bundled demo evidence when none is given.
/// Returns the backend and notices for the report about what was not read.
fn open_backend(evidence: Option<&Path>, index: Option<&Path>) -> Result<(LocalBackend, Vec<String>), String> {
    match (evidence, index) {
        (Some(path), Some(dir)) => return open_index(path, dir),
        (None, Some(dir)) => return open_existing_index(dir),
        _ => {}
    }
    let mut store = EvidenceStore::new();
    let (summary, description) = match evidence {
        Some(path) => {
            let summary = store.ingest_path(path).map_err(|e| e.to_string())?;
            (summary, path.display().to_string())
        }
        None => {
            eprintln!("no --evidence given: searching the bundled demo evidence");
            (demo::ingest(&mut store), "bundled demo evidence".to_string())
        }
    };
    for skipped in &summary.skipped {
        eprintln!("skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    let unreadable = summary.unreadable_parts().join(" and ");
    let mut skipped = plural(summary.skipped.len() as u64, "file") + " skipped";
    if !unreadable.is_empty() {
        skipped = format!("{skipped}, {unreadable} unreadable");
    }
    eprintln!(
        "ingested {} from {} ({skipped})",
        plural(summary.events as u64, "event"),
        plural(summary.files_read as u64, "file"),
    );
    if summary.events == 0 {
        return Err(format!("no events could be read from {description}; pass log files or a folder of logs"));
    }
    let mut notices = Vec::new();
    if !summary.skipped.is_empty() {
        let files: Vec<String> =
            summary.skipped.iter().map(|s| format!("{} ({})", s.path.display(), s.reason)).collect();
        notices.push(format!(
            "Evidence: {} could not be read and were not searched: {}.",
            plural(files.len() as u64, "file"),
            files.join("; ")
        ));
    }
    if !unreadable.is_empty() {
        notices.push(format!(
            "Evidence: {unreadable} in otherwise readable files could not be parsed and were not searched."
        ));
    }
    let mut backend = LocalBackend::new(store, description);
    if let Some(dir) = evidence.filter(|p| p.is_dir()) {
        backend = backend.with_lookup_dir(dir);
    }
    Ok((backend, notices))
}

/// Ingests the evidence path into the persistent index in `dir`.
fn open_index(path: &Path, dir: &Path) -> Result<(LocalBackend, Vec<String>), String> {
    let mut index = EvidenceIndex::open(dir).map_err(|e| e.to_string())?;
    let summary = index.ingest_path(path).map_err(|e| e.to_string())?;
    for skipped in &summary.skipped {
        eprintln!("skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    for removed in &summary.files_removed {
        eprintln!(
            "dropped the events of {} from the index: the file is gone or can no longer be read",
            removed.display()
        );
    }
    let unreadable = summary.unreadable_parts().join(" and ");
    let mut skipped = format!("{} skipped", plural(summary.skipped.len() as u64, "file"));
    if !unreadable.is_empty() {
        skipped = format!("{skipped}, {unreadable} unreadable");
    }
    eprintln!(
        "ingested {} from {} ({} unchanged, {skipped}); the index at {} holds {}",
        plural(summary.events as u64, "event"),
        plural(summary.files_read as u64, "file"),
        plural(summary.files_unchanged as u64, "file"),
        dir.display(),
        plural(index.event_count() as u64, "event")
    );
    if index.event_count() == 0 {
        return Err(format!("no events could be read from {}; pass log files or a folder of logs", path.display()));
    }
    let mut notices: Vec<String> = summary
        .skipped
        .iter()
        .map(|s| format!("Evidence: {} could not be read and was not searched ({}).", s.path.display(), s.reason))
        .collect();
    if !unreadable.is_empty() {
        notices.push(format!(
            "Evidence: {unreadable} in otherwise readable files could not be parsed and were not searched."
        ));
    }
    Ok((LocalBackend::with_index(index, path.display().to_string()), notices))
}

/// Opens the index in `dir` as it is, for `--index` without `--evidence`.
fn open_existing_index(dir: &Path) -> Result<(LocalBackend, Vec<String>), String> {
    let ingest_first =
        format!("ingest evidence into it first with --evidence PATH --index {}", dir.display());
    // Checked first because opening an index creates its folder.
    if !dir.is_dir() {
        return Err(format!("index folder {} does not exist; {ingest_first}", dir.display()));
    }
    let index = EvidenceIndex::open(dir).map_err(|e| e.to_string())?;
    if index.event_count() == 0 {
        return Err(format!("index folder {} contains no events; {ingest_first}", dir.display()));
    }
    eprintln!(
        "searching the index at {}: {} from {}",
        dir.display(),
        plural(index.event_count() as u64, "event"),
        plural(index.files().count() as u64, "file")
    );
    Ok((LocalBackend::with_index(index, format!("index {}", dir.display())), Vec::new()))
}

/// Rejects `--evidence` and `--index` with `--backend splunk`, which would
/// otherwise be ignored.
fn check_local_options(
    backend: BackendKind,
    evidence: &Option<PathBuf>,
    index: &Option<PathBuf>,
) -> Result<(), String> {
    let local_options: Vec<&str> = [("--evidence", evidence.is_some()), ("--index", index.is_some())]
        .into_iter()
        .filter_map(|(option, is_set)| is_set.then_some(option))
        .collect();
    if matches!(backend, BackendKind::Splunk) && !local_options.is_empty() {
        return Err(format!(
            "{} cannot be used with --backend splunk: the Splunk backend searches Splunk's \
             indexes (SPLUNK_INDEX chooses one), and --evidence and --index go with \
             --backend local",
            local_options.join(" and ")
        ));
    }
    Ok(())
}

/// Builds the Splunk backend from the SPLUNK_* variables, inside `runtime`.
fn open_splunk(runtime: &tokio::runtime::Runtime) -> Result<SplunkBackend, String> {
    let settings = SplunkSettings::from_env().map_err(|e| e.to_string())?;
    let _guard = runtime.enter();
    SplunkBackend::new(settings).map_err(|e| e.to_string())
}

fn search(
    evidence: Option<PathBuf>,
    index: Option<PathBuf>,
    query: &str,
    backend_kind: BackendKind,
) -> Result<(), String> {
    let results = match backend_kind {
        BackendKind::Local => {
            let (backend, _) = open_backend(evidence.as_deref(), index.as_deref())?;
            spl::guard::check(query).map_err(|e| format!("query rejected by the read-only guard: {e}"))?;
            backend.search_blocking(query)
        }
        BackendKind::Splunk => {
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            let backend = open_splunk(&runtime)?;
            runtime.block_on(backend.search(query))
        }
    }
    .map_err(|e| e.to_string())?;
    for row in &results.rows {
        println!("{}", serde_json::to_string(row).expect("rows serialise"));
    }
    eprintln!("{}", plural(results.rows.len() as u64, "row"));
    Ok(())
}

/// Prints the guard's verdict on each non-blank line of `input`, one JSON line each.
///
/// Each output line carries the 1-based input `line` number. A line that cannot be read as a
/// query gets the verdict `error`, and checking goes on with the next line. The command fails
/// at the end when any line was rejected or could not be read.
fn spl_check(input: &str) -> Result<(), String> {
    let text = if input == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read queries from standard input: {e}"))?;
        text
    } else {
        std::fs::read_to_string(input).map_err(|e| format!("cannot read query file {input}: {e}"))?
    };
    let (mut checked, mut refused, mut malformed) = (0usize, 0usize, 0usize);
    for (index, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        checked += 1;
        let outcome = match check_line_query(line) {
            Ok(query) => {
                let record = spl::guard::inspect(&query).to_record();
                refused += usize::from(record.verdict == "refuse");
                serde_json::to_value(&record).expect("verdicts serialise")
            }
            Err(reason) => {
                malformed += 1;
                serde_json::json!({"verdict": "error", "reason": reason, "commands": []})
            }
        };
        let mut entry = serde_json::Map::new();
        entry.insert("line".to_string(), (index + 1).into());
        if let serde_json::Value::Object(fields) = outcome {
            entry.extend(fields);
        }
        println!("{}", serde_json::Value::Object(entry));
    }
    if refused + malformed > 0 {
        return Err(format!(
            "the read-only guard rejected {refused} and could not read {malformed} of {checked} queries"
        ));
    }
    Ok(())
}

/// Extracts the query from one `argus spl check` line: a JSON object's `search` string, or
/// else the line itself as SPL. A line starting with `{` must be such an object.
fn check_line_query(line: &str) -> Result<String, String> {
    if !line.trim_start().starts_with('{') {
        return Ok(line.to_string());
    }
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(value) => match value.get("search") {
            Some(serde_json::Value::String(search)) => Ok(search.clone()),
            _ => Err("JSON object without a \"search\" string".to_string()),
        },
        Err(e) => Err(format!("invalid JSON ({e}); give a JSON object or a plain SPL query")),
    }
}

/// Runs `argus key`: the work is in `argus::llm::keys`.
fn key(command: KeyCommand) -> Result<(), String> {
    use argus::llm::keys;
    use std::io::IsTerminal;

    let store = keys::source_from_env().map_err(|e| e.to_string())?;
    match command {
        KeyCommand::Set { provider } => {
            let kind = keys::parse_provider(&provider).map_err(|e| e.to_string())?;
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                // At a terminal one line is read; the key is echoed, so piping it in is safer.
                eprintln!("Paste the {provider} API key and press Enter (it is shown as typed):");
                let mut line = String::new();
                stdin.read_line(&mut line).map_err(|e| format!("cannot read the key: {e}"))?;
                keys::set_from_reader(store.as_ref(), kind, line.as_bytes())
            } else {
                keys::set_from_reader(store.as_ref(), kind, stdin.lock())
            }
            .map_err(|e| e.to_string())?;
            eprintln!("stored the {provider} key in the OS keyring");
        }
        KeyCommand::Delete { provider } => {
            let kind = keys::parse_provider(&provider).map_err(|e| e.to_string())?;
            match keys::delete(store.as_ref(), kind).map_err(|e| e.to_string())? {
                true => eprintln!("deleted the {provider} key from the OS keyring"),
                false => eprintln!("the OS keyring has no {provider} key"),
            }
        }
        KeyCommand::Status => {
            for line in keys::status(&|name: &str| std::env::var(name).ok(), store.as_ref()) {
                println!("{line}");
            }
        }
    }
    Ok(())
}

fn serve(args: argus::server::ServeArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = runtime.block_on(async {
        let server = argus::server::Server::start(args).await.map_err(|e| e.to_string())?;
        // A closed standard output must not stop the server, so write errors are ignored.
        let mut stdout = std::io::stdout();
        for line in server.banner() {
            let _ = writeln!(stdout, "{line}");
        }
        server.run_until_shutdown().await.map_err(|e| e.to_string())
    });
    // Investigations past the grace period were re-queued; their threads are
    // left to end with the process. Shutting the runtime down under them would
    // make their next timer or I/O call panic.
    std::mem::forget(runtime);
    result
}
