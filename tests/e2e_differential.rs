//! Differential test: random nodes and DaemonSets, the real DaemonSet controller places the pods,
//! and every (DaemonSet, node) verdict of kubectl-ds must agree with what the controller did.
//!
//! Phase 1 creates the nodes, then the DaemonSets, and compares `shouldRun` with "the controller
//! put a pod on this node" and `desiredNumberScheduled` with the number of nodes where
//! `shouldRun` holds. Phase 2 then changes some nodes' labels and taints under the running pods
//! and compares `shouldContinueRunning` with "the controller kept the pod".
//!
//! The generator is seeded: `KUBECTL_DS_DIFF_SEED=<n>` replays a run; the seed is printed at the
//! start and in every failure message. This binary holds one test, so it owns its cluster.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::{NodeSpec, Rng, TestEnv, seed, wait_until};

const NODES: usize = 14;
const DAEMONSETS: usize = 28;
const SETTLE: Duration = Duration::from_secs(300);
const NOT_READY_STAGE: &str = "kubectl-ds.test/stage";

// ---- the vocabulary ----

/// Label keys and the values nodes take; selectors also use values no node has.
const LABELS: &[(&str, &[&str])] = &[
    ("zone", &["a", "b", "c"]),
    ("tier", &["web", "db", "cache"]),
    ("disk", &["ssd", "hdd", ""]),
    ("example.com/team", &["red", "blue"]),
    ("cores", &["2", "4", "8", "16", "007"]),
    ("rack", &["1", "12", "x1", "99"]),
];
const SELECTOR_ONLY_KEYS: &[&str] = &["kubernetes.io/hostname", "absent"];
const INTEGER_BOUNDS: &[&str] = &["0", "3", "8", "10", "007", "99"];
/// Valid label values that are not integers: a Gt/Lt term with one never parses, so never matches.
const NON_INTEGER_BOUNDS: &[&str] = &["abc", "1.5", "x1"];
const TAINT_KEYS: &[&str] = &["dedicated", "gpu", "example.com/maint", "team", "spot"];
const TAINT_VALUES: &[&str] = &["", "a", "b", "db"];
const EFFECTS: &[&str] = &["NoSchedule", "NoExecute", "PreferNoSchedule"];
const TOLERATION_EFFECTS: &[&str] = &["", "NoSchedule", "NoExecute", "PreferNoSchedule"];
/// Keys of the node lifecycle controller's taints, which tolerations name too (CNI DaemonSets
/// tolerate not-ready:NoSchedule to run on nodes that are not Ready yet).
const LIFECYCLE_TAINT_KEYS: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/network-unavailable",
    "node.kubernetes.io/unschedulable",
];

fn values_of(key: &str) -> Vec<&'static str> {
    LABELS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_vec())
        .unwrap_or_default()
}

// ---- generated objects ----

#[derive(Clone, Debug)]
struct GenNode {
    name: String,
    labels: BTreeMap<String, String>,
    taints: Vec<(String, String, String)>,
    cordoned: bool,
    /// Reports Ready=False (kwok stage); the node lifecycle controller taints it not-ready.
    not_ready: bool,
    /// Reports NetworkUnavailable=True; the node lifecycle controller taints it
    /// network-unavailable:NoSchedule, which only hostNetwork DaemonSets tolerate by default.
    network_unavailable: bool,
}

fn random_taints(rng: &mut Rng, max: usize) -> Vec<(String, String, String)> {
    let mut taints: Vec<(String, String, String)> = Vec::new();
    let n = rng.below(max + 1);
    while taints.len() < n {
        let key = rng.pick(TAINT_KEYS).to_string();
        let effect = rng.pick(EFFECTS).to_string();
        // Taints must be unique by key and effect.
        if taints.iter().any(|(k, _, e)| *k == key && *e == effect) {
            continue;
        }
        taints.push((key, rng.pick(TAINT_VALUES).to_string(), effect));
    }
    taints
}

fn gen_node(rng: &mut Rng, i: usize, not_ready: bool, network_unavailable: bool) -> GenNode {
    let mut labels = BTreeMap::new();
    for (key, values) in LABELS {
        if rng.chance(55) {
            labels.insert(key.to_string(), rng.pick(values).to_string());
        }
    }
    let taints = if rng.chance(40) {
        Vec::new()
    } else {
        random_taints(rng, 3)
    };
    GenNode {
        name: format!("diff-{i:02}"),
        labels,
        taints,
        cordoned: rng.chance(20),
        not_ready,
        network_unavailable,
    }
}

fn node_spec(n: &GenNode) -> NodeSpec {
    let mut spec = NodeSpec::new(&n.name);
    for (k, v) in &n.labels {
        spec = spec.label(k, v);
    }
    if n.not_ready {
        spec = spec.label(NOT_READY_STAGE, "not-ready");
    }
    for (k, v, e) in &n.taints {
        spec = spec.taint(k, v, e);
    }
    if n.cordoned {
        spec = spec.cordoned();
    }
    spec
}

fn gen_expression(rng: &mut Rng, node_names: &[String]) -> Value {
    let label_keys: Vec<&str> = LABELS
        .iter()
        .map(|(k, _)| *k)
        .chain(SELECTOR_ONLY_KEYS.iter().copied())
        .collect();
    let key = *rng.pick(&label_keys);
    let op = *rng.pick(&["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]);
    let values: Vec<String> = match op {
        "In" | "NotIn" => {
            let mut pool: Vec<String> = if key == "kubernetes.io/hostname" {
                node_names.to_vec()
            } else {
                values_of(key).iter().map(|s| s.to_string()).collect()
            };
            pool.push("zz".into());
            rng.some(&pool, 3).into_iter().cloned().collect()
        }
        "Exists" | "DoesNotExist" => Vec::new(),
        _ => {
            let bound = if rng.chance(75) {
                rng.pick(INTEGER_BOUNDS)
            } else {
                rng.pick(NON_INTEGER_BOUNDS)
            };
            vec![bound.to_string()]
        }
    };
    if values.is_empty() {
        json!({"key": key, "operator": op})
    } else {
        json!({"key": key, "operator": op, "values": values})
    }
}

fn gen_term(rng: &mut Rng, node_names: &[String]) -> Value {
    // An empty term passes validation and matches nothing.
    if rng.chance(6) {
        return json!({});
    }
    let mut term = serde_json::Map::new();
    let fields = rng.chance(25);
    let expressions = if fields { rng.below(3) } else { 1 + rng.below(3) };
    if expressions > 0 {
        let list: Vec<Value> = (0..expressions)
            .map(|_| gen_expression(rng, node_names))
            .collect();
        term.insert("matchExpressions".into(), Value::Array(list));
    }
    if fields {
        let mut names = node_names.to_vec();
        names.push("nowhere".into());
        let op = *rng.pick(&["In", "NotIn"]);
        term.insert(
            "matchFields".into(),
            json!([{"key": "metadata.name", "operator": op, "values": [rng.pick(&names)]}]),
        );
    }
    Value::Object(term)
}

fn gen_toleration(rng: &mut Rng) -> Value {
    let effect = *rng.pick(TOLERATION_EFFECTS);
    let mut t = match rng.below(5) {
        // empty key + Exists: every taint (of that effect, or of every effect)
        0 => json!({"operator": "Exists"}),
        1 => {
            let key = if rng.chance(30) {
                rng.pick(LIFECYCLE_TAINT_KEYS)
            } else {
                rng.pick(TAINT_KEYS)
            };
            json!({"key": key, "operator": "Exists"})
        }
        2 => json!({"key": rng.pick(TAINT_KEYS), "operator": "Equal", "value": rng.pick(TAINT_VALUES)}),
        // no operator means Equal
        3 => json!({"key": rng.pick(TAINT_KEYS), "value": rng.pick(TAINT_VALUES)}),
        // Exists with tolerationSeconds (NoExecute only); long enough that nothing is evicted
        _ => {
            // the controller replaces a not-ready one with its own (no tolerationSeconds)
            let key = match rng.below(10) {
                0..=2 => "",
                3 => "node.kubernetes.io/not-ready",
                _ => rng.pick(TAINT_KEYS),
            };
            return json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 3600});
        }
    };
    if !effect.is_empty() {
        t["effect"] = json!(effect);
    }
    t
}

fn gen_daemonset(rng: &mut Rng, i: usize, node_names: &[String]) -> Value {
    let name = format!("ds-{i:02}");
    let mut spec = json!({
        "containers": [{"name": "agent", "image": "registry.example/agent:1.0"}],
        "terminationGracePeriodSeconds": 0
    });
    if rng.chance(30) {
        let mut selector = serde_json::Map::new();
        for _ in 0..1 + rng.below(2) {
            let (key, values) = rng.pick(LABELS);
            let value = if rng.chance(10) { "zz" } else { rng.pick(values) };
            selector.insert(key.to_string(), json!(value));
        }
        spec["nodeSelector"] = Value::Object(selector);
    }
    if rng.chance(55) {
        let terms: Vec<Value> = (0..1 + rng.below(3)).map(|_| gen_term(rng, node_names)).collect();
        spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": terms}}});
    }
    if rng.chance(60) {
        let tolerations: Vec<Value> = (0..1 + rng.below(3)).map(|_| gen_toleration(rng)).collect();
        spec["tolerations"] = Value::Array(tolerations);
    }
    if rng.chance(20) {
        spec["hostNetwork"] = json!(true);
    }
    if rng.chance(8) {
        let mut names = node_names.to_vec();
        names.push("ghost-node".into());
        spec["nodeName"] = json!(rng.pick(&names));
    }
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec}
        }
    })
}

// ---- observing the cluster ----

fn taints_of(node: &Node) -> Vec<(String, String)> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .map(|t| (t.key.clone(), t.effect.clone()))
        .collect()
}

fn ready(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
}

/// Whether the node lifecycle controller has finished with the node: ready nodes without the
/// not-ready taint the API server adds at creation, NotReady nodes with both not-ready taints,
/// cordoned nodes with the unschedulable taint.
fn node_settled(node: &Node, generated: &GenNode) -> bool {
    let taints = taints_of(node);
    let has = |k: &str, e: &str| taints.iter().any(|(tk, te)| tk == k && te == e);
    let readiness = if generated.not_ready {
        ready(node).as_deref() == Some("False")
            && has("node.kubernetes.io/not-ready", "NoSchedule")
            && has("node.kubernetes.io/not-ready", "NoExecute")
    } else {
        ready(node).as_deref() == Some("True") && !has("node.kubernetes.io/not-ready", "NoSchedule")
    };
    readiness
        && generated.cordoned == has("node.kubernetes.io/unschedulable", "NoSchedule")
        && generated.network_unavailable == has("node.kubernetes.io/network-unavailable", "NoSchedule")
}

fn owner_uid(pod: &Pod) -> Option<&str> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// The node a daemon pod is for: spec.nodeName, else the controller's metadata.name term.
fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.clone().filter(|n| !n.is_empty()) {
        return Some(n);
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
        .find(|f| f.key == "metadata.name" && f.operator == "In")
        .and_then(|f| f.values.as_ref()?.first().cloned())
}

/// What the controller did: DaemonSet name → its status and the nodes its pods are for.
struct Reality {
    daemonsets: BTreeMap<String, DaemonSet>,
    placed: BTreeMap<String, BTreeSet<String>>,
    terminating: usize,
    duplicates: Vec<String>,
}

async fn observe(env: &TestEnv) -> Reality {
    let daemonsets = env
        .daemonsets()
        .list(&ListParams::default())
        .await
        .expect("list daemonsets");
    let pods = env.pods().list(&ListParams::default()).await.expect("list pods");
    let by_uid: BTreeMap<String, String> = daemonsets
        .items
        .iter()
        .map(|d| {
            (
                d.metadata.uid.clone().unwrap_or_default(),
                d.metadata.name.clone().unwrap_or_default(),
            )
        })
        .collect();
    let mut placed: BTreeMap<String, BTreeSet<String>> = by_uid
        .values()
        .map(|name| (name.clone(), BTreeSet::new()))
        .collect();
    let mut terminating = 0;
    let mut duplicates = Vec::new();
    for pod in &pods.items {
        if pod.metadata.deletion_timestamp.is_some() {
            terminating += 1;
            continue;
        }
        let (Some(ds), Some(node)) = (owner_uid(pod).and_then(|u| by_uid.get(u)), target_node(pod)) else {
            continue;
        };
        if !placed.entry(ds.clone()).or_default().insert(node.clone()) {
            duplicates.push(format!("{ds}@{node}"));
        }
    }
    Reality {
        daemonsets: daemonsets
            .items
            .into_iter()
            .map(|d| (d.metadata.name.clone().unwrap_or_default(), d))
            .collect(),
        placed,
        terminating,
        duplicates,
    }
}

impl Reality {
    /// Every DaemonSet has caught up: it observed its generation, has a pod on every node it
    /// counts, and no pod is being deleted or doubled.
    fn settled(&self, expect: usize) -> bool {
        self.daemonsets.len() == expect
            && self.terminating == 0
            && self.duplicates.is_empty()
            && self.daemonsets.iter().all(|(name, d)| {
                let Some(s) = d.status.as_ref() else { return false };
                s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(1)
                    && s.current_number_scheduled == s.desired_number_scheduled
                    && self.placed[name].len() as i32 == s.current_number_scheduled + s.number_misscheduled
            })
    }

    fn statuses(&self) -> String {
        self.daemonsets
            .iter()
            .map(|(name, d)| {
                format!(
                    "  {name}: generation {:?} status {} pods on {:?}",
                    d.metadata.generation,
                    serde_json::to_string(&d.status).unwrap_or_default(),
                    self.placed[name]
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

async fn wait_settled(env: &TestEnv, seed: u64, phase: &str) -> Reality {
    let deadline = Instant::now() + SETTLE;
    loop {
        let reality = observe(env).await;
        if reality.settled(DAEMONSETS) {
            return reality;
        }
        if Instant::now() > deadline {
            panic!(
                "differential (seed {seed}, {phase}): the controller did not settle in {SETTLE:?}; \
                 {} terminating pods, doubled: {:?}\n{}\n{}",
                reality.terminating,
                reality.duplicates,
                reality.statuses(),
                env.cluster.logs()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// kubectl-ds's verdicts, one `why-not NODE -n NS -o json --explain` per node (fewer processes
/// than one `status` per DaemonSet): (DaemonSet, node) → verdict.
fn verdicts(env: &TestEnv, nodes: &[String], seed: u64) -> BTreeMap<(String, String), Value> {
    let mut all = BTreeMap::new();
    for node in nodes {
        let out = env
            .kubectl_ds()
            .args(["why-not", node, "-n", &env.ns, "-o", "json", "--explain"])
            .run();
        let doc: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("differential (seed {seed}): no JSON ({e}): {out}"));
        let code = out.code;
        let items = doc["items"].as_array().cloned().unwrap_or_default();
        let fine = items
            .iter()
            .all(|v| matches!(v["verdict"].as_str(), Some("running" | "not-eligible")));
        assert_eq!(
            code,
            Some(if fine { 0 } else { 1 }),
            "differential (seed {seed}): exit code of why-not {node}"
        );
        for v in items {
            let ds = v["daemonset"].as_str().unwrap_or_default().to_string();
            all.insert((ds, node.clone()), v);
        }
    }
    all
}

/// `status DS -n NS -o json` for every DaemonSet must give, node by node, the verdicts `why-not`
/// gave (it reads every node and the DaemonSet's pods instead of one node and every DaemonSet).
/// Returns the number of verdicts compared and the differences.
fn status_agrees(
    env: &TestEnv,
    why_not: &BTreeMap<(String, String), Value>,
    seed: u64,
) -> (usize, Vec<String>) {
    let mut compared = 0;
    let mut differences = Vec::new();
    for i in 0..DAEMONSETS {
        let ds = format!("ds-{i:02}");
        let out = env
            .kubectl_ds()
            .args(["status", &ds, "-n", &env.ns, "-o", "json"])
            .run();
        let doc: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("differential (seed {seed}): no JSON ({e}): {out}"));
        for v in doc["nodes"].as_array().into_iter().flatten() {
            let node = v["node"].as_str().unwrap_or_default().to_string();
            compared += 1;
            let Some(w) = why_not.get(&(ds.clone(), node.clone())) else {
                // Nodes outside the generated ones (none expected).
                differences.push(format!(
                    "{ds} on {node}: status lists a node why-not was not asked about"
                ));
                continue;
            };
            let mut w = w.clone();
            if let Some(o) = w.as_object_mut() {
                o.remove("checks");
            }
            let (v, w) = (without_times(v), without_times(&w));
            if v != w {
                differences.push(format!("{ds} on {node}:\n  status:  {v}\n  why-not: {w}"));
            }
        }
    }
    (compared, differences)
}

/// A verdict with the " since <time>" of its reasons taken out: kwok's NotReady stage re-posts
/// the node's Ready condition with a new transition time every 20 s, so two runs may differ there.
fn without_times(v: &Value) -> Value {
    let mut v = v.clone();
    for r in v["reasons"].as_array_mut().into_iter().flatten() {
        let Some(message) = r["message"].as_str() else {
            continue;
        };
        let mut text = message.to_string();
        let mut from = 0;
        while let Some(i) = text[from..].find(" since ").map(|i| i + from) {
            let stamp = i + " since ".len();
            // RFC 3339 in seconds, UTC: 2006-01-02T15:04:05Z
            if text.len() >= stamp + 20 && text.as_bytes()[stamp + 19] == b'Z' {
                text.replace_range(i..stamp + 20, " since <time>");
            }
            from = i + 1;
        }
        r["message"] = Value::String(text);
    }
    v
}

/// The node and DaemonSet of a disagreement, as JSON, with the verdict's checks.
fn describe(node: &Node, ds: &Value, verdict: &Value, expected: &str) -> String {
    let node_view = json!({
        "name": node.metadata.name,
        "labels": node.metadata.labels,
        "taints": node.spec.as_ref().and_then(|s| s.taints.clone()),
        "unschedulable": node.spec.as_ref().and_then(|s| s.unschedulable),
        "ready": ready(node),
    });
    let checks: Vec<String> = verdict["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "    {} {:<14} {}",
                if c["passed"] == true { "ok  " } else { "FAIL" },
                c["rule"].as_str().unwrap_or_default(),
                c["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    format!(
        "  {expected}\n  node: {node_view}\n  daemonset: {ds}\n  kubectl-ds: verdict {} shouldRun {} shouldContinueRunning {}\n  checks:\n{}",
        verdict["verdict"],
        verdict["shouldRun"],
        verdict["shouldContinueRunning"],
        checks.join("\n")
    )
}

struct Comparison {
    pairs: usize,
    agree: usize,
    mismatches: Vec<String>,
}

/// How many verdicts of each kind, and how many reasons of each rule: shows what a seed covered.
fn coverage(verdicts: &BTreeMap<(String, String), Value>) -> String {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for v in verdicts.values() {
        *kinds
            .entry(v["verdict"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
        let mut seen = BTreeSet::new();
        for r in v["reasons"].as_array().into_iter().flatten() {
            seen.insert(r["rule"].as_str().unwrap_or("?").to_string());
        }
        for rule in seen {
            *rules.entry(rule).or_default() += 1;
        }
    }
    let list = |m: &BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "verdicts: {}; verdicts with reasons by rule: {}",
        list(&kinds),
        list(&rules)
    )
}

/// Compares every (DaemonSet, node) verdict with the controller. `before` is where pods were
/// before phase 2's changes (None in phase 1, where no pod predates the nodes' state).
fn compare(
    reality: &Reality,
    verdicts: &BTreeMap<(String, String), Value>,
    nodes: &BTreeMap<String, Node>,
    bodies: &BTreeMap<String, Value>,
    before: Option<&BTreeMap<String, BTreeSet<String>>>,
) -> Comparison {
    let mut c = Comparison {
        pairs: 0,
        agree: 0,
        mismatches: Vec::new(),
    };
    for (ds, placed) in &reality.placed {
        let status = reality.daemonsets[ds].status.clone().unwrap_or_default();
        let mut desired = 0;
        let mut misscheduled = 0;
        for (node_name, node) in nodes {
            c.pairs += 1;
            let Some(v) = verdicts.get(&(ds.clone(), node_name.clone())) else {
                c.mismatches
                    .push(format!("{ds} on {node_name}: kubectl-ds gave no verdict"));
                continue;
            };
            let should_run = v["shouldRun"] == true;
            let keep = v["shouldContinueRunning"] == true;
            let has_pod = placed.contains(node_name);
            desired += i32::from(should_run);
            let had_pod = before.is_some_and(|b| b[ds].contains(node_name));
            // The controller creates a pod where shouldRun holds and keeps an existing one where
            // shouldContinueRunning holds.
            let expected_pod = should_run || (keep && had_pod);
            let kind = v["verdict"].as_str().unwrap_or_default();
            let expected_kinds: &[&str] = match (has_pod, should_run) {
                (false, _) => &["not-eligible"],
                (true, true) => &["running", "not-ready", "pending"],
                (true, false) => &["misscheduled"],
            };
            misscheduled += i32::from(kind == "misscheduled");
            if has_pod == expected_pod && expected_kinds.contains(&kind) {
                c.agree += 1;
            } else {
                let what = format!(
                    "{ds} on {node_name}: the controller {} a pod there{}; kubectl-ds says shouldRun={should_run} shouldContinueRunning={keep}, verdict {kind}",
                    if has_pod { "has" } else { "has no" },
                    if before.is_some() {
                        format!(
                            " (before the node changes: {})",
                            if had_pod { "a pod" } else { "no pod" }
                        )
                    } else {
                        String::new()
                    }
                );
                c.mismatches.push(describe(node, &bodies[ds], v, &what));
            }
        }
        if status.desired_number_scheduled != desired {
            c.mismatches.push(format!(
                "{ds}: desiredNumberScheduled is {} but kubectl-ds has shouldRun on {desired} nodes",
                status.desired_number_scheduled
            ));
        }
        if status.number_misscheduled != misscheduled {
            c.mismatches.push(format!(
                "{ds}: numberMisscheduled is {} but kubectl-ds says misscheduled on {misscheduled} nodes",
                status.number_misscheduled
            ));
        }
    }
    c
}

async fn current_nodes(env: &TestEnv, names: &[String]) -> BTreeMap<String, Node> {
    let mut nodes = BTreeMap::new();
    for name in names {
        nodes.insert(name.clone(), env.nodes().get(name).await.expect("get node"));
    }
    nodes
}

/// Phase 2: new labels or taints on some nodes, as an operator would change them.
async fn change_nodes(env: &TestEnv, rng: &mut Rng, generated: &[GenNode]) -> Vec<String> {
    let mut log = Vec::new();
    for g in generated {
        if !rng.chance(40) {
            continue;
        }
        let change = rng.below(3);
        loop {
            let mut node = env.nodes().get(&g.name).await.expect("get node");
            let what = match change {
                0 => {
                    let (key, values) = rng.pick(LABELS);
                    let labels = node.metadata.labels.get_or_insert_with(Default::default);
                    if rng.chance(25) {
                        labels.remove(*key);
                        format!("{}: label {key} removed", g.name)
                    } else {
                        let value = rng.pick(values);
                        labels.insert(key.to_string(), value.to_string());
                        format!("{}: label {key}={value}", g.name)
                    }
                }
                _ => {
                    let taints = node
                        .spec
                        .get_or_insert_with(Default::default)
                        .taints
                        .get_or_insert_with(Vec::new);
                    let key = rng.pick(TAINT_KEYS).to_string();
                    let effect = rng.pick(&["NoSchedule", "NoExecute"]).to_string();
                    let value = rng.pick(TAINT_VALUES).to_string();
                    taints.retain(|t| !(t.key == key && t.effect == effect));
                    taints.push(k8s_openapi::api::core::v1::Taint {
                        key: key.clone(),
                        value: Some(value.clone()).filter(|v| !v.is_empty()),
                        effect: effect.clone(),
                        time_added: None,
                    });
                    format!("{}: taint {key}={value}:{effect}", g.name)
                }
            };
            // Replace with the resourceVersion read, so a concurrent controller write is not lost.
            match env.nodes().replace(&g.name, &PostParams::default(), &node).await {
                Ok(_) => {
                    log.push(what);
                    break;
                }
                Err(kube::Error::Api(e)) if e.code == 409 => continue,
                Err(e) => panic!("update node {}: {e}", g.name),
            }
        }
    }
    log
}

/// Bumps every DaemonSet's generation without touching its template (revisionHistoryLimit), so
/// that observedGeneration tells when the controller has synced after the node changes.
async fn bump_generations(env: &TestEnv) {
    for i in 0..DAEMONSETS {
        env.daemonsets()
            .patch(
                &format!("ds-{i:02}"),
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"revisionHistoryLimit": 11}})),
            )
            .await
            .expect("patch daemonset");
    }
}

#[tokio::test]
async fn verdicts_agree_with_the_daemonset_controller() {
    let seed = seed();
    eprintln!("differential: seed {seed} (replay with KUBECTL_DS_DIFF_SEED={seed})");
    let started = Instant::now();
    let mut rng = Rng(seed);
    let env = TestEnv::new("diff").await;

    let not_ready = rng.below(NODES);
    let network_unavailable = (not_ready + 1 + rng.below(NODES - 1)) % NODES;
    let generated: Vec<GenNode> = (0..NODES)
        .map(|i| gen_node(&mut rng, i, i == not_ready, i == network_unavailable))
        .collect();
    let names: Vec<String> = generated.iter().map(|n| n.name.clone()).collect();
    for n in &generated {
        env.create_node(node_spec(n)).await;
    }
    // The network-unavailable taint follows the node's condition, which kwok sets once the node
    // is initialized (Ready); report the condition as a kubelet whose network is down would.
    for g in generated.iter().filter(|g| g.network_unavailable) {
        wait_until(
            &format!("node {} to be Ready (seed {seed})", g.name),
            SETTLE,
            || async {
                env.nodes()
                    .get(&g.name)
                    .await
                    .is_ok_and(|n| ready(&n).as_deref() == Some("True"))
            },
        )
        .await;
        env.nodes()
            .patch_status(
                &g.name,
                &PatchParams::default(),
                &Patch::Strategic(json!({"status": {"conditions": [{
                    "type": "NetworkUnavailable", "status": "True",
                    "reason": "NoRouteCreated", "message": "no route (kubectl-ds differential test)"
                }]}})),
            )
            .await
            .expect("patch node status");
    }
    for g in &generated {
        wait_until(
            &format!("node {} to settle (seed {seed})", g.name),
            SETTLE,
            || async { env.nodes().get(&g.name).await.is_ok_and(|n| node_settled(&n, g)) },
        )
        .await;
    }

    let mut bodies = BTreeMap::new();
    let daemonsets: Api<DaemonSet> = env.daemonsets();
    for i in 0..DAEMONSETS {
        let body = gen_daemonset(&mut rng, i, &names);
        let ds: DaemonSet = serde_json::from_value(body.clone()).expect("daemonset json");
        if let Err(e) = daemonsets.create(&PostParams::default(), &ds).await {
            panic!("differential (seed {seed}): the API rejected a generated DaemonSet ({e}):\n{body:#}");
        }
        bodies.insert(format!("ds-{i:02}"), body["spec"]["template"]["spec"].clone());
    }

    // Phase 1: shouldRun against the pods the controller created.
    let reality = wait_settled(&env, seed, "phase 1").await;
    let found = verdicts(&env, &names, seed);
    let nodes = current_nodes(&env, &names).await;
    let mut first = compare(&reality, &found, &nodes, &bodies, None);
    let (compared, differences) = status_agrees(&env, &found, seed);
    eprintln!(
        "differential: phase 1 status DS vs why-not NODE: {}/{compared} verdicts identical (seed {seed})",
        compared - differences.len()
    );
    first.mismatches.extend(differences);
    let placed = reality.placed.values().map(BTreeSet::len).sum::<usize>();
    eprintln!(
        "differential: phase 1 (shouldRun): {}/{} pairs agree, {placed} pods (seed {seed}, {:.0?})",
        first.agree,
        first.pairs,
        started.elapsed()
    );

    eprintln!("differential: phase 1 {}", coverage(&found));

    // Phase 2: shouldContinueRunning against the pods the controller kept or deleted.
    let changes = change_nodes(&env, &mut rng, &generated).await;
    bump_generations(&env).await;
    let after = wait_settled(&env, seed, "phase 2").await;
    let found2 = verdicts(&env, &names, seed);
    let nodes2 = current_nodes(&env, &names).await;
    let mut second = compare(&after, &found2, &nodes2, &bodies, Some(&reality.placed));
    let (compared, differences) = status_agrees(&env, &found2, seed);
    eprintln!(
        "differential: phase 2 status DS vs why-not NODE: {}/{compared} verdicts identical (seed {seed})",
        compared - differences.len()
    );
    second.mismatches.extend(differences);
    let kept = after.placed.values().map(BTreeSet::len).sum::<usize>();
    let misscheduled: i32 = after
        .daemonsets
        .values()
        .map(|d| d.status.as_ref().map_or(0, |s| s.number_misscheduled))
        .sum();
    eprintln!(
        "differential: phase 2 (shouldContinueRunning, {} node changes): {}/{} pairs agree, {kept} pods, {misscheduled} misscheduled (seed {seed}, {:.0?})",
        changes.len(),
        second.agree,
        second.pairs,
        started.elapsed()
    );

    eprintln!("differential: phase 2 {}", coverage(&found2));

    let pairs = first.pairs + second.pairs;
    let agree = first.agree + second.agree;
    eprintln!("differential: {agree}/{pairs} pairs agree (seed {seed})");
    eprintln!(
        "differential: {NODES} nodes, {DAEMONSETS} DaemonSets, two phases of {} pairs, {:.0?}",
        first.pairs,
        started.elapsed()
    );
    let mut problems = Vec::new();
    if !first.mismatches.is_empty() {
        problems.push(format!("phase 1:\n{}", first.mismatches.join("\n\n")));
    }
    if !second.mismatches.is_empty() {
        problems.push(format!(
            "phase 2 (after: {}):\n{}",
            changes.join("; "),
            second.mismatches.join("\n\n")
        ));
    }
    assert!(
        problems.is_empty(),
        "differential (seed {seed}): {agree}/{pairs} pairs agree; replay with KUBECTL_DS_DIFF_SEED={seed}\n{}",
        problems.join("\n\n")
    );
}
