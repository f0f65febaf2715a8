//! The fast path for big JSON snapshots.
//!
//! A snapshot of a 5,000-node cluster is a few hundred megabytes, most of it pods and events that a
//! given command cannot use. Here the input is read in chunks, never whole; each item is first
//! skimmed (kind, namespace and name, the fields that tell whether the command can use it, and the
//! timestamps that date the snapshot) and typed only when it is kept, the fields nothing reads
//! (`managedFields`, a node's images, a pod's volumes and tolerations) blanked first. The result is what the thorough reader gives followed by [`Need::retain`]; the tests check
//! that on every fixture.
//!
//! Only the common shape is handled: JSON Lists and arrays whose items name their kind (or whose
//! list names it before them), each object once. Anything else (YAML, a single object, a repeated
//! object, an object that does not type, input that is not valid JSON) gives `None`, and the input
//! is read again the thorough way, which also words the error. Objects a command passes over are
//! checked as JSON but not typed: a malformed pod on another node does not stop `why-not`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::api::events::v1 as events;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::document::{ListHeader, Objects, Target, core_event};
use super::is_orphan_pod;
use super::{Need, bound_to_any, is_failed_create, is_failed_create_of, pending_nodes};
use crate::engine::verdict::controller_uid;
use crate::snapshot::Snapshot;

/// One input of a snapshot: a file, or standard input already read.
pub(in crate::snapshot) enum Input<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// Reads what `need` asks for from `inputs`, or gives `None` if the input is not of the shape this
/// path handles (see the module comment).
pub(super) fn load(inputs: &[Input<'_>], need: &Need, origin: &str) -> Option<Snapshot> {
    if *need == Need::Everything {
        return None;
    }
    match load_inputs(inputs, need, CHUNK, SPLIT_MIN) {
        Ok(snapshot) => Some(snapshot),
        Err(Unusual(why)) => {
            tracing::debug!("{origin}: {why}; reading it the thorough way");
            None
        }
    }
}

/// [`load`], reading `chunk` bytes at a time (the tests cut objects and characters in two) and
/// reading a single input in two halves whatever its size.
#[cfg(test)]
pub(super) fn load_in_chunks(inputs: &[Input<'_>], need: &Need, chunk: usize) -> Option<Snapshot> {
    load_inputs(inputs, need, chunk, 0).ok()
}

/// Whether [`load_in_chunks`] would read `input` in two halves, and where the second begins.
#[cfg(test)]
pub(super) fn halves_of(input: &Input<'_>, need: &Need) -> Option<u64> {
    let at = split_point(input, 0)?;
    let abandon = AtomicBool::new(false);
    let half = second_half(input, at, need, None, CHUNK, &abandon).ok()?;
    (half.end > at).then_some(at)
}

/// Why the fast path gave up (for the debug log; the thorough reader words any error).
struct Unusual(String);

type Fast<T> = std::result::Result<T, Unusual>;

fn unusual(why: impl std::fmt::Display) -> Unusual {
    Unusual(why.to_string())
}

/// `chunk`: how much to read at a time.
fn load_inputs(inputs: &[Input<'_>], need: &Need, chunk: usize, split_min: u64) -> Fast<Snapshot> {
    let Reading {
        objects,
        newest_passed,
        passed_owners,
        ..
    } = pass(inputs, need, None, chunk, split_min)?;
    let mut snapshot = objects.snapshot;
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
        objects.skipped
    );
    snapshot.taken_at = snapshot.newest_timestamp().max(newest_passed);
    if let Need::DaemonSet { .. } = need {
        // Pods were kept by their controller's name; the analysis goes by uid.
        let owners = need.daemonset_uids(&snapshot);
        if owners
            .iter()
            .any(|uid| passed_owners.contains(&hash_of(&uid.as_str())))
        {
            return Err(unusual(
                "a pod whose controller reference names another DaemonSet belongs to this one",
            ));
        }
        snapshot
            .pods
            .retain(|p| controller_uid(p).is_some_and(|u| owners.contains(u)) || is_orphan_pod(p));
        let pending = pending_nodes(snapshot.pods.iter());
        if !pending.is_empty() {
            // Their neighbours decide whether they fit: read the pods again, with those.
            let second = Second { owners, pending };
            snapshot.pods = pass(inputs, need, Some(&second), chunk, split_min)?
                .objects
                .snapshot
                .pods;
        }
    }
    Ok(snapshot)
}

/// What one reading of the inputs (or of a part of one) gives.
struct Reading {
    objects: Objects,
    /// The newest timestamp of the objects passed over (they date the snapshot too).
    newest_passed: Option<Timestamp>,
    /// Hashes of the DaemonSet controller uids of the pods passed over.
    passed_owners: HashSet<u64>,
    /// Hashes of the identities of the objects read (see [`Scan::seen`]).
    seen: HashSet<u64>,
}

/// Reads the inputs once. A single big input is read in two halves at once (the machine's cores
/// read about as fast as one each), and the items kept are typed on threads of their own while
/// the reading goes on.
fn pass(
    inputs: &[Input<'_>],
    need: &Need,
    second: Option<&Second>,
    chunk: usize,
    split_min: u64,
) -> Fast<Reading> {
    let at = match inputs {
        [input] => split_point(input, split_min),
        _ => None,
    };
    let abandon = AtomicBool::new(false);
    std::thread::scope(|threads| {
        let split = at.map(|at| {
            let (send, result) = mpsc::channel();
            let (input, abandon) = (&inputs[0], &abandon);
            threads.spawn(move || {
                // Nobody waits for the result if the first half passed the split by.
                let _ = send.send(second_half(input, at, need, second, chunk, abandon));
            });
            Split { at, result, abandon }
        });
        let read = with_typist(need, second, chunk, split, None, |scan| {
            inputs.iter().try_for_each(|input| scan.input(input))
        });
        abandon.store(true, Ordering::Relaxed);
        read.map(|(read, ())| read)
    })
}

/// The second half of a single input being read, by another thread.
struct Split<'a> {
    /// Where it begins: where an item of a list is expected to begin.
    at: u64,
    result: mpsc::Receiver<Fast<Half>>,
    /// Set when the first half found no item there: the second stops.
    abandon: &'a AtomicBool,
}

/// What the second half gave: its objects, and where its list ended.
struct Half {
    read: Reading,
    end: u64,
}

/// Reads the items of the list that go on at `at` up to the end of that list. Only useful if the
/// first half finds an item beginning at `at` too, which it checks.
fn second_half(
    input: &Input<'_>,
    at: u64,
    need: &Need,
    second: Option<&Second>,
    chunk: usize,
    abandon: &AtomicBool,
) -> Fast<Half> {
    fn rest<R: Read + Seek>(scan: &mut Scan<'_>, reader: R, at: u64, chunk: usize) -> Fast<u64> {
        let mut w = Window::new(reader, chunk);
        w.jump(at)?;
        // The second half cannot see the list's own `kind`: every item must name its own.
        scan.items(&mut w, &ListHeader::default())?;
        Ok(w.offset())
    }
    let (read, end) = with_typist(need, second, chunk, None, Some(abandon), |scan| match input {
        Input::Bytes(bytes) => rest(scan, Cursor::new(*bytes), at, chunk),
        Input::File(path) => rest(scan, File::open(path).map_err(unusual)?, at, chunk),
    })?;
    Ok(Half { read, end })
}

/// Inputs smaller than this are read in one piece.
const SPLIT_MIN: u64 = 4 << 20;

/// Where the second half of `input` begins: the first item of the top-level list found after the
/// middle. Only a list with a line break before each item is split (kubectl prints them so): a
/// raw line break is never inside a JSON string, so `},`, a line break and the indentation of the
/// list's first item, then `{`, stand between two items at that depth wherever they are found.
/// The first half checks that it is between two items of its list. None for small or compact
/// input.
fn split_point(input: &Input<'_>, split_min: u64) -> Option<u64> {
    let size = match input {
        Input::Bytes(bytes) => bytes.len() as u64,
        Input::File(path) => std::fs::metadata(path).ok()?.len(),
    };
    if size < split_min.max(1) {
        return None;
    }
    let head = read_at(input, 0, 64 << 10)?;
    let gap = gap_before_first_item(&head)?;
    let pattern = [b"},", gap, b"{"].concat();
    let middle = size / 2;
    let near = read_at(input, middle, 1 << 20)?;
    let found = near
        .windows(pattern.len())
        .position(|w| w == pattern.as_slice())?;
    Some(middle + (found + pattern.len() - 1) as u64)
}

/// The white space between the `[` of the first `items` and its first item, if it holds a line
/// break.
fn gap_before_first_item(head: &[u8]) -> Option<&[u8]> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
    let skip = |b: &[u8]| -> usize { b.iter().take_while(|c| is_space(c)).count() };
    let key = head.windows(7).position(|w| w == b"\"items\"")?;
    let mut rest = &head[key + 7..];
    rest = rest[skip(rest)..].strip_prefix(b":")?;
    rest = rest[skip(rest)..].strip_prefix(b"[")?;
    let gap = &rest[..skip(rest)];
    (rest.get(gap.len()) == Some(&b'{') && gap.contains(&b'\n')).then_some(gap)
}

/// Up to `len` bytes of `input` from `offset`.
fn read_at<'i>(input: &Input<'i>, offset: u64, len: usize) -> Option<Cow<'i, [u8]>> {
    match input {
        Input::Bytes(bytes) => {
            let start = usize::try_from(offset).ok()?.min(bytes.len());
            let end = start.saturating_add(len).min(bytes.len());
            Some(Cow::Borrowed(&bytes[start..end]))
        }
        Input::File(path) => {
            let mut file = File::open(path).ok()?;
            file.seek(SeekFrom::Start(offset)).ok()?;
            let mut buf = Vec::with_capacity(len);
            file.take(len as u64).read_to_end(&mut buf).ok()?;
            Some(Cow::Owned(buf))
        }
    }
}

/// Runs `body` on a new [`Scan`] whose kept items a second thread types; gives what was read, the
/// typed objects in it, and what `body` gave.
fn with_typist<'a, T>(
    need: &'a Need,
    second: Option<&'a Second>,
    chunk: usize,
    split: Option<Split<'a>>,
    abandon: Option<&'a AtomicBool>,
    body: impl FnOnce(&mut Scan<'a>) -> Fast<T>,
) -> Fast<(Reading, T)> {
    std::thread::scope(|threads| {
        let (sender, receiver) = mpsc::sync_channel::<Work>(QUEUED_BATCHES);
        let (recycle, recycled) = mpsc::channel::<Batch>();
        let typist = threads.spawn(move || type_batches(receiver, recycle));
        let mut scan = Scan::new(need, second, chunk, sender, recycled);
        scan.split = split;
        scan.abandon = abandon;
        let out = body(&mut scan);
        let Scan {
            mut objects,
            newest_passed,
            passed_owners,
            seen,
            batch,
            sender,
            ..
        } = scan;
        // A failed send means the typist stopped on an error, which its result gives.
        let _ = sender.send(Work::Items(batch));
        drop(sender);
        let typed = typist.join().map_err(|_| unusual("the typing thread failed"))?;
        // The typist's error first: the reader may only have stopped because of it.
        let typed = typed?;
        let out = out?;
        objects.snapshot = typed.snapshot;
        let read = Reading {
            objects,
            newest_passed: newest_passed.max(typed.newest_passed),
            passed_owners,
            seen,
        };
        Ok((read, out))
    })
}

/// How many batches may wait for the typist: this bounds the memory held for it.
const QUEUED_BATCHES: usize = 4;

/// A batch is sent once it holds this many bytes of items.
const BATCH_BYTES: usize = 256 << 10;

/// What the typist is given, in the order of the input.
enum Work {
    Items(Batch),
    /// The objects of the second half, typed already.
    Typed(Snapshot),
}

/// Kept items on their way to be typed: their bytes, one after the other.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    items: Vec<(Target, Range<usize>)>,
}

/// What the typist made of the batches.
#[derive(Default)]
struct Typed {
    snapshot: Snapshot,
    newest_passed: Option<Timestamp>,
}

/// Types the items of every batch, in the order they were read, and hands the emptied batches
/// back (freeing and allocating them anew costs more than typing them: big blocks are mapped
/// and unmapped, and every unmapping stops the other thread).
fn type_batches(receiver: mpsc::Receiver<Work>, recycle: mpsc::Sender<Batch>) -> Fast<Typed> {
    let mut typed = Typed::default();
    let s = &mut typed.snapshot;
    for work in receiver {
        let mut batch = match work {
            Work::Items(batch) => batch,
            Work::Typed(other) => {
                s.append(other);
                continue;
            }
        };
        for (target, range) in batch.items.drain(..) {
            let bytes = &batch.bytes[range];
            match target {
                Target::Node => s.nodes.push(self::typed(bytes)?),
                Target::DaemonSet => s.daemonsets.push(self::typed(bytes)?),
                Target::Pod => s.pods.push(self::typed(bytes)?),
                Target::ControllerRevision => s.revisions.push(self::typed(bytes)?),
                Target::Event => s.events.push(self::typed(bytes)?),
                Target::EventsEvent => {
                    let event = core_event(self::typed::<events::Event>(bytes)?);
                    if is_failed_create(&event) {
                        s.events.push(event);
                    } else {
                        let newest = one_event_newest(event);
                        typed.newest_passed = typed.newest_passed.max(newest);
                    }
                }
            }
        }
        batch.bytes.clear();
        // The reader may have finished already.
        let _ = recycle.send(batch);
    }
    Ok(typed)
}

/// The second reading of the pods for `status DS`, once the DaemonSet's pending pods are known.
struct Second {
    owners: HashSet<String>,
    pending: HashSet<String>,
}

/// What has been read so far.
struct Scan<'a> {
    need: &'a Need,
    second: Option<&'a Second>,
    chunk: usize,
    objects: Objects,
    /// Hashes of (kind, namespace, name) of every object read: one seen twice ends this path
    /// (the thorough reader keeps the last copy).
    seen: HashSet<u64>,
    /// The newest timestamp of the objects passed over (they date the snapshot too).
    newest_passed: Option<Timestamp>,
    /// Hashes of the DaemonSet controller uids of the pods passed over.
    passed_owners: HashSet<u64>,
    /// Kept items not yet sent to the typist.
    batch: Batch,
    sender: mpsc::SyncSender<Work>,
    /// Batches the typist is done with.
    recycled: mpsc::Receiver<Batch>,
    /// For the first half of an input read in two: where the second begins.
    split: Option<Split<'a>>,
    /// For the second half: set when it is of no use.
    abandon: Option<&'a AtomicBool>,
}

impl<'a> Scan<'a> {
    fn new(
        need: &'a Need,
        second: Option<&'a Second>,
        chunk: usize,
        sender: mpsc::SyncSender<Work>,
        recycled: mpsc::Receiver<Batch>,
    ) -> Self {
        Scan {
            need,
            second,
            chunk,
            objects: Objects::default(),
            seen: HashSet::new(),
            newest_passed: None,
            passed_owners: HashSet::new(),
            batch: Batch::default(),
            sender,
            recycled,
            split: None,
            abandon: None,
        }
    }

    fn input(&mut self, input: &Input<'_>) -> Fast<()> {
        match input {
            Input::Bytes(bytes) => self.documents(&mut Window::new(Cursor::new(*bytes), self.chunk)),
            Input::File(path) => {
                let file = File::open(path).map_err(unusual)?;
                self.documents(&mut Window::new(file, self.chunk))
            }
        }
    }

    /// A stream of JSON documents, each a List or an array of objects.
    fn documents<R: Read + Seek>(&mut self, w: &mut Window<R>) -> Fast<()> {
        w.fill()?;
        let start = w.bytes();
        if start.starts_with(&[0x1f, 0x8b]) {
            return Err(unusual("gzip"));
        }
        if start.starts_with("\u{feff}".as_bytes()) {
            w.pos += 3;
        }
        let mut documents = 0;
        loop {
            match w.peek()? {
                None if documents > 0 => return Ok(()),
                None => return Err(unusual("empty")),
                Some(b'{') => self.list(w)?,
                Some(b'[') => {
                    w.pos += 1;
                    self.items(w, &ListHeader::default())?;
                }
                Some(_) => return Err(unusual("not JSON")),
            }
            documents += 1;
        }
    }

    /// A JSON object with `items`; anything else is left to the thorough reader.
    fn list<R: Read + Seek>(&mut self, w: &mut Window<R>) -> Fast<()> {
        w.pos += 1;
        let mut header = ListHeader::default();
        let mut has_items = false;
        if w.peek()? == Some(b'}') {
            return Err(unusual("an empty object"));
        }
        loop {
            let key: String = w
                .parse(|b| one::<Cow<'_, str>>(b).map(|(k, n)| (k.into_owned(), n)))?
                .0;
            w.expect(b':')?;
            if key == "items" {
                if has_items {
                    return Err(unusual("`items` twice"));
                }
                has_items = true;
                if w.peek()? == Some(b'[') {
                    w.pos += 1;
                    self.items(w, &header)?;
                } else if !w.parse(|b| one::<serde_json::Value>(b))?.0.is_null() {
                    return Err(unusual("`items` is not an array"));
                }
            } else {
                let value = w.parse(|b| one::<serde_json::Value>(b))?.0;
                let text = value.as_str().map(str::to_owned);
                match key.as_str() {
                    "kind" => header.kind = text,
                    "apiVersion" => header.api_version = text,
                    _ => {}
                }
            }
            match w.peek()? {
                Some(b',') => w.pos += 1,
                Some(b'}') => {
                    w.pos += 1;
                    break;
                }
                _ => return Err(unusual("not JSON")),
            }
        }
        if has_items {
            Ok(())
        } else {
            Err(unusual("an object that is not a List"))
        }
    }

    /// The items of a list, after its `[`.
    fn items<R: Read + Seek>(&mut self, w: &mut Window<R>, header: &ListHeader) -> Fast<()> {
        if w.peek()? == Some(b']') {
            w.pos += 1;
            return Ok(());
        }
        loop {
            if self.abandon.is_some_and(|a| a.load(Ordering::Relaxed)) {
                return Err(unusual("the first half found no item where this one began"));
            }
            if self.land(w)? {
                return Ok(());
            }
            self.item(w, header)?;
            match w.peek()? {
                Some(b',') => w.pos += 1,
                Some(b']') => {
                    w.pos += 1;
                    return Ok(());
                }
                _ => return Err(unusual("not JSON")),
            }
        }
    }

    fn item<R: Read + Seek>(&mut self, w: &mut Window<R>, header: &ListHeader) -> Fast<()> {
        let (skimmed, range) = w.parse(|bytes| {
            let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Skim<'_>>();
            match stream.next() {
                Some(Ok(skim)) => Ok((self.judge(&skim, header, bytes), stream.byte_offset())),
                Some(Err(e)) => Err(e),
                None => Err(serde::de::Error::custom("no item")),
            }
        })?;
        let skimmed = skimmed?;
        if let Some(identity) = skimmed.identity
            && !self.seen.insert(identity)
        {
            return Err(unusual("an object is there twice"));
        }
        let Some(target) = skimmed.target else {
            if let Some((api_version, kind)) = &skimmed.other {
                self.objects.skip(api_version.as_deref(), kind);
            }
            return Ok(());
        };
        if !skimmed.keep {
            self.newest_passed = self.newest_passed.max(skimmed.newest);
            if let Some(owner) = skimmed.owner {
                self.passed_owners.insert(owner);
            }
            return Ok(());
        }
        let bytes = &mut w.buf[range];
        for unread in skimmed.unread {
            blank(&mut bytes[unread]);
        }
        let batch = &mut self.batch;
        let start = batch.bytes.len();
        batch.bytes.extend_from_slice(bytes);
        batch.items.push((target, start..batch.bytes.len()));
        if batch.bytes.len() >= BATCH_BYTES {
            self.send_batch()?;
        }
        Ok(())
    }

    /// Hands the batch to the typist and starts another (one the typist is done with, if any).
    fn send_batch(&mut self) -> Fast<()> {
        let empty = self.recycled.try_recv().unwrap_or_default();
        let full = std::mem::replace(&mut self.batch, empty);
        self.sender
            .send(Work::Items(full))
            .map_err(|_| unusual("the typing thread stopped"))
    }

    /// At each item of the first half: once it reaches where the second half began, takes what
    /// that one read and goes on after its list. True if it did (the list is then read).
    fn land<R: Read + Seek>(&mut self, w: &mut Window<R>) -> Fast<bool> {
        let Some(split) = self.split.take() else {
            return Ok(false);
        };
        w.peek()?;
        let at = w.offset();
        if at < split.at {
            self.split = Some(split);
            return Ok(false);
        }
        if at > split.at {
            // It began inside an item, not between two: this half reads on alone.
            split.abandon.store(true, Ordering::Relaxed);
            return Ok(false);
        }
        let Ok(Ok(Half { read, end })) = split.result.recv() else {
            // The second half failed: this one reads on alone, and meets whatever it met.
            return Ok(false);
        };
        for identity in read.seen {
            if !self.seen.insert(identity) {
                return Err(unusual("an object is there twice"));
            }
        }
        self.newest_passed = self.newest_passed.max(read.newest_passed);
        self.passed_owners.extend(read.passed_owners);
        self.objects.add_skipped(read.objects.skipped);
        // The typist keeps the order: this half's items so far, then the second half's.
        self.send_batch()?;
        self.sender
            .send(Work::Typed(read.objects.snapshot))
            .map_err(|_| unusual("the typing thread stopped"))?;
        w.jump(end)?;
        Ok(true)
    }

    /// What to do with an item, from its skim. Pure: a cut-off item is skimmed again.
    fn judge(&self, skim: &Skim<'_>, header: &ListHeader, bytes: &[u8]) -> Fast<Skimmed> {
        let api_version = skim.api_version.as_deref().or(header.item_api_version());
        let Some(kind) = skim.kind.as_deref().or(header.item_kind()) else {
            return Err(unusual("an item without a kind"));
        };
        let meta = skim.metadata.as_ref();
        let name = meta.and_then(|m| m.name.as_deref());
        let namespace = meta.and_then(|m| m.namespace.as_deref());
        let Some(target) = Target::of(api_version, kind) else {
            return Ok(Skimmed {
                other: Some((api_version.map(str::to_owned), kind.to_owned())),
                ..Skimmed::default()
            });
        };
        let mut skimmed = Skimmed {
            target: Some(target),
            identity: name
                .filter(|n| !n.is_empty())
                .map(|n| hash_of(&(collection(target), namespace, n))),
            unread: unread(skim, target)
                .map(|raw| offset_in(raw.get().as_bytes(), bytes))
                .collect(),
            ..Skimmed::default()
        };
        if let Some(second) = self.second {
            // Only the pods are read again.
            if target == Target::Pod {
                let owner = daemonset_owner(skim).map(|o| o.uid.as_deref().unwrap_or(""));
                let node_name = skim.spec.as_ref().and_then(|s| s.node_name.as_deref());
                skimmed.keep = owner.is_some_and(|uid| second.owners.contains(uid))
                    || is_orphan(skim)
                    || bound_to_any(node_name, &second.pending);
            }
            skimmed.identity = None;
            return Ok(skimmed);
        }
        skimmed.keep = match target {
            Target::Node | Target::DaemonSet | Target::ControllerRevision | Target::EventsEvent => true,
            Target::Pod => {
                let owner = daemonset_owner(skim);
                skimmed.owner = owner.map(|o| hash_of(&o.uid.as_deref().unwrap_or("")));
                skimmed.newest = pod_newest(skim);
                match self.need {
                    Need::Everything => true,
                    Need::Node(node) => target_node(skim) == Some(node.as_str()),
                    // An orphan may be adopted: the claim decides, by labels.
                    Need::DaemonSet { .. } => {
                        owner.is_some_and(|o| self.need.names_daemonset(namespace, o.name.as_deref()))
                            || is_orphan(skim)
                    }
                }
            }
            Target::Event => {
                skimmed.newest = event_newest(skim);
                is_failed_create_of(
                    skim.reason.as_deref(),
                    skim.involved_object.as_ref().and_then(|o| o.kind.as_deref()),
                )
            }
        };
        Ok(skimmed)
    }
}

/// The verdict on one item.
#[derive(Default)]
struct Skimmed {
    /// None: a kind the snapshot does not keep, named in `other`.
    target: Option<Target>,
    other: Option<(Option<String>, String)>,
    identity: Option<u64>,
    keep: bool,
    /// Where the fields nothing reads sit in the item (see [`unread`]).
    unread: Vec<Range<usize>>,
    /// For an object passed over: its newest timestamp, and (pods) its DaemonSet's uid.
    newest: Option<Timestamp>,
    owner: Option<u64>,
}

/// The fields of an item that are blanked before it is typed: every object's
/// `metadata.managedFields`, a node's `status.images`, a pod's `spec.volumes` and
/// `spec.tolerations` ([`Need::retain`] drops the same).
fn unread<'s, 'a>(skim: &'s Skim<'a>, target: Target) -> impl Iterator<Item = &'a RawValue> + 's {
    let spec = skim.spec.as_ref();
    let status = skim.status.as_ref();
    let (images, volumes, tolerations) = match target {
        Target::Node => (status.and_then(|s| s.images), None, None),
        Target::Pod => (
            None,
            spec.and_then(|s| s.volumes),
            spec.and_then(|s| s.tolerations),
        ),
        _ => (None, None, None),
    };
    let managed_fields = skim.metadata.as_ref().and_then(|m| m.managed_fields);
    [managed_fields, images, volumes, tolerations]
        .into_iter()
        .flatten()
}

/// The objects [`Snapshot::dedup`] tells apart.
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

/// Where `inner`, a part of `outer`, sits in it.
fn offset_in(inner: &[u8], outer: &[u8]) -> Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    start..start + inner.len()
}

/// Replaces a JSON value with `null` and spaces.
fn blank(value: &mut [u8]) {
    if value.len() >= 4 {
        value[..4].copy_from_slice(b"null");
        value[4..].fill(b' ');
    }
}

fn typed<T: DeserializeOwned>(bytes: &[u8]) -> Fast<T> {
    serde_json::from_slice(bytes).map_err(unusual)
}

/// The first JSON value of `bytes`, and its length.
fn one<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> serde_json::Result<(T, usize)> {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<T>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, stream.byte_offset())),
        Some(Err(e)) => Err(e),
        None => Err(serde::de::Error::custom("no value")),
    }
}

fn one_event_newest(event: Event) -> Option<Timestamp> {
    Snapshot {
        events: vec![event],
        ..Snapshot::default()
    }
    .newest_timestamp()
}

// ---- the skim: what decides about an item, borrowed from the input ----

/// The fields of any kept kind that tell whether a command can use an object, and when it was
/// last touched. Unknown fields are skipped unread.
#[derive(Deserialize)]
struct Skim<'a> {
    #[serde(rename = "apiVersion", borrow)]
    api_version: Option<Str<'a>>,
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    metadata: Option<Meta<'a>>,
    #[serde(borrow)]
    spec: Option<Spec<'a>>,
    #[serde(borrow)]
    status: Option<Status<'a>>,
    // core/v1 Event
    #[serde(borrow)]
    reason: Option<Str<'a>>,
    #[serde(rename = "involvedObject", borrow)]
    involved_object: Option<Involved<'a>>,
    #[serde(rename = "firstTimestamp")]
    first_timestamp: Option<Time>,
    #[serde(rename = "lastTimestamp")]
    last_timestamp: Option<Time>,
    #[serde(rename = "eventTime")]
    event_time: Option<MicroTime>,
    series: Option<Series>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    namespace: Option<Str<'a>>,
    #[serde(rename = "creationTimestamp")]
    creation_timestamp: Option<Time>,
    #[serde(rename = "ownerReferences", borrow)]
    owner_references: Option<Vec<Owner<'a>>>,
    #[serde(rename = "managedFields", borrow)]
    managed_fields: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Owner<'a> {
    controller: Option<bool>,
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Spec<'a> {
    #[serde(rename = "nodeName", borrow)]
    node_name: Option<Str<'a>>,
    #[serde(borrow)]
    affinity: Option<Affinity<'a>>,
    /// A pod's volumes and tolerations: nothing here reads them (eligibility goes by the
    /// DaemonSet's template), and typed, the volumes are the biggest part of a pod.
    #[serde(borrow)]
    volumes: Option<&'a RawValue>,
    #[serde(borrow)]
    tolerations: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Affinity<'a> {
    #[serde(rename = "nodeAffinity", borrow)]
    node_affinity: Option<NodeAffinity<'a>>,
}

#[derive(Deserialize)]
struct NodeAffinity<'a> {
    #[serde(rename = "requiredDuringSchedulingIgnoredDuringExecution", borrow)]
    required: Option<NodeSelector<'a>>,
}

#[derive(Deserialize)]
struct NodeSelector<'a> {
    #[serde(rename = "nodeSelectorTerms", borrow)]
    terms: Option<Vec<Term<'a>>>,
}

#[derive(Deserialize)]
struct Term<'a> {
    #[serde(rename = "matchFields", borrow)]
    match_fields: Option<Vec<Requirement<'a>>>,
}

#[derive(Deserialize)]
struct Requirement<'a> {
    #[serde(borrow)]
    key: Option<Str<'a>>,
    #[serde(borrow)]
    operator: Option<Str<'a>>,
    #[serde(borrow)]
    values: Option<Vec<Str<'a>>>,
}

#[derive(Deserialize)]
struct Status<'a> {
    conditions: Option<Vec<Condition>>,
    /// A node's image list (up to 50 entries a kubelet reports): nothing here reads it.
    #[serde(borrow)]
    images: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Condition {
    #[serde(rename = "lastTransitionTime")]
    last_transition_time: Option<Time>,
}

#[derive(Deserialize)]
struct Series {
    #[serde(rename = "lastObservedTime")]
    last_observed_time: Option<MicroTime>,
}

#[derive(Deserialize)]
struct Involved<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
}

/// A string of the input: borrowed, unless it had escapes.
struct Str<'a>(Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;

        impl<'de> serde::de::Visitor<'de> for StrVisitor {
            type Value = Str<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }

        deserializer.deserialize_str(StrVisitor)
    }
}

/// A pod without any controller reference: one a DaemonSet may adopt.
fn is_orphan(skim: &Skim<'_>) -> bool {
    skim.metadata.as_ref().is_none_or(|m| {
        !m.owner_references
            .iter()
            .flatten()
            .any(|r| r.controller == Some(true))
    })
}

/// Mirrors `engine::verdict::controller_uid`: the controller reference of kind DaemonSet.
fn daemonset_owner<'s>(skim: &'s Skim<'_>) -> Option<&'s Owner<'s>> {
    skim.metadata
        .as_ref()?
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true) && r.kind.as_deref() == Some("DaemonSet"))
}

/// Mirrors `engine::pods::target_node`.
fn target_node<'s>(skim: &'s Skim<'_>) -> Option<&'s str> {
    let spec = skim.spec.as_ref()?;
    if let Some(name) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(name);
    }
    let terms = spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required
        .as_ref()?
        .terms
        .as_ref()?;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find_map(|f| {
            let values = f.values.as_deref().unwrap_or_default();
            (f.key.as_deref() == Some("metadata.name")
                && f.operator.as_deref() == Some("In")
                && values.len() == 1)
                .then(|| values[0].as_ref())
        })
}

fn created(skim: &Skim<'_>) -> Option<Timestamp> {
    skim.metadata.as_ref()?.creation_timestamp.as_ref().map(|t| t.0)
}

/// Mirrors `Snapshot::newest_timestamp` for one pod.
fn pod_newest(skim: &Skim<'_>) -> Option<Timestamp> {
    let conditions = skim.status.iter().flat_map(|s| s.conditions.iter().flatten());
    conditions
        .map(|c| c.last_transition_time.as_ref().map(|t| t.0))
        .chain([created(skim)])
        .flatten()
        .max()
}

/// Mirrors `Snapshot::newest_timestamp` for one core/v1 Event.
fn event_newest(skim: &Skim<'_>) -> Option<Timestamp> {
    let series = skim
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0);
    [
        created(skim),
        skim.first_timestamp.as_ref().map(|t| t.0),
        skim.last_timestamp.as_ref().map(|t| t.0),
        skim.event_time.as_ref().map(|t| t.0),
        series,
    ]
    .into_iter()
    .flatten()
    .max()
}

// ---- reading the input in chunks ----

/// How much is read at a time.
const CHUNK: usize = 1 << 20;

/// A window on the input: `buf[pos..end]` is read and not yet consumed.
struct Window<R> {
    reader: R,
    chunk: usize,
    /// Where `buf` begins in the input.
    base: u64,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// `buf[..checked]` is valid UTF-8 (the thorough reader refuses anything else).
    checked: usize,
    eof: bool,
}

impl<R: Read> Window<R> {
    fn new(reader: R, chunk: usize) -> Self {
        Window {
            reader,
            chunk,
            base: 0,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            checked: 0,
            eof: false,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Where the unread input begins.
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Reads another chunk after what is unread, first dropping what was consumed.
    fn fill(&mut self) -> Fast<()> {
        if self.eof {
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.checked -= self.pos;
            self.pos = 0;
        }
        let want = self.end + self.chunk;
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        while self.end < want {
            match self.reader.read(&mut self.buf[self.end..want]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(unusual(e)),
            }
        }
        match std::str::from_utf8(&self.buf[self.checked..self.end]) {
            Ok(_) => self.checked = self.end,
            // A character cut at the end of the chunk is checked with the next one.
            Err(e) if e.error_len().is_none() && !self.eof => self.checked += e.valid_up_to(),
            Err(_) => return Err(unusual("not UTF-8")),
        }
        Ok(())
    }

    /// The next byte that is not JSON whitespace, left unread; None at the end of the input.
    fn peek(&mut self) -> Fast<Option<u8>> {
        loop {
            while self.pos < self.end {
                match self.buf[self.pos] {
                    b' ' | b'\n' | b'\r' | b'\t' => self.pos += 1,
                    byte => return Ok(Some(byte)),
                }
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    fn expect(&mut self, byte: u8) -> Fast<()> {
        if self.peek()? == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(unusual("not JSON"))
        }
    }

    /// Goes on reading at `offset` (forward of what was read: the reader is not asked to go back
    /// if it is still in the window).
    fn jump(&mut self, offset: u64) -> Fast<()>
    where
        R: Seek,
    {
        if let Some(pos) = offset
            .checked_sub(self.base)
            .and_then(|p| usize::try_from(p).ok())
            .filter(|p| *p <= self.checked)
        {
            self.pos = pos;
            return Ok(());
        }
        self.reader.seek(SeekFrom::Start(offset)).map_err(unusual)?;
        self.base = offset;
        self.pos = 0;
        self.end = 0;
        self.checked = 0;
        self.eof = false;
        Ok(())
    }

    /// Runs `parse` on the unread input until it has read one whole value, reading more input while
    /// the value is cut off; consumes the value and gives what `parse` made of it, and where it was.
    fn parse<O>(
        &mut self,
        mut parse: impl FnMut(&[u8]) -> serde_json::Result<(O, usize)>,
    ) -> Fast<(O, Range<usize>)> {
        loop {
            if self.peek()?.is_none() {
                return Err(unusual("the input ends early"));
            }
            let unread = &self.buf[self.pos..self.end];
            match parse(unread) {
                // A number at the very end may go on in the next chunk.
                Ok((value, len)) if len < unread.len() || self.eof => {
                    let start = self.pos;
                    self.pos += len;
                    return Ok((value, start..start + len));
                }
                Ok(_) => {}
                Err(e) if e.is_eof() && !self.eof => {}
                Err(e) => return Err(unusual(e)),
            }
            self.fill()?;
        }
    }
}
