//! The command line against saved snapshots: what a user sees, exit codes, and errors. No cluster.

use assert_cmd::Command;
use predicates::prelude::*;

const EXAMPLE: &str = "examples/snapshot.json";

/// The binary with the environment that changes output removed (as bat's tests do).
fn ds() -> Command {
    let mut c = Command::cargo_bin("kubectl-ds").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .env_remove("TERM")
        .env("KUBECONFIG", "/nonexistent/kubeconfig");
    c
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = ds().args(args).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn verdict_of<'a>(doc: &'a serde_json::Value, ds: &str) -> &'a serde_json::Value {
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["daemonset"] == ds)
        .unwrap_or_else(|| panic!("no {ds} in {doc}"))
}

#[test]
fn why_not_explains_every_daemonset_on_a_gpu_node() {
    ds().args(["why-not", "gpu-node-2", "--snapshot", EXAMPLE])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "NAMESPACE      DAEMONSET              VERDICT        POD",
        ))
        .stdout(predicate::str::contains("nvidia-device-plugin   pending"))
        .stdout(predicate::str::contains(
            "Insufficient cpu: the pod requests 2 but only 900m",
        ))
        .stdout(predicate::str::contains(
            "taint nvidia.com/gpu=present:NoSchedule is not tolerated",
        ))
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn why_not_json_follows_the_contract() {
    let doc = json(&["why-not", "gpu-node-2", "--snapshot", EXAMPLE, "-o", "json"]);
    assert_eq!(doc["kind"], "VerdictList");
    let plugin = verdict_of(&doc, "nvidia-device-plugin");
    assert_eq!(plugin["namespace"], "gpu-operator");
    assert_eq!(plugin["node"], "gpu-node-2");
    assert_eq!(plugin["verdict"], "pending");
    assert!(
        plugin["pod"]
            .as_str()
            .unwrap()
            .starts_with("nvidia-device-plugin-")
    );
    let rules: Vec<&str> = plugin["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules.first(), Some(&"resources"), "{rules:?}");
    assert!(rules.contains(&"scheduler"), "{rules:?}");
    let exporter = verdict_of(&doc, "node-exporter");
    assert_eq!(exporter["verdict"], "not-eligible");
    assert_eq!(exporter["pod"], serde_json::Value::Null);
    assert_eq!(exporter["reasons"][0]["rule"], "taint");
    let agent = verdict_of(&doc, "log-agent");
    assert_eq!(agent["reasons"][0]["rule"], "node-affinity");
}

#[test]
fn why_not_reports_not_ready_crash_loops_and_misscheduled_pods() {
    let cordoned = json(&["why-not", "worker-3", "--snapshot", EXAMPLE, "-o", "json"]);
    assert_eq!(
        verdict_of(&cordoned, "node-exporter")["verdict"],
        "running",
        "cordoned nodes keep DaemonSet pods"
    );
    let crash = verdict_of(&cordoned, "log-agent");
    assert_eq!(crash["verdict"], "not-ready");
    assert_eq!(crash["reasons"][0]["rule"], "container");
    assert!(
        crash["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("CrashLoopBackOff")
    );

    let not_ready = json(&["why-not", "worker-4", "--snapshot", EXAMPLE, "-o", "json"]);
    let exporter = verdict_of(&not_ready, "node-exporter");
    assert_eq!(exporter["verdict"], "misscheduled");
    assert_eq!(exporter["shouldRun"], false);
    assert_eq!(exporter["shouldContinueRunning"], true);
    let messages: Vec<&str> = exporter["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("node.kubernetes.io/not-ready:NoSchedule")),
        "{messages:?}"
    );
    // The next move: the pod is on the current revision and only NoSchedule is untolerated.
    assert_eq!(exporter["next"]["action"], "none", "{}", exporter["next"]);
    assert!(
        exporter["next"]["why"].as_str().unwrap().contains("stays"),
        "{}",
        exporter["next"]
    );
    assert!(
        exporter["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "node-not-ready")
    );
}

#[test]
fn why_not_for_one_daemonset_exits_zero_when_it_is_fine() {
    ds().args([
        "why-not",
        "worker-1",
        "kube-proxy",
        "--snapshot",
        EXAMPLE,
        "-n",
        "kube-system",
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains("kube-proxy   running"));
}

#[test]
fn explain_lists_the_controllers_default_tolerations() {
    ds().args([
        "why-not",
        "gpu-node-1",
        "node-exporter",
        "--snapshot",
        EXAMPLE,
        "--explain",
    ])
    .assert()
    .stdout(predicate::str::contains(
        "controller adds toleration node.kubernetes.io/unschedulable:NoSchedule",
    ))
    .stdout(predicate::str::contains("FAIL taint"));
}

#[test]
fn status_groups_nodes_by_verdict_and_reason() {
    ds().args(["status", "node-exporter", "--snapshot", EXAMPLE])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("DaemonSet monitoring/node-exporter"))
        .stdout(
            predicate::str::is_match(r"2\s+not-eligible\s+taint nvidia.com/gpu=present:NoSchedule").unwrap(),
        )
        .stdout(predicate::str::contains("gpu-node-1, gpu-node-2"))
        .stdout(predicate::str::is_match(r"1\s+misscheduled").unwrap())
        // The controller had not re-synced after worker-4 went NotReady; say so.
        .stdout(predicate::str::contains(
            "now give desired 3, misscheduled 1; its status still says 4 and 0",
        ));
}

#[test]
fn status_lists_daemonsets_with_their_counters() {
    ds().args(["status", "--snapshot", EXAMPLE, "--no-headers"])
        .assert()
        .stdout(
            predicate::str::is_match(r"(?m)^gpu-operator\s+nvidia-device-plugin\s+2\s+2\s+1\s+2\s+1\s+0")
                .unwrap(),
        )
        .stdout(predicate::str::contains("NAMESPACE").not());
    let doc = json(&["status", "--snapshot", EXAMPLE, "-o", "json", "-n", "monitoring"]);
    assert_eq!(doc["items"].as_array().unwrap().len(), 1);
    assert_eq!(doc["items"][0]["desired"], 4, "the controller's own counters");
}

#[test]
fn status_names_daemonsets_with_output_name() {
    ds().args(["status", "--snapshot", EXAMPLE, "-o", "name"])
        .assert()
        .stdout(
            "daemonset.apps/nvidia-device-plugin\ndaemonset.apps/kube-proxy\n\
             daemonset.apps/log-agent\ndaemonset.apps/node-exporter\n",
        );
    ds().args(["status", "--snapshot", EXAMPLE, "-o", "name", "-n", "nowhere"])
        .assert()
        .stdout("");
    // The exit code still tells whether the DaemonSet is healthy.
    ds().args(["status", "node-exporter", "--snapshot", EXAMPLE, "-o", "name"])
        .assert()
        .code(1)
        .stdout("daemonset.apps/node-exporter\n");
}

#[test]
fn unknown_node_and_daemonset_name_the_closest() {
    ds().args(["why-not", "gpu-nod-2", "--snapshot", EXAMPLE])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("node \"gpu-nod-2\" not found"))
        .stderr(predicate::str::contains("did you mean gpu-node-2"));
    ds().args(["status", "node-exportr", "--snapshot", EXAMPLE])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("did you mean node-exporter"));
}

#[test]
fn malformed_and_missing_snapshots_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("snap.json");
    std::fs::write(&bad, "{\"kind\": \"List\", \"items\": [\n  {\"kind\": \"Node\",").unwrap();
    ds().args(["why-not", "n1", "--snapshot", bad.to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("snap.json"))
        .stderr(predicate::str::contains("line 2"))
        .stderr(predicate::str::contains("panicked").not());
    ds().args(["why-not", "n1", "--snapshot", "/nonexistent/snap.json"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("does not exist"));
}

#[test]
fn snapshot_from_stdin() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/", "examples/snapshot.json")).unwrap();
    ds().args([
        "why-not",
        "worker-1",
        "node-exporter",
        "--snapshot",
        "-",
        "-n",
        "monitoring",
        "-o",
        "json",
    ])
    .write_stdin(text)
    .assert()
    .code(0)
    .stdout(predicate::str::contains("\"verdict\": \"running\""));
}

#[test]
fn usage_errors_exit_two() {
    ds().args(["status", "-o", "bogus"]).assert().code(2);
    ds().args(["why-not"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<NODE>"));
    ds().args(["status", "--request-timeout", "5x", "--snapshot", EXAMPLE])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--request-timeout"));
    ds().args(["status", "-n", "a", "-A", "--snapshot", EXAMPLE])
        .assert()
        .code(2);
    // Told before any request is made (no cluster here).
    ds().args(["history", "agent", "--diff", "1", "-o", "name"])
        .env("KUBECONFIG", "/nonexistent")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`history --diff` does not support -o name",
        ));
    ds().args(["why-not", "n", "--snapshot", EXAMPLE, "-o", "name"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not support -o name"));
}

#[test]
fn color_follows_the_flag_and_no_color() {
    ds().args([
        "why-not",
        "gpu-node-2",
        "--snapshot",
        EXAMPLE,
        "--color",
        "always",
    ])
    .assert()
    .stdout(predicate::str::contains("\u{1b}["));
    ds().args(["why-not", "gpu-node-2", "--snapshot", EXAMPLE])
        .env("NO_COLOR", "1")
        .assert()
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn help_names_every_subcommand() {
    let out = ds().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "status",
        "why-not-scheduled",
        "rollout",
        "history",
        "undo",
        "pause",
        "resume",
        "restart",
        "snapshot",
    ] {
        assert!(help.contains(cmd), "{cmd} missing from help:\n{help}");
    }
    assert!(help.contains("Exit codes"));
}

#[test]
fn no_cluster_is_a_clear_runtime_error() {
    ds().args(["status"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("kubeconfig"))
        .stderr(predicate::str::contains("--snapshot"));
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kubectl-ds"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["status", "node-exporter", "--snapshot", EXAMPLE, "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        status.code() == Some(0) || status.code() == Some(1),
        "{status:?} {err}"
    );
}

/// A flag value that cannot be right is a usage error (exit 2) when the command line is read,
/// before the kubeconfig is read or a connection made.
#[test]
fn bad_flag_values_are_usage_errors_before_any_io() {
    let cases: &[(&[&str], &str)] = &[
        (&["undo", "agent", "--to-revision", "-3"], "0 or more"),
        (&["undo", "agent", "--to-revision=-1"], "0 or more"),
        (&["history", "agent", "--revision", "-2"], "0 or more"),
        (&["status", "--request-timeout", "5x"], "expected a duration"),
        (
            &["rollout", "watch", "agent", "--timeout=-1s"],
            "expected a duration",
        ),
        (
            &["rollout", "watch", "agent", "--progress-deadline", "soon"],
            "expected a duration",
        ),
        (&["status", "-l", "app in (agent"], "invalid label selector"),
        (&["why-not", "node-1", "-o", "xml"], "invalid value"),
        (
            &["why-not", "node-1", "--snapshot", ""],
            "expected a snapshot file",
        ),
        (&["status", "agent", "--snapshot="], "expected a snapshot file"),
    ];
    for (args, says) in cases {
        let out = assert_cmd::Command::cargo_bin("kubectl-ds")
            .unwrap()
            .env_clear()
            .args(*args)
            .args(["--kubeconfig", "/nonexistent/kubeconfig"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("kubeconfig"),
            "{args:?} read the kubeconfig: {stderr}"
        );
    }
}
