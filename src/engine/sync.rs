//! The DaemonSet controller's next sync of one DaemonSet (pkg/controller/daemon, v1.36), node by
//! node: which pods it claims (adopts, releases), what `manage` creates and deletes, and what the
//! rolling update replaces within its budget. Pure: a DaemonSet, the nodes, the pods of its
//! namespace, its current revision hash and the time in, a [`Plan`] out.
//!
//! What cannot be known from outside the controller is said, not guessed: which of several
//! rolling-update candidates it picks is Go map order (random), so such a move names the pool and
//! how many are picked; the per-node back-off of failed-pod deletions lives in the controller's
//! memory (a restarted controller has none).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::eligibility::{Eligibility, node_should_run_daemon_pod};
use super::pods::{
    REVISION_HASH_LABEL, controller_order, ended_and_deleting, is_available, is_bound, is_ready, is_terminal,
    is_terminating, is_updated, phase, target_node,
};
use super::verdict::template_generation;
use super::{Reason, Rule};

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

// mirrors metav1.LabelSelectorAsSelector + Matches: matchLabels and matchExpressions ANDed; an
// absent selector selects nothing, `{}` everything. None for a selector that does not parse.
pub fn selector_matches(
    selector: Option<&LabelSelector>,
    labels: Option<&BTreeMap<String, String>>,
) -> Option<bool> {
    let Some(selector) = selector else {
        return Some(false);
    };
    let value = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    for (k, v) in selector.match_labels.iter().flatten() {
        if value(k) != Some(v.as_str()) {
            return Some(false);
        }
    }
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default();
        let ok = match e.operator.as_str() {
            "In" if !values.is_empty() => value(&e.key).is_some_and(|v| values.iter().any(|x| x == v)),
            "NotIn" if !values.is_empty() => value(&e.key).is_none_or(|v| !values.iter().any(|x| x == v)),
            "Exists" if values.is_empty() => value(&e.key).is_some(),
            "DoesNotExist" if values.is_empty() => value(&e.key).is_none(),
            _ => return None,
        };
        if !ok {
            return Some(false);
        }
    }
    Some(true)
}

fn controller_ref(pod: &Pod) -> Option<&str> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// How the controller's claim sees one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The DaemonSet's, and stays so.
    Owned,
    /// An orphan the DaemonSet adopts.
    Adopted,
    /// The DaemonSet's, but its labels no longer match: released.
    Released,
    /// Not the DaemonSet's business.
    Ignored,
}

// mirrors ClaimObject (pkg/controller/controller_ref_manager.go) as getDaemonPods calls it
pub fn claim(ds: &DaemonSet, pod: &Pod) -> Claim {
    if pod.metadata.namespace != ds.metadata.namespace {
        return Claim::Ignored;
    }
    let selector = ds.spec.as_ref().map(|s| &s.selector);
    let matches = || selector_matches(selector, pod.metadata.labels.as_ref()) == Some(true);
    let deleting = ds.metadata.deletion_timestamp.is_some();
    match controller_ref(pod) {
        Some(uid) if Some(uid) == ds.metadata.uid.as_deref() => {
            if matches() {
                Claim::Owned
            } else if deleting {
                Claim::Ignored
            } else {
                Claim::Released
            }
        }
        Some(_) => Claim::Ignored,
        None if deleting || is_terminating(pod) || !matches() => Claim::Ignored,
        None => Claim::Adopted,
    }
}

fn name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

fn names(pods: &[&Pod]) -> String {
    pods.iter().map(|p| name(p)).collect::<Vec<_>>().join(", ")
}

// mirrors GetScaledValueFromIntOrPercent(v, total, roundUp=true) (apimachinery intstr)
fn scaled(value: Option<&IntOrString>, total: usize) -> Result<usize, String> {
    match value {
        None => Ok(0),
        Some(IntOrString::Int(i)) => Ok((*i).max(0) as usize),
        Some(IntOrString::String(s)) => {
            let p: i64 = s
                .strip_suffix('%')
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("invalid value {s:?}: an integer or a percentage"))?;
            Ok(((p as f64 * total as f64) / 100.0).ceil().max(0.0) as usize)
        }
    }
}

/// The strategy's budgets: (maxSurge, maxUnavailable) for `desired` nodes.
// mirrors updatedDesiredNodeCounts + SurgeCount/UnavailableCount (pkg/controller/daemon)
pub fn budgets(ds: &DaemonSet, desired: usize) -> Result<(usize, usize), String> {
    let strategy = ds.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
    if strategy
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        != "RollingUpdate"
    {
        return Ok((0, 0));
    }
    // Without rollingUpdate both counts are 0, and the fallback below makes maxUnavailable 1.
    let r = strategy.and_then(|s| s.rolling_update.as_ref());
    let surge = scaled(r.and_then(|r| r.max_surge.as_ref()), desired)?;
    let mut unavailable = scaled(r.and_then(|r| r.max_unavailable.as_ref()), desired)?;
    if desired > 0 && surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

fn rolling_update(ds: &DaemonSet) -> bool {
    ds.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

// mirrors AllowsSurge (pkg/controller/daemon/util)
fn allows_surge(ds: &DaemonSet) -> bool {
    budgets(ds, 1).is_ok_and(|(surge, _)| surge > 0)
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

/// The two answers of `NodeShouldRunDaemonPod` for one node, and which rules said no, in words;
/// kept instead of the whole [`Eligibility`] (its checks) so that thousands of nodes stay cheap.
struct Qualifies {
    should_run: bool,
    should_continue_running: bool,
    why_not: String,
}

impl Qualifies {
    fn of(elig: Eligibility) -> Self {
        let rules: std::collections::BTreeSet<&str> = elig
            .reasons
            .iter()
            .map(|r| match r.rule {
                Rule::NodeName => "the template's nodeName",
                Rule::NodeSelector => "its nodeSelector",
                Rule::NodeAffinity => "its required node affinity",
                Rule::Taint => "an untolerated taint",
                _ => "a rule",
            })
            .collect();
        let why_not = if elig.should_run {
            String::new()
        } else if rules.is_empty() {
            "the node does not qualify".into()
        } else {
            format!(
                "the node does not qualify ({})",
                rules.into_iter().collect::<Vec<_>>().join(", ")
            )
        };
        Qualifies {
            should_run: elig.should_run,
            should_continue_running: elig.should_continue_running,
            why_not,
        }
    }
}

fn not_qualify(q: &Qualifies) -> String {
    q.why_not.clone()
}

/// The controller's next sync of `ds` over `view`.
pub fn next_sync<'a>(ds: &DaemonSet, view: &View<'a>) -> Plan {
    let mut plan = Plan::default();
    let node_names: Vec<&str> = view
        .nodes
        .iter()
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    let all_nodes = |action: Action, why: &str| -> BTreeMap<String, NextMove> {
        node_names
            .iter()
            .map(|n| (n.to_string(), NextMove::new(action, why)))
            .collect()
    };

    // mirrors the early returns of syncDaemonSet
    if ds.metadata.deletion_timestamp.is_some() {
        plan.moves = all_nodes(
            Action::None,
            "the DaemonSet is being deleted: the controller no longer syncs it (the garbage collector deals with its pods)",
        );
        return plan;
    }
    let selector = ds.spec.as_ref().map(|s| &s.selector);
    if selector.is_some_and(|s| {
        s.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
    }) {
        plan.moves = all_nodes(
            Action::None,
            "the DaemonSet selects every pod: the controller refuses to sync it (SelectingAll)",
        );
        return plan;
    }
    if selector_matches(selector, None).is_none() {
        plan.moves = all_nodes(
            Action::Unknown,
            "the DaemonSet's selector does not parse: the controller's sync fails",
        );
        return plan;
    }

    // mirrors getDaemonPods + getNodesToDaemonPods(includeDeletedTerminal=false)
    let mut by_node: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    let mut work: BTreeMap<&str, NodeWork> = BTreeMap::new();
    for pod in view.pods.iter().copied() {
        let c = claim(ds, pod);
        let target = target_node(pod);
        match c {
            Claim::Ignored => continue,
            Claim::Released => {
                if let Some(node) = target {
                    work.entry(node).or_default().release.push(pod);
                }
                continue;
            }
            Claim::Adopted => {
                if let Some(node) = target {
                    work.entry(node).or_default().adopt.push(pod);
                }
            }
            Claim::Owned => {}
        }
        if ended_and_deleting(pod) {
            continue;
        }
        if let Some(node) = target {
            by_node.entry(node).or_default().push(pod);
        }
    }
    for pods in by_node.values_mut() {
        pods.sort_by(|a, b| controller_order(a, b));
    }
    for (node, pods) in &by_node {
        plan.claimed
            .insert(node.to_string(), pods.iter().map(|p| name(p)).collect());
    }

    let hash = view.hash;
    let generation = template_generation(ds);
    let known_hash = match hash {
        Hash::Known(h) => Some(h),
        _ => None,
    };
    let surge_allowed = allows_surge(ds);
    let eligibility: BTreeMap<&str, Qualifies> = view
        .nodes
        .iter()
        .filter_map(|n| {
            let name = n.metadata.name.as_deref()?;
            Some((name, Qualifies::of(node_should_run_daemon_pod(n, ds))))
        })
        .collect();
    let mut unknown: BTreeMap<&str, String> = BTreeMap::new();

    // mirrors podsShouldBeOnNode, node by node
    for node in &node_names {
        let elig = &eligibility[node];
        let pods = by_node.get(node);
        let w = work.entry(node).or_default();
        match pods {
            None if elig.should_run => {
                w.create = true;
                w.notes
                    .push("creates a pod: the node qualifies and has no pod of the DaemonSet".into());
            }
            Some(pods) if elig.should_continue_running => {
                let mut running = Vec::new();
                for pod in pods.iter().copied() {
                    if is_terminating(pod) {
                        continue;
                    }
                    match phase(pod) {
                        "Failed" => {
                            w.delete.push(pod);
                            w.notes.push(format!(
                                "deletes failed pod {} (the controller backs off per node, up to 15 minutes, when failed pods keep coming)",
                                name(pod)
                            ));
                        }
                        "Succeeded" => {
                            w.delete.push(pod);
                            w.notes.push(format!("deletes succeeded pod {}", name(pod)));
                        }
                        _ => running.push(pod),
                    }
                }
                if !surge_allowed {
                    if running.len() > 1 {
                        running.sort_by(|a, b| controller_order(a, b));
                        let extra = &running[1..];
                        w.delete.extend(extra.iter().copied());
                        w.notes.push(format!(
                            "deletes {}: the node has {} pods of the DaemonSet and keeps only the oldest, {}",
                            names(extra),
                            running.len(),
                            name(running[0])
                        ));
                    } else if running.is_empty() && elig.should_run && w.delete.is_empty() {
                        let terminating: Vec<&Pod> =
                            pods.iter().copied().filter(|p| is_terminating(p)).collect();
                        if !terminating.is_empty() {
                            w.waits.push(format!(
                                "waits for {} to be gone before it creates the new pod",
                                names(&terminating)
                            ));
                        }
                    }
                } else if running.len() <= 1 {
                    if running.is_empty() && elig.should_run {
                        w.create = true;
                        w.notes
                            .push("creates a pod: no running pod is left on the node (surge)".into());
                    }
                } else {
                    running.sort_by(|a, b| controller_order(a, b));
                    let Some(current) = known_hash.or(matches!(hash, Hash::New).then_some("")) else {
                        unknown.insert(node, "the current revision is not in the view".into());
                        continue;
                    };
                    let is_new = |p: &Pod| {
                        !current.is_empty()
                            && p.metadata
                                .labels
                                .as_ref()
                                .and_then(|l| l.get(REVISION_HASH_LABEL))
                                .map(String::as_str)
                                == Some(current)
                    };
                    let mut oldest_new = None;
                    let mut oldest_old = None;
                    let mut extra = Vec::new();
                    for pod in running.iter().copied() {
                        let slot = if is_new(pod) {
                            &mut oldest_new
                        } else {
                            &mut oldest_old
                        };
                        if slot.is_none() {
                            *slot = Some(pod);
                        } else {
                            extra.push(pod);
                        }
                    }
                    if !extra.is_empty() {
                        w.delete.extend(extra.iter().copied());
                        w.notes.push(format!(
                            "deletes {}: with surge a node keeps at most its oldest new and oldest old pod",
                            names(&extra)
                        ));
                    }
                    if let (Some(new), Some(old)) = (oldest_new, oldest_old) {
                        let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
                        if !is_ready(old) {
                            w.replaced = true;
                            w.delete.push(old);
                            w.notes.push(format!(
                                "deletes outdated pod {}: it is not ready and new pod {} is there",
                                name(old),
                                name(new)
                            ));
                        } else if is_available(new, min_ready, view.now) {
                            w.replaced = true;
                            w.delete.push(old);
                            w.notes.push(format!(
                                "deletes outdated pod {}: new pod {} is available",
                                name(old),
                                name(new)
                            ));
                        }
                    }
                }
            }
            Some(pods) if !elig.should_continue_running => {
                let live: Vec<&Pod> = pods.iter().copied().filter(|p| !is_terminating(p)).collect();
                if !live.is_empty() {
                    w.delete.extend(live.iter().copied());
                    w.notes.push(format!(
                        "deletes {}: {} and its pods must go",
                        names(&live),
                        not_qualify(elig)
                    ));
                }
            }
            _ => {}
        }
    }

    // mirrors getUnscheduledPodsWithoutNode
    for (node, pods) in &by_node {
        if !node_names.contains(node) {
            plan.without_node
                .extend(pods.iter().filter(|p| !is_bound(p)).map(|p| name(p)));
        }
    }

    let manage_writes = work
        .values()
        .any(|w| w.create || !w.delete.is_empty() || !w.adopt.is_empty() || !w.release.is_empty())
        || !plan.without_node.is_empty();

    // mirrors rollingUpdate (update.go), on the view after manage's writes
    let mut ru: BTreeMap<&str, RuMove> = BTreeMap::new();
    if rolling_update(ds) {
        if !view.complete {
            for node in &node_names {
                if rollout_may_touch(by_node.get(node), hash, generation) {
                    unknown.insert(
                        node,
                        "the rolling update's budget is counted over every node, and this view holds one node".into(),
                    );
                }
            }
        } else if matches!(hash, Hash::Unknown) {
            for node in &node_names {
                if by_node.contains_key(node) || eligibility[node].should_run {
                    unknown.insert(
                        node,
                        "the current revision is not in the view (no ControllerRevision of the DaemonSet)"
                            .into(),
                    );
                }
            }
        } else {
            ru = rolling_update_moves(ds, view, &by_node, &work, &eligibility, known_hash, generation);
        }
    }

    for node in &node_names {
        let w = work.remove(node).unwrap_or_default();
        let mut m = assemble(w, ru.remove(node), &eligibility[node], by_node.get(node));
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

/// What the rolling update does on one node.
#[derive(Default, Debug)]
struct RuMove {
    delete: Vec<String>,
    create: bool,
    pool: Option<Pool>,
    why: String,
    wait: bool,
    /// A new pod follows the deletion (the node qualifies).
    followed: bool,
}

/// Whether the rolling update could act on a node with these pods: it acts only where an
/// outdated pod is.
fn rollout_may_touch(pods: Option<&Vec<&Pod>>, hash: Hash, generation: Option<i64>) -> bool {
    let known = match hash {
        Hash::Known(h) => Some(h),
        _ => None,
    };
    pods.into_iter()
        .flatten()
        .filter(|p| !is_terminating(p))
        .any(|p| !is_updated(p, known, generation))
}

fn rolling_update_moves<'a>(
    ds: &DaemonSet,
    view: &View<'a>,
    by_node: &BTreeMap<&'a str, Vec<&'a Pod>>,
    work: &BTreeMap<&str, NodeWork>,
    eligibility: &BTreeMap<&str, Qualifies>,
    hash: Option<&str>,
    generation: Option<i64>,
) -> BTreeMap<&'a str, RuMove> {
    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let available = |p: &Pod| is_available(p, min_ready, view.now);
    // The map the rolling update walks: every node with pods, plus every desired node.
    let mut nodes: BTreeMap<&str, Vec<&Pod>> = by_node.clone();
    let mut desired = 0;
    for n in view.nodes {
        let Some(name) = n.metadata.name.as_deref() else {
            continue;
        };
        if eligibility.get(name).is_some_and(|e| e.should_run) {
            desired += 1;
            nodes.entry(name).or_default();
        }
    }
    let mut out: BTreeMap<&str, RuMove> = BTreeMap::new();
    let (max_surge, max_unavailable) = match budgets(ds, desired) {
        Ok(b) => b,
        Err(e) => {
            for node in nodes.keys() {
                out.insert(
                    node,
                    RuMove {
                        why: format!("the rolling update fails: {e}"),
                        wait: true,
                        ..Default::default()
                    },
                );
            }
            return out;
        }
    };
    // manage's writes of this sync, as the rolling update sees them once they are observed:
    // deleted pods are terminating, and a created pod is new and not available.
    let deleted = |p: &Pod| {
        work.values()
            .any(|w| w.delete.iter().any(|d| std::ptr::eq(*d, p)))
    };
    let created = |n: &str| work.get(n).is_some_and(|w| w.create);
    let classify = |node: &str, pods: &[&'a Pod]| -> Option<(Option<&'a Pod>, Option<&'a Pod>, bool)> {
        // mirrors findUpdatedPodsOnNode; the bool is a pod created by manage (new, not available)
        let mut new = None;
        let mut old = None;
        for pod in pods.iter().copied() {
            if is_terminating(pod) || deleted(pod) {
                continue;
            }
            let slot = if is_updated(pod, hash, generation) {
                &mut new
            } else {
                &mut old
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(pod);
        }
        let made = created(node);
        if made && new.is_some() {
            return None;
        }
        Some((new, old, made))
    };

    if max_surge == 0 {
        let mut unavailable_nodes: Vec<&str> = Vec::new();
        let mut replacements: Vec<(&str, &Pod)> = Vec::new();
        let mut candidates: Vec<(&str, &Pod)> = Vec::new();
        for (node, pods) in &nodes {
            match classify(node, pods) {
                None => unavailable_nodes.push(node),
                Some((None, None, false)) | Some((Some(_), Some(_), _)) | Some((None, Some(_), true)) => {
                    unavailable_nodes.push(node)
                }
                Some((_, None, true)) => unavailable_nodes.push(node),
                Some((Some(new), None, false)) => {
                    if !available(new) {
                        unavailable_nodes.push(node);
                    }
                }
                Some((None, Some(old), false)) => {
                    if !available(old) {
                        replacements.push((node, old));
                        unavailable_nodes.push(node);
                    } else {
                        candidates.push((node, old));
                    }
                }
            }
        }
        // The loop stops taking candidates once the unavailable count reaches the budget; the
        // count it ends with is the same whatever the order, and so is how many it deletes.
        let used = unavailable_nodes.len();
        let room = max_unavailable.saturating_sub(used).min(candidates.len());
        for (node, old) in replacements {
            let e = &eligibility.get(node);
            let why = if e.is_some_and(|e| !e.should_run) {
                format!(
                    "deletes outdated pod {}: it is not available, so the rolling update replaces it whatever the budget; no new pod follows, since {}",
                    name(old),
                    e.map(not_qualify).unwrap_or_default()
                )
            } else {
                format!(
                    "replaces outdated pod {}: it is not available, so the rolling update deletes it whatever the budget (maxUnavailable {max_unavailable}); the new pod follows on a later sync",
                    name(old)
                )
            };
            let followed = e.is_some_and(|e| e.should_run);
            out.insert(
                node,
                RuMove {
                    delete: vec![name(old)],
                    why,
                    followed,
                    ..Default::default()
                },
            );
        }
        let holders = |limit: usize| -> String {
            let shown: Vec<&str> = unavailable_nodes.iter().copied().take(limit).collect();
            let more = unavailable_nodes.len().saturating_sub(limit);
            if more > 0 {
                format!("{} and {more} more", shown.join(", "))
            } else {
                shown.join(", ")
            }
        };
        let of = candidates.len();
        for (node, old) in candidates {
            let followed = eligibility.get(node).is_some_and(|e| e.should_run);
            let mv = if room == of {
                let tail = if eligibility.get(node).is_some_and(|e| !e.should_run) {
                    format!(
                        "; no new pod follows, since {}",
                        eligibility.get(node).map(not_qualify).unwrap_or_default()
                    )
                } else {
                    "; the new pod follows on a later sync".into()
                };
                RuMove {
                    delete: vec![name(old)],
                    why: format!(
                        "replaces outdated pod {} within the budget (maxUnavailable {max_unavailable}, {used} unavailable){tail}",
                        name(old)
                    ),
                    followed,
                    ..Default::default()
                }
            } else if room == 0 {
                RuMove {
                    wait: true,
                    why: format!(
                        "waits to replace outdated pod {}: {used} of {max_unavailable} unavailable allowed {} in use ({})",
                        name(old),
                        if used == 1 { "is" } else { "are" },
                        holders(3)
                    ),
                    ..Default::default()
                }
            } else {
                RuMove {
                    delete: vec![name(old)],
                    pool: Some(Pool { picked: room, of }),
                    why: format!(
                        "may {} outdated pod {}: the rolling update replaces {room} of the {of} nodes with an available outdated pod (maxUnavailable {max_unavailable}, {used} unavailable); which ones is random{}",
                        if followed { "replace" } else { "delete" },
                        name(old),
                        if followed {
                            String::new()
                        } else {
                            format!(
                                "; no new pod follows here, since {}",
                                eligibility.get(node).map(not_qualify).unwrap_or_default()
                            )
                        }
                    ),
                    followed,
                    ..Default::default()
                }
            };
            out.insert(node, mv);
        }
        return out;
    }

    // maxSurge > 0
    let mut num_surge = 0usize;
    let mut num_available = 0usize;
    let mut candidates: Vec<&str> = Vec::new();
    let mut should_not_run: Vec<(&str, &Pod)> = Vec::new();
    let mut surging: Vec<&str> = Vec::new();
    for (node, pods) in &nodes {
        let Some((new, old, made)) = classify(node, pods) else {
            num_surge += 1;
            surging.push(node);
            continue;
        };
        if let Some(old) = old {
            num_available += usize::from(available(old));
        } else if let Some(new) = new {
            num_available += usize::from(available(new));
        }
        let should_run = eligibility.get(node).is_some_and(|e| e.should_run);
        match (old, new.is_some() || made) {
            (None, _) => {}
            (Some(old), false) => {
                if !available(old) {
                    if !should_run {
                        out.insert(
                            node,
                            RuMove {
                                delete: vec![name(old)],
                                why: format!(
                                    "deletes outdated pod {}: it is not available and {}",
                                    name(old),
                                    eligibility.get(node).map(not_qualify).unwrap_or_default()
                                ),
                                ..Default::default()
                            },
                        );
                    } else {
                        out.insert(node, RuMove {
                            create: true,
                            why: format!(
                                "creates a new pod beside outdated pod {}: it is not available, so the surge budget does not apply; the old pod goes once the new one is available",
                                name(old)
                            ),
                            followed: true,
                            ..Default::default()
                        });
                    }
                } else if !should_run {
                    should_not_run.push((node, old));
                } else if num_surge < max_surge {
                    candidates.push(node);
                } else {
                    out.insert(node, RuMove {
                        wait: true,
                        why: format!("waits to surge a new pod beside outdated pod {}: the surge budget (maxSurge {max_surge}) is in use", name(old)),
                        ..Default::default()
                    });
                }
            }
            (Some(old), true) => {
                match new {
                    Some(new) if available(new) => {
                        out.insert(
                            node,
                            RuMove {
                                delete: vec![name(old)],
                                why: format!(
                                    "deletes outdated pod {}: new pod {} is available",
                                    name(old),
                                    name(new)
                                ),
                                followed: true,
                                ..Default::default()
                            },
                        );
                    }
                    _ => {
                        num_surge += 1;
                        surging.push(node);
                        out.insert(node, RuMove {
                        wait: true,
                        why: format!(
                            "waits for the new pod{} to become available, then deletes outdated pod {}",
                            new.map(|n| format!(" {}", name(n))).unwrap_or_default(),
                            name(old)
                        ),
                        ..Default::default()
                    });
                    }
                }
            }
        }
    }
    let deletable = num_available.saturating_sub(desired).min(should_not_run.len());
    let of = should_not_run.len();
    for (node, old) in should_not_run {
        let mv = if deletable == of {
            RuMove {
                delete: vec![name(old)],
                why: format!(
                    "deletes outdated pod {}: {}, and {num_available} available pods exceed the {desired} wanted",
                    name(old),
                    eligibility.get(node).map(not_qualify).unwrap_or_default()
                ),
                ..Default::default()
            }
        } else if deletable == 0 {
            RuMove {
                wait: true,
                why: format!(
                    "keeps outdated pod {} for now: {}, but with surge it goes only while available pods ({num_available}) exceed the {desired} wanted",
                    name(old),
                    eligibility.get(node).map(not_qualify).unwrap_or_default()
                ),
                ..Default::default()
            }
        } else {
            RuMove {
                delete: vec![name(old)],
                pool: Some(Pool {
                    picked: deletable,
                    of,
                }),
                why: format!(
                    "may delete outdated pod {}: {deletable} of the {of} outdated pods on nodes that no longer qualify go now; which ones depends on the controller's order",
                    name(old)
                ),
                ..Default::default()
            }
        };
        out.insert(node, mv);
    }
    let room = max_surge.saturating_sub(num_surge).min(candidates.len());
    let of = candidates.len();
    for node in candidates {
        let old = nodes[node]
            .iter()
            .copied()
            .find(|p| !is_terminating(p) && !is_updated(p, hash, generation));
        let old_name = old.map(name).unwrap_or_default();
        let mv = if room == of {
            RuMove {
                create: true,
                why: format!(
                    "creates a new pod beside outdated pod {old_name} (maxSurge {max_surge}); the old pod goes once the new one is available"
                ),
                followed: true,
                ..Default::default()
            }
        } else if room == 0 {
            RuMove {
                wait: true,
                why: format!(
                    "waits to surge a new pod beside outdated pod {old_name}: {num_surge} of maxSurge {max_surge} in use ({})",
                    surging.iter().take(3).copied().collect::<Vec<_>>().join(", ")
                ),
                ..Default::default()
            }
        } else {
            RuMove {
                create: true,
                pool: Some(Pool { picked: room, of }),
                why: format!(
                    "may create a new pod beside outdated pod {old_name}: the rolling update surges onto {room} of the {of} nodes with an available outdated pod (maxSurge {max_surge}); which ones is random"
                ),
                followed: true,
                ..Default::default()
            }
        };
        out.insert(node, mv);
    }
    out
}

/// One node's move from the claim, manage and the rolling update.
fn assemble(w: NodeWork, ru: Option<RuMove>, elig: &Qualifies, pods: Option<&Vec<&Pod>>) -> NextMove {
    let mut sentences: Vec<String> = Vec::new();
    let adopt: Vec<String> = w.adopt.iter().map(|p| name(p)).collect();
    let release: Vec<String> = w.release.iter().map(|p| name(p)).collect();
    if !adopt.is_empty() {
        sentences.push(format!(
            "adopts orphan {} (no controller reference, labels match the selector)",
            adopt.join(", ")
        ));
    }
    if !release.is_empty() {
        sentences.push(format!(
            "releases {} (its labels no longer match the selector; it stops counting)",
            release.join(", ")
        ));
    }
    sentences.extend(w.notes.iter().cloned());
    let mut delete: Vec<String> = w.delete.iter().map(|p| name(p)).collect();
    let mut create = w.create;
    let mut pool = None;
    let mut after = false;
    let mut waiting = !w.waits.is_empty();
    let mut ru_followed = false;
    sentences.extend(w.waits.iter().cloned());
    if let Some(ru) = ru {
        ru_followed = ru.followed;
        for d in &ru.delete {
            if !delete.contains(d) {
                delete.push(d.clone());
            }
        }
        create |= ru.create;
        pool = ru.pool;
        after = !ru.delete.is_empty() || ru.create || ru.wait;
        waiting |= ru.wait;
        sentences.push(ru.why);
    }
    // A deletion on a node that qualifies is followed by a new pod: the rolling update's, or a
    // failed or succeeded pod's (manage creates it on the next sync, once the node has no pod).
    let followed = ru_followed
        || w.replaced
        || (elig.should_run && !w.delete.is_empty() && w.delete.iter().all(|p| is_terminal(p)));
    let action = if (!delete.is_empty() || create && ru_followed) && (create || followed) {
        Action::Replace
    } else if !delete.is_empty() {
        Action::Delete
    } else if create {
        Action::Create
    } else if !adopt.is_empty() {
        Action::Adopt
    } else if !release.is_empty() {
        Action::Release
    } else if waiting {
        Action::Wait
    } else {
        Action::None
    };
    let mut pods_named: Vec<String> = Vec::new();
    for p in adopt.iter().chain(&release).chain(&delete) {
        if !pods_named.contains(p) {
            pods_named.push(p.clone());
        }
    }
    let why = if sentences.is_empty() {
        match pods.map(|p| p.as_slice()).unwrap_or_default() {
            [] if !elig.should_run => {
                "nothing: the node does not qualify and has no pod of the DaemonSet".into()
            }
            [] => "nothing".into(),
            [pod, ..] if !elig.should_run && elig.should_continue_running && !is_bound(pod) => format!(
                "nothing: the controller keeps {}, but it is Pending and the scheduler will not bind it while the node has an untolerated NoSchedule taint; remove the taint or delete the pod",
                name(pod)
            ),
            [pod, ..] if !elig.should_run && elig.should_continue_running => format!(
                "nothing: {} stays (only NoSchedule taints are untolerated, and the pod is on the current revision or the strategy is OnDelete); no new pod would be created here",
                name(pod)
            ),
            [pod, ..] if is_terminating(pod) => format!("nothing: {} is terminating", name(pod)),
            [pod, ..] if !is_bound(pod) => format!("nothing: {} waits for the scheduler", name(pod)),
            [pod, ..] if !is_ready(pod) => format!(
                "nothing: {} is the node's pod; the controller does not replace a pod for not being ready (a rolling update does, once the pod is outdated)",
                name(pod)
            ),
            [pod, ..] => format!("nothing: {} is what the controller wants here", name(pod)),
        }
    } else {
        sentences.join("; then ")
    };
    let mut m = NextMove::new(action, format!("the controller {why}"));
    if why.starts_with("nothing") || why.starts_with("cannot tell") {
        m.why = format!("next sync: {why}");
    } else {
        m.why = format!("next sync: the controller {why}");
    }
    m.pods = pods_named;
    m.create = create;
    m.delete = delete;
    m.adopt = adopt;
    m.release = release;
    m.pool = pool;
    m.after_own_writes = after;
    m
}

/// The reason a verdict gives for a pod the controller no longer counts.
pub fn released_reason(pod: &Pod) -> Reason {
    Reason::new(
        Rule::Controller,
        format!(
            "pod {} carries the DaemonSet's controller reference but its labels no longer match the selector: the controller releases it",
            name(pod)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const UID: &str = "ds-uid";
    const NOW: &str = "2026-06-01T00:10:00Z";

    fn ds(strategy: Value) -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "ns", "uid": UID,
                "annotations": {"deprecated.daemonset.template.generation": "2"}},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "updateStrategy": strategy,
                "template": {"metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "a", "image": "agent:2"}]}}
            }
        }))
        .unwrap()
    }

    fn rolling(unavailable: Value, surge: Value) -> Value {
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": unavailable, "maxSurge": surge}})
    }

    fn node(name: &str, taints: Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"taints": taints}})).unwrap()
    }

    /// A pod of the DaemonSet on `node`: `rev` "new" or "old", `state` "ready", "unready",
    /// "pending", "failed", "succeeded" or "terminating"; created at minute `minute`.
    fn pod(name: &str, node: &str, rev: &str, state: &str, minute: u32) -> Pod {
        let hash = if rev == "new" { "newhash" } else { "oldhash" };
        let mut p = json!({
            "metadata": {"name": name, "namespace": "ns",
                "creationTimestamp": format!("2026-06-01T00:0{minute}:00Z"),
                "labels": {"app": "agent", "controller-revision-hash": hash},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": UID, "controller": true}]},
            "spec": {"nodeName": node, "containers": []},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
                "lastTransitionTime": "2026-06-01T00:00:00Z"}]}
        });
        match state {
            "ready" => {}
            "unready" => p["status"]["conditions"][0]["status"] = json!("False"),
            "pending" => {
                p["spec"] = json!({"containers": [], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}});
                p["status"] = json!({"phase": "Pending"});
            }
            "failed" => p["status"] = json!({"phase": "Failed"}),
            "succeeded" => p["status"] = json!({"phase": "Succeeded"}),
            "terminating" => p["metadata"]["deletionTimestamp"] = json!("2026-06-01T00:09:00Z"),
            other => panic!("unknown state {other}"),
        }
        serde_json::from_value(p).unwrap()
    }

    fn orphan(mut p: Pod) -> Pod {
        p.metadata.owner_references = None;
        p
    }

    fn relabelled(mut p: Pod) -> Pod {
        p.metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("app".into(), "debug".into());
        p
    }

    fn plan(ds: &DaemonSet, nodes: &[Node], pods: &[Pod]) -> Plan {
        let nodes: Vec<&Node> = nodes.iter().collect();
        let pods: Vec<&Pod> = pods.iter().collect();
        next_sync(
            ds,
            &View {
                nodes: &nodes,
                pods: &pods,
                hash: Hash::Known("newhash"),
                now: NOW.parse().unwrap(),
                complete: true,
            },
        )
    }

    fn on<'p>(plan: &'p Plan, node: &str) -> &'p NextMove {
        plan.move_for(node).unwrap()
    }

    const NO_SCHEDULE: &str = "NoSchedule";

    fn tainted(name: &str, effect: &str) -> Node {
        node(
            name,
            json!([{"key": "dedicated", "value": "x", "effect": effect}]),
        )
    }

    #[test]
    fn claim_adopts_matching_orphans_and_releases_relabelled_pods() {
        let d = ds(json!({"type": "OnDelete"}));
        assert_eq!(claim(&d, &pod("a", "n1", "new", "ready", 1)), Claim::Owned);
        assert_eq!(
            claim(&d, &orphan(pod("a", "n1", "new", "ready", 1))),
            Claim::Adopted
        );
        assert_eq!(
            claim(&d, &relabelled(pod("a", "n1", "new", "ready", 1))),
            Claim::Released
        );
        assert_eq!(
            claim(&d, &orphan(relabelled(pod("a", "n1", "new", "ready", 1)))),
            Claim::Ignored
        );
        assert_eq!(
            claim(&d, &orphan(pod("a", "n1", "new", "terminating", 1))),
            Claim::Ignored,
            "a deleting orphan is not adopted"
        );
        let mut other = pod("a", "n1", "new", "ready", 1);
        other.metadata.owner_references.as_mut().unwrap()[0].uid = "other".into();
        assert_eq!(claim(&d, &other), Claim::Ignored);
        let mut deleting = d.clone();
        deleting.metadata.deletion_timestamp =
            Some(serde_json::from_value(json!("2026-06-01T00:00:00Z")).unwrap());
        assert_eq!(
            claim(&deleting, &orphan(pod("a", "n1", "new", "ready", 1))),
            Claim::Ignored
        );
        assert_eq!(
            claim(&deleting, &relabelled(pod("a", "n1", "new", "ready", 1))),
            Claim::Ignored
        );
    }

    #[test]
    fn released_pod_leaves_the_node_to_a_new_pod_and_an_orphan_is_adopted_not_doubled() {
        let d = ds(json!({"type": "OnDelete"}));
        let p = plan(
            &d,
            &[node("n1", json!([])), node("n2", json!([]))],
            &[
                relabelled(pod("kept", "n1", "new", "ready", 1)),
                orphan(pod("stray", "n2", "new", "ready", 1)),
            ],
        );
        let m = on(&p, "n1");
        assert_eq!(
            (m.action, m.create, m.release.clone()),
            (Action::Create, true, vec!["kept".to_string()])
        );
        let m = on(&p, "n2");
        assert_eq!(
            (m.action, m.create, m.adopt.clone()),
            (Action::Adopt, false, vec!["stray".to_string()])
        );
    }

    #[test]
    fn pods_should_be_on_node_cases() {
        let d = ds(json!({"type": "OnDelete"}));
        let nodes = [
            node("empty", json!([])),
            node("dup", json!([])),
            node("failed", json!([])),
            node("noexec", json!([{"key": "k", "effect": "NoExecute"}])),
            tainted("nosched", NO_SCHEDULE),
            node("gone", json!([])),
        ];
        let pods = [
            pod("d1", "dup", "new", "ready", 1),
            pod("d2", "dup", "new", "ready", 2),
            pod("d3", "dup", "new", "failed", 3),
            pod("f1", "failed", "new", "failed", 1),
            pod("x1", "noexec", "new", "ready", 1),
            pod("x2", "noexec", "new", "terminating", 1),
            pod("s1", "nosched", "old", "ready", 1),
            pod("g1", "gone", "new", "terminating", 1),
        ];
        let p = plan(&d, &nodes, &pods);
        assert_eq!(on(&p, "empty").action, Action::Create);
        let dup = on(&p, "dup");
        assert_eq!(dup.action, Action::Delete);
        assert_eq!(
            dup.delete,
            vec!["d3", "d2"],
            "the failed pod and all but the oldest running one"
        );
        let failed = on(&p, "failed");
        assert_eq!(
            (failed.action, failed.delete.clone(), failed.create),
            (Action::Replace, vec!["f1".to_string()], false)
        );
        let noexec = on(&p, "noexec");
        assert_eq!(
            (noexec.action, noexec.delete.clone()),
            (Action::Delete, vec!["x1".to_string()]),
            "a terminating pod is not deleted again"
        );
        let nosched = on(&p, "nosched");
        assert_eq!(
            nosched.action,
            Action::None,
            "OnDelete keeps an outdated pod on a NoSchedule-tainted node"
        );
        assert!(nosched.why.contains("stays"), "{}", nosched.why);
        let gone = on(&p, "gone");
        assert_eq!(
            gone.action,
            Action::Wait,
            "without surge a terminating pod blocks its replacement"
        );
    }

    #[test]
    fn terminal_pods_being_deleted_do_not_count() {
        let d = ds(json!({"type": "OnDelete"}));
        let p = plan(&d, &[node("n", json!([]))], &[pod("f", "n", "new", "failed", 1)]);
        assert_eq!(on(&p, "n").action, Action::Replace);
        let mut f = pod("f", "n", "new", "failed", 1);
        f.metadata.deletion_timestamp = Some(serde_json::from_value(json!("2026-06-01T00:09:00Z")).unwrap());
        let p = plan(&d, &[node("n", json!([]))], &[f]);
        assert_eq!(
            on(&p, "n").action,
            Action::Create,
            "since 1.28 a terminal pod being deleted leaves the node empty"
        );
    }

    #[test]
    fn rolling_update_without_surge_deletes_unavailable_old_pods_and_picks_candidates_within_budget() {
        let d = ds(rolling(json!(1), json!(0)));
        let nodes = [
            node("a", json!([])),
            node("b", json!([])),
            node("c", json!([])),
            tainted("t", NO_SCHEDULE),
        ];
        // b: old unready (replaced whatever the budget), a and c: old ready candidates, t: old on a
        // NoSchedule node (a candidate too: shouldRun is not consulted)
        let pods = [
            pod("pa", "a", "old", "ready", 1),
            pod("pb", "b", "old", "unready", 1),
            pod("pc", "c", "old", "ready", 1),
            pod("pt", "t", "old", "ready", 1),
        ];
        let p = plan(&d, &nodes, &pods);
        let b = on(&p, "b");
        assert_eq!(
            (b.action, b.delete.clone()),
            (Action::Replace, vec!["pb".to_string()])
        );
        for n in ["a", "c", "t"] {
            let m = on(&p, n);
            assert_eq!(
                m.action,
                Action::Wait,
                "{n}: the unavailable pod uses the budget of 1: {}",
                m.why
            );
            assert!(
                m.why.contains("1 of 1 unavailable allowed is in use (b)"),
                "{}",
                m.why
            );
        }
        // Without the unready pod there is room for one of three: a random pick.
        let pods = [
            pod("pa", "a", "old", "ready", 1),
            pod("pb", "b", "new", "ready", 1),
            pod("pc", "c", "old", "ready", 1),
            pod("pt", "t", "old", "ready", 1),
        ];
        let p = plan(&d, &nodes, &pods);
        for n in ["a", "c", "t"] {
            assert_eq!(on(&p, n).pool, Some(Pool { picked: 1, of: 3 }), "{n}");
        }
        assert_eq!(
            on(&p, "t").action,
            Action::Delete,
            "no new pod follows on a node that no longer qualifies"
        );
        assert_eq!(on(&p, "a").action, Action::Replace);
        assert_eq!(on(&p, "b").action, Action::None);
    }

    #[test]
    fn rolling_update_budget_is_a_percentage_of_desired_rounded_up() {
        let d = ds(rolling(json!("50%"), json!(0)));
        assert_eq!(budgets(&d, 3), Ok((0, 2)));
        assert_eq!(budgets(&ds(rolling(json!("1%"), json!(0))), 101), Ok((0, 2)));
        assert_eq!(
            budgets(&ds(rolling(json!(0), json!(0))), 5),
            Ok((0, 1)),
            "both 0 falls back to 1"
        );
        assert_eq!(
            budgets(&ds(json!({"type": "RollingUpdate"})), 5),
            Ok((0, 1)),
            "no rollingUpdate: both 0, so maxUnavailable 1"
        );
        assert!(budgets(&ds(rolling(json!("5"), json!(0))), 5).is_err());
        let nodes = [node("a", json!([])), node("b", json!([])), node("c", json!([]))];
        let pods = [
            pod("pa", "a", "old", "ready", 1),
            pod("pb", "b", "old", "ready", 1),
            pod("pc", "c", "old", "ready", 1),
        ];
        let p = plan(&d, &nodes, &pods);
        assert!(
            ["a", "b", "c"]
                .iter()
                .all(|n| on(&p, n).pool == Some(Pool { picked: 2, of: 3 }))
        );
    }

    #[test]
    fn rolling_update_with_surge() {
        let d = ds(rolling(json!(0), json!(1)));
        let nodes = [
            node("a", json!([])),
            node("b", json!([])),
            node("c", json!([])),
            tainted("t", NO_SCHEDULE),
        ];
        let pods = [
            // a: surged, new not yet available: uses the surge budget
            pod("pa-old", "a", "old", "ready", 1),
            pod("pa-new", "a", "new", "unready", 2),
            // b: old unready: a new pod at once, outside the budget
            pod("pb", "b", "old", "unready", 1),
            // c: old ready: waits for the budget
            pod("pc", "c", "old", "ready", 1),
            // t: old ready on a node that no longer qualifies: goes only while available > desired
            pod("pt", "t", "old", "ready", 1),
        ];
        let p = plan(&d, &nodes, &pods);
        assert_eq!(on(&p, "a").action, Action::Wait);
        let b = on(&p, "b");
        assert_eq!((b.action, b.create), (Action::Replace, true));
        assert_eq!(on(&p, "c").action, Action::Wait);
        assert!(on(&p, "c").why.contains("maxSurge 1"), "{}", on(&p, "c").why);
        // available: a (old), c, t = 3, desired 3: nothing to delete on t
        assert_eq!(on(&p, "t").action, Action::Wait, "{}", on(&p, "t").why);

        // Once the new pod on a is available the old one goes.
        let pods = [
            pod("pa-old", "a", "old", "ready", 1),
            pod("pa-new", "a", "new", "ready", 2),
        ];
        let p = plan(&d, &nodes[..1], &pods);
        let a = on(&p, "a");
        assert_eq!(
            (a.action, a.delete.clone()),
            (Action::Replace, vec!["pa-old".to_string()])
        );
    }

    #[test]
    fn surge_manage_keeps_oldest_new_and_oldest_old() {
        let d = ds(rolling(json!(0), json!(1)));
        let pods = [
            pod("o1", "a", "old", "ready", 1),
            pod("o2", "a", "old", "ready", 2),
            pod("n1", "a", "new", "unready", 3),
        ];
        let p = plan(&d, &[node("a", json!([]))], &pods);
        let a = on(&p, "a");
        assert_eq!(a.delete, vec!["o2"]);
    }

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
    fn pending_pod_on_a_node_that_gained_a_noschedule_taint() {
        let d = ds(json!({"type": "OnDelete"}));
        let p = plan(
            &d,
            &[tainted("t", NO_SCHEDULE)],
            &[pod("p", "t", "new", "pending", 1)],
        );
        let m = on(&p, "t");
        assert_eq!(m.action, Action::None);
        assert!(
            m.why.contains("Pending") && m.why.contains("remove the taint or delete the pod"),
            "{}",
            m.why
        );
        // Under RollingUpdate an outdated Pending pod is not available: replaced at once, none follows.
        let d = ds(rolling(json!(1), json!(0)));
        let p = plan(
            &d,
            &[tainted("t", NO_SCHEDULE)],
            &[pod("p", "t", "old", "pending", 1)],
        );
        let m = on(&p, "t");
        assert_eq!(
            (m.action, m.delete.clone()),
            (Action::Delete, vec!["p".to_string()])
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
