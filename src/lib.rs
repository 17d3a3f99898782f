//! Argus investigates fired security alerts and writes incident reports.
//!
//! An alert arrives (a Splunk webhook payload, a file or the UI); the agent
//! fetches its events, discovers what data there is, lets a planner choose
//! read-only searches, and turns what they return into a report: timeline,
//! ATT&CK techniques, indicators checked against threat intel, severity with
//! reasons, remediation, and the evidence behind every claim.
//!
//! # Layout
//!
//! - [`alert`]: the webhook payload, alert classes and entities.
//! - [`event`]: events and result rows, the values every backend returns.
//! - [`evidence`]: the local evidence store (log files ingested from disk).
//! - [`index`]: the persistent evidence index with an inverted term index.
//! - [`spl`]: the SPL tokenizer, parser and evaluator, and quoting helpers.
//! - [`search`]: the search-backend seam and its local implementation.
//! - [`agent`]: the investigation loop, planners, tools and step events.
//! - [`analysis`]: ATT&CK mapping, indicators and intel, severity, remediation.
//! - [`report`]: the report model and its JSON, Markdown and PDF renderings.
//! - [`store`]: the SQLite incident store: alerts, the investigation queue, reports.
//! - [`listener`]: the webhook listener and the JSON API of server mode.
//! - [`server`]: `argus serve`: the listener, the workers and shutdown.
//! - [`config`]: settings read from the environment.
//! - [`demo`]: the bundled demo evidence and alerts.

#![forbid(unsafe_code)]

pub mod agent;
pub mod alert;
pub mod analysis;
pub mod config;
pub mod demo;
pub mod event;
pub mod evidence;
pub mod index;
pub mod listener;
pub mod llm;
pub mod report;
pub mod search;
pub mod server;
pub mod spl;
pub mod store;
