//! The live view behind `rollout watch`: reflectors over watches of the DaemonSet (field selector
//! `metadata.name`), its pods (its label selector), its events and the nodes.
//!
//! Each view handed to the engine is the latest full content of these stores, never a sum of
//! deltas: after 410 Gone the watcher re-lists and the store is swapped at once when the list is
//! complete; after a dropped connection it re-watches from the last resourceVersion, with backoff.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::utils::Backoff;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Cluster, Request, api_error};
use crate::error::{Error, ErrorKind, Result};
use crate::fetch::selector_string;
use crate::snapshot::Snapshot;

/// Reconnect backoff: quick first retries (an apiserver restart takes seconds), capped low so
/// the watch resumes soon after the server is back.
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(4);
/// Signals taken in one batch before the view is recomputed (a re-list arrives as a burst).
const BATCH: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    DaemonSet,
    Pods,
    Nodes,
    Events,
    Revisions,
}

impl Source {
    fn resource(self) -> &'static str {
        match self {
            Source::DaemonSet => "daemonsets",
            Source::Pods => "pods",
            Source::Nodes => "nodes",
            Source::Events => "events",
            Source::Revisions => "controllerrevisions",
        }
    }

    /// Without nodes, events or revisions the watch still works, with less to say.
    fn required(self) -> bool {
        matches!(self, Source::DaemonSet | Source::Pods)
    }
}

enum Signal {
    /// A (re-)list is about to start; the server has not answered yet.
    Listing(Source),
    /// A complete list arrived (first list, or a re-list after 410 Gone).
    Listed(Source),
    Changed,
    Failed(Source, watcher::Error),
}

/// What one batch of watch signals amounted to.
#[derive(Debug, Default)]
pub struct Batch {
    /// The stores changed: recompute the view.
    pub changed: bool,
    /// The watches broke and are being re-established (what happened, for the user). Said once
    /// per interruption.
    pub interrupted: Option<String>,
    /// The first news from the server after an interruption.
    pub resumed: bool,
}

#[derive(Debug, Clone)]
struct Reconnect {
    next: Duration,
}

impl Iterator for Reconnect {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let current = self.next;
        self.next = (current * 2).min(BACKOFF_MAX);
        Some(current)
    }
}

impl Backoff for Reconnect {
    fn reset(&mut self) {
        self.next = BACKOFF_FIRST;
    }
}

pub struct Live {
    server: String,
    namespace: String,
    uid: String,
    daemonsets: Store<DaemonSet>,
    pods: Store<Pod>,
    nodes: Option<Store<Node>>,
    events: Option<Store<Event>>,
    revisions: Option<Store<ControllerRevision>>,
    signals: BoxStream<'static, Signal>,
    /// Sources that have not completed their first list yet.
    unlisted: HashSet<Source>,
    /// A watch failed and nothing has arrived since.
    broken: bool,
    /// What the watch cannot see (RBAC), to tell the user once.
    pub notes: Vec<String>,
}

/// A watch into a store, with the fields the engine never reads dropped (`trim`) to keep the
/// stores small. With `unchanged_after_trim`, an update that leaves the trimmed object as it was
/// (a node's heartbeat) is dropped: it would only make the view be computed again for nothing.
fn watch<K>(
    api: Api<K>,
    config: watcher::Config,
    source: Source,
    trim: fn(&mut K),
    unchanged_after_trim: bool,
) -> (Store<K>, BoxStream<'static, Signal>)
where
    K: Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (store, writer) = reflector::store();
    let mut fingerprints: HashMap<String, u64> = HashMap::new();
    let stream = watcher(api, config)
        .modify(move |o: &mut K| {
            o.meta_mut().managed_fields = None;
            trim(o);
        })
        .backoff(Reconnect { next: BACKOFF_FIRST })
        .filter(move |event| {
            let keep = !unchanged_after_trim || !repeats(&mut fingerprints, event);
            futures::future::ready(keep)
        })
        .reflect(writer)
        .map(move |event| match event {
            // The watcher says Init when it is about to list, before it asks the server: no news.
            Ok(watcher::Event::Init) => Signal::Listing(source),
            Ok(watcher::Event::InitDone) => Signal::Listed(source),
            Ok(_) => Signal::Changed,
            Err(e) => Signal::Failed(source, e),
        });
    (store, stream.boxed())
}

fn trim_node(n: &mut Node) {
    n.metadata.resource_version = None;
    if let Some(status) = n.status.as_mut() {
        status.images = None;
        for c in status.conditions.iter_mut().flatten() {
            c.last_heartbeat_time = None;
        }
    }
}

/// Whether `event` is an update that leaves the object as it was, by the fingerprint of its
/// serialized form (kept per name in `fingerprints`).
fn repeats<K: Resource + Serialize>(
    fingerprints: &mut HashMap<String, u64>,
    event: &std::result::Result<watcher::Event<K>, watcher::Error>,
) -> bool {
    let fingerprint = |o: &K| {
        let mut hasher = DefaultHasher::new();
        serde_json::to_vec(o).unwrap_or_default().hash(&mut hasher);
        hasher.finish()
    };
    let key = |o: &K| o.meta().name.clone().unwrap_or_default();
    match event {
        Ok(watcher::Event::Init) => fingerprints.clear(),
        Ok(watcher::Event::InitApply(o)) => {
            fingerprints.insert(key(o), fingerprint(o));
        }
        Ok(watcher::Event::Apply(o)) => {
            let new = fingerprint(o);
            return fingerprints.insert(key(o), new) == Some(new);
        }
        Ok(watcher::Event::Delete(o)) => {
            fingerprints.remove(&key(o));
        }
        Ok(watcher::Event::InitDone) | Err(_) => {}
    }
    false
}

/// Whether an optional resource can be listed; None with a note when it is forbidden.
async fn probe<K>(cluster: &Cluster, api: &Api<K>, req: Request<'_>, without: &str) -> Result<Option<String>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.list(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(None),
        Err(kube::Error::Api(s)) if s.code == 403 => Ok(Some(format!(
            "cannot {} {}{} (forbidden); {without}",
            req.verb,
            req.resource,
            req.namespace
                .map(|ns| format!(" in namespace {ns}"))
                .unwrap_or_default()
        ))),
        Err(e) => Err(api_error(&cluster.server, req, e)),
    }
}

impl Live {
    /// Starts the watches. `request_timeout` (kubectl's `--request-timeout`) bounds how long a
    /// read may wait, so each watch asks the server to end it sooner and is then resumed.
    pub async fn start(cluster: &Cluster, ds: &DaemonSet, request_timeout: Option<Duration>) -> Result<Live> {
        let namespace = ds.namespace().unwrap_or_default();
        let name = ds.name_any();
        let client = cluster.client.clone();
        let mut config = watcher::Config::default();
        if let Some(t) = request_timeout {
            config = config.timeout((t.as_secs() * 3 / 4).clamp(1, 290) as u32);
        }

        let nodes_api: Api<Node> = Api::all(client.clone());
        let events_api: Api<Event> = Api::namespaced(client.clone(), &namespace);
        let nodes_req = Request {
            verb: "list",
            resource: "nodes",
            namespace: None,
        };
        let events_req = Request {
            verb: "list",
            resource: "events",
            namespace: Some(&namespace),
        };
        let revisions_api: Api<ControllerRevision> = Api::namespaced(client.clone(), &namespace);
        let revisions_req = Request {
            verb: "list",
            resource: "controllerrevisions.apps",
            namespace: Some(&namespace),
        };
        let (nodes_note, events_note, revisions_note) = futures::try_join!(
            probe(
                cluster,
                &nodes_api,
                nodes_req,
                "nodes without a pod and node conditions are not shown"
            ),
            probe(
                cluster,
                &events_api,
                events_req,
                "the DaemonSet controller's warnings are not shown"
            ),
            probe(
                cluster,
                &revisions_api,
                revisions_req,
                "pods are matched to the current template by its generation only"
            ),
        )?;

        let ds_api: Api<DaemonSet> = Api::namespaced(client.clone(), &namespace);
        let (daemonsets, ds_stream) = watch(
            ds_api,
            config.clone().fields(&format!("metadata.name={name}")),
            Source::DaemonSet,
            |_| {},
            false,
        );
        let selector = ds
            .spec
            .as_ref()
            .map(|s| selector_string(&s.selector))
            .unwrap_or_default();
        let pods_api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let (pods, pod_stream) = watch(
            pods_api,
            config.clone().labels(&selector),
            Source::Pods,
            |_| {},
            false,
        );
        let mut streams = vec![ds_stream, pod_stream];
        let mut unlisted: HashSet<Source> = [Source::DaemonSet, Source::Pods].into();
        // The revisions tell the current template's hash (a pod carrying it is up to date, even
        // from an older generation); they carry the DaemonSet's selector labels.
        let revisions = if revisions_note.is_none() {
            let (store, s) = watch(
                revisions_api,
                config.clone().labels(&selector),
                Source::Revisions,
                |_| {},
                false,
            );
            streams.push(s);
            unlisted.insert(Source::Revisions);
            Some(store)
        } else {
            None
        };

        let nodes = if nodes_note.is_none() {
            // A kubelet (or kwok) rewrites its node's status to say it is alive; what a rollout
            // depends on (labels, taints, conditions and their transitions, allocatable) changes
            // rarely. Without the heartbeat times and the resourceVersion, a heartbeat is no
            // change, and thousands of nodes do not keep the view busy.
            let (store, s) = watch(nodes_api, config.clone(), Source::Nodes, trim_node, true);
            streams.push(s);
            unlisted.insert(Source::Nodes);
            Some(store)
        } else {
            None
        };
        let events = if events_note.is_none() {
            let fields = format!("involvedObject.kind=DaemonSet,involvedObject.name={name}");
            let (store, s) = watch(events_api, config.fields(&fields), Source::Events, |_| {}, false);
            streams.push(s);
            unlisted.insert(Source::Events);
            Some(store)
        } else {
            None
        };

        Ok(Live {
            server: cluster.server.clone(),
            namespace,
            uid: ds.metadata.uid.clone().unwrap_or_default(),
            daemonsets,
            pods,
            nodes,
            events,
            revisions,
            signals: stream::select_all(streams).boxed(),
            unlisted,
            broken: false,
            notes: [nodes_note, events_note, revisions_note]
                .into_iter()
                .flatten()
                .collect(),
        })
    }

    /// Waits for the next watch signal, then takes every signal already queued behind it.
    /// Forbidden or unauthorized on the DaemonSet or its pods ends the watch with an error;
    /// anything else is retried by the watchers.
    pub async fn next_batch(&mut self) -> Result<Batch> {
        let mut batch = Batch::default();
        let Some(first) = self.signals.next().await else {
            return Err(Error::new(ErrorKind::Api, "the watches ended unexpectedly"));
        };
        self.take(first, &mut batch)?;
        for _ in 0..BATCH {
            match self.signals.next().now_or_never() {
                Some(Some(signal)) => self.take(signal, &mut batch)?,
                _ => break,
            }
        }
        Ok(batch)
    }

    fn take(&mut self, signal: Signal, batch: &mut Batch) -> Result<()> {
        match signal {
            Signal::Listing(source) => {
                tracing::debug!("watch of {}: listing", source.resource());
            }
            Signal::Listed(source) => {
                self.unlisted.remove(&source);
                batch.changed = true;
                self.mend(batch);
            }
            Signal::Changed => {
                batch.changed = true;
                self.mend(batch);
            }
            // 410 Gone: the watcher re-lists by itself and the store is swapped when it is done.
            Signal::Failed(source, watcher::Error::WatchError(status)) if status.code == 410 => {
                tracing::info!(
                    "watch of {}: resourceVersion too old (410 Gone); listing again",
                    source.resource()
                );
            }
            Signal::Failed(source, e) => {
                let req = Request {
                    verb: "watch",
                    resource: source.resource(),
                    namespace: self.scope(source),
                };
                let error = match e {
                    watcher::Error::InitialListFailed(e)
                    | watcher::Error::WatchStartFailed(e)
                    | watcher::Error::WatchFailed(e) => api_error(&self.server, req, e),
                    watcher::Error::WatchError(status) => {
                        api_error(&self.server, req, kube::Error::Api(status))
                    }
                    watcher::Error::NoResourceVersion => Error::new(
                        ErrorKind::Api,
                        format!(
                            "watching {}: the server sent no resourceVersion",
                            source.resource()
                        ),
                    ),
                };
                match error.kind {
                    ErrorKind::Forbidden | ErrorKind::Unauthorized if source.required() => return Err(error),
                    _ if !self.broken => {
                        self.broken = true;
                        batch.resumed = false;
                        batch.interrupted = Some(error.message);
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// News from the server: the watches work again. Every watch resumes with the same backoff,
    /// so one of them hearing from the server is taken for all.
    fn mend(&mut self, batch: &mut Batch) {
        if self.broken {
            self.broken = false;
            batch.resumed = true;
        }
    }

    fn scope(&self, source: Source) -> Option<&str> {
        (source != Source::Nodes).then_some(self.namespace.as_str())
    }

    /// Every watch has completed its first list: the view is complete.
    pub fn is_listed(&self) -> bool {
        self.unlisted.is_empty()
    }

    /// The DaemonSet the watch started with (same uid), if it still exists.
    pub fn daemonset(&self) -> Option<Arc<DaemonSet>> {
        self.daemonsets
            .find(|d| d.metadata.uid.as_deref() == Some(self.uid.as_str()))
    }

    /// The latest full view: the DaemonSet, its pods, the nodes and its events.
    pub fn snapshot(&self, ds: &DaemonSet, now: Timestamp) -> Snapshot {
        fn owned<K>(store: Option<&Store<K>>) -> Vec<K>
        where
            K: kube::runtime::reflector::Lookup + Clone + 'static,
            K::DynamicType: Eq + std::hash::Hash + Clone,
        {
            store
                .map(|s| s.state().iter().map(|o| K::clone(o)).collect())
                .unwrap_or_default()
        }
        Snapshot {
            nodes: owned(self.nodes.as_ref()),
            daemonsets: vec![ds.clone()],
            pods: owned(Some(&self.pods)),
            revisions: owned(self.revisions.as_ref()),
            events: owned(self.events.as_ref()),
            taken_at: Some(now),
            partial: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(ready: &str, heartbeat: &str, rv: &str) -> Node {
        let mut n: Node = serde_json::from_value(json!({
            "metadata": {"name": "n1", "resourceVersion": rv},
            "status": {"conditions": [{"type": "Ready", "status": ready, "lastHeartbeatTime": heartbeat,
                                       "lastTransitionTime": "2026-11-21T10:00:00Z"}]},
        }))
        .unwrap();
        trim_node(&mut n);
        n
    }

    #[test]
    fn a_heartbeat_is_no_change_but_a_condition_is() {
        let mut seen = HashMap::new();
        type Ev = std::result::Result<watcher::Event<Node>, watcher::Error>;
        let event = |n: Node| -> Ev { Ok(watcher::Event::Apply(n)) };
        assert!(!repeats(
            &mut seen,
            &Ok(watcher::Event::InitApply(node(
                "True",
                "2026-11-21T10:00:00Z",
                "1"
            )))
        ));
        assert!(
            repeats(&mut seen, &event(node("True", "2026-11-21T10:00:20Z", "2"))),
            "heartbeat"
        );
        assert!(
            !repeats(&mut seen, &event(node("False", "2026-11-21T10:00:40Z", "3"))),
            "NotReady"
        );
        assert!(repeats(
            &mut seen,
            &event(node("False", "2026-11-21T10:01:00Z", "4"))
        ));
        // A re-list starts afresh: the same object is news again.
        assert!(!repeats::<Node>(&mut seen, &Ok(watcher::Event::Init)));
        assert!(!repeats(
            &mut seen,
            &event(node("False", "2026-11-21T10:01:20Z", "5"))
        ));
    }
}
