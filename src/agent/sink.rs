//! The event-sink seam: where the live stream of investigation steps goes.
//!
//! The CLI prints steps as progress lines on stderr ([`StderrSink`]); the
//! desktop app forwards them as UI events and server mode as server-sent
//! events. Sinks must not block: they are called from the agent loop.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::alert::AlertClass;
use crate::analysis::SeverityLevel;
use crate::report::Status;

/// One event in an investigation's live stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepEvent {
    InvestigationStarted {
        investigation: String,
        alert: String,
        class: AlertClass,
        backend: String,
        planner: String,
    },
    StepStarted {
        investigation: String,
        index: usize,
        name: String,
        reason: String,
    },
    StepFinished {
        investigation: String,
        index: usize,
        name: String,
        status: Status,
        summary: String,
        duration_ms: f64,
    },
    InvestigationFinished {
        investigation: String,
        severity: SeverityLevel,
        summary: String,
    },
}

/// Receives step events as they happen.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: &StepEvent);
}

/// Prints one progress line per step on stderr.
#[derive(Debug, Default)]
pub struct StderrSink;

impl EventSink for StderrSink {
    fn emit(&self, event: &StepEvent) {
        eprintln!("{}", progress_line(event));
    }
}

/// Formats an event as a one-line progress message.
pub fn progress_line(event: &StepEvent) -> String {
    match event {
        StepEvent::InvestigationStarted { alert, class, backend, planner, .. } => {
            format!("investigating '{alert}' ({}) on {backend} with the {planner} planner", class.label())
        }
        StepEvent::StepStarted { index, name, reason, .. } => {
            format!("[{index:>2}] {name}: {reason}")
        }
        StepEvent::StepFinished { index, name, status, summary, duration_ms, .. } => match status {
            Status::Ok => format!("[{index:>2}] {name} done in {duration_ms:.1} ms: {summary}"),
            Status::Failed { reason } => format!("[{index:>2}] {name} failed: {reason}"),
        },
        StepEvent::InvestigationFinished { severity, summary, .. } => {
            format!("finished: severity {}: {summary}", severity.as_str())
        }
    }
}

/// Discards every event.
#[derive(Debug, Default)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _event: &StepEvent) {}
}

/// Keeps every event in memory, for tests and for replaying a stream.
#[derive(Debug, Default)]
pub struct CollectingSink {
    events: Mutex<Vec<StepEvent>>,
}

impl CollectingSink {
    /// Returns a copy of the events received so far.
    pub fn events(&self) -> Vec<StepEvent> {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl EventSink for CollectingSink {
    fn emit(&self, event: &StepEvent) {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).push(event.clone());
    }
}
