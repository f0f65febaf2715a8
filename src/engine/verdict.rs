//! One verdict per (DaemonSet, node): the controller's eligibility, joined with the DaemonSet's
//! pods, the node and the events, in the words of the JSON contract (README, "JSON schema").

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use serde::Serialize;

use super::eligibility::{Check, node_should_run_daemon_pod};
use super::fit::why_not_fit;
use super::pods::{
    controller_order, is_bound, is_ready, is_terminating, is_updated, node_ready, pod_problems,
    revision_hash, target_node,
};
use super::sync::{self, Claim, Hash, NextMove, Plan, View};
use super::{Reason, Rule};
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    /// A pod of this DaemonSet is on the node and Ready.
    Running,
    /// A pod is bound to the node but not Ready.
    NotReady,
    /// A pod exists for the node but is not bound.
    Pending,
    /// The node is eligible and no pod exists.
    Missing,
    /// A pod is there but the node is no longer eligible.
    Misscheduled,
    /// The controller places no pod here.
    NotEligible,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Running => "running",
            VerdictKind::NotReady => "not-ready",
            VerdictKind::Pending => "pending",
            VerdictKind::Missing => "missing",
            VerdictKind::Misscheduled => "misscheduled",
            VerdictKind::NotEligible => "not-eligible",
        }
    }

    /// Whether this verdict is what the controller intends: a Ready pod where one should be, or
    /// no pod where none should be.
    pub fn is_fine(self) -> bool {
        matches!(self, VerdictKind::Running | VerdictKind::NotEligible)
    }
}

/// Whether every verdict is what the controller intends: the exit code of `status DS` and `why-not`.
pub fn all_fine(verdicts: &[Verdict]) -> bool {
    verdicts.iter().all(|v| v.verdict.is_fine())
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub namespace: String,
    pub daemonset: String,
    pub node: String,
    pub verdict: VerdictKind,
    /// The pod the verdict is about (the oldest of the node's pods, as the controller picks), if any.
    pub pod: Option<String>,
    pub reasons: Vec<Reason>,
    pub should_run: bool,
    pub should_continue_running: bool,
    /// Whether the pod runs the DaemonSet's current revision; null without a pod or when the
    /// current revision is not known.
    pub updated: Option<bool>,
    /// The pod's controller-revision-hash.
    pub revision: Option<String>,
    /// What the controller's next sync does on this node (engine::sync).
    pub next: NextMove,
    /// Every rule evaluated (only with `-o wide`/`--explain`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

impl Verdict {
    /// The first reason (groups nodes with the same problem).
    pub fn main_reason(&self) -> &str {
        self.reasons.first().map(|r| r.message.as_str()).unwrap_or("")
    }
}

/// The snapshot, indexed for many verdicts: nodes by name, pods by namespace and by the node they
/// are bound to, the current revision of each DaemonSet, and each DaemonSet's next sync (made
/// when first asked for).
pub struct Index<'a> {
    pub snapshot: &'a Snapshot,
    nodes: HashMap<&'a str, &'a Node>,
    node_list: Vec<&'a Node>,
    /// namespace → its pods.
    ns_pods: HashMap<&'a str, Vec<&'a Pod>>,
    /// node name → every pod bound to it (any owner), for the scheduler-layer check.
    bound: HashMap<&'a str, Vec<&'a Pod>>,
    /// DaemonSet uid → its current controller-revision-hash, when known.
    current_hash: HashMap<&'a str, String>,
    /// DaemonSet uids with at least one revision in the view.
    with_revisions: HashSet<&'a str>,
    /// DaemonSet uid → its claimed pods by node (oldest first), released pods by node, next sync.
    claims: HashMap<&'a str, OnceCell<Claimed<'a>>>,
}

/// One DaemonSet's pods as the controller's claim sees them, and its next sync.
struct Claimed<'a> {
    pods: HashMap<&'a str, Vec<&'a Pod>>,
    released: HashMap<&'a str, Vec<&'a Pod>>,
    /// Every pod the claim looks at (kept, adopted, released).
    mine: Vec<&'a Pod>,
    /// The current revision's hash, if known; whether the DaemonSet has revisions at all.
    hash: Option<String>,
    has_revisions: bool,
    /// The next sync over every node, made when first asked for (not for a partial view).
    plan: OnceCell<Plan>,
}

pub use super::pods::controller_uid;

impl<'a> Index<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Self {
        let nodes = snapshot
            .nodes
            .iter()
            .filter_map(|n| Some((n.metadata.name.as_deref()?, n)))
            .collect();
        let mut ns_pods: HashMap<&str, Vec<&Pod>> = HashMap::new();
        let mut bound: HashMap<&str, Vec<&Pod>> = HashMap::new();
        for pod in &snapshot.pods {
            if let Some(node) = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .filter(|n| !n.is_empty())
            {
                bound.entry(node).or_default().push(pod);
            }
            ns_pods
                .entry(pod.metadata.namespace.as_deref().unwrap_or(""))
                .or_default()
                .push(pod);
        }
        let mut current_hash = HashMap::new();
        let mut claims = HashMap::new();
        for ds in &snapshot.daemonsets {
            if let Some(uid) = ds.metadata.uid.as_deref() {
                claims.insert(uid, OnceCell::new());
                if let Some(hash) = super::revisions::current_hash(ds, &snapshot.revisions) {
                    current_hash.insert(uid, hash);
                }
            }
        }
        let with_revisions = snapshot
            .revisions
            .iter()
            .flat_map(|r| r.metadata.owner_references.iter().flatten())
            .filter(|o| o.controller == Some(true))
            .map(|o| o.uid.as_str())
            .collect();
        Index {
            snapshot,
            nodes,
            node_list: snapshot.nodes.iter().collect(),
            ns_pods,
            bound,
            current_hash,
            with_revisions,
            claims,
        }
    }

    /// An index that also knows `ds`, which the snapshot need not list (a watch's view).
    pub fn with_daemonset(snapshot: &'a Snapshot, ds: &'a DaemonSet) -> Self {
        let mut index = Index::new(snapshot);
        if let Some(uid) = ds.metadata.uid.as_deref() {
            index.claims.entry(uid).or_default();
            if let Some(hash) = super::revisions::current_hash(ds, &snapshot.revisions) {
                index.current_hash.insert(uid, hash);
            }
        }
        index
    }

    pub fn node(&self, name: &str) -> Option<&'a Node> {
        self.nodes.get(name).copied()
    }

    fn claimed(&self, ds: &DaemonSet) -> Option<&Claimed<'a>> {
        let uid = ds.metadata.uid.as_deref()?;
        let cell = self.claims.get(uid)?;
        Some(cell.get_or_init(|| {
            let namespace = ds.metadata.namespace.as_deref().unwrap_or("");
            let candidates = self.ns_pods.get(namespace).map(Vec::as_slice).unwrap_or(&[]);
            let mut pods: HashMap<&str, Vec<&Pod>> = HashMap::new();
            let mut released: HashMap<&str, Vec<&Pod>> = HashMap::new();
            let mut mine: Vec<&Pod> = Vec::new();
            for pod in candidates.iter().copied() {
                let claim = sync::claim(ds, pod);
                if claim == Claim::Ignored {
                    continue;
                }
                mine.push(pod);
                let Some(node) = target_node(pod) else { continue };
                match claim {
                    Claim::Released => released.entry(node).or_default().push(pod),
                    _ => pods.entry(node).or_default().push(pod),
                }
            }
            for list in pods.values_mut() {
                list.sort_by(|a, b| controller_order(a, b));
            }
            Claimed {
                pods,
                released,
                mine,
                hash: self.current_hash.get(uid).cloned(),
                has_revisions: self.with_revisions.contains(uid),
                plan: OnceCell::new(),
            }
        }))
    }

    /// The DaemonSet's pods mapped to a node as the controller claims them, oldest first.
    pub fn pods_for(&self, ds: &DaemonSet, node: &str) -> &[&'a Pod] {
        self.claimed(ds)
            .and_then(|c| c.pods.get(node))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The DaemonSet's current revision hash, if its ControllerRevisions say.
    pub fn current_hash(&self, ds: &DaemonSet) -> Option<&str> {
        ds.metadata
            .uid
            .as_deref()
            .and_then(|uid| self.current_hash.get(uid))
            .map(String::as_str)
    }

    /// The controller's next sync of the DaemonSet.
    pub fn plan(&self, ds: &DaemonSet) -> Option<&Plan> {
        let claimed = self.claimed(ds)?;
        Some(
            claimed
                .plan
                .get_or_init(|| sync::next_sync(ds, &self.view(claimed, &self.node_list))),
        )
    }

    fn view<'v>(&self, claimed: &'v Claimed<'a>, nodes: &'v [&'v Node]) -> View<'v> {
        View {
            nodes,
            pods: &claimed.mine,
            hash: match &claimed.hash {
                Some(h) => Hash::Known(h),
                None if claimed.has_revisions => Hash::New,
                None => Hash::Unknown,
            },
            now: self
                .snapshot
                .taken_at
                .unwrap_or_else(k8s_openapi::jiff::Timestamp::now),
            complete: !self.snapshot.partial,
        }
    }

    /// What the controller's next sync does on one node. A partial view (one node, as `why-not`
    /// reads it) makes it for that node alone: the other nodes' pods are not in it.
    pub fn next_move(&self, ds: &DaemonSet, node: &Node) -> NextMove {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let found = if self.snapshot.partial {
            self.claimed(ds).and_then(|c| {
                sync::next_sync(ds, &self.view(c, std::slice::from_ref(&node)))
                    .move_for(name)
                    .cloned()
            })
        } else {
            self.plan(ds).and_then(|p| p.move_for(name)).cloned()
        };
        found.unwrap_or_else(|| NextMove::unknown("the DaemonSet has no uid in the view"))
    }

    /// The verdict for one DaemonSet on one node.
    pub fn verdict(&self, ds: &DaemonSet, node: &Node, explain: bool) -> Verdict {
        let node_name = node.metadata.name.as_deref().unwrap_or("");
        let elig = node_should_run_daemon_pod(node, ds);
        // Since 1.28 pods that are terminal and being deleted no longer count for anything.
        let (pods, gone): (Vec<&Pod>, Vec<&Pod>) = self
            .pods_for(ds, node_name)
            .iter()
            .partition(|p| !super::pods::ended_and_deleting(p));
        let hash = self.current_hash(ds);
        let generation = template_generation(ds);

        let mut verdict = Verdict {
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            daemonset: ds.metadata.name.clone().unwrap_or_default(),
            node: node_name.to_string(),
            verdict: VerdictKind::NotEligible,
            pod: None,
            reasons: Vec::new(),
            should_run: elig.should_run,
            should_continue_running: elig.should_continue_running,
            updated: None,
            revision: None,
            next: self.next_move(ds, node),
            checks: if explain { elig.checks.clone() } else { Vec::new() },
        };
        let released: Vec<Reason> = self
            .claimed(ds)
            .and_then(|c| c.released.get(node_name))
            .into_iter()
            .flatten()
            .map(|p| sync::released_reason(p))
            .collect();

        let Some(pod) = pods.first().copied() else {
            if elig.should_run {
                verdict.verdict = VerdictKind::Missing;
                let known_cause = !released.is_empty();
                verdict.reasons = released;
                verdict
                    .reasons
                    .extend(self.missing_reasons(ds, node_name, &gone, known_cause));
            } else {
                verdict.reasons = elig.reasons;
                if let Err(text) = node_ready(node) {
                    verdict.reasons.push(Reason::new(Rule::NodeNotReady, text));
                }
                verdict.reasons.extend(released);
            }
            return verdict;
        };

        verdict.pod = pod.metadata.name.clone();
        verdict.revision = revision_hash(pod).map(str::to_string);
        verdict.updated = (hash.is_some() || generation.is_some()).then(|| is_updated(pod, hash, generation));
        if pods.len() > 1 {
            verdict.reasons.push(Reason::new(
                Rule::Controller,
                format!(
                    "{} pods of this DaemonSet are on the node: {}",
                    pods.len(),
                    pods.iter()
                        .map(|p| p.metadata.name.as_deref().unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        verdict.reasons.extend(released);

        if !elig.should_run {
            verdict.verdict = VerdictKind::Misscheduled;
            let mut reasons = elig.reasons;
            if let Err(text) = node_ready(node) {
                reasons.push(Reason::new(Rule::NodeNotReady, text));
            }
            if !is_bound(pod) {
                reasons.push(Reason::new(
                    Rule::Scheduler,
                    format!(
                        "pod {} is Pending: the scheduler will not bind it to a node that does not qualify",
                        pod.metadata.name.as_deref().unwrap_or("")
                    ),
                ));
            }
            reasons.append(&mut verdict.reasons);
            verdict.reasons = reasons;
            return verdict;
        }

        if !is_bound(pod) {
            verdict.verdict = VerdictKind::Pending;
            let bound = self.bound.get(node_name).map(Vec::as_slice).unwrap_or(&[]);
            // The local check names the exact shortfall; the scheduler's message follows it.
            verdict.reasons.extend(why_not_fit(pod, node, bound));
            verdict.reasons.extend(pod_problems(pod, Some(node)));
        } else if is_ready(pod) {
            verdict.verdict = VerdictKind::Running;
            if is_terminating(pod) {
                verdict
                    .reasons
                    .push(Reason::new(Rule::Controller, "the pod is terminating"));
            }
        } else {
            verdict.verdict = VerdictKind::NotReady;
            verdict.reasons.extend(pod_problems(pod, Some(node)));
        }
        verdict
    }

    /// Why an eligible node has no pod: the controller's side of things.
    fn missing_reasons(&self, ds: &DaemonSet, node: &str, gone: &[&Pod], known_cause: bool) -> Vec<Reason> {
        let mut reasons = Vec::new();
        if ds.metadata.deletion_timestamp.is_some() {
            reasons.push(Reason::new(Rule::Controller, "the DaemonSet is being deleted"));
        }
        let generation = ds.metadata.generation.unwrap_or(0);
        let observed = ds
            .status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0);
        if observed < generation {
            reasons.push(Reason::new(
                Rule::Controller,
                format!("the controller has not caught up yet (observedGeneration {observed} < generation {generation})"),
            ));
        }
        for pod in gone {
            reasons.push(Reason::new(
                Rule::Controller,
                format!(
                    "the previous pod {} has ended and is being deleted; it no longer counts",
                    pod.metadata.name.as_deref().unwrap_or("")
                ),
            ));
        }
        if let Some(event) = latest_failed_create(&self.snapshot.events, ds) {
            reasons.push(Reason::new(
                Rule::Controller,
                format!("FailedCreate: {}", event.message.as_deref().unwrap_or("").trim()),
            ));
        }
        if reasons.is_empty() && !known_cause {
            let age = self
                .node(node)
                .and_then(|n| n.metadata.creation_timestamp.as_ref())
                .zip(self.snapshot.taken_at);
            let new_node = age.is_some_and(|(created, now)| now.duration_since(created.0).as_secs() < 30);
            reasons.push(Reason::new(
                Rule::Controller,
                if new_node {
                    "the node is new: no pod yet".to_string()
                } else {
                    "no pod exists although the node qualifies; if it stays so, check the DaemonSet's events and the controller manager"
                        .to_string()
                },
            ));
        }
        reasons
    }
}

/// The template generation the controller stamps on pods (`pod-template-generation`).
pub fn template_generation(ds: &DaemonSet) -> Option<i64> {
    ds.metadata
        .annotations
        .as_ref()?
        .get("deprecated.daemonset.template.generation")?
        .parse()
        .ok()
}

fn latest_failed_create<'e>(events: &'e [Event], ds: &DaemonSet) -> Option<&'e Event> {
    let uid = ds.metadata.uid.as_deref();
    let name = ds.metadata.name.as_deref();
    events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .filter(|e| {
            let o = &e.involved_object;
            o.kind.as_deref() == Some("DaemonSet")
                && (o.uid.as_deref() == uid || (o.uid.is_none() && o.name.as_deref() == name))
                && o.namespace == ds.metadata.namespace
        })
        .max_by_key(|e| {
            e.last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or(e.event_time.as_ref().map(|t| t.0))
        })
}
