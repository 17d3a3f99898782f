//! The embedded search backend: SPL over local evidence, either an
//! in-memory [`EvidenceStore`] or a persistent [`EvidenceIndex`].
//!
//! Queries run on tokio's blocking pool, so concurrent searches from one
//! investigation use every core and never stall the async runtime. Over an
//! index, a query's search terms are looked up in the index first and only
//! the candidate events are parsed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use crate::evidence::EvidenceStore;
use crate::index::EvidenceIndex;
use crate::spl;

use super::{BackendInfo, Schema, SearchBackend, SearchError, SearchResults, SourcetypeSummary};

/// Number of field names listed per sourcetype by [`LocalBackend::schema`].
const TOP_FIELDS: usize = 25;

/// Runs SPL over events ingested from local files.
pub struct LocalBackend {
    evidence: Arc<Evidence>,
    description: String,
    /// Folder whose CSV files `| lookup` reads.
    lookup_dir: Option<PathBuf>,
}

/// Where the events live.
enum Evidence {
    Store(EvidenceStore),
    Index(EvidenceIndex),
}

impl LocalBackend {
    /// Wraps an evidence store; `description` names it in reports (such as its path).
    pub fn new(store: EvidenceStore, description: impl Into<String>) -> Self {
        let evidence = Arc::new(Evidence::Store(store));
        LocalBackend { evidence, description: description.into(), lookup_dir: None }
    }

    /// Lets `| lookup NAME` read `NAME` (or `NAME.csv`) from `dir`, such as
    /// the evidence folder. Over an index this replaces the index's own
    /// lookup folder, which contains the tables of the folders it ingested.
    pub fn with_lookup_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.lookup_dir = Some(dir.into());
        self
    }

    /// Wraps a persistent evidence index; `description` names it in reports.
    pub fn with_index(index: EvidenceIndex, description: impl Into<String>) -> Self {
        let evidence = Arc::new(Evidence::Index(index));
        LocalBackend { evidence, description: description.into(), lookup_dir: None }
    }

    /// Runs one query synchronously.
    pub fn search_blocking(&self, query: &str) -> Result<SearchResults, SearchError> {
        run_query(&self.evidence, query, self.lookup_dir.clone())
    }
}

fn run_query(evidence: &Evidence, query: &str, lookup_dir: Option<PathBuf>) -> Result<SearchResults, SearchError> {
    let pipeline = spl::parse(query)?;
    let now = chrono::Utc::now().timestamp_micros();
    let rows = match evidence {
        Evidence::Store(store) => {
            let context = spl::RunContext { now, lookup_dir };
            spl::run_with(&pipeline, store.events(), &context)?
        }
        Evidence::Index(index) => {
            let lookup_dir = lookup_dir.or_else(|| index.lookup_dir());
            index.search_with(&pipeline, &spl::RunContext { now, lookup_dir })?
        }
    };
    Ok(SearchResults { rows, messages: Vec::new() })
}

#[async_trait]
impl SearchBackend for LocalBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "local".into(), description: format!("local evidence ({})", self.description) }
    }

    async fn search(&self, spl: &str) -> Result<SearchResults, SearchError> {
        spl::guard::check(spl).map_err(SearchError::Refused)?;
        let evidence = Arc::clone(&self.evidence);
        let query = spl.to_string();
        let lookup_dir = self.lookup_dir.clone();
        tokio::task::spawn_blocking(move || run_query(&evidence, &query, lookup_dir))
            .await
            .map_err(|e| SearchError::Unavailable(format!("search task failed: {e}")))?
    }

    async fn schema(&self) -> Result<Schema, SearchError> {
        let evidence = Arc::clone(&self.evidence);
        let schema = tokio::task::spawn_blocking(move || match evidence.as_ref() {
            Evidence::Store(store) => schema_of(store),
            Evidence::Index(index) => index.schema(),
        });
        schema
            .await
            .map_err(|e| SearchError::Unavailable(format!("schema task failed: {e}")))
    }
}

/// Summarises the store: indexes, sourcetypes with their top fields, hosts, time range.
pub fn schema_of(store: &EvidenceStore) -> Schema {
    let mut indexes = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut sourcetypes: BTreeMap<&str, (u64, BTreeMap<&str, u64>)> = BTreeMap::new();
    let mut range: Option<(i64, i64)> = None;
    for event in store.events() {
        indexes.insert(event.index.as_str());
        hosts.insert(event.host.as_str());
        let entry = sourcetypes.entry(event.sourcetype.as_str()).or_default();
        entry.0 += 1;
        for name in event.fields.keys() {
            *entry.1.entry(name.as_str()).or_default() += 1;
        }
        range = Some(range.map_or((event.time, event.time), |(lo, hi)| (lo.min(event.time), hi.max(event.time))));
    }
    let sourcetypes = sourcetypes
        .into_iter()
        .map(|(name, (count, fields))| {
            let mut fields: Vec<(&str, u64)> = fields.into_iter().collect();
            fields.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            SourcetypeSummary {
                sourcetype: name.to_string(),
                event_count: count,
                fields: fields.into_iter().take(TOP_FIELDS).map(|(f, _)| f.to_string()).collect(),
            }
        })
        .collect();
    Schema {
        indexes: indexes.into_iter().map(str::to_string).collect(),
        sourcetypes,
        hosts: hosts.into_iter().map(str::to_string).collect(),
        event_count: store.events().len() as u64,
        time_range: range,
    }
}
