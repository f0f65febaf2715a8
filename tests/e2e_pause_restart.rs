//! `pause`, `resume` and `restart` on the real control plane: what the DaemonSet controller does
//! (and does not do) after each, and writes that never overwrite someone else's change.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::{Value, json};
use support::{
    AGENT_V1, AGENT_V2, NodeSpec, PAUSE_ANNOTATION, TestEnv, create_rolled_out, daemonset, merge,
    patch_daemonset, pod_images, pods_by_node, run_with_edit_before_write, set_image, update_strategy,
    wait_rolled_out,
};

fn annotation(ds: &DaemonSet, key: &str) -> Option<String> {
    ds.metadata.annotations.as_ref().and_then(|a| a.get(key).cloned())
}

async fn pod_uids(env: &TestEnv, name: &str) -> BTreeSet<String> {
    pods_by_node(env, name)
        .await
        .values()
        .flatten()
        .filter_map(|p| p.metadata.uid.clone())
        .collect()
}

#[tokio::test]
async fn pause_holds_a_pending_rollout_and_resume_lets_it_finish() {
    let env = TestEnv::new("pause").await;
    let before = create_rolled_out(&env, &["pause-a", "pause-b"], daemonset("agent")).await;
    let original = update_strategy(&before);
    assert_eq!(
        original,
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    let original_pods = pod_uids(&env, "agent").await;

    let resume_hint = format!("kubectl ds resume agent -n {}", env.ns);
    env.kubectl_ds()
        .args(["pause", "agent", "-n", &env.ns])
        .assert()
        .success()
        .stdout(
            contains("daemonset.apps/agent paused: its update strategy RollingUpdate (maxUnavailable 1, maxSurge 0) is saved")
                .and(contains("pods are replaced only when they are deleted"))
                .and(contains("new nodes still get pods, created from the CURRENT template"))
                .and(contains("`kubectl rollout status` refuses to run"))
                .and(contains(format!("Resume with: {resume_hint}"))),
        );
    let paused = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(update_strategy(&paused), json!({"type": "OnDelete"}));
    let record: Value = serde_json::from_str(&annotation(&paused, PAUSE_ANNOTATION).unwrap()).unwrap();
    assert_eq!(record["updateStrategy"], original);

    env.kubectl_ds()
        .args(["pause", "agent", "-n", &env.ns])
        .assert()
        .success()
        .stdout(contains("daemonset.apps/agent is already paused (since 20").and(contains(&resume_hint)));
    // What the output promises about kubectl rollout status.
    let status = env
        .cluster
        .kubectl()
        .args(["rollout", "status", "ds/agent", "-n", &env.ns])
        .output()
        .unwrap();
    assert!(!status.status.success());
    assert!(String::from_utf8_lossy(&status.stderr).contains("only available for RollingUpdate"));

    // A template change while paused does not roll out.
    set_image(&env, "agent", AGENT_V2, None).await;
    env.wait_daemonset("agent", Duration::from_secs(60), |_| true)
        .await;
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        let ds = env.daemonsets().get("agent").await.unwrap();
        let s = ds.status.unwrap();
        assert_eq!(
            s.updated_number_scheduled.unwrap_or(0),
            0,
            "a pod was updated while paused"
        );
        assert_eq!(pod_images(&env, "agent").await, [AGENT_V1, AGENT_V1]);
        assert_eq!(
            pod_uids(&env, "agent").await,
            original_pods,
            "a pod was replaced while paused"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A new node gets a pod from the current template, paused or not.
    env.create_node(NodeSpec::new("pause-c")).await;
    support::wait_until("a pod on pause-c", Duration::from_secs(60), || async {
        pods_by_node(&env, "agent").await.contains_key("pause-c")
    })
    .await;
    let on_c = &pods_by_node(&env, "agent").await["pause-c"][0];
    assert_eq!(
        on_c.spec.as_ref().unwrap().containers[0].image.as_deref(),
        Some(AGENT_V2)
    );

    env.kubectl_ds()
        .args(["resume", "agent", "-n", &env.ns])
        .assert()
        .success()
        .stdout(contains(
            "daemonset.apps/agent resumed: update strategy RollingUpdate (maxUnavailable 1, maxSurge 0) restored",
        ));
    let resumed = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(
        update_strategy(&resumed),
        original,
        "exactly the recorded strategy"
    );
    assert_eq!(annotation(&resumed, PAUSE_ANNOTATION), None);

    wait_rolled_out(&env, "agent", 3).await;
    assert_eq!(pod_images(&env, "agent").await, [AGENT_V2, AGENT_V2, AGENT_V2]);

    env.kubectl_ds()
        .args(["resume", "agent", "-n", &env.ns])
        .assert()
        .success()
        .stdout("daemonset.apps/agent is not paused\n");
}

#[tokio::test]
async fn pause_refuses_on_delete_it_did_not_set_and_resume_refuses_an_unreadable_record() {
    let env = TestEnv::new("pause-refuse").await;
    env.create_node(NodeSpec::new("refuse-a")).await;
    let on_delete = json!({"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": null}}});
    env.create_daemonset(merge(daemonset("manual"), on_delete.clone()))
        .await;
    env.create_daemonset(merge(
        merge(daemonset("broken"), on_delete),
        json!({"metadata": {"annotations": {PAUSE_ANNOTATION: "{not json"}}}),
    ))
    .await;
    let manual = wait_rolled_out(&env, "manual", 1).await;
    let broken = wait_rolled_out(&env, "broken", 1).await;

    env.kubectl_ds()
        .args(["pause", "manual", "-n", &env.ns])
        .assert()
        .code(3)
        .stdout("")
        .stderr(
            contains("daemonset.apps/manual uses the OnDelete update strategy, which `kubectl ds pause` did not set")
                .and(contains("no rollout to pause"))
                .and(contains("nothing was changed")),
        );
    env.kubectl_ds()
        .args(["resume", "manual", "-n", &env.ns])
        .assert()
        .success()
        .stdout(contains("daemonset.apps/manual is not paused"));

    env.kubectl_ds()
        .args(["resume", "broken", "-n", &env.ns])
        .assert()
        .code(3)
        .stderr(
            contains("daemonset.apps/broken is paused, but the update strategy to restore")
                .and(contains("cannot be read"))
                .and(contains("nothing was changed"))
                .and(contains(format!(
                    "kubectl annotate ds broken -n {} {PAUSE_ANNOTATION}-",
                    env.ns
                ))),
        );
    env.kubectl_ds()
        .args(["pause", "broken", "-n", &env.ns])
        .assert()
        .code(3)
        .stderr(contains("cannot be read"));

    for (name, read) in [("manual", &manual), ("broken", &broken)] {
        let now = env.daemonsets().get(name).await.unwrap();
        assert_eq!(
            now.metadata.resource_version, read.metadata.resource_version,
            "{name} was written"
        );
        assert_eq!(update_strategy(&now), json!({"type": "OnDelete"}));
    }

    env.kubectl_ds()
        .args(["pause", "agnet", "-n", &env.ns])
        .assert()
        .code(3)
        .stderr(contains("daemonset \"agnet\" not found"));
    env.kubectl_ds()
        .args(["restart", "manual", "-A"])
        .assert()
        .code(2)
        .stderr(contains("use -n NAMESPACE instead of -A"));
}

#[tokio::test]
async fn pause_refuses_to_overwrite_a_change_made_after_it_read_the_daemonset() {
    let env = TestEnv::new("pause-conflict").await;
    create_rolled_out(&env, &["pconf-a"], daemonset("agent")).await;

    let run = run_with_edit_before_write(&env, &["pause", "agent", "-n", &env.ns], || async {
        patch_daemonset(&env, "agent", json!({"metadata": {"labels": {"team": "other"}}})).await;
    })
    .await;
    assert_eq!(run.code, Some(3), "{run}");
    assert!(
        run.stderr.contains("changed since it was read (resourceVersion "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("run `kubectl ds pause agent -n {}` again", env.ns)),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("paused"), "{}", run.stdout);
    let ds = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(update_strategy(&ds)["type"], "RollingUpdate");
    assert_eq!(annotation(&ds, PAUSE_ANNOTATION), None);
    assert_eq!(ds.metadata.labels.unwrap()["team"], "other");
}

#[tokio::test]
async fn pause_goes_through_when_only_the_status_changed_after_the_read() {
    let env = TestEnv::new("pause-status").await;
    let read = create_rolled_out(&env, &["pstat-a"], daemonset("agent")).await;

    let args = ["pause", "agent", "-n", &env.ns, "-v"];
    let run = run_with_edit_before_write(&env, &args, || async {
        // What the controller does all the time during a rollout: a status-only write.
        let observed = read.status.as_ref().unwrap().observed_generation.unwrap();
        env.daemonsets()
            .patch_status(
                "agent",
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(json!({"status": {"observedGeneration": observed - 1}})),
            )
            .await
            .expect("patch status");
    })
    .await;
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout.contains("daemonset.apps/agent paused"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("only its status changed since it was read; writing again"),
        "{}",
        run.stderr
    );
    let ds = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(update_strategy(&ds), json!({"type": "OnDelete"}));
    assert!(annotation(&ds, PAUSE_ANNOTATION).is_some());
}

#[tokio::test]
async fn restart_replaces_every_pod() {
    let env = TestEnv::new("restart").await;
    create_rolled_out(&env, &["restart-a", "restart-b"], daemonset("agent")).await;
    let before = pod_uids(&env, "agent").await;
    assert_eq!(before.len(), 2);

    env.kubectl_ds()
        .args(["restart", "agent", "-n", &env.ns])
        .assert()
        .success()
        .stdout("daemonset.apps/agent restarted\n");
    let ds = env.daemonsets().get("agent").await.unwrap();
    let template_annotations = ds.spec.unwrap().template.metadata.unwrap().annotations.unwrap();
    let at = template_annotations["kubectl.kubernetes.io/restartedAt"].clone();
    at.parse::<k8s_openapi::jiff::Timestamp>()
        .expect("restartedAt is RFC 3339");

    wait_rolled_out(&env, "agent", 2).await;
    let pods: Vec<_> = pods_by_node(&env, "agent")
        .await
        .into_values()
        .flatten()
        .collect();
    assert_eq!(pods.len(), 2);
    for pod in &pods {
        let uid = pod.metadata.uid.clone().unwrap();
        assert!(!before.contains(&uid), "pod {uid} was not replaced");
        let annotations = pod.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(annotations.get("kubectl.kubernetes.io/restartedAt"), Some(&at));
    }
}

/// `-o name` prints only `daemonset.apps/NAME` on success, as kubectl's rollout commands do,
/// for every write command and for the idempotent answers too.
#[tokio::test]
async fn write_commands_print_only_the_object_with_output_name() {
    let env = TestEnv::new("names").await;
    create_rolled_out(&env, &["names-a"], daemonset("agent")).await;
    for args in [
        &["pause", "agent"][..],
        &["pause", "agent"],
        &["resume", "agent"],
        &["resume", "agent"],
        &["restart", "agent"],
    ] {
        env.kubectl_ds()
            .args(args)
            .args(["-n", &env.ns, "-o", "name"])
            .assert()
            .success()
            .stdout("daemonset.apps/agent\n");
    }
    let ds = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(annotation(&ds, PAUSE_ANNOTATION), None, "resumed");
    let template_annotations = ds.spec.unwrap().template.metadata.unwrap().annotations.unwrap();
    assert!(template_annotations.contains_key("kubectl.kubernetes.io/restartedAt"));

    // -o json makes no sense for a write: a usage error, and nothing is written.
    let before = env.daemonsets().get("agent").await.unwrap();
    env.kubectl_ds()
        .args(["pause", "agent", "-n", &env.ns, "-o", "json"])
        .assert()
        .code(2)
        .stderr(contains("does not support -o json"));
    // (The controller is still rolling the restart out, so only the status may have moved.)
    let after = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(before.metadata.generation, after.metadata.generation);
    assert_eq!(annotation(&after, PAUSE_ANNOTATION), None);
}
