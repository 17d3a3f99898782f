//! Server mode (`argus serve`): the listener, the investigation queue and
//! the agent, headless, for a shared SOC host.
//!
//! [`Server::start`] opens the store in the data folder, re-queues the
//! investigations a stopped process left `running`, loads the secrets,
//! ingests the evidence for the local search backend, starts the workers and
//! binds the listener. [`Server::run_until_shutdown`] serves until SIGTERM
//! or Ctrl-C, then stops accepting connections, lets running investigations
//! finish within the grace period, and re-queues any that do not.
//!
//! Each investigation gets its own planner from `LLM_PROVIDER`, as with
//! `argus investigate`: a model planner (all of them sharing one model
//! client) or the playbook.
//!
//! Searches run on the local backend over `--evidence` (the bundled demo
//! evidence by default), or with `--backend splunk` on Splunk, each
//! investigation within the Splunk settings' search budget. With Splunk,
//! [`Server::start`] also catches up once, before binding the listener: the
//! alerts of Argus's saved searches that fired since the last one stored are
//! read from Splunk's fired-alert history and queued
//! ([`crate::store::catchup`]). A failed catch-up is logged as an error and
//! the server starts anyway, so the webhook keeps working. The missed alerts
//! stay in Splunk's history for the next start, until Splunk expires them.

pub mod secrets;
pub mod worker;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::agent::llm_planner::{LlmPlanner, LlmPlannerSettings};
use crate::agent::planner::Planner;
use crate::agent::playbook::PlaybookPlanner;
use crate::agent::AgentConfig;
use crate::config::Settings;
use crate::evidence::EvidenceStore;
use crate::listener::connections::LimitedListener;
use crate::llm::ChatModel;
use crate::listener::{router, AppState, ListenerConfig, Secrets};
use crate::search::local::LocalBackend;
use crate::search::splunk::fired::SplunkFiredAlerts;
use crate::search::splunk::{SplunkBackend, SplunkSettings};
use crate::search::SearchBackend;
use crate::store::catchup::{catch_up, FiredAlertSource};
use crate::store::{paths, SqliteStore, StoreError};
use secrets::{SecretError, API_TOKEN_FILE, HOOK_TOKEN_FILE, WEBHOOK_SECRET_FILE};
use worker::{spawn_workers, PlannerFactory, WorkerContext};

/// Options of `argus serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Data folder for the database and secrets [default: the platform's user data folder].
    #[arg(long, value_name = "DIR", env = "ARGUS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on; anything but loopback also needs --allow-remote.
    #[arg(
        long,
        value_name = "ADDR",
        env = "ARGUS_BIND",
        default_value = "127.0.0.1"
    )]
    pub bind: IpAddr,
    /// TCP port to listen on; 0 picks a free port.
    #[arg(
        long,
        value_name = "PORT",
        env = "BACKEND_PORT",
        default_value_t = 8001
    )]
    pub port: u16,
    /// Allow binding to an address other than loopback.
    #[arg(long, env = "ARGUS_ALLOW_REMOTE")]
    pub allow_remote: bool,
    /// Investigations run at once.
    #[arg(long, value_name = "N", env = "ARGUS_WORKERS", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// Seconds running investigations may take to finish at shutdown before they are re-queued.
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub shutdown_grace: u64,
    /// Evidence file or folder searched by investigations [default: the bundled demo evidence].
    #[arg(long, value_name = "PATH")]
    pub evidence: Option<PathBuf>,
    /// Where investigations search: the local evidence, or Splunk (settings from
    /// SPLUNK_* variables), which also catches up on alerts fired while Argus was stopped.
    #[arg(long, value_enum, default_value_t = ServeBackend::Local)]
    pub backend: ServeBackend,
    /// Saved search whose fired alerts catch-up reads; repeat for several
    /// [default: the five in splunk/savedsearches.conf].
    #[arg(long = "saved-search", value_name = "NAME")]
    pub saved_searches: Vec<String>,
    /// Splunk Web's base URL, used for the `results_link` of caught-up alerts.
    #[arg(long, value_name = "URL", env = "SPLUNK_WEB_URL")]
    pub splunk_web_url: Option<String>,
    /// Replace the webhook token with a new one (the old Splunk webhook URL stops working).
    #[arg(long)]
    pub rotate_token: bool,
}

/// Where `argus serve` runs investigations' searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServeBackend {
    /// The ingested `--evidence`.
    Local,
    /// A Splunk server, from the SPLUNK_* variables.
    Splunk,
}

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Settings(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Model(#[from] crate::llm::config::LlmConfigError),
    #[error(
        "refusing to listen on {0}, which is not a loopback address; pass --allow-remote \
         (or set ARGUS_ALLOW_REMOTE=true) to accept alerts from other hosts"
    )]
    RemoteBind(IpAddr),
    #[error(
        "cannot listen on {addr}: {source}; choose another --port or stop the program using it"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read evidence {path}: {reason}")]
    Evidence { path: PathBuf, reason: String },
    #[error("cannot set up the Splunk backend: {0}")]
    Splunk(crate::search::SearchError),
    #[error("the listener failed: {0}")]
    Serve(std::io::Error),
}

/// A started server.
pub struct Server {
    listener: LimitedListener,
    app: axum::Router,
    address: SocketAddr,
    data_dir: PathBuf,
    hook_token: String,
    token_created: bool,
    stop: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Opens the store, starts the workers and binds the listener.
    pub async fn start(args: ServeArgs) -> Result<Server, ServeError> {
        if !args.bind.is_loopback() && !args.allow_remote {
            return Err(ServeError::RemoteBind(args.bind));
        }
        // Model settings are checked before any evidence is read, so a bad key fails fast.
        let planners = planner_factory()?;
        let data_dir = paths::data_dir(args.data_dir.as_deref());
        let store = SqliteStore::open(paths::database_path(&data_dir))?;
        let requeued = store.requeue_running().await?;
        if requeued > 0 {
            info!(
                requeued,
                "re-queued investigations interrupted by the last stop"
            );
        }
        let (hook_token, token_created) =
            secrets::load_or_create(&data_dir, HOOK_TOKEN_FILE, args.rotate_token)?;
        let webhook_secret = match std::env::var("WEBHOOK_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
        {
            Some(secret) => secret,
            None => secrets::load_or_create(&data_dir, WEBHOOK_SECRET_FILE, false)?.0,
        };
        let (api_token, _) = secrets::load_or_create(&data_dir, API_TOKEN_FILE, false)?;
        let secrets = Secrets {
            hook_token: hook_token.clone(),
            webhook_secret,
            api_token,
        };

        let (stop, shutdown) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let (events, _) = broadcast::channel(1024);
        let search = open_search(&args, &store).await?;
        let context = WorkerContext {
            store: store.clone(),
            backend: search.backend,
            planners,
            agent_config: agent_config()?,
            wake: wake.clone(),
            events: events.clone(),
            shutdown,
            grace: Duration::from_secs(args.shutdown_grace),
            search_budget: search.budget,
        };
        let workers = spawn_workers(context, usize::from(args.workers));

        let config = ListenerConfig::default();
        let max_connections = config.max_connections;
        let state = AppState {
            store,
            secrets: Arc::new(secrets),
            config: Arc::new(config),
            wake,
            events,
            workers: usize::from(args.workers),
        };
        let requested = SocketAddr::new(args.bind, args.port);
        let tcp = tokio::net::TcpListener::bind(requested)
            .await
            .map_err(|source| ServeError::Bind {
                addr: requested,
                source,
            })?;
        let address = tcp.local_addr().map_err(ServeError::Serve)?;
        if !address.ip().is_loopback() {
            warn!(%address, "listening beyond loopback: other hosts can reach the listener");
        }
        info!(%address, workers = args.workers, "listening");
        Ok(Server {
            listener: LimitedListener::new(tcp, max_connections),
            app: router(state),
            address,
            data_dir,
            hook_token,
            token_created,
            stop,
            workers,
        })
    }

    /// Returns the bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Lines for the analyst: where the server listens and what to paste into Splunk.
    pub fn banner(&self) -> Vec<String> {
        let host = match self.address.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => "<this host's address>".to_string(),
            IpAddr::V6(ip) if ip.is_unspecified() => "<this host's address>".to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        let base = format!("http://{host}:{}", self.address.port());
        let token_note = if self.token_created {
            " (new token)"
        } else {
            ""
        };
        vec![
            format!("listening on {base}"),
            format!(
                "splunk webhook URL{token_note}: {base}/hooks/splunk/{}",
                self.hook_token
            ),
            format!(
                "bearer secret for POST /api/agent/investigate: in {} (or WEBHOOK_SECRET)",
                self.data_dir.join(WEBHOOK_SECRET_FILE).display()
            ),
            format!(
                "API token: in {}",
                self.data_dir.join(API_TOKEN_FILE).display()
            ),
        ]
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
    pub async fn run_until_shutdown(self) -> Result<(), ServeError> {
        let Server {
            listener,
            app,
            stop,
            workers,
            ..
        } = self;
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(ServeError::Serve)?;
        info!("listener stopped; waiting for running investigations");
        let _ = stop.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        info!("stopped");
        Ok(())
    }
}

/// Builds the per-investigation planner factory from `LLM_PROVIDER`, as
/// `argus investigate` chooses its planner: a model planner, or the playbook
/// when no provider is set. Each investigation gets its own model client, so
/// a provider chain starts at its first provider every time.
fn planner_factory() -> Result<PlannerFactory, ServeError> {
    let providers = crate::llm::config::LlmSettings::from_env()?;
    let Some(model) = providers.build()? else {
        info!("no LLM_PROVIDER set; the playbook plans investigations");
        return Ok(Arc::new(|| Arc::new(PlaybookPlanner) as Arc<dyn Planner>));
    };
    let settings = LlmPlannerSettings::from_env()?;
    let info = model.info();
    info!(provider = %info.provider, model = %info.model, "a model plans investigations");
    Ok(Arc::new(move || {
        let model = match providers.build() {
            Ok(Some(fresh)) => fresh,
            // The same settings built a client at start-up; keep that one.
            _ => model.clone(),
        };
        Arc::new(LlmPlanner::new(model, settings.clone())) as Arc<dyn Planner>
    }))
}

/// Returns a factory that builds a new [`LlmPlanner`] on `model` for each investigation.
pub fn model_planners(model: Arc<dyn ChatModel>, settings: LlmPlannerSettings) -> PlannerFactory {
    Arc::new(move || Arc::new(LlmPlanner::new(model.clone(), settings.clone())) as Arc<dyn Planner>)
}

fn agent_config() -> Result<AgentConfig, ServeError> {
    let settings = Settings::from_env()?;
    Ok(AgentConfig {
        max_iterations: settings.max_agent_iterations,
        ..AgentConfig::default()
    })
}

/// The search backend of the workers and its per-investigation time budget.
struct Search {
    backend: Arc<dyn SearchBackend>,
    budget: Option<Duration>,
}

/// Opens the backend `--backend` names; with Splunk, catches up on fired alerts first.
async fn open_search(args: &ServeArgs, store: &SqliteStore) -> Result<Search, ServeError> {
    if args.backend == ServeBackend::Local {
        let local = open_backend(args.evidence.as_ref())?;
        return Ok(Search { backend: Arc::new(local), budget: None });
    }
    let settings = SplunkSettings::from_env()?;
    let budget = Some(settings.investigation_timeout);
    let mut source = SplunkFiredAlerts::new(settings.clone()).map_err(ServeError::Splunk)?;
    if !args.saved_searches.is_empty() {
        source = source.with_saved_searches(args.saved_searches.clone());
    }
    if let Some(url) = &args.splunk_web_url {
        source = source.with_web_url(url.clone());
    }
    run_catch_up(store, &source).await;
    let splunk = SplunkBackend::new(settings).map_err(ServeError::Splunk)?;
    info!(backend = %splunk.info().description, "searching Splunk");
    Ok(Search { backend: Arc::new(splunk), budget })
}

/// Queues the alerts `source` holds and the store lacks, logging the outcome.
/// Workers pick the queued alerts up on their next look at the queue.
async fn run_catch_up(store: &SqliteStore, source: &dyn FiredAlertSource) {
    match catch_up(store, source).await {
        Ok(summary) => info!(
            fetched = summary.fetched,
            queued = summary.queued,
            duplicates = summary.duplicates,
            since = ?summary.since,
            "catch-up finished"
        ),
        Err(e) => error!(
            error = %e,
            "catch-up failed; alerts fired while Argus was stopped are not queued until the next start"
        ),
    }
}

/// Ingests the evidence path, or the bundled demo evidence when none is given.
fn open_backend(evidence: Option<&PathBuf>) -> Result<LocalBackend, ServeError> {
    let mut store = EvidenceStore::new();
    let (summary, description) = match evidence {
        Some(path) => {
            let summary = store.ingest_path(path).map_err(|e| ServeError::Evidence {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            (summary, path.display().to_string())
        }
        None => (
            crate::demo::ingest(&mut store),
            "bundled demo evidence".to_string(),
        ),
    };
    for skipped in &summary.skipped {
        warn!(path = %skipped.path.display(), reason = %skipped.reason, "evidence file skipped");
    }
    info!(events = summary.events, files = summary.files_read, evidence = %description, "evidence ingested");
    Ok(LocalBackend::new(store, description))
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("Ctrl-C received; shutting down"),
        _ = terminate => info!("SIGTERM received; shutting down"),
    }
}
