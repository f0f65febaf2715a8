//! One document of a snapshot file: a List (kubectl's `List` or a typed one such as `NodeList`), a
//! bare array of objects, or a single object. Each item becomes a typed object as soon as it has
//! been read, so the untyped tree of a whole file is never held in memory at once.
//!
//! There are two passes over the same text. The fast one types each item straight from the input
//! once its leading `apiVersion` and `kind` are known. Only if it fails, the detailed one reads each
//! item into a `serde_json::Value` first: slower, but it can name the failing field and read a
//! number where Kubernetes wants text.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::events::v1 as events;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Deserialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};

use super::field_path;
use super::sieve::{self, Object};
use crate::snapshot::Snapshot;

/// The objects a snapshot keeps, and a tally of the kinds it skipped.
#[derive(Debug, Default)]
pub(crate) struct Objects {
    pub snapshot: Snapshot,
    /// Kind → how many objects of that kind were skipped (Service, ConfigMap, ...).
    pub skipped: BTreeMap<String, usize>,
}

impl Objects {
    pub fn append(&mut self, other: Objects) {
        self.snapshot.append(other.snapshot);
        self.add_skipped(other.skipped);
    }

    /// Adds the tally of another reading to this one's.
    pub fn add_skipped(&mut self, skipped: BTreeMap<String, usize>) {
        for (kind, n) in skipped {
            *self.skipped.entry(kind).or_default() += n;
        }
    }

    pub fn kept(&self) -> usize {
        let s = &self.snapshot;
        s.nodes.len() + s.daemonsets.len() + s.pods.len() + s.revisions.len() + s.events.len()
    }

    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    pub(super) fn skip(&mut self, api_version: Option<&str>, kind: &str) {
        let label = match api_version {
            Some(v) if v != "v1" => format!("{kind} ({v})"),
            _ => kind.to_owned(),
        };
        *self.skipped.entry(label).or_default() += 1;
    }

    /// Types an object straight from the input; [`Item`] has already read `kind` and `apiVersion`.
    fn add_from<'de, A: MapAccess<'de>>(&mut self, target: Target, rest: Rest<A>) -> Result<(), A::Error> {
        let input = de::value::MapAccessDeserializer::new(rest);
        self.push(match target {
            Target::Node => Object::Node(Deserialize::deserialize(input)?),
            Target::DaemonSet => Object::DaemonSet(Deserialize::deserialize(input)?),
            Target::Pod => Object::Pod(Deserialize::deserialize(input)?),
            Target::ControllerRevision => Object::Revision(Deserialize::deserialize(input)?),
            Target::Event => Object::Event(Deserialize::deserialize(input)?),
            Target::EventsEvent => Object::Event(core_event(Deserialize::deserialize(input)?)),
        });
        Ok(())
    }

    /// Keeps a typed object, unless the reading's sieve drops it (see `sieve`).
    fn push(&mut self, object: Object) {
        let Some(object) = sieve::sift(object) else {
            return;
        };
        let s = &mut self.snapshot;
        match object {
            Object::Node(o) => s.nodes.push(o),
            Object::DaemonSet(o) => s.daemonsets.push(o),
            Object::Pod(o) => s.pods.push(o),
            Object::Revision(o) => s.revisions.push(o),
            Object::Event(o) => s.events.push(o),
        }
    }

    /// Turns one untyped object into a typed one, or counts it as skipped.
    fn add(&mut self, place: Place, value: Value, list: &ListHeader) -> Result<(), String> {
        let Value::Object(mut fields) = value else {
            return Err(format!("{place} is {}, not an object", type_name(&value)));
        };
        let api_version = match fields.remove("apiVersion") {
            None | Some(Value::Null) => list.item_api_version().map(str::to_owned),
            Some(Value::String(v)) => Some(v),
            Some(other) => {
                return Err(format!(
                    "{place}: `apiVersion` is {}, not a string",
                    type_name(&other)
                ));
            }
        };
        let kind = match fields.remove("kind") {
            None | Some(Value::Null) => match list.item_kind() {
                Some(kind) => kind.to_owned(),
                None => {
                    return Err(format!(
                        "{place} has no `kind`, and the list around it does not say what it holds"
                    ));
                }
            },
            Some(Value::String(kind)) => kind,
            Some(other) => return Err(format!("{place}: `kind` is {}, not a string", type_name(&other))),
        };
        let Some(target) = Target::of(api_version.as_deref(), &kind) else {
            self.skip(api_version.as_deref(), &kind);
            return Ok(());
        };
        let value = Value::Object(fields);
        self.push(match target {
            Target::Node => Object::Node(typed(value, place, &kind)?),
            Target::DaemonSet => Object::DaemonSet(typed(value, place, &kind)?),
            Target::Pod => Object::Pod(typed(value, place, &kind)?),
            Target::ControllerRevision => Object::Revision(typed(value, place, &kind)?),
            Target::Event => Object::Event(typed(value, place, &kind)?),
            Target::EventsEvent => Object::Event(core_event(typed(value, place, &kind)?)),
        });
        Ok(())
    }
}

/// The kinds a snapshot keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Node,
    DaemonSet,
    Pod,
    ControllerRevision,
    /// core/v1 Event, what `kubectl get events` shows.
    Event,
    /// events.k8s.io Event, mapped onto the core one.
    EventsEvent,
}

impl Target {
    /// A missing apiVersion is accepted: typed lists from the API leave it out on their items.
    pub(super) fn of(api_version: Option<&str>, kind: &str) -> Option<Target> {
        let core = matches!(api_version, None | Some("v1"));
        let apps = matches!(api_version, None | Some("apps/v1"));
        match kind {
            "Node" if core => Some(Target::Node),
            "Pod" if core => Some(Target::Pod),
            "Event" if core => Some(Target::Event),
            "Event" if api_version.is_some_and(|v| v.starts_with("events.k8s.io/")) => {
                Some(Target::EventsEvent)
            }
            "DaemonSet" if apps => Some(Target::DaemonSet),
            "ControllerRevision" if apps => Some(Target::ControllerRevision),
            _ => None,
        }
    }
}

/// Deserializes an object whose `apiVersion` and `kind` were already checked and removed.
fn typed<T: DeserializeOwned>(mut value: Value, place: Place, kind: &str) -> Result<T, String> {
    // Kubernetes reads a number where it wants a string in some places (`cpu: 2` in hand-written
    // YAML); k8s-openapi does not. Only when typing fails: turn that scalar into text and retry.
    for _ in 0..MAX_COERCIONS {
        let (error, path) = match field_path::deserialize::<T>(&value) {
            Ok(object) => return Ok(object),
            Err(e) => e,
        };
        let wants_string = error.to_string().contains("expected a string");
        if wants_string
            && path
                .as_ref()
                .is_some_and(|p| field_path::scalar_to_string(&mut value, p))
        {
            continue;
        }
        let what = format!("{place} ({kind}{})", name_of(&value));
        return Err(match path {
            Some(path) => format!("{what} is not a valid {kind}: field `{path}`: {error}"),
            None => format!("{what} is not a valid {kind}: {error}"),
        });
    }
    Err(format!(
        "{place} ({kind}{}) has too many numbers where text is expected",
        name_of(&value)
    ))
}

/// How many scalars of one object [`typed`] turns into text before giving up.
const MAX_COERCIONS: usize = 32;

/// ` "namespace/name"`, ` "name"` or nothing; quoted and escaped, as it comes from the input.
fn name_of(value: &Value) -> String {
    let metadata = value.get("metadata");
    let field = |key| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (field("namespace"), field("name")) {
        (Some(ns), Some(name)) => format!(" {:?}", format!("{ns}/{name}")),
        (None, Some(name)) => format!(" {name:?}"),
        _ => String::new(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Maps an events.k8s.io Event onto the core/v1 Event the rest of the tool reads.
pub(super) fn core_event(e: events::Event) -> core::Event {
    let series_last = e.series.as_ref().map(|s| Time(s.last_observed_time.0));
    let event_time = e.event_time.as_ref().map(|t| Time(t.0));
    core::Event {
        metadata: e.metadata,
        involved_object: e.regarding.unwrap_or_default(),
        related: e.related,
        reason: e.reason,
        message: e.note,
        type_: e.type_,
        action: e.action,
        reporting_component: e.reporting_controller,
        reporting_instance: e.reporting_instance,
        source: e.deprecated_source,
        count: e.deprecated_count.or(e.series.as_ref().map(|s| s.count)),
        first_timestamp: e.deprecated_first_timestamp,
        last_timestamp: e.deprecated_last_timestamp.or(series_last).or(event_time),
        event_time: e.event_time,
        series: e.series.map(|s| core::EventSeries {
            count: Some(s.count),
            last_observed_time: Some(s.last_observed_time),
        }),
    }
}

/// Where an object sat in its document, for error messages.
#[derive(Debug, Clone, Copy)]
enum Place {
    Item(usize),
    Whole,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Item(i) => write!(f, "items[{i}]"),
            Place::Whole => f.write_str("the object"),
        }
    }
}

/// `kind` and `apiVersion` of the list around the items, as far as they are known.
#[derive(Debug, Default, Clone)]
pub(super) struct ListHeader {
    pub kind: Option<String>,
    pub api_version: Option<String>,
}

impl ListHeader {
    fn from_fields(fields: &Map<String, Value>) -> Self {
        let text = |key| fields.get(key).and_then(Value::as_str).map(str::to_owned);
        ListHeader {
            kind: text("kind"),
            api_version: text("apiVersion"),
        }
    }

    /// `Node` for a `NodeList`; nothing for kubectl's generic `List`.
    pub(super) fn item_kind(&self) -> Option<&str> {
        self.kind
            .as_deref()
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty())
    }

    /// The list's apiVersion is its items' only when the list is a typed one.
    pub(super) fn item_api_version(&self) -> Option<&str> {
        self.item_kind().and(self.api_version.as_deref())
    }
}

/// The objects read from one document; `DETAILED` chooses the pass (see the module comment).
#[derive(Debug, Default)]
pub(crate) struct Document<const DETAILED: bool>(pub Objects);

impl<'de, const DETAILED: bool> Deserialize<'de> for Document<DETAILED> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let objects = deserializer.deserialize_any(DocumentVisitor { detailed: DETAILED })?;
        Ok(Document(objects))
    }
}

struct DocumentVisitor {
    detailed: bool,
}

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Objects;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes object or a List of them")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Objects, A::Error> {
        let mut objects = Objects::default();
        let mut fields = Map::new();
        // Items that name no kind, waiting for the list's `kind` (kubectl sorts it after `items`).
        let mut pending = Vec::new();
        let mut is_list = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                if is_list {
                    return Err(de::Error::duplicate_field("items"));
                }
                is_list = true;
                let header = ListHeader::from_fields(&fields);
                map.next_value_seed(Items {
                    objects: &mut objects,
                    pending: &mut pending,
                    header: &header,
                    detailed: self.detailed,
                })?;
            } else {
                let value: Value = map.next_value()?;
                fields.insert(key, value);
            }
        }
        let header = ListHeader::from_fields(&fields);
        // A list without `items` is an empty one, not an object of kind `NodeList`.
        if is_list || header.kind.as_deref().is_some_and(|k| k.ends_with("List")) {
            for (index, item) in pending {
                objects
                    .add(Place::Item(index), item, &header)
                    .map_err(de::Error::custom)?;
            }
        } else {
            objects
                .add(Place::Whole, Value::Object(fields), &ListHeader::default())
                .map_err(de::Error::custom)?;
        }
        Ok(objects)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Objects, A::Error> {
        let mut objects = Objects::default();
        let mut pending = Vec::new();
        let header = ListHeader::default();
        Items {
            objects: &mut objects,
            pending: &mut pending,
            header: &header,
            detailed: self.detailed,
        }
        .visit_seq(seq)?;
        if let Some((index, item)) = pending.into_iter().next() {
            // No list header will come: report the first item without a kind.
            objects
                .add(Place::Item(index), item, &header)
                .map_err(de::Error::custom)?;
        }
        Ok(objects)
    }
}

/// The `items` of a list, typed one by one as they are read.
struct Items<'a> {
    objects: &'a mut Objects,
    pending: &'a mut Vec<(usize, Value)>,
    header: &'a ListHeader,
    detailed: bool,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`items` to be an array of objects")
    }

    // Go writes an empty typed list as `"items": null`.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let item = Item {
                index,
                objects: &mut *self.objects,
                pending: &mut *self.pending,
                header: self.header,
                detailed: self.detailed,
            };
            if seq.next_element_seed(item)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }
}

/// One item of a list. It is typed inside its own `deserialize_any`, so that an error is
/// reported at the item's position rather than at the end of the list.
struct Item<'a> {
    index: usize,
    objects: &'a mut Objects,
    pending: &'a mut Vec<(usize, Value)>,
    header: &'a ListHeader,
    detailed: bool,
}

impl<'de> DeserializeSeed<'de> for Item<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Item<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "items[{}] to be a Kubernetes object", self.index)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.detailed {
            let item = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
            let names_kind = item.get("kind").is_some_and(|k| !k.is_null());
            if !names_kind && self.header.item_kind().is_none() {
                self.pending.push((self.index, item));
                return Ok(());
            }
            return self
                .objects
                .add(Place::Item(self.index), item, self.header)
                .map_err(de::Error::custom);
        }
        // Keep what precedes `kind` (kubectl sorts keys, Go's typed lists put it first), then
        // hand the kept fields and the rest of the input to the typed deserializer.
        let mut kept: Vec<(String, Value)> = Vec::new();
        let mut kind: Option<String> = None;
        let mut api_version: Option<String> = None;
        let mut next_key = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "kind" => kind = map.next_value()?,
                "apiVersion" => api_version = map.next_value()?,
                _ if kind.is_some() || self.header.item_kind().is_some() => {
                    next_key = Some(key);
                    break;
                }
                _ => {
                    let value = map.next_value()?;
                    kept.push((key, value));
                }
            }
        }
        let Some(kind) = kind.or_else(|| self.header.item_kind().map(str::to_owned)) else {
            // The whole item was kept: wait for the list's `kind`.
            let mut fields: Map<String, Value> = kept.into_iter().collect();
            if let Some(v) = api_version {
                fields.insert("apiVersion".to_owned(), Value::String(v));
            }
            self.pending.push((self.index, Value::Object(fields)));
            return Ok(());
        };
        let api_version = api_version.or_else(|| self.header.item_api_version().map(str::to_owned));
        let rest = Rest {
            kept: kept.into_iter(),
            next_key,
            value: None,
            map,
        };
        match Target::of(api_version.as_deref(), &kind) {
            Some(target) => self.objects.add_from(target, rest),
            None => {
                self.objects.skip(api_version.as_deref(), &kind);
                de::IgnoredAny::deserialize(de::value::MapAccessDeserializer::new(rest))?;
                Ok(())
            }
        }
    }
}

/// The fields of an item that were read ahead, followed by the rest of the item in the input.
struct Rest<A> {
    kept: std::vec::IntoIter<(String, Value)>,
    /// A key read from the input whose value is still there.
    next_key: Option<String>,
    /// The value of the kept field whose key was just handed out.
    value: Option<Value>,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Rest<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if let Some((key, value)) = self.kept.next() {
            self.value = Some(value);
            return seed.deserialize(key.into_deserializer()).map(Some);
        }
        if let Some(key) = self.next_key.take() {
            return seed.deserialize(key.into_deserializer()).map(Some);
        }
        self.map.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value).map_err(de::Error::custom),
            None => self.map.next_value_seed(seed),
        }
    }
}
