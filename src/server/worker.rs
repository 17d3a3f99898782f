//! The investigation workers: a fixed pool that drains the store's queue.
//!
//! Each worker claims the oldest queued investigation (the store marks it
//! `running`), runs the agent on it in its own task, and stores the report
//! and the `complete` state in one transaction, or `failed` with the reason.
//! The queue lives in the store, so a backlog of any size costs no memory
//! and survives restarts. On shutdown, workers stop claiming. A running
//! investigation gets the grace period to finish; after it, the
//! investigation goes back in the queue and runs again from the start on
//! the next run.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::agent::planner::Planner;
use crate::agent::sink::{EventSink, StepEvent};
use crate::agent::{Agent, AgentConfig};
use crate::listener::LiveEvent;
use crate::search::deadline::DeadlineBackend;
use crate::search::SearchBackend;
use crate::store::{ClaimedInvestigation, SqliteStore};

/// How long an idle worker sleeps before looking at the queue again when
/// no wake-up arrives (a safety net: queueing an alert wakes a worker).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Builds the planner of one investigation. A model planner keeps its
/// decisions and calls until the report is finished, so each investigation
/// needs its own.
pub type PlannerFactory = Arc<dyn Fn() -> Arc<dyn Planner> + Send + Sync>;

/// Shared state of the workers.
#[derive(Clone)]
pub struct WorkerContext {
    pub store: SqliteStore,
    pub backend: Arc<dyn SearchBackend>,
    pub planners: PlannerFactory,
    pub agent_config: AgentConfig,
    pub wake: Arc<Notify>,
    pub events: broadcast::Sender<LiveEvent>,
    /// Turns `true` when the server is stopping.
    pub shutdown: watch::Receiver<bool>,
    /// Time a running investigation may take to finish after shutdown starts.
    pub grace: Duration,
    /// Time all searches of one investigation may take together; `None` sets no limit.
    pub search_budget: Option<Duration>,
}

/// Forwards an investigation's step events to the live stream under its store ID.
struct BroadcastSink {
    investigation: String,
    events: broadcast::Sender<LiveEvent>,
}

impl EventSink for BroadcastSink {
    fn emit(&self, event: &StepEvent) {
        // No subscriber is the normal case; the event is simply dropped.
        let _ = self.events.send(LiveEvent {
            investigation: self.investigation.clone(),
            event: event.clone(),
        });
    }
}

/// Starts `count` workers.
pub fn spawn_workers(context: WorkerContext, count: usize) -> Vec<JoinHandle<()>> {
    (0..count)
        .map(|index| tokio::spawn(work(context.clone(), index)))
        .collect()
}

async fn work(mut context: WorkerContext, index: usize) {
    loop {
        if *context.shutdown.borrow() {
            break;
        }
        match context.store.claim_next().await {
            Ok(Some(claimed)) => run_one(&context, claimed).await,
            Ok(None) => {
                tokio::select! {
                    _ = context.wake.notified() => {}
                    _ = context.shutdown.changed() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
            Err(e) => {
                error!(worker = index, error = %e, "cannot claim an investigation; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    info!(worker = index, "worker stopped");
}

async fn run_one(context: &WorkerContext, claimed: ClaimedInvestigation) {
    let id = claimed.id.clone();
    let sink = BroadcastSink {
        investigation: id.clone(),
        events: context.events.clone(),
    };
    let backend: Arc<dyn SearchBackend> = match context.search_budget {
        Some(budget) => Arc::new(DeadlineBackend::new(context.backend.clone(), budget)),
        None => context.backend.clone(),
    };
    let agent = Agent::new(
        backend,
        (context.planners)(),
        Arc::new(sink),
        context.agent_config.clone(),
    );
    let alert = claimed.alert;
    // The agent runs on a blocking-pool thread: its analysis is CPU work that
    // would otherwise hold a runtime thread and slow the listener. A panic
    // there fails this investigation, not the worker.
    let runtime = tokio::runtime::Handle::current();
    let mut task = tokio::task::spawn_blocking(move || runtime.block_on(agent.investigate(&alert)));
    let mut shutdown = context.shutdown.clone();
    let grace = context.grace;
    let deadline = async move {
        let _ = shutdown.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(grace).await;
    };

    let outcome = tokio::select! {
        joined = &mut task => joined,
        _ = deadline => {
            task.abort();
            warn!(investigation = %id, "shutdown grace period over; putting the investigation back in the queue");
            if let Err(e) = context.store.requeue(&id).await {
                error!(investigation = %id, error = %e, "cannot requeue; it will be requeued on the next start");
            }
            return;
        }
    };
    store_outcome(context, &id, outcome).await;
}

async fn store_outcome(
    context: &WorkerContext,
    id: &str,
    outcome: Result<
        Result<crate::report::Report, crate::agent::AgentError>,
        tokio::task::JoinError,
    >,
) {
    let result = match outcome {
        Ok(Ok(mut report)) => {
            report.id = id.to_string();
            context.store.complete(id, report).await.map(|_| "complete")
        }
        Ok(Err(e)) => {
            warn!(investigation = %id, error = %e, "investigation failed");
            context
                .store
                .fail(id, &e.to_string())
                .await
                .map(|_| "failed")
        }
        Err(e) => {
            error!(investigation = %id, error = %e, "investigation task panicked");
            context
                .store
                .fail(
                    id,
                    "the investigation stopped unexpectedly; see the server log",
                )
                .await
                .map(|_| "failed")
        }
    };
    match result {
        Ok(state) => info!(investigation = %id, state, "investigation stored"),
        // Left `running`: the next start queues it again.
        Err(e) => {
            error!(investigation = %id, error = %e, "cannot store the investigation's outcome")
        }
    }
}
