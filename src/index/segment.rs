//! One indexed evidence file: its records in one text arena, the columns a
//! search reads without parsing (time and the default fields), and the posting lists
//! of its `_raw` tokens.
//!
//! Events are numbered in file order. The default fields of an event are
//! stored as one number per event, pointing into a table of distinct
//! (host, source, sourcetype, index) combinations, because a file usually
//! has only a few.

use super::codec::{Reader, Writer};
use super::postings::{Posting, Postings};
use super::IndexError;
use crate::event::{Event, TimestampMicros};
use crate::evidence::{RecordFormat, RecordReader};
use crate::spl::terms::{Requirement, ValueTest};

/// The version written in every segment file; files of another version are
/// ingested again.
const FORMAT_VERSION: u64 = 1;

/// The file a segment was built from, as it was when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The path as given to the ingest, also each event's default `source`.
    pub path: String,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when unknown).
    pub modified_nanos: i128,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

/// The default field values shared by a run of events.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Defaults {
    pub host: String,
    pub source: String,
    pub sourcetype: String,
    pub index: String,
}

impl Defaults {
    /// Returns a default field by its SPL name.
    pub fn get(&self, name: &str) -> Option<&str> {
        match name {
            "host" => Some(&self.host),
            "source" => Some(&self.source),
            "sourcetype" => Some(&self.sourcetype),
            "index" => Some(&self.index),
            _ => None,
        }
    }
}

/// One indexed file.
pub struct Segment {
    pub file: FileEntry,
    pub format: RecordFormat,
    pub csv_header: Option<String>,
    /// Every record, one after another.
    pub(super) text: String,
    /// End offset in `text` of each event's record.
    pub(super) ends: Vec<u64>,
    pub times: Vec<TimestampMicros>,
    /// Index into `defaults` for each event.
    pub(super) default_ids: Vec<u32>,
    pub defaults: Vec<Defaults>,
    pub(super) postings: Postings,
    /// Parses records again; built once per segment.
    pub(super) reader: RecordReader,
}

/// Events of one segment that may match, ascending; `None` means all.
pub type Candidates = Option<Vec<u32>>;

impl Segment {
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// The default fields of event `number`.
    pub fn defaults_of(&self, number: u32) -> &Defaults {
        &self.defaults[self.default_ids[number as usize] as usize]
    }

    pub fn default_id(&self, number: u32) -> u32 {
        self.default_ids[number as usize]
    }

    /// Parses event `number` from its record, with the stored time.
    pub fn event(&self, number: u32) -> Option<Event> {
        let index = number as usize;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1] as usize,
        };
        let record = &self.text[start..self.ends[index] as usize];
        let mut event = self.reader.read(record, &self.file.path)?;
        event.time = self.times[index];
        Some(event)
    }

    /// Returns the events that meet `requirement`, a superset of those
    /// matching the search it came from.
    pub fn candidates(&self, requirement: &Requirement) -> Candidates {
        match requirement {
            Requirement::Any => None,
            Requirement::Token(token) => {
                Some(self.postings.get(token).map(Posting::events).unwrap_or_default())
            }
            Requirement::All(items) => self.all_of(items),
            Requirement::AnyOf(items) => {
                let mut union: Vec<u32> = Vec::new();
                for item in items {
                    union = merge_union(&union, &self.candidates(item)?);
                }
                Some(union)
            }
            filter => Some(self.filter((0..self.len() as u32).collect(), filter)),
        }
    }

    /// Intersects token lists first, smallest first, then applies field and
    /// time filters to the survivors only.
    fn all_of(&self, items: &[Requirement]) -> Candidates {
        let (filters, mut sets): (Vec<&Requirement>, Vec<&Requirement>) = items
            .iter()
            .partition(|r| matches!(r, Requirement::Field { .. } | Requirement::TimeAtLeast(_)
                | Requirement::TimeBefore(_)));
        sets.sort_by_key(|r| self.estimate(r));
        let mut result: Candidates = None;
        for item in sets {
            let Some(found) = self.candidates(item) else { continue };
            result = Some(match result {
                None => found,
                Some(current) => intersect(&current, &found),
            });
            if result.as_ref().is_some_and(Vec::is_empty) {
                return result;
            }
        }
        if filters.is_empty() {
            return result;
        }
        let mut ids = result.unwrap_or_else(|| (0..self.len() as u32).collect());
        for filter in filters {
            ids = self.filter(ids, filter);
        }
        Some(ids)
    }

    /// An upper bound on the candidates of a requirement, to order intersections.
    fn estimate(&self, requirement: &Requirement) -> usize {
        match requirement {
            Requirement::Token(token) => {
                self.postings.get(token).map_or(0, |p| p.count as usize)
            }
            Requirement::All(items) => {
                items.iter().map(|i| self.estimate(i)).min().unwrap_or(self.len())
            }
            _ => self.len(),
        }
    }

    /// Keeps the events whose columns pass a field or time requirement.
    fn filter(&self, ids: Vec<u32>, requirement: &Requirement) -> Vec<u32> {
        match requirement {
            Requirement::Field { name, test, negated } => {
                let passing = self.passing_defaults(name, test, *negated);
                ids.into_iter()
                    .filter(|&id| passing[self.default_ids[id as usize] as usize])
                    .collect()
            }
            Requirement::TimeAtLeast(bound) => {
                ids.into_iter().filter(|&id| self.times[id as usize] >= *bound).collect()
            }
            Requirement::TimeBefore(bound) => {
                ids.into_iter().filter(|&id| self.times[id as usize] < *bound).collect()
            }
            _ => ids,
        }
    }

    /// For each default combination, whether its field passes the test.
    fn passing_defaults(&self, name: &str, test: &ValueTest, negated: bool) -> Vec<bool> {
        self.defaults
            .iter()
            .map(|d| d.get(name).is_some_and(|value| test.test(value) != negated))
            .collect()
    }

    /// Writes the segment: columns and postings first, then the record text
    /// (last, so that loading can reuse the file buffer for it), then the
    /// CRC-32 of all of it. The text is streamed rather than copied.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut head = Writer::default();
        head.bytes.extend_from_slice(super::SEGMENT_MAGIC);
        head.varint(FORMAT_VERSION);
        encode_file(&mut head, &self.file);
        head.text(self.format_name());
        head.text(self.csv_header.as_deref().unwrap_or(""));
        head.varint(self.defaults.len() as u64);
        for d in &self.defaults {
            for value in [&d.host, &d.source, &d.sourcetype, &d.index] {
                head.text(value);
            }
        }
        head.varint(self.len() as u64);
        let mut previous = (0u64, 0i64);
        for index in 0..self.len() {
            head.varint(self.ends[index] - previous.0);
            head.signed(self.times[index].wrapping_sub(previous.1));
            head.varint(u64::from(self.default_ids[index]));
            previous = (self.ends[index], self.times[index]);
        }
        let mut terms: Vec<(&Box<str>, &Posting)> = self.postings.lists.iter().collect();
        terms.sort_unstable_by(|a, b| a.0.cmp(b.0));
        head.varint(terms.len() as u64);
        for (token, posting) in terms {
            head.text(token);
            head.varint(u64::from(posting.count));
            head.bytes(&posting.bytes);
        }
        head.varint(self.text.len() as u64);

        let mut checksum = crc32fast::Hasher::new();
        checksum.update(&head.bytes);
        checksum.update(self.text.as_bytes());
        out.write_all(&head.bytes)?;
        out.write_all(self.text.as_bytes())?;
        out.write_all(&checksum.finalize().to_le_bytes())
    }

    fn format_name(&self) -> &'static str {
        match self.format {
            RecordFormat::Syslog => "syslog",
            RecordFormat::JsonLines => "jsonl",
            RecordFormat::SplunkCsv => "csv",
            RecordFormat::Evtx => "evtx",
        }
    }

    /// Decodes a segment file read whole into `bytes`.
    pub fn decode(mut bytes: Vec<u8>, path: &str) -> Result<Segment, IndexError> {
        let (mut segment, text_range) = {
            let mut input = Reader::verified(&bytes, path)?;
            check_magic(&mut input, &bytes, path)?;
            let segment = decode_columns(&mut input, path)?;
            let text = input.bytes()?;
            if !input.is_done() {
                return Err(IndexError::Corrupt {
                    path: path.into(),
                    reason: "unexpected bytes after the record text".into(),
                });
            }
            let start = text.as_ptr() as usize - bytes.as_ptr() as usize;
            (segment, start..start + text.len())
        };
        // Reuse the file buffer for the text instead of copying it.
        bytes.truncate(text_range.end);
        bytes.drain(..text_range.start);
        segment.text = String::from_utf8(bytes).map_err(|_| IndexError::Corrupt {
            path: path.into(),
            reason: "record text is not UTF-8".into(),
        })?;
        if segment.ends.last().copied().unwrap_or(0) as usize != segment.text.len() {
            return Err(IndexError::Corrupt {
                path: path.into(),
                reason: "record offsets do not match the text".into(),
            });
        }
        Ok(segment)
    }
}

fn encode_file(out: &mut Writer, file: &FileEntry) {
    out.text(&file.path);
    out.varint(file.size);
    out.signed(file.modified_nanos as i64);
    out.bytes(&file.sha256);
}

fn check_magic(input: &mut Reader, bytes: &[u8], path: &str) -> Result<(), IndexError> {
    let magic = super::SEGMENT_MAGIC;
    if !bytes.starts_with(magic) {
        return Err(IndexError::Corrupt {
            path: path.into(),
            reason: "not an index segment".into(),
        });
    }
    input.at = magic.len();
    let version = input.varint()?;
    if version != FORMAT_VERSION {
        return Err(IndexError::Corrupt {
            path: path.into(),
            reason: format!("segment version {version}, expected {FORMAT_VERSION}"),
        });
    }
    Ok(())
}

fn decode_columns(input: &mut Reader, path: &str) -> Result<Segment, IndexError> {
    let corrupt = |reason: &str| IndexError::Corrupt {
        path: path.into(),
        reason: reason.to_string(),
    };
    let file = FileEntry {
        path: input.text()?.to_string(),
        size: input.varint()?,
        modified_nanos: i128::from(input.signed()?),
        sha256: input.bytes()?.try_into().map_err(|_| corrupt("hash is not 32 bytes"))?,
    };
    let format = match input.text()? {
        "syslog" => RecordFormat::Syslog,
        "jsonl" => RecordFormat::JsonLines,
        "csv" => RecordFormat::SplunkCsv,
        "evtx" => RecordFormat::Evtx,
        other => return Err(corrupt(&format!("unknown record format {other:?}"))),
    };
    let csv_header = Some(input.text()?.to_string()).filter(|h| !h.is_empty());

    let mut defaults = Vec::new();
    for _ in 0..input.varint()? {
        let mut next = || input.text().map(str::to_string);
        defaults.push(Defaults { host: next()?, source: next()?, sourcetype: next()?, index: next()? });
    }
    let count = input.varint()? as usize;
    let mut ends = Vec::with_capacity(count);
    let mut times = Vec::with_capacity(count);
    let mut default_ids = Vec::with_capacity(count);
    let mut previous = (0u64, 0i64);
    for _ in 0..count {
        let end = previous.0 + input.varint()?;
        let time = previous.1.wrapping_add(input.signed()?);
        let id = input.u32()?;
        if id as usize >= defaults.len() {
            return Err(corrupt("default field id out of range"));
        }
        ends.push(end);
        times.push(time);
        default_ids.push(id);
        previous = (end, time);
    }
    let mut postings = Postings::default();
    let terms = input.varint()? as usize;
    postings.lists.reserve(terms);
    for _ in 0..terms {
        let token: Box<str> = input.text()?.into();
        let count = input.u32()?;
        let bytes = input.bytes()?.to_vec();
        postings.lists.insert(token, Posting::from_parts(bytes, count));
    }
    let reader = RecordReader::new(format, csv_header.as_deref());
    Ok(Segment {
        file,
        format,
        csv_header,
        text: String::new(),
        ends,
        times,
        default_ids,
        defaults,
        postings,
        reader,
    })
}

/// Intersects two ascending lists.
fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    let mut from = 0;
    for &id in small {
        match large[from..].binary_search(&id) {
            Ok(at) => {
                out.push(id);
                from += at + 1;
            }
            Err(at) => from += at,
        }
        if from >= large.len() {
            break;
        }
    }
    out
}

/// Merges two ascending lists without duplicates.
fn merge_union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersect_and_union_lists() {
        assert_eq!(intersect(&[1, 3, 5, 9], &[2, 3, 9, 10]), vec![3, 9]);
        assert_eq!(intersect(&[], &[1]), Vec::<u32>::new());
        assert_eq!(merge_union(&[1, 4], &[2, 4, 6]), vec![1, 2, 4, 6]);
    }
}
