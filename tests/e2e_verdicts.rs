//! Every verdict of `why-not` and `status` on the real control plane: the real DaemonSet
//! controller, scheduler and kwok produce the state, then the binary runs as a user would run it.
//! Each test checks what the controller did, then the verdict word, the reason (rule and the key
//! words of its message) and the exit code, in the JSON and in the table. The scenarios that are
//! one DaemonSet on a few nodes are cases of one table ([`cases`]); a failure names its case.

mod support;

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod, ResourceQuota};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::{NodeSpec, TestEnv, daemonset, merge, pods_by_node, wait_until};

/// How long the real controller, scheduler and kwok get to act (other clusters may share the CPUs).
const SETTLE: Duration = Duration::from_secs(150);

// ---- setup ----

/// A test's environment, with the DaemonSets of earlier tests in this binary deleted so that
/// they cannot put pods on this test's nodes.
async fn fresh(name: &str) -> TestEnv {
    let env = TestEnv::new(name).await;
    let all: Api<DaemonSet> = Api::all(env.client.clone());
    let stale = all.list(&ListParams::default()).await.expect("list daemonsets");
    for ds in &stale.items {
        let (Some(ns), Some(name)) = (&ds.metadata.namespace, &ds.metadata.name) else {
            continue;
        };
        if *ns != env.ns {
            let api: Api<DaemonSet> = Api::namespaced(env.client.clone(), ns);
            let _ = api.delete(name, &DeleteParams::default()).await;
        }
    }
    wait_until("earlier tests' DaemonSets to be gone", SETTLE, || async {
        all.list(&ListParams::default())
            .await
            .map(|l| l.items.is_empty())
            .unwrap_or(false)
    })
    .await;
    env
}

fn has_taint(node: &Node, key: &str, effect: &str) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| ts.iter().any(|t| t.key == key && t.effect == effect))
}

fn is_node_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Waits until kwok reports the nodes Ready and the node lifecycle controller has lifted the
/// not-ready taint the API server puts on new nodes.
async fn wait_nodes_ready(env: &TestEnv, names: &[&str]) {
    for name in names {
        wait_until(
            &format!("node {name} to be Ready and untainted"),
            SETTLE,
            || async {
                env.nodes().get(name).await.is_ok_and(|n| {
                    is_node_ready(&n) && !has_taint(&n, "node.kubernetes.io/not-ready", "NoSchedule")
                })
            },
        )
        .await;
    }
}

async fn wait_node_taint(env: &TestEnv, node: &str, key: &str, effect: &str) {
    wait_until(
        &format!("node {node} to get taint {key}:{effect}"),
        SETTLE,
        || async {
            env.nodes()
                .get(node)
                .await
                .is_ok_and(|n| has_taint(&n, key, effect))
        },
    )
    .await;
}

/// Replaces a node's taints (JSON merge patch).
async fn set_taints(env: &TestEnv, node: &str, taints: Value) {
    env.nodes()
        .patch(
            node,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"taints": taints}})),
        )
        .await
        .expect("patch node taints");
}

/// Waits for the DaemonSet's status counters (desired, current, ready, misscheduled).
async fn wait_counts(env: &TestEnv, ds: &str, desired: i32, current: i32, ready: i32, misscheduled: i32) {
    env.wait_daemonset(ds, SETTLE, |d| {
        let s = d.status.as_ref().unwrap();
        s.desired_number_scheduled == desired
            && s.current_number_scheduled == current
            && s.number_ready == ready
            && s.number_misscheduled == misscheduled
    })
    .await;
}

/// The nodes the DaemonSet's pods are bound to, sorted ("" for an unbound pod).
async fn pod_nodes(env: &TestEnv, ds: &str) -> Vec<String> {
    let by_node = pods_by_node(env, ds).await;
    by_node
        .iter()
        .flat_map(|(node, pods)| pods.iter().map(move |_| node.clone()))
        .collect()
}

fn pod_name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

fn with_template_labels(name: &str, labels: Value) -> Value {
    merge(
        daemonset(name),
        json!({"spec": {"template": {"metadata": {"labels": labels}}}}),
    )
}

fn with_pod_spec(name: &str, spec: Value) -> Value {
    merge(daemonset(name), json!({"spec": {"template": {"spec": spec}}}))
}

// ---- running the binary ----

/// `why-not NODE -n NS -o json [extra]`: the exit code and the verdicts.
fn why_not_json(env: &TestEnv, node: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
    let mut args = vec!["why-not", node, "-n", &env.ns, "-o", "json"];
    args.extend_from_slice(extra);
    let run = env.kubectl_ds().args(args).run();
    let doc = run.json();
    assert_eq!(doc["apiVersion"], "kubectl-ds/v1", "{doc:#}");
    assert_eq!(doc["kind"], "VerdictList", "{doc:#}");
    let items = doc["items"].as_array().cloned().unwrap_or_default();
    (run.code, items)
}

fn verdict_for<'a>(items: &'a [Value], ds: &str) -> &'a Value {
    items
        .iter()
        .find(|v| v["daemonset"] == ds)
        .unwrap_or_else(|| panic!("no verdict for DaemonSet {ds} in {items:#?}"))
}

fn reasons(v: &Value) -> Vec<(String, String)> {
    v["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["rule"].as_str().unwrap_or_default().to_string(),
                r["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Asserts that one reason has this rule and holds every word.
fn assert_reason(v: &Value, rule: &str, words: &[&str]) {
    let found = reasons(v)
        .iter()
        .any(|(r, m)| r == rule && words.iter().all(|w| m.contains(w)));
    assert!(
        found,
        "expected a {rule:?} reason containing {words:?} in verdict {v:#}"
    );
}

/// The verdict's next move: its action and key words of its sentence.
fn assert_next(v: &Value, action: &str, words: &[&str]) {
    let why = v["next"]["why"].as_str().unwrap_or_default();
    assert!(
        v["next"]["action"] == action && words.iter().all(|w| why.contains(w)),
        "expected next action {action:?} with {words:?} in verdict {v:#}"
    );
}

/// The why-not table row of one DaemonSet (NAMESPACE DAEMONSET VERDICT POD REASON).
fn table_row(table: &str, ns: &str, ds: &str) -> String {
    let header = table.lines().next().unwrap_or_default();
    for column in ["NAMESPACE", "DAEMONSET", "VERDICT", "POD", "REASON"] {
        assert!(header.contains(column), "table header lacks {column}:\n{table}");
    }
    table
        .lines()
        .find(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.len() >= 2 && cells[0] == ns && cells[1] == ds
        })
        .unwrap_or_else(|| panic!("no row for {ns}/{ds} in:\n{table}"))
        .to_string()
}

/// What a user must see for one DaemonSet on one node.
struct Expect<'a> {
    verdict: &'a str,
    /// (rule, key words of its message); `None` for a verdict without reasons.
    reason: Option<(&'a str, &'a [&'a str])>,
    /// Exit code of `why-not NODE -n NS` (every DaemonSet of the namespace on that node).
    code: i32,
}

/// Runs `why-not` in JSON and as a table and checks both against `expect`; returns the verdict.
fn expect_verdict(env: &TestEnv, node: &str, ds: &str, expect: Expect) -> Value {
    let (code, items) = why_not_json(env, node, &[]);
    let v = verdict_for(&items, ds).clone();
    assert_eq!(v["verdict"], expect.verdict, "verdict of {ds} on {node}: {v:#}");
    assert_eq!(v["node"], node, "{v:#}");
    assert_eq!(v["namespace"], env.ns.as_str(), "{v:#}");
    match expect.reason {
        Some((rule, words)) => assert_reason(&v, rule, words),
        None => assert!(reasons(&v).is_empty(), "expected no reasons: {v:#}"),
    }
    assert_eq!(
        code,
        Some(expect.code),
        "exit code of why-not {node} -o json; items: {items:#?}"
    );

    let table = env.kubectl_ds().args(["why-not", node, "-n", &env.ns]).run();
    assert_eq!(
        table.code,
        Some(expect.code),
        "exit code of why-not {node} (table): {table}"
    );
    let row = table_row(&table.stdout, &env.ns, ds);
    assert!(
        row.contains(expect.verdict),
        "row lacks {}: {row}",
        expect.verdict
    );
    let pod = v["pod"].as_str().unwrap_or("-");
    assert!(row.contains(pod), "row lacks pod {pod}: {row}");
    // The table shows the first reason, as the JSON lists it. Names in it may differ from run to
    // run (an event's pod name), so compare the text up to the first quoted or bracketed part,
    // and the key words when the expected reason is the one shown.
    if let Some((rule, message)) = reasons(&v).first() {
        let stable = message.split(['"', '(']).next().unwrap_or_default();
        assert!(
            row.contains(stable),
            "row lacks the main reason {message:?}: {row}"
        );
        if let Some((want, words)) = expect.reason
            && want == rule
            && words.iter().all(|w| message.contains(w))
        {
            for word in words {
                assert!(row.contains(word), "row lacks {word:?}: {row}");
            }
        }
    }
    v
}

/// Makes the controller sync the DaemonSet now. In the controller the tests run (v1.36,
/// `syncNodeUpdate`) a node update enqueues a DaemonSet only when a pod must be created or
/// deleted there, so a node that merely stops qualifying
/// (an untolerated NoSchedule taint, NotReady) leaves the status counters as they were until the
/// DaemonSet's next sync; an annotation change is such a sync.
async fn poke(env: &TestEnv, ds: &str) {
    let stamp = format!("{:?}", std::time::SystemTime::now());
    env.daemonsets()
        .patch(
            ds,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"kubectl-ds.test/poke": stamp}}})),
        )
        .await
        .expect("annotate daemonset");
}

// ---- one DaemonSet, its nodes, and the verdict on each ----

/// What the pods of a case must show, beyond the controller's counts, before the verdicts are read.
#[derive(Clone, Copy, Debug)]
enum Settled {
    /// The counts say it all.
    Counted,
    /// A container of every pod waits in CrashLoopBackOff.
    CrashLoopBackOff,
    /// Every pod is Running (ready or not).
    Running,
    /// The scheduler has rejected every pod (PodScheduled False, with its message).
    Unschedulable,
}

/// The verdict a user must see for the case's DaemonSet on one node. Beyond `expect` (checked by
/// [`expect_verdict`] in the JSON and the table), the verdict names the DaemonSet's pod for the
/// node and that pod's revision, or no pod when there is none.
struct OnNode {
    node: &'static str,
    expect: Expect<'static>,
    /// Further reasons the verdict gives: (rule, key words of its message).
    also: Vec<(&'static str, &'static [&'static str])>,
    /// Fields of the verdict and their values.
    fields: Vec<(&'static str, Value)>,
    /// Words the checks of `why-not NODE --explain` hold.
    explain: &'static [&'static str],
}

fn on(node: &'static str, verdict: &'static str, code: i32) -> OnNode {
    OnNode {
        node,
        expect: Expect {
            verdict,
            reason: None,
            code,
        },
        also: Vec::new(),
        fields: Vec::new(),
        explain: &[],
    }
}

impl OnNode {
    /// A reason the verdict gives: the first one named is the one the table shows.
    fn reason(mut self, rule: &'static str, words: &'static [&'static str]) -> Self {
        if self.expect.reason.is_none() {
            self.expect.reason = Some((rule, words));
        } else {
            self.also.push((rule, words));
        }
        self
    }
    fn field(mut self, name: &'static str, value: Value) -> Self {
        self.fields.push((name, value));
        self
    }
    fn explain(mut self, words: &'static [&'static str]) -> Self {
        self.explain = words;
        self
    }
}

/// One scenario: nodes, a DaemonSet, what the real controller and scheduler do with it, and
/// the verdict on each node.
struct Case {
    /// Names the case in failures (and its namespace).
    name: &'static str,
    nodes: Vec<NodeSpec>,
    /// Pods put on the nodes (and Running) before the DaemonSet is created.
    blockers: Vec<Value>,
    daemonset: &'static str,
    /// Merged into the DaemonSet's pod template.
    template: Value,
    /// The controller's counts: desired, current, ready, misscheduled.
    counts: (i32, i32, i32, i32),
    settled: Settled,
    /// The nodes its pods are bound to, sorted ("" for an unbound pod).
    pods_on: &'static [&'static str],
    verdicts: Vec<OnNode>,
}

impl Case {
    /// What most cases share: a DaemonSet `agent` whose one pod runs and is ready.
    fn agent() -> Case {
        Case {
            name: "",
            nodes: Vec::new(),
            blockers: Vec::new(),
            daemonset: "agent",
            template: json!({}),
            counts: (1, 1, 1, 0),
            settled: Settled::Counted,
            pods_on: &[],
            verdicts: Vec::new(),
        }
    }
}

fn cases() -> Vec<Case> {
    vec![
        // ---- running ----
        Case {
            name: "running_pod_is_reported_running",
            nodes: vec![NodeSpec::new("run-a")],
            pods_on: &["run-a"],
            verdicts: vec![
                on("run-a", "running", 0)
                    .field("shouldRun", json!(true))
                    .field("shouldContinueRunning", json!(true))
                    // A fresh pod runs the current revision.
                    .field("updated", json!(true)),
            ],
            ..Case::agent()
        },
        // ---- not-eligible ----
        Case {
            name: "node_selector_mismatch_is_not_eligible",
            nodes: vec![
                NodeSpec::new("sel-ssd").label("disk", "ssd"),
                NodeSpec::new("sel-hdd").label("disk", "hdd"),
                NodeSpec::new("sel-none"),
            ],
            template: json!({"spec": {"nodeSelector": {"disk": "ssd"}}}),
            pods_on: &["sel-ssd"],
            verdicts: vec![
                on("sel-hdd", "not-eligible", 0)
                    .reason("node-selector", &["nodeSelector disk=ssd", "disk=hdd"])
                    .field("shouldRun", json!(false))
                    .field("shouldContinueRunning", json!(false)),
                on("sel-none", "not-eligible", 0)
                    .reason("node-selector", &["nodeSelector disk=ssd", "no label disk"]),
                on("sel-ssd", "running", 0),
            ],
            ..Case::agent()
        },
        Case {
            name: "required_affinity_mismatch_names_the_term",
            nodes: vec![
                NodeSpec::new("aff-a").label("zone", "a"),
                NodeSpec::new("aff-b").label("zone", "b").label("cores", "4"),
            ],
            // Two ORed terms: zone In [a], or cores Gt 8.
            template: json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
                {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["8"]}]}
            ]}}}}}),
            pods_on: &["aff-a"],
            verdicts: vec![
                on("aff-b", "not-eligible", 0)
                    .reason("node-affinity", &["term 1", "zone In [a]", "\"b\""])
                    .reason("node-affinity", &["term 2", "cores Gt 8", "4"])
                    .field("shouldRun", json!(false))
                    .field("shouldContinueRunning", json!(false)),
            ],
            ..Case::agent()
        },
        Case {
            name: "untolerated_no_schedule_taint_is_not_eligible",
            nodes: vec![
                NodeSpec::new("taint-a"),
                NodeSpec::new("taint-db").taint("dedicated", "db", "NoSchedule"),
            ],
            pods_on: &["taint-a"],
            verdicts: vec![
                on("taint-db", "not-eligible", 0)
                    .reason("taint", &["dedicated=db:NoSchedule", "not tolerated"])
                    .field("shouldRun", json!(false))
                    // Only a NoSchedule taint is untolerated: a pod already there would stay.
                    .field("shouldContinueRunning", json!(true)),
            ],
            ..Case::agent()
        },
        Case {
            name: "template_node_name_pins_the_pod_to_one_node",
            nodes: vec![NodeSpec::new("pin-a"), NodeSpec::new("pin-b")],
            template: json!({"spec": {"nodeName": "pin-a"}}),
            pods_on: &["pin-a"],
            verdicts: vec![
                on("pin-b", "not-eligible", 0)
                    .reason("node-name", &["template nodeName is pin-a", "pin-b"])
                    .field("shouldContinueRunning", json!(false)),
                on("pin-a", "running", 0),
            ],
            ..Case::agent()
        },
        // ---- default tolerations ----
        Case {
            name: "cordoned_node_still_gets_the_pod",
            nodes: vec![NodeSpec::new("cordon-a").cordoned()],
            pods_on: &["cordon-a"],
            verdicts: vec![
                on("cordon-a", "running", 0)
                    .field("shouldRun", json!(true))
                    // --explain shows which toleration let the pod onto the cordoned node.
                    .explain(&[
                        "taint node.kubernetes.io/unschedulable:NoSchedule is tolerated",
                        "a controller default",
                    ]),
            ],
            ..Case::agent()
        },
        // ---- not-ready ----
        Case {
            name: "crash_looping_pod_is_not_ready",
            nodes: vec![NodeSpec::new("crash-a")],
            daemonset: "crashy",
            template: json!({"metadata": {"labels": {"kubectl-ds.test/stage": "crash-loop"}}}),
            counts: (1, 1, 0, 0),
            settled: Settled::CrashLoopBackOff,
            pods_on: &["crash-a"],
            verdicts: vec![
                on("crash-a", "not-ready", 1)
                    .reason("container", &["agent", "CrashLoopBackOff"])
                    .field("shouldRun", json!(true)),
            ],
            ..Case::agent()
        },
        Case {
            name: "never_ready_pod_is_not_ready",
            nodes: vec![NodeSpec::new("unready-a")],
            daemonset: "sleepy",
            template: json!({"metadata": {"labels": {"kubectl-ds.test/stage": "never-ready"}}}),
            counts: (1, 1, 0, 0),
            settled: Settled::Running,
            pods_on: &["unready-a"],
            verdicts: vec![
                on("unready-a", "not-ready", 1)
                    .reason("container", &["agent", "running but not ready", "readiness"]),
            ],
            ..Case::agent()
        },
        // ---- pending ----
        // The controller does not check resources or ports: it creates the pod, which the
        // scheduler rejects, and the pod stays unbound.
        Case {
            name: "too_little_cpu_is_pending_with_the_scheduler_message",
            nodes: vec![NodeSpec::new("small-a").allocatable("cpu", "1")],
            daemonset: "hungry",
            template: json!({"spec": {"containers": [{
                "name": "agent", "image": "registry.example/agent:1.0",
                "resources": {"requests": {"cpu": "2"}}
            }]}}),
            counts: (1, 1, 0, 0),
            settled: Settled::Unschedulable,
            pods_on: &[""],
            verdicts: vec![
                on("small-a", "pending", 1)
                    .reason("resources", &["Insufficient cpu", "requests 2", "allocatable"])
                    .reason("scheduler", &["nodes are available", "Insufficient cpu"])
                    .field("shouldRun", json!(true)),
            ],
            ..Case::agent()
        },
        Case {
            name: "host_port_conflict_is_pending",
            nodes: vec![NodeSpec::new("port-a")],
            blockers: vec![json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "port-blocker", "labels": {"role": "blocker"}},
                "spec": {
                    "nodeName": "port-a",
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "web", "image": "registry.example/web:1.0",
                                    "ports": [{"containerPort": 8080, "hostPort": 8080}]}]
                }
            })],
            daemonset: "proxy",
            template: json!({"spec": {"containers": [{
                "name": "agent", "image": "registry.example/agent:1.0",
                "ports": [{"containerPort": 8080, "hostPort": 8080}]
            }]}}),
            counts: (1, 1, 0, 0),
            settled: Settled::Unschedulable,
            pods_on: &[""],
            verdicts: vec![
                on("port-a", "pending", 1)
                    .reason("host-port", &["8080", "port-blocker"])
                    .reason("scheduler", &["free ports"]),
            ],
        },
    ]
}

/// Whether every pod of the DaemonSet shows what `settled` asks for.
async fn is_settled(env: &TestEnv, ds: &str, settled: Settled) -> bool {
    let pods: Vec<Pod> = pods_by_node(env, ds).await.into_values().flatten().collect();
    let shows = |pod: &Pod| {
        let status = pod.status.clone().unwrap_or_default();
        match settled {
            Settled::Counted => true,
            Settled::CrashLoopBackOff => status.container_statuses.iter().flatten().any(|c| {
                c.state
                    .as_ref()
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.as_deref())
                    == Some("CrashLoopBackOff")
            }),
            Settled::Running => status.phase.as_deref() == Some("Running"),
            Settled::Unschedulable => status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "PodScheduled" && c.status == "False" && c.message.is_some()),
        }
    };
    !pods.is_empty() && pods.iter().all(shows)
}

/// The DaemonSet's pod for a node: the one bound to it, or else its only pod if that is unbound.
async fn pod_for(env: &TestEnv, ds: &str, node: &str) -> Option<Pod> {
    let by_node = pods_by_node(env, ds).await;
    if let Some(pods) = by_node.get(node) {
        assert_eq!(pods.len(), 1, "expected one pod of {ds} on {node}: {pods:#?}");
        return pods.first().cloned();
    }
    match by_node.get("") {
        Some(unbound) if by_node.len() == 1 && unbound.len() == 1 => unbound.first().cloned(),
        _ => None,
    }
}

async fn run_case(case: Case) {
    let env = fresh(case.name).await;
    let nodes: Vec<&str> = case.nodes.iter().map(|n| n.name.as_str()).collect();
    for node in &case.nodes {
        env.create_node(node.clone()).await;
    }
    wait_nodes_ready(&env, &nodes).await;
    for node in case.nodes.iter().filter(|n| n.unschedulable) {
        wait_node_taint(&env, &node.name, "node.kubernetes.io/unschedulable", "NoSchedule").await;
    }
    for body in case.blockers {
        let blocker: Pod = serde_json::from_value(body).expect("blocker pod json");
        let name = pod_name(&blocker);
        env.pods()
            .create(&PostParams::default(), &blocker)
            .await
            .expect("create blocker pod");
        wait_until(&format!("the blocker pod {name} to run"), SETTLE, || async {
            env.pods()
                .get(&name)
                .await
                .is_ok_and(|p| p.status.and_then(|s| s.phase).as_deref() == Some("Running"))
        })
        .await;
    }
    let ds = case.daemonset;
    env.create_daemonset(merge(daemonset(ds), json!({"spec": {"template": case.template}})))
        .await;
    let (desired, current, ready, misscheduled) = case.counts;
    wait_counts(&env, ds, desired, current, ready, misscheduled).await;
    wait_until(
        &format!("the pods of {ds} to be settled: {:?}", case.settled),
        SETTLE,
        || is_settled(&env, ds, case.settled),
    )
    .await;
    assert_eq!(
        pod_nodes(&env, ds).await,
        case.pods_on,
        "the nodes of the pods of {ds}"
    );

    for want in case.verdicts {
        let node = want.node;
        let v = expect_verdict(&env, node, ds, want.expect);
        for (rule, words) in want.also {
            assert_reason(&v, rule, words);
        }
        for (field, value) in &want.fields {
            assert_eq!(&v[field], value, "{field} of {ds} on {node}: {v:#}");
        }
        match pod_for(&env, ds, node).await {
            Some(pod) => {
                assert_eq!(v["pod"], pod_name(&pod).as_str(), "{v:#}");
                let hash = &pod.metadata.labels.as_ref().unwrap()["controller-revision-hash"];
                assert_eq!(v["revision"], hash.as_str(), "{v:#}");
            }
            None => assert_eq!(v["pod"], Value::Null, "{v:#}"),
        }
        if !want.explain.is_empty() {
            let (_, items) = why_not_json(&env, node, &["--explain"]);
            let checks = verdict_for(&items, ds)["checks"].to_string();
            for word in want.explain {
                assert!(
                    checks.contains(word),
                    "--explain lacks {word:?}; checks: {checks}"
                );
            }
        }
    }
}

/// Every case runs, in turn, even when one before it failed; the test fails naming each case
/// that failed, with its message.
#[tokio::test]
async fn the_verdict_on_each_node_of_one_daemonset() {
    let mut failed = Vec::new();
    let cases = cases();
    let total = cases.len();
    for case in cases {
        let name = case.name;
        eprintln!("case {name}");
        if let Err(panic) = AssertUnwindSafe(run_case(case)).catch_unwind().await {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("case {name} failed: {message}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {total} cases failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}

// ---- default tolerations ----

#[tokio::test]
async fn host_network_daemonset_tolerates_network_unavailable() {
    let env = fresh("v-hostnet").await;
    env.create_node(NodeSpec::new("net-down")).await;
    env.create_node(NodeSpec::new("net-up")).await;
    wait_nodes_ready(&env, &["net-down", "net-up"]).await;
    // The node lifecycle controller keeps the network-unavailable taint in step with the node's
    // NetworkUnavailable condition, so report the condition as a kubelet would.
    env.nodes()
        .patch_status(
            "net-down",
            &PatchParams::default(),
            &Patch::Strategic(json!({"status": {"conditions": [{
                "type": "NetworkUnavailable", "status": "True",
                "reason": "NoRouteCreated", "message": "no route (kubectl-ds test)"
            }]}})),
        )
        .await
        .expect("patch node status");
    wait_node_taint(
        &env,
        "net-down",
        "node.kubernetes.io/network-unavailable",
        "NoSchedule",
    )
    .await;
    env.create_daemonset(with_pod_spec("hostnet", json!({"hostNetwork": true})))
        .await;
    env.create_daemonset(daemonset("plain")).await;
    wait_counts(&env, "hostnet", 2, 2, 2, 0).await;
    wait_counts(&env, "plain", 1, 1, 1, 0).await;
    assert_eq!(pod_nodes(&env, "hostnet").await, ["net-down", "net-up"]);
    assert_eq!(pod_nodes(&env, "plain").await, ["net-up"]);

    let v = expect_verdict(
        &env,
        "net-down",
        "plain",
        Expect {
            verdict: "not-eligible",
            reason: Some((
                "taint",
                &[
                    "node.kubernetes.io/network-unavailable:NoSchedule",
                    "not tolerated",
                ],
            )),
            code: 0,
        },
    );
    assert_eq!(v["shouldContinueRunning"], true);
    let v = expect_verdict(
        &env,
        "net-down",
        "hostnet",
        Expect {
            verdict: "running",
            reason: None,
            code: 0,
        },
    );
    assert_eq!(v["shouldRun"], true);
}

// ---- not-ready ----

/// A node that goes NotReady gets both not-ready taints; DaemonSet pods tolerate only the
/// NoExecute one, so the real controller keeps the pod and counts it misscheduled.
#[tokio::test]
async fn not_ready_node_keeps_its_pod_as_misscheduled() {
    let env = fresh("v-nodenotready").await;
    env.create_node(NodeSpec::new("down-a")).await;
    env.create_node(NodeSpec::new("down-b")).await;
    wait_nodes_ready(&env, &["down-a", "down-b"]).await;
    env.create_daemonset(daemonset("agent")).await;
    wait_counts(&env, "agent", 2, 2, 2, 0).await;
    let before = pods_by_node(&env, "agent").await["down-a"][0].clone();

    env.nodes()
        .patch(
            "down-a",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"kubectl-ds.test/stage": "not-ready"}}})),
        )
        .await
        .expect("label node");
    wait_node_taint(&env, "down-a", "node.kubernetes.io/not-ready", "NoSchedule").await;
    wait_node_taint(&env, "down-a", "node.kubernetes.io/not-ready", "NoExecute").await;
    // What the real controller does: the pod stays, and on its next sync the node leaves
    // desiredNumberScheduled and its pod counts as misscheduled.
    poke(&env, "agent").await;
    env.wait_daemonset("agent", SETTLE, |d| {
        let s = d.status.as_ref().unwrap();
        s.desired_number_scheduled == 1 && s.current_number_scheduled == 1 && s.number_misscheduled == 1
    })
    .await;
    let after = pods_by_node(&env, "agent").await;
    assert_eq!(
        after.get("down-a").map(|p| pod_name(&p[0])),
        Some(pod_name(&before)),
        "the controller keeps the pod on the NotReady node: {after:#?}"
    );

    let v = expect_verdict(
        &env,
        "down-a",
        "agent",
        Expect {
            verdict: "misscheduled",
            reason: Some((
                "taint",
                &["node.kubernetes.io/not-ready:NoSchedule", "not tolerated"],
            )),
            code: 1,
        },
    );
    assert_eq!(v["shouldRun"], false);
    assert_eq!(v["shouldContinueRunning"], true);
    assert_eq!(v["pod"], pod_name(&before).as_str());
    assert_next(&v, "none", &["stays", "NoSchedule"]);
    assert_reason(&v, "node-not-ready", &["down-a", "NotReady"]);
}

// ---- missing ----

#[tokio::test]
async fn quota_that_forbids_pods_is_missing_with_failed_create() {
    let env = fresh("v-quota").await;
    env.create_node(NodeSpec::new("quota-a")).await;
    wait_nodes_ready(&env, &["quota-a"]).await;
    let quotas: Api<ResourceQuota> = Api::namespaced(env.client.clone(), &env.ns);
    let quota: ResourceQuota = serde_json::from_value(json!({
        "metadata": {"name": "no-pods"}, "spec": {"hard": {"pods": "0"}}
    }))
    .unwrap();
    quotas
        .create(&PostParams::default(), &quota)
        .await
        .expect("create quota");
    wait_until("the quota controller to fill in the quota", SETTLE, || async {
        quotas.get("no-pods").await.is_ok_and(|q| {
            q.status
                .and_then(|s| s.hard)
                .is_some_and(|h| h.contains_key("pods"))
        })
    })
    .await;
    env.create_daemonset(daemonset("agent")).await;
    env.wait_daemonset("agent", SETTLE, |d| {
        let s = d.status.as_ref().unwrap();
        s.desired_number_scheduled == 1 && s.current_number_scheduled == 0
    })
    .await;
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(env.client.clone(), &env.ns);
    wait_until("a FailedCreate event", SETTLE, || async {
        events
            .list(&ListParams::default().fields("reason=FailedCreate"))
            .await
            .is_ok_and(|l| !l.items.is_empty())
    })
    .await;
    assert!(pod_nodes(&env, "agent").await.is_empty());

    let v = expect_verdict(
        &env,
        "quota-a",
        "agent",
        Expect {
            verdict: "missing",
            reason: Some((
                "controller",
                &["FailedCreate", "forbidden", "exceeded quota", "no-pods"],
            )),
            code: 1,
        },
    );
    assert_eq!(v["shouldRun"], true);
    assert_eq!(v["pod"], Value::Null);
}

// ---- misscheduled, then removed ----

#[tokio::test]
async fn new_taints_make_the_pod_misscheduled_then_remove_it() {
    let env = fresh("v-misscheduled").await;
    env.create_node(NodeSpec::new("mis-a")).await;
    env.create_node(NodeSpec::new("mis-b")).await;
    wait_nodes_ready(&env, &["mis-a", "mis-b"]).await;
    env.create_daemonset(daemonset("agent")).await;
    wait_counts(&env, "agent", 2, 2, 2, 0).await;
    let pod = pod_name(&pods_by_node(&env, "agent").await["mis-a"][0]);

    // An untolerated NoSchedule taint: the controller keeps the pod, counted misscheduled.
    set_taints(
        &env,
        "mis-a",
        json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
    )
    .await;
    wait_node_taint(&env, "mis-a", "dedicated", "NoSchedule").await;
    poke(&env, "agent").await;
    wait_counts(&env, "agent", 1, 1, 1, 1).await;
    assert_eq!(
        pods_by_node(&env, "agent")
            .await
            .get("mis-a")
            .map(|p| pod_name(&p[0])),
        Some(pod.clone())
    );
    let v = expect_verdict(
        &env,
        "mis-a",
        "agent",
        Expect {
            verdict: "misscheduled",
            reason: Some(("taint", &["dedicated=db:NoSchedule", "not tolerated"])),
            code: 1,
        },
    );
    assert_next(&v, "none", &["stays", "NoSchedule"]);
    assert_eq!(v["pod"], pod.as_str());
    assert_eq!(v["shouldRun"], false);
    assert_eq!(v["shouldContinueRunning"], true);

    // An untolerated NoExecute taint: the pod is removed.
    set_taints(
        &env,
        "mis-a",
        json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"},
               {"key": "maintenance", "value": "now", "effect": "NoExecute"}]),
    )
    .await;
    wait_counts(&env, "agent", 1, 1, 1, 0).await;
    wait_until("the pod on mis-a to be gone", SETTLE, || async {
        !pods_by_node(&env, "agent").await.contains_key("mis-a")
    })
    .await;
    let v = expect_verdict(
        &env,
        "mis-a",
        "agent",
        Expect {
            verdict: "not-eligible",
            reason: Some((
                "taint",
                &["maintenance=now:NoExecute", "not tolerated", "removed"],
            )),
            code: 0,
        },
    );
    assert_eq!(v["shouldContinueRunning"], false);
    assert_eq!(v["pod"], Value::Null);
}

// ---- status DS: per-node coverage ----

#[tokio::test]
async fn status_groups_nodes_by_verdict_and_reason() {
    let env = fresh("v-status").await;
    env.create_node(NodeSpec::new("cov-a")).await;
    env.create_node(NodeSpec::new("cov-b")).await;
    env.create_node(NodeSpec::new("cov-c").taint("dedicated", "db", "NoSchedule"))
        .await;
    wait_nodes_ready(&env, &["cov-a", "cov-b", "cov-c"]).await;
    env.create_daemonset(daemonset("agent")).await;
    wait_counts(&env, "agent", 2, 2, 2, 0).await;

    let table = env.kubectl_ds().args(["status", "agent", "-n", &env.ns]).run();
    assert_eq!(table.code, Some(0), "{table}");
    assert!(
        table.stdout.contains(&format!("DaemonSet {}/agent", env.ns)),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("desired 2, current 2, ready 2"),
        "{}",
        table.stdout
    );
    let row = |verdict: &str| {
        table
            .stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(verdict))
            .unwrap_or_else(|| panic!("no {verdict} row in:\n{}", table.stdout))
            .to_string()
    };
    let running = row("running");
    assert!(running.trim_start().starts_with('2'), "{running}");
    assert!(running.contains("cov-a, cov-b"), "{running}");
    let not_eligible = row("not-eligible");
    assert!(not_eligible.trim_start().starts_with('1'), "{not_eligible}");
    assert!(not_eligible.contains("dedicated=db:NoSchedule"), "{not_eligible}");
    assert!(not_eligible.trim_end().ends_with("cov-c"), "{not_eligible}");

    let json_run = env
        .kubectl_ds()
        .args(["status", "agent", "-n", &env.ns, "-o", "json"])
        .run();
    assert_eq!(json_run.code, Some(0), "{json_run}");
    let doc = json_run.json();
    assert_eq!(doc["summary"]["desired"], 2, "{doc:#}");
    assert_eq!(doc["summary"]["ready"], 2, "{doc:#}");
    assert!(doc["currentRevision"].is_string(), "{doc:#}");
    let nodes = doc["nodes"].as_array().expect("nodes");
    let by_node: Vec<(&str, &str)> = nodes
        .iter()
        .map(|v| (v["node"].as_str().unwrap(), v["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        by_node,
        [
            ("cov-a", "running"),
            ("cov-b", "running"),
            ("cov-c", "not-eligible")
        ]
    );
    assert_reason(&nodes[2], "taint", &["dedicated=db:NoSchedule", "not tolerated"]);
    for v in &nodes[..2] {
        assert_eq!(v["revision"], doc["currentRevision"], "{v:#}");
    }
}

// ---- errors ----

#[tokio::test]
async fn errors_name_what_is_wrong_and_exit_with_documented_codes() {
    let env = fresh("v-errors").await;
    env.create_node(NodeSpec::new("err-node-a")).await;
    wait_nodes_ready(&env, &["err-node-a"]).await;
    env.create_daemonset(daemonset("agent")).await;
    wait_counts(&env, "agent", 1, 1, 1, 0).await;

    let run = env
        .kubectl_ds()
        .args(["why-not", "err-node-b", "-n", &env.ns])
        .run();
    assert_eq!(run.code, Some(3), "unknown node: {run}");
    assert!(run.stderr.contains("\"err-node-b\" not found"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean err-node-a"), "{}", run.stderr);

    let run = env.kubectl_ds().args(["status", "agnet", "-n", &env.ns]).run();
    assert_eq!(run.code, Some(3), "unknown DaemonSet: {run}");
    assert!(run.stderr.contains("\"agnet\" not found"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean agent"), "{}", run.stderr);

    let run = env
        .kubectl_ds()
        .args(["why-not", "err-node-a", "agnet", "-n", &env.ns])
        .run();
    assert_eq!(run.code, Some(3), "unknown DaemonSet for why-not: {run}");
    assert!(run.stderr.contains("did you mean agent"), "{}", run.stderr);

    // Bad flag values: rejected by the parser, or by the option checks, before any request.
    for args in [
        vec!["why-not", "err-node-a", "-o", "xml"],
        vec!["why-not", "err-node-a", "-o", "name"],
        vec!["status", "agent", "-l", "app in (agent"],
    ] {
        let run = env.kubectl_ds().args(&args).run();
        assert_eq!(run.code, Some(2), "{run}");
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.is_empty(), "{args:?} says nothing");
    }
}

// ---- snapshot round trip ----

#[tokio::test]
async fn snapshot_round_trip_gives_the_live_verdicts() {
    let env = fresh("v-snapshot").await;
    env.create_node(NodeSpec::new("snap-a")).await;
    env.create_node(NodeSpec::new("snap-b").taint("dedicated", "db", "NoSchedule"))
        .await;
    env.create_node(NodeSpec::new("snap-c").allocatable("cpu", "1"))
        .await;
    wait_nodes_ready(&env, &["snap-a", "snap-b", "snap-c"]).await;
    env.create_daemonset(daemonset("agent")).await;
    env.create_daemonset(with_template_labels(
        "crashy",
        json!({"kubectl-ds.test/stage": "crash-loop"}),
    ))
    .await;
    env.create_daemonset(merge(
        daemonset("hungry"),
        json!({"spec": {"template": {"spec": {"containers": [{
            "name": "agent", "image": "registry.example/agent:1.0",
            "resources": {"requests": {"cpu": "2"}}
        }]}}}}),
    ))
    .await;
    wait_counts(&env, "agent", 2, 2, 2, 0).await;
    wait_counts(&env, "crashy", 2, 2, 0, 0).await;
    wait_counts(&env, "hungry", 2, 2, 1, 0).await;
    wait_until("every pod to reach its final state", SETTLE, || async {
        let pods = env.pods().list(&ListParams::default()).await.expect("pods");
        pods.items.iter().all(|p| {
            let status = p.status.clone().unwrap_or_default();
            let scheduled_failed = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "PodScheduled" && c.status == "False" && c.message.is_some());
            let crash_looping = status.container_statuses.iter().flatten().any(|c| {
                c.state
                    .as_ref()
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.as_deref())
                    == Some("CrashLoopBackOff")
            });
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            scheduled_failed || crash_looping || ready
        })
    })
    .await;

    let dir = tempfile::tempdir().expect("tempdir");
    for scope in [vec!["-n", env.ns.as_str()], vec!["-A"]] {
        let mut args = vec!["snapshot"];
        args.extend(scope.iter().copied());
        let saved = env.kubectl_ds().args(&args).run();
        assert_eq!(saved.code, Some(0), "snapshot {scope:?}: {saved}");
        assert!(saved.stderr.contains("saved"), "{}", saved.stderr);
        let file = dir.path().join("snap.json");
        std::fs::write(&file, &saved.stdout).expect("write snapshot");
        let file = file.to_string_lossy().into_owned();

        let mut seen = Vec::new();
        for node in ["snap-a", "snap-b", "snap-c"] {
            let (live_code, live) = why_not_json(&env, node, &[]);
            let (offline_code, offline) = why_not_json(&env, node, &["--snapshot", &file]);
            assert_eq!(live, offline, "snapshot {scope:?}: verdicts on {node} differ");
            assert_eq!(
                live_code, offline_code,
                "snapshot {scope:?}: exit codes on {node}"
            );
            let (live_x, offline_x) = (
                why_not_json(&env, node, &["--explain"]).1,
                why_not_json(&env, node, &["--explain", "--snapshot", &file]).1,
            );
            assert_eq!(
                live_x, offline_x,
                "snapshot {scope:?}: explained verdicts on {node}"
            );
            seen.extend(live.iter().map(|v| {
                format!(
                    "{}@{}={}",
                    v["daemonset"].as_str().unwrap(),
                    node,
                    v["verdict"].as_str().unwrap()
                )
            }));
        }
        // The round trip covered every kind of verdict the setup produces.
        seen.sort();
        assert_eq!(
            seen,
            [
                "agent@snap-a=running",
                "agent@snap-b=not-eligible",
                "agent@snap-c=running",
                "crashy@snap-a=not-ready",
                "crashy@snap-b=not-eligible",
                "crashy@snap-c=not-ready",
                "hungry@snap-a=running",
                "hungry@snap-b=not-eligible",
                "hungry@snap-c=pending",
            ],
            "snapshot {scope:?}"
        );
    }
}
