//! The seam between the text parsers and what they fill.
//!
//! A parser hands each event to an [`EventSink`] as an [`EventHead`] (the
//! time and the default fields, borrowed from the file text where it can)
//! plus a closure that builds the other fields. [`EventList`] turns them
//! into [`Event`] values for the in-memory store. The persistent index has
//! its own sink that writes the head into its columns and never calls the
//! closure, so it pays for neither the field map nor the owned strings.
//! Both go through the same parser code.

use std::borrow::Cow;
use std::ops::Range;

use indexmap::IndexMap;

use crate::event::{Event, TimestampMicros, Value};

/// The fields of an event other than the default ones, in field order.
pub(crate) type Fields = IndexMap<String, Value>;

/// The time and default fields of one event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventHead<'a> {
    pub time: TimestampMicros,
    pub raw: Cow<'a, str>,
    pub host: Cow<'a, str>,
    pub source: Cow<'a, str>,
    pub sourcetype: Cow<'a, str>,
    pub index: Cow<'a, str>,
}

impl EventHead<'_> {
    /// Builds the owned event, moving the strings that are already owned.
    pub fn into_event(self, fields: Fields) -> Event {
        Event {
            time: self.time,
            raw: self.raw.into_owned(),
            host: self.host.into_owned(),
            source: self.source.into_owned(),
            sourcetype: self.sourcetype.into_owned(),
            index: self.index.into_owned(),
            fields,
        }
    }
}

/// A consumer of one file's events, in file order.
pub(crate) trait EventSink {
    /// Whether [`EventSink::push`] calls its `fields` closure. Parsers may
    /// skip the work of reading fields other than the default ones when it
    /// is false, so a sink that sets it false must never call the closure.
    const WANTS_FIELDS: bool;

    /// Adds one event. `record` is the byte range of the text the event came
    /// from, in the text being parsed, and `fields` builds its other fields.
    fn push(&mut self, record: Range<usize>, head: EventHead<'_>, fields: impl FnOnce() -> Fields);

    /// Sets the time of event `number` (counted from 0 in push order), for
    /// times that are known only once the whole file is read.
    fn set_time(&mut self, number: usize, time: TimestampMicros);

    /// Returns the number of events pushed so far.
    fn len(&self) -> usize;
}

/// Collects whole [`Event`] values and the byte range of each one's record.
#[derive(Default)]
pub(crate) struct EventList {
    pub events: Vec<Event>,
    pub spans: Vec<Range<usize>>,
}

impl EventList {
    pub fn with_capacity(capacity: usize) -> Self {
        EventList {
            events: Vec::with_capacity(capacity),
            spans: Vec::with_capacity(capacity),
        }
    }
}

impl EventSink for EventList {
    const WANTS_FIELDS: bool = true;

    fn push(&mut self, record: Range<usize>, head: EventHead<'_>, fields: impl FnOnce() -> Fields) {
        self.events.push(head.into_event(fields()));
        self.spans.push(record);
    }

    fn set_time(&mut self, number: usize, time: TimestampMicros) {
        self.events[number].time = time;
    }

    fn len(&self) -> usize {
        self.events.len()
    }
}

/// Hands already built events to `sink`, each with the byte range of its
/// record. Formats without a sink-aware parser (CSV, EVTX) reach a sink
/// this way.
pub(crate) fn forward_events(
    events: Vec<Event>,
    spans: Vec<Range<usize>>,
    sink: &mut impl EventSink,
) {
    for (event, span) in events.into_iter().zip(spans) {
        let head = EventHead {
            time: event.time,
            raw: Cow::Owned(event.raw),
            host: Cow::Owned(event.host),
            source: Cow::Owned(event.source),
            sourcetype: Cow::Owned(event.sourcetype),
            index: Cow::Owned(event.index),
        };
        let fields = event.fields;
        sink.push(span, head, || fields);
    }
}
