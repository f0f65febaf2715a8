//! The fast reader for JSON snapshots, on serde's own walk.
//!
//! A snapshot of a 5,000-node cluster is a few hundred megabytes, most of it pods and events that a
//! given command cannot use. A file is mapped into memory (`bytes`) rather than read; serde_json
//! walks it, and the `items` of each list come out one at a time as borrowed raw JSON
//! ([`RawValue`]). Three threads share the work: the walk splits the items off; the sorter
//! (`sorter`) skims each ([`Skim`](super::skim::Skim): kind, namespace and name, owner, node, the
//! timestamps that date the snapshot) and keeps it, remembers it or passes it over; the typist
//! (`typist`) types what is kept, skipping the fields nothing reads (`snapshot::unread`).
//! Behind them the mapped pages are given back to the system, so a big file is never resident
//! as a whole. Pods `status DS` may need later (those of its DaemonSet under another name, the
//! neighbours of its pending pods) are remembered as positions in the input and typed at the end.
//!
//! Only the common shape is handled: JSON Lists and arrays whose items name their kind (or whose
//! list names it before them), each object once. Anything else (YAML, a single object, a repeated
//! object, an object that does not type, input that is not valid JSON) gives `None`, and the input
//! is read again by the thorough reader (`document`), which also words the error. The result is
//! what the thorough reader gives followed by [`Need::retain`]; the tests check that on every
//! fixture and on generated files.

mod sorter;
mod typist;

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, mpsc};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use self::sorter::{Sorted, Sorter, daemonset_pods};
use self::typist::{Batch, Typed, scope_for, type_batches};
use super::Need;
use super::bytes::{Bytes, PAGE, RELEASE_EVERY};
use super::document::{ListHeader, Objects};
use super::skim::Str;
use crate::snapshot::Snapshot;

/// Reads what `need` asks for from `inputs`, or gives `None` if the input is not of the shape this
/// reader handles (see the module comment).
pub(super) fn load(inputs: &[&Bytes], need: &Need, origin: &str) -> Option<Snapshot> {
    match read(inputs, need, RELEASE_EVERY) {
        Ok(snapshot) => Some(snapshot),
        Err(Unusual(why)) => {
            tracing::debug!("{origin}: {why}; reading it the thorough way");
            None
        }
    }
}

/// [`load`], giving pages back every `release_every` bytes (the tests release every page).
#[cfg(test)]
pub(super) fn load_releasing(inputs: &[&Bytes], need: &Need, release_every: usize) -> Option<Snapshot> {
    read(inputs, need, release_every).ok()
}

/// Why the fast reader gave up (for the debug log; the thorough reader words any error).
#[derive(Debug)]
struct Unusual(String);

type Fast<T> = std::result::Result<T, Unusual>;

fn unusual(why: impl fmt::Display) -> Unusual {
    Unusual(why.to_string())
}

/// A batch of kept items is handed to the typist once it holds this many bytes.
const BATCH_BYTES: usize = 256 << 10;

/// How many batches may wait for the typist: this bounds the memory held for it.
const QUEUED_BATCHES: usize = 4;

fn read(inputs: &[&Bytes], need: &Need, release_every: usize) -> Fast<Snapshot> {
    std::thread::scope(|threads| {
        let (to_typist, typist_in) = mpsc::sync_channel::<Batch<'_>>(QUEUED_BATCHES);
        let (typed_back, typed_recycled) = mpsc::channel::<Batch<'_>>();
        let (to_sorter, sorter_in) = mpsc::sync_channel::<Split<'_>>(QUEUED_BATCHES);
        let (sorted_back, sorted_recycled) = mpsc::channel::<Split<'_>>();
        let scope = scope_for(need);
        let typist = threads.spawn(move || type_batches(typist_in, typed_back, scope));
        let sorter = threads.spawn(move || {
            Sorter {
                need,
                skipped: Objects::default(),
                seen: HashSet::new(),
                newest_passed: None,
                later: Vec::new(),
                sequence: 0,
                batch: Batch::default(),
                sender: to_typist,
                recycled: typed_recycled,
                kept_since_release: false,
            }
            .run(sorter_in, sorted_back)
        });
        let mut walk = Walk {
            release_every,
            split: Split::default(),
            sender: to_sorter,
            recycled: sorted_recycled,
            failed: None,
        };
        let walked = inputs.iter().try_for_each(|input| walk.input(input));
        // A failed send means the sorter stopped on an error, which its result gives.
        let _ = walk.sender.send(std::mem::take(&mut walk.split));
        drop(walk);
        let sorted = sorter.join().map_err(|_| unusual("the sorting thread failed"));
        let typed = typist.join().map_err(|_| unusual("the typing thread failed"))?;
        // The typist's error first, then the sorter's: the stages before may only have stopped
        // because of them.
        let Typed {
            mut snapshot,
            pod_order,
            newest_passed: newest_typed,
        } = typed?;
        let Sorted {
            skipped,
            newest_passed,
            later,
        } = sorted??;
        walked?;
        if snapshot.nodes.is_empty() {
            return Err(unusual("no nodes"));
        }
        tracing::debug!(
            "kept {} nodes, {} DaemonSets, {} pods, {} ControllerRevisions, {} events; skipped {:?}",
            snapshot.nodes.len(),
            snapshot.daemonsets.len(),
            snapshot.pods.len(),
            snapshot.revisions.len(),
            snapshot.events.len(),
            skipped.skipped
        );
        snapshot.taken_at = snapshot.newest_timestamp().max(newest_passed).max(newest_typed);
        if let Need::DaemonSet { .. } = need {
            let kept = std::mem::take(&mut snapshot.pods);
            snapshot.pods = daemonset_pods(need, &snapshot, kept, pod_order, later)?;
        }
        Ok(snapshot)
    })
}

/// The walk through the input: it splits off the items of each list and hands them to the
/// sorter in batches.
struct Walk<'a> {
    /// Pages are given back once this much of the input lies behind the walk.
    release_every: usize,
    split: Split<'a>,
    sender: mpsc::SyncSender<Split<'a>>,
    /// Batches the sorter is done with.
    recycled: mpsc::Receiver<Split<'a>>,
    /// Why the walk stopped, when it was for a reason of its own rather than bad JSON.
    failed: Option<Unusual>,
}

/// Items split off by the walk, in input order, each with the list it came from.
#[derive(Default)]
struct Split<'a> {
    items: Vec<(&'a RawValue, Arc<ListHeader>)>,
    /// The size of the items in the input.
    bytes: usize,
    /// Input the walk is done with (see [`Batch::release`]).
    release: Option<(&'a Bytes, Range<usize>)>,
}

impl<'a> Walk<'a> {
    /// A stream of JSON documents, each a List or an array of objects.
    fn input(&mut self, input: &'a Bytes) -> Fast<()> {
        let mut bytes: &'a [u8] = input;
        bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => {}
            Some(_) => return Err(unusual("not JSON")),
            None => return Err(unusual("empty")),
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let mut released = 0;
        loop {
            let document = Document {
                walk: self,
                input,
                base: input.as_ptr() as usize,
                released: &mut released,
            };
            if let Err(e) = document.deserialize(&mut de) {
                return Err(self.failed.take().unwrap_or_else(|| unusual(e)));
            }
            if de.end().is_ok() {
                return Ok(());
            }
        }
    }

    /// Hands the split items to the sorter.
    fn flush(&mut self) -> Fast<()> {
        let empty = self.recycled.try_recv().unwrap_or_default();
        let full = std::mem::replace(&mut self.split, empty);
        self.sender
            .send(full)
            .map_err(|_| unusual("the sorting thread stopped"))
    }
}

/// One document of an input: a List (its `items` walked) or an array of objects.
struct Document<'w, 'a> {
    walk: &'w mut Walk<'a>,
    input: &'a Bytes,
    /// Where the input's bytes begin in memory, to tell how far the walk has come.
    base: usize,
    /// How much of the input has been given back.
    released: &'w mut usize,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Document<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Document<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a List or an array of objects")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut header = ListHeader::default();
        let mut has_items = false;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match &*key {
                "items" if has_items => return Err(de::Error::duplicate_field("items")),
                "items" => {
                    has_items = true;
                    map.next_value_seed(Items {
                        document: &mut self,
                        header: Arc::new(header.clone()),
                    })?;
                }
                "kind" => header.kind = text(map.next_value()?),
                "apiVersion" => header.api_version = text(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if has_items {
            Ok(())
        } else {
            Err(de::Error::custom("an object that is not a List"))
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<(), A::Error> {
        Items {
            document: &mut self,
            header: Arc::new(ListHeader::default()),
        }
        .visit_seq(seq)
    }
}

fn text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

/// The `items` of a list, handed to the walk one by one.
struct Items<'d, 'w, 'a> {
    document: &'d mut Document<'w, 'a>,
    header: Arc<ListHeader>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Items<'_, '_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Items<'_, '_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`items` to be an array of objects")
    }

    // Go writes an empty typed list as `"items": null`.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let d = self.document;
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            if let Err(why) = d.item(raw, &self.header) {
                d.walk.failed = Some(why);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

impl<'a> Document<'_, 'a> {
    /// Hands an item to the sorter; once enough of the input lies behind it, says that the typist
    /// may give it back.
    fn item(&mut self, raw: &'a RawValue, header: &Arc<ListHeader>) -> Fast<()> {
        let walk = &mut *self.walk;
        walk.split.items.push((raw, Arc::clone(header)));
        walk.split.bytes += raw.get().len();
        let walked = raw.get().as_ptr() as usize + raw.get().len() - self.base;
        if walked - *self.released >= walk.release_every {
            let end = walked & !(PAGE - 1);
            walk.split.release = Some((self.input, *self.released..end));
            *self.released = end;
            return walk.flush();
        }
        if walk.split.bytes >= BATCH_BYTES {
            return walk.flush();
        }
        Ok(())
    }
}
