//! Differential test of the next move: kubectl-ds predicts what the DaemonSet controller's next
//! sync does on every (DaemonSet, node), and the real controller then does it.
//!
//! Each round stops kube-controller-manager, brings the cluster into a transient state drawn from
//! a seeded generator (relabelled pods, orphans, duplicate and failed pods, deleted pods, template
//! and budget changes under RollingUpdate with and without surge and under OnDelete, unready pods,
//! taints and label changes on nodes), records kubectl-ds's predicted next move for every
//! (DaemonSet, node) live (`status DS`, and `why-not NODE`) and from a `snapshot` of that moment,
//! then starts the controller (the DaemonSet controller alone, so nothing else touches the pods)
//! and reads what its first sync of each DaemonSet did from the API server's audit log: the pod
//! writes sent before the controller logged "Finished syncing daemon set" for that DaemonSet.
//! Creates, deletes, adoptions and releases must be exactly the predicted ones; a rolling-update
//! pick the controller makes at random (Go map order) must pick as many of the predicted pool as
//! predicted, and nothing outside it.
//!
//! The generator keeps apart what the controller itself cannot order: a DaemonSet whose manage
//! step writes in a round gets no rollout in that round (the rolling update would then run in the
//! same sync or the next, depending on when the controller's informer sees its own writes;
//! kubectl-ds says so with `afterOwnWrites`, and such moves are counted, not compared).
//!
//! `KUBECTL_DS_DIFF_SEED=<n>` replays a run; the seed is printed at the start and on failure.
//! `KUBECTL_DS_NEXT_ROUNDS=<n>` runs more or fewer rounds (default 5). This binary holds one test.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::{Finished, NodeSpec, Rng, TestEnv, merge, seed, wait_until};

const NODES: usize = 8;
/// Nodes 0..4 are the rollout pool (the rollout DaemonSets select them), 4..8 the manage pool.
const ROLLOUT_NODES: usize = 4;
const SETTLE: Duration = Duration::from_secs(240);
const KCM: &str = "kube-controller-manager";

fn node_name(i: usize) -> String {
    format!("nm-{i}")
}

/// The DaemonSets: (name, update strategy, rollout DaemonSet).
fn daemonsets() -> Vec<(&'static str, Value, bool)> {
    let rolling = |u: Value, s: Value| json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": u, "maxSurge": s}});
    vec![
        ("ro-unavail1", rolling(json!(1), json!(0)), true),
        ("ro-unavail50", rolling(json!("50%"), json!(0)), true),
        ("ro-surge1", rolling(json!(0), json!(1)), true),
        ("ro-ondelete", json!({"type": "OnDelete"}), true),
        ("ma-ondelete", json!({"type": "OnDelete"}), false),
        ("ma-ondelete2", json!({"type": "OnDelete"}), false),
        ("ma-rolling", rolling(json!(1), json!(0)), false),
        ("ma-surge", rolling(json!(0), json!(1)), false),
    ]
}

fn daemonset_body(name: &str, strategy: &Value, rollout: bool) -> Value {
    let mut body = merge(
        support::daemonset(name),
        json!({"spec": {"updateStrategy": strategy, "template": {"spec": {
            "containers": [{"name": "agent", "image": "registry.example/agent:0"}]}}}}),
    );
    if rollout {
        body["spec"]["template"]["spec"]["nodeSelector"] = json!({"pool": "rollout"});
    } else {
        // A node labelled zone=x no longer qualifies: a label change deletes the pod there.
        body["spec"]["template"]["spec"]["affinity"] = json!({"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["x"]}]}]}}});
    }
    body
}

// ---- observing the cluster ----

/// The node a pod is for: spec.nodeName, else the controller's metadata.name term.
fn target_node(pod: &Value) -> Option<String> {
    if let Some(n) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
        return Some(n.to_string());
    }
    let terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"]
        .as_array()?;
    terms
        .iter()
        .flat_map(|t| t["matchFields"].as_array().cloned().unwrap_or_default())
        .find(|f| f["key"] == "metadata.name" && f["operator"] == "In")
        .and_then(|f| f["values"][0].as_str().map(str::to_string))
}

#[derive(Clone, Debug)]
struct PodFact {
    node: Option<String>,
    /// The DaemonSet it belongs to: its controller's name, else its app label.
    ds: String,
    owned: bool,
}

async fn pod_facts(env: &TestEnv) -> BTreeMap<String, PodFact> {
    let pods = env.pods().list(&ListParams::default()).await.expect("list pods");
    pods.items
        .iter()
        .map(|p| {
            let v = serde_json::to_value(p).unwrap();
            let owner = v["metadata"]["ownerReferences"]
                .as_array()
                .and_then(|o| o.iter().find(|r| r["controller"] == true))
                .and_then(|r| r["name"].as_str().map(str::to_string));
            let app = v["metadata"]["labels"]["app"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (
                p.metadata.name.clone().unwrap_or_default(),
                PodFact {
                    node: target_node(&v),
                    ds: owner.clone().unwrap_or(app),
                    owned: owner.is_some(),
                },
            )
        })
        .collect()
}

/// Every pod has reached the state the round left it in: none is being deleted, every bound pod
/// has been started by kwok (not Pending) and keeps the readiness the round gave it.
async fn pods_still(env: &TestEnv, unready: &BTreeSet<String>) -> bool {
    let Ok(pods) = env.pods().list(&ListParams::default()).await else {
        return false;
    };
    pods.items.iter().all(|p| {
        let name = p.metadata.name.as_deref().unwrap_or_default();
        let phase = p
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Pending");
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .is_some_and(|c| c.status == "True");
        let bound = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        p.metadata.deletion_timestamp.is_none()
            && (!bound || phase != "Pending")
            && (phase != "Running" || ready != unready.contains(name))
    })
}

/// The controller has caught up with every DaemonSet: nothing terminating or failed, every node it
/// wants covered and available, and (RollingUpdate) updated.
async fn settled(env: &TestEnv) -> bool {
    let Ok(list) = env.daemonsets().list(&ListParams::default()).await else {
        return false;
    };
    let Ok(pods) = env.pods().list(&ListParams::default()).await else {
        return false;
    };
    let calm = pods.items.iter().all(|p| {
        p.metadata.deletion_timestamp.is_none()
            && !matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Failed" | "Succeeded")
            )
    });
    calm && list.items.iter().all(|d| {
        let Some(s) = d.status.as_ref() else { return false };
        let rolling = d
            .spec
            .as_ref()
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.type_.as_deref())
            == Some("RollingUpdate");
        s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(1)
            && s.current_number_scheduled == s.desired_number_scheduled
            && s.number_available.unwrap_or(0) == s.desired_number_scheduled
            && (!rolling || s.updated_number_scheduled.unwrap_or(0) == s.desired_number_scheduled)
    })
}

async fn wait_settled(env: &TestEnv, seed: u64, what: &str) {
    let deadline = Instant::now() + SETTLE;
    while !settled(env).await {
        if Instant::now() > deadline {
            let list = env.daemonsets().list(&ListParams::default()).await.expect("list");
            let statuses: Vec<String> = list
                .items
                .iter()
                .map(|d| {
                    format!(
                        "{:?}: {}",
                        d.metadata.name,
                        serde_json::to_string(&d.status).unwrap_or_default()
                    )
                })
                .collect();
            panic!(
                "next-move differential (seed {seed}): the controller did not settle {what} in {SETTLE:?}\n{}\n{}",
                statuses.join("\n"),
                env.cluster.logs()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

// ---- the predictions ----

/// (DaemonSet, node) → the `next` object of its verdict.
type Moves = BTreeMap<(String, String), Value>;

/// Stdout as JSON; a failure names the seed.
fn json(run: &Finished, seed: u64) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!("next-move differential (seed {seed}): kubectl-ds printed no JSON ({e}): {run}")
    })
}

fn status_moves(env: &TestEnv, snapshot: Option<&str>, seed: u64) -> Moves {
    let mut moves = Moves::new();
    for (ds, _, _) in daemonsets() {
        let mut args = vec!["status", ds, "-n", &env.ns, "-o", "json"];
        if let Some(file) = snapshot {
            args.extend(["--snapshot", file]);
        }
        let doc = json(&env.kubectl_ds().args(&args).run(), seed);
        for v in doc["nodes"].as_array().into_iter().flatten() {
            let node = v["node"].as_str().unwrap_or_default().to_string();
            moves.insert((ds.to_string(), node), v["next"].clone());
        }
    }
    moves
}

fn why_not_moves(env: &TestEnv, seed: u64) -> Moves {
    let mut moves = Moves::new();
    for i in 0..NODES {
        let node = node_name(i);
        let run = env
            .kubectl_ds()
            .args(["why-not", &node, "-n", &env.ns, "-o", "json"])
            .run();
        let doc = json(&run, seed);
        for v in doc["items"].as_array().into_iter().flatten() {
            let ds = v["daemonset"].as_str().unwrap_or_default().to_string();
            moves.insert((ds, node.clone()), v["next"].clone());
        }
    }
    moves
}

// ---- what the controller did ----

#[derive(Default, Debug, Clone, PartialEq, Eq)]
struct Did {
    create: usize,
    delete: BTreeSet<String>,
    adopt: BTreeSet<String>,
    release: BTreeSet<String>,
}

impl Did {
    fn is_empty(&self) -> bool {
        *self == Did::default()
    }
}

fn predicted(next: &Value) -> Did {
    let set = |k: &str| -> BTreeSet<String> {
        next[k]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    Did {
        create: usize::from(next["create"] == true),
        delete: set("delete"),
        adopt: set("adopt"),
        release: set("release"),
    }
}

fn read_from(path: &std::path::Path, offset: u64) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(&bytes[(offset as usize).min(bytes.len())..]).into_owned()
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// When the controller finished its first sync of each DaemonSet of the namespace, from its log
/// (JSON lines) after `offset`.
fn first_syncs(log: &str, ns: &str) -> BTreeMap<String, f64> {
    let mut first = BTreeMap::new();
    for line in log.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["msg"] != "Finished syncing daemon set" {
            continue;
        }
        let Some((line_ns, name)) = v["daemonset"].as_str().and_then(|k| k.split_once('/')) else {
            continue;
        };
        let Some(ts) = v["ts"].as_f64() else { continue };
        // component-base's JSON logger writes milliseconds since the epoch.
        let seconds = if ts > 1e11 { ts / 1000.0 } else { ts };
        if line_ns == ns {
            first.entry(name.to_string()).or_insert(seconds);
        }
    }
    first
}

fn seconds_of(stamp: &str) -> Option<f64> {
    let t: Timestamp = stamp.parse().ok()?;
    Some(t.as_nanosecond() as f64 / 1e9)
}

/// The controller's pod writes of its first sync of each DaemonSet, by (DaemonSet, node).
fn first_sync_writes(
    audit: &str,
    ns: &str,
    finished: &BTreeMap<String, f64>,
    before: &BTreeMap<String, PodFact>,
) -> BTreeMap<(String, String), Did> {
    let mut did: BTreeMap<(String, String), Did> = BTreeMap::new();
    for line in audit.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let agent = e["userAgent"].as_str().unwrap_or_default();
        if !agent.starts_with("kube-controller-manager") || e["objectRef"]["namespace"] != ns {
            continue;
        }
        if e["objectRef"]["resource"] != "pods" || e["objectRef"]["subresource"].is_string() {
            continue;
        }
        let code = e["responseStatus"]["code"].as_i64().unwrap_or(0);
        if !(200..300).contains(&code) {
            continue;
        }
        let Some(at) = e["requestReceivedTimestamp"].as_str().and_then(seconds_of) else {
            continue;
        };
        let verb = e["verb"].as_str().unwrap_or_default();
        let name = e["objectRef"]["name"].as_str().unwrap_or_default().to_string();
        let (ds, node) = if verb == "create" {
            let pod = &e["requestObject"];
            let ds = pod["metadata"]["ownerReferences"][0]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (ds, target_node(pod).unwrap_or_default())
        } else {
            let Some(fact) = before.get(&name) else { continue };
            (fact.ds.clone(), fact.node.clone().unwrap_or_default())
        };
        let Some(end) = finished.get(&ds) else { continue };
        if at > *end {
            continue;
        }
        let entry = did.entry((ds, node)).or_default();
        match verb {
            "create" => entry.create += 1,
            "delete" => {
                entry.delete.insert(name);
            }
            "patch" | "update" => {
                if before.get(&name).is_some_and(|f| f.owned) {
                    entry.release.insert(name);
                } else {
                    entry.adopt.insert(name);
                }
            }
            _ => {}
        }
    }
    did
}

// ---- the perturbations ----

async fn pods_of(env: &TestEnv, ds: &str) -> Vec<Pod> {
    let mut pods = env
        .pods()
        .list(&ListParams::default().labels(&format!("app={ds}")))
        .await
        .expect("list pods")
        .items;
    pods.retain(|p| p.metadata.deletion_timestamp.is_none());
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    pods
}

fn bound_node(p: &Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .unwrap_or_default()
}

/// A bare pod bound to `node` carrying `template_of`'s labels; with `owner`, also its controller
/// reference (a duplicate the controller prunes), without it an orphan (adopted).
async fn copy_pod(env: &TestEnv, template_of: &Pod, name: &str, owned: bool) {
    let mut meta = json!({"name": name, "labels": template_of.metadata.labels});
    if owned {
        meta["ownerReferences"] = json!(template_of.metadata.owner_references);
    }
    let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {"nodeName": bound_node(template_of), "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "agent", "image": "registry.example/agent:copy"}]}});
    let pod: Pod = serde_json::from_value(body).expect("pod json");
    env.pods()
        .create(&PostParams::default(), &pod)
        .await
        .expect("create pod");
}

async fn set_pod_status(env: &TestEnv, pod: &str, status: Value) {
    env.pods()
        .patch_status(
            pod,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
        .expect("patch pod status");
}

async fn set_ready(env: &TestEnv, pod: &Pod, ready: bool) {
    let mut conditions = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    for c in &mut conditions {
        if c.type_ == "Ready" {
            c.status = if ready { "True" } else { "False" }.into();
        }
    }
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    set_pod_status(env, name, json!({"conditions": conditions})).await;
}

async fn make_unready(env: &TestEnv, pod: &Pod) {
    set_ready(env, pod, false).await;
}

/// Pods left unready on purpose are made Ready again (kwok would not), so the round can settle.
async fn restore_readiness(env: &TestEnv, unready: &BTreeSet<String>) {
    for name in unready {
        if let Ok(pod) = env.pods().get(name).await
            && pod.metadata.deletion_timestamp.is_none()
        {
            set_ready(env, &pod, true).await;
        }
    }
}

/// One round's changes while the controller is stopped; returns what was done and the pods left
/// unready on purpose.
async fn perturb(env: &TestEnv, rng: &mut Rng, round: usize) -> (Vec<String>, BTreeSet<String>) {
    let mut log = Vec::new();
    let mut unready = BTreeSet::new();
    let mut touched = BTreeSet::new();
    // Nodes: a NoSchedule taint on rollout nodes; a NoExecute taint or the zone=x label on
    // manage nodes (only the manage DaemonSets run there).
    for i in 0..NODES {
        let name = node_name(i);
        let mut taints = Vec::new();
        let mut zone = "a";
        if i < ROLLOUT_NODES {
            if rng.chance(30) {
                taints.push(json!({"key": "maintenance", "value": "soon", "effect": "NoSchedule"}));
            }
        } else {
            match rng.below(6) {
                0 => taints.push(json!({"key": "maintenance", "value": "now", "effect": "NoExecute"})),
                1 => zone = "x",
                2 => taints.push(json!({"key": "maintenance", "value": "soon", "effect": "NoSchedule"})),
                _ => {}
            }
        }
        if !taints.is_empty() || zone != "a" {
            log.push(format!("{name}: taints {taints:?} zone {zone}"));
        }
        env.nodes()
            .patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"zone": zone}}, "spec": {"taints": taints}})),
            )
            .await
            .expect("patch node");
    }
    for (ds, _, rollout) in daemonsets() {
        let pods = pods_of(env, ds).await;
        if pods.is_empty() {
            continue;
        }
        if rollout {
            if rng.chance(70) {
                crate::support::patch_daemonset(
                    env,
                    ds,
                    json!({"spec": {"template": {"spec": {"containers": [{"name": "agent",
                        "image": format!("registry.example/agent:{round}")}]}}}}),
                )
                .await;
                log.push(format!("{ds}: new image"));
            }
            for p in &pods {
                if rng.chance(20) {
                    make_unready(env, p).await;
                    unready.insert(p.metadata.name.clone().unwrap_or_default());
                    log.push(format!(
                        "{ds}: {} unready",
                        p.metadata.name.as_deref().unwrap_or_default()
                    ));
                }
            }
            continue;
        }
        for _ in 0..1 + rng.below(2) {
            let p = rng.pick(&pods).clone();
            let pname = p.metadata.name.clone().unwrap_or_default();
            // One change a pod per round (a deleted pod cannot be failed too).
            if !touched.insert(pname.clone()) {
                continue;
            }
            match rng.below(6) {
                0 => {
                    env.pods()
                        .patch(
                            &pname,
                            &PatchParams::default(),
                            &Patch::Merge(json!({"metadata": {"labels": {"app": format!("kept-{ds}")}}})),
                        )
                        .await
                        .expect("relabel pod");
                    log.push(format!("{ds}: {pname} relabelled out"));
                }
                1 => {
                    let copy = format!("{ds}-orphan-{round}-{}", rng.below(1000));
                    copy_pod(env, &p, &copy, false).await;
                    log.push(format!("{ds}: orphan {copy} on {}", bound_node(&p)));
                }
                2 => {
                    let copy = format!("{ds}-dup-{round}-{}", rng.below(1000));
                    copy_pod(env, &p, &copy, true).await;
                    log.push(format!("{ds}: duplicate {copy} on {}", bound_node(&p)));
                }
                3 => {
                    set_pod_status(env, &pname, json!({"phase": "Failed", "reason": "Evicted"})).await;
                    log.push(format!("{ds}: {pname} failed"));
                }
                4 => {
                    env.pods()
                        .delete(&pname, &DeleteParams::default())
                        .await
                        .expect("delete pod");
                    log.push(format!("{ds}: {pname} deleted"));
                }
                _ => {
                    make_unready(env, &p).await;
                    unready.insert(pname.clone());
                    log.push(format!("{ds}: {pname} unready"));
                }
            }
        }
    }
    (log, unready)
}

// ---- the comparison ----

struct Tally {
    compared: usize,
    agreed: usize,
    racing: usize,
    by_action: BTreeMap<String, usize>,
    mismatches: Vec<String>,
}

fn compare(predicted_moves: &Moves, did: &BTreeMap<(String, String), Did>, tally: &mut Tally) {
    let empty = Did::default();
    // Pools: per DaemonSet, the nodes of a random pick and how many it picks.
    let mut pools: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for ((ds, node), next) in predicted_moves {
        let observed = did.get(&(ds.clone(), node.clone())).unwrap_or(&empty);
        *tally
            .by_action
            .entry(next["action"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
        if next["afterOwnWrites"] == true {
            tally.racing += 1;
            continue;
        }
        if let Some(picked) = next["pool"]["picked"].as_u64() {
            let pool = pools.entry(ds.clone()).or_insert((picked as usize, Vec::new()));
            pool.1.push(node.clone());
            continue;
        }
        tally.compared += 1;
        if predicted(next) == *observed {
            tally.agreed += 1;
        } else {
            tally.mismatches.push(format!(
                "{ds} on {node}: predicted {next}\n    the controller's first sync did {observed:?}"
            ));
        }
    }
    for (ds, (picked, nodes)) in pools {
        let mut acted = 0;
        let mut wrong = Vec::new();
        for node in &nodes {
            let observed = did.get(&(ds.clone(), node.clone())).unwrap_or(&empty);
            let want = predicted(&predicted_moves[&(ds.clone(), node.clone())]);
            if observed.is_empty() {
                continue;
            }
            acted += 1;
            if *observed != want {
                wrong.push(format!("{node}: did {observed:?}, a pick would do {want:?}"));
            }
        }
        tally.compared += nodes.len();
        if acted == picked && wrong.is_empty() {
            tally.agreed += nodes.len();
        } else {
            tally.mismatches.push(format!(
                "{ds}: predicted {picked} of the pool {nodes:?}; the controller acted on {acted}: {wrong:?}"
            ));
        }
    }
}

#[tokio::test]
async fn next_moves_agree_with_the_daemonset_controller() {
    // The audit log is how the test sees the controller's writes; the cluster reads this at start.
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe { std::env::set_var("TESTCLUSTER_AUDIT", "1") };
    let seed = seed();
    let rounds: usize = std::env::var("KUBECTL_DS_NEXT_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    eprintln!(
        "next-move differential: seed {seed} (replay with KUBECTL_DS_DIFF_SEED={seed}), {rounds} rounds"
    );
    let started = Instant::now();
    let mut rng = Rng(seed);
    let env = TestEnv::new("next").await;
    let audit_log = env.cluster.dir.join("logs/audit.log");
    let kcm_log = env.cluster.dir.join("logs/kube-controller-manager.log");
    assert!(
        audit_log.exists(),
        "the test cluster writes no audit log at {}: it must be started with TESTCLUSTER_AUDIT=1",
        audit_log.display()
    );

    for i in 0..NODES {
        let pool = if i < ROLLOUT_NODES { "rollout" } else { "manage" };
        env.create_node(
            NodeSpec::new(&node_name(i))
                .label("pool", pool)
                .label("zone", "a"),
        )
        .await;
    }
    for i in 0..NODES {
        let name = node_name(i);
        wait_until(
            &format!("node {name} to be Ready without the not-ready taint"),
            SETTLE,
            || async {
                env.nodes().get(&name).await.is_ok_and(|n| {
                    let ready = n
                        .status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                    let tainted = n
                        .spec
                        .as_ref()
                        .and_then(|s| s.taints.as_ref())
                        .is_some_and(|t| !t.is_empty());
                    ready && !tainted
                })
            },
        )
        .await;
    }
    for (name, strategy, rollout) in daemonsets() {
        env.create_daemonset(daemonset_body(name, &strategy, rollout))
            .await;
    }
    wait_settled(&env, seed, "after creating the DaemonSets").await;

    let mut tally = Tally {
        compared: 0,
        agreed: 0,
        racing: 0,
        by_action: BTreeMap::new(),
        mismatches: Vec::new(),
    };
    let mut transcript = Vec::new();
    for round in 1..=rounds {
        env.cluster.stop(KCM);
        let (changes, unready) = perturb(&env, &mut rng, round).await;
        wait_until(
            &format!("round {round}'s pods to be still (seed {seed})"),
            SETTLE,
            || async { pods_still(&env, &unready).await },
        )
        .await;
        let before = pod_facts(&env).await;

        let live = status_moves(&env, None, seed);
        let snapshot = env.cluster.dir.join(format!("next-{round}.json"));
        let out = env.kubectl_ds().args(["snapshot", "-n", &env.ns]).run();
        assert_eq!(out.code, Some(0), "{out}");
        std::fs::write(&snapshot, &out.stdout).expect("write snapshot");
        let offline = status_moves(&env, Some(&snapshot.to_string_lossy()), seed);
        let per_node = why_not_moves(&env, seed);
        let mut problems = Vec::new();
        for (key, next) in &live {
            if offline.get(key) != Some(next) {
                problems.push(format!(
                    "{key:?}: live {next}, from the snapshot {:?}",
                    offline.get(key)
                ));
            }
            if per_node.get(key) != Some(next) {
                problems.push(format!("{key:?}: status {next}, why-not {:?}", per_node.get(key)));
            }
        }
        assert!(
            problems.is_empty(),
            "next-move differential (seed {seed}, round {round}): the predictions disagree with each other:\n{}",
            problems.join("\n")
        );

        let audit_offset = file_len(&audit_log);
        let kcm_offset = file_len(&kcm_log);
        env.cluster
            .start_with(KCM, &["--controllers=daemonset", "--logging-format=json", "-v=4"]);
        let expected: BTreeSet<String> = daemonsets().iter().map(|(n, _, _)| n.to_string()).collect();
        wait_until(
            &format!("the controller's first sync of every DaemonSet (round {round}, seed {seed})"),
            SETTLE,
            || async {
                first_syncs(&read_from(&kcm_log, kcm_offset), &env.ns)
                    .keys()
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    == expected
            },
        )
        .await;
        // The writes of a sync end before its log line; give the audit log a moment to be written.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let finished = first_syncs(&read_from(&kcm_log, kcm_offset), &env.ns);
        let did = first_sync_writes(&read_from(&audit_log, audit_offset), &env.ns, &finished, &before);
        let mismatches_before = tally.mismatches.len();
        compare(&live, &did, &mut tally);
        for (key, observed) in &did {
            if !live.contains_key(key) {
                tally.mismatches.push(format!(
                    "{key:?}: the controller did {observed:?} where nothing was predicted"
                ));
            }
        }
        transcript.push(format!("round {round}: {}", changes.join("; ")));
        if tally.mismatches.len() > mismatches_before {
            tally
                .mismatches
                .push(format!("  (round {round}: {})", changes.join("; ")));
        }
        eprintln!(
            "next-move differential: round {round}: {}/{} agree so far, {} new mismatches (seed {seed}, {:.0?})",
            tally.agreed,
            tally.compared,
            tally.mismatches.len() - mismatches_before,
            started.elapsed()
        );
        for m in &tally.mismatches[mismatches_before..] {
            eprintln!("  {m}");
        }
        restore_readiness(&env, &unready).await;
        wait_settled(&env, seed, &format!("after round {round}")).await;
    }
    env.cluster.stop(KCM);
    env.cluster.start(KCM);

    eprintln!(
        "next-move differential: {}/{} compared (DaemonSet, node) moves agree, {} after the controller's own writes (not compared); by action {:?} (seed {seed}, {:.0?})",
        tally.agreed,
        tally.compared,
        tally.racing,
        tally.by_action,
        started.elapsed()
    );
    assert!(
        tally.mismatches.is_empty(),
        "next-move differential (seed {seed}): {}/{} agree; replay with KUBECTL_DS_DIFF_SEED={seed}\n{}\n\nrounds:\n{}",
        tally.agreed,
        tally.compared,
        tally.mismatches.join("\n"),
        transcript.join("\n")
    );
    assert!(
        tally.compared >= 200,
        "next-move differential (seed {seed}): only {} moves compared (at least 200 wanted)",
        tally.compared
    );
}
