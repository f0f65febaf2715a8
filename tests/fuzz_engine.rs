//! Hostile input for the pure engine: arbitrary nodes, DaemonSets, pods, revisions and events
//! (labels, taints, tolerations with odd operators and effects, affinity terms with any operator
//! and values, quantities such as "1e309", "-0", "99999999999999999999Ei") through eligibility,
//! the scheduler-level fit check, quantities and the per-node verdicts: no panic, no hang.
//!
//! CI runs proptest's default number of cases; set PROPTEST_CASES for a long run.

mod fuzz_support;

use fuzz_support::{arb_json, arb_string, config, within_deadline};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kubectl_ds::engine::eligibility::node_should_run_daemon_pod;
use kubectl_ds::engine::fit::why_not_fit;
use kubectl_ds::engine::quantity::parse_milli;
use kubectl_ds::engine::verdict::Index;
use kubectl_ds::snapshot::Snapshot;
use proptest::prelude::*;
use serde_json::{Value, json};

const DS_UID: &str = "ds-uid";

/// Text that is, or nearly is, a Kubernetes quantity.
fn arb_quantity() -> impl Strategy<Value = String> {
    let suffix = prop::sample::select(vec![
        "",
        "m",
        "u",
        "n",
        "k",
        "M",
        "G",
        "T",
        "P",
        "E",
        "Ki",
        "Mi",
        "Gi",
        "Ti",
        "Pi",
        "Ei",
        "e",
        "E3",
        "e18",
        "e-18",
        "e19",
        "e-19",
        "e309",
        "e-400",
        "e+3",
        "e99999999999",
        "i",
        "KI",
        "mm",
    ]);
    prop_oneof![
        3 => (
            prop::sample::select(vec!["", "-", "+", "--", "+-"]),
            "[0-9]{0,45}",
            prop::option::of("[0-9]{0,45}"),
            suffix
        )
            .prop_map(|(sign, int, frac, suffix)| match frac {
                Some(f) => format!("{sign}{int}.{f}{suffix}"),
                None => format!("{sign}{int}{suffix}"),
            }),
        2 => prop::sample::select(vec![
            "1e309", "-0", "99999999999999999999Ei", "170141183460469231731687303715884105727",
            "170141183460469231731687303715884105.727m", "-170141183460469231731687303715884105728",
            "0.0000000000000000000000000000000000000001", "9223372036854775807Ei", "1Ei", "8Ei",
            " 1 ", "", ".", "1..2", "NaN", "inf", "0x10", "1_000",
        ])
        .prop_map(str::to_string),
        1 => "[-+0-9.eEimnukKMGTP ]{0,60}",
        1 => arb_string(),
    ]
}

fn arb_map(keys: Vec<&'static str>, values: impl Strategy<Value = String>) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop_oneof![3 => prop::sample::select(keys).prop_map(str::to_string), 1 => arb_string()],
        values,
        0..5,
    )
    .prop_map(|m| json!(m))
}

fn arb_labels() -> impl Strategy<Value = Value> {
    arb_map(
        vec!["app", "zone", "kubernetes.io/hostname", "tier", "gpu", "num"],
        prop_oneof![
            prop::sample::select(vec![
                "a",
                "b",
                "agent",
                "n1",
                "5",
                "-3",
                "1e309",
                "99999999999999999999"
            ])
            .prop_map(str::to_string),
            arb_string(),
        ],
    )
}

fn arb_resources() -> impl Strategy<Value = Value> {
    arb_map(
        vec![
            "cpu",
            "memory",
            "pods",
            "ephemeral-storage",
            "example.com/gpu",
            "hugepages-2Mi",
        ],
        arb_quantity(),
    )
}

fn node_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["n1", "n2", "n3"]).prop_map(str::to_string),
        1 => arb_string(),
    ]
}

fn opt<T: Strategy>(s: T) -> impl Strategy<Value = Option<T::Value>> {
    prop::option::of(s)
}

fn arb_operator() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Equal", ""])
            .prop_map(str::to_string),
        1 => arb_string(),
    ]
}

fn arb_effect() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["NoSchedule", "NoExecute", "PreferNoSchedule", ""]).prop_map(str::to_string),
        1 => arb_string(),
    ]
}

fn arb_node() -> impl Strategy<Value = Value> {
    let taint = (arb_string(), opt(arb_string()), arb_effect())
        .prop_map(|(key, value, effect)| json!({"key": key, "value": value, "effect": effect}));
    let condition = (
        prop::sample::select(vec!["Ready", "MemoryPressure", "NetworkUnavailable", "Weird"]),
        prop::sample::select(vec!["True", "False", "Unknown", ""]),
    )
        .prop_map(|(t, s)| json!({"type": t, "status": s, "reason": "r", "message": "m"}));
    (
        node_name(),
        arb_labels(),
        prop::collection::vec(taint, 0..4),
        any::<bool>(),
        arb_resources(),
        prop::collection::vec(condition, 0..3),
    )
        .prop_map(|(name, labels, taints, unschedulable, allocatable, conditions)| {
            json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels},
                "spec": {"taints": taints, "unschedulable": unschedulable},
                "status": {"allocatable": allocatable, "capacity": allocatable, "conditions": conditions},
            })
        })
}

fn arb_toleration() -> impl Strategy<Value = Value> {
    (
        opt(arb_string()),
        opt(arb_operator()),
        opt(arb_string()),
        opt(arb_effect()),
        opt(any::<i64>()),
    )
        .prop_map(|(key, operator, value, effect, seconds)| {
            json!({"key": key, "operator": operator, "value": value, "effect": effect, "tolerationSeconds": seconds})
        })
}

fn arb_requirement(keys: Vec<&'static str>) -> impl Strategy<Value = Value> {
    (
        prop_oneof![3 => prop::sample::select(keys).prop_map(str::to_string), 1 => arb_string()],
        arb_operator(),
        opt(prop::collection::vec(
            prop_oneof![
                node_name(),
                prop::sample::select(vec![
                    "1e309",
                    "-0",
                    "99999999999999999999",
                    "5",
                    "-9223372036854775809",
                    "0x1"
                ])
                .prop_map(str::to_string),
            ],
            0..4,
        )),
    )
        .prop_map(|(key, operator, values)| json!({"key": key, "operator": operator, "values": values}))
}

fn arb_affinity() -> impl Strategy<Value = Value> {
    let term = (
        opt(prop::collection::vec(
            arb_requirement(vec!["app", "zone", "num", "kubernetes.io/hostname"]),
            0..3,
        )),
        opt(prop::collection::vec(
            arb_requirement(vec!["metadata.name", "metadata.namespace"]),
            0..3,
        )),
    )
        .prop_map(|(e, f)| json!({"matchExpressions": e, "matchFields": f}));
    opt(prop::collection::vec(term, 0..3)).prop_map(|terms| match terms {
        Some(terms) => json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}),
        None => json!({}),
    })
}

fn arb_container() -> impl Strategy<Value = Value> {
    let port = (
        any::<i32>(),
        opt(any::<i32>()),
        opt(prop::sample::select(vec!["TCP", "UDP", "SCTP", "x"])),
        opt(prop::sample::select(vec!["0.0.0.0", "127.0.0.1", "", "::"])),
    )
        .prop_map(|(c, h, p, ip)| json!({"containerPort": c, "hostPort": h, "protocol": p, "hostIP": ip}));
    (
        arb_resources(),
        prop::collection::vec(port, 0..3),
        opt(prop::sample::select(vec!["Always", "Never", "x"])),
    )
        .prop_map(|(requests, ports, restart)| {
            json!({"name": "c", "image": "i", "resources": {"requests": requests}, "ports": ports, "restartPolicy": restart})
        })
}

fn arb_pod_spec() -> impl Strategy<Value = Value> {
    (
        opt(node_name()),
        arb_labels(),
        prop::collection::vec(arb_toleration(), 0..5),
        arb_affinity(),
        prop::collection::vec(arb_container(), 0..3),
        prop::collection::vec(arb_container(), 0..3),
        opt(arb_resources()),
    )
        .prop_map(|(node, selector, tolerations, affinity, containers, init, overhead)| {
            json!({
                "nodeName": node, "nodeSelector": selector, "tolerations": tolerations, "affinity": affinity,
                "containers": containers, "initContainers": init, "overhead": overhead,
            })
        })
}

fn arb_daemonset() -> impl Strategy<Value = Value> {
    (
        arb_pod_spec(),
        opt(any::<i64>()),
        opt(prop_oneof![Just("1".to_string()), Just("99999999999999999999".to_string()), arb_string()]),
        arb_json(2),
    )
        .prop_map(|(spec, generation, template_generation, status)| {
            let status = if status.is_object() { status } else { json!({}) };
            json!({
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": "d", "namespace": "ns", "uid": DS_UID, "generation": generation,
                             "annotations": {"deprecated.daemonset.template.generation": template_generation}},
                "spec": {"selector": {"matchLabels": {"app": "d"}},
                         "template": {"metadata": {"labels": {"app": "d"}}, "spec": spec}},
                "status": status,
            })
        })
}

fn arb_pod() -> impl Strategy<Value = Value> {
    let condition = (
        prop::sample::select(vec!["Ready", "PodScheduled", "ContainersReady", "x"]),
        prop::sample::select(vec!["True", "False", "Unknown"]),
        opt(prop::sample::select(vec!["Unschedulable", "SchedulerError", ""])),
        opt(arb_string()),
    )
        .prop_map(|(t, s, r, m)| json!({"type": t, "status": s, "reason": r, "message": m}));
    let state = prop_oneof![
        (opt(arb_string()), opt(arb_string()))
            .prop_map(|(r, m)| json!({"waiting": {"reason": r, "message": m}})),
        (any::<i32>(), opt(arb_string()))
            .prop_map(|(c, r)| json!({"terminated": {"exitCode": c, "reason": r}})),
        Just(json!({"running": {}})),
        Just(json!({})),
    ];
    let container_status =
        (any::<bool>(), any::<i32>(), state.clone(), state).prop_map(|(ready, restarts, s, last)| {
            json!({"name": "c", "image": "i", "imageID": "", "ready": ready, "restartCount": restarts,
               "state": s, "lastState": last})
        });
    (
        (any::<u16>(), any::<bool>(), opt(node_name()), arb_pod_spec()),
        opt(prop::sample::select(vec!["Pending", "Running", "Succeeded", "Failed", "Unknown", "x"])),
        prop::collection::vec(condition, 0..4),
        prop::collection::vec(container_status, 0..3),
        opt(prop_oneof![Just("abc".to_string()), arb_string()]),
        any::<bool>(),
        opt(prop_oneof![Just("1".to_string()), arb_string()]),
    )
        .prop_map(
            |((id, controller, target, mut spec), phase, conditions, statuses, hash, deleting, generation)| {
                spec["nodeName"] = json!(null);
                let bound = id % 2 == 0;
                if let Some(target) = target {
                    if bound {
                        spec["nodeName"] = json!(target);
                    } else {
                        spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [target]}]}]}}});
                    }
                }
                json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {
                        "name": format!("p{id}"), "namespace": "ns", "uid": format!("uid-{id}"),
                        "creationTimestamp": format!("2024-01-01T00:00:{:02}Z", id % 60),
                        "deletionTimestamp": if deleting { json!("2024-01-01T00:01:00Z") } else { json!(null) },
                        "labels": {"app": "d", "controller-revision-hash": hash, "pod-template-generation": generation},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "d", "uid": DS_UID, "controller": controller}],
                    },
                    "spec": spec,
                    "status": {"phase": phase, "conditions": conditions, "containerStatuses": statuses},
                })
            },
        )
}

fn arb_revision() -> impl Strategy<Value = Value> {
    (any::<i64>(), arb_json(3), opt(arb_pod_spec()), opt(prop_oneof![Just("abc".to_string()), arb_string()]))
        .prop_map(|(revision, data, template, hash)| {
            let data = match template {
                Some(spec) => json!({"spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "d"}}, "spec": spec}}}),
                None => data,
            };
            json!({
                "apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": format!("d-{revision}"), "namespace": "ns",
                             "labels": {"controller-revision-hash": hash},
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "d", "uid": DS_UID, "controller": true}]},
                "revision": revision, "data": data,
            })
        })
}

fn arb_event() -> impl Strategy<Value = Value> {
    (arb_string(), opt(any::<i32>()), any::<u8>()).prop_map(|(message, count, id)| {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("e{id}"), "namespace": "ns"},
            "involvedObject": {"kind": "DaemonSet", "name": "d", "namespace": "ns", "uid": DS_UID},
            "reason": "FailedCreate", "message": message, "count": count, "type": "Warning",
            "lastTimestamp": "2024-01-01T00:00:00Z",
        })
    })
}

/// Drops `null` object entries: absent and null are the same to the API, but a null in a string
/// map (labels, annotations) does not deserialize.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn typed<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    let mut v = v.clone();
    strip_nulls(&mut v);
    serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("generator made an invalid object ({e}): {v}"))
}

#[derive(Debug)]
struct Cluster {
    nodes: Vec<Node>,
    daemonsets: Vec<DaemonSet>,
    pods: Vec<Pod>,
    revisions: Vec<ControllerRevision>,
    events: Vec<Event>,
}

fn arb_cluster() -> impl Strategy<Value = Cluster> {
    (
        prop::collection::vec(arb_node(), 1..4),
        prop::collection::vec(arb_daemonset(), 1..3),
        prop::collection::vec(arb_pod(), 0..6),
        prop::collection::vec(arb_revision(), 0..4),
        prop::collection::vec(arb_event(), 0..3),
    )
        .prop_map(|(nodes, daemonsets, pods, revisions, events)| Cluster {
            nodes: nodes.iter().map(typed).collect(),
            daemonsets: daemonsets.iter().map(typed).collect(),
            pods: pods.iter().map(typed).collect(),
            revisions: revisions.iter().map(typed).collect(),
            events: events.iter().map(typed).collect(),
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn quantities_parse_or_are_refused(text in arb_quantity()) {
        let (plain, negated) = within_deadline(move || {
            let body = text.trim().trim_start_matches(['+', '-']).to_string();
            (parse_milli(&body), parse_milli(&format!("-{body}")))
        });
        // A sign never changes whether a quantity parses, only its sign.
        prop_assert_eq!(plain.map(|v| -v), negated);
    }

    #[test]
    fn any_text_as_a_quantity(text in any::<String>()) {
        within_deadline(move || parse_milli(&text));
    }

    #[test]
    fn eligibility_fit_and_verdicts(cluster in arb_cluster(), explain in any::<bool>()) {
        within_deadline(move || {
            for node in &cluster.nodes {
                for ds in &cluster.daemonsets {
                    let e = node_should_run_daemon_pod(node, ds);
                    // The documented contract: no reasons exactly when both answers are yes.
                    assert_eq!(e.reasons.is_empty(), e.should_run && e.should_continue_running, "{e:?}");
                }
                let bound: Vec<&Pod> = cluster.pods.iter().collect();
                for pod in &cluster.pods {
                    why_not_fit(pod, node, &bound);
                }
            }
            let snapshot = Snapshot {
                nodes: cluster.nodes,
                daemonsets: cluster.daemonsets,
                pods: cluster.pods,
                revisions: cluster.revisions,
                events: cluster.events,
                ..Default::default()
            };
            let index = Index::new(&snapshot);
            for ds in &snapshot.daemonsets {
                for node in &snapshot.nodes {
                    let v = index.verdict(ds, node, explain);
                    serde_json::to_string(&v).expect("a verdict serializes");
                }
            }
        });
    }
}
