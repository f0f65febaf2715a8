//! Rollout progress of one DaemonSet (semantics §5, §6.2–6.7, §7.1): kubectl's done condition,
//! the nodes that hold the rollout up and why, the observed rate (ETA) and stuck detection.
//!
//! Everything here is recomputed from one full view of the DaemonSet, its pods, the nodes and
//! the events; nothing is accumulated from watch deltas, so a re-list or a reconnect can never
//! lose or double-count progress. Only [`Tracker`] keeps history: when the counts last moved.
//!
//! This file is the one home of the done condition (mirrors kubectl's `DaemonSetStatusViewer`),
//! of the counters as the status gives them, and of the recent Warning events; `holdups` says
//! why a desired node is not done, `tracker` when the rollout last moved and how fast.

use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::eligibility::node_should_run_daemon_pod;
use super::history;
use super::pods::{controller_order, is_updated, revision_hash, target_node};
use super::revisions::current_hash;
use super::verdict::{Index, controller_uid, template_generation};
use super::{Reason, Rule};
use crate::snapshot::Snapshot;

#[cfg(test)]
mod fixtures;
mod holdups;
mod tracker;

use holdups::{Ctx, NodeOutcome};
pub use holdups::{Holdup, NodeHoldup};
pub use tracker::Tracker;

/// Warning events older than this are history, not a reason the rollout is held up now.
const RECENT_WARNING: SignedDuration = SignedDuration::from_secs(10 * 60);

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

/// Where one DaemonSet's rollout stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub namespace: String,
    pub name: String,
    pub generation: i64,
    pub observed_generation: i64,
    pub strategy: Strategy,
    /// The update strategy in words, as `status` says it ([`history::describe_strategy`]).
    pub update_strategy: String,
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

/// `rollingUpdate.maxUnavailable` as written; 1 when absent.
fn max_unavailable(ds: &DaemonSet) -> String {
    let written = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.max_unavailable.as_ref());
    match written {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "1".to_string(),
    }
}

/// Where the rollout of `ds` stands by its status alone, before its pods and the nodes are seen:
/// no per-node analysis, and the revision is not known.
pub fn status_only(ds: &DaemonSet) -> Progress {
    let spec = ds.spec.as_ref();
    let update_strategy = history::update_strategy(ds);
    let strategy = if history::strategy_type(&update_strategy) == history::ON_DELETE {
        Strategy::OnDelete
    } else {
        Strategy::RollingUpdate
    };
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
        update_strategy: history::describe_strategy(&update_strategy),
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
        max_unavailable: max_unavailable(ds),
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
            let name = node.metadata.name.as_deref().unwrap_or("");
            let pods: Vec<&Pod> = index.pods_for(ds, name).to_vec();
            let desired = node_should_run_daemon_pod(node, ds).should_run;
            // A node that went NotReady or unreachable mid-rollout carries the node lifecycle
            // controller's NoSchedule taint and stops being desired, but its pod stays, and the
            // DaemonSet's status goes on counting it until the controller's next sync: it still
            // holds the rollout up, and says why (the node is NotReady).
            if !desired && (pods.is_empty() || !lost_node(node)) {
                continue;
            }
            match ctx.node(name, Some(node), &pods) {
                NodeOutcome::Done if desired => updated_available += 1,
                NodeOutcome::Done => {}
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

/// Whether the node carries the taint the node lifecycle controller puts on a NotReady or
/// unreachable node.
fn lost_node(node: &Node) -> bool {
    use crate::engine::tolerations::{TAINT_NOT_READY, TAINT_UNREACHABLE};
    node.spec
        .iter()
        .flat_map(|s| s.taints.iter().flatten())
        .any(|t| t.key == TAINT_NOT_READY || t.key == TAINT_UNREACHABLE)
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
    use super::fixtures::*;
    use super::*;
    use k8s_openapi::api::core::v1::Event;
    use serde_json::{Value, json};

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
        let d = ds(rolling(), 2, status(2, 3, 1, 2, 2));
        let p = status_only(&d);
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
        assert_eq!(
            p.update_strategy,
            history::describe_strategy(&history::update_strategy(&d)),
            "the strategy in the same words as status"
        );
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
}
