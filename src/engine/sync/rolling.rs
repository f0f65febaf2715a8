//! The rolling update, on the view after `manage`'s writes: the one home of which outdated pods
//! it replaces within its budget, which wait, and which are random picks. Mirrors `rollingUpdate`
//! (pkg/controller/daemon/update.go) and its `findUpdatedPodsOnNode`; the `maxSurge == 0` half is
//! here, the surge half in [`super::surge`].

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::budget::{budgets, is_rolling_update};
use super::node::{Qualifies, not_qualify};
use super::text::name;
use super::{Hash, NodeWork, Pool, View};
use crate::engine::pods::{is_available, is_terminating, is_updated};

/// What the rolling update does on one node.
#[derive(Default, Debug)]
pub(super) struct RuMove {
    pub delete: Vec<String>,
    pub create: bool,
    pub pool: Option<Pool>,
    pub why: String,
    pub wait: bool,
    /// A new pod follows the deletion (the node qualifies).
    pub followed: bool,
}

impl RuMove {
    /// `pod` deleted; `followed` when a new pod takes its place.
    pub fn delete(pod: &Pod, followed: bool, why: String) -> Self {
        RuMove {
            delete: vec![name(pod)],
            why,
            followed,
            ..Default::default()
        }
    }

    /// A new pod surged beside the old one, which goes once the new one is available.
    pub fn create(why: String) -> Self {
        RuMove {
            create: true,
            why,
            followed: true,
            ..Default::default()
        }
    }

    pub fn wait(why: String) -> Self {
        RuMove {
            wait: true,
            why,
            ..Default::default()
        }
    }

    /// The move as one of the `pool.picked` random picks among `pool.of` nodes.
    pub fn picked(self, pool: Pool) -> Self {
        RuMove {
            pool: Some(pool),
            ..self
        }
    }
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

/// The rolling update's moves, node by node; the nodes whose move it cannot tell from the view go
/// to `unknown` with the reason.
// mirrors rollingUpdate (update.go), on the view after manage's writes
pub(super) fn rolling_update<'a>(
    ds: &DaemonSet,
    view: &View<'a>,
    by_node: &BTreeMap<&'a str, Vec<&'a Pod>>,
    work: &BTreeMap<&str, NodeWork>,
    eligibility: &BTreeMap<&str, Qualifies>,
    unknown: &mut BTreeMap<&'a str, String>,
) -> BTreeMap<&'a str, RuMove> {
    let generation = crate::engine::verdict::template_generation(ds);
    if !is_rolling_update(ds) {
        return BTreeMap::new();
    }
    let node_names = view.nodes.iter().filter_map(|n| n.metadata.name.as_deref());
    if !view.complete {
        for node in node_names {
            if rollout_may_touch(by_node.get(node), view.hash, generation) {
                unknown.insert(
                    node,
                    "the rolling update's budget is counted over every node, and this view holds one node"
                        .into(),
                );
            }
        }
        return BTreeMap::new();
    }
    let hash = match view.hash {
        Hash::Known(h) => Some(h),
        Hash::New => None,
        Hash::Unknown => {
            for node in node_names {
                if by_node.contains_key(node) || eligibility[node].should_run {
                    unknown.insert(
                        node,
                        "the current revision is not in the view (no ControllerRevision of the DaemonSet)"
                            .into(),
                    );
                }
            }
            return BTreeMap::new();
        }
    };
    // The map the rolling update walks: every node with pods, plus every desired node.
    let mut nodes: BTreeMap<&str, Vec<&Pod>> = by_node.clone();
    let mut desired = 0;
    for name in view.nodes.iter().filter_map(|n| n.metadata.name.as_deref()) {
        if eligibility.get(name).is_some_and(|e| e.should_run) {
            desired += 1;
            nodes.entry(name).or_default();
        }
    }
    let (max_surge, max_unavailable) = match budgets(ds, desired) {
        Ok(b) => b,
        Err(e) => {
            return nodes
                .keys()
                .map(|node| (*node, RuMove::wait(format!("the rolling update fails: {e}"))))
                .collect();
        }
    };
    let walk = Walk {
        nodes,
        desired,
        eligibility,
        work,
        hash,
        generation,
        min_ready: ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0),
        now: view.now,
    };
    if max_surge == 0 {
        walk.without_surge(max_unavailable)
    } else {
        walk.with_surge(max_surge)
    }
}

/// What the rolling update walks over, and what it asks of each node.
pub(super) struct Walk<'a, 'v> {
    /// Every node with pods, plus every desired node.
    pub nodes: BTreeMap<&'a str, Vec<&'a Pod>>,
    pub desired: usize,
    eligibility: &'v BTreeMap<&'v str, Qualifies>,
    work: &'v BTreeMap<&'v str, NodeWork<'v>>,
    /// The current revision's hash; None for a new revision no pod carries yet.
    pub hash: Option<&'a str>,
    pub generation: Option<i64>,
    min_ready: i32,
    now: Timestamp,
}

/// A node's pods as the rolling update sorts them: its new pod, its old pod, and whether manage
/// creates a pod there in this sync (new, not available).
pub(super) type Sorted<'a> = (Option<&'a Pod>, Option<&'a Pod>, bool);

impl<'a> Walk<'a, '_> {
    pub fn available(&self, pod: &Pod) -> bool {
        is_available(pod, self.min_ready, self.now)
    }

    pub fn should_run(&self, node: &str) -> bool {
        self.eligibility.get(node).is_some_and(|e| e.should_run)
    }

    /// Why the node does not qualify, in words.
    pub fn why_not(&self, node: &str) -> String {
        self.eligibility.get(node).map(not_qualify).unwrap_or_default()
    }

    /// The node's new and old pod, as the rolling update sees manage's writes of this sync once
    /// they are observed: deleted pods are terminating, and a created pod is new and not
    /// available. None when the node has more than one of either.
    // mirrors findUpdatedPodsOnNode
    pub fn sort(&self, node: &str, pods: &[&'a Pod]) -> Option<Sorted<'a>> {
        let deleted = |p: &Pod| {
            self.work
                .values()
                .any(|w| w.delete.iter().any(|d| std::ptr::eq(*d, p)))
        };
        let mut new = None;
        let mut old = None;
        for pod in pods.iter().copied() {
            if is_terminating(pod) || deleted(pod) {
                continue;
            }
            let slot = if is_updated(pod, self.hash, self.generation) {
                &mut new
            } else {
                &mut old
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(pod);
        }
        let made = self.work.get(node).is_some_and(|w| w.create);
        if made && new.is_some() {
            return None;
        }
        Some((new, old, made))
    }

    /// The rolling update without surge: an old pod that is not available goes whatever the
    /// budget; available ones go while fewer than maxUnavailable nodes are unavailable.
    fn without_surge(&self, max_unavailable: usize) -> BTreeMap<&'a str, RuMove> {
        let mut out: BTreeMap<&str, RuMove> = BTreeMap::new();
        let mut unavailable_nodes: Vec<&str> = Vec::new();
        let mut replacements: Vec<(&str, &Pod)> = Vec::new();
        let mut candidates: Vec<(&str, &Pod)> = Vec::new();
        for (node, pods) in &self.nodes {
            match self.sort(node, pods) {
                None => unavailable_nodes.push(node),
                Some((None, None, false)) | Some((Some(_), Some(_), _)) | Some((None, Some(_), true)) => {
                    unavailable_nodes.push(node)
                }
                Some((_, None, true)) => unavailable_nodes.push(node),
                Some((Some(new), None, false)) => {
                    if !self.available(new) {
                        unavailable_nodes.push(node);
                    }
                }
                Some((None, Some(old), false)) => {
                    if !self.available(old) {
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
            let followed = self.should_run(node);
            let why = if self.eligibility.get(node).is_some_and(|e| !e.should_run) {
                format!(
                    "deletes outdated pod {}: it is not available, so the rolling update replaces it whatever the budget; no new pod follows, since {}",
                    name(old),
                    self.why_not(node)
                )
            } else {
                format!(
                    "replaces outdated pod {}: it is not available, so the rolling update deletes it whatever the budget (maxUnavailable {max_unavailable}); the new pod follows on a later sync",
                    name(old)
                )
            };
            out.insert(node, RuMove::delete(old, followed, why));
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
            let followed = self.should_run(node);
            let mv = if room == of {
                let tail = if self.eligibility.get(node).is_some_and(|e| !e.should_run) {
                    format!("; no new pod follows, since {}", self.why_not(node))
                } else {
                    "; the new pod follows on a later sync".into()
                };
                RuMove::delete(
                    old,
                    followed,
                    format!(
                        "replaces outdated pod {} within the budget (maxUnavailable {max_unavailable}, {used} unavailable){tail}",
                        name(old)
                    ),
                )
            } else if room == 0 {
                RuMove::wait(format!(
                    "waits to replace outdated pod {}: {used} of {max_unavailable} unavailable allowed {} in use ({})",
                    name(old),
                    if used == 1 { "is" } else { "are" },
                    holders(3)
                ))
            } else {
                RuMove::delete(
                    old,
                    followed,
                    format!(
                        "may {} outdated pod {}: the rolling update replaces {room} of the {of} nodes with an available outdated pod (maxUnavailable {max_unavailable}, {used} unavailable); which ones is random{}",
                        if followed { "replace" } else { "delete" },
                        name(old),
                        if followed {
                            String::new()
                        } else {
                            format!("; no new pod follows here, since {}", self.why_not(node))
                        }
                    ),
                )
                .picked(Pool { picked: room, of })
            };
            out.insert(node, mv);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use serde_json::json;

    #[test]
    fn rolling_update_without_surge_deletes_unavailable_old_pods_and_picks_candidates_within_budget() {
        let d = ds(rolling(json!(1), json!(0)));
        let nodes = abc_and_tainted_t();
        // b: old unready (replaced whatever the budget), a and c: old ready candidates, t: old on a
        // NoSchedule node (a candidate too: shouldRun is not consulted)
        let mut pods = [
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
        pods[1] = pod("pb", "b", "new", "ready", 1);
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
}
