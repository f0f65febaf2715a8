//! The scheduler layer, checked locally for a Pending daemon pod on its target node: does it fit
//! the node's allocatable resources, and are its host ports free. Mirrors the NodeResourcesFit and
//! NodePorts filters of the default scheduler profile.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};

use super::quantity::{format_milli, parse_milli};
use super::{Reason, Rule};

/// What a pod asks for, in milli-units per resource (cpu, memory, ephemeral-storage, extended).
// mirrors computePodResourceRequest (pkg/scheduler/framework/plugins/noderesources)
pub fn pod_requests(spec: &PodSpec) -> BTreeMap<String, i128> {
    let mut total: BTreeMap<String, i128> = BTreeMap::new();
    for c in &spec.containers {
        for (k, q) in c
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .into_iter()
            .flatten()
        {
            add(&mut total, k, parse_milli(&q.0).unwrap_or(0));
        }
    }
    // Sidecars (init containers with restartPolicy Always) run beside the main containers;
    // other init containers run one at a time, so only the largest counts.
    let mut sidecars: BTreeMap<String, i128> = BTreeMap::new();
    for c in spec.init_containers.iter().flatten() {
        let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        let is_sidecar = c.restart_policy.as_deref() == Some("Always");
        for (k, q) in requests.into_iter().flatten() {
            let v = parse_milli(&q.0).unwrap_or(0);
            if is_sidecar {
                add(&mut sidecars, k, v);
            } else {
                let with_sidecars = v.saturating_add(sidecars.get(k).copied().unwrap_or(0));
                let e = total.entry(k.clone()).or_default();
                *e = (*e).max(with_sidecars);
            }
        }
    }
    for (k, v) in sidecars {
        add(&mut total, &k, v);
    }
    for (k, q) in spec.overhead.iter().flatten() {
        add(&mut total, k, parse_milli(&q.0).unwrap_or(0));
    }
    total
}

/// Adds to a per-resource sum. Saturating: quantities can be as large as i128 milli-units, and
/// an absurd request must read as "does not fit", not overflow.
fn add(sums: &mut BTreeMap<String, i128>, resource: &str, milli: i128) {
    let sum = sums.entry(resource.to_string()).or_default();
    *sum = sum.saturating_add(milli);
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Why `pod` does not fit `node` next to `bound` (the pods already bound to that node); empty if
/// it fits. `bound` may include the pod itself; it is skipped.
pub fn why_not_fit(pod: &Pod, node: &Node, bound: &[&Pod]) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let Some(spec) = pod.spec.as_ref() else {
        return reasons;
    };
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    let others: Vec<&Pod> = bound
        .iter()
        .copied()
        .filter(|p| !is_terminal(p) && p.metadata.uid != pod.metadata.uid)
        .collect();
    let allocatable: BTreeMap<String, i128> = node
        .status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .into_iter()
        .flatten()
        .map(|(k, q)| (k.clone(), parse_milli(&q.0).unwrap_or(0)))
        .collect();

    let max_pods = allocatable.get("pods").copied().unwrap_or(0) / 1000;
    if others.len() as i128 + 1 > max_pods {
        reasons.push(Reason::new(
            Rule::Resources,
            format!(
                "Too many pods: node {node_name} allows {max_pods} pods and {} are bound to it",
                others.len()
            ),
        ));
    }
    let mut used: BTreeMap<String, i128> = BTreeMap::new();
    for p in &others {
        if let Some(s) = p.spec.as_ref() {
            for (k, v) in pod_requests(s) {
                add(&mut used, &k, v);
            }
        }
    }
    for (resource, want) in pod_requests(spec) {
        if want <= 0 || resource == "pods" {
            continue;
        }
        let have = allocatable.get(&resource).copied().unwrap_or(0);
        let in_use = used.get(&resource).copied().unwrap_or(0);
        let free = have.saturating_sub(in_use);
        if want > free {
            let free = free.max(0);
            reasons.push(Reason::new(
                Rule::Resources,
                format!(
                    "Insufficient {resource}: the pod requests {} but only {} of the node's {} allocatable is free ({} requested by {})",
                    format_milli(&resource, want),
                    format_milli(&resource, free),
                    format_milli(&resource, have),
                    format_milli(&resource, in_use),
                    count(others.len(), "pod")
                ),
            ));
        }
    }
    for (port, protocol, ip) in host_ports(spec) {
        let taken_by = others.iter().find(|p| {
            p.spec.as_ref().is_some_and(|s| {
                host_ports(s).iter().any(|(op, oproto, oip)| {
                    *op == port && *oproto == protocol && (ip == "0.0.0.0" || oip == "0.0.0.0" || *oip == ip)
                })
            })
        });
        if let Some(other) = taken_by {
            reasons.push(Reason::new(
                Rule::HostPort,
                format!(
                    "host port {port}/{protocol} is already used on node {node_name} by pod {}/{}",
                    other.metadata.namespace.as_deref().unwrap_or(""),
                    other.metadata.name.as_deref().unwrap_or("")
                ),
            ));
        }
    }
    reasons
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// (hostPort, protocol, hostIP) of every container port that claims a host port.
fn host_ports(spec: &PodSpec) -> Vec<(i32, String, String)> {
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    containers
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|h| *h > 0)?;
            let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            let ip = p
                .host_ip
                .clone()
                .filter(|i| !i.is_empty() && i != "::")
                .unwrap_or_else(|| "0.0.0.0".into());
            Some((port, protocol, ip))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(alloc: serde_json::Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": "n1"}, "status": {"allocatable": alloc}})).unwrap()
    }
    fn pod(uid: &str, requests: serde_json::Value, ports: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": uid, "namespace": "ns", "uid": uid},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "resources": {"requests": requests}, "ports": ports}]}}))
        .unwrap()
    }

    #[test]
    fn insufficient_cpu_counts_requests_of_bound_pods() {
        let n = node(json!({"cpu": "2", "memory": "4Gi", "pods": "10"}));
        let busy = pod("a", json!({"cpu": "1500m"}), json!([]));
        let pending = pod("p", json!({"cpu": "1", "memory": "1Gi"}), json!([]));
        let r = why_not_fit(&pending, &n, &[&busy]);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].rule, Rule::Resources);
        assert!(r[0].message.starts_with("Insufficient cpu"), "{}", r[0].message);
        assert!(r[0].message.contains("500m"), "{}", r[0].message);
        assert!(why_not_fit(&pending, &n, &[]).is_empty());
    }

    #[test]
    fn too_many_pods_and_missing_extended_resource() {
        let n = node(json!({"cpu": "8", "pods": "1"}));
        let other = pod("a", json!({}), json!([]));
        let pending = pod("p", json!({"nvidia.com/gpu": "1"}), json!([]));
        let r = why_not_fit(&pending, &n, &[&other]);
        assert!(r.iter().any(|r| r.message.starts_with("Too many pods")), "{r:?}");
        assert!(
            r.iter()
                .any(|r| r.message.starts_with("Insufficient nvidia.com/gpu")),
            "{r:?}"
        );
    }

    #[test]
    fn host_port_conflicts_respect_protocol_and_ip() {
        let n = node(json!({"cpu": "8", "pods": "10"}));
        let holder = pod("a", json!({}), json!([{"containerPort": 9100, "hostPort": 9100}]));
        let same = pod("p", json!({}), json!([{"containerPort": 9100, "hostPort": 9100}]));
        let udp = pod(
            "q",
            json!({}),
            json!([{"containerPort": 9100, "hostPort": 9100, "protocol": "UDP"}]),
        );
        assert_eq!(why_not_fit(&same, &n, &[&holder])[0].rule, Rule::HostPort);
        assert!(why_not_fit(&udp, &n, &[&holder]).is_empty());
    }

    /// Regression (found by tests/fuzz_engine.rs): requests near the largest quantity overflowed
    /// when summed (containers, sidecars, overhead, pods bound to the node): a panic in debug
    /// builds, a wrapped negative sum that "fits" in release.
    #[test]
    fn huge_requests_saturate_instead_of_overflowing() {
        let huge = "170141183460469231731687303715884105727m";
        let n = node(json!({"cpu": "8", "pods": "10"}));
        let spec = json!({"nodeName": "n1",
            "containers": [{"name": "a", "resources": {"requests": {"cpu": huge}}},
                           {"name": "b", "resources": {"requests": {"cpu": huge}}}],
            "initContainers": [{"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": huge}}},
                               {"name": "i", "resources": {"requests": {"cpu": huge}}}],
            "overhead": {"cpu": huge}});
        let pending: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p", "uid": "p"}, "spec": spec})).unwrap();
        assert_eq!(pod_requests(pending.spec.as_ref().unwrap())["cpu"], i128::MAX);
        let bound = pod("a", json!({"cpu": huge}), json!([]));
        let also = pod("b", json!({"cpu": huge}), json!([]));
        let r = why_not_fit(&pending, &n, &[&bound, &also]);
        assert!(
            r.iter().any(|r| r.message.starts_with("Insufficient cpu")),
            "{r:?}"
        );
        let small = pod("q", json!({"cpu": "1"}), json!([]));
        let r = why_not_fit(&small, &n, &[&bound, &also]);
        assert!(
            r.iter().any(|r| r.message.starts_with("Insufficient cpu")),
            "{r:?}"
        );
    }

    #[test]
    fn init_containers_count_as_the_largest_one() {
        let spec: PodSpec = serde_json::from_value(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "500m"}}}]}),
        )
        .unwrap();
        assert_eq!(pod_requests(&spec)["cpu"], 500);
    }
}
