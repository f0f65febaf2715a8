//! The end-to-end test harness: one real control plane per test binary (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler, kwok; see testcluster/), a fresh namespace per test,
//! and helpers to make fake nodes and wait for the real DaemonSet controller.
//!
//! Tests that use the cluster fail, never skip, when it cannot start. Every test runs the binary
//! through [`run`] (`kubectl_ds()`, or `TestEnv::kubectl_ds()` for the test cluster).
#![allow(dead_code)]

mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

// Each test binary uses a part of it.
#[allow(unused_imports)]
pub use run::{Finished, KubectlDs, Running, kubectl_ds};

pub struct TestCluster {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub bin_dir: PathBuf,
}

static CLUSTER: OnceLock<Result<TestCluster, String>> = OnceLock::new();
/// Nodes are cluster-scoped, so tests that share a cluster take turns.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cluster of this test binary, started on first use. Panics (fails the test) if it cannot start.
pub fn cluster() -> &'static TestCluster {
    match CLUSTER.get_or_init(start_cluster) {
        Ok(c) => c,
        Err(e) => panic!("the test control plane could not start:\n{e}"),
    }
}

fn start_cluster() -> Result<TestCluster, String> {
    let script = repo_root().join("testcluster/cluster.sh");
    let out = Command::new(&script)
        .args(["up", "--owner-pid", &std::process::id().to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{} up failed ({}):\n{stderr}",
            script.display(),
            out.status
        ));
    }
    eprint!("{stderr}");
    let kubeconfig = stdout
        .lines()
        .find_map(|l| l.strip_prefix("KUBECONFIG="))
        .map(PathBuf::from)
        .ok_or_else(|| format!("cluster.sh printed no KUBECONFIG line:\n{stdout}\n{stderr}"))?;
    let dir = kubeconfig.parent().map(Path::to_path_buf).unwrap_or_default();
    let bin_dir = std::fs::read_to_string(dir.join("bin-dir"))
        .map_err(|e| e.to_string())?
        .trim()
        .into();
    Ok(TestCluster {
        dir,
        kubeconfig,
        bin_dir,
    })
}

impl TestCluster {
    pub async fn client(&self) -> Client {
        let kc = Kubeconfig::read_from(&self.kubeconfig).expect("read test kubeconfig");
        let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .expect("kubeconfig");
        Client::try_from(config).expect("client")
    }

    /// The tail of each component's log, for failure messages.
    pub fn logs(&self) -> String {
        let out = Command::new(repo_root().join("testcluster/cluster.sh"))
            .args(["logs", &self.dir.to_string_lossy()])
            .output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    pub fn kubectl(&self) -> Command {
        let mut c = Command::new(self.bin_dir.join("kubectl"));
        c.arg("--kubeconfig").arg(&self.kubeconfig);
        c
    }

    /// Stops one component (e.g. "kube-apiserver"); `start` brings it back with the same flags.
    pub fn stop(&self, component: &str) {
        self.script(&["stop", component, &self.dir.to_string_lossy()]);
    }
    pub fn start(&self, component: &str) {
        self.script(&["start", component, &self.dir.to_string_lossy()]);
    }
    /// Starts a component with extra flags for this start only.
    pub fn start_with(&self, component: &str, flags: &[&str]) {
        let dir = self.dir.to_string_lossy();
        let mut args = vec!["start", component, &dir];
        args.extend_from_slice(flags);
        self.script(&args);
    }
    /// Compacts etcd's history past every resourceVersion handed out so far (see cluster.sh
    /// compact); returns the revision compacted at.
    pub fn compact_etcd(&self) -> u64 {
        let out = self.script(&["compact", &self.dir.to_string_lossy()]);
        out.trim().parse().expect("compaction revision")
    }
    /// A kubeconfig for a user with a client certificate (for RBAC tests).
    pub fn user_kubeconfig(&self, user: &str, groups: &[&str]) -> PathBuf {
        let out = self.script(&["user", &self.dir.to_string_lossy(), user, &groups.join(",")]);
        PathBuf::from(out.trim())
    }
    fn script(&self, args: &[&str]) -> String {
        let out = Command::new(repo_root().join("testcluster/cluster.sh"))
            .args(args)
            .output()
            .expect("cluster.sh");
        assert!(
            out.status.success(),
            "cluster.sh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// One test's slice of the cluster: its own namespace; the nodes it creates are removed by the
/// next test (tests in one binary take turns).
pub struct TestEnv {
    pub client: Client,
    pub ns: String,
    pub cluster: &'static TestCluster,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

pub const TEST_NODE_LABEL: &str = "kubectl-ds.test/node";

impl TestEnv {
    pub async fn new(name: &str) -> TestEnv {
        let cluster = cluster();
        let turn = TURN.lock().await;
        let client = cluster.client().await;
        // Leftover nodes from an earlier test would change every DaemonSet's desired count.
        let nodes: Api<Node> = Api::all(client.clone());
        let _ = nodes
            .delete_collection(
                &DeleteParams::default(),
                &ListParams::default().labels(TEST_NODE_LABEL),
            )
            .await;
        wait_until("old test nodes to be gone", Duration::from_secs(30), || async {
            nodes
                .list(&ListParams::default().labels(TEST_NODE_LABEL))
                .await
                .map(|l| l.items.is_empty())
                .unwrap_or(false)
        })
        .await;
        let suffix = format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_micros()
                & 0xffffff
        );
        let ns = format!("{}-{suffix}", name.replace('_', "-"));
        let namespaces: Api<Namespace> = Api::all(client.clone());
        namespaces
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
            )
            .await
            .expect("create namespace");
        TestEnv {
            client,
            ns,
            cluster,
            _turn: turn,
        }
    }

    pub fn nodes(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }
    pub fn daemonsets(&self) -> Api<DaemonSet> {
        Api::namespaced(self.client.clone(), &self.ns)
    }
    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Creates a fake node that kwok keeps Ready.
    pub async fn create_node(&self, node: NodeSpec) -> Node {
        let mut labels = node.labels.clone();
        labels.insert(TEST_NODE_LABEL.into(), "true".into());
        labels.insert("kubernetes.io/hostname".into(), node.name.clone());
        labels
            .entry("kubernetes.io/os".into())
            .or_insert_with(|| "linux".into());
        labels
            .entry("kubernetes.io/arch".into())
            .or_insert_with(|| "amd64".into());
        let mut allocatable = node.allocatable.clone();
        allocatable.entry("cpu".into()).or_insert_with(|| "32".into());
        allocatable
            .entry("memory".into())
            .or_insert_with(|| "128Gi".into());
        allocatable.entry("pods".into()).or_insert_with(|| "110".into());
        let taints: Vec<_> = node
            .taints
            .iter()
            .map(|(k, v, e)| json!({"key": k, "value": v, "effect": e}))
            .collect();
        let body = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node.name, "labels": labels,
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"}},
            "spec": {"taints": taints, "unschedulable": node.unschedulable},
            "status": {"allocatable": allocatable, "capacity": allocatable},
        });
        let n: Node = serde_json::from_value(body).expect("node json");
        self.nodes()
            .create(&PostParams::default(), &n)
            .await
            .expect("create node")
    }

    pub async fn create_daemonset(&self, body: serde_json::Value) -> DaemonSet {
        let ds: DaemonSet = serde_json::from_value(body).expect("daemonset json");
        self.daemonsets()
            .create(&PostParams::default(), &ds)
            .await
            .expect("create daemonset")
    }

    /// Waits until the controller has observed the DaemonSet's latest generation and `check` holds
    /// for it; fails the test with the DaemonSet's status and the components' logs otherwise.
    pub async fn wait_daemonset(
        &self,
        name: &str,
        timeout: Duration,
        check: impl Fn(&DaemonSet) -> bool,
    ) -> DaemonSet {
        let api = self.daemonsets();
        let deadline = Instant::now() + timeout;
        loop {
            let ds = api.get(name).await.expect("get daemonset");
            let observed = ds
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if observed >= ds.metadata.generation.unwrap_or(0) && check(&ds) {
                return ds;
            }
            if Instant::now() > deadline {
                panic!(
                    "daemonset {}/{name} did not settle in {timeout:?}; status: {}\n{}",
                    self.ns,
                    serde_json::to_string(&ds.status).unwrap_or_default(),
                    self.cluster.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// kubectl-ds against this cluster, each request bounded at 20 s.
    pub fn kubectl_ds(&self) -> KubectlDs {
        kubectl_ds()
            .kubeconfig(&self.cluster.kubeconfig)
            .arg("--request-timeout=20s")
    }
}

/// A fake node to create.
#[derive(Default, Clone)]
pub struct NodeSpec {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// (key, value, effect)
    pub taints: Vec<(String, String, String)>,
    pub allocatable: BTreeMap<String, String>,
    pub unschedulable: bool,
}

impl NodeSpec {
    pub fn new(name: &str) -> Self {
        NodeSpec {
            name: name.into(),
            ..Default::default()
        }
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k.into(), v.into());
        self
    }
    pub fn taint(mut self, k: &str, v: &str, effect: &str) -> Self {
        self.taints.push((k.into(), v.into(), effect.into()));
        self
    }
    pub fn allocatable(mut self, resource: &str, q: &str) -> Self {
        self.allocatable.insert(resource.into(), q.into());
        self
    }
    pub fn cordoned(mut self) -> Self {
        self.unschedulable = true;
        self
    }
}

/// The images of the `agent` container the tests roll out; [`daemonset`] starts at the first.
pub const AGENT_V1: &str = "registry.example/agent:1.0";
pub const AGENT_V2: &str = "registry.example/agent:2.0";
pub const AGENT_V3: &str = "registry.example/agent:3.0";

/// Where `pause` records the update strategy it replaced.
pub const PAUSE_ANNOTATION: &str = "kubectl-ds/paused-update-strategy";

/// A minimal DaemonSet body; tests add selectors, tolerations and the like with `merge`.
pub fn daemonset(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": "agent", "image": AGENT_V1,
                                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
                    "terminationGracePeriodSeconds": 0
                }
            }
        }
    })
}

/// JSON merge (RFC 7386) of `patch` into `base`, for building test objects.
pub fn merge(mut base: serde_json::Value, patch: serde_json::Value) -> serde_json::Value {
    json_patch::merge(&mut base, &patch);
    base
}

pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !f().await {
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Pods of a DaemonSet, by node name ("" for unbound).
pub async fn pods_by_node(env: &TestEnv, ds: &str) -> BTreeMap<String, Vec<Pod>> {
    let pods = env
        .pods()
        .list(&ListParams::default().labels(&format!("app={ds}")))
        .await
        .expect("list pods");
    let mut map: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
    for p in pods.items {
        let node = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        map.entry(node).or_default().push(p);
    }
    map
}

/// Merge-patches a DaemonSet (RFC 7386), as a concurrent user or the test's own setup would.
pub async fn patch_daemonset(env: &TestEnv, name: &str, patch: serde_json::Value) -> DaemonSet {
    env.daemonsets()
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .expect("patch daemonset")
}

/// Waits until a DaemonSet has `n` pods, all of them updated and available, and none left over.
pub async fn wait_rolled_out(env: &TestEnv, name: &str, n: i32) -> DaemonSet {
    let ds = env
        .wait_daemonset(name, Duration::from_secs(120), |ds| {
            let s = ds.status.as_ref().unwrap();
            s.desired_number_scheduled == n
                && s.current_number_scheduled == n
                && s.updated_number_scheduled == Some(n)
                && s.number_available == Some(n)
        })
        .await;
    wait_until(
        &format!("{name} to have exactly {n} pods"),
        Duration::from_secs(60),
        || async {
            pods_by_node(env, name)
                .await
                .values()
                .map(Vec::len)
                .sum::<usize>()
                == n as usize
        },
    )
    .await;
    ds
}

/// Creates the nodes (names only), then the DaemonSet `body`, and waits until the controller has
/// rolled it out on every one of them.
pub async fn create_rolled_out(env: &TestEnv, nodes: &[&str], body: Value) -> DaemonSet {
    for node in nodes {
        env.create_node(NodeSpec::new(node)).await;
    }
    let name = body["metadata"]["name"]
        .as_str()
        .expect("the DaemonSet body has a name")
        .to_string();
    env.create_daemonset(body).await;
    wait_rolled_out(env, &name, nodes.len() as i32).await
}

/// Sets the image of the `agent` container as `kubectl set image` does (a strategic merge patch:
/// containers merge by name); with a change cause, which the new revision copies.
pub async fn set_image(env: &TestEnv, name: &str, image: &str, cause: Option<&str>) -> DaemonSet {
    let mut patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": image}]}}}});
    if let Some(cause) = cause {
        patch["metadata"] = json!({"annotations": {"kubernetes.io/change-cause": cause}});
    }
    env.daemonsets()
        .patch(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .expect("set image")
}

/// The DaemonSet's update strategy, as JSON.
pub fn update_strategy(ds: &DaemonSet) -> Value {
    serde_json::to_value(ds.spec.as_ref().unwrap().update_strategy.as_ref().unwrap()).unwrap()
}

/// The container image of every pod of a DaemonSet (sorted).
pub async fn pod_images(env: &TestEnv, name: &str) -> Vec<String> {
    let mut images: Vec<String> = pods_by_node(env, name)
        .await
        .values()
        .flatten()
        .map(|p| {
            p.spec.as_ref().unwrap().containers[0]
                .image
                .clone()
                .unwrap_or_default()
        })
        .collect();
    images.sort();
    images
}

/// Runs kubectl-ds with the write-path test hook (KUBECTL_DS_TEST_PAUSE_BEFORE_WRITE): once the
/// command has read the object and computed its write, and announced that on stderr, `edit` runs;
/// then the command sends its write.
pub async fn run_with_edit_before_write<F, Fut>(env: &TestEnv, args: &[&str], edit: F) -> Finished
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    const HOOK: &str = "KUBECTL_DS_TEST_PAUSE_BEFORE_WRITE";
    let mut running = env.kubectl_ds().env(HOOK, "5000").args(args).start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !running.stderr().contains(HOOK) {
        if !running.is_running() || Instant::now() > deadline {
            panic!("never reached its write: {}", running.kill());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    edit().await;
    running.finish()
}

/// A small deterministic PRNG (splitmix64) for the seeded differential tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// 1..=max distinct items.
    pub fn some<'a, T>(&mut self, items: &'a [T], max: usize) -> Vec<&'a T> {
        let n = 1 + self.below(max.min(items.len()));
        let mut picked: Vec<usize> = Vec::new();
        while picked.len() < n {
            let i = self.below(items.len());
            if !picked.contains(&i) {
                picked.push(i);
            }
        }
        picked.into_iter().map(|i| &items[i]).collect()
    }
}

/// The seed of a differential test: `KUBECTL_DS_DIFF_SEED` replays a run; otherwise the clock.
pub fn seed() -> u64 {
    match std::env::var("KUBECTL_DS_DIFF_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("KUBECTL_DS_DIFF_SEED={s:?} is not a number")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}
