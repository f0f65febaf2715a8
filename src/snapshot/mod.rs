//! A snapshot of cluster state: the unit of analysis. Live mode fetches one (`crate::fetch`),
//! offline mode loads one from a file (`load`). Commands never care which.

pub mod load;
pub mod unread;

use std::collections::HashSet;

use k8s_openapi::Metadata;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;

pub use load::{Source, load, load_str, parse_source};

/// Cluster state as the analysis sees it. Objects are kept as the API returned them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub nodes: Vec<Node>,
    pub daemonsets: Vec<DaemonSet>,
    pub pods: Vec<Pod>,
    pub revisions: Vec<ControllerRevision>,
    pub events: Vec<Event>,
    /// When the state was taken, if known (live: now; file: the newest timestamp seen, or None).
    pub taken_at: Option<k8s_openapi::jiff::Timestamp>,
    /// The view holds one node (or the pods of one node) rather than the whole cluster, as
    /// `why-not` reads it: the rolling update's budget cannot be counted from it.
    pub partial: bool,
}

impl Snapshot {
    /// Adds the objects of `other` after these, kind by kind.
    pub fn append(&mut self, other: Snapshot) {
        self.nodes.extend(other.nodes);
        self.daemonsets.extend(other.daemonsets);
        self.pods.extend(other.pods);
        self.revisions.extend(other.revisions);
        self.events.extend(other.events);
    }

    /// Drops repeated objects (same kind, namespace and name), keeping the last one read: a file
    /// or folder may hold the same object twice, and a cluster holds it once.
    pub fn dedup(&mut self) {
        dedup_by_name(&mut self.nodes);
        dedup_by_name(&mut self.daemonsets);
        dedup_by_name(&mut self.pods);
        dedup_by_name(&mut self.revisions);
        dedup_by_name(&mut self.events);
    }

    /// The newest time any object records: creation, condition transition or heartbeat, event.
    /// For a saved snapshot, the best guess of when it was taken.
    pub fn newest_timestamp(&self) -> Option<Timestamp> {
        let created = |m: &ObjectMeta| m.creation_timestamp.as_ref().map(|t| t.0);
        let nodes = self.nodes.iter().flat_map(|n| {
            let conditions = n.status.iter().flat_map(|s| s.conditions.iter().flatten());
            let times =
                conditions.flat_map(|c| [time(&c.last_transition_time), time(&c.last_heartbeat_time)]);
            times.chain([created(&n.metadata)])
        });
        let daemonsets = self.daemonsets.iter().flat_map(|d| {
            let conditions = d.status.iter().flat_map(|s| s.conditions.iter().flatten());
            conditions
                .map(|c| time(&c.last_transition_time))
                .chain([created(&d.metadata)])
        });
        let pods = self.pods.iter().flat_map(|p| {
            let conditions = p.status.iter().flat_map(|s| s.conditions.iter().flatten());
            conditions
                .map(|c| time(&c.last_transition_time))
                .chain([created(&p.metadata)])
        });
        let revisions = self.revisions.iter().map(|r| created(&r.metadata));
        let events = self.events.iter().flat_map(|e| {
            let series = e
                .series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| t.0);
            [
                created(&e.metadata),
                time(&e.first_timestamp),
                time(&e.last_timestamp),
                e.event_time.as_ref().map(|t| t.0),
                series,
            ]
        });
        nodes
            .chain(daemonsets)
            .chain(pods)
            .chain(revisions)
            .chain(events)
            .flatten()
            .max()
    }
}

fn time(t: &Option<Time>) -> Option<Timestamp> {
    t.as_ref().map(|t| t.0)
}

/// Keeps the last of each (namespace, name); objects without a name are all kept.
fn dedup_by_name<T: Metadata<Ty = ObjectMeta>>(objects: &mut Vec<T>) {
    let mut seen = HashSet::new();
    let mut keep: Vec<bool> = objects
        .iter()
        .rev()
        .map(|o| {
            let m = o.metadata();
            match &m.name {
                Some(name) if !name.is_empty() => seen.insert((m.namespace.clone(), name.clone())),
                _ => true,
            }
        })
        .collect();
    keep.reverse();
    let mut flags = keep.into_iter();
    objects.retain(|_| flags.next().unwrap_or(true));
}
