//! The investigation agent: the loop that turns an alert into a report.
//!
//! Step 0 fetches the alert's own events and step 1 discovers the schema.
//! Then the planner chooses actions until it is done or the iteration budget
//! is spent; the actions of one iteration run concurrently. Every query is
//! recorded as evidence, every step is streamed to the event sink, and the
//! report is assembled from what the searches returned ([`report_builder`]).
//!
//! Layout: [`action`] (the closed action set), [`planner`] (the planner seam),
//! [`playbook`] (the embedded planner), [`llm_planner`] (the model-driven planner),
//! [`grounding`] (rules that bind model text to the evidence), [`tools`] (queries and their reading),
//! [`sink`] (the event-sink seam), [`report_builder`] (findings to report).

pub mod action;
pub mod grounding;
pub mod llm_planner;
pub mod planner;
pub mod playbook;
pub mod report_builder;
pub mod sink;
pub mod tools;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info, instrument, warn};

use crate::alert::{Alert, AlertClass, Entities};
use crate::analysis::{Finding, FindingCategory};
use crate::event::{Row, Value};
use crate::report::{EvidenceRecord, Report, Status, StepRecord};
use crate::search::{Schema, SearchBackend, SearchResults};

use action::Action;
use planner::{CompletedAction, Plan, PlanContext, PlannedAction, Planner};
use sink::{EventSink, StepEvent};
use report_builder::{event_key, EventKey};
use tools::{Interpretation, QueryOutcome, Suspects};

/// Limits of one investigation.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Planner iterations after the two fixed steps (`MAX_AGENT_ITERATIONS`).
    pub max_iterations: NonZeroUsize,
    /// Rows kept per query; a query that hits the cap is marked truncated.
    pub max_rows_per_query: NonZeroUsize,
    /// Sample rows kept in each evidence record of the report.
    pub samples_per_query: usize,
    /// Time allowed for one search before it is recorded as failed.
    pub search_timeout: Duration,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            max_iterations: NonZeroUsize::new(6).expect("6 is not zero"),
            max_rows_per_query: NonZeroUsize::new(50_000).expect("50,000 is not zero"),
            samples_per_query: 3,
            search_timeout: Duration::from_secs(120),
        }
    }
}

/// Errors that stop an investigation before it can produce a report.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot load bundled analysis data: {0}")]
    Analysis(#[from] crate::analysis::AnalysisError),
}

/// Runs investigations with one backend, one planner and one event sink.
pub struct Agent {
    backend: Arc<dyn SearchBackend>,
    planner: Arc<dyn Planner>,
    sink: Arc<dyn EventSink>,
    config: AgentConfig,
}

/// Everything an investigation has gathered so far.
struct Investigation {
    id: String,
    alert: Alert,
    class: AlertClass,
    entities: Entities,
    schema: Option<Schema>,
    evidence: Vec<EvidenceRecord>,
    /// Rows behind each evidence record that support findings, for ATT&CK mapping.
    rows: Vec<(String, Vec<Row>)>,
    findings: Vec<Finding>,
    /// Events behind findings that rest on only part of their query's rows.
    finding_events: BTreeMap<String, BTreeSet<EventKey>>,
    steps: Vec<StepRecord>,
    completed: Vec<CompletedAction>,
    suspects: Suspects,
}

impl Agent {
    pub fn new(
        backend: Arc<dyn SearchBackend>,
        planner: Arc<dyn Planner>,
        sink: Arc<dyn EventSink>,
        config: AgentConfig,
    ) -> Self {
        Agent { backend, planner, sink, config }
    }

    /// Investigates one alert and returns its report. Failed searches are
    /// recorded in the report as failed steps; they do not stop the run.
    #[instrument(skip_all, fields(alert = alert.name()))]
    pub async fn investigate(&self, alert: &Alert) -> Result<Report, AgentError> {
        let class = alert.class();
        let mut inv = Investigation {
            id: investigation_id(alert),
            alert: alert.clone(),
            class,
            entities: alert.entities(),
            schema: None,
            evidence: Vec::new(),
            rows: Vec::new(),
            findings: Vec::new(),
            finding_events: BTreeMap::new(),
            steps: Vec::new(),
            completed: Vec::new(),
            suspects: Suspects::default(),
        };
        self.sink.emit(&StepEvent::InvestigationStarted {
            investigation: inv.id.clone(),
            alert: alert.name().to_string(),
            class,
            backend: self.backend.info().description,
            planner: self.planner.info().kind,
        });

        self.fetch_alert_data(&mut inv).await;
        self.discover_schema(&mut inv).await;
        let finished = self.run_planner(&mut inv).await;

        let mut report = report_builder::build(
            inv.id.clone(),
            &inv.alert,
            inv.class,
            self.backend.info(),
            self.planner.info(),
            inv.findings,
            &inv.finding_events,
            inv.evidence,
            inv.rows,
            inv.steps,
        )?;
        self.planner.finish(&mut report).await;
        for warning in alert.warnings() {
            report.notices.push(format!("Alert: {warning}."));
        }
        if !finished {
            let max = self.config.max_iterations.get();
            report.notices.push(format!(
                "The investigation stopped at its budget of {max} planner iterations before the \
                 planner was done, so some planned searches did not run; raise \
                 MAX_AGENT_ITERATIONS to search further."
            ));
            report.confidence.reasons.push(format!("the iteration budget ({max}) ran out"));
            if report.confidence.level == "high" {
                report.confidence.level = "medium".into();
            }
        }
        self.sink.emit(&StepEvent::InvestigationFinished {
            investigation: inv.id,
            severity: report.severity.level,
            summary: report.summary.clone(),
        });
        Ok(report)
    }

    async fn fetch_alert_data(&self, inv: &mut Investigation) {
        let index = inv.steps.len();
        let reason = format!("fetch the events behind '{}'", inv.alert.name());
        self.start_step(inv, index, "fetch_alert_data", &reason);
        let started = Instant::now();
        let Some(spl) = tools::alert_query(&inv.alert, inv.class, self.config.max_rows_per_query.get()) else {
            let reason = "the alert names no host, IP address or account to search for".to_string();
            warn!(alert = inv.alert.name(), "{reason}");
            let status = Status::Failed { reason: reason.clone() };
            let summary = "nothing to search for".to_string();
            self.finish_step(inv, index, "fetch_alert_data", reason, status, summary, started, Vec::new());
            return;
        };
        let outcome = self.run_query(inv, index, "fetch_alert_data", spl).await;
        let reading = tools::interpret_alert_events(inv.class, &outcome);
        self.record_reading(inv, &outcome, reading.relevant.as_deref());
        let status = failure_status(&outcome);
        let summary = reading.summary.clone();
        self.absorb_findings(inv, reading, &outcome);
        self.finish_step(inv, index, "fetch_alert_data", reason, status, summary, started, vec![outcome.evidence]);
    }

    async fn discover_schema(&self, inv: &mut Investigation) {
        let index = inv.steps.len();
        let reason = "list the indexes, sourcetypes and hosts the backend can see".to_string();
        self.start_step(inv, index, "discover_schema", &reason);
        let started = Instant::now();
        let result = tokio::time::timeout(self.config.search_timeout, self.backend.schema()).await;
        let (status, summary) = match result {
            Ok(Ok(schema)) => {
                let summary = schema_summary(&schema);
                inv.schema = Some(schema);
                (Status::Ok, summary)
            }
            Ok(Err(e)) => (Status::Failed { reason: e.to_string() }, "schema unavailable".into()),
            Err(_) => {
                let reason = format!("timed out after {} s", self.config.search_timeout.as_secs());
                (Status::Failed { reason }, "schema unavailable".into())
            }
        };
        self.finish_step(inv, index, "discover_schema", reason, status, summary, started, Vec::new());
    }

    /// Runs planner iterations; returns false when the budget ran out first.
    async fn run_planner(&self, inv: &mut Investigation) -> bool {
        let max = self.config.max_iterations.get();
        for iteration in 1..=max {
            let context = PlanContext {
                alert: &inv.alert,
                class: inv.class,
                entities: &inv.entities,
                schema: inv.schema.as_ref(),
                findings: &inv.findings,
                completed: &inv.completed,
                iteration,
                max_iterations: max,
            };
            let plan = match self.planner.plan(&context).await {
                Ok(plan) => plan,
                Err(e) => {
                    warn!(error = %e, "planner failed; ending the investigation with what it has");
                    return true;
                }
            };
            let actions = match plan {
                Plan::Done { reason } => {
                    info!(%reason, iteration, "planner is done");
                    return true;
                }
                Plan::Run(actions) => actions,
            };
            // An identical action never runs twice, whatever a planner proposes.
            let actions: Vec<PlannedAction> =
                actions.into_iter().filter(|p| !context.already_ran(&p.action)).collect();
            if actions.is_empty() {
                info!(iteration, "planner proposed only actions that already ran");
                return true;
            }
            self.run_actions(inv, actions).await;
        }
        info!(max, "iteration budget spent");
        false
    }

    /// Runs one iteration's actions, their queries concurrently, then reads
    /// the results in plan order so the report is the same on every run.
    async fn run_actions(&self, inv: &mut Investigation, actions: Vec<PlannedAction>) {
        let limit = self.config.max_rows_per_query.get();
        let first_index = inv.steps.len();
        for (offset, planned) in actions.iter().enumerate() {
            self.start_step(inv, first_index + offset, planned.action.name(), &planned.reason);
        }
        let started = Instant::now();
        let searches = actions.iter().map(|planned| {
            let queries = tools::queries(&planned.action, limit);
            async move {
                let mut results = Vec::new();
                for spl in queries {
                    let began = Instant::now();
                    let result = self.search(&spl).await;
                    results.push((spl, result, began.elapsed()));
                }
                results
            }
        });
        let all_results = futures::future::join_all(searches).await;

        for (offset, (planned, results)) in actions.into_iter().zip(all_results).enumerate() {
            let index = first_index + offset;
            let name = planned.action.name();
            let mut outcomes = Vec::new();
            for (spl, result, elapsed) in results {
                outcomes.push(self.record_query(inv, index, name, spl, result, elapsed));
            }
            let reading = tools::interpret(&planned.action, &outcomes, &inv.suspects);
            for outcome in &outcomes {
                self.record_reading(inv, outcome, reading.relevant.as_deref());
            }
            let status = outcomes.iter().map(failure_status).find(|s| *s != Status::Ok).unwrap_or(Status::Ok);
            let failed = status != Status::Ok;
            let evidence = outcomes.iter().map(|o| o.evidence.clone()).collect();
            inv.completed.push(CompletedAction {
                action: planned.action.clone(),
                summary: reading.summary.clone(),
                failed,
            });
            let summary = reading.summary.clone();
            if let Some(first) = outcomes.first() {
                self.absorb_findings(inv, reading, first);
            }
            self.finish_step(inv, index, name, planned.reason, status, summary, started, evidence);
        }
    }

    async fn search(&self, spl: &str) -> Result<SearchResults, String> {
        match tokio::time::timeout(self.config.search_timeout, self.backend.search(spl)).await {
            Ok(Ok(results)) => Ok(results),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("search timed out after {} s", self.config.search_timeout.as_secs())),
        }
    }

    async fn run_query(&self, inv: &mut Investigation, step: usize, action: &str, spl: String) -> QueryOutcome {
        let began = Instant::now();
        let result = self.search(&spl).await;
        self.record_query(inv, step, action, spl, result, began.elapsed())
    }

    /// Stores one query as an evidence record and returns its rows.
    fn record_query(
        &self,
        inv: &mut Investigation,
        step: usize,
        action: &str,
        spl: String,
        result: Result<SearchResults, String>,
        elapsed: Duration,
    ) -> QueryOutcome {
        let id = format!("E{}", inv.evidence.len() + 1);
        let (rows, status, failure) = match result {
            Ok(results) => (results.rows, Status::Ok, None),
            Err(reason) => {
                warn!(evidence = %id, %reason, "search failed");
                (Vec::new(), Status::Failed { reason: reason.clone() }, Some(reason))
            }
        };
        let samples = rows.iter().take(self.config.samples_per_query).map(truncate_row).collect();
        inv.evidence.push(EvidenceRecord {
            id: id.clone(),
            step,
            action: action.to_string(),
            query: spl,
            backend: self.backend.info().description,
            status,
            result_count: rows.len() as u64,
            duration_ms: elapsed.as_secs_f64() * 1000.0,
            samples,
        });
        QueryOutcome { evidence: id, rows, failure }
    }

    /// Keeps the rows that support findings, for ATT&CK mapping at the end.
    fn record_reading(&self, inv: &mut Investigation, outcome: &QueryOutcome, relevant: Option<&[usize]>) {
        let rows = match relevant {
            None => outcome.rows.clone(),
            Some(indices) => indices.iter().filter_map(|i| outcome.rows.get(*i).cloned()).collect(),
        };
        inv.rows.push((outcome.evidence.clone(), rows));
    }

    /// Numbers new findings, notes the events behind each, and updates what
    /// the investigation suspects.
    fn absorb_findings(&self, inv: &mut Investigation, reading: Interpretation, outcome: &QueryOutcome) {
        let mut rows_of: BTreeMap<usize, &Vec<usize>> = BTreeMap::new();
        for (finding, rows) in &reading.finding_rows {
            rows_of.insert(*finding, rows);
        }
        for (position, mut finding) in reading.findings.into_iter().enumerate() {
            let keys: BTreeSet<EventKey> = rows_of
                .get(&position)
                .map(|rows| rows.iter().filter_map(|i| outcome.rows.get(*i)).map(event_key).collect())
                .unwrap_or_default();

            // Two actions can reach the same conclusion (an outbound check and a
            // network expansion both see the C2 traffic): keep one finding
            // that cites both queries.
            let same = inv.findings.iter_mut().find(|f| f.category == finding.category && f.title == finding.title);
            if let Some(existing) = same {
                for id in finding.evidence {
                    if !existing.evidence.contains(&id) {
                        existing.evidence.push(id);
                    }
                }
                if !keys.is_empty() {
                    inv.finding_events.entry(existing.id.clone()).or_default().extend(keys);
                }
                continue;
            }
            finding.id = format!("F{}", inv.findings.len() + 1);
            if !keys.is_empty() {
                inv.finding_events.insert(finding.id.clone(), keys);
            }
            let hostile = matches!(
                finding.category,
                FindingCategory::FailedAuthentication
                    | FindingCategory::SuccessfulAuthentication
                    | FindingCategory::OutboundConnection
                    | FindingCategory::WebAttack
            );
            if hostile {
                let ips = finding.addresses.iter().filter_map(|a| a.parse().ok());
                inv.suspects.addresses.extend(ips.filter(|ip| tools::is_external(*ip)));
            }
            if matches!(finding.category, FindingCategory::SuccessfulAuthentication) {
                inv.suspects.accounts.extend(finding.accounts.iter().cloned());
            }
            inv.findings.push(finding);
        }
    }

    fn start_step(&self, inv: &Investigation, index: usize, name: &str, reason: &str) {
        self.sink.emit(&StepEvent::StepStarted {
            investigation: inv.id.clone(),
            index,
            name: name.to_string(),
            reason: reason.to_string(),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_step(
        &self,
        inv: &mut Investigation,
        index: usize,
        name: &str,
        reason: String,
        status: Status,
        summary: String,
        started: Instant,
        evidence: Vec<String>,
    ) {
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.sink.emit(&StepEvent::StepFinished {
            investigation: inv.id.clone(),
            index,
            name: name.to_string(),
            status: status.clone(),
            summary: summary.clone(),
            duration_ms,
        });
        let started_at = chrono::Utc::now().timestamp_micros() - (duration_ms * 1000.0) as i64;
        inv.steps.push(StepRecord { index, name: name.to_string(), reason, status, summary, started_at, duration_ms, evidence });
    }
}

/// Longest value kept in a sample row, in bytes; longer values are cut.
const MAX_SAMPLE_VALUE: usize = 2_000;

/// Copies a row for the report, cutting very long values so one huge log
/// line cannot bloat every rendering of the report.
fn truncate_row(row: &Row) -> Row {
    let cut = |text: &String| -> String {
        if text.len() <= MAX_SAMPLE_VALUE {
            return text.clone();
        }
        let mut end = MAX_SAMPLE_VALUE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… [cut: {} bytes in all]", &text[..end], text.len())
    };
    row.iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Single(s) => Value::Single(cut(s)),
                Value::Multi(values) => Value::Multi(values.iter().map(cut).collect()),
            };
            (name.clone(), value)
        })
        .collect()
}

fn failure_status(outcome: &QueryOutcome) -> Status {
    match &outcome.failure {
        Some(reason) => Status::Failed { reason: reason.clone() },
        None => Status::Ok,
    }
}

/// Builds an investigation ID from the current time and a hash of the alert.
fn investigation_id(alert: &Alert) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    alert.sid.hash(&mut hasher);
    alert.search_name.hash(&mut hasher);
    serde_json::to_string(&alert.result).unwrap_or_default().hash(&mut hasher);
    let now = chrono::Utc::now();
    now.timestamp_nanos_opt().hash(&mut hasher);
    format!("inv-{}-{:08x}", now.format("%Y%m%dT%H%M%S"), hasher.finish() as u32)
}

/// Accepts an action from outside the crate (a model or a test) by name.
pub fn parse_action(name: &str, args: serde_json::Value) -> Result<Action, action::ActionError> {
    Action::from_json(name, args)
}

/// Summarises a schema for its step record, as in "5,627 events, 2 sourcetypes, 1 host".
fn schema_summary(schema: &Schema) -> String {
    format!(
        "{}, {}, {}",
        tools::plural(schema.event_count, "event"),
        tools::plural(schema.sourcetypes.len() as u64, "sourcetype"),
        tools::plural(schema.hosts.len() as u64, "host")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SourcetypeSummary;

    #[test]
    fn schema_summary_one_host() {
        let schema = Schema {
            event_count: 5627,
            sourcetypes: vec![SourcetypeSummary::default(), SourcetypeSummary::default()],
            hosts: vec!["web01".to_string()],
            ..Schema::default()
        };
        assert_eq!(schema_summary(&schema), "5,627 events, 2 sourcetypes, 1 host");
    }

    #[test]
    fn schema_summary_one_event() {
        let schema = Schema { event_count: 1, ..Schema::default() };
        assert_eq!(schema_summary(&schema), "1 event, 0 sourcetypes, 0 hosts");
    }
}
