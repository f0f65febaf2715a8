//! `history` and `undo` on the real control plane: the revisions the DaemonSet controller records,
//! the current one, diffs, and rollbacks the controller then carries out.

mod support;

use predicates::prelude::PredicateBooleanExt;
use serde_json::{Value, json};
use support::{
    AGENT_V1, AGENT_V2, AGENT_V3, TestEnv, create_rolled_out, daemonset, merge, pod_images,
    run_with_edit_before_write, set_image, wait_rolled_out,
};

/// REVISION, CHANGE-CAUSE, IMAGES, PODS and CURRENT of a history row (AGE varies).
fn cells(row: &[&str]) -> (String, String, String, String, Option<String>) {
    let s = |i: usize| row[i].to_string();
    (s(0), s(1), s(2), s(4), row.get(5).map(|c| c.to_string()))
}

async fn template_image(env: &TestEnv, name: &str) -> String {
    let ds = env.daemonsets().get(name).await.unwrap();
    ds.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap()
}

#[tokio::test]
async fn history_lists_revisions_marks_the_current_one_and_diffs_templates() {
    let env = TestEnv::new("history").await;
    create_rolled_out(&env, &["hist-a", "hist-b"], daemonset("agent")).await;
    set_image(&env, "agent", AGENT_V2, Some("upgrade-to-2.0")).await;
    wait_rolled_out(&env, "agent", 2).await;
    set_image(&env, "agent", AGENT_V3, Some("upgrade-to-3.0")).await;
    wait_rolled_out(&env, "agent", 2).await;

    let out = env.kubectl_ds().args(["history", "agent", "-n", &env.ns]).run();
    assert_eq!(out.code, Some(0), "{out}");
    let text = out.stdout;
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        rows[0],
        ["REVISION", "CHANGE-CAUSE", "IMAGES", "AGE", "PODS", "CURRENT"],
        "{text}"
    );
    assert_eq!(rows.len(), 4, "three revisions:\n{text}");
    assert_eq!(
        cells(&rows[1]),
        ("1".into(), "<none>".into(), AGENT_V1.into(), "0".into(), None),
        "{text}"
    );
    assert_eq!(
        cells(&rows[2]),
        (
            "2".into(),
            "upgrade-to-2.0".into(),
            AGENT_V2.into(),
            "0".into(),
            None
        ),
        "{text}"
    );
    assert_eq!(
        cells(&rows[3]),
        (
            "3".into(),
            "upgrade-to-3.0".into(),
            AGENT_V3.into(),
            "2".into(),
            Some("*".into())
        ),
        "{text}"
    );

    let out = env
        .kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "-o", "json"])
        .run();
    assert_eq!(out.code, Some(0), "{out}");
    let v: Value = serde_json::from_str(&out.stdout).expect("history -o json is JSON");
    assert_eq!(v["currentRevision"], 3);
    let revs = v["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 3);
    assert_eq!(revs[0]["changeCause"], Value::Null);
    assert_eq!(revs[2]["pods"], 2);
    assert_eq!(revs[2]["current"], true);
    assert_eq!(revs[1]["template"]["spec"]["containers"][0]["image"], AGENT_V2);
    assert!(revs[0]["hash"].as_str().is_some_and(|h| !h.is_empty()));

    let out = env
        .kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "--diff", "1", "2"])
        .run();
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(
        out.stdout,
        format!(
            "--- revision 1\n+++ revision 2\n~ /spec/containers/0/image: \"{AGENT_V1}\" → \"{AGENT_V2}\"\n"
        )
    );
    let out = env
        .kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "--diff", "1"])
        .run();
    assert_eq!(
        out.stdout,
        format!(
            "--- revision 1\n+++ revision 3 (current)\n~ /spec/containers/0/image: \"{AGENT_V1}\" → \"{AGENT_V3}\"\n"
        )
    );
    let out = env
        .kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "--diff", "3", "3"])
        .run();
    assert_eq!(
        out.stdout,
        "revision 3 (current) and revision 3 (current) have the same pod template\n"
    );

    let out = env
        .kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "--revision", "2"])
        .run();
    assert_eq!(out.code, Some(0), "{out}");
    let yaml: Value = serde_saphyr::from_str(&out.stdout).expect("--revision prints YAML");
    assert_eq!(yaml["spec"]["containers"][0]["image"], AGENT_V2);
    assert_eq!(yaml["metadata"]["labels"]["app"], "agent");
    let out = env
        .kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "--revision", "1", "-o", "json"])
        .run();
    let json: Value = serde_json::from_str(&out.stdout).expect("--revision -o json prints JSON");
    assert_eq!(json["spec"]["containers"][0]["image"], AGENT_V1);

    env.kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "--revision", "9"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "daemonset.apps/agent: there is no revision 9; its revisions are 1, 2, 3",
        ));
}

#[tokio::test]
async fn undo_rolls_back_and_the_controller_follows() {
    let env = TestEnv::new("undo").await;
    create_rolled_out(
        &env,
        &["undo-a", "undo-b"],
        merge(
            daemonset("agent"),
            json!({"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}}),
        ),
    )
    .await;
    set_image(&env, "agent", AGENT_V2, Some("upgrade")).await;
    let before = wait_rolled_out(&env, "agent", 2).await;

    // --dry-run shows the change and sends nothing.
    let out = env
        .kubectl_ds()
        .args(["undo", "agent", "-n", &env.ns, "--dry-run"])
        .run();
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(
        out.stdout,
        format!(
            "daemonset.apps/agent: rolling back to revision 1 would change the pod template:\n\
             ~ /spec/containers/0/image: \"{AGENT_V2}\" → \"{AGENT_V1}\"\n\
             daemonset.apps/agent would be rolled back to revision 1 (dry run: nothing was changed)\n"
        )
    );
    assert!(
        out.stderr.contains("last-applied-configuration"),
        "{}",
        out.stderr
    );
    let after_dry_run = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(
        after_dry_run.metadata.resource_version,
        before.metadata.resource_version
    );

    let out = env.kubectl_ds().args(["undo", "agent", "-n", &env.ns]).run();
    assert_eq!(out.code, Some(0), "{out}");
    let text = out.stdout;
    assert!(
        text.contains(&format!(
            "~ /spec/containers/0/image: \"{AGENT_V2}\" → \"{AGENT_V1}\""
        )),
        "{text}"
    );
    assert!(
        text.ends_with("daemonset.apps/agent rolled back to revision 1\n"),
        "{text}"
    );
    assert!(out.stderr.contains("Warning:"), "{}", out.stderr);
    assert_eq!(template_image(&env, "agent").await, AGENT_V1);

    // The real controller rolls the pods back.
    wait_rolled_out(&env, "agent", 2).await;
    assert_eq!(pod_images(&env, "agent").await, [AGENT_V1, AGENT_V1]);

    // The controller reused revision 1 and renumbered it 3 (semantics §6.1).
    let out = env
        .kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "-o", "json"])
        .run();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let numbers: Vec<i64> = v["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 3]);
    assert_eq!(v["currentRevision"], 3);
    assert_eq!(v["revisions"][1]["pods"], 2);

    // -o name: the ControllerRevisions, as `kubectl get controllerrevision -o name` names them.
    let names: Vec<String> = v["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("controllerrevision.apps/{}\n", r["name"].as_str().unwrap()))
        .collect();
    env.kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "-o", "name"])
        .assert()
        .success()
        .stdout(names.concat());
    env.kubectl_ds()
        .args(["history", "agent", "-n", &env.ns, "--revision", "2", "-o", "name"])
        .assert()
        .success()
        .stdout(names[0].clone());
    // Rolling back with -o name prints the object only; the rollback is real.
    env.kubectl_ds()
        .args(["undo", "agent", "-n", &env.ns, "-o", "name"])
        .assert()
        .success()
        .stdout("daemonset.apps/agent\n");
    assert_eq!(template_image(&env, "agent").await, AGENT_V2);
    wait_rolled_out(&env, "agent", 2).await;

    env.kubectl_ds()
        .args(["undo", "agent", "-n", &env.ns, "--to-revision", "4"])
        .assert()
        .success()
        .stdout("daemonset.apps/agent already matches revision 4; nothing to do\n");
}

#[tokio::test]
async fn undo_errors_name_the_problem_and_the_existing_revisions() {
    let env = TestEnv::new("undo-errors").await;
    create_rolled_out(&env, &["undoerr-a"], daemonset("agent")).await;

    env.kubectl_ds()
        .args(["undo", "agent", "-n", &env.ns])
        .assert()
        .code(3)
        .stdout("")
        .stderr(predicates::str::contains(
            "daemonset.apps/agent: there is nothing to roll back to: its only revision is 1",
        ));

    set_image(&env, "agent", AGENT_V2, Some("upgrade")).await;
    wait_rolled_out(&env, "agent", 1).await;
    let before = env.daemonsets().get("agent").await.unwrap();
    env.kubectl_ds()
        .args(["undo", "agent", "-n", &env.ns, "--to-revision", "7"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "there is no revision 7; its revisions are 1, 2",
        ));
    env.kubectl_ds()
        .args(["undo", "agent", "-n", &env.ns, "--to-revision=-1"])
        .assert()
        .code(2)
        // Refused when the command line is read, before any request.
        .stderr(predicates::str::contains("a revision number is 0 or more"));
    env.kubectl_ds()
        .args(["undo", "agnet", "-n", &env.ns])
        .assert()
        .code(3)
        .stderr(
            predicates::str::contains("daemonset \"agnet\" not found")
                .and(predicates::str::contains("did you mean agent?")),
        );
    env.kubectl_ds()
        .args(["undo", "agent", "-A"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("use -n NAMESPACE instead of -A"));
    env.kubectl_ds().args(["history", "agent", "-A"]).assert().code(2);
    let after = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(
        after.metadata.resource_version, before.metadata.resource_version,
        "errors change nothing"
    );
}

#[tokio::test]
async fn undo_refuses_to_overwrite_a_change_made_after_it_read_the_daemonset() {
    let env = TestEnv::new("undo-conflict").await;
    create_rolled_out(&env, &["undoconf-a"], daemonset("agent")).await;
    set_image(&env, "agent", AGENT_V2, Some("upgrade")).await;
    let read = wait_rolled_out(&env, "agent", 1).await;

    let run = run_with_edit_before_write(&env, &["undo", "agent", "-n", &env.ns], || async {
        set_image(&env, "agent", AGENT_V3, Some("someone else")).await;
    })
    .await;
    assert_eq!(run.code, Some(3), "{run}");
    let read_version = read.metadata.resource_version.unwrap();
    assert!(
        run.stderr.contains(&format!(
            "error: daemonset \"agent\" in namespace {} changed since it was read (resourceVersion {read_version}, now ",
            env.ns
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("); nothing was changed\n"), "{}", run.stderr);
    assert!(run.stderr.contains("again to see the new diff"), "{}", run.stderr);
    // The diff it was about to apply was shown; the other writer's change stands.
    assert!(
        run.stdout.contains(&format!("\"{AGENT_V2}\" → \"{AGENT_V1}\"")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("rolled back to"), "{}", run.stdout);
    assert_eq!(template_image(&env, "agent").await, AGENT_V3);
    let ds = env.daemonsets().get("agent").await.unwrap();
    let annotations = ds.metadata.annotations.unwrap();
    assert_eq!(annotations["kubernetes.io/change-cause"], "someone else");
}
