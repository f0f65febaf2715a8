//! Facts about one pod: its target node, readiness, availability, revision, and what keeps it
//! from running (scheduler and kubelet layers).

use k8s_openapi::api::core::v1::{ContainerStatus, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::{Reason, Rule};

/// Label the controller puts on pods with the hash of their ControllerRevision.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
/// Label with the template generation a pod was created from (older mechanism).
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";

// mirrors GetTargetNodeName (pkg/controller/daemon/util)
/// The node a daemon pod belongs to: `spec.nodeName`, else the value of the controller's injected
/// `metadata.name In [node]` required-affinity term.
pub fn target_node(pod: &Pod) -> Option<&str> {
    let spec = pod.spec.as_ref()?;
    if let Some(name) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(name);
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find_map(|f| {
            let values = f.values.as_deref().unwrap_or_default();
            (f.key == "metadata.name" && f.operator == "In" && values.len() == 1).then(|| values[0].as_str())
        })
}

/// The pod's controller reference, of any kind: the first owner reference marked as controller
/// (metav1.GetControllerOf; the API allows at most one). The one home of that rule for the claim,
/// the verdicts and the snapshot readers.
pub fn controller_ref(pod: &Pod) -> Option<&OwnerReference> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// The uid of the DaemonSet that controls a pod, if a DaemonSet does.
pub fn controller_uid(pod: &Pod) -> Option<&str> {
    controller_ref(pod)
        .filter(|r| r.kind == "DaemonSet")
        .map(|r| r.uid.as_str())
}

/// A pod without a controller: one a DaemonSet's claim may adopt.
pub fn is_orphan(pod: &Pod) -> bool {
    controller_ref(pod).is_none()
}

/// Whether a pod is one of some DaemonSets' (`theirs` says which uids are) or an orphan their
/// claim may adopt: the pods every reader keeps for an analysis of those DaemonSets.
pub fn of_daemonsets(pod: &Pod, theirs: impl Fn(&str) -> bool) -> bool {
    controller_uid(pod).is_some_and(theirs) || is_orphan(pod)
}

/// The nodes where one of `pods` waits to be bound: the pods bound to those nodes decide whether
/// it fits (the scheduler layer), so every reader of a snapshot keeps them. The one home of that
/// rule for the live fetch and the snapshot loader.
pub fn pending_nodes<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> std::collections::BTreeSet<&'a str> {
    pods.into_iter()
        .filter(|p| !is_bound(p))
        .filter_map(target_node)
        .collect()
}

/// Whether the pod is bound to a node.
pub fn is_bound(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// The pod has ended (Failed or Succeeded).
// mirrors podutil.IsPodTerminal
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Failed" | "Succeeded")
}

/// Since Kubernetes 1.28 a pod that has ended and is being deleted no longer counts for the
/// DaemonSet controller (not for manage, the rolling update or the status); the one home of that
/// rule.
// mirrors getNodesToDaemonPods(includeDeletedTerminal=false) (pkg/controller/daemon)
pub fn ended_and_deleting(pod: &Pod) -> bool {
    is_terminal(pod) && is_terminating(pod)
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

fn condition<'a>(pod: &'a Pod, kind: &str) -> Option<&'a k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
}

/// The pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    condition(pod, "Ready").is_some_and(|c| c.status == "True")
}

// mirrors podutil.IsPodAvailable (1.34+: ready for at least minReadySeconds, boundary inclusive)
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    let Some(ready) = condition(pod, "Ready").filter(|c| c.status == "True") else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    match &ready.last_transition_time {
        Some(t) => t.0 + SignedDuration::from_secs(i64::from(min_ready_seconds)) <= now,
        None => false,
    }
}

// mirrors IsPodUpdated (pkg/controller/daemon/util)
/// The pod runs the current template: its revision hash matches, or its template generation does.
pub fn is_updated(pod: &Pod, hash: Option<&str>, template_generation: Option<i64>) -> bool {
    let labels = pod.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    let by_hash = hash.is_some_and(|h| !h.is_empty() && label(REVISION_HASH_LABEL) == Some(h));
    let by_generation =
        template_generation.is_some_and(|g| label(TEMPLATE_GENERATION_LABEL) == Some(&g.to_string()));
    by_hash || by_generation
}

pub fn revision_hash(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(REVISION_HASH_LABEL)
        .map(String::as_str)
}

/// Oldest first, as the controller orders a node's pods: bound pods first, then by creation time,
/// then by name.
pub fn controller_order(a: &Pod, b: &Pod) -> std::cmp::Ordering {
    is_bound(b)
        .cmp(&is_bound(a))
        .then_with(|| a.metadata.creation_timestamp.cmp(&b.metadata.creation_timestamp))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// Whether the node's Ready condition is True; with the condition's reason and message otherwise.
pub fn node_ready(node: &Node) -> Result<(), String> {
    let cond = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match cond {
        Some(c) if c.status == "True" => Ok(()),
        Some(c) => {
            let state = if c.status == "Unknown" {
                "unreachable (Ready=Unknown)"
            } else {
                "NotReady"
            };
            let mut text = format!("node {} is {state}", node.metadata.name.as_deref().unwrap_or(""));
            if let Some(t) = &c.last_transition_time {
                text.push_str(&format!(" since {}", t.0.strftime("%Y-%m-%dT%H:%M:%SZ")));
            }
            let detail: Vec<&str> = [c.reason.as_deref(), c.message.as_deref()]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect();
            if !detail.is_empty() {
                text.push_str(&format!(": {}", detail.join(": ")));
            }
            Err(text)
        }
        None => Err(format!(
            "node {} has not reported a Ready condition",
            node.metadata.name.as_deref().unwrap_or("")
        )),
    }
}

/// What keeps a pod from running Ready: the scheduler's word for an unbound pod, the container
/// states for a bound one, and the node when it is not Ready. Empty for a Ready pod.
pub fn pod_problems(pod: &Pod, node: Option<&Node>) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let name = pod.metadata.name.as_deref().unwrap_or("");
    if is_terminating(pod) {
        reasons.push(Reason::new(
            Rule::Controller,
            format!("pod {name} is terminating"),
        ));
    }
    if !is_bound(pod) {
        match condition(pod, "PodScheduled").filter(|c| c.status == "False") {
            Some(c) => {
                let message = c
                    .message
                    .as_deref()
                    .filter(|m| !m.is_empty())
                    .unwrap_or("no message");
                reasons.push(Reason::new(Rule::Scheduler, format!("scheduler: {message}")));
            }
            None => reasons.push(Reason::new(
                Rule::Scheduler,
                format!("pod {name} has not been scheduled yet"),
            )),
        }
        return reasons;
    }
    if let Some(node) = node
        && let Err(text) = node_ready(node)
    {
        reasons.push(Reason::new(Rule::NodeNotReady, text));
    }
    let status = pod.status.as_ref();
    match phase(pod) {
        "Failed" | "Succeeded" => {
            let why = status
                .and_then(|s| s.reason.as_deref().or(s.message.as_deref()))
                .unwrap_or("no reason given");
            reasons.push(Reason::new(
                Rule::Container,
                format!("pod {name} is {} ({why})", phase(pod)),
            ));
            return reasons;
        }
        _ => {}
    }
    if is_ready(pod) {
        return reasons;
    }
    let init = status
        .and_then(|s| s.init_container_statuses.as_ref())
        .into_iter()
        .flatten();
    for cs in init {
        if let Some(text) = container_problem(cs, true) {
            reasons.push(Reason::new(Rule::Container, text));
        }
    }
    let main = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten();
    for cs in main {
        if let Some(text) = container_problem(cs, false) {
            reasons.push(Reason::new(Rule::Container, text));
        }
    }
    if !reasons
        .iter()
        .any(|r| r.rule == Rule::Container || r.rule == Rule::NodeNotReady)
    {
        let detail = condition(pod, "Ready").and_then(|c| c.message.clone().or(c.reason.clone()));
        reasons.push(Reason::new(
            Rule::Container,
            match detail {
                Some(d) => format!("pod {name} is not ready: {d}"),
                None => format!("pod {name} is not ready yet (phase {})", phase(pod)),
            },
        ));
    }
    reasons
}

fn container_problem(cs: &ContainerStatus, init: bool) -> Option<String> {
    let kind = if init { "init container" } else { "container" };
    let state = cs.state.as_ref();
    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        let reason = w.reason.as_deref().unwrap_or("Waiting");
        let mut text = format!("{kind} {} is waiting: {reason}", cs.name);
        if let Some(m) = w.message.as_deref().filter(|m| !m.is_empty()) {
            text.push_str(&format!(" ({m})"));
        }
        if cs.restart_count > 0 {
            text.push_str(&format!(", {} restarts", cs.restart_count));
        }
        if let Some(t) = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()) {
            text.push_str(&format!(", last exit code {}", t.exit_code));
        }
        return Some(text);
    }
    if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
        if init && t.exit_code == 0 {
            return None;
        }
        return Some(format!(
            "{kind} {} terminated with exit code {} ({})",
            cs.name,
            t.exit_code,
            t.reason.as_deref().unwrap_or("no reason")
        ));
    }
    if state.and_then(|s| s.running.as_ref()).is_some() && !cs.ready && !init {
        return Some(format!(
            "container {} is running but not ready (readiness probe failing)",
            cs.name
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn target_node_prefers_node_name_then_the_injected_affinity_term() {
        let bound = pod(json!({"spec": {"nodeName": "n1", "containers": []}}));
        assert_eq!(target_node(&bound), Some("n1"));
        let pinned = pod(json!({"spec": {"containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]}}}}}));
        assert_eq!(target_node(&pinned), Some("n2"));
        let two_values = pod(json!({"spec": {"containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a", "b"]}]}]}}}}}));
        assert_eq!(
            target_node(&two_values),
            None,
            "an ambiguous term maps to no node"
        );
    }

    #[test]
    fn availability_boundary_is_inclusive() {
        let p = pod(json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}));
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert!(is_available(&p, 0, at("2026-01-01T00:00:00Z")));
        assert!(!is_available(&p, 10, at("2026-01-01T00:00:09Z")));
        assert!(is_available(&p, 10, at("2026-01-01T00:00:10Z")));
    }

    #[test]
    fn updated_by_hash_or_by_generation() {
        let p = pod(
            json!({"metadata": {"labels": {"controller-revision-hash": "abc", "pod-template-generation": "3"}}}),
        );
        assert!(is_updated(&p, Some("abc"), None));
        assert!(is_updated(&p, Some("zzz"), Some(3)));
        assert!(!is_updated(&p, Some("zzz"), Some(4)));
        assert!(!is_updated(&p, None, None));
        assert!(!is_updated(&p, Some(""), None), "an empty hash never matches");
    }

    #[test]
    fn crash_loop_and_readiness_and_scheduler_problems_are_named() {
        let crash = pod(
            json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n", "containers": []},
            "status": {"phase": "Running", "containerStatuses": [{"name": "agent", "image": "i", "imageID": "", "ready": false,
              "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
              "lastState": {"terminated": {"exitCode": 1}}}]}}),
        );
        let r = pod_problems(&crash, None);
        assert_eq!(r[0].rule, Rule::Container);
        assert!(
            r[0].message.contains("CrashLoopBackOff") && r[0].message.contains("exit code 1"),
            "{r:?}"
        );

        let unready = pod(
            json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n", "containers": []},
            "status": {"phase": "Running", "containerStatuses": [{"name": "agent", "image": "i", "imageID": "", "ready": false,
              "restartCount": 0, "state": {"running": {}}}]}}),
        );
        assert!(pod_problems(&unready, None)[0].message.contains("readiness"));

        let pending = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": []},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
              "message": "0/3 nodes are available: 1 Insufficient cpu."}]}}));
        let r = pod_problems(&pending, None);
        assert_eq!(r[0].rule, Rule::Scheduler);
        assert!(r[0].message.contains("Insufficient cpu"));
    }
}
