//! The sorter of the fast reader: it skims each item the walk splits off and keeps it (for the
//! typist), remembers it (a pod `status DS` may need at the end), or passes it over.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::mpsc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde_json::value::RawValue;

use super::typist::{Batch, Entry, typed_pod};
use super::{BATCH_BYTES, Fast, Split, unusual};
use crate::engine::pods::of_daemonsets;
use crate::snapshot::Snapshot;
use crate::snapshot::load::document::{ListHeader, Objects, Target};
use crate::snapshot::load::skim::Skim;
use crate::snapshot::load::{Need, pending_nodes};
use crate::snapshot::unread::Scope;

/// `status DS`: the pods kept by their controller's name, narrowed to the DaemonSets' uids (and
/// orphans, which the claim may adopt), plus those of the remembered pods that belong to the
/// DaemonSets by uid or are bound to a node where one of theirs is pending. In input order.
pub(super) fn daemonset_pods(
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
        .map(|p| belongs(p) || crate::snapshot::load::node_name(p).is_some_and(|n| pending.contains(n)))
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
pub(super) struct Later<'a> {
    pub(super) sequence: usize,
    pub(super) raw: &'a RawValue,
    pub(super) owner: Option<String>,
    pub(super) node: Option<String>,
}

/// The sorter: skims each item and keeps it (for the typist), remembers it, or passes it over.
pub(super) struct Sorter<'a, 'n> {
    pub(super) need: &'n Need,
    /// The tally of the kinds passed over.
    pub(super) skipped: Objects,
    /// Hashes of (collection, namespace, name) of every object read: one seen twice ends this
    /// reader (the thorough one keeps the last copy).
    pub(super) seen: HashSet<u64>,
    /// The newest timestamp of the objects passed over (they date the snapshot too).
    pub(super) newest_passed: Option<Timestamp>,
    /// Pods passed over that `status DS` may need at the end.
    pub(super) later: Vec<Later<'a>>,
    /// The position of the next item across all inputs.
    pub(super) sequence: usize,
    pub(super) batch: Batch<'a>,
    pub(super) sender: mpsc::SyncSender<Batch<'a>>,
    /// Batches the typist is done with.
    pub(super) recycled: mpsc::Receiver<Batch<'a>>,
    /// Whether an item was kept since input was last given back.
    pub(super) kept_since_release: bool,
}

/// What the sorter found besides the items it kept.
pub(super) struct Sorted<'a> {
    pub(super) skipped: Objects,
    pub(super) newest_passed: Option<Timestamp>,
    pub(super) later: Vec<Later<'a>>,
}

impl<'a> Sorter<'a, '_> {
    /// Sorts the batches of the walk, handing the emptied ones back.
    pub(super) fn run(
        mut self,
        splits: mpsc::Receiver<Split<'a>>,
        back: mpsc::Sender<Split<'a>>,
    ) -> Fast<Sorted<'a>> {
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
pub(super) fn collection(target: Target) -> u8 {
    match target {
        Target::Node => 0,
        Target::DaemonSet => 1,
        Target::Pod => 2,
        Target::ControllerRevision => 3,
        Target::Event | Target::EventsEvent => 4,
    }
}

pub(super) fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}
