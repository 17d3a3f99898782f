//! The `argus` command: investigate an alert from the command line.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use argus::agent::playbook::PlaybookPlanner;
use argus::agent::sink::StderrSink;
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::config::Settings;
use argus::demo;
use argus::evidence::EvidenceStore;
use argus::report::write::{write_reports, Format};
use argus::search::local::LocalBackend;

const EXAMPLES: &str = "\
Examples:
  argus investigate
      Investigate the bundled SSH brute-force demo alert against the bundled demo evidence.
  argus investigate --demo cryptomining
      Investigate another bundled demo alert.
  argus investigate --alert alert.json --evidence /var/log/ --out reports/
      Investigate a Splunk webhook payload against a folder of logs.
  argus search --evidence /var/log/auth.log 'sshd \"Failed password\" | stats count by src_ip'
      Run one SPL query over evidence files and print the rows as JSON lines.";

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
  argus investigate --demo outbound --format md
  argus investigate --alert alert.json --evidence logs/ --out reports/
  cat alert.json | argus investigate --alert - --evidence logs/

With neither --alert nor --evidence, the bundled SSH brute-force demo runs.
With --alert but no --evidence, the bundled demo evidence is searched.
Settings: MAX_AGENT_ITERATIONS (default 6), LLM_PROVIDER (none).")]
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
        /// Folder for the report files [default: argus-reports/<investigation id>].
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

Without --evidence the bundled demo evidence is searched.")]
    Search {
        /// Evidence file or folder to search.
        #[arg(long, value_name = "PATH")]
        evidence: Option<PathBuf>,
        /// The SPL query.
        query: String,
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
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Investigate { alert, demo, evidence, out, format } => {
            investigate(alert, demo, evidence, out, &format)
        }
        Command::Search { evidence, query } => search(evidence, &query),
        Command::Serve(args) => serve(args),
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
    out: Option<PathBuf>,
    formats: &[Format],
) -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let alert = match (alert.as_deref(), demo_name.as_deref()) {
        (Some(source), _) => read_alert(source)?,
        (None, name) => {
            let name = name.unwrap_or("ssh_brute_force");
            Alert::from_json(demo::alert_json(name).expect("demo names are checked by clap"))
                .map_err(|e| format!("bundled demo alert {name} is invalid: {e}"))?
        }
    };
    let backend = open_backend(evidence.as_deref())?;

    let config = AgentConfig { max_iterations: settings.max_agent_iterations, ..AgentConfig::default() };
    let agent = Agent::new(Arc::new(backend), Arc::new(PlaybookPlanner), Arc::new(StderrSink), config);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let report = runtime.block_on(agent.investigate(&alert)).map_err(|e| e.to_string())?;

    let dir = out.unwrap_or_else(|| Path::new("argus-reports").join(&report.id));
    let paths = write_reports(&report, &dir, formats).map_err(|e| e.to_string())?;
    for path in paths {
        println!("{}", path.display());
    }
    Ok(())
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

/// Ingests the evidence path, or the bundled demo evidence when none is given.
fn open_backend(evidence: Option<&Path>) -> Result<LocalBackend, String> {
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
    eprintln!(
        "ingested {} events from {} files ({} files skipped)",
        summary.events,
        summary.files_read,
        summary.skipped.len()
    );
    if summary.events == 0 {
        return Err(format!("no events could be read from {description}; pass log files or a folder of logs"));
    }
    Ok(LocalBackend::new(store, description))
}

fn search(evidence: Option<PathBuf>, query: &str) -> Result<(), String> {
    let backend = open_backend(evidence.as_deref())?;
    let results = backend.search_blocking(query).map_err(|e| e.to_string())?;
    for row in &results.rows {
        println!("{}", serde_json::to_string(row).expect("rows serialise"));
    }
    eprintln!("{} rows", results.rows.len());
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
    // Investigations past the grace period were re-queued; do not wait for their threads.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
