//! The agent loop's contracts, with test doubles for the backend and planner.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use argus::agent::action::Action;
use argus::agent::planner::{Plan, PlanContext, PlanError, PlannedAction, Planner};
use argus::agent::playbook::PlaybookPlanner;
use argus::agent::sink::{CollectingSink, NullSink, StepEvent};
use argus::agent::{Agent, AgentConfig};
use argus::alert::Alert;
use argus::report::{PlannerInfo, Status};
use argus::search::{BackendInfo, Schema, SearchBackend, SearchError, SearchResults};

/// A backend that is down.
struct DownBackend;

#[async_trait]
impl SearchBackend for DownBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "test".into(), description: "down backend".into() }
    }

    async fn search(&self, _spl: &str) -> Result<SearchResults, SearchError> {
        Err(SearchError::Unavailable("connection refused by 127.0.0.1:8089".into()))
    }

    async fn schema(&self) -> Result<Schema, SearchError> {
        Err(SearchError::Unavailable("connection refused by 127.0.0.1:8089".into()))
    }
}

/// A backend with no data at all.
struct EmptyBackend;

#[async_trait]
impl SearchBackend for EmptyBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "test".into(), description: "empty backend".into() }
    }

    async fn search(&self, _spl: &str) -> Result<SearchResults, SearchError> {
        Ok(SearchResults::default())
    }

    async fn schema(&self) -> Result<Schema, SearchError> {
        Ok(Schema::default())
    }
}

/// A planner that never says it is done, proposing a new query each time.
#[derive(Default)]
struct EndlessPlanner {
    calls: AtomicUsize,
}

#[async_trait]
impl Planner for EndlessPlanner {
    fn info(&self) -> PlannerInfo {
        PlannerInfo { kind: "endless".into(), model: None }
    }

    async fn plan(&self, _context: &PlanContext<'_>) -> Result<Plan, PlanError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let action = Action::RunSpl { query: format!("search iteration{n}") };
        Ok(Plan::Run(vec![PlannedAction { action, reason: "keep looking".into() }]))
    }
}

/// A planner that repeats the same action every time.
struct RepeatingPlanner;

#[async_trait]
impl Planner for RepeatingPlanner {
    fn info(&self) -> PlannerInfo {
        PlannerInfo { kind: "repeating".into(), model: None }
    }

    async fn plan(&self, _context: &PlanContext<'_>) -> Result<Plan, PlanError> {
        let action = Action::RunSpl { query: "search same".into() };
        Ok(Plan::Run(vec![PlannedAction { action, reason: "again".into() }]))
    }
}

const ALERT: &str = r#"{"sid":"s1","search_name":"SSH Brute Force Detected",
    "result":{"src_ip":"5.101.40.81","host":"gacrux"}}"#;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
fn down_backend_recorded_not_fatal() {
    let agent = Agent::new(Arc::new(DownBackend), Arc::new(PlaybookPlanner), Arc::new(NullSink), AgentConfig::default());
    let alert = Alert::from_json(ALERT).unwrap();
    let report = runtime().block_on(agent.investigate(&alert)).unwrap();

    assert!(report.steps.len() >= 3, "{:#?}", report.steps);
    for step in &report.steps {
        assert!(matches!(step.status, Status::Failed { .. }), "step {} did not fail", step.name);
    }
    let Status::Failed { reason } = &report.evidence[0].status else { panic!("first query did not fail") };
    assert!(reason.contains("connection refused"), "{reason}");
    assert_eq!(report.confidence.level, "low");
    assert!(report.findings.is_empty());
}

#[test]
fn iteration_budget_is_respected() {
    let planner = Arc::new(EndlessPlanner::default());
    let config = AgentConfig { max_iterations: NonZeroUsize::new(3).unwrap(), ..AgentConfig::default() };
    let agent = Agent::new(Arc::new(EmptyBackend), planner.clone(), Arc::new(NullSink), config);
    let alert = Alert::from_json(ALERT).unwrap();
    let report = runtime().block_on(agent.investigate(&alert)).unwrap();

    assert_eq!(planner.calls.load(Ordering::SeqCst), 3);
    // fetch_alert_data and discover_schema, then one action per iteration.
    assert_eq!(report.steps.len(), 2 + 3);
}

#[test]
fn identical_action_never_runs_twice() {
    let agent = Agent::new(Arc::new(EmptyBackend), Arc::new(RepeatingPlanner), Arc::new(NullSink), AgentConfig::default());
    let alert = Alert::from_json(ALERT).unwrap();
    let report = runtime().block_on(agent.investigate(&alert)).unwrap();

    let runs = report.evidence.iter().filter(|e| e.query == "search same").count();
    assert_eq!(runs, 1);
}

#[test]
fn steps_stream_in_order() {
    let sink = Arc::new(CollectingSink::default());
    let agent = Agent::new(Arc::new(EmptyBackend), Arc::new(PlaybookPlanner), sink.clone(), AgentConfig::default());
    let alert = Alert::from_json(ALERT).unwrap();
    runtime().block_on(agent.investigate(&alert)).unwrap();

    let events = sink.events();
    assert!(matches!(events.first(), Some(StepEvent::InvestigationStarted { .. })));
    assert!(matches!(events.last(), Some(StepEvent::InvestigationFinished { .. })));
    let started = events.iter().filter(|e| matches!(e, StepEvent::StepStarted { .. })).count();
    let finished = events.iter().filter(|e| matches!(e, StepEvent::StepFinished { .. })).count();
    assert_eq!(started, finished);
    assert!(started >= 3);
}

/// A backend that records every query it receives.
#[derive(Default)]
struct RecordingBackend {
    queries: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl SearchBackend for RecordingBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "test".into(), description: "recording backend".into() }
    }

    async fn search(&self, spl: &str) -> Result<SearchResults, SearchError> {
        self.queries.lock().unwrap().push(spl.to_string());
        Ok(SearchResults::default())
    }

    async fn schema(&self) -> Result<Schema, SearchError> {
        Ok(Schema::default())
    }
}

#[test]
fn empty_alert_searches_nothing() {
    let backend = Arc::new(RecordingBackend::default());
    let agent = Agent::new(backend.clone(), Arc::new(PlaybookPlanner), Arc::new(NullSink), AgentConfig::default());
    let alert = Alert::from_json("{}").unwrap();
    let report = runtime().block_on(agent.investigate(&alert)).unwrap();

    assert!(backend.queries.lock().unwrap().is_empty(), "{:?}", backend.queries.lock().unwrap());
    let Status::Failed { reason } = &report.steps[0].status else { panic!("fetch_alert_data did not fail") };
    assert!(reason.contains("names no host"), "{reason}");
    assert!(report.notices.iter().any(|n| n.contains("no result row")), "{:?}", report.notices);
    assert_eq!(report.confidence.level, "low");
}

#[test]
fn spent_budget_is_reported() {
    let config = AgentConfig { max_iterations: NonZeroUsize::new(1).unwrap(), ..AgentConfig::default() };
    let agent = Agent::new(Arc::new(EmptyBackend), Arc::new(EndlessPlanner::default()), Arc::new(NullSink), config);
    let alert = Alert::from_json(ALERT).unwrap();
    let report = runtime().block_on(agent.investigate(&alert)).unwrap();

    assert!(report.notices.iter().any(|n| n.contains("MAX_AGENT_ITERATIONS")), "{:?}", report.notices);
    assert!(report.confidence.reasons.iter().any(|r| r.contains("iteration budget")));
}
