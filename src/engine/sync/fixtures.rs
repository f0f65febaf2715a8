//! Fixtures for the tests of the next sync: a DaemonSet, nodes and pods in a few states, and the
//! plan over them.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{Value, json};

pub use super::{Action, Hash, NextMove, Plan, Pool, View, next_sync};

pub const UID: &str = "ds-uid";
pub const NOW: &str = "2026-06-01T00:10:00Z";
pub const NO_SCHEDULE: &str = "NoSchedule";

pub fn ds(strategy: Value) -> DaemonSet {
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

pub fn rolling(unavailable: Value, surge: Value) -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": unavailable, "maxSurge": surge}})
}

pub fn node(name: &str, taints: Value) -> Node {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"taints": taints}})).unwrap()
}

pub fn tainted(name: &str, effect: &str) -> Node {
    node(
        name,
        json!([{"key": "dedicated", "value": "x", "effect": effect}]),
    )
}

/// Nodes a, b and c, and t with an untolerated NoSchedule taint.
pub fn abc_and_tainted_t() -> [Node; 4] {
    [
        node("a", json!([])),
        node("b", json!([])),
        node("c", json!([])),
        tainted("t", NO_SCHEDULE),
    ]
}

/// A pod of the DaemonSet on `node`: `rev` "new" or "old", `state` "ready", "unready",
/// "pending", "failed", "succeeded" or "terminating"; created at minute `minute`.
pub fn pod(name: &str, node: &str, rev: &str, state: &str, minute: u32) -> Pod {
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

pub fn orphan(mut p: Pod) -> Pod {
    p.metadata.owner_references = None;
    p
}

pub fn relabelled(mut p: Pod) -> Pod {
    p.metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("app".into(), "debug".into());
    p
}

/// The next sync of `ds` over the whole view, the current revision being "newhash".
pub fn plan(ds: &DaemonSet, nodes: &[Node], pods: &[Pod]) -> Plan {
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

pub fn on<'p>(plan: &'p Plan, node: &str) -> &'p NextMove {
    plan.move_for(node).unwrap()
}
