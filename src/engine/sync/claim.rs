//! The claim: whose pod a pod is. The one home of the selector match, the controller reference,
//! adoption and release, and of which pods the controller then counts on each node.
//! Mirrors `ClaimObject` (pkg/controller/controller_ref_manager.go) as `getDaemonPods` calls it,
//! and `getNodesToDaemonPods`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::NodeWork;
use super::text::name;
use crate::engine::pods::{
    controller_order, controller_ref, ended_and_deleting, is_terminating, target_node,
};
use crate::engine::{Reason, Rule};

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
    match controller_ref(pod).map(|r| r.uid.as_str()) {
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

/// The pods the controller counts, by node, oldest first; and per node, the pods the claim adopts
/// or releases (the start of each node's work).
pub(super) struct Claimed<'a> {
    pub by_node: BTreeMap<&'a str, Vec<&'a Pod>>,
    pub work: BTreeMap<&'a str, NodeWork<'a>>,
}

// mirrors getDaemonPods + getNodesToDaemonPods(includeDeletedTerminal=false)
pub(super) fn claim_pods<'a>(ds: &DaemonSet, pods: &[&'a Pod]) -> Claimed<'a> {
    let mut by_node: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    let mut work: BTreeMap<&str, NodeWork> = BTreeMap::new();
    for pod in pods.iter().copied() {
        let target = target_node(pod);
        match claim(ds, pod) {
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
    Claimed { by_node, work }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn claim_adopts_matching_orphans_and_releases_relabelled_pods() {
        let d = ds(json!({"type": "OnDelete"}));
        let mut deleting = d.clone();
        deleting.metadata.deletion_timestamp =
            Some(serde_json::from_value(json!("2026-06-01T00:00:00Z")).unwrap());
        let ready = || pod("a", "n1", "new", "ready", 1);
        let mut others = ready();
        others.metadata.owner_references.as_mut().unwrap()[0].uid = "other".into();
        let cases = [
            ("its own pod", &d, ready(), Claim::Owned),
            ("an orphan that matches", &d, orphan(ready()), Claim::Adopted),
            ("its own pod relabelled", &d, relabelled(ready()), Claim::Released),
            (
                "an orphan that does not match",
                &d,
                orphan(relabelled(ready())),
                Claim::Ignored,
            ),
            (
                "a deleting orphan is not adopted",
                &d,
                orphan(pod("a", "n1", "new", "terminating", 1)),
                Claim::Ignored,
            ),
            ("another controller's pod", &d, others, Claim::Ignored),
            (
                "a deleting DaemonSet adopts nothing",
                &deleting,
                orphan(ready()),
                Claim::Ignored,
            ),
            (
                "a deleting DaemonSet releases nothing",
                &deleting,
                relabelled(ready()),
                Claim::Ignored,
            ),
        ];
        for (rule, ds, pod, want) in cases {
            assert_eq!(claim(ds, &pod), want, "{rule}");
        }
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
}
