//! What `manage` does on each node before the rolling update: the one home of which pods a node
//! keeps, which it deletes and whether it gets a new one, by the two answers of
//! `NodeShouldRunDaemonPod`. Mirrors `podsShouldBeOnNode` (pkg/controller/daemon), and
//! `getUnscheduledPodsWithoutNode` for pods aimed at nodes that are gone.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;

use super::text::{name, names};
use super::{Hash, NodeWork, View};
use crate::engine::Rule;
use crate::engine::eligibility::Eligibility;
use crate::engine::pods::{
    REVISION_HASH_LABEL, controller_order, is_available, is_bound, is_ready, is_terminating, phase,
};

/// The two answers of `NodeShouldRunDaemonPod` for one node, and which rules said no, in words;
/// kept instead of the whole [`Eligibility`] (its checks) so that thousands of nodes stay cheap.
pub(super) struct Qualifies {
    pub should_run: bool,
    pub should_continue_running: bool,
    why_not: String,
}

impl Qualifies {
    pub fn of(elig: Eligibility) -> Self {
        let rules: BTreeSet<&str> = elig
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

/// Why a node does not qualify, in words ("the node does not qualify (its nodeSelector)").
pub(super) fn not_qualify(q: &Qualifies) -> String {
    q.why_not.clone()
}

/// Adds to `w` what `manage` does on one node with `pods` (the DaemonSet's, oldest first). Err:
/// the move cannot be told from the view, and why.
// mirrors podsShouldBeOnNode (pkg/controller/daemon)
pub(super) fn pods_should_be_on_node<'a>(
    ds: &DaemonSet,
    view: &View,
    elig: &Qualifies,
    surge_allowed: bool,
    pods: Option<&Vec<&'a Pod>>,
    w: &mut NodeWork<'a>,
) -> Result<(), String> {
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
                    let terminating: Vec<&Pod> = pods.iter().copied().filter(|p| is_terminating(p)).collect();
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
                surge_keeps(ds, view, running, w)?;
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
    Ok(())
}

/// With surge, a node with several running pods keeps its oldest new and oldest old pod, and the
/// old one goes once it is not ready or the new one is available. `running` is oldest first.
fn surge_keeps<'a>(
    ds: &DaemonSet,
    view: &View,
    running: Vec<&'a Pod>,
    w: &mut NodeWork<'a>,
) -> Result<(), String> {
    let current = match view.hash {
        Hash::Known(h) => h,
        Hash::New => "",
        Hash::Unknown => return Err("the current revision is not in the view".into()),
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
    for pod in running {
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
        let why = if !is_ready(old) {
            Some(format!("it is not ready and new pod {} is there", name(new)))
        } else if is_available(new, min_ready, view.now) {
            Some(format!("new pod {} is available", name(new)))
        } else {
            None
        };
        if let Some(why) = why {
            w.replaced = true;
            w.delete.push(old);
            w.notes.push(format!("deletes outdated pod {}: {why}", name(old)));
        }
    }
    Ok(())
}

/// The unbound pods aimed at nodes that do not exist: the controller deletes them.
// mirrors getUnscheduledPodsWithoutNode (pkg/controller/daemon)
pub(super) fn pods_without_node(by_node: &BTreeMap<&str, Vec<&Pod>>, node_names: &[&str]) -> Vec<String> {
    by_node
        .iter()
        .filter(|(node, _)| !node_names.contains(node))
        .flat_map(|(_, pods)| pods.iter().filter(|p| !is_bound(p)).map(|p| name(p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use serde_json::json;

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
}
