//! One test per bug found by the end-to-end and differential tests, on the real control plane.
//! (Bugs in the pure engine have their regression test next to the code, e.g.
//! `engine::eligibility::tests::untolerated_no_execute_taint_is_the_first_reason`.)

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};
use serde_json::{Value, json};
use support::{NodeSpec, TestEnv, daemonset, merge, wait_until};

const SETTLE: Duration = Duration::from_secs(150);

fn rules(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{}: {}",
                r["rule"].as_str().unwrap_or(""),
                r["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// A DaemonSet pod Pending on a host port that a pod of ANOTHER namespace holds. `status DS`
/// looks at every pod bound to the node and names the conflict; `why-not NODE -n NS` (and a
/// snapshot taken with `-n NS`) only reads the pods of NS, so the local check finds no conflict
/// and only the scheduler's message is left.
#[tokio::test]
async fn why_not_names_a_host_port_held_by_another_namespace() {
    let env = TestEnv::new("r-hostport").await;
    env.create_node(NodeSpec::new("rport-a")).await;
    let other = format!("{}-other", env.ns);
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": other}})).unwrap(),
        )
        .await
        .expect("create namespace");
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), &other);
    let blocker: Pod = serde_json::from_value(json!({
        "metadata": {"name": "port-blocker"},
        "spec": {"nodeName": "rport-a", "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "web", "image": "registry.example/web:1.0",
                                 "ports": [{"containerPort": 8080, "hostPort": 8080}]}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &blocker)
        .await
        .expect("create blocker");
    env.create_daemonset(merge(
        daemonset("proxy"),
        json!({"spec": {"template": {"spec": {"containers": [{
            "name": "agent", "image": "registry.example/agent:1.0",
            "ports": [{"containerPort": 8080, "hostPort": 8080}]
        }]}}}}),
    ))
    .await;
    wait_until("the scheduler to reject the proxy pod", SETTLE, || async {
        env.pods().list(&Default::default()).await.is_ok_and(|l| {
            l.items.iter().any(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.type_ == "PodScheduled" && c.status == "False")
                    })
            })
        })
    })
    .await;

    let status = env
        .kubectl_ds()
        .args(["status", "proxy", "-n", &env.ns, "-o", "json"])
        .run()
        .json();
    let from_status = &status["nodes"][0];
    assert_eq!(from_status["verdict"], "pending", "{from_status:#}");
    assert!(
        rules(from_status)
            .iter()
            .any(|r| r.starts_with("host-port:") && r.contains("port-blocker")),
        "status names the conflict: {:#?}",
        rules(from_status)
    );

    let why_not = env
        .kubectl_ds()
        .args(["why-not", "rport-a", "-n", &env.ns, "-o", "json"])
        .run()
        .json();
    let from_why_not = &why_not["items"][0];
    assert_eq!(from_why_not["verdict"], "pending", "{from_why_not:#}");
    assert_eq!(
        rules(from_why_not),
        rules(from_status),
        "why-not -n NS and status DS disagree on the reasons"
    );
}
