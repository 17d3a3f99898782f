//! The model-driven planner: a chat model chooses the actions, strictly checked.
//!
//! Each iteration [`LlmPlanner`] sends the model the alert, the findings and
//! the actions already run (fenced as untrusted data, see
//! [`prompt`](crate::llm::prompt)) with the closed action catalogue and its
//! answer schema, and reads its answer tolerantly (see
//! [`answer`](crate::llm::answer)). An answer is rejected, with the reason sent back
//! to the model, when it is not JSON, names an unknown action, has arguments
//! that [`Action::from_json`] rejects, repeats an action that already ran, or
//! asks for a `run_spl` query that the read-only guard rejects. After
//! [`LlmPlannerSettings::max_retries`] rejected answers, or when the model
//! call fails, the [`PlaybookPlanner`] decides that iteration instead.
//!
//! At the end, [`Planner::finish`] may ask the model for the narrative
//! summary and a verdict; the [`grounding`](super::grounding) rules keep both
//! bound to the evidence. Every decision and every call (exact request,
//! answer, tokens, duration, estimated cost) goes into the report, and
//! [`ScriptedModel::from_calls`](crate::llm::scripted::ScriptedModel::from_calls)
//! replays them.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use tracing::{info, warn};

use crate::llm::config::LlmConfigError;
use crate::llm::masking::{MaskKind, Masker};
use crate::llm::scripted::ScriptedModel;
use crate::llm::{answer, prompt, ChatMessage, ChatModel, ChatRequest, ModelInfo, Role};
use crate::report::{LlmRecord, ModelCall, ModelDecision, PlannerInfo, RejectedPart, Report};

use super::action::Action;
use super::grounding;
use super::planner::{Plan, PlanContext, PlanError, PlannedAction, Planner};
use super::playbook::PlaybookPlanner;

/// Settings of the model-driven planner.
#[derive(Debug, Clone)]
pub struct LlmPlannerSettings {
    /// Rejected answers sent back to the model per iteration before the playbook decides.
    pub max_retries: usize,
    /// Maximum actions accepted in one answer.
    pub max_actions: usize,
    /// Maximum tokens of each model answer.
    pub max_tokens: u32,
    pub temperature: f32,
    /// Masks hosts, accounts, addresses and emails; `None` masks for remote models only.
    pub masking: Option<bool>,
    /// Asks the model for the narrative summary and a verdict at the end.
    pub write_summary: bool,
    /// Price per million input tokens, in the currency of the operator's choice.
    pub price_input_per_million: f64,
    /// Price per million output tokens.
    pub price_output_per_million: f64,
}

impl Default for LlmPlannerSettings {
    fn default() -> Self {
        LlmPlannerSettings {
            max_retries: 2,
            max_actions: 8,
            max_tokens: 1024,
            temperature: 0.0,
            masking: None,
            write_summary: true,
            price_input_per_million: 0.0,
            price_output_per_million: 0.0,
        }
    }
}

impl LlmPlannerSettings {
    /// Reads the planner settings from the environment; see [`Self::from_lookup`].
    pub fn from_env() -> Result<Self, LlmConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, defaults for those unset:
    /// `LLM_TEMPERATURE` (0 to 2), `LLM_MAX_TOKENS` (tokens per answer),
    /// `LLM_MAX_RETRIES` (rejected answers sent back per iteration),
    /// `LLM_MASKING` (`auto`: on for remote models, which are the cloud
    /// providers on any base URL and `openai-compatible` off loopback; `on`;
    /// `off`), and
    /// `LLM_PRICE_INPUT` and `LLM_PRICE_OUTPUT` (price per million tokens, for
    /// the cost estimate in the report). A bad value is an error naming the
    /// variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LlmConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut settings = LlmPlannerSettings::default();
        if let Some(value) = get("LLM_TEMPERATURE") {
            settings.temperature =
                number_in(&value, "LLM_TEMPERATURE", 0.0..=2.0, "a number from 0 to 2")? as f32;
        }
        if let Some(value) = get("LLM_MAX_TOKENS") {
            settings.max_tokens = whole_number(&value, "LLM_MAX_TOKENS", 1)? as u32;
        }
        if let Some(value) = get("LLM_MAX_RETRIES") {
            settings.max_retries = whole_number(&value, "LLM_MAX_RETRIES", 0)? as usize;
        }
        if let Some(value) = get("LLM_MASKING") {
            settings.masking = match value.to_ascii_lowercase().as_str() {
                "auto" => None,
                "on" | "true" | "1" => Some(true),
                "off" | "false" | "0" => Some(false),
                _ => return Err(invalid("LLM_MASKING", &value, "auto, on or off")),
            };
        }
        let price = "a price per million tokens, 0 or more";
        if let Some(value) = get("LLM_PRICE_INPUT") {
            settings.price_input_per_million =
                number_in(&value, "LLM_PRICE_INPUT", 0.0..=f64::MAX, price)?;
        }
        if let Some(value) = get("LLM_PRICE_OUTPUT") {
            settings.price_output_per_million =
                number_in(&value, "LLM_PRICE_OUTPUT", 0.0..=f64::MAX, price)?;
        }
        Ok(settings)
    }
}

fn invalid(variable: &'static str, value: &str, expected: &'static str) -> LlmConfigError {
    LlmConfigError::Invalid {
        variable,
        value: value.to_string(),
        expected,
    }
}

fn number_in(
    value: &str,
    variable: &'static str,
    range: std::ops::RangeInclusive<f64>,
    expected: &'static str,
) -> Result<f64, LlmConfigError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| invalid(variable, value, expected))
}

fn whole_number(value: &str, variable: &'static str, min: u64) -> Result<u64, LlmConfigError> {
    let expected = if min == 0 {
        "a whole number, 0 or more"
    } else {
        "a whole number above 0"
    };
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n >= min && *n <= u64::from(u32::MAX))
        .ok_or_else(|| invalid(variable, value, expected))
}

/// A [`Planner`] that asks a chat model, with the playbook as fallback.
///
/// NOTE: decisions and calls are kept in the planner until [`Planner::finish`]
/// moves them into the report, so one `LlmPlanner` serves one investigation
/// at a time; build one per investigation when investigations run concurrently.
pub struct LlmPlanner {
    model: Arc<dyn ChatModel>,
    settings: LlmPlannerSettings,
    masking: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    masker: Masker,
    decisions: Vec<ModelDecision>,
    calls: Vec<ModelCall>,
    /// `provider/model` of the last successful call, which decisions on its
    /// answer name; `None` after a failed call.
    last_answered_by: Option<String>,
    /// Reasons of the actions the model proposed and the planner accepted:
    /// the only step reasons checked for unverified values.
    model_step_reasons: BTreeSet<String>,
}

/// A model answer as the planner reads it; missing fields take defaults.
#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    done: bool,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    actions: Vec<ProposedAction>,
}

#[derive(Debug, Deserialize)]
struct ProposedAction {
    action: String,
    #[serde(default = "empty_object")]
    args: Value,
    #[serde(default)]
    reason: String,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// The reason an answer was rejected, with the actions it proposed.
struct Rejection {
    actions: Vec<String>,
    reason: String,
}

impl LlmPlanner {
    pub fn new(model: Arc<dyn ChatModel>, settings: LlmPlannerSettings) -> Self {
        let masking = settings.masking.unwrap_or_else(|| model.info().remote);
        LlmPlanner {
            model,
            settings,
            masking,
            state: Mutex::new(State::default()),
        }
    }

    /// Builds a planner that replays the model calls recorded in `report`,
    /// with the same provider and model names and the same masking, so the
    /// investigation takes the same path again.
    pub fn replay(report: &Report, settings: LlmPlannerSettings) -> Self {
        let mut model = ScriptedModel::from_calls(&report.model_calls);
        let mut settings = settings;
        if let Some(llm) = &report.llm {
            let remote = llm.masking;
            model = model.with_info(ModelInfo {
                provider: llm.provider.clone(),
                model: llm.model.clone(),
                remote,
            });
            settings.masking = Some(llm.masking);
        }
        LlmPlanner::new(Arc::new(model), settings)
    }

    /// Returns whether prompts are masked before they are sent.
    pub fn masking(&self) -> bool {
        self.masking
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("planner state lock")
    }

    fn mask(&self, text: &str) -> String {
        if self.masking {
            self.state().masker.mask(text)
        } else {
            text.to_string()
        }
    }

    fn unmask(&self, text: &str) -> String {
        if self.masking {
            self.state().masker.unmask(text)
        } else {
            text.to_string()
        }
    }

    fn register_names<'a>(
        &self,
        hosts: impl Iterator<Item = &'a String>,
        users: impl Iterator<Item = &'a String>,
    ) {
        let mut state = self.state();
        hosts.for_each(|h| state.masker.register(h, MaskKind::Host));
        users.for_each(|u| state.masker.register(u, MaskKind::User));
    }

    /// Records a decision on the answer of the last model call.
    fn record(
        &self,
        iteration: usize,
        attempt: usize,
        outcome: &str,
        actions: Vec<String>,
        reason: String,
    ) {
        let decided_by = self.state().last_answered_by.clone();
        self.record_by(iteration, attempt, outcome, actions, reason, decided_by);
    }

    fn record_by(
        &self,
        iteration: usize,
        attempt: usize,
        outcome: &str,
        actions: Vec<String>,
        reason: String,
        decided_by: Option<String>,
    ) {
        info!(iteration, attempt, outcome, %reason, decided_by, "model decision");
        let decision = ModelDecision {
            iteration,
            attempt,
            outcome: outcome.into(),
            actions,
            reason,
            decided_by,
        };
        self.state().decisions.push(decision);
    }

    /// Sends one request, records it, and returns the answer text or the failure.
    async fn call(&self, purpose: &str, request: ChatRequest) -> Result<String, String> {
        let started = Instant::now();
        let result = self.model.complete(&request).await;
        let elapsed = started.elapsed();
        let (response, error, tokens_in, tokens_out, duration) = match &result {
            Ok(r) => (
                r.text.clone(),
                None,
                r.input_tokens,
                r.output_tokens,
                r.duration.max(elapsed),
            ),
            Err(e) => (String::new(), Some(e.to_string()), 0, 0, elapsed),
        };
        // A chain of providers names the provider that responded. A single
        // provider, or a chain that failed as a whole, is named by its own info.
        let info = self.model.info();
        let (provider, model) = match &result {
            Ok(r) => (
                r.provider.clone().unwrap_or(info.provider),
                r.model.clone().unwrap_or(info.model),
            ),
            Err(_) => (info.provider, info.model),
        };
        let failed = result.as_ref().map_or(&[][..], |r| &r.failed_providers[..]);
        for failure in failed {
            self.state().calls.push(ModelCall {
                purpose: purpose.into(),
                request: request.clone(),
                response: String::new(),
                error: Some(failure.error.clone()),
                input_tokens: 0,
                output_tokens: 0,
                duration_ms: failure.duration.as_secs_f64() * 1000.0,
                cost: 0.0,
                provider: Some(failure.provider.clone()),
                model: Some(failure.model.clone()),
                chain_attempt: true,
            });
        }
        let answered = result.is_ok();
        let (provider, model) = (Some(provider), Some(model));
        let cost = tokens_in as f64 * self.settings.price_input_per_million / 1e6
            + tokens_out as f64 * self.settings.price_output_per_million / 1e6;
        self.state().calls.push(ModelCall {
            purpose: purpose.into(),
            request,
            response: response.clone(),
            error: error.clone(),
            input_tokens: tokens_in,
            output_tokens: tokens_out,
            duration_ms: duration.as_secs_f64() * 1000.0,
            cost,
            provider: provider.clone(),
            model: model.clone(),
            chain_attempt: false,
        });
        let answered_by = provider.zip(model).filter(|_| answered).map(|(p, m)| format!("{p}/{m}"));
        self.state().last_answered_by = answered_by;
        match error {
            Some(e) => Err(e),
            None => Ok(response),
        }
    }

    fn request(&self, system: String, messages: Vec<ChatMessage>) -> ChatRequest {
        ChatRequest {
            system,
            messages,
            max_tokens: self.settings.max_tokens,
            temperature: self.settings.temperature,
            json: true,
            answer_schema: None,
        }
    }

    /// Builds a planning request, which carries the planner's answer schema.
    fn plan_request(&self, messages: Vec<ChatMessage>) -> ChatRequest {
        ChatRequest {
            answer_schema: Some(prompt::planner_answer_schema()),
            ..self.request(prompt::planner_system(), messages)
        }
    }

    /// Checks an answer against the action set, the actions already run and the guard.
    fn validate(&self, text: &str, context: &PlanContext<'_>) -> Result<Plan, Rejection> {
        let reject = |actions: Vec<String>, reason: String| Rejection { actions, reason };
        let Some(json) = answer::plan_answer(text, prompt::PLAN_TOOL) else {
            return Err(reject(
                Vec::new(),
                "the answer is not a JSON object or a tool call".into(),
            ));
        };
        if let Some(reason) = missing_plan_fields(&json) {
            return Err(reject(Vec::new(), reason));
        }
        let answer: Answer = serde_json::from_value(json).map_err(|e| {
            reject(
                Vec::new(),
                format!("the answer does not match the format: {e}"),
            )
        })?;
        let proposed: Vec<String> = answer
            .actions
            .iter()
            .map(|a| format!("{}({})", a.action, a.args))
            .collect();
        if answer.done {
            if !answer.actions.is_empty() {
                return Err(reject(
                    proposed,
                    "the answer sets done and also lists actions".into(),
                ));
            }
            return Ok(Plan::Done {
                reason: answer.reason,
            });
        }
        if answer.actions.is_empty() {
            return Err(reject(
                proposed,
                "the answer lists no actions and is not done".into(),
            ));
        }
        if answer.actions.len() > self.settings.max_actions {
            let reason = format!(
                "the answer lists {} actions; the maximum is {}",
                answer.actions.len(),
                self.settings.max_actions
            );
            return Err(reject(proposed, reason));
        }
        let mut planned = Vec::new();
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for p in answer.actions {
            match check_action(&p, context, &mut seen) {
                Ok(action) => {
                    let reason = [&p.reason, &answer.reason]
                        .into_iter()
                        .find(|r| !r.trim().is_empty())
                        .cloned()
                        .unwrap_or_else(|| "chosen by the model".into());
                    planned.push(PlannedAction { action, reason });
                }
                Err(problem) => problems.push(problem),
            }
        }
        if !problems.is_empty() {
            return Err(reject(proposed, problems.join("; ")));
        }
        Ok(Plan::Run(planned))
    }

    /// Lets the playbook decide this iteration, marking its reasons as such.
    async fn fall_back(&self, context: &PlanContext<'_>, why: &str) -> Result<Plan, PlanError> {
        let plan = PlaybookPlanner.plan(context).await?;
        let (actions, reason) = match &plan {
            Plan::Run(actions) => (
                actions.iter().map(|a| a.action.describe()).collect(),
                why.to_string(),
            ),
            Plan::Done { reason } => (Vec::new(), format!("{why}; playbook: {reason}")),
        };
        let playbook = Some("playbook".to_string());
        self.record_by(context.iteration, 0, "fallback", actions, reason, playbook);
        // Steps name the cause only; the decision above keeps the full text,
        // such as a long connection error, once.
        let cause = why.split(": ").next().unwrap_or(why);
        Ok(match plan {
            Plan::Run(actions) => Plan::Run(
                actions
                    .into_iter()
                    .map(|a| PlannedAction {
                        reason: format!(
                            "playbook ({cause}, iteration {}): {}",
                            context.iteration, a.reason
                        ),
                        ..a
                    })
                    .collect(),
            ),
            done => done,
        })
    }
}

/// Validates one proposed action; returns why it is rejected otherwise.
fn check_action(
    proposed: &ProposedAction,
    context: &PlanContext<'_>,
    seen: &mut BTreeSet<String>,
) -> Result<Action, String> {
    let action =
        Action::from_json(&proposed.action, proposed.args.clone()).map_err(|e| e.to_string())?;
    if let Action::RunSpl { query } = &action {
        crate::spl::guard::check(query).map_err(|refusal| {
            format!("run_spl query rejected by the read-only guard: {refusal}")
        })?;
    }
    if context.already_ran(&action) {
        return Err(format!(
            "{} already ran with these arguments",
            action.describe()
        ));
    }
    if !seen.insert(action.describe()) {
        return Err(format!("{} is listed twice", action.describe()));
    }
    Ok(action)
}

#[async_trait]
impl Planner for LlmPlanner {
    fn info(&self) -> PlannerInfo {
        let info = self.model.info();
        PlannerInfo {
            kind: info.provider,
            model: Some(info.model),
        }
    }

    async fn plan(&self, context: &PlanContext<'_>) -> Result<Plan, PlanError> {
        let hosts = context
            .findings
            .iter()
            .flat_map(|f| &f.hosts)
            .chain(&context.entities.hosts);
        let users = context
            .findings
            .iter()
            .flat_map(|f| &f.accounts)
            .chain(&context.entities.users);
        self.register_names(hosts, users);
        self.register_names(indexer_names(context.alert).iter(), std::iter::empty());
        if let Some(schema) = context.schema {
            self.register_names(schema.hosts.iter(), std::iter::empty());
        }

        let token = prompt::boundary();
        let user = self.mask(&prompt::planner_user(context, &token));
        let mut messages = vec![ChatMessage {
            role: Role::User,
            content: user,
        }];
        for attempt in 1..=self.settings.max_retries + 1 {
            let request = self.plan_request(messages.clone());
            let answer = match self.call("plan", request).await {
                Ok(text) => text,
                Err(error) => {
                    warn!(%error, "model call failed; the playbook decides this iteration");
                    return self
                        .fall_back(context, &format!("model call failed: {error}"))
                        .await;
                }
            };
            match self.validate(&self.unmask(&answer), context) {
                Ok(Plan::Done { reason }) => {
                    self.record(
                        context.iteration,
                        attempt,
                        "done",
                        Vec::new(),
                        reason.clone(),
                    );
                    return Ok(Plan::Done { reason });
                }
                Ok(Plan::Run(actions)) => {
                    let names = actions.iter().map(|a| a.action.describe()).collect();
                    let reasons: Vec<&str> = actions.iter().map(|a| a.reason.as_str()).collect();
                    let owned = reasons.iter().map(|r| r.to_string());
                    self.state().model_step_reasons.extend(owned);
                    self.record(
                        context.iteration,
                        attempt,
                        "accepted",
                        names,
                        reasons.join("; "),
                    );
                    return Ok(Plan::Run(actions));
                }
                Err(rejection) => {
                    self.record(
                        context.iteration,
                        attempt,
                        "rejected",
                        rejection.actions,
                        rejection.reason.clone(),
                    );
                    let retry = format!(
                        "Your answer was rejected: {}. Answer again with one JSON object in the \
                         format given.",
                        rejection.reason
                    );
                    messages.push(ChatMessage {
                        role: Role::Assistant,
                        content: answer,
                    });
                    messages.push(ChatMessage {
                        role: Role::User,
                        content: self.mask(&retry),
                    });
                }
            }
        }
        let why = format!(
            "{} model answers were rejected",
            self.settings.max_retries + 1
        );
        self.fall_back(context, &why).await
    }

    async fn finish(&self, report: &mut Report) {
        if self.settings.write_summary {
            self.write_summary(report).await;
        }
        let info = self.model.info();
        let mut state = self.state();
        let calls = std::mem::take(&mut state.calls);
        let mut decisions = std::mem::take(&mut state.decisions);
        let model_step_reasons = std::mem::take(&mut state.model_step_reasons);
        state.masker = Masker::default();
        drop(state);
        bind_step_reasons(report, &model_step_reasons);
        let earlier = report.llm.take().unwrap_or_default();
        let mut unverified = earlier.unverified;
        // Fallback and rejection reasons are the planner's own text, which
        // may quote URLs and error messages that no search returned.
        let model_written = |d: &ModelDecision| matches!(d.outcome.as_str(), "accepted" | "done");
        for decision in decisions.iter_mut().filter(|d| model_written(d)) {
            let (marked, found) = grounding::mark_unverified(&decision.reason, report);
            decision.reason = marked;
            unverified.extend(found);
        }
        unverified.sort();
        unverified.dedup();
        let summary_written = decisions
            .iter()
            .any(|d| d.iteration == 0 && d.outcome == "accepted");
        let summary_source = if summary_written { "model" } else { "analysis" };
        report.llm = Some(LlmRecord {
            provider: info.provider,
            model: info.model,
            masking: self.masking,
            decisions,
            unverified,
            summary_source: summary_source.into(),
            rejected: earlier.rejected,
            absence_claims: earlier.absence_claims,
            input_tokens: calls.iter().map(|c| c.input_tokens).sum(),
            output_tokens: calls.iter().map(|c| c.output_tokens).sum(),
            cost: calls.iter().map(|c| c.cost).sum(),
        });
        report.model_calls = calls;
    }
}

/// The fields of a planning answer, as the answer schema names them.
const PLAN_FIELDS: [&str; 3] = ["done", "reason", "actions"];

/// Describes an answer object that has none of [`PLAN_FIELDS`], naming the fields it has.
/// Returns `None` when the answer has at least one of them or is not an object.
fn missing_plan_fields(json: &Value) -> Option<String> {
    let object = json.as_object()?;
    if object.keys().any(|key| PLAN_FIELDS.contains(&key.as_str())) {
        return None;
    }
    let found = if object.is_empty() {
        "it is an empty object".to_string()
    } else {
        let names: Vec<String> = object.keys().map(|key| format!("`{key}`")).collect();
        format!("unexpected fields: {}", names.join(", "))
    };
    Some(format!(
        "the answer has none of the expected fields (`done`, `reason`, `actions`); {found}"
    ))
}

/// Lists the Splunk indexer names in an alert's result row, so they are masked like hosts.
/// `splunk_server` contains the indexer. `_si` contains the indexer and then the index, as
/// two values or as one value with a newline between them. The index name is left readable
/// because the model writes it into searches.
fn indexer_names(alert: &crate::alert::Alert) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(server) = alert.result.get("splunk_server") {
        names.extend(server.iter().map(str::to_string));
    }
    let first_si = alert.result.get("_si").and_then(|si| si.iter().next());
    if let Some(indexer) = first_si.and_then(|value| value.lines().next()) {
        names.push(indexer.to_string());
    }
    names
}

/// Marks unverified values in the step reasons that the model wrote
/// (`model_reasons`); playbook and fallback step reasons stay as they are.
fn bind_step_reasons(report: &mut Report, model_reasons: &BTreeSet<String>) {
    let mut found_all = Vec::new();
    let reasons: Vec<Option<(String, Vec<String>)>> = report
        .steps
        .iter()
        .map(|s| {
            model_reasons
                .contains(&s.reason)
                .then(|| grounding::mark_unverified(&s.reason, report))
        })
        .collect();
    for (step, marked) in report.steps.iter_mut().zip(reasons) {
        if let Some((marked, found)) = marked {
            step.reason = marked;
            found_all.extend(found);
        }
    }
    if !found_all.is_empty() {
        report
            .llm
            .get_or_insert_with(LlmRecord::default)
            .unverified
            .extend(found_all);
    }
}

/// The model's closing response. Stages and rewordings stay JSON values until
/// each is checked, so one malformed part is rejected alone.
#[derive(Debug, Deserialize)]
struct SummaryAnswer {
    summary: String,
    #[serde(default)]
    verdict: Option<String>,
    #[serde(default)]
    confidence: String,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    severity_reason: String,
    #[serde(default)]
    attack_chain: Vec<Value>,
    #[serde(default)]
    remediation: Vec<Value>,
}

/// One attack-chain stage as the model words it.
#[derive(Debug, Deserialize)]
struct StageAnswer {
    text: String,
    #[serde(default)]
    techniques: Vec<String>,
    #[serde(default)]
    timeline: Vec<usize>,
}

/// The model's wording of one remediation step, keyed as `R1`, `R2`, ... in the facts.
#[derive(Debug, Deserialize)]
struct RewordAnswer {
    step: Value,
    text: String,
}

/// Values marked and parts left out by the checks of a closing response, for the model record.
#[derive(Default)]
struct Bound {
    unverified: Vec<String>,
    absence_claims: Vec<String>,
    rejected: Vec<RejectedPart>,
}

impl Bound {
    /// Marks model text and keeps what was marked.
    fn bind(&mut self, text: &str, report: &Report) -> String {
        let bound = grounding::bind_text(text, report);
        self.unverified.extend(bound.unverified);
        self.absence_claims.extend(bound.absence_claims);
        bound.text
    }

    fn reject(&mut self, part: String, reason: String) {
        warn!(%part, %reason, "part of the model's closing answer rejected");
        self.rejected.push(RejectedPart { part, reason });
    }
}

impl LlmPlanner {
    /// Asks the model for the narrative, verdict, attack chain and remediation
    /// wording, and applies what the evidence allows.
    async fn write_summary(&self, report: &mut Report) {
        self.register_names(
            report.affected.hosts.iter(),
            report.affected.accounts.iter(),
        );
        let token = prompt::boundary();
        let user = self.mask(&prompt::summary_user(&report_facts(report), &token));
        let mut request = self.request(
            prompt::summary_system(),
            vec![ChatMessage {
                role: Role::User,
                content: user,
            }],
        );
        request.answer_schema = Some(prompt::summary_schema());
        let text = match self.call("summary", request).await {
            Ok(text) => self.unmask(&text),
            Err(error) => {
                let reason = format!("summary call failed: {error}");
                self.record(0, 1, "rejected", Vec::new(), reason);
                return;
            }
        };
        let parsed = prompt::extract_json(&text)
            .ok_or_else(|| "the answer is not a JSON object".to_string())
            .and_then(|v| serde_json::from_value::<SummaryAnswer>(v).map_err(|e| e.to_string()));
        let answer = match parsed {
            Ok(answer) => answer,
            Err(error) => {
                let reason =
                    format!("summary answer rejected, the analysis summary stands: {error}");
                self.record(0, 1, "rejected", Vec::new(), reason);
                return;
            }
        };
        let mut bound = Bound::default();
        report.summary = bound.bind(&answer.summary, report);
        let mut notes = vec!["summary written by the model".to_string()];
        notes.extend(apply_severity(report, &answer));
        if let Some(verdict) = answer.verdict.as_deref() {
            let reasons = answer
                .reasons
                .iter()
                .map(|r| bound.bind(r, report))
                .collect();
            grounding::apply_verdict(report, verdict, &answer.confidence, reasons);
            let source = report
                .verdict
                .as_ref()
                .map_or("analysis", |v| v.source.as_str());
            notes.push(format!("verdict from the {source}"));
        }
        notes.extend(apply_chain(report, &answer.attack_chain, &mut bound));
        notes.extend(apply_rewording(report, &answer.remediation, &mut bound));
        let llm = report.llm.get_or_insert_with(LlmRecord::default);
        llm.unverified.extend(bound.unverified);
        llm.absence_claims.extend(bound.absence_claims);
        llm.rejected.extend(bound.rejected);
        self.record(0, 1, "accepted", Vec::new(), notes.join("; "));
    }
}

/// Raises the severity when the model proposes more than the floor, and returns a note.
fn apply_severity(report: &mut Report, answer: &SummaryAnswer) -> Option<String> {
    let level = answer
        .severity
        .as_deref()
        .and_then(grounding::parse_severity)?;
    if grounding::raise_severity(report, level, &answer.severity_reason) {
        return Some(format!("severity raised to {}", level.as_str()));
    }
    (level < report.severity.level).then(|| {
        format!(
            "proposed severity {} is below the evidence floor {} and was ignored",
            level.as_str(),
            report.severity.level.as_str()
        )
    })
}

/// Replaces the analysis's attack chain with the model's stages that pass
/// [`grounding::check_stage`]; when none pass, the analysis's chain stays.
fn apply_chain(report: &mut Report, stages: &[Value], bound: &mut Bound) -> Option<String> {
    if stages.is_empty() {
        return None;
    }
    let mut accepted = Vec::new();
    for (position, value) in stages.iter().enumerate() {
        let part = format!("attack_chain[{position}]");
        let checked = serde_json::from_value::<StageAnswer>(value.clone())
            .map_err(|e| format!("the stage does not match the format: {e}"))
            .and_then(|s| grounding::check_stage(&s.text, &s.techniques, &s.timeline, report));
        match checked {
            Ok(mut stage) => {
                stage.text = bound.bind(&stage.text, report);
                accepted.push(stage);
            }
            Err(reason) => bound.reject(part, reason),
        }
    }
    let rejected = stages.len() - accepted.len();
    if accepted.is_empty() {
        return Some(format!(
            "all {rejected} attack-chain stages rejected; the analysis's chain stands"
        ));
    }
    let note = format!(
        "attack chain worded by the model ({} stages, {rejected} rejected)",
        accepted.len()
    );
    report.attack_chain = accepted;
    Some(note)
}

/// Parses a remediation key such as `R2`, `2` or the number 2 into a position from 0.
fn remediation_position(key: &Value) -> Option<usize> {
    let number = match key {
        Value::Number(n) => n.as_u64()? as usize,
        Value::String(s) => s.trim().trim_start_matches(['R', 'r']).parse().ok()?,
        _ => return None,
    };
    number.checked_sub(1)
}

/// Sets `model_text` on each remediation step the model reworded within
/// [`grounding::check_rewording`]; other steps keep only the analysis's wording.
fn apply_rewording(report: &mut Report, rewordings: &[Value], bound: &mut Bound) -> Option<String> {
    if rewordings.is_empty() {
        return None;
    }
    let mut worded = 0;
    for (position, value) in rewordings.iter().enumerate() {
        let answer = match serde_json::from_value::<RewordAnswer>(value.clone()) {
            Ok(answer) => answer,
            Err(e) => {
                let reason = format!("the wording does not match the format: {e}");
                bound.reject(format!("remediation[{position}]"), reason);
                continue;
            }
        };
        let part = format!("remediation[{}]", answer.step).replace('"', "");
        let Some(index) =
            remediation_position(&answer.step).filter(|&i| i < report.remediation.len())
        else {
            let reason = format!(
                "no remediation step {}; the steps are R1 to R{}, and the model cannot add one",
                answer.step,
                report.remediation.len()
            );
            bound.reject(part, reason);
            continue;
        };
        if report.remediation[index].model_text.is_some() {
            bound.reject(
                part,
                format!(
                    "step R{} was worded twice; the first wording stands",
                    index + 1
                ),
            );
            continue;
        }
        if let Err(reason) = grounding::check_rewording(&report.remediation[index], &answer.text) {
            bound.reject(part, reason);
            continue;
        }
        let text = bound.bind(&answer.text, report);
        report.remediation[index].model_text = Some(text);
        worded += 1;
    }
    Some(format!(
        "{worded} of {} remediation steps worded by the model",
        report.remediation.len()
    ))
}

/// The facts the closing summary may draw on, one per line.
fn report_facts(report: &Report) -> String {
    let mut lines = vec![format!(
        "Severity floor: {} ({})",
        report.severity.level.as_str(),
        report.severity.reasons.join("; ")
    )];
    for f in &report.findings {
        lines.push(format!(
            "Finding {}: {} (count {}, evidence {})",
            f.id,
            f.title,
            f.count,
            f.evidence.join(", ")
        ));
    }
    for i in report.indicators.iter().filter(|i| !i.intel.is_empty()) {
        let sources: Vec<&str> = i.intel.iter().map(|m| m.source.as_str()).collect();
        lines.push(format!(
            "Intel match: {} listed by {}",
            i.value,
            sources.join(", ")
        ));
    }
    for t in &report.techniques {
        lines.push(format!(
            "Technique {} {} ({} events)",
            t.id, t.name, t.event_count
        ));
    }
    for (position, entry) in report.timeline.iter().enumerate() {
        lines.push(format!(
            "Timeline entry {position}: {} on {}: {} (tactic {}; techniques {})",
            crate::event::format_rfc3339(entry.time),
            entry.host.as_deref().unwrap_or("an unknown host"),
            entry.description,
            entry.tactic.as_deref().unwrap_or("none"),
            entry.techniques.join(", ")
        ));
    }
    for (position, step) in report.remediation.iter().enumerate() {
        lines.push(format!(
            "Remediation R{}: {} ({}; techniques {}; findings {})",
            position + 1,
            step.action,
            step.reason,
            step.techniques.join(", "),
            step.findings.join(", ")
        ));
    }
    if let Some(v) = &report.verdict {
        lines.push(format!(
            "Verdict from the findings: {} ({})",
            v.verdict,
            v.reasons.join("; ")
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<LlmPlannerSettings, LlmConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LlmPlannerSettings::from_lookup(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn unset_settings_take_defaults() {
        let read = settings(&[]).unwrap();
        assert_eq!(read.max_retries, 2);
        assert_eq!(read.max_tokens, 1024);
        assert_eq!(read.temperature, 0.0);
        assert_eq!(read.masking, None);
        assert_eq!(read.price_input_per_million, 0.0);
    }

    #[test]
    fn settings_read_from_variables() {
        let read = settings(&[
            ("LLM_TEMPERATURE", "0.5"),
            ("LLM_MAX_TOKENS", "2048"),
            ("LLM_MAX_RETRIES", "0"),
            ("LLM_MASKING", "Off"),
            ("LLM_PRICE_INPUT", "3"),
            ("LLM_PRICE_OUTPUT", " 15.5 "),
        ])
        .unwrap();
        assert_eq!(read.temperature, 0.5);
        assert_eq!(read.max_tokens, 2048);
        assert_eq!(read.max_retries, 0);
        assert_eq!(read.masking, Some(false));
        assert_eq!(read.price_input_per_million, 3.0);
        assert_eq!(read.price_output_per_million, 15.5);
        assert_eq!(
            settings(&[("LLM_MASKING", "on")]).unwrap().masking,
            Some(true)
        );
        assert_eq!(settings(&[("LLM_MASKING", "auto")]).unwrap().masking, None);
    }

    #[test]
    fn bad_settings_name_the_variable() {
        for (variable, value) in [
            ("LLM_TEMPERATURE", "3"),
            ("LLM_TEMPERATURE", "warm"),
            ("LLM_MAX_TOKENS", "0"),
            ("LLM_MAX_RETRIES", "-1"),
            ("LLM_MASKING", "maybe"),
            ("LLM_PRICE_INPUT", "-1"),
            ("LLM_PRICE_OUTPUT", "NaN"),
        ] {
            let error = settings(&[(variable, value)]).unwrap_err().to_string();
            assert!(error.contains(variable), "{error}");
            assert!(error.contains(value), "{error}");
        }
    }
}
