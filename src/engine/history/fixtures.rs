//! Fixtures shared by the history tests.

use super::*;
use crate::engine::pods::REVISION_HASH_LABEL;

pub(super) fn template(image: &str) -> PodTemplateSpec {
    serde_json::from_value(json!({
        "metadata": {"labels": {"app": "agent"}},
        "spec": {"containers": [{"name": "agent", "image": image, "resources": {}}],
                 "securityContext": {}}
    }))
    .unwrap()
}

/// The data the controller stores: Go's encoding, with its zero values and sorted keys.
pub(super) fn go_data(image: &str) -> Value {
    json!({"spec": {"template": {
        "$patch": "replace",
        "metadata": {"creationTimestamp": null, "labels": {"app": "agent"}},
        "spec": {"containers": [{"image": image, "name": "agent", "resources": {}}],
                 "securityContext": {}}
    }}})
}

pub(super) fn cr(
    name: &str,
    revision: i64,
    data: Value,
    hash: Option<&str>,
    cause: Option<&str>,
) -> ControllerRevision {
    let mut meta = json!({"name": name, "creationTimestamp": "2025-01-01T00:00:00Z"});
    if let Some(h) = hash {
        meta["labels"] = json!({REVISION_HASH_LABEL: h});
    }
    if let Some(c) = cause {
        meta["annotations"] = json!({CHANGE_CAUSE_ANNOTATION: c});
    }
    serde_json::from_value(json!({"metadata": meta, "revision": revision, "data": data})).unwrap()
}

pub(super) fn rev(n: i64, image: &str) -> Revision {
    Revision::from_controller_revision(&cr(
        &format!("agent-{n}"),
        n,
        go_data(image),
        Some(&format!("h{n}")),
        None,
    ))
}

pub(super) fn pod(hash: &str) -> Pod {
    serde_json::from_value(json!({"metadata": {"labels": {REVISION_HASH_LABEL: hash}}})).unwrap()
}

pub(super) fn daemonset(image: &str, strategy: Value, annotations: Value) -> DaemonSet {
    serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "ns", "annotations": annotations,
                     "resourceVersion": "42", "generation": 3},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "updateStrategy": strategy,
                 "template": template_value(&template(image))},
        "status": {"observedGeneration": 3, "currentNumberScheduled": 0, "desiredNumberScheduled": 0,
                   "numberMisscheduled": 0, "numberReady": 0}
    }))
    .unwrap()
}

pub(super) fn rolling() -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%", "maxSurge": 0}})
}
