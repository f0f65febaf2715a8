//! The DaemonSet controller's next sync of one DaemonSet (pkg/controller/daemon, v1.36), node by
//! node: which pods it claims (adopts, releases), what `manage` creates and deletes, and what the
//! rolling update replaces within its budget. Pure: a DaemonSet, the nodes, the pods of its
//! namespace, its current revision hash and the time in, a [`Plan`] out.
//!
//! What cannot be known from outside the controller is said, not guessed: which of several
//! rolling-update candidates it picks is Go map order (random), so such a move names the pool and
//! how many are picked; the per-node back-off of failed-pod deletions lives in the controller's
//! memory (a restarted controller has none).
//!
//! This file is the one home of the sync's order, as `syncDaemonSet` and `manage` run it: the
//! early returns, then the claim, `manage`, the rolling update on the view after manage's writes,
//! and each node's move. Each rule lives in a file of its own, named after what it answers:
//! `claim` (whose pod it is), `node` (what manage does on a node), `budget` (maxSurge and
//! maxUnavailable as numbers of nodes), `rolling` and `surge` (the rolling update without and
//! with surge), `text` (a node's move put together and in words).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::eligibility::node_should_run_daemon_pod;

mod budget;
mod claim;
#[cfg(test)]
mod fixtures;
mod node;
mod rolling;
mod surge;
mod text;

pub use budget::budgets;
pub use claim::{Claim, claim, released_reason, selector_matches};
use node::Qualifies;
use text::name;

/// What the controller does next on one node. The names are part of the JSON contract (README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing: the node is as the controller wants it.
    None,
    /// A new pod for the node.
    Create,
    /// Pods deleted and none created.
    Delete,
    /// A pod deleted and another created in its place (now or on a following sync).
    Replace,
    /// An orphan pod taken over (and nothing else).
    Adopt,
    /// A pod let go because its labels no longer match (and nothing else).
    Release,
    /// Nothing yet: the controller waits (for the budget, a terminating pod, a new pod to become available).
    Wait,
    /// The engine cannot tell (a state it does not model, or the view lacks what it needs).
    Unknown,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::Create => "create",
            Action::Delete => "delete",
            Action::Replace => "replace",
            Action::Adopt => "adopt",
            Action::Release => "release",
            Action::Wait => "wait",
            Action::Unknown => "unknown",
        }
    }
}

/// A rolling-update pick the controller makes at random: `picked` of the `of` nodes in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pool {
    pub picked: usize,
    pub of: usize,
}

/// The controller's next sync on one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NextMove {
    pub action: Action,
    /// Every pod the move names (deleted, adopted, released or waited for).
    pub pods: Vec<String>,
    /// The move in one sentence.
    pub why: String,
    /// A pod is created for the node in this sync.
    pub create: bool,
    pub delete: Vec<String>,
    pub adopt: Vec<String>,
    pub release: Vec<String>,
    /// Set when the move is one of the rolling update's random picks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<Pool>,
    /// Set when the rolling-update part follows writes of this same sync: it happens once the
    /// controller has seen them, in this sync or the next.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub after_own_writes: bool,
}

impl NextMove {
    fn new(action: Action, why: impl Into<String>) -> Self {
        NextMove {
            action,
            pods: Vec::new(),
            why: why.into(),
            create: false,
            delete: Vec::new(),
            adopt: Vec::new(),
            release: Vec::new(),
            pool: None,
            after_own_writes: false,
        }
    }

    pub fn unknown(why: &str) -> Self {
        NextMove::new(Action::Unknown, format!("next sync: cannot tell: {why}"))
    }
}

/// The current revision as far as the view tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash<'a> {
    /// The `controller-revision-hash` of the revision holding the template.
    Known(&'a str),
    /// The DaemonSet has revisions but none holds its template: the sync makes a new one, whose
    /// hash no pod carries yet.
    New,
    /// No revision of the DaemonSet is in the view.
    Unknown,
}

/// Everything the next sync does, node by node.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub moves: BTreeMap<String, NextMove>,
    /// The pods the controller counts as the DaemonSet's, by node, oldest first (after claiming).
    pub claimed: BTreeMap<String, Vec<String>>,
    /// Unbound pods aimed at nodes that do not exist: the controller deletes them.
    pub without_node: Vec<String>,
}

impl Plan {
    pub fn move_for(&self, node: &str) -> Option<&NextMove> {
        self.moves.get(node)
    }
}

/// The view the plan is made from. `complete` says whether `nodes` and `pods` hold every node of
/// the cluster and every pod of the DaemonSet's namespace that could be its own: the rolling
/// update's budget is counted over all of them.
pub struct View<'a> {
    pub nodes: &'a [&'a Node],
    pub pods: &'a [&'a Pod],
    pub hash: Hash<'a>,
    pub now: Timestamp,
    pub complete: bool,
}

/// What the claim and `manage` do on one node, before the rolling update.
#[derive(Default)]
struct NodeWork<'a> {
    adopt: Vec<&'a Pod>,
    release: Vec<&'a Pod>,
    create: bool,
    delete: Vec<&'a Pod>,
    /// Why manage deletes or creates (sentences), in order.
    notes: Vec<String>,
    /// An outdated pod is deleted next to a new one that stays: a replacement.
    replaced: bool,
    waits: Vec<String>,
}

/// Why the controller does not sync the DaemonSet at all, as the move of every node.
// mirrors the early returns of syncDaemonSet
fn not_synced(ds: &DaemonSet) -> Option<(Action, &'static str)> {
    if ds.metadata.deletion_timestamp.is_some() {
        return Some((
            Action::None,
            "the DaemonSet is being deleted: the controller no longer syncs it (the garbage collector deals with its pods)",
        ));
    }
    let selector = ds.spec.as_ref().map(|s| &s.selector);
    if selector.is_some_and(|s| {
        s.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
    }) {
        return Some((
            Action::None,
            "the DaemonSet selects every pod: the controller refuses to sync it (SelectingAll)",
        ));
    }
    if selector_matches(selector, None).is_none() {
        return Some((
            Action::Unknown,
            "the DaemonSet's selector does not parse: the controller's sync fails",
        ));
    }
    None
}

/// The controller's next sync of `ds` over `view`.
pub fn next_sync<'a>(ds: &DaemonSet, view: &View<'a>) -> Plan {
    let mut plan = Plan::default();
    let node_names: Vec<&str> = view
        .nodes
        .iter()
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    if let Some((action, why)) = not_synced(ds) {
        plan.moves = node_names
            .iter()
            .map(|n| (n.to_string(), NextMove::new(action, why)))
            .collect();
        return plan;
    }

    let claim::Claimed { by_node, mut work } = claim::claim_pods(ds, view.pods);
    for (node, pods) in &by_node {
        plan.claimed
            .insert(node.to_string(), pods.iter().map(|p| name(p)).collect());
    }
    let surge_allowed = budget::allows_surge(ds);
    let eligibility: BTreeMap<&str, Qualifies> = view
        .nodes
        .iter()
        .filter_map(|n| {
            let name = n.metadata.name.as_deref()?;
            Some((name, Qualifies::of(node_should_run_daemon_pod(n, ds))))
        })
        .collect();
    let mut unknown: BTreeMap<&str, String> = BTreeMap::new();

    // mirrors manage: podsShouldBeOnNode node by node, then the pods of nodes that are gone
    for node in &node_names {
        let w = work.entry(node).or_default();
        if let Err(why) =
            node::pods_should_be_on_node(ds, view, &eligibility[node], surge_allowed, by_node.get(node), w)
        {
            unknown.insert(node, why);
        }
    }
    plan.without_node = node::pods_without_node(&by_node, &node_names);

    let manage_writes = work
        .values()
        .any(|w| w.create || !w.delete.is_empty() || !w.adopt.is_empty() || !w.release.is_empty())
        || !plan.without_node.is_empty();

    let mut ru = rolling::rolling_update(ds, view, &by_node, &work, &eligibility, &mut unknown);

    for node in &node_names {
        let w = work.remove(node).unwrap_or_default();
        let mut m = text::assemble(w, ru.remove(node), &eligibility[node], by_node.get(node));
        if let Some(why) = unknown.get(node)
            && matches!(m.action, Action::None | Action::Wait)
        {
            m = NextMove::unknown(why);
        }
        m.after_own_writes &= manage_writes;
        plan.moves.insert(node.to_string(), m);
    }
    if manage_writes {
        for m in plan.moves.values_mut() {
            if m.after_own_writes && !m.why.contains("once the controller has seen") {
                m.why.push_str(" (the rolling update acts once the controller has seen its own writes of this sync: in this sync or the next)");
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::json;

    #[test]
    fn unknown_revision_and_partial_views_are_said_not_guessed() {
        let d = ds(rolling(json!(1), json!(0)));
        let nodes = [node("a", json!([]))];
        let pods = [pod("pa", "a", "old", "ready", 1)];
        let n: Vec<&Node> = nodes.iter().collect();
        let p: Vec<&Pod> = pods.iter().collect();
        let view = |hash, complete| View {
            nodes: &n,
            pods: &p,
            hash,
            now: NOW.parse().unwrap(),
            complete,
        };
        assert_eq!(
            on(&next_sync(&d, &view(Hash::Unknown, true)), "a").action,
            Action::Unknown
        );
        assert_eq!(
            on(&next_sync(&d, &view(Hash::Known("newhash"), false)), "a").action,
            Action::Unknown
        );
        // A new template: no pod carries its hash, so the outdated pod is replaced.
        assert_eq!(
            on(&next_sync(&d, &view(Hash::New, true)), "a").action,
            Action::Replace
        );
    }

    #[test]
    fn manage_writes_put_the_rolling_update_after_them() {
        let d = ds(rolling(json!(1), json!(0)));
        let nodes = [node("a", json!([])), node("b", json!([]))];
        let pods = [
            pod("pa", "a", "old", "ready", 1),
            orphan(pod("pb", "b", "new", "ready", 1)),
        ];
        let p = plan(&d, &nodes, &pods);
        assert_eq!(on(&p, "b").action, Action::Adopt);
        assert!(on(&p, "a").after_own_writes, "{:?}", on(&p, "a"));
        assert!(!on(&p, "b").after_own_writes);
    }

    #[test]
    fn deleting_or_select_all_daemonsets_are_not_synced() {
        let mut d = ds(json!({"type": "OnDelete"}));
        d.metadata.deletion_timestamp = Some(serde_json::from_value(json!("2026-06-01T00:00:00Z")).unwrap());
        let p = plan(&d, &[node("a", json!([]))], &[]);
        assert_eq!(on(&p, "a").action, Action::None);
        let mut d = ds(json!({"type": "OnDelete"}));
        d.spec.as_mut().unwrap().selector = Default::default();
        let p = plan(&d, &[node("a", json!([]))], &[]);
        assert!(on(&p, "a").why.contains("selects every pod"));
    }
}
