//! `kubectl ds rollout watch` on the real control plane. The binary runs without a terminal, so
//! these tests see the line mode: timestamped lines on stdout, one per change, then the outcome.
//!
//! Exit codes: 0 rolled out; 1 stalled for --progress-deadline or --timeout elapsed; 3 the
//! DaemonSet was deleted during the watch.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;
use support::{Finished, NodeSpec, Running, TestCluster, TestEnv, daemonset, merge};

const STAGE: &str = "kubectl-ds.test/stage";

/// Three nodes and a DaemonSet `agent` (the body given) that the controller has rolled out.
async fn rolled_out(env: &TestEnv, prefix: &str, body: serde_json::Value) {
    for i in 1..=3 {
        env.create_node(NodeSpec::new(&format!("{prefix}-{i}"))).await;
    }
    env.create_daemonset(body).await;
    env.wait_daemonset("agent", Duration::from_secs(90), |ds| {
        let s = ds.status.as_ref().unwrap();
        s.desired_number_scheduled == 3
            && s.updated_number_scheduled == Some(3)
            && s.current_number_scheduled == 3
    })
    .await;
}

/// Merge-patches the DaemonSet, retrying while the apiserver comes back from a restart.
async fn patch(env: &TestEnv, body: serde_json::Value) -> DaemonSet {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match env
            .daemonsets()
            .patch("agent", &PatchParams::default(), &Patch::Merge(&body))
            .await
        {
            Ok(ds) => return ds,
            Err(e) if Instant::now() < deadline => {
                eprintln!("patch failed, retrying: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("patch daemonset: {e}"),
        }
    }
}

fn new_image() -> serde_json::Value {
    json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "registry.example/agent:2.0"}]}}}})
}

fn never_ready() -> serde_json::Value {
    json!({"spec": {"template": {"metadata": {"labels": {STAGE: "never-ready"}}}}})
}

/// The node the (single) never-ready pod of the stuck rollout landed on.
async fn stuck_node(env: &TestEnv) -> String {
    let pods = env
        .pods()
        .list(&ListParams::default().labels(&format!("app=agent,{STAGE}=never-ready")))
        .await
        .unwrap();
    assert_eq!(
        pods.items.len(),
        1,
        "maxUnavailable 1 lets one new pod in: {:?}",
        pods.items
    );
    pods.items[0].spec.as_ref().unwrap().node_name.clone().unwrap()
}

/// The last line of stdout.
fn last_line(out: &Finished) -> &str {
    out.stdout.lines().last().unwrap_or("")
}

/// Exit 0, and the last line says the rollout finished with every count at 3/3.
fn assert_rolled_out_on_three_nodes(out: &Finished) {
    assert_eq!(out.code, Some(0), "{out}");
    let last = last_line(out);
    assert!(
        last.contains("successfully rolled out") && last.contains("updated 3/3 ready 3/3 available 3/3"),
        "{out}"
    );
}

/// Every line starts with an RFC 3339 UTC timestamp, and no status line repeats the one before
/// it (the ETA alone does not make a new line).
fn assert_line_mode(out: &Finished) {
    let mut previous = String::new();
    for line in out.stdout.lines() {
        let (ts, rest) = line.split_once(' ').unwrap_or(("", line));
        assert!(
            ts.ends_with('Z') && ts.parse::<Timestamp>().is_ok(),
            "untimestamped line {line:?}\n{out}"
        );
        let rest = match rest.split_once(" (eta ") {
            Some((before, after)) => format!("{before}{}", after.split_once(')').map_or("", |(_, a)| a)),
            None => rest.to_string(),
        };
        assert_ne!(rest, previous, "duplicate line {line:?}\n{out}");
        previous = rest;
    }
}

/// The watch as a running child whose stdout the test reads while it acts.
struct Watch(Running);

impl Watch {
    fn start(env: &TestEnv, args: &[&str]) -> Watch {
        Watch(env.kubectl_ds().args(args).start())
    }

    /// Waits for a stdout line containing `needle`; fails the test with the output otherwise.
    async fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.0.stdout().lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            if Instant::now() > deadline || !self.0.is_running() {
                panic!(
                    "no line containing {needle:?} within {timeout:?}; stdout so far:\n{}",
                    self.0.stdout()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `count` stdout lines contain `needle`.
    async fn wait_for_count(&mut self, needle: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.0.stdout().lines().filter(|l| l.contains(needle)).count() >= count {
                return;
            }
            if Instant::now() > deadline || !self.0.is_running() {
                panic!(
                    "not {count} lines containing {needle:?} within {timeout:?}; stdout so far:\n{}",
                    self.0.stdout()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn is_running(&mut self) -> bool {
        self.0.is_running()
    }

    /// Waits for the watch to end on its own.
    async fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        while self.0.is_running() {
            if Instant::now() > deadline {
                panic!("the watch did not end within {timeout:?}: {}", self.0.kill());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.0.finish()
    }
}

/// Stops the apiserver; starts it again when told to, or when dropped (a failing test must not
/// leave the cluster down for the tests after it).
struct ApiserverStopped {
    cluster: &'static TestCluster,
    stopped: bool,
}

impl ApiserverStopped {
    fn stop(cluster: &'static TestCluster) -> Self {
        cluster.stop("kube-apiserver");
        ApiserverStopped {
            cluster,
            stopped: true,
        }
    }

    fn start(&mut self) {
        if std::mem::take(&mut self.stopped) {
            self.cluster.start("kube-apiserver");
        }
    }
}

impl Drop for ApiserverStopped {
    fn drop(&mut self) {
        if !std::mem::take(&mut self.stopped) {
            return;
        }
        if std::thread::panicking() {
            // A second panic here would abort; start it without the harness's assertions.
            let _ = Command::new(support::repo_root().join("testcluster/cluster.sh"))
                .args(["start", "kube-apiserver", &self.cluster.dir.to_string_lossy()])
                .status();
        } else {
            self.cluster.start("kube-apiserver");
        }
    }
}

#[tokio::test]
async fn a_rollout_that_completes_exits_0_with_the_final_counts() {
    let env = TestEnv::new("watch-done").await;
    // minReadySeconds makes each node take a moment, so the watch has progress to follow.
    rolled_out(
        &env,
        "done",
        merge(daemonset("agent"), json!({"spec": {"minReadySeconds": 2}})),
    )
    .await;
    patch(&env, new_image()).await;

    let out = env
        .kubectl_ds()
        .args(["rollout", "watch", "agent", "-n", &env.ns, "--timeout", "120s"])
        .run();

    assert_eq!(out.code, Some(0), "{out}");
    let last = last_line(&out);
    assert!(last.contains("daemonset/agent successfully rolled out"), "{out}");
    assert!(last.contains("updated 3/3 ready 3/3 available 3/3"), "{out}");
    assert!(
        out.stdout.contains("images agent=registry.example/agent:2.0"),
        "{out}"
    );
    let followed = out.stdout.lines().any(|l| {
        l.contains("waiting for the controller")
            || ["updated", "ready", "available"]
                .iter()
                .any(|c| (0..3).any(|n| l.contains(&format!("{c} {n}/3"))))
    });
    assert!(followed, "the watch printed no progress before the end:\n{out}");
    assert_line_mode(&out);
    let ds = env.daemonsets().get("agent").await.unwrap();
    let status = ds.status.unwrap();
    assert_eq!(
        status.observed_generation, ds.metadata.generation,
        "claimed done before the controller caught up"
    );
    assert_eq!(status.updated_number_scheduled, Some(3));
}

#[tokio::test]
async fn a_stuck_rollout_exits_1_after_the_progress_deadline_naming_the_node_and_reason() {
    let env = TestEnv::new("watch-stuck").await;
    rolled_out(&env, "stuck", daemonset("agent")).await;
    patch(&env, never_ready()).await;

    let out = env
        .kubectl_ds()
        .args([
            "rollout",
            "watch",
            "agent",
            "-n",
            &env.ns,
            "--progress-deadline",
            "10s",
            "--timeout",
            "120s",
        ])
        .run();

    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.elapsed >= Duration::from_secs(10),
        "gave up before the deadline: {out}"
    );
    let node = stuck_node(&env).await;
    let last = last_line(&out);
    assert!(
        last.contains("daemonset/agent rollout stalled: no progress for 10s (--progress-deadline)"),
        "{out}"
    );
    assert!(last.contains("updated 1/3"), "{out}");
    assert!(last.contains(&format!("held up by {node}: ")), "{out}");
    assert!(last.contains("not ready (readiness probe failing)"), "{out}");
    assert!(
        out.stdout.contains(&format!("node {node} (pod ")),
        "a detail line names the stuck node and its pod:\n{out}"
    );
    assert_line_mode(&out);
}

#[tokio::test]
async fn timeout_exits_1_with_the_counts_so_far() {
    let env = TestEnv::new("watch-timeout").await;
    rolled_out(&env, "timeout", daemonset("agent")).await;
    patch(&env, never_ready()).await;

    let out = env
        .kubectl_ds()
        .args([
            "rollout",
            "watch",
            "agent",
            "-n",
            &env.ns,
            // Long enough for the first full view (pods, nodes, events, revisions listed) even on
            // a busy machine running the whole suite; before it, only the status counts are known.
            "--timeout",
            "15s",
            "--progress-deadline",
            "10m",
        ])
        .run();

    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.elapsed >= Duration::from_secs(15) && out.elapsed < Duration::from_secs(70),
        "{out}"
    );
    let last = last_line(&out);
    assert!(
        last.contains("daemonset/agent timed out after 15s (--timeout) before the rollout finished"),
        "{out}"
    );
    assert!(last.contains("/3 ready ") && last.contains("held up by"), "{out}");
    assert!(!out.stdout.contains("stalled"), "a timeout is not a stall: {out}");
}

#[tokio::test]
async fn deleting_the_daemonset_during_the_watch_exits_3() {
    let env = TestEnv::new("watch-deleted").await;
    rolled_out(&env, "deleted", daemonset("agent")).await;
    patch(&env, never_ready()).await;

    let mut watch = Watch::start(
        &env,
        &["rollout", "watch", "agent", "-n", &env.ns, "--timeout", "120s"],
    );
    watch
        .wait_for_line("daemonset/agent updated", Duration::from_secs(30))
        .await;
    env.daemonsets()
        .delete("agent", &DeleteParams::default())
        .await
        .unwrap();
    let out = watch.finish(Duration::from_secs(30)).await;

    assert_eq!(out.code, Some(3), "{out}");
    assert!(
        out.stderr.contains("error: daemonset/agent in namespace")
            && out
                .stderr
                .contains("was deleted while its rollout was being watched (last seen: updated "),
        "{out}"
    );
    assert!(!out.stdout.contains("successfully"), "{out}");
}

#[tokio::test]
async fn on_delete_reports_pods_awaiting_deletion_and_finishes_once_they_are_deleted() {
    let env = TestEnv::new("watch-ondelete").await;
    let on_delete = json!({"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": null}}});
    rolled_out(&env, "ondelete", merge(daemonset("agent"), on_delete)).await;
    patch(&env, new_image()).await;

    let mut watch = Watch::start(
        &env,
        &["rollout", "watch", "agent", "-n", &env.ns, "--timeout", "120s"],
    );
    let header = watch.wait_for_line("OnDelete", Duration::from_secs(30)).await;
    assert!(
        header.contains("pods are replaced only when they are deleted"),
        "{header}"
    );
    let line = watch
        .wait_for_line("3 outdated pods awaiting deletion", Duration::from_secs(30))
        .await;
    assert!(line.contains("updated 0/3"), "{line}");
    assert!(line.contains("is outdated and awaits deletion"), "{line}");
    // The controller replaces nothing by itself: the watch keeps waiting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        watch.is_running(),
        "an OnDelete rollout is not done while pods are outdated"
    );

    env.pods()
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("app=agent"),
        )
        .await
        .unwrap();
    let out = watch.finish(Duration::from_secs(90)).await;

    assert_rolled_out_on_three_nodes(&out);
    assert_line_mode(&out);
}

/// Every "updated U/D ready R/D available A/D" line: no count above the desired number, and the
/// desired number at most the node count (a re-list that added to the old view would break both).
fn assert_counts_within(out: &Finished, nodes: u32) {
    for line in out.stdout.lines() {
        let Some(at) = line.find("updated ") else { continue };
        let words: Vec<&str> = line[at..].split_whitespace().collect();
        for pair in words.chunks(2).take(3) {
            let Some((n, d)) = pair.get(1).and_then(|c| c.split_once('/')) else {
                continue;
            };
            let (n, d): (u32, u32) = (
                n.parse().unwrap(),
                d.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().unwrap(),
            );
            assert!(d <= nodes, "desired count in {line:?}\n{out}");
            assert!(n <= d, "{} {n}/{d} in {line:?}\n{out}", pair[0]);
        }
    }
}

#[tokio::test]
async fn the_watch_survives_five_apiserver_restarts() {
    const RESTARTS: usize = 5;
    let env = TestEnv::new("watch-restart").await;
    // Pods that never become ready keep the rollout open until the test fixes the template.
    rolled_out(&env, "restart", merge(daemonset("agent"), never_ready())).await;

    let mut watch = Watch::start(
        &env,
        &["rollout", "watch", "agent", "-n", &env.ns, "--timeout", "300s"],
    );
    watch
        .wait_for_line("updated 3/3 ready 0/3 available 0/3", Duration::from_secs(30))
        .await;

    for round in 1..=RESTARTS {
        let mut apiserver = ApiserverStopped::stop(env.cluster);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            watch.is_running(),
            "the watch gave up while the apiserver was down (restart {round})"
        );
        apiserver.start();
        watch
            .wait_for_count("watch interrupted, reconnecting", round, Duration::from_secs(10))
            .await;
        watch
            .wait_for_count("watch resumed", round, Duration::from_secs(60))
            .await;
    }

    patch(
        &env,
        json!({"spec": {"template": {"metadata": {"labels": {STAGE: null}}}}}),
    )
    .await;
    let out = watch.finish(Duration::from_secs(150)).await;

    // Each outage also keeps kwok from renewing the node leases, so the node lifecycle controller
    // may have marked the nodes unreachable (NoSchedule) by now and the controller may want 0 pods:
    // the watch must end as the controller says, not at a fixed count.
    assert_eq!(out.code, Some(0), "{out}");
    assert!(last_line(&out).contains("successfully rolled out"), "{out}");
    for notice in ["watch interrupted", "watch resumed"] {
        assert_eq!(
            out.stdout.matches(notice).count(),
            RESTARTS,
            "one {notice:?} per restart:\n{out}"
        );
    }
    assert!(!out.stderr.contains("error"), "{out}");
    assert_counts_within(&out, 3);
    assert_line_mode(&out);
}

/// etcd's history is compacted past every resourceVersion the watch holds while the apiserver is
/// down, so each watch comes back to 410 Gone and must list again: the view is replaced, never
/// added to.
#[tokio::test]
async fn the_watch_lists_again_after_etcd_compaction() {
    let env = TestEnv::new("watch-compact").await;
    rolled_out(&env, "compact", merge(daemonset("agent"), never_ready())).await;

    let mut watch = Watch::start(
        &env,
        &[
            "rollout",
            "watch",
            "agent",
            "-n",
            &env.ns,
            "--timeout",
            "180s",
            "-v",
        ],
    );
    watch
        .wait_for_line("updated 3/3 ready 0/3 available 0/3", Duration::from_secs(30))
        .await;

    let mut apiserver = ApiserverStopped::stop(env.cluster);
    let revision = env.cluster.compact_etcd();
    apiserver.start();
    watch
        .wait_for_line("watch resumed", Duration::from_secs(60))
        .await;

    patch(
        &env,
        json!({"spec": {"template": {"metadata": {"labels": {STAGE: null}}}}}),
    )
    .await;
    let out = watch.finish(Duration::from_secs(150)).await;

    assert_rolled_out_on_three_nodes(&out);
    assert!(
        out.stderr
            .contains("resourceVersion too old (410 Gone); listing again"),
        "compacted at revision {revision}, yet no watch saw 410 Gone:\n{out}"
    );
    assert_counts_within(&out, 3);
    assert_line_mode(&out);
}
