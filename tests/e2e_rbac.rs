//! RBAC end to end: deploy/rbac.yaml applied to the real apiserver (RBAC on), users with client
//! certificates bound to nothing, to the read-only ClusterRole, to the operator role, or to a
//! namespace-only Role; every read and write command run as each of them. Reads work for
//! readers, writes need the operator role, and every refusal is a clear message that names the
//! verb and resource it needs, exit code 3, and never a panic.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use support::{Finished, TestEnv, create_rolled_out, daemonset, patch_daemonset, wait_rolled_out};

/// Runs the admin kubectl and fails the test when it fails.
fn admin(env: &TestEnv, args: &[&str]) {
    let out = env.cluster.kubectl().args(args).output().expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_never_crashes(what: &str, run: &Finished) {
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!run.stderr.contains(bad), "{what} crashed:\n{run}");
    }
}

fn assert_ok(what: &str, run: &Finished) {
    assert_never_crashes(what, run);
    assert_eq!(run.code, Some(0), "{what} should work:\n{run}");
}

/// Refused: exit 3, one `error:` message that says forbidden and names what is needed.
fn assert_forbidden(what: &str, run: &Finished, needs: &str) {
    assert_never_crashes(what, run);
    assert_eq!(run.code, Some(3), "{what} should be refused:\n{run}");
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains("forbidden"),
        "{what}: not a forbidden error:\n{run}"
    );
    assert!(
        run.stderr.contains(&format!("needs `{needs}`")),
        "{what}: the error should say it needs `{needs}`:\n{run}"
    );
    assert!(
        run.stdout.is_empty(),
        "{what}: nothing on stdout when refused:\n{run}"
    );
}

struct Users {
    nobody: PathBuf,
    reader: PathBuf,
    operator: PathBuf,
    ns_reader: PathBuf,
}

fn users(env: &TestEnv) -> Users {
    admin(
        env,
        &[
            "apply",
            "-f",
            &support::repo_root().join("deploy/rbac.yaml").to_string_lossy(),
        ],
    );
    let ns = env.ns.as_str();
    admin(
        env,
        &[
            "create",
            "clusterrolebinding",
            "rbac-reader",
            "--clusterrole=kubectl-ds-reader",
            "--user=rbac-reader",
        ],
    );
    // The README's recipe for an operator: read everywhere, write in one namespace.
    admin(
        env,
        &[
            "create",
            "clusterrolebinding",
            "rbac-operator-read",
            "--clusterrole=kubectl-ds-reader",
            "--user=rbac-operator",
        ],
    );
    admin(
        env,
        &[
            "create",
            "rolebinding",
            "rbac-operator",
            "-n",
            ns,
            "--clusterrole=kubectl-ds-operator",
            "--user=rbac-operator",
        ],
    );
    // Someone who may read the workloads of one namespace and nothing cluster-wide.
    admin(
        env,
        &[
            "create",
            "role",
            "ds-namespace-read",
            "-n",
            ns,
            "--verb=get,list,watch",
            "--resource=pods,events,daemonsets.apps,controllerrevisions.apps",
        ],
    );
    admin(
        env,
        &[
            "create",
            "rolebinding",
            "rbac-ns-reader",
            "-n",
            ns,
            "--role=ds-namespace-read",
            "--user=rbac-ns-reader",
        ],
    );
    Users {
        nobody: env.cluster.user_kubeconfig("rbac-nobody", &[]),
        reader: env.cluster.user_kubeconfig("rbac-reader", &[]),
        operator: env.cluster.user_kubeconfig("rbac-operator", &[]),
        ns_reader: env.cluster.user_kubeconfig("rbac-ns-reader", &[]),
    }
}

#[tokio::test]
async fn every_command_as_users_with_and_without_the_roles() {
    let env = TestEnv::new("rbac").await;
    create_rolled_out(&env, &["rbac-a", "rbac-b"], daemonset("agent")).await;
    patch_daemonset(
        &env,
        "agent",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "registry.example/agent:2.0"}]}}}}),
    )
    .await;
    wait_rolled_out(&env, "agent", 2).await;
    let users = users(&env);
    // RBAC bindings take effect through the authorizer's informers; wait until the reader can read.
    support::wait_until("the reader's binding", Duration::from_secs(30), || async {
        env.kubectl_ds()
            .kubeconfig(&users.reader)
            .args(["status", "-A"])
            .run()
            .code
            == Some(0)
    })
    .await;

    let ns = env.ns.as_str();
    let reads: [(&str, Vec<&str>); 5] = [
        ("status -A", vec!["status", "-A"]),
        ("status DS", vec!["status", "agent", "-n", ns]),
        ("why-not NODE", vec!["why-not", "rbac-a", "-n", ns]),
        ("history DS", vec!["history", "agent", "-n", ns]),
        ("snapshot", vec!["snapshot", "-n", ns]),
    ];

    // Bound to nothing: everything is refused, and the message names the first request refused.
    for (what, args) in &reads {
        let run = env.kubectl_ds().kubeconfig(&users.nobody).args(args).run();
        assert_never_crashes(what, &run);
        assert_eq!(run.code, Some(3), "{what} as nobody:\n{run}");
        assert!(
            run.stderr.contains("forbidden") && run.stderr.contains("needs `"),
            "{what} as nobody:\n{run}"
        );
    }
    assert_forbidden(
        "status -A as nobody",
        &env.kubectl_ds()
            .kubeconfig(&users.nobody)
            .args(["status", "-A"])
            .run(),
        "list daemonsets",
    );
    assert_forbidden(
        "history as nobody",
        &env.kubectl_ds()
            .kubeconfig(&users.nobody)
            .args(["history", "agent", "-n", ns])
            .run(),
        "get daemonsets",
    );
    for args in [["restart", "agent", "-n", ns], ["pause", "agent", "-n", ns]] {
        let run = env.kubectl_ds().kubeconfig(&users.nobody).args(args).run();
        assert_forbidden(&format!("{} as nobody", args[0]), &run, "get daemonsets");
    }

    // The read-only ClusterRole: every read works, every write is refused for want of patch.
    for (what, args) in &reads {
        let run = env.kubectl_ds().kubeconfig(&users.reader).args(args).run();
        assert_ok(&format!("{what} as reader"), &run);
    }
    let status = env
        .kubectl_ds()
        .kubeconfig(&users.reader)
        .args(["status", "agent", "-n", ns])
        .run();
    assert!(
        status.stdout.contains("rbac-a") && status.stdout.contains("running"),
        "{status}"
    );
    let history = env
        .kubectl_ds()
        .kubeconfig(&users.reader)
        .args(["history", "agent", "-n", ns])
        .run();
    assert!(history.stdout.contains("agent:2.0"), "{history}");
    let snapshot = env
        .kubectl_ds()
        .kubeconfig(&users.reader)
        .args(["snapshot", "-n", ns])
        .run();
    assert!(
        snapshot.stdout.contains("\"kind\": \"List\"") || snapshot.stdout.contains("kind: List"),
        "{snapshot}"
    );
    for args in [["restart", "agent", "-n", ns], ["pause", "agent", "-n", ns]] {
        let run = env.kubectl_ds().kubeconfig(&users.reader).args(args).run();
        assert_forbidden(&format!("{} as reader", args[0]), &run, "patch daemonsets");
    }
    let unchanged = env.daemonsets().get("agent").await.expect("get agent");
    assert_eq!(
        unchanged
            .spec
            .as_ref()
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.type_.as_deref()),
        Some("RollingUpdate"),
        "a refused pause changed nothing"
    );

    // Namespace-only read: what needs only the namespace works; what needs the nodes (which are
    // cluster-scoped) or every namespace is refused with what is missing.
    assert_ok(
        "history as namespace reader",
        &env.kubectl_ds()
            .kubeconfig(&users.ns_reader)
            .args(["history", "agent", "-n", ns])
            .run(),
    );
    assert_forbidden(
        "status -A as namespace reader",
        &env.kubectl_ds()
            .kubeconfig(&users.ns_reader)
            .args(["status", "-A"])
            .run(),
        "list daemonsets",
    );
    for (what, args, needs) in [
        ("status DS", &reads[1].1, "list nodes"),
        ("why-not NODE", &reads[2].1, "get nodes"),
        ("snapshot", &reads[4].1, "list nodes"),
    ] {
        let run = env.kubectl_ds().kubeconfig(&users.ns_reader).args(args).run();
        assert_forbidden(&format!("{what} as namespace reader"), &run, needs);
    }
    for args in [["restart", "agent", "-n", ns], ["pause", "agent", "-n", ns]] {
        let run = env.kubectl_ds().kubeconfig(&users.ns_reader).args(args).run();
        assert_forbidden(
            &format!("{} as namespace reader", args[0]),
            &run,
            "patch daemonsets",
        );
    }

    // The operator role in the DaemonSet's namespace: the writes go through.
    for args in [
        ["restart", "agent", "-n", ns],
        ["pause", "agent", "-n", ns],
        ["resume", "agent", "-n", ns],
    ] {
        let run = env.kubectl_ds().kubeconfig(&users.operator).args(args).run();
        assert_ok(&format!("{} as operator", args[0]), &run);
    }
}
