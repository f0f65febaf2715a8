//! The fast reader for JSON snapshots, on serde's own walk.
//!
//! A snapshot of a 5,000-node cluster is a few hundred megabytes, most of it pods and events that a
//! given command cannot use. A file is mapped into memory (as ripgrep reads big files) rather than
//! read; serde_json walks it, and the `items` of each list come out one at a time as borrowed raw
//! JSON ([`RawValue`]). Each is skimmed ([`Skim`]: kind, namespace and name, owner, node, the
//! timestamps that date the snapshot); those the command keeps go to a second thread, which types
//! them while the walk goes on, skipping the fields nothing reads (`snapshot::unread`).
//! Behind the walk the mapped pages are given back to the system, so a big file is never
//! resident as a whole. Pods `status DS` may need later (those of its DaemonSet under another
//! name, the neighbours of its pending pods) are remembered as positions in the input and typed at
//! the end.
//!
//! Only the common shape is handled: JSON Lists and arrays whose items name their kind (or whose
//! list names it before them), each object once. Anything else (YAML, a single object, a repeated
//! object, an object that does not type, input that is not valid JSON) gives `None`, and the input
//! is read again by the thorough reader (`document`), which also words the error. The result is
//! what the thorough reader gives followed by [`Need::retain`]; the tests check that on every
//! fixture and on generated files.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::path::Path;
use std::sync::{Arc, mpsc};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::events::v1 as events;
use k8s_openapi::jiff::Timestamp;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;

use super::document::{ListHeader, Objects, Target, core_event};
use super::skim::{Skim, Str};
use super::{Need, is_failed_create, pending_nodes};
use crate::engine::pods::of_daemonsets;
use crate::snapshot::Snapshot;
use crate::snapshot::unread::{self, Scope, Shape};

/// The bytes of one input: a file mapped into memory, or bytes already read (standard input, or a
/// file that cannot be mapped).
pub(super) enum Bytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Bytes {
    /// Maps a file; an empty file or one that cannot be mapped (a pipe, a special file) is read.
    pub fn open(path: &Path) -> std::io::Result<Bytes> {
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        if size > 0 {
            // SAFETY: the map is only read. Were the file changed while it is read, the reader
            // would see other bytes (and report bad JSON), which is what reading it would give.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                #[cfg(unix)]
                let _ = map.advise(memmap2::Advice::Sequential);
                return Ok(Bytes::Mapped(map));
            }
        }
        std::fs::read(path).map(Bytes::Read)
    }

    /// Lets the system drop the pages of `range` from memory; they are read from the file again
    /// if used once more. Bytes already read stay as they are.
    fn release(&self, range: Range<usize>) {
        #[cfg(unix)]
        if let Bytes::Mapped(map) = self {
            // SAFETY: a read-only private map of a file: dropped pages come back from the file,
            // unchanged, when they are read again.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, range.start, range.len())
            };
        }
        #[cfg(not(unix))]
        let _ = range;
    }
}

/// A reader of [`Bytes`] that gives back the pages it has read past (the YAML parser reads
/// through it into buffers of its own, so a big file is never resident as a whole).
pub(super) struct Reader<'a> {
    bytes: &'a Bytes,
    at: usize,
    released: usize,
}

impl Bytes {
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            bytes: self,
            at: 0,
            released: 0,
        }
    }
}

impl std::io::Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.bytes[self.at..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        if self.at - self.released >= RELEASE_EVERY {
            let end = self.at & !(PAGE - 1);
            self.bytes.release(self.released..end);
            self.released = end;
        }
        Ok(n)
    }
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Read(bytes) => bytes,
        }
    }
}

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

/// Pages given back once this much of the input lies behind the walk.
const RELEASE_EVERY: usize = 512 << 10;

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

/// `status DS`: the pods kept by their controller's name, narrowed to the DaemonSets' uids (and
/// orphans, which the claim may adopt), plus those of the remembered pods that belong to the
/// DaemonSets by uid or are bound to a node where one of theirs is pending. In input order.
fn daemonset_pods(
    need: &Need,
    snapshot: &Snapshot,
    mut pods: Vec<Pod>,
    mut order: Vec<usize>,
    later: Vec<Later<'_>>,
) -> Fast<Vec<Pod>> {
    let owners = need.daemonset_uids(snapshot);
    let belongs = |p: &Pod| of_daemonsets(p, |u| owners.contains(u));
    // Pods are big: they are narrowed in place, never copied into new lists.
    let (theirs, others): (Vec<Later<'_>>, Vec<Later<'_>>) = later
        .into_iter()
        .partition(|l| l.owner.as_deref().is_some_and(|u| owners.contains(u)));
    let mut added = Vec::new();
    for l in theirs {
        added.push((l.sequence, typed_pod(l.raw, Some(Scope::Unread))?));
    }
    let own = pods
        .iter()
        .filter(|p| belongs(p))
        .chain(added.iter().map(|(_, p)| p));
    let pending = pending_nodes(own);
    // Kept by their controller's name but another DaemonSet's: neighbours all the same.
    let keep: Vec<bool> = pods
        .iter()
        .map(|p| belongs(p) || super::node_name(p).is_some_and(|n| pending.contains(n)))
        .collect();
    let mut flags = keep.iter();
    pods.retain(|_| flags.next().copied().unwrap_or(false));
    let mut flags = keep.iter();
    order.retain(|_| flags.next().copied().unwrap_or(false));
    if !pending.is_empty() {
        for l in others {
            if l.node.as_deref().is_some_and(|n| pending.contains(n)) {
                added.push((l.sequence, typed_pod(l.raw, Some(Scope::Unread))?));
            }
        }
    }
    if added.is_empty() {
        return Ok(pods);
    }
    // Rare: pods found at the end go where they stood in the input.
    let mut placed: Vec<(usize, Pod)> = order.into_iter().zip(pods).chain(added).collect();
    placed.sort_by_key(|(sequence, _)| *sequence);
    Ok(placed.into_iter().map(|(_, p)| p).collect())
}

/// A pod passed over that `status DS` may still need: where it is, its DaemonSet's uid, its node.
/// The uid and node are copied: reading them from the input later would bring its pages back.
struct Later<'a> {
    sequence: usize,
    raw: &'a RawValue,
    owner: Option<String>,
    node: Option<String>,
}

/// Kept items on their way to be typed, in input order.
#[derive(Default)]
struct Batch<'a> {
    items: Vec<Entry<'a>>,
    /// The size of the items in the input.
    bytes: usize,
    /// Input the walk is done with: once these items are typed, its pages can go.
    release: Option<(&'a Bytes, Range<usize>)>,
}

/// One kept item of a batch.
struct Entry<'a> {
    raw: &'a RawValue,
    target: Target,
    /// Its position in the input (the pods' order is kept by it).
    sequence: usize,
    /// An events.k8s.io event is kept only if it is a DaemonSet's FailedCreate, which is known
    /// once it is mapped onto a core event.
    only_failed_create: bool,
}

/// What the typist made of the batches.
#[derive(Default)]
struct Typed {
    snapshot: Snapshot,
    /// The input position of each pod kept, in order.
    pod_order: Vec<usize>,
    /// The newest timestamp of the events.k8s.io events typed but not kept.
    newest_passed: Option<Timestamp>,
}

/// Types the items of every batch, in the order they were read, and hands the emptied batches
/// back (freeing and allocating big blocks anew costs more than typing them).
fn type_batches<'a>(
    receiver: mpsc::Receiver<Batch<'a>>,
    recycle: mpsc::Sender<Batch<'a>>,
    scope: Option<Scope>,
) -> Fast<Typed> {
    let mut typed = Typed::default();
    let s = &mut typed.snapshot;
    for mut batch in receiver {
        for Entry {
            raw,
            target,
            sequence,
            only_failed_create,
        } in batch.items.drain(..)
        {
            match target {
                Target::Node => {
                    let mut node = typed_item(raw, target, scope)?;
                    unread::shrink_node(&mut node);
                    s.nodes.push(node);
                }
                Target::DaemonSet => s.daemonsets.push(typed_item(raw, target, scope)?),
                Target::Pod => {
                    s.pods.push(typed_pod(raw, scope)?);
                    typed.pod_order.push(sequence);
                }
                Target::ControllerRevision => s.revisions.push(typed_item(raw, target, scope)?),
                Target::Event => s.events.push(typed_item(raw, target, scope)?),
                Target::EventsEvent => {
                    let event = core_event(typed_item::<events::Event>(raw, target, scope)?);
                    if !only_failed_create || is_failed_create(&event) {
                        s.events.push(event);
                    } else {
                        let one = Snapshot {
                            events: vec![event],
                            ..Snapshot::default()
                        };
                        typed.newest_passed = typed.newest_passed.max(one.newest_timestamp());
                    }
                }
            }
        }
        batch.bytes = 0;
        // Released by the typist, behind both the walk and the typing: the items it types are
        // read from the input, and a page read again after its release would stay.
        if let Some((input, range)) = batch.release.take() {
            input.release(range);
        }
        // The walk may have finished already.
        let _ = recycle.send(batch);
    }
    Ok(typed)
}

/// Types one item, leaving out what `scope` says (nothing for `Need::Everything`).
fn typed_item<T: DeserializeOwned>(raw: &RawValue, target: Target, scope: Option<Scope>) -> Fast<T> {
    let bytes = raw.get().as_bytes();
    let typed = match scope {
        None => serde_json::from_slice(bytes),
        Some(scope) => {
            let shape = match target {
                Target::Node => Shape::Node,
                Target::Pod => Shape::Pod,
                _ => Shape::Other,
            };
            unread::from_slice(bytes, shape, scope)
        }
    };
    typed.map_err(unusual)
}

/// Types one pod (see [`typed_item`]), its lists without spare room.
fn typed_pod(raw: &RawValue, scope: Option<Scope>) -> Fast<Pod> {
    let mut pod = typed_item(raw, Target::Pod, scope)?;
    unread::shrink_pod(&mut pod);
    Ok(pod)
}

/// What the typist leaves out for a command: the fields nothing reads, unless the command wants
/// everything as it is.
fn scope_for(need: &Need) -> Option<Scope> {
    (*need != Need::Everything).then_some(Scope::Unread)
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

/// The sorter: skims each item and keeps it (for the typist), remembers it, or passes it over.
struct Sorter<'a, 'n> {
    need: &'n Need,
    /// The tally of the kinds passed over.
    skipped: Objects,
    /// Hashes of (collection, namespace, name) of every object read: one seen twice ends this
    /// reader (the thorough one keeps the last copy).
    seen: HashSet<u64>,
    /// The newest timestamp of the objects passed over (they date the snapshot too).
    newest_passed: Option<Timestamp>,
    /// Pods passed over that `status DS` may need at the end.
    later: Vec<Later<'a>>,
    /// The position of the next item across all inputs.
    sequence: usize,
    batch: Batch<'a>,
    sender: mpsc::SyncSender<Batch<'a>>,
    /// Batches the typist is done with.
    recycled: mpsc::Receiver<Batch<'a>>,
    /// Whether an item was kept since input was last given back.
    kept_since_release: bool,
}

/// What the sorter found besides the items it kept.
struct Sorted<'a> {
    skipped: Objects,
    newest_passed: Option<Timestamp>,
    later: Vec<Later<'a>>,
}

impl<'a> Sorter<'a, '_> {
    /// Sorts the batches of the walk, handing the emptied ones back.
    fn run(mut self, splits: mpsc::Receiver<Split<'a>>, back: mpsc::Sender<Split<'a>>) -> Fast<Sorted<'a>> {
        for mut split in splits {
            for (raw, header) in split.items.drain(..) {
                self.item(raw, &header)?;
            }
            split.bytes = 0;
            if let Some((input, range)) = split.release.take() {
                if std::mem::take(&mut self.kept_since_release) {
                    // Given back once the typist is done with the items kept in it.
                    self.batch.release = Some((input, range));
                    self.flush()?;
                } else {
                    // Nothing in it waits to be typed.
                    input.release(range);
                }
            }
            // The walk may have finished already.
            let _ = back.send(split);
        }
        let Sorter {
            skipped,
            newest_passed,
            later,
            batch,
            sender,
            ..
        } = self;
        // A failed send means the typist stopped on an error, which its result gives.
        let _ = sender.send(batch);
        Ok(Sorted {
            skipped,
            newest_passed,
            later,
        })
    }

    /// One item of a list: skimmed, then kept (for the typist), remembered, or passed.
    fn item(&mut self, raw: &'a RawValue, header: &ListHeader) -> Fast<()> {
        let sequence = self.sequence;
        self.sequence += 1;
        let skim: Skim<'a> = serde_json::from_str(raw.get()).map_err(unusual)?;
        let api_version = skim.api_version().or(header.item_api_version());
        let Some(kind) = skim.kind().or(header.item_kind()) else {
            return Err(unusual(
                "an item without a kind, or a list that names it after its items",
            ));
        };
        let Some(target) = Target::of(api_version, kind) else {
            self.skipped.skip(api_version, kind);
            return Ok(());
        };
        if let Some(name) = skim.name().filter(|n| !n.is_empty())
            && !self
                .seen
                .insert(hash_of(&(collection(target), skim.namespace(), name)))
        {
            return Err(unusual("an object is there twice"));
        }
        let need = self.need;
        let keep = match target {
            Target::Node | Target::DaemonSet | Target::ControllerRevision | Target::EventsEvent => true,
            Target::Event => *need == Need::Everything || skim.is_failed_create(),
            Target::Pod => match need {
                Need::Everything => true,
                Need::Node(node) => skim.target_node() == Some(node.as_str()),
                // An orphan may be adopted: the claim decides, by labels.
                Need::DaemonSet { .. } => {
                    skim.daemonset_owner()
                        .is_some_and(|(name, _)| need.names_daemonset(skim.namespace(), name))
                        || skim.is_orphan()
                }
            },
        };
        if keep {
            return self.keep(raw, target, sequence);
        }
        self.newest_passed = self.newest_passed.max(skim.newest(target));
        if target == Target::Pod && matches!(need, Need::DaemonSet { .. }) {
            self.later.push(Later {
                sequence,
                raw,
                owner: skim.daemonset_owner().map(|(_, uid)| uid.to_owned()),
                node: skim.node_name().map(str::to_owned),
            });
        }
        Ok(())
    }

    /// Hands a kept item to the typist, a batch at a time.
    fn keep(&mut self, raw: &'a RawValue, target: Target, sequence: usize) -> Fast<()> {
        self.kept_since_release = true;
        let batch = &mut self.batch;
        batch.items.push(Entry {
            raw,
            target,
            sequence,
            only_failed_create: *self.need != Need::Everything,
        });
        batch.bytes += raw.get().len();
        if batch.bytes < BATCH_BYTES {
            return Ok(());
        }
        self.flush()
    }

    /// Hands the batch to the typist.
    fn flush(&mut self) -> Fast<()> {
        let empty = self.recycled.try_recv().unwrap_or_default();
        let full = std::mem::replace(&mut self.batch, empty);
        self.sender
            .send(full)
            .map_err(|_| unusual("the typing thread stopped"))
    }
}

/// Objects of these kinds are one object when they share a namespace and a name.
fn collection(target: Target) -> u8 {
    match target {
        Target::Node => 0,
        Target::DaemonSet => 1,
        Target::Pod => 2,
        Target::ControllerRevision => 3,
        Target::Event | Target::EventsEvent => 4,
    }
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
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

/// Pages are released in whole pages of this size (a multiple of every system's page size).
pub(super) const PAGE: usize = 64 << 10;
