//! The nodes that hold a rollout up, and why (semantics §5, §6.2–6.7): the one home of when a
//! desired node is done (its oldest pod updated and available, as the controller counts
//! `updatedNumberScheduled` and `numberAvailable`), and otherwise of what it waits for: no pod,
//! a Pending or not-Ready pod, `minReadySeconds`, an old pod terminating, or its turn. "Updated"
//! mirrors `IsPodUpdated` (pkg/controller/daemon/util).

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::Strategy;
use crate::engine::pods::{
    ended_and_deleting, is_available, is_bound, is_ready, is_terminating, is_updated, pod_problems,
    revision_hash,
};
use crate::engine::{Reason, Rule};

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

/// What every desired node is judged by.
pub(super) struct Ctx {
    /// Recent Warning events of the DaemonSet: why the controller may fail to create a pod.
    pub warnings: Vec<String>,
    pub strategy: Strategy,
    /// `rollingUpdate.maxUnavailable` as written (1 when absent).
    pub max_unavailable: String,
    pub template_generation: Option<i64>,
    /// The hash of the ControllerRevision holding the current template, when the revisions are
    /// known: a pod carrying it is up to date whatever template generation made it (the
    /// controller reuses a revision when a template comes back, as after an undo).
    pub current_hash: Option<String>,
    pub min_ready_seconds: i32,
    pub now: Timestamp,
}

/// One desired node: done, or what holds it up.
pub(super) enum NodeOutcome {
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
    pub fn node(&self, name: &str, node: Option<&Node>, pods: &[&Pod]) -> NodeOutcome {
        let held = |pod: Option<&Pod>, holdup: Holdup, reasons: Vec<Reason>| {
            NodeOutcome::Held(NodeHoldup {
                node: name.to_string(),
                pod: pod.and_then(|p| p.metadata.name.clone()),
                holdup,
                reasons,
            })
        };
        // Since 1.28 pods that are terminal and being deleted no longer count for anything.
        let live: Vec<&Pod> = pods.iter().copied().filter(|p| !ended_and_deleting(p)).collect();
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

#[cfg(test)]
mod tests {
    use super::super::evaluate;
    use super::super::fixtures::*;
    use super::*;
    use serde_json::{Value, json};

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
    fn a_node_tainted_not_ready_mid_rollout_still_holds_it_up_with_its_pod() {
        // Once the node lifecycle controller taints the NotReady node, the node is no longer
        // desired, but its pod stays and the status still counts it: it is named, not dropped.
        let d = ds(rolling(), 2, status(2, 1, 1, 0, 0));
        let mut n1 = node("n1", false);
        n1.spec = serde_json::from_value(json!({"taints": [
            {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]}))
        .unwrap();
        let p = evaluate(
            &view(vec![n1.clone()], vec![pod("a", "n1", 2, "crash")]),
            &d,
            now(),
        );
        assert_eq!(p.holdups.len(), 1, "{:#?}", p.holdups);
        assert!(
            p.holdups[0].summary().contains("node n1 is NotReady"),
            "{}",
            p.holdups[0].summary()
        );
        assert_eq!(p.updated_available, 0);
        // Another rule that keeps the node out (a taint of the user's) does not make its pod a
        // holdup: the node is out of the rollout for good.
        n1.spec = serde_json::from_value(json!({"taints": [
            {"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}))
        .unwrap();
        let p = evaluate(&view(vec![n1], vec![pod("a", "n1", 2, "crash")]), &d, now());
        assert!(p.holdups.is_empty(), "{:#?}", p.holdups);
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
}
