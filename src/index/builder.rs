//! Builds a [`Segment`] while a file is parsed: the parsers hand each event's
//! record and default fields to [`SegmentBuilder`], which appends them to the
//! columns and posting lists at once. No [`crate::event::Event`] is built and
//! no field other than the default ones is read, which is what makes index
//! ingest faster than filling the in-memory store.

use rustc_hash::FxHashMap;

use super::postings::PostingsBuilder;
use super::segment::{Defaults, FileEntry, Segment};
use crate::event::TimestampMicros;
use crate::evidence::{EventHead, EventSink, Fields, FileRead, RecordReader};

/// The columns of a segment being built, in event order.
#[derive(Default)]
pub(crate) struct SegmentBuilder {
    /// Every record, one after another.
    text: String,
    /// End offset in `text` of each event's record.
    ends: Vec<u64>,
    times: Vec<TimestampMicros>,
    /// Index into the defaults table for each event.
    default_ids: Vec<u32>,
    table: DefaultsTable,
    postings: PostingsBuilder,
}

impl SegmentBuilder {
    /// Creates a builder with room for a file of `file_bytes` bytes, so the
    /// record text is not reallocated while it grows.
    pub fn with_capacity(file_bytes: usize) -> Self {
        SegmentBuilder {
            text: String::with_capacity(file_bytes),
            ..SegmentBuilder::default()
        }
    }

    /// Finishes the segment of `file`, read as `read` says.
    pub fn finish(self, file: FileEntry, read: FileRead) -> Segment {
        let reader = RecordReader::new(read.format, read.csv_header.as_deref());
        Segment {
            file,
            format: read.format,
            csv_header: read.csv_header,
            text: self.text,
            ends: self.ends,
            times: self.times,
            default_ids: self.default_ids,
            defaults: self.table.entries,
            postings: self.postings.finish(),
            reader,
        }
    }
}

impl EventSink for SegmentBuilder {
    const WANTS_FIELDS: bool = false;

    fn push(&mut self, record: &str, head: EventHead<'_>, _fields: impl FnOnce() -> Fields) {
        let number = self.times.len() as u32;
        self.text.push_str(record);
        self.ends.push(self.text.len() as u64);
        self.times.push(head.time);
        let id = self.table.intern(&head);
        self.default_ids.push(id);
        self.postings.add_event(number, &head.raw);
    }

    fn set_time(&mut self, number: usize, time: TimestampMicros) {
        self.times[number] = time;
    }

    fn len(&self) -> usize {
        self.times.len()
    }
}

/// The distinct default-field combinations seen while building a segment.
#[derive(Default)]
struct DefaultsTable {
    entries: Vec<Defaults>,
    /// Combination numbers by their fields joined with NUL bytes.
    lookup: FxHashMap<String, u32>,
    /// A reusable buffer for lookup keys, so that a lookup allocates nothing.
    key: String,
    /// The previous event's number, because consecutive events of a file
    /// often share their defaults.
    last: Option<u32>,
}

impl DefaultsTable {
    /// Returns the table number of an event's default fields, adding them
    /// when new.
    fn intern(&mut self, head: &EventHead) -> u32 {
        let parts = [&head.host, &head.source, &head.sourcetype, &head.index];
        if let Some(id) = self.last {
            let previous = &self.entries[id as usize];
            let same = previous.host == *parts[0]
                && previous.source == *parts[1]
                && previous.sourcetype == *parts[2]
                && previous.index == *parts[3];
            if same {
                return id;
            }
        }
        self.key.clear();
        for part in parts {
            self.key.push_str(part);
            self.key.push('\0');
        }
        let id = match self.lookup.get(self.key.as_str()) {
            Some(&id) => id,
            None => {
                let id = self.entries.len() as u32;
                self.entries.push(Defaults {
                    host: head.host.to_string(),
                    source: head.source.to_string(),
                    sourcetype: head.sourcetype.to_string(),
                    index: head.index.to_string(),
                });
                self.lookup.insert(self.key.clone(), id);
                id
            }
        };
        self.last = Some(id);
        id
    }
}
