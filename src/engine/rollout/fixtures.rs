//! Fixtures for the tests of rollout progress: a DaemonSet with its status, nodes, pods in a few
//! states, and the view they make.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::snapshot::Snapshot;

pub const NOW: &str = "2026-11-21T19:40:00Z";

pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

pub fn at(secs: i64) -> Timestamp {
    now() + SignedDuration::from_secs(secs)
}

pub fn ds(strategy: Value, generation: i64, status: Value) -> DaemonSet {
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

pub fn rolling() -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}})
}

pub fn status(observed: i64, desired: i32, updated: i32, ready: i32, available: i32) -> Value {
    json!({"observedGeneration": observed, "desiredNumberScheduled": desired, "currentNumberScheduled": desired,
           "updatedNumberScheduled": updated, "numberReady": ready, "numberAvailable": available,
           "numberMisscheduled": 0})
}

pub fn node(name: &str, ready: bool) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                                   "reason": "KubeletNotReady"}]},
    }))
    .unwrap()
}

/// A pod of the DaemonSet on `node`, from template generation `gen`, in one of a few states.
pub fn pod(name: &str, node: &str, generation: i64, state: &str) -> Pod {
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

pub fn terminating(mut p: Pod) -> Pod {
    p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
    p
}

pub fn failed(mut p: Pod) -> Pod {
    p.status.as_mut().unwrap().phase = Some("Failed".into());
    p
}

pub fn view(nodes: Vec<Node>, pods: Vec<Pod>) -> Snapshot {
    Snapshot {
        nodes,
        pods,
        ..Default::default()
    }
}
