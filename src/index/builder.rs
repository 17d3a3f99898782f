//! Builds a [`Segment`] while a file is parsed: the parsers hand each event's
//! record and default fields to [`SegmentBuilder`], which appends them to the
//! columns and posting lists at once. No [`crate::event::Event`] is built and
//! no field other than the default ones is read, which is what makes index
//! ingest faster than filling the in-memory store.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::postings::PostingsBuilder;
use super::segment::{Defaults, FileEntry, Segment};
use crate::event::TimestampMicros;
use crate::evidence::{EventHead, EventSink, Fields, FileRead, RecordReader};

/// The columns of a segment being built, in event order.
#[derive(Default)]
pub(crate) struct SegmentBuilder {
    /// Byte range of each event's record in the parsed text.
    records: Vec<Range<usize>>,
    times: Vec<TimestampMicros>,
    /// Index into the defaults table for each event.
    default_ids: Vec<u32>,
    table: DefaultsTable,
    postings: PostingsBuilder,
}

impl SegmentBuilder {
    /// Finishes the segment of `file` from the format and text in `read`.
    pub fn finish(self, file: FileEntry, read: FileRead) -> Segment {
        let reader = RecordReader::new(read.format, read.csv_header.as_deref());
        let (text, ends) = compact_records(read.text, &self.records);
        Segment {
            file,
            format: read.format,
            csv_header: read.csv_header,
            text,
            ends,
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

    fn push(&mut self, record: Range<usize>, head: EventHead<'_>, _: impl FnOnce() -> Fields) {
        let number = self.times.len() as u32;
        self.records.push(record);
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

/// Puts the `records` of `text` one after another and returns that text
/// with the end offset of each record. Records in ascending order without
/// overlap (as every parser hands them) are moved to the start of the
/// file's own buffer, which saves allocating and faulting in a second
/// buffer of the file's size.
fn compact_records(text: String, records: &[Range<usize>]) -> (String, Vec<u64>) {
    let in_order = records.windows(2).all(|pair| pair[0].end <= pair[1].start);
    if !in_order {
        return copy_records(&text, records);
    }
    let mut bytes = text.into_bytes();
    let mut ends = Vec::with_capacity(records.len());
    let mut end = 0;
    for record in records {
        bytes.copy_within(record.clone(), end);
        end += record.len();
        ends.push(end as u64);
    }
    bytes.truncate(end);
    if bytes.len() < bytes.capacity() / 4 * 3 {
        bytes.shrink_to_fit();
    }
    // Each record was a `str` slice, so their concatenation is UTF-8 and the
    // lossy branch is never taken.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned());
    (text, ends)
}

fn copy_records(text: &str, records: &[Range<usize>]) -> (String, Vec<u64>) {
    let mut compact = String::with_capacity(records.iter().map(|r| r.len()).sum());
    let mut ends = Vec::with_capacity(records.len());
    for record in records {
        compact.push_str(&text[record.clone()]);
        ends.push(compact.len() as u64);
    }
    (compact, ends)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_records_drops_gaps() {
        // Bytes 0..2 are "a1" and 8..11 are "c33".
        let text = "a1\n\nbad\nc33\r\n".to_string();
        let (compact, ends) = compact_records(text, &[0..2, 8..11]);
        assert_eq!(compact, "a1c33");
        assert_eq!(ends, vec![2, 5]);
    }

    #[test]
    fn compact_records_copies_out_of_order() {
        let (compact, ends) = compact_records("xyz".to_string(), &[2..3, 0..2]);
        assert_eq!(compact, "zxy");
        assert_eq!(ends, vec![1, 3]);
    }
}
