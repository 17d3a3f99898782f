//! The Splunk search backend: SPL runs on a Splunk server through its REST API.
//!
//! Each query passes the read-only guard, then waits for one of
//! [`SplunkSettings::max_concurrent_searches`] slots, then runs through the
//! export endpoint (`/services/search/v2/jobs/export`, or the Splunk 8
//! endpoint after a 404), whose JSON stream is read as it arrives. Retryable
//! failures (quota, overload, network) are retried with exponential backoff
//! until the per-search timeout. Schema discovery runs `tstats` over every
//! index the credentials can see.
//!
//! # Layout
//!
//! - [`config`]: settings from the environment.
//! - [`tls`]: the HTTP client with a CA file, a pinned certificate, or no checks.
//! - [`client`]: login, the export request and HTTP error mapping.
//! - [`export`]: the export stream reader.
//! - [`fired`]: Splunk's fired alerts as a catch-up source.

pub mod client;
pub mod config;
pub mod export;
pub mod fired;
pub mod tls;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, Semaphore};

use crate::event::{parse_splunk_time, Row};
use crate::spl::guard;

use super::{BackendInfo, FailureClass, Schema, SearchBackend, SearchError, SearchResults};
use super::SourcetypeSummary;
use client::{ExportOutcome, EXPORT_V1, EXPORT_V2};
pub use config::{Credentials, SplunkSettings, TlsVerification};

/// Query of the schema step: events per index and sourcetype, with time range.
pub const SCHEMA_QUERY: &str = "| tstats count min(_time) as earliest max(_time) as latest \
                                where index=* by index, sourcetype";
/// Query of the schema step for host names.
pub const HOSTS_QUERY: &str = "| tstats count where index=* by host";

/// Runs SPL on a Splunk server.
pub struct SplunkBackend {
    settings: SplunkSettings,
    http: reqwest::Client,
    slots: Arc<Semaphore>,
    /// Session key from a username/password login, reused until it is rejected.
    session: Mutex<Option<String>>,
    /// True once the server answered 404 on the v2 export endpoint.
    use_v1: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for SplunkBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SplunkBackend").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl SplunkBackend {
    /// Builds the backend and its HTTP client; no request is sent yet.
    pub fn new(settings: SplunkSettings) -> Result<Self, SearchError> {
        let http = tls::build_client(&settings)?;
        let slots = Arc::new(Semaphore::new(settings.max_concurrent_searches.get()));
        Ok(SplunkBackend {
            settings,
            http,
            slots,
            session: Mutex::new(None),
            use_v1: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn settings(&self) -> &SplunkSettings {
        &self.settings
    }

    /// Runs one query that has passed the guard, with retries, within the
    /// per-search timeout.
    async fn run(&self, spl: &str) -> Result<SearchResults, SearchError> {
        let query = prepare_query(spl, self.settings.index.as_deref());
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SearchError::Unavailable("the search slots were closed".into()))?;
        let timeout = self.settings.search_timeout;
        match tokio::time::timeout(timeout, self.run_with_retries(&query)).await {
            Ok(result) => result,
            Err(_) => Err(SearchError::Timeout { seconds: timeout.as_secs(), query }),
        }
    }

    async fn run_with_retries(&self, query: &str) -> Result<SearchResults, SearchError> {
        let mut attempt = 0u32;
        let mut relogged = false;
        loop {
            let error = match self.run_once(query).await {
                Ok(results) => return Ok(results),
                Err(error) => error,
            };
            let session_expired = error.class() == FailureClass::Auth
                && matches!(self.settings.credentials, Credentials::Password { .. })
                && !relogged;
            if session_expired {
                tracing::warn!(%error, "session key rejected; logging in again");
                *self.session.lock().await = None;
                relogged = true;
                continue;
            }
            if error.class() != FailureClass::Retryable || attempt >= self.settings.retries {
                tracing::warn!(%error, attempts = attempt + 1, "search failed");
                return Err(error);
            }
            let pause = self.settings.backoff * 2u32.saturating_pow(attempt);
            tracing::warn!(%error, attempt = attempt + 1, pause_ms = pause.as_millis() as u64,
                "search failed; retrying after a pause");
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    async fn run_once(&self, query: &str) -> Result<SearchResults, SearchError> {
        let authorization = self.authorization().await?;
        let mut form = vec![("search", query), ("output_mode", "json")];
        if let Some(window) = &self.settings.time_window {
            form.push(("earliest_time", window));
            form.push(("latest_time", "now"));
        }
        let base = self.settings.base_url();
        use std::sync::atomic::Ordering;
        if !self.use_v1.load(Ordering::Relaxed) {
            let url = format!("{base}{EXPORT_V2}");
            match client::export(&self.http, &url, &authorization, &form).await? {
                ExportOutcome::Results(results) => return Ok(results),
                ExportOutcome::NotFound => {
                    tracing::info!("v2 export endpoint not found; using {EXPORT_V1} (Splunk 8)");
                    self.use_v1.store(true, Ordering::Relaxed);
                }
            }
        }
        let url = format!("{base}{EXPORT_V1}");
        match client::export(&self.http, &url, &authorization, &form).await? {
            ExportOutcome::Results(results) => Ok(results),
            ExportOutcome::NotFound => Err(SearchError::Server {
                status: 404,
                message: format!("no export endpoint at {base}; is this Splunk's management port?"),
            }),
        }
    }

    /// Returns the `Authorization` header value, logging in first if needed.
    async fn authorization(&self) -> Result<String, SearchError> {
        match &self.settings.credentials {
            Credentials::Token(token) => Ok(format!("Bearer {token}")),
            Credentials::Password { username, password } => {
                let mut session = self.session.lock().await;
                if session.is_none() {
                    let base = self.settings.base_url();
                    *session = Some(client::login(&self.http, &base, username, password).await?);
                }
                Ok(format!("Splunk {}", session.as_deref().unwrap_or_default()))
            }
        }
    }
}

/// Prepends `search ` unless the query starts with `|` or `search`, and adds
/// `index=<index>` to a search that names no index.
pub fn prepare_query(spl: &str, index: Option<&str>) -> String {
    let trimmed = spl.trim_start();
    let starts_with_search = trimmed
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("search"))
        && trimmed[6..].starts_with(char::is_whitespace);
    if trimmed.starts_with('|') {
        return trimmed.to_string();
    }
    let body = if starts_with_search { trimmed[6..].trim_start() } else { trimmed };
    let names_index = regex::Regex::new(r"(?i)(^|[\s(])index\s*(=|!=|IN\b)")
        .expect("pattern is valid")
        .is_match(body);
    match index {
        Some(index) if !names_index => {
            format!("search index={} {body}", crate::spl::quote::quote(index))
        }
        _ => format!("search {body}"),
    }
}

#[async_trait]
impl SearchBackend for SplunkBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "splunk".into(), description: format!("Splunk at {}", self.settings.base_url()) }
    }

    async fn search(&self, spl: &str) -> Result<SearchResults, SearchError> {
        guard::check(spl).map_err(SearchError::Refused)?;
        self.run(spl).await
    }

    async fn schema(&self) -> Result<Schema, SearchError> {
        let counts = self.search(SCHEMA_QUERY).await?;
        let hosts = self.search(HOSTS_QUERY).await?;
        Ok(schema_from_rows(&counts.rows, &hosts.rows))
    }
}

/// Builds the schema from the rows of [`SCHEMA_QUERY`] and [`HOSTS_QUERY`].
pub fn schema_from_rows(counts: &[Row], hosts: &[Row]) -> Schema {
    let text = |row: &Row, field: &str| row.get(field).and_then(|v| v.first()).map(str::to_string);
    let mut schema = Schema::default();
    let mut sourcetypes: std::collections::BTreeMap<String, u64> = Default::default();
    for row in counts {
        let count = text(row, "count").and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
        schema.event_count += count;
        if let Some(index) = text(row, "index") {
            if !schema.indexes.contains(&index) {
                schema.indexes.push(index);
            }
        }
        if let Some(sourcetype) = text(row, "sourcetype") {
            *sourcetypes.entry(sourcetype).or_default() += count;
        }
        let earliest = text(row, "earliest").and_then(|t| parse_splunk_time(&t));
        let latest = text(row, "latest").and_then(|t| parse_splunk_time(&t));
        if let (Some(lo), Some(hi)) = (earliest, latest) {
            schema.time_range = Some(match schema.time_range {
                None => (lo, hi),
                Some((a, b)) => (a.min(lo), b.max(hi)),
            });
        }
    }
    schema.indexes.sort();
    schema.sourcetypes = sourcetypes
        .into_iter()
        .map(|(sourcetype, event_count)| SourcetypeSummary { sourcetype, event_count, fields: Vec::new() })
        .collect();
    schema.hosts = hosts.iter().filter_map(|row| text(row, "host")).collect();
    schema.hosts.sort();
    schema.hosts.dedup();
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_adds_search() {
        assert_eq!(prepare_query("sshd failed", None), "search sshd failed");
    }

    #[test]
    fn prepare_keeps_leading_pipe() {
        assert_eq!(prepare_query("  | tstats count", Some("main")), "| tstats count");
    }

    #[test]
    fn prepare_keeps_search_keyword() {
        assert_eq!(prepare_query("SEARCH a=b", None), "search a=b");
        assert_eq!(prepare_query("searchable", None), "search searchable");
    }

    #[test]
    fn prepare_adds_index() {
        assert_eq!(prepare_query("search a=b", Some("security")), "search index=\"security\" a=b");
    }

    #[test]
    fn prepare_keeps_named_index() {
        assert_eq!(prepare_query("index=web a=b", Some("security")), "search index=web a=b");
    }

    #[test]
    fn schema_sums_counts() {
        let row = |pairs: &[(&str, &str)]| -> Row {
            pairs.iter().map(|(k, v)| (k.to_string(), crate::event::Value::from(*v))).collect()
        };
        let counts = vec![
            row(&[("index", "main"), ("sourcetype", "linux_secure"), ("count", "10"),
                  ("earliest", "100"), ("latest", "200")]),
            row(&[("index", "net"), ("sourcetype", "linux_secure"), ("count", "5"),
                  ("earliest", "50"), ("latest", "150")]),
        ];
        let hosts = vec![row(&[("host", "b")]), row(&[("host", "a")])];
        let schema = schema_from_rows(&counts, &hosts);
        assert_eq!(schema.event_count, 15);
        assert_eq!(schema.indexes, vec!["main", "net"]);
        assert_eq!(schema.sourcetypes.len(), 1);
        assert_eq!(schema.sourcetypes[0].event_count, 15);
        assert_eq!(schema.hosts, vec!["a", "b"]);
        assert_eq!(schema.time_range, Some((50_000_000, 200_000_000)));
    }
}
