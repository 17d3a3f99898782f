//! The planner seam: what chooses the investigation's next actions.
//!
//! A planner sees what the investigation knows so far ([`PlanContext`]) and
//! returns a [`Plan`]: actions to run next, each with its reason, or done.
//! The embedded default is the [`PlaybookPlanner`](super::playbook::PlaybookPlanner);
//! model-driven planners implement the same trait.

use async_trait::async_trait;

use crate::alert::{Alert, AlertClass, Entities};
use crate::analysis::Finding;
use crate::report::{PlannerInfo, Report};
use crate::search::Schema;

use super::action::Action;

/// An action the planner wants run, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAction {
    pub action: Action,
    pub reason: String,
}

/// A planner's decision for one iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Run these actions; independent ones run concurrently.
    Run(Vec<PlannedAction>),
    /// The story is clear, or nothing useful remains to search.
    Done { reason: String },
}

/// An action that already ran, and what it found.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletedAction {
    pub action: Action,
    pub summary: String,
    pub failed: bool,
}

/// What the investigation knows when the planner is asked.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    pub alert: &'a Alert,
    pub class: AlertClass,
    pub entities: &'a Entities,
    pub schema: Option<&'a Schema>,
    pub findings: &'a [Finding],
    pub completed: &'a [CompletedAction],
    /// The iteration about to run, from 1.
    pub iteration: usize,
    pub max_iterations: usize,
}

impl PlanContext<'_> {
    /// Whether an identical action already ran.
    pub fn already_ran(&self, action: &Action) -> bool {
        self.completed.iter().any(|done| &done.action == action)
    }
}

/// Why a planner could not decide.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("planner unavailable: {0}")]
    Unavailable(String),
    #[error("planner returned an invalid plan: {0}")]
    Invalid(String),
}

/// Chooses the next actions of an investigation.
#[async_trait]
pub trait Planner: Send + Sync {
    /// Names the planner (and model) for step events and the report.
    fn info(&self) -> PlannerInfo;

    /// Decides what to run next.
    async fn plan(&self, context: &PlanContext<'_>) -> Result<Plan, PlanError>;

    /// Adds the planner's own record to the finished report (model decisions,
    /// calls, a model-written summary). The default adds nothing.
    async fn finish(&self, _report: &mut Report) {}
}
