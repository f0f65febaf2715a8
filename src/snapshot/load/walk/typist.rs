//! The typist of the fast reader: it types the kept items, a batch at a time, while the walk and
//! the sorter go on, and gives the input behind them back.

use std::ops::Range;
use std::sync::mpsc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::events::v1 as events;
use k8s_openapi::jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::{Fast, unusual};
use crate::snapshot::Snapshot;
use crate::snapshot::load::bytes::Bytes;
use crate::snapshot::load::document::{Target, core_event};
use crate::snapshot::load::{Need, is_failed_create};
use crate::snapshot::unread::{self, Scope, Shape};

/// Kept items on their way to be typed, in input order.
#[derive(Default)]
pub(super) struct Batch<'a> {
    pub(super) items: Vec<Entry<'a>>,
    /// The size of the items in the input.
    pub(super) bytes: usize,
    /// Input the walk is done with: once these items are typed, its pages can go.
    pub(super) release: Option<(&'a Bytes, Range<usize>)>,
}

/// One kept item of a batch.
pub(super) struct Entry<'a> {
    pub(super) raw: &'a RawValue,
    pub(super) target: Target,
    /// Its position in the input (the pods' order is kept by it).
    pub(super) sequence: usize,
    /// An events.k8s.io event is kept only if it is a DaemonSet's FailedCreate, which is known
    /// once it is mapped onto a core event.
    pub(super) only_failed_create: bool,
}

/// What the typist made of the batches.
#[derive(Default)]
pub(super) struct Typed {
    pub(super) snapshot: Snapshot,
    /// The input position of each pod kept, in order.
    pub(super) pod_order: Vec<usize>,
    /// The newest timestamp of the events.k8s.io events typed but not kept.
    pub(super) newest_passed: Option<Timestamp>,
}

/// Types the items of every batch, in the order they were read, and hands the emptied batches
/// back (freeing and allocating big blocks anew costs more than typing them).
pub(super) fn type_batches<'a>(
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
pub(super) fn typed_item<T: DeserializeOwned>(
    raw: &RawValue,
    target: Target,
    scope: Option<Scope>,
) -> Fast<T> {
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
pub(super) fn typed_pod(raw: &RawValue, scope: Option<Scope>) -> Fast<Pod> {
    let mut pod = typed_item(raw, Target::Pod, scope)?;
    unread::shrink_pod(&mut pod);
    Ok(pod)
}

/// What the typist leaves out for a command: the fields nothing reads, unless the command wants
/// everything as it is.
pub(super) fn scope_for(need: &Need) -> Option<Scope> {
    (*need != Need::Everything).then_some(Scope::Unread)
}
