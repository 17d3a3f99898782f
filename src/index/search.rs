//! SPL over the index, and the schema summary for discover_schema.
//!
//! A query's first `search` command gives a requirement
//! ([`crate::spl::terms`]) that the posting lists and columns evaluate. The
//! events that meet it are parsed from their records, ordered newest first
//! and handed to the SPL engine, which applies the full query. When the
//! requirement is exact and the query only counts by default fields, the
//! count comes from the columns and no record is parsed.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::segment::Segment;
use super::EvidenceIndex;
use crate::event::{Event, Row, Value};
use crate::search::{Schema, SourcetypeSummary};
use crate::spl::terms::{self, CountByDefaults};
use crate::spl::{self, Pipeline, RunContext, SplError};

/// Number of field names listed per sourcetype in the schema.
const TOP_FIELDS: usize = 25;
/// Events parsed per sourcetype and file to find the schema's field names.
const SCHEMA_SAMPLE: usize = 200;

impl EvidenceIndex {
    /// Runs a parsed query over the index. `now` (microseconds since the
    /// epoch) resolves relative times.
    ///
    /// NOTE: every candidate event is parsed and held in memory while the
    /// query runs, so a query whose first `search` the index cannot narrow
    /// (such as `*` or a field other than host, source, sourcetype or index)
    /// parses all events and needs memory for all of them.
    pub fn search(&self, pipeline: &Pipeline, now: i64) -> Result<Vec<Row>, SplError> {
        let context = RunContext { now, lookup_dir: self.lookup_dir() };
        self.search_with(pipeline, &context)
    }

    /// Runs a parsed query like [`EvidenceIndex::search`], with the lookup
    /// folder `context` names in place of the index's own.
    pub fn search_with(&self, pipeline: &Pipeline, context: &RunContext) -> Result<Vec<Row>, SplError> {
        let now = context.now;
        let filter = terms::prefilter(pipeline, now);
        let candidates: Vec<Option<Vec<u32>>> = self
            .segments
            .iter()
            .map(|segment| segment.candidates(&filter.requirement))
            .collect();
        if filter.exact {
            if let Some(shape) = terms::count_by_defaults(pipeline) {
                return Ok(self.count_rows(&candidates, &shape));
            }
        }
        let events = self.materialize(&candidates);
        spl::run_with(pipeline, &events, context)
    }

    /// Parses the candidate events, newest first; ties keep ingest order.
    pub fn materialize(&self, candidates: &[Option<Vec<u32>>]) -> Vec<Event> {
        let mut keyed: Vec<(Reverse<i64>, usize, u32)> = Vec::new();
        for (at, (segment, ids)) in self.segments.iter().zip(candidates).enumerate() {
            match ids {
                Some(ids) => keyed.extend(ids.iter().map(|&id| key(segment, at, id))),
                None => keyed.extend((0..segment.len() as u32).map(|id| key(segment, at, id))),
            }
        }
        keyed.sort_unstable();
        keyed
            .into_iter()
            .filter_map(|(_, at, id)| self.segments[at].event(id))
            .collect()
    }

    /// Answers `stats count by <default fields>` from the columns, with the
    /// rows in the order and shape the SPL engine gives them.
    fn count_rows(&self, candidates: &[Option<Vec<u32>>], shape: &CountByDefaults) -> Vec<Row> {
        let mut groups: HashMap<Vec<&str>, u64> = HashMap::new();
        for (segment, ids) in self.segments.iter().zip(candidates) {
            let mut per_default = vec![0u64; segment.defaults.len()];
            match ids {
                Some(ids) => ids.iter().for_each(|&id| per_default[segment.default_id(id) as usize] += 1),
                None => (0..segment.len() as u32)
                    .for_each(|id| per_default[segment.default_id(id) as usize] += 1),
            }
            for (defaults, count) in segment.defaults.iter().zip(per_default) {
                if count == 0 {
                    continue;
                }
                let key: Vec<&str> = shape
                    .by
                    .iter()
                    .map(|field| defaults.get(field).unwrap_or_default())
                    .collect();
                *groups.entry(key).or_default() += count;
            }
        }
        if shape.by.is_empty() && groups.is_empty() {
            groups.insert(Vec::new(), 0);
        }
        let mut entries: Vec<(Vec<&str>, u64)> = groups.into_iter().collect();
        entries.sort_by(|(a, _), (b, _)| compare_keys(a, b));
        entries
            .into_iter()
            .map(|(key, count)| {
                let mut row = Row::new();
                for (field, value) in shape.by.iter().zip(key) {
                    row.insert(field.clone(), Value::Single(value.to_string()));
                }
                for output in &shape.outputs {
                    row.insert(output.clone(), Value::Single(count.to_string()));
                }
                row
            })
            .collect()
    }

    /// Summarises the index: indexes, hosts, time range and event counts
    /// from the columns, and each sourcetype's most frequent fields from a
    /// sample of up to 200 events per sourcetype and file.
    pub fn schema(&self) -> Schema {
        let mut indexes = BTreeSet::new();
        let mut hosts = BTreeSet::new();
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        let mut fields: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
        let mut range: Option<(i64, i64)> = None;
        for segment in &self.segments {
            let mut per_default = vec![0u64; segment.defaults.len()];
            for id in 0..segment.len() as u32 {
                per_default[segment.default_id(id) as usize] += 1;
            }
            for (defaults, count) in segment.defaults.iter().zip(&per_default) {
                indexes.insert(defaults.index.as_str());
                hosts.insert(defaults.host.as_str());
                *counts.entry(defaults.sourcetype.as_str()).or_default() += count;
            }
            if let (Some(lo), Some(hi)) = (segment.times.iter().min(), segment.times.iter().max()) {
                range = Some(range.map_or((*lo, *hi), |(a, b)| (a.min(*lo), b.max(*hi))));
            }
            sample_fields(segment, &mut fields);
        }
        let sourcetypes = counts
            .into_iter()
            .map(|(name, count)| SourcetypeSummary {
                sourcetype: name.to_string(),
                event_count: count,
                fields: top_fields(fields.remove(name).unwrap_or_default()),
            })
            .collect();
        Schema {
            indexes: indexes.into_iter().map(str::to_string).collect(),
            sourcetypes,
            hosts: hosts.into_iter().map(str::to_string).collect(),
            event_count: self.event_count() as u64,
            time_range: range,
        }
    }
}

fn key(segment: &Segment, at: usize, id: u32) -> (Reverse<i64>, usize, u32) {
    (Reverse(segment.times[id as usize]), at, id)
}

fn compare_keys(a: &[&str], b: &[&str]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| terms::compare_values(x, y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Counts field names over up to [`SCHEMA_SAMPLE`] events per sourcetype of
/// one segment, spread evenly over the file.
fn sample_fields<'s>(segment: &'s Segment, fields: &mut BTreeMap<&'s str, BTreeMap<String, u64>>) {
    let mut by_sourcetype: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for id in 0..segment.len() as u32 {
        by_sourcetype.entry(&segment.defaults_of(id).sourcetype).or_default().push(id);
    }
    for (sourcetype, ids) in by_sourcetype {
        let step = ids.len().div_ceil(SCHEMA_SAMPLE).max(1);
        let counts = fields.entry(sourcetype).or_default();
        for &id in ids.iter().step_by(step) {
            let Some(event) = segment.event(id) else { continue };
            for name in event.fields.keys() {
                *counts.entry(name.clone()).or_default() += 1;
            }
        }
    }
}

fn top_fields(counts: BTreeMap<String, u64>) -> Vec<String> {
    let mut fields: Vec<(String, u64)> = counts.into_iter().collect();
    fields.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    fields.into_iter().take(TOP_FIELDS).map(|(name, _)| name).collect()
}
