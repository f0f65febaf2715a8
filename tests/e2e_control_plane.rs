//! The whole chain on the real control plane: the DaemonSet controller, the scheduler and kwok
//! bring a DaemonSet up on the nodes it tolerates.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{NodeSpec, TestEnv, daemonset, merge, pods_by_node};

#[tokio::test]
async fn daemonset_lands_on_untainted_nodes_only() {
    let env = TestEnv::new("chain").await;
    env.create_node(NodeSpec::new("chain-a")).await;
    env.create_node(NodeSpec::new("chain-b")).await;
    env.create_node(NodeSpec::new("chain-c").taint("dedicated", "db", "NoSchedule"))
        .await;
    env.create_daemonset(merge(daemonset("agent"), json!({}))).await;

    let ds = env
        .wait_daemonset("agent", Duration::from_secs(90), |ds| {
            let s = ds.status.as_ref().unwrap();
            s.desired_number_scheduled == 2 && s.number_ready == 2
        })
        .await;
    let status = ds.status.unwrap();
    assert_eq!(status.current_number_scheduled, 2);
    assert_eq!(status.number_misscheduled, 0);

    let by_node = pods_by_node(&env, "agent").await;
    let nodes: Vec<&str> = by_node.keys().map(String::as_str).collect();
    assert_eq!(nodes, ["chain-a", "chain-b"], "pods: {by_node:?}");
    for pods in by_node.values() {
        assert_eq!(pods.len(), 1);
        let phase = pods[0].status.as_ref().and_then(|s| s.phase.as_deref());
        assert_eq!(phase, Some("Running"));
    }
}

#[tokio::test]
async fn failure_stages_make_pods_unready_and_nodes_not_ready() {
    let env = TestEnv::new("stages").await;
    env.create_node(NodeSpec::new("stages-a")).await;
    env.create_node(NodeSpec::new("stages-b").label("kubectl-ds.test/stage", "not-ready"))
        .await;

    // The node lifecycle controller taints the NotReady node (NoSchedule, and NoExecute, in
    // either order); DaemonSet pods tolerate only the NoExecute one, so the node drops out of
    // desiredNumberScheduled. The DaemonSet comes after the NoSchedule taint: a pod that lands first keeps running there (NoSchedule evicts nothing), and the
    // controller does not resync a DaemonSet when a node it already runs on gains a NoSchedule
    // taint, so its counters would depend on who won the race.
    support::wait_until(
        "stages-b to be tainted not-ready",
        Duration::from_secs(90),
        || async {
            let n = env.nodes().get("stages-b").await.unwrap();
            n.spec
                .and_then(|s| s.taints)
                .unwrap_or_default()
                .iter()
                .any(|t| t.key == "node.kubernetes.io/not-ready" && t.effect == "NoSchedule")
        },
    )
    .await;
    // The API shows the taint before the controller's node cache may hold it (on a busy machine
    // by seconds): a probe DaemonSet, made anew until the controller counts the node out, shows
    // that it does.
    support::wait_until(
        "the DaemonSet controller to see stages-b's taint",
        Duration::from_secs(90),
        || async {
            env.create_daemonset(daemonset("probe")).await;
            let seen = env
                .wait_daemonset("probe", Duration::from_secs(30), |_| true)
                .await;
            let counted_out = seen
                .status
                .as_ref()
                .is_some_and(|s| s.desired_number_scheduled == 1);
            let gone = env.daemonsets().delete("probe", &Default::default()).await;
            gone.expect("delete the probe DaemonSet");
            support::wait_until("the probe to be gone", Duration::from_secs(30), || async {
                env.daemonsets().get_opt("probe").await.ok().flatten().is_none()
            })
            .await;
            counted_out
        },
    )
    .await;
    env.create_daemonset(merge(
        daemonset("crashy"),
        json!({"spec": {"template": {"metadata": {"labels": {"kubectl-ds.test/stage": "crash-loop"}}}}}),
    ))
    .await;
    let ds = env
        .wait_daemonset("crashy", Duration::from_secs(90), |ds| {
            let s = ds.status.as_ref().unwrap();
            s.desired_number_scheduled == 1 && s.current_number_scheduled == 1
        })
        .await;
    assert_eq!(
        ds.status.unwrap().number_ready,
        0,
        "a crash-looping pod is never ready"
    );
    let pods = pods_by_node(&env, "crashy").await;
    let pod = &pods["stages-a"][0];
    let waiting = pod.status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0]
        .state
        .as_ref()
        .unwrap()
        .waiting
        .as_ref()
        .unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("CrashLoopBackOff"));
}
