//! The thorough reader's sieve. For a command that needs less than every object (see [`Need`]),
//! the pods and events it cannot use are dropped as soon as they are typed, and the fields nothing
//! reads are cleared (`snapshot::unread`), so that a YAML snapshot, or JSON the fast reader leaves
//! to the thorough one, is never held typed as a whole. The result is what reading everything and
//! then [`Need::retain`] gives; the tests check that on generated files.
//!
//! `status DS` may need pods it cannot tell by their own fields: those of its DaemonSet under
//! another name (known by uid once every DaemonSet is read) and the neighbours of its pending pods
//! (known once every pod is read). The sieve remembers the pods it drops by position, with their
//! DaemonSet's uid and their node; if any of them turns out to be needed, the input is read a
//! second time, typing only those ([`Outcome::Again`]). An input that holds an object twice (the
//! thorough reader keeps the last copy, which the sieve may already have dropped) is read again
//! without the sieve ([`Outcome::Repeated`]).
//!
//! The typing of one item happens deep inside serde's walk of a document, which takes no state of
//! ours; the sieve in use is installed for the thread by [`sifting`] for the duration of a reading.

use std::cell::RefCell;
use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;

use super::{Need, is_failed_create, node_name};
use crate::engine::pods::{
    controller_ref, controller_uid, is_orphan, of_daemonsets, pending_nodes, target_node,
};
use crate::snapshot::{Snapshot, unread};

/// One typed object of a kind a snapshot keeps.
pub(crate) enum Object {
    Node(Node),
    DaemonSet(DaemonSet),
    Pod(Pod),
    Revision(ControllerRevision),
    Event(Event),
}

impl Object {
    fn into_snapshot(self) -> Snapshot {
        let mut s = Snapshot::default();
        match self {
            Object::Node(o) => s.nodes.push(o),
            Object::DaemonSet(o) => s.daemonsets.push(o),
            Object::Pod(o) => s.pods.push(o),
            Object::Revision(o) => s.revisions.push(o),
            Object::Event(o) => s.events.push(o),
        }
        s
    }

    /// The object's collection, namespace and name: two objects with the same are one.
    fn identity(&self) -> Option<u64> {
        let (collection, metadata) = match self {
            Object::Node(o) => (0u8, &o.metadata),
            Object::DaemonSet(o) => (1, &o.metadata),
            Object::Pod(o) => (2, &o.metadata),
            Object::Revision(o) => (3, &o.metadata),
            Object::Event(o) => (4, &o.metadata),
        };
        let name = metadata.name.as_deref().filter(|n| !n.is_empty())?;
        let mut hasher = DefaultHasher::new();
        (collection, metadata.namespace.as_deref(), name).hash(&mut hasher);
        Some(hasher.finish())
    }
}

/// What a sieve keeps of a reading.
#[derive(Clone)]
pub(super) struct Sieve {
    need: Need,
    /// In a second reading, the positions of the pods to type (and nothing else).
    again: Option<HashSet<usize>>,
    /// The position of the next pod.
    pods: usize,
    /// The positions of the pods kept, in order.
    kept: Vec<usize>,
    /// Pods dropped that `status DS` may still need.
    dropped: Vec<Dropped>,
    /// The newest timestamp of the objects dropped (they date the snapshot too).
    newest_dropped: Option<Timestamp>,
    /// Identities of the objects read (see [`Object::identity`]).
    seen: HashSet<u64>,
    repeated: bool,
}

/// A pod dropped by `status DS`'s sieve: where it was, its DaemonSet's uid, its node, and the node
/// it waits for if it is pending.
#[derive(Clone)]
struct Dropped {
    position: usize,
    owner: Option<String>,
    node: Option<String>,
    pending_on: Option<String>,
}

/// What became of a sifted reading.
pub(super) enum Outcome {
    /// The snapshot is complete (still to be narrowed by [`Need::retain`]).
    Done,
    /// Some pods dropped are needed after all, at these positions (in order): read the input again
    /// with [`Sieve::again`].
    Again(Vec<usize>),
    /// The input holds an object twice: read it again without a sieve.
    Repeated,
}

thread_local! {
    static SIEVE: RefCell<Option<Sieve>> = const { RefCell::new(None) };
}

/// Runs a reading with `sieve` installed; gives back what it made of it (`None` only if the
/// reading took the sieve away, which no reading does: the caller then reads without one).
pub(super) fn sifting<T>(sieve: Sieve, read: impl FnOnce() -> T) -> (T, Option<Sieve>) {
    struct Uninstall;
    impl Drop for Uninstall {
        fn drop(&mut self) {
            SIEVE.with_borrow_mut(Option::take);
        }
    }
    SIEVE.set(Some(sieve));
    let guard = Uninstall;
    let result = read();
    let sieve = SIEVE.with_borrow_mut(Option::take);
    drop(guard);
    (result, sieve)
}

/// The state of the installed sieve, to go back to if a reading of one input is started again.
pub(super) fn checkpoint() -> Option<Sieve> {
    SIEVE.with_borrow(Clone::clone)
}

/// Goes back to a [`checkpoint`].
pub(super) fn restore(checkpoint: Option<Sieve>) {
    if checkpoint.is_some() {
        SIEVE.set(checkpoint);
    }
}

/// Passes a typed object through the installed sieve, if any: `None` if it is dropped.
pub(super) fn sift(object: Object) -> Option<Object> {
    SIEVE.with_borrow_mut(|sieve| match sieve {
        Some(sieve) => sieve.sift(object),
        None => Some(object),
    })
}

impl Sieve {
    /// A sieve for `need`; `None` for a command that needs everything.
    pub fn new(need: &Need) -> Option<Sieve> {
        (*need != Need::Everything).then(|| Sieve::first(need.clone()))
    }

    fn first(need: Need) -> Sieve {
        Sieve {
            need,
            again: None,
            pods: 0,
            kept: Vec::new(),
            dropped: Vec::new(),
            newest_dropped: None,
            seen: HashSet::new(),
            repeated: false,
        }
    }

    fn sift(&mut self, object: Object) -> Option<Object> {
        if let Some(again) = &self.again {
            let Object::Pod(pod) = object else {
                return None;
            };
            let position = self.pods;
            self.pods += 1;
            return again.contains(&position).then(|| cleared(Object::Pod(pod)));
        }
        if let Some(identity) = object.identity() {
            self.repeated |= !self.seen.insert(identity);
        }
        let keep = match &object {
            Object::Pod(pod) => {
                let position = self.pods;
                self.pods += 1;
                let keep = match &self.need {
                    Need::Everything => true,
                    Need::Node(node) => target_node(pod) == Some(node.as_str()),
                    // An orphan may be adopted: the claim decides, by labels.
                    Need::DaemonSet { .. } => names_its_daemonset(&self.need, pod) || is_orphan(pod),
                };
                if keep {
                    self.kept.push(position);
                } else if let Need::DaemonSet { .. } = self.need {
                    self.dropped.push(Dropped {
                        position,
                        owner: controller_uid(pod).map(str::to_owned),
                        node: node_name(pod).map(str::to_owned),
                        pending_on: pending_nodes([pod]).first().map(|n| (*n).to_owned()),
                    });
                }
                keep
            }
            Object::Event(event) => is_failed_create(event),
            Object::Node(_) | Object::DaemonSet(_) | Object::Revision(_) => true,
        };
        if keep {
            return Some(cleared(object));
        }
        let newest = object.into_snapshot().newest_timestamp();
        self.newest_dropped = self.newest_dropped.max(newest);
        None
    }

    /// What a finished first reading calls for, given the snapshot it made.
    pub fn outcome(&self, snapshot: &Snapshot) -> Outcome {
        if self.repeated {
            return Outcome::Repeated;
        }
        if self.dropped.is_empty() {
            return Outcome::Done;
        }
        let owners = self.need.daemonset_uids(snapshot);
        let theirs = |d: &Dropped| d.owner.as_deref().is_some_and(|u| owners.contains(u));
        let owned = |p: &Pod| of_daemonsets(p, |u| owners.contains(u));
        let mut pending: HashSet<&str> = pending_nodes(snapshot.pods.iter().filter(|p| owned(p)))
            .into_iter()
            .collect();
        pending.extend(
            self.dropped
                .iter()
                .filter(|d| theirs(d))
                .filter_map(|d| d.pending_on.as_deref()),
        );
        // Dropped in input order: the positions are sorted.
        let again: Vec<usize> = self
            .dropped
            .iter()
            .filter(|d| theirs(d) || d.node.as_deref().is_some_and(|n| pending.contains(n)))
            .map(|d| d.position)
            .collect();
        if again.is_empty() {
            return Outcome::Done;
        }
        Outcome::Again(again)
    }

    /// The sieve of a second reading, which types only the pods at `positions`.
    pub fn again(&self, positions: &[usize]) -> Sieve {
        Sieve {
            again: Some(positions.iter().copied().collect()),
            ..Sieve::first(self.need.clone())
        }
    }

    /// Completes the snapshot of the first reading: the pods of a second one put where they stood
    /// in the input, the snapshot dated by the objects dropped too.
    pub fn complete(&self, snapshot: &mut Snapshot, mut again: Vec<Pod>, positions: &[usize]) {
        snapshot.taken_at = snapshot.taken_at.max(self.newest_dropped);
        if again.is_empty() {
            return;
        }
        let kept = std::mem::take(&mut snapshot.pods);
        let mut placed: Vec<(usize, Pod)> = self.kept.iter().copied().zip(kept).collect();
        placed.extend(positions.iter().copied().zip(again.drain(..)));
        placed.sort_by_key(|(position, _)| *position);
        snapshot.pods = placed.into_iter().map(|(_, p)| p).collect();
    }
}

/// Whether the pod's controller reference names the DaemonSet `status DS` is about.
fn names_its_daemonset(need: &Need, pod: &Pod) -> bool {
    controller_ref(pod)
        .filter(|r| r.kind == "DaemonSet")
        .is_some_and(|r| need.names_daemonset(pod.metadata.namespace.as_deref(), Some(&r.name)))
}

/// The object without the fields nothing reads.
fn cleared(mut object: Object) -> Object {
    match &mut object {
        Object::Node(o) => {
            unread::clear_node(o);
            unread::shrink_node(o);
        }
        Object::Pod(o) => {
            unread::clear_pod(o);
            unread::shrink_pod(o);
        }
        Object::DaemonSet(o) => unread::clear_other(o),
        Object::Revision(o) => unread::clear_other(o),
        Object::Event(o) => unread::clear_other(o),
    }
    object
}
