//! Flattening of one EVTX record's JSON rendering into event fields, in one
//! streaming pass.
//!
//! A serde visitor walks the JSON text that the `evtx` crate renders and
//! inserts each field as it reads it. So no `serde_json::Value` tree is built
//! and dropped per record, and keys without escapes are borrowed from the
//! text instead of copied.
//!
//! Precedence does not depend on the order of the JSON members: when two
//! elements share a name, the `System` one is kept, then `EventData`, then
//! `UserData`, each in document order. Records put `System` first and carry
//! only one of the data elements (the Windows event schema fixes both), so
//! one pass suffices. A record that has the sections in another order is
//! read again once per section, in precedence order.

use std::borrow::Cow;
use std::fmt;
use std::hash::BuildHasher;

use indexmap::map::raw_entry_v1::{RawEntryApiV1, RawEntryMut};
use indexmap::IndexMap;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::event::Value;

pub(super) type Fields = IndexMap<String, Value>;

/// The fields that an event needs for its time and default fields (`host`
/// and `sourcetype`).
pub(super) const DEFAULT_SOURCES: &[&str] = &["TimeCreated", "Computer", "Channel"];

/// Parses a record's JSON rendering and flattens its `System`, `EventData`
/// and `UserData` elements into fields. `EventCode` repeats `EventID`.
pub(super) fn record_fields(json: &str) -> Result<Fields, serde_json::Error> {
    flatten(json, Target { fields: IndexMap::with_capacity(32), keep: None })
}

/// Parses a record's JSON rendering like [`record_fields`], keeping only
/// the fields named in `keep`. Other values are skipped without being
/// copied or hashed.
pub(super) fn record_fields_only(
    json: &str,
    keep: &'static [&'static str],
) -> Result<Fields, serde_json::Error> {
    flatten(json, Target { fields: IndexMap::with_capacity(keep.len()), keep: Some(keep) })
}

fn flatten(json: &str, mut target: Target) -> Result<Fields, serde_json::Error> {
    let in_order = read_record(json, &mut target, None)?;
    if in_order {
        return Ok(target.fields);
    }
    target.fields.clear();
    for section in [Section::System, Section::EventData, Section::UserData] {
        read_record(json, &mut target, Some(section))?;
    }
    Ok(target.fields)
}

/// Reads the record once, taking only `only` when it is set. Returns false
/// when sections came out of precedence order and `only` was unset, in which
/// case the fields are incomplete.
fn read_record(json: &str, target: &mut Target, only: Option<Section>) -> serde_json::Result<bool> {
    let mut reader = serde_json::Deserializer::from_str(json);
    let visit = ObjectOnly(RecordVisit { target, only });
    let out_of_order = visit.deserialize(&mut reader)?;
    reader.end()?;
    Ok(!out_of_order)
}

/// The child elements of `Event` that become fields, in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    System,
    EventData,
    UserData,
}

impl Section {
    fn from_name(name: &str) -> Option<Section> {
        match name {
            "System" => Some(Section::System),
            "EventData" => Some(Section::EventData),
            "UserData" => Some(Section::UserData),
            _ => None,
        }
    }
}

/// The fields being filled, and the names to keep (all when `None`).
struct Target {
    fields: Fields,
    keep: Option<&'static [&'static str]>,
}

impl Target {
    fn keeps(&self, name: &str) -> bool {
        self.keep.is_none_or(|names| names.contains(&name))
    }

    /// Inserts `text` under `name` unless the name is taken or the value is null.
    fn put(&mut self, name: Cow<'_, str>, text: Option<String>) {
        let Some(text) = text else { return };
        self.insert_new(name, Value::Single(text));
    }

    /// Inserts `value` under `name` unless the name is taken, hashing the
    /// name once for both the lookup and the insert.
    fn insert_new(&mut self, name: Cow<'_, str>, value: Value) {
        let fields = &mut self.fields;
        let hash = fields.hasher().hash_one(name.as_ref());
        let entry = fields.raw_entry_mut_v1().from_key_hashed_nocheck(hash, name.as_ref());
        if let RawEntryMut::Vacant(entry) = entry {
            entry.insert_hashed_nocheck(hash, name.into_owned(), value);
        }
    }
}

/// An object member name, borrowed from the JSON text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object member name")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(text.to_string())))
            }
            fn visit_string<E>(self, text: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A scalar rendered as text, as `serde_json` displays it. Null, arrays and
/// objects give `None` and are skipped over.
struct Scalar(Option<String>);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, text: &str) -> Result<Scalar, E> {
        Ok(Scalar(Some(text.to_string())))
    }
    fn visit_string<E>(self, text: String) -> Result<Scalar, E> {
        Ok(Scalar(Some(text)))
    }
    fn visit_u64<E>(self, number: u64) -> Result<Scalar, E> {
        Ok(Scalar(Some(number.to_string())))
    }
    fn visit_i64<E>(self, number: i64) -> Result<Scalar, E> {
        Ok(Scalar(Some(number.to_string())))
    }
    fn visit_f64<E>(self, number: f64) -> Result<Scalar, E> {
        Ok(Scalar(float_text(number)))
    }
    fn visit_bool<E>(self, flag: bool) -> Result<Scalar, E> {
        Ok(Scalar(Some(flag.to_string())))
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar(None))
    }
}

/// Renders a float as `serde_json::Number` displays it, in the shortest form
/// that reads back to the same value (`1e+20`, where `f64`'s `Display` gives
/// `100000000000000000000`).
fn float_text(number: f64) -> Option<String> {
    serde_json::Number::from_f64(number).map(|n| n.to_string())
}

/// The members of one JSON object, read by a visitor that needs an object.
trait ObjectVisit<'de> {
    type Output: Default;
    fn visit<A: MapAccess<'de>>(self, map: A) -> Result<Self::Output, A::Error>;
}

/// Reads a JSON object with the inner visit, and skips a value of any other
/// type, which gives the visit's default output.
struct ObjectOnly<V>(V);

impl<'de, V: ObjectVisit<'de>> DeserializeSeed<'de> for ObjectOnly<V> {
    type Value = V::Output;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Output, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, V: ObjectVisit<'de>> Visitor<'de> for ObjectOnly<V> {
    type Value = V::Output;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Output, A::Error> {
        self.0.visit(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<V::Output, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(V::Output::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<V::Output, E> {
        Ok(V::Output::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<V::Output, E> {
        Ok(V::Output::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<V::Output, E> {
        Ok(V::Output::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<V::Output, E> {
        Ok(V::Output::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<V::Output, E> {
        Ok(V::Output::default())
    }
    fn visit_unit<E>(self) -> Result<V::Output, E> {
        Ok(V::Output::default())
    }
}

/// The top-level object: only its `Event` member carries fields. Returns
/// whether sections came out of precedence order.
struct RecordVisit<'f> {
    target: &'f mut Target,
    only: Option<Section>,
}

impl<'de> ObjectVisit<'de> for RecordVisit<'_> {
    type Output = bool;
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut out_of_order = false;
        while let Some(Key(name)) = map.next_key::<Key>()? {
            if name == "Event" {
                let event = EventVisit { target: &mut *self.target, only: self.only };
                out_of_order |= map.next_value_seed(ObjectOnly(event))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out_of_order)
    }
}

/// The `Event` element: its sections in precedence order, or only the one
/// section `only` names.
struct EventVisit<'f> {
    target: &'f mut Target,
    only: Option<Section>,
}

impl<'de> ObjectVisit<'de> for EventVisit<'_> {
    type Output = bool;
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut out_of_order = false;
        // Sections at a lower rank than this come after a later one.
        let mut next_rank = 0;
        while let Some(Key(name)) = map.next_key::<Key>()? {
            let Some(section) = Section::from_name(&name) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let selected = match self.only {
                Some(only) => section == only,
                None => (section as u8) >= next_rank,
            };
            if !selected {
                out_of_order |= self.only.is_none();
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if section == Section::System {
                map.next_value_seed(ObjectOnly(SystemVisit(&mut *self.target)))?;
                copy_event_code(&mut self.target.fields);
            } else {
                map.next_value_seed(ObjectOnly(DataVisit(&mut *self.target)))?;
            }
            next_rank = section as u8 + 1;
        }
        Ok(out_of_order)
    }
}

/// Sets `EventCode` to the `EventID` the `System` element gave, because
/// Splunk's `WinEventLog` sourcetypes and the queries written for them use
/// that name.
fn copy_event_code(fields: &mut Fields) {
    if let Some(id) = fields.get("EventID").cloned() {
        fields.insert("EventCode".to_string(), id);
    }
}

/// The `System` children: elements by name, and attributes (under the
/// crate's `<element>_attributes` members) by their own name, except
/// `Provider/@Name` (as `Provider`), `Provider/@Guid` (as `ProviderGuid`)
/// and `TimeCreated/@SystemTime` (as `TimeCreated`).
struct SystemVisit<'f>(&'f mut Target);

impl<'de> ObjectVisit<'de> for SystemVisit<'_> {
    type Output = ();
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key::<Key>()? {
            match name.strip_suffix("_attributes") {
                Some(element) => {
                    let attributes = AttributesVisit { target: &mut *self.0, element };
                    map.next_value_seed(ObjectOnly(attributes))?;
                }
                None if self.0.keeps(&name) => {
                    let Scalar(text) = map.next_value()?;
                    self.0.put(name, text);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The attributes of one `System` child element.
struct AttributesVisit<'f, 'n> {
    target: &'f mut Target,
    element: &'n str,
}

impl<'de> ObjectVisit<'de> for AttributesVisit<'_, '_> {
    type Output = ();
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(attribute)) = map.next_key::<Key>()? {
            let field = match (self.element, attribute.as_ref()) {
                ("Provider", "Name") => Cow::Borrowed("Provider"),
                ("Provider", "Guid") => Cow::Borrowed("ProviderGuid"),
                ("TimeCreated", "SystemTime") => Cow::Borrowed("TimeCreated"),
                _ => attribute,
            };
            if self.target.keeps(&field) {
                let Scalar(text) = map.next_value()?;
                self.target.put(field, text);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Event data: named values by name, nested elements (`UserData`) by their
/// leaf names, arrays (unnamed `Data` elements) as multivalue fields.
/// Attribute members are skipped, because they carry XML namespaces and
/// template names.
struct DataVisit<'f>(&'f mut Target);

impl<'de> ObjectVisit<'de> for DataVisit<'_> {
    type Output = ();
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key::<Key>()? {
            if name.ends_with("_attributes") {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            map.next_value_seed(DataValue { target: &mut *self.0, name })?;
        }
        Ok(())
    }
}

/// One event data member named `name`: a scalar, a nested element or an
/// array of values.
struct DataValue<'f, 'k> {
    target: &'f mut Target,
    name: Cow<'k, str>,
}

impl<'de> DeserializeSeed<'de> for DataValue<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataValue<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event data value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        DataVisit(self.target).visit(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if !self.target.keeps(&self.name) {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let mut values = Vec::new();
        while let Some(Scalar(text)) = seq.next_element()? {
            values.extend(text);
        }
        if !values.is_empty() {
            self.target.insert_new(self.name, Value::Multi(values));
        }
        Ok(())
    }
    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        self.put(|| Some(text.to_string()))
    }
    fn visit_string<E>(self, text: String) -> Result<(), E> {
        self.put(|| Some(text))
    }
    fn visit_u64<E>(self, number: u64) -> Result<(), E> {
        self.put(|| Some(number.to_string()))
    }
    fn visit_i64<E>(self, number: i64) -> Result<(), E> {
        self.put(|| Some(number.to_string()))
    }
    fn visit_f64<E>(self, number: f64) -> Result<(), E> {
        self.put(|| float_text(number))
    }
    fn visit_bool<E>(self, flag: bool) -> Result<(), E> {
        self.put(|| Some(flag.to_string()))
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

impl DataValue<'_, '_> {
    /// Inserts the scalar that `text` renders, when the field is kept.
    fn put<E>(self, text: impl FnOnce() -> Option<String>) -> Result<(), E> {
        if self.target.keeps(&self.name) {
            self.target.put(self.name, text());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(fields: &Fields) -> Vec<&str> {
        fields.keys().map(String::as_str).collect()
    }

    fn text<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
        fields.get(name).and_then(Value::first)
    }

    #[test]
    fn system_wins_when_it_comes_last() {
        let json = r#"{"Event": {
            "EventData": {"Computer": "forged", "Image": "a.exe"},
            "System": {"EventID": 1, "Computer": "pc1"}
        }}"#;
        let fields = record_fields(json).unwrap();
        assert_eq!(text(&fields, "Computer"), Some("pc1"));
        assert_eq!(text(&fields, "Image"), Some("a.exe"));
        assert_eq!(names(&fields), ["EventID", "Computer", "EventCode", "Image"]);
    }

    #[test]
    fn event_data_wins_over_earlier_user_data() {
        let json = r#"{"Event": {
            "System": {"Channel": "Security"},
            "UserData": {"Rule": {"User": "from-user-data", "Extra": "x"}},
            "EventData": {"User": "from-event-data"}
        }}"#;
        let fields = record_fields(json).unwrap();
        assert_eq!(text(&fields, "User"), Some("from-event-data"));
        assert_eq!(names(&fields), ["Channel", "User", "Extra"]);
    }

    #[test]
    fn first_member_of_a_name_is_kept() {
        let json = r#"{"Event": {"System": {"Level": 4},
            "EventData": {"Level": 9, "Name": "a", "Nested": {"Name": "b"}}}}"#;
        let fields = record_fields(json).unwrap();
        assert_eq!(text(&fields, "Level"), Some("4"));
        assert_eq!(text(&fields, "Name"), Some("a"));
    }

    #[test]
    fn scalars_render_as_serde_json_does() {
        let json = r#"{"Event": {"EventData": {
            "Big": 1e20, "Ratio": 0.5, "Negative": -3, "Flag": true, "Empty": null,
            "Text": "tab\there"
        }}}"#;
        let fields = record_fields(json).unwrap();
        // serde_json 1.0 prints large floats with an explicit exponent sign.
        assert_eq!(text(&fields, "Big"), Some("1e+20"));
        let tree: serde_json::Value = serde_json::from_str("1e20").unwrap();
        assert_eq!(text(&fields, "Big"), Some(tree.to_string().as_str()));
        assert_eq!(text(&fields, "Ratio"), Some("0.5"));
        assert_eq!(text(&fields, "Negative"), Some("-3"));
        assert_eq!(text(&fields, "Flag"), Some("true"));
        assert_eq!(text(&fields, "Text"), Some("tab\there"));
        assert!(!fields.contains_key("Empty"));
    }

    #[test]
    fn escaped_member_names_decode() {
        let json = r#"{"Event": {"EventData": {"Caf\u00e9": "yes"}}}"#;
        let fields = record_fields(json).unwrap();
        assert_eq!(text(&fields, "Café"), Some("yes"));
    }

    #[test]
    fn arrays_keep_scalars_only() {
        let json = r#"{"Event": {"EventData": {"Data": ["a", null, 2, {"x": 1}, ["y"]]}}}"#;
        let fields = record_fields(json).unwrap();
        let expected = Value::Multi(vec!["a".to_string(), "2".to_string()]);
        assert_eq!(fields.get("Data"), Some(&expected));
    }

    #[test]
    fn non_object_event_gives_no_fields() {
        for json in [r#"{"Event": "text"}"#, r#"{"Event": [1, 2]}"#, "[1]", "null"] {
            let fields = record_fields(json).unwrap();
            assert!(fields.is_empty(), "{json}");
        }
    }

    #[test]
    fn system_objects_and_arrays_are_skipped() {
        let json = r#"{"Event": {"System": {"Security": {"UserID": "S-1"}, "List": [1],
            "Security_attributes": {"UserID": "S-1-5-18"}}}}"#;
        let fields = record_fields(json).unwrap();
        assert_eq!(names(&fields), ["UserID"]);
        assert_eq!(text(&fields, "UserID"), Some("S-1-5-18"));
    }

    #[test]
    fn kept_fields_follow_full_precedence() {
        let json = r#"{"Event": {
            "EventData": {"Computer": "forged", "Channel": ["from-data"], "Image": "a.exe"},
            "System": {"EventID": 1, "Computer": "pc1",
                       "TimeCreated_attributes": {"SystemTime": "2020-01-01T00:00:00Z"}}
        }}"#;
        let fields = record_fields_only(json, DEFAULT_SOURCES).unwrap();
        assert_eq!(names(&fields), ["Computer", "TimeCreated", "Channel"]);
        assert_eq!(text(&fields, "Computer"), Some("pc1"));
        assert_eq!(text(&fields, "TimeCreated"), Some("2020-01-01T00:00:00Z"));
        assert_eq!(fields.get("Channel"), Some(&Value::Multi(vec!["from-data".into()])));
    }

    #[test]
    fn kept_fields_equal_full_ones() {
        let json = r#"{"Event": {"System": {"Provider_attributes": {"Name": "P"},
            "EventID": 4624, "Channel": "Security", "Computer": "dc1",
            "TimeCreated_attributes": {"SystemTime": "2020-07-22T20:29:36Z"}},
            "EventData": {"TargetUserName": "alice"}}}"#;
        let all = record_fields(json).unwrap();
        let kept = record_fields_only(json, DEFAULT_SOURCES).unwrap();
        for name in DEFAULT_SOURCES {
            assert_eq!(kept.get(*name), all.get(*name), "{name}");
        }
        assert_eq!(kept.len(), DEFAULT_SOURCES.len());
    }

    #[test]
    fn invalid_json_fails() {
        assert!(record_fields(r#"{"Event": {"System": "#).is_err());
        assert!(record_fields(r#"{"Event": {}} trailing"#).is_err());
    }
}
