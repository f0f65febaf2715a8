//! Rollout progress of one DaemonSet (semantics §5, §6.2–6.7, §7.1): kubectl's done condition,
//! the nodes that hold the rollout up and why, the observed rate (ETA) and stuck detection.
//!
//! Everything here is recomputed from one full view of the DaemonSet, its pods, the nodes and
//! the events; nothing is accumulated from watch deltas, so a re-list or a reconnect can never
//! lose or double-count progress. Only [`Tracker`] keeps history: when the counts last moved.

use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::eligibility::node_should_run_daemon_pod;
use super::pods::{
    controller_order, is_available, is_bound, is_ready, is_terminating, is_updated, pod_problems,
    revision_hash, target_node,
};
use super::revisions::current_hash;
use super::verdict::{Index, controller_uid, template_generation};
use super::{Reason, Rule};
use crate::snapshot::Snapshot;

/// Warning events older than this are history, not a reason the rollout is held up now.
const RECENT_WARNING: SignedDuration = SignedDuration::from_secs(10 * 60);
/// A rate measured over less than this many seconds is noise, not a basis for an ETA.
const MIN_RATE_WINDOW: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Strategy {
    RollingUpdate,
    OnDelete,
}

/// The DaemonSet's status counters (semantics §5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub desired: i32,
    pub current: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    pub misscheduled: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "kebab-case")]
pub enum Phase {
    /// The controller has not acted on the latest spec yet (`observedGeneration < generation`).
    WaitingForController { generation: i64, observed: i64 },
    /// The controller has caught up and the rollout is not done.
    Progressing,
    /// kubectl's condition holds: caught up, every desired node updated and available.
    Complete,
}

/// Why one node holds the rollout up, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Holdup {
    /// The node should run a pod and has none.
    NoPod,
    /// The pod the rollout waits for is not scheduled.
    Pending,
    /// The pod the rollout waits for is not Ready (or its node is not).
    NotReady,
    /// The updated pod is Ready but not yet for `minReadySeconds`.
    NotAvailableYet,
    /// The old pod is terminating; the updated one comes once it is gone.
    Replacing,
    /// The pod runs an old revision: it waits its turn (RollingUpdate) or its deletion (OnDelete).
    Outdated,
}

impl Holdup {
    /// Something is wrong here, as opposed to the rollout simply not having got to the node yet.
    pub fn is_problem(self) -> bool {
        matches!(self, Holdup::NoPod | Holdup::Pending | Holdup::NotReady)
    }
}

/// One node holding the rollout up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeHoldup {
    pub node: String,
    /// The pod the rollout waits on there, if there is one.
    pub pod: Option<String>,
    pub holdup: Holdup,
    pub reasons: Vec<Reason>,
}

impl NodeHoldup {
    /// The reasons on one line.
    pub fn summary(&self) -> String {
        let texts: Vec<&str> = self.reasons.iter().map(|r| r.message.as_str()).collect();
        texts.join("; ")
    }
}

/// Where one DaemonSet's rollout stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub namespace: String,
    pub name: String,
    pub generation: i64,
    pub observed_generation: i64,
    pub strategy: Strategy,
    /// `rollingUpdate.maxUnavailable` / `maxSurge` as written (defaults 1 and 0).
    pub max_unavailable: String,
    pub max_surge: String,
    pub min_ready_seconds: i32,
    pub counts: Counts,
    /// Desired nodes whose pod runs the current template and is available: the unit of the ETA.
    pub updated_available: i32,
    /// The controller-revision-hash of the pods made from the current template, once one exists.
    pub revision: Option<String>,
    /// The template's containers as (name, image).
    pub images: Vec<(String, String)>,
    /// Nodes holding the rollout up, most severe first, then by node name.
    pub holdups: Vec<NodeHoldup>,
    /// Recent Warning events of the DaemonSet ("FailedCreate: ...").
    pub warnings: Vec<String>,
    pub phase: Phase,
}

impl Progress {
    pub fn is_complete(&self) -> bool {
        self.phase == Phase::Complete
    }

    /// Pods still on an old revision (for OnDelete: the ones awaiting deletion).
    pub fn outdated(&self) -> impl Iterator<Item = &NodeHoldup> {
        self.holdups.iter().filter(|h| h.holdup == Holdup::Outdated)
    }

    /// The holdups worth naming first: the problems if there are any, else all of them.
    pub fn main_holdups(&self) -> Vec<&NodeHoldup> {
        let problems: Vec<&NodeHoldup> = self.holdups.iter().filter(|h| h.holdup.is_problem()).collect();
        if problems.is_empty() {
            self.holdups.iter().collect()
        } else {
            problems
        }
    }
}

// mirrors DaemonSetStatusViewer.Status (kubectl polymorphichelpers/rollout_status.go), without
// the RollingUpdate-only refusal: OnDelete rollouts are followed the same way.
pub fn phase_of(ds: &DaemonSet) -> Phase {
    let generation = ds.metadata.generation.unwrap_or(0);
    let status = ds.status.as_ref();
    let observed = status.and_then(|s| s.observed_generation).unwrap_or(0);
    if generation > observed {
        return Phase::WaitingForController { generation, observed };
    }
    let desired = status.map(|s| s.desired_number_scheduled).unwrap_or(0);
    let updated = status.and_then(|s| s.updated_number_scheduled).unwrap_or(0);
    let available = status.and_then(|s| s.number_available).unwrap_or(0);
    if updated < desired || available < desired {
        Phase::Progressing
    } else {
        Phase::Complete
    }
}

fn int_or_string(v: Option<&IntOrString>, default: &str) -> String {
    match v {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => default.to_string(),
    }
}

/// Where the rollout of `ds` stands by its status alone, before its pods and the nodes are seen:
/// no per-node analysis, and the revision is not known.
pub fn status_only(ds: &DaemonSet) -> Progress {
    let spec = ds.spec.as_ref();
    let strategy_spec = spec.and_then(|s| s.update_strategy.as_ref());
    let strategy = match strategy_spec.and_then(|s| s.type_.as_deref()) {
        Some("OnDelete") => Strategy::OnDelete,
        _ => Strategy::RollingUpdate,
    };
    let rolling = strategy_spec.and_then(|s| s.rolling_update.as_ref());
    let min_ready_seconds = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let status = ds.status.as_ref();
    let counts = Counts {
        desired: status.map(|s| s.desired_number_scheduled).unwrap_or(0),
        current: status.map(|s| s.current_number_scheduled).unwrap_or(0),
        updated: status.and_then(|s| s.updated_number_scheduled).unwrap_or(0),
        ready: status.map(|s| s.number_ready).unwrap_or(0),
        available: status.and_then(|s| s.number_available).unwrap_or(0),
        misscheduled: status.map(|s| s.number_misscheduled).unwrap_or(0),
    };
    let images = spec
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| {
            p.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();

    Progress {
        namespace: ds.metadata.namespace.clone().unwrap_or_default(),
        name: ds.metadata.name.clone().unwrap_or_default(),
        generation: ds.metadata.generation.unwrap_or(0),
        observed_generation: status.and_then(|s| s.observed_generation).unwrap_or(0),
        strategy,
        max_unavailable: int_or_string(rolling.and_then(|r| r.max_unavailable.as_ref()), "1"),
        max_surge: int_or_string(rolling.and_then(|r| r.max_surge.as_ref()), "0"),
        min_ready_seconds,
        counts,
        updated_available: counts.updated.min(counts.available).max(0),
        revision: None,
        images,
        holdups: Vec::new(),
        warnings: Vec::new(),
        phase: phase_of(ds),
    }
}

/// Where the rollout of `ds` stands, from a view holding the DaemonSet's pods, the nodes (may be
/// empty when they cannot be listed) and the DaemonSet's events.
pub fn evaluate(view: &Snapshot, ds: &DaemonSet, now: Timestamp) -> Progress {
    let warnings = recent_warnings(view, ds, now);
    let mut progress = status_only(ds);
    let ctx = Ctx {
        warnings: warnings.clone(),
        strategy: progress.strategy,
        max_unavailable: progress.max_unavailable.clone(),
        template_generation: template_generation(ds),
        current_hash: current_hash(ds, &view.revisions),
        min_ready_seconds: progress.min_ready_seconds,
        now,
    };
    let uid = ds.metadata.uid.as_deref();
    let own: Vec<&Pod> = view
        .pods
        .iter()
        .filter(|p| uid.is_some() && controller_uid(p) == uid)
        .collect();

    let mut holdups = Vec::new();
    let mut updated_available = 0;
    if view.nodes.is_empty() {
        // Without nodes, the nodes are those the pods are for; a desired node without a pod
        // can only be counted, not named.
        let mut names: Vec<&str> = own.iter().filter_map(|p| target_node(p)).collect();
        names.sort_unstable();
        names.dedup();
        for name in &names {
            let mut pods: Vec<&Pod> = own
                .iter()
                .copied()
                .filter(|p| target_node(p) == Some(name))
                .collect();
            pods.sort_by(|a, b| controller_order(a, b));
            match ctx.node(name, None, &pods) {
                NodeOutcome::Done => updated_available += 1,
                NodeOutcome::Held(h) => holdups.push(h),
            }
        }
        let without_pod = progress.counts.desired - names.len() as i32;
        if without_pod > 0 {
            holdups.push(NodeHoldup {
                node: "?".to_string(),
                pod: None,
                holdup: Holdup::NoPod,
                reasons: vec![Reason::new(
                    Rule::Controller,
                    format!(
                        "{without_pod} desired node(s) have no pod; which ones is unknown without permission to list nodes"
                    ),
                )],
            });
        }
    } else {
        let index = Index::with_daemonset(view, ds);
        let mut nodes: Vec<&Node> = view.nodes.iter().collect();
        nodes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        for node in nodes {
            if !node_should_run_daemon_pod(node, ds).should_run {
                continue;
            }
            let name = node.metadata.name.as_deref().unwrap_or("");
            let pods: Vec<&Pod> = index.pods_for(ds, name).to_vec();
            match ctx.node(name, Some(node), &pods) {
                NodeOutcome::Done => updated_available += 1,
                NodeOutcome::Held(h) => holdups.push(h),
            }
        }
    }
    holdups.sort_by(|a, b| a.holdup.cmp(&b.holdup).then_with(|| a.node.cmp(&b.node)));

    progress.updated_available = updated_available.min(progress.counts.desired.max(0));
    progress.revision = ctx
        .current_hash
        .clone()
        .or_else(|| current_revision(&own, ctx.template_generation));
    progress.holdups = holdups;
    progress.warnings = warnings;
    progress
}

/// The hash of the newest pod made from the current template (when the ControllerRevisions are not
/// known).
fn current_revision(pods: &[&Pod], template_generation: Option<i64>) -> Option<String> {
    let generation = template_generation?;
    pods.iter()
        .filter(|p| is_updated(p, None, Some(generation)))
        .max_by(|a, b| a.metadata.creation_timestamp.cmp(&b.metadata.creation_timestamp))
        .and_then(|p| revision_hash(p))
        .map(str::to_string)
}

fn recent_warnings(view: &Snapshot, ds: &DaemonSet, now: Timestamp) -> Vec<String> {
    let mut events: Vec<(Timestamp, String)> = view
        .events
        .iter()
        .filter(|e| e.type_.as_deref() == Some("Warning"))
        .filter(|e| {
            let o = &e.involved_object;
            o.kind.as_deref() == Some("DaemonSet")
                && o.name == ds.metadata.name
                && (o.uid.is_none() || o.uid == ds.metadata.uid)
        })
        .filter_map(|e| {
            let seen = e
                .series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
                .or(e.last_timestamp.as_ref().map(|t| t.0))
                .or(e.event_time.as_ref().map(|t| t.0))?;
            let text = format!(
                "{}: {}",
                e.reason.as_deref().unwrap_or("Warning"),
                e.message.as_deref().unwrap_or("").trim()
            );
            (now.duration_since(seen) <= RECENT_WARNING).then_some((seen, text))
        })
        .collect();
    events.sort();
    let mut texts: Vec<String> = events.into_iter().rev().map(|(_, t)| t).collect();
    texts.dedup();
    texts.truncate(3);
    texts
}

struct Ctx {
    /// Recent Warning events of the DaemonSet: why the controller may fail to create a pod.
    warnings: Vec<String>,
    strategy: Strategy,
    max_unavailable: String,
    template_generation: Option<i64>,
    /// The hash of the ControllerRevision holding the current template, when the revisions are
    /// known: a pod carrying it is up to date whatever template generation made it (the
    /// controller reuses a revision when a template comes back, as after an undo).
    current_hash: Option<String>,
    min_ready_seconds: i32,
    now: Timestamp,
}

enum NodeOutcome {
    Done,
    Held(NodeHoldup),
}

impl Ctx {
    /// As the controller's `IsPodUpdated`: the current revision's hash or the current template
    /// generation. Without a known template generation nothing can be called outdated.
    fn updated(&self, pod: &Pod) -> bool {
        self.template_generation.is_none()
            || is_updated(pod, self.current_hash.as_deref(), self.template_generation)
    }

    /// One desired node: done (oldest pod updated and available, as the controller counts), or
    /// what it waits for. `pods` are the DaemonSet's pods for the node, oldest first.
    fn node(&self, name: &str, node: Option<&Node>, pods: &[&Pod]) -> NodeOutcome {
        let held = |pod: Option<&Pod>, holdup: Holdup, reasons: Vec<Reason>| {
            NodeOutcome::Held(NodeHoldup {
                node: name.to_string(),
                pod: pod.and_then(|p| p.metadata.name.clone()),
                holdup,
                reasons,
            })
        };
        // Since 1.28 pods that are terminal and being deleted no longer count for anything.
        let live: Vec<&Pod> = pods
            .iter()
            .copied()
            .filter(|p| !super::pods::ended_and_deleting(p))
            .collect();
        let Some(oldest) = live.first().copied() else {
            // Between deleting the old pod and creating the new one a node has no pod: normal in
            // a rollout, unless the controller reports that it cannot create pods.
            let mut reasons: Vec<Reason> = pods
                .iter()
                .map(|p| {
                    let text = format!(
                        "previous pod {} is terminating; a new one follows once it is gone",
                        name_of(p)
                    );
                    Reason::new(Rule::Controller, text)
                })
                .collect();
            if reasons.is_empty() {
                reasons.push(Reason::new(
                    Rule::Controller,
                    "no pod yet; the controller creates one",
                ));
            }
            for warning in &self.warnings {
                reasons.push(Reason::new(
                    Rule::Controller,
                    format!("controller warning {warning}"),
                ));
            }
            return held(None, Holdup::NoPod, reasons);
        };
        if self.updated(oldest) {
            return self.updated_pod(oldest, node, held);
        }
        // The oldest pod is outdated. With surge, an updated pod may already run beside it.
        if let Some(new) = live.iter().skip(1).copied().find(|p| self.updated(p)) {
            return match self.updated_pod(new, node, held) {
                NodeOutcome::Done => held(
                    Some(oldest),
                    Holdup::Replacing,
                    vec![Reason::new(
                        Rule::Controller,
                        format!(
                            "updated pod {} is available; the old pod {} goes next",
                            name_of(new),
                            name_of(oldest)
                        ),
                    )],
                ),
                waiting => waiting,
            };
        }
        let old = format!("pod {}{}", name_of(oldest), revision_suffix(oldest));
        if is_terminating(oldest) {
            return held(
                Some(oldest),
                Holdup::Replacing,
                vec![Reason::new(
                    Rule::Controller,
                    format!("old {old} is terminating; the updated pod is created once it is gone"),
                )],
            );
        }
        match self.strategy {
            Strategy::OnDelete => {
                let mut reasons = vec![Reason::new(
                    Rule::Controller,
                    format!(
                        "{old} is outdated and awaits deletion (OnDelete replaces a pod only when it is deleted)"
                    ),
                )];
                if !is_ready(oldest) {
                    reasons.extend(pod_problems(oldest, node));
                }
                held(Some(oldest), Holdup::Outdated, reasons)
            }
            Strategy::RollingUpdate if !is_ready(oldest) => {
                let mut reasons = pod_problems(oldest, node);
                reasons.push(Reason::new(
                    Rule::Controller,
                    format!("{old} is outdated and unavailable; the controller replaces it regardless of maxUnavailable"),
                ));
                held(Some(oldest), Holdup::NotReady, reasons)
            }
            Strategy::RollingUpdate => held(
                Some(oldest),
                Holdup::Outdated,
                vec![Reason::new(
                    Rule::Controller,
                    format!(
                        "{old} is outdated and waits its turn (maxUnavailable {})",
                        self.max_unavailable
                    ),
                )],
            ),
        }
    }

    fn updated_pod(
        &self,
        pod: &Pod,
        node: Option<&Node>,
        held: impl Fn(Option<&Pod>, Holdup, Vec<Reason>) -> NodeOutcome,
    ) -> NodeOutcome {
        if !is_bound(pod) {
            return held(Some(pod), Holdup::Pending, pod_problems(pod, node));
        }
        if !is_ready(pod) {
            return held(Some(pod), Holdup::NotReady, pod_problems(pod, node));
        }
        if is_available(pod, self.min_ready_seconds, self.now) {
            return NodeOutcome::Done;
        }
        held(
            Some(pod),
            Holdup::NotAvailableYet,
            vec![Reason::new(
                Rule::Controller,
                format!(
                    "pod {} is Ready and becomes available after minReadySeconds ({}s)",
                    name_of(pod),
                    self.min_ready_seconds
                ),
            )],
        )
    }
}

fn name_of(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

fn revision_suffix(pod: &Pod) -> String {
    revision_hash(pod)
        .map(|h| format!(" (revision {h})"))
        .unwrap_or_default()
}

/// The counts that say whether a rollout moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    generation: i64,
    observed: i64,
    updated: i32,
    ready: i32,
    available: i32,
    updated_available: i32,
    outdated: usize,
}

impl Mark {
    fn of(p: &Progress) -> Self {
        Mark {
            generation: p.generation,
            observed: p.observed_generation,
            updated: p.counts.updated,
            ready: p.counts.ready,
            available: p.counts.available,
            updated_available: p.updated_available,
            outdated: p.outdated().count(),
        }
    }

    // mirrors DeploymentProgressing (pkg/controller/deployment/util): any count moving forward is
    // progress; a DaemonSet has no condition of its own to read it from.
    fn moved_forward_from(&self, prev: &Mark) -> bool {
        self.generation != prev.generation
            || self.observed > prev.observed
            || self.updated > prev.updated
            || self.ready > prev.ready
            || self.available > prev.available
            || self.updated_available > prev.updated_available
            || self.outdated < prev.outdated
    }
}

/// What the watch remembers between views: when the rollout last moved forward (stuck
/// detection) and where the current generation's rollout started (the observed rate, for the ETA).
#[derive(Debug, Clone)]
pub struct Tracker {
    last_progress: Timestamp,
    previous: Option<Mark>,
    /// (when, updated_available, generation) at the first view of the current generation.
    baseline: Option<(Timestamp, i32, i64)>,
}

impl Tracker {
    /// Starts tracking at `now`: the progress deadline counts from the start of the watch.
    pub fn new(now: Timestamp) -> Self {
        Tracker {
            last_progress: now,
            previous: None,
            baseline: None,
        }
    }

    /// Takes in a new view; returns whether the rollout moved forward since the previous one.
    pub fn observe(&mut self, p: &Progress, now: Timestamp) -> bool {
        let mark = Mark::of(p);
        let moved = self.previous.is_some_and(|prev| mark.moved_forward_from(&prev));
        if moved {
            self.last_progress = now;
        }
        self.previous = Some(mark);
        let caught_up = !matches!(p.phase, Phase::WaitingForController { .. });
        let same_generation = self.baseline.is_some_and(|(_, _, g)| g == p.generation);
        if caught_up && !same_generation {
            self.baseline = Some((now, p.updated_available, p.generation));
        }
        moved
    }

    /// When the rollout last moved forward (or the watch started).
    pub fn last_progress(&self) -> Timestamp {
        self.last_progress
    }

    /// How long the rollout has not moved forward.
    pub fn stalled_for(&self, now: Timestamp) -> Duration {
        Duration::try_from(now.duration_since(self.last_progress)).unwrap_or(Duration::ZERO)
    }

    /// When the rollout counts as stuck if nothing moves: last progress + the deadline.
    pub fn stuck_at(&self, deadline: Duration) -> Timestamp {
        SignedDuration::try_from(deadline)
            .ok()
            .and_then(|d| self.last_progress.checked_add(d).ok())
            .unwrap_or(Timestamp::MAX)
    }

    /// Whether no progress was made for `deadline` (None: no deadline).
    pub fn is_stuck(&self, now: Timestamp, deadline: Option<Duration>) -> bool {
        deadline.is_some_and(|d| now >= self.stuck_at(d))
    }

    /// Time left at the rate observed since this generation's rollout was first seen: nodes that
    /// became updated and available per second. None until at least one node got there.
    pub fn eta(&self, p: &Progress, now: Timestamp) -> Option<Duration> {
        let (since, done_then, generation) = self.baseline?;
        if generation != p.generation || p.is_complete() {
            return None;
        }
        let gained = p.updated_available - done_then;
        let remaining = p.counts.desired - p.updated_available;
        let elapsed = now.duration_since(since).as_secs_f64();
        if gained <= 0 || remaining <= 0 || elapsed < MIN_RATE_WINDOW {
            return None;
        }
        Duration::try_from_secs_f64(elapsed / f64::from(gained) * f64::from(remaining)).ok()
    }
}

/// How a watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// kubectl's condition holds.
    RolledOut,
    /// No progress for the progress deadline.
    Stalled { deadline: Duration },
    /// `--timeout` elapsed first.
    TimedOut { after: Duration },
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Event;
    use serde_json::{Value, json};

    const NOW: &str = "2026-11-21T19:40:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn at(secs: i64) -> Timestamp {
        now() + SignedDuration::from_secs(secs)
    }

    fn ds(strategy: Value, generation: i64, status: Value) -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "ns", "uid": "ds-uid", "generation": generation,
                         "annotations": {"deprecated.daemonset.template.generation": generation.to_string()}},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "updateStrategy": strategy,
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}},
            "status": status,
        }))
        .unwrap()
    }

    fn rolling() -> Value {
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}})
    }

    fn status(observed: i64, desired: i32, updated: i32, ready: i32, available: i32) -> Value {
        json!({"observedGeneration": observed, "desiredNumberScheduled": desired, "currentNumberScheduled": desired,
               "updatedNumberScheduled": updated, "numberReady": ready, "numberAvailable": available,
               "numberMisscheduled": 0})
    }

    fn node(name: &str, ready: bool) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                                       "reason": "KubeletNotReady"}]},
        }))
        .unwrap()
    }

    /// A pod of the DaemonSet on `node`, from template generation `gen`, in one of a few states.
    fn pod(name: &str, node: &str, generation: i64, state: &str) -> Pod {
        let ready =
            |s: &str| json!([{"type": "Ready", "status": s, "lastTransitionTime": "2026-11-21T19:39:00Z"}]);
        let (node_name, status) = match state {
            "ready" => (
                Some(node),
                json!({"phase": "Running", "conditions": ready("True")}),
            ),
            "ready-just-now" => (
                Some(node),
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
                                                          "lastTransitionTime": NOW}]}),
            ),
            "crash" => (
                Some(node),
                json!({"phase": "Running", "conditions": ready("False"), "containerStatuses": [{
                    "name": "agent", "image": "agent:2", "imageID": "", "ready": false, "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
            ),
            "pending" => (
                None,
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                    "message": "0/3 nodes are available: 1 Insufficient cpu."}]}),
            ),
            other => panic!("unknown state {other}"),
        };
        let mut spec = json!({"containers": [{"name": "agent"}], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}});
        if let Some(n) = node_name {
            spec["nodeName"] = json!(n);
        }
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns", "creationTimestamp": "2026-11-21T19:30:00Z",
                         "labels": {"app": "agent", "controller-revision-hash": format!("hash{generation}"),
                                    "pod-template-generation": generation.to_string()},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent",
                                              "uid": "ds-uid", "controller": true}]},
            "spec": spec,
            "status": status,
        }))
        .unwrap()
    }

    fn terminating(mut p: Pod) -> Pod {
        p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
        p
    }

    fn failed(mut p: Pod) -> Pod {
        p.status.as_mut().unwrap().phase = Some("Failed".into());
        p
    }

    fn view(nodes: Vec<Node>, pods: Vec<Pod>) -> Snapshot {
        Snapshot {
            nodes,
            pods,
            ..Default::default()
        }
    }

    #[test]
    fn phase_follows_kubectl_rollout_status() {
        let cases = [
            (
                "controller has not observed the generation",
                3,
                status(2, 3, 3, 3, 3),
                "waiting",
            ),
            (
                "not every desired node updated",
                3,
                status(3, 3, 2, 3, 3),
                "progressing",
            ),
            (
                "updated but not every pod available",
                3,
                status(3, 3, 3, 3, 2),
                "progressing",
            ),
            (
                "updated and available everywhere",
                3,
                status(3, 3, 3, 3, 3),
                "complete",
            ),
            (
                "observed ahead of generation counts as caught up",
                3,
                status(4, 3, 3, 3, 3),
                "complete",
            ),
            (
                "no desired nodes is trivially done",
                1,
                status(1, 0, 0, 0, 0),
                "complete",
            ),
            ("no status at all", 1, Value::Null, "waiting"),
        ];
        for (rule, generation, st, want) in cases {
            let got = match phase_of(&ds(rolling(), generation, st)) {
                Phase::WaitingForController { .. } => "waiting",
                Phase::Progressing => "progressing",
                Phase::Complete => "complete",
            };
            assert_eq!(got, want, "{rule}");
        }
    }

    #[test]
    fn status_only_has_the_counts_and_no_node_analysis() {
        let p = status_only(&ds(rolling(), 2, status(2, 3, 1, 2, 2)));
        assert_eq!(
            (
                p.counts.desired,
                p.counts.updated,
                p.counts.ready,
                p.counts.available
            ),
            (3, 1, 2, 2)
        );
        assert_eq!(p.phase, Phase::Progressing);
        assert!(p.holdups.is_empty() && p.revision.is_none());
        assert_eq!((p.max_unavailable.as_str(), p.max_surge.as_str()), ("1", "0"));
    }

    #[test]
    fn on_delete_is_done_only_when_every_pod_is_updated() {
        let on_delete = json!({"type": "OnDelete"});
        assert_eq!(
            phase_of(&ds(on_delete.clone(), 2, status(2, 3, 1, 3, 3))),
            Phase::Progressing
        );
        assert_eq!(
            phase_of(&ds(on_delete, 2, status(2, 3, 3, 3, 3))),
            Phase::Complete
        );
    }

    /// (rule, strategy, nodes, pods, expected holdups as (node, kind, text in the reasons)).
    #[test]
    fn holdups_name_the_node_and_the_reason() {
        type Case = (
            &'static str,
            Value,
            Vec<Node>,
            Vec<Pod>,
            Vec<(&'static str, Holdup, &'static str)>,
        );
        let cases: Vec<Case> = vec![
            (
                "an updated available pod holds nothing up",
                rolling(),
                vec![node("n1", true)],
                vec![pod("a", "n1", 2, "ready")],
                vec![],
            ),
            (
                "a crash-looping updated pod",
                rolling(),
                vec![node("n1", true)],
                vec![pod("a", "n1", 2, "crash")],
                vec![("n1", Holdup::NotReady, "CrashLoopBackOff")],
            ),
            (
                "a pending updated pod carries the scheduler's message",
                rolling(),
                vec![node("n1", true)],
                vec![pod("a", "n1", 2, "pending")],
                vec![("n1", Holdup::Pending, "Insufficient cpu")],
            ),
            (
                "a desired node without a pod",
                rolling(),
                vec![node("n1", true)],
                vec![],
                vec![("n1", Holdup::NoPod, "no pod yet; the controller creates one")],
            ),
            (
                "a node whose old pod is terminal and being deleted waits for it to go",
                rolling(),
                vec![node("n1", true)],
                vec![terminating(failed(pod("a", "n1", 1, "ready")))],
                vec![("n1", Holdup::NoPod, "previous pod a is terminating")],
            ),
            (
                "an old available pod waits its turn",
                rolling(),
                vec![node("n1", true)],
                vec![pod("a", "n1", 1, "ready")],
                vec![("n1", Holdup::Outdated, "waits its turn (maxUnavailable 1)")],
            ),
            (
                "an old pod under OnDelete awaits deletion",
                json!({"type": "OnDelete"}),
                vec![node("n1", true)],
                vec![pod("a", "n1", 1, "ready")],
                vec![("n1", Holdup::Outdated, "awaits deletion")],
            ),
            (
                "an old unavailable pod is replaced regardless of budget",
                rolling(),
                vec![node("n1", true)],
                vec![pod("a", "n1", 1, "crash")],
                vec![("n1", Holdup::NotReady, "regardless of maxUnavailable")],
            ),
            (
                "an old terminating pod is being replaced",
                rolling(),
                vec![node("n1", true)],
                vec![terminating(pod("a", "n1", 1, "ready"))],
                vec![("n1", Holdup::Replacing, "terminating")],
            ),
            (
                "with surge, the new pod beside the old one is the one waited on",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}),
                vec![node("n1", true)],
                vec![pod("old", "n1", 1, "ready"), pod("new", "n1", 2, "crash")],
                vec![("n1", Holdup::NotReady, "CrashLoopBackOff")],
            ),
            (
                "problems come first, then the queue, each by node name",
                rolling(),
                vec![node("n3", true), node("n1", true), node("n2", true)],
                vec![
                    pod("a", "n1", 1, "ready"),
                    pod("b", "n2", 2, "crash"),
                    pod("c", "n3", 1, "ready"),
                ],
                vec![
                    ("n2", Holdup::NotReady, "CrashLoopBackOff"),
                    ("n1", Holdup::Outdated, "waits its turn"),
                    ("n3", Holdup::Outdated, "waits its turn"),
                ],
            ),
        ];
        for (rule, strategy, nodes, pods, want) in cases {
            let d = ds(strategy, 2, status(2, nodes.len() as i32, 0, 0, 0));
            let p = evaluate(&view(nodes, pods), &d, now());
            let got: Vec<(&str, Holdup)> = p.holdups.iter().map(|h| (h.node.as_str(), h.holdup)).collect();
            let wanted: Vec<(&str, Holdup)> = want.iter().map(|(n, k, _)| (*n, *k)).collect();
            assert_eq!(got, wanted, "{rule}: {:#?}", p.holdups);
            for (h, (_, _, text)) in p.holdups.iter().zip(&want) {
                assert!(
                    h.summary().contains(text),
                    "{rule}: {:?} lacks {text:?}",
                    h.summary()
                );
            }
        }
    }

    #[test]
    fn a_not_ready_node_drops_out_of_the_desired_nodes_but_its_pod_reason_names_the_node() {
        // A NotReady node carries the not-ready:NoSchedule taint once the node lifecycle controller
        // acts; before that, it is still desired and the pod's reason names the node first.
        let d = ds(rolling(), 2, status(2, 1, 1, 0, 0));
        let p = evaluate(
            &view(vec![node("n1", false)], vec![pod("a", "n1", 2, "crash")]),
            &d,
            now(),
        );
        assert_eq!(p.holdups.len(), 1, "{:#?}", p.holdups);
        assert!(
            p.holdups[0].summary().contains("node n1 is NotReady"),
            "{}",
            p.holdups[0].summary()
        );
    }

    #[test]
    fn min_ready_seconds_delays_availability() {
        let mut d = ds(rolling(), 2, status(2, 1, 1, 1, 0));
        d.spec.as_mut().unwrap().min_ready_seconds = Some(30);
        let p = evaluate(
            &view(vec![node("n1", true)], vec![pod("a", "n1", 2, "ready-just-now")]),
            &d,
            now(),
        );
        assert_eq!(p.holdups[0].holdup, Holdup::NotAvailableYet);
        assert_eq!(p.updated_available, 0);
        let later = evaluate(
            &view(vec![node("n1", true)], vec![pod("a", "n1", 2, "ready-just-now")]),
            &d,
            at(30),
        );
        assert!(later.holdups.is_empty(), "{:#?}", later.holdups);
        assert_eq!(later.updated_available, 1);
    }

    #[test]
    fn pods_of_other_owners_are_ignored() {
        let d = ds(rolling(), 2, status(2, 1, 1, 1, 1));
        let mut stranger = pod("x", "n1", 1, "crash");
        stranger.metadata.owner_references.as_mut().unwrap()[0].uid = "other".into();
        let p = evaluate(
            &view(vec![node("n1", true)], vec![pod("a", "n1", 2, "ready"), stranger]),
            &d,
            now(),
        );
        assert!(p.holdups.is_empty(), "{:#?}", p.holdups);
    }

    #[test]
    fn without_nodes_the_pods_name_the_nodes_and_missing_ones_are_counted() {
        let d = ds(rolling(), 2, status(2, 3, 1, 1, 1));
        let p = evaluate(
            &view(
                vec![],
                vec![pod("a", "n1", 2, "ready"), pod("b", "n2", 2, "crash")],
            ),
            &d,
            now(),
        );
        let got: Vec<(&str, Holdup)> = p.holdups.iter().map(|h| (h.node.as_str(), h.holdup)).collect();
        assert_eq!(got, [("?", Holdup::NoPod), ("n2", Holdup::NotReady)]);
        assert!(
            p.holdups[0]
                .summary()
                .starts_with("1 desired node(s) have no pod")
        );
        assert_eq!(p.updated_available, 1);
    }

    #[test]
    fn revision_and_images_come_from_the_current_template() {
        let d = ds(rolling(), 2, status(2, 2, 1, 2, 2));
        let p = evaluate(
            &view(
                vec![node("n1", true), node("n2", true)],
                vec![pod("a", "n1", 1, "ready"), pod("b", "n2", 2, "ready")],
            ),
            &d,
            now(),
        );
        assert_eq!(p.revision.as_deref(), Some("hash2"));
        assert_eq!(p.images, [("agent".to_string(), "agent:2".to_string())]);
        let none_yet = evaluate(
            &view(vec![node("n1", true)], vec![pod("a", "n1", 1, "ready")]),
            &d,
            now(),
        );
        assert_eq!(none_yet.revision, None, "no pod of the current template yet");
    }

    /// After an undo the controller reuses the old revision (renumbered): its pods, made by an
    /// older template generation, carry the current hash and are up to date, as the controller's
    /// IsPodUpdated says; a pod of the template in between is outdated.
    #[test]
    fn pods_carrying_the_current_revision_hash_are_up_to_date_whatever_their_generation() {
        let d = ds(rolling(), 3, status(3, 2, 1, 2, 2));
        // As the controller stores it (getPatch): the template plus "$patch": "replace".
        let mut template = serde_json::to_value(&d.spec.as_ref().unwrap().template).unwrap();
        template["$patch"] = json!("replace");
        let revision: k8s_openapi::api::apps::v1::ControllerRevision = serde_json::from_value(json!({
            "metadata": {"name": "agent-hash1", "namespace": "ns",
                         "labels": {"app": "agent", "controller-revision-hash": "hash1"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent",
                                              "uid": "ds-uid", "controller": true}]},
            "revision": 3,
            "data": {"spec": {"template": template}},
        }))
        .unwrap();
        let mut v = view(
            vec![node("n1", true), node("n2", true)],
            vec![pod("a", "n1", 1, "ready"), pod("b", "n2", 2, "ready")],
        );
        v.revisions = vec![revision];
        let p = evaluate(&v, &d, now());
        assert_eq!(p.revision.as_deref(), Some("hash1"));
        let held: Vec<&str> = p.holdups.iter().map(|h| h.node.as_str()).collect();
        assert_eq!(held, ["n2"], "{:?}", p.holdups);

        // Without the revisions only the generation tells: both pods look outdated.
        v.revisions.clear();
        let p = evaluate(&v, &d, now());
        assert_eq!(p.holdups.len(), 2, "{:?}", p.holdups);
    }

    #[test]
    fn recent_warning_events_are_reported_and_old_ones_are_not() {
        let event = |reason: &str, last: &str| -> Event {
            serde_json::from_value(json!({
                "metadata": {"name": reason}, "type": "Warning", "reason": reason,
                "message": "Error creating: pods \"agent-x\" is forbidden: exceeded quota",
                "lastTimestamp": last,
                "involvedObject": {"kind": "DaemonSet", "name": "agent", "uid": "ds-uid"},
            }))
            .unwrap()
        };
        let d = ds(rolling(), 2, status(2, 1, 0, 0, 0));
        let mut v = view(vec![node("n1", true)], vec![]);
        v.events = vec![
            event("FailedCreate", "2026-11-21T19:39:00Z"),
            event("Old", "2026-11-21T18:00:00Z"),
        ];
        let p = evaluate(&v, &d, now());
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].starts_with("FailedCreate: Error creating"));
        assert_eq!(p.holdups[0].holdup, Holdup::NoPod);
        let summary = p.holdups[0].summary();
        assert!(
            summary.contains("controller warning FailedCreate: Error creating"),
            "{summary}"
        );
    }

    fn progress(generation: i64, updated: i32, ready: i32, available: i32, done: i32) -> Progress {
        let d = ds(
            rolling(),
            generation,
            status(generation, 4, updated, ready, available),
        );
        let mut p = evaluate(&view(vec![], vec![]), &d, now());
        p.updated_available = done;
        p
    }

    #[test]
    fn progress_is_any_count_moving_forward() {
        let cases = [
            ("nothing changed", progress(2, 1, 3, 3, 1), false),
            ("one more node updated", progress(2, 2, 3, 3, 1), true),
            ("one more pod ready", progress(2, 1, 4, 3, 1), true),
            ("one more pod available", progress(2, 1, 3, 4, 1), true),
            (
                "a count going down is not progress",
                progress(2, 1, 2, 2, 1),
                false,
            ),
            (
                "a new generation restarts the rollout",
                progress(3, 0, 3, 3, 0),
                true,
            ),
        ];
        for (rule, next, want) in cases {
            let mut t = Tracker::new(now());
            t.observe(&progress(2, 1, 3, 3, 1), now());
            assert_eq!(t.observe(&next, at(5)), want, "{rule}");
            assert_eq!(t.last_progress(), if want { at(5) } else { now() }, "{rule}");
        }
    }

    #[test]
    fn stuck_after_the_deadline_without_progress() {
        let mut t = Tracker::new(now());
        t.observe(&progress(2, 1, 3, 3, 1), now());
        let deadline = Some(Duration::from_secs(10));
        assert!(!t.is_stuck(at(9), deadline));
        assert!(
            t.is_stuck(at(10), deadline),
            "the deadline itself counts as stuck"
        );
        assert!(!t.is_stuck(at(1000), None), "no deadline, never stuck");
        t.observe(&progress(2, 2, 3, 3, 1), at(8));
        assert!(!t.is_stuck(at(10), deadline), "progress at 8s restarts the clock");
        assert!(t.is_stuck(at(18), deadline));
        assert_eq!(t.stalled_for(at(18)), Duration::from_secs(10));
        assert_eq!(t.stuck_at(Duration::from_secs(10)), at(18));
    }

    #[test]
    fn eta_follows_the_observed_rate() {
        let mut t = Tracker::new(now());
        let start = progress(2, 1, 4, 4, 1);
        t.observe(&start, now());
        assert_eq!(
            t.eta(&start, at(5)),
            None,
            "no node done since the start: no rate yet"
        );
        // 2 nodes in 20 s → 10 s a node; 1 node left.
        let later = progress(2, 3, 4, 4, 3);
        t.observe(&later, at(20));
        assert_eq!(t.eta(&later, at(20)), Some(Duration::from_secs(10)));
        // Waiting makes the rate slower: 2 nodes in 40 s → 20 s for the last one.
        assert_eq!(t.eta(&later, at(40)), Some(Duration::from_secs(20)));
        // A new generation starts a new rate.
        let next = progress(3, 0, 4, 4, 0);
        t.observe(&next, at(50));
        assert_eq!(t.eta(&next, at(60)), None);
    }

    #[test]
    fn no_eta_from_a_rate_measured_over_an_instant() {
        let mut t = Tracker::new(now());
        t.observe(&progress(2, 1, 4, 4, 1), now());
        let next = progress(2, 2, 4, 4, 2);
        t.observe(&next, at(1));
        assert_eq!(t.eta(&next, at(1)), None);
        assert_eq!(t.eta(&next, at(2)), Some(Duration::from_secs(4)));
    }

    #[test]
    fn no_eta_while_the_controller_has_not_caught_up() {
        let mut t = Tracker::new(now());
        let d = ds(rolling(), 3, status(2, 4, 4, 4, 4));
        let p = evaluate(&view(vec![], vec![]), &d, now());
        t.observe(&p, now());
        assert_eq!(t.eta(&p, at(10)), None);
    }
}
