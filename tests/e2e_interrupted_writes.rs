//! A write cut off by SIGINT or SIGTERM at any moment leaves the DaemonSet as it was or as the
//! command leaves it, never in between: every write (pause, resume, restart, undo) is one
//! conditional request. 50 rounds (`KUBECTL_DS_KILL_ROUNDS`), each command killed after a random
//! delay from its start (seeded: `KUBECTL_DS_DIFF_SEED` replays a run), the DaemonSet checked after
//! each.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;
use support::{AGENT_V2, PAUSE_ANNOTATION, Rng, TestEnv, create_rolled_out, daemonset, seed, set_image};

const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// What the writes change: the pod template, the update strategy and the pause record.
#[derive(Debug, Clone, PartialEq)]
struct State {
    template: Value,
    strategy: Value,
    paused: Option<String>,
}

impl State {
    fn of(ds: &DaemonSet) -> State {
        let spec = ds.spec.as_ref().expect("spec");
        State {
            template: serde_json::to_value(&spec.template).expect("template"),
            strategy: serde_json::to_value(&spec.update_strategy).expect("strategy"),
            paused: ds
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(PAUSE_ANNOTATION).cloned()),
        }
    }

    fn restarted_at(&self) -> Option<&str> {
        self.template["metadata"]["annotations"][RESTARTED_AT].as_str()
    }

    /// The template without its restartedAt annotation.
    fn template_but_restart(&self) -> Value {
        let mut t = self.template.clone();
        if let Some(meta) = t["metadata"].as_object_mut() {
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove(RESTARTED_AT);
            }
            if meta
                .get("annotations")
                .and_then(Value::as_object)
                .is_some_and(|a| a.is_empty())
            {
                meta.remove("annotations");
            }
        }
        t
    }
}

/// Whether `after` is what `verb` makes of `before` (given the templates the DaemonSet's
/// revisions held before it ran).
fn is_done(verb: &str, before: &State, after: &State, revision_templates: &[Value]) -> bool {
    match verb {
        "pause" => {
            let recorded: Option<Value> = after
                .paused
                .as_deref()
                .and_then(|p| serde_json::from_str::<Value>(p).ok());
            after.template == before.template
                && after.strategy["type"] == "OnDelete"
                && recorded.is_some_and(|r| r["updateStrategy"] == before.strategy)
        }
        "resume" => {
            let recorded: Option<Value> = before
                .paused
                .as_deref()
                .and_then(|p| serde_json::from_str::<Value>(p).ok());
            after.template == before.template
                && after.paused.is_none()
                && recorded.is_some_and(|r| r["updateStrategy"] == after.strategy)
        }
        "restart" => {
            after.strategy == before.strategy
                && after.paused == before.paused
                && after.template_but_restart() == before.template_but_restart()
                && after.restarted_at().is_some()
                && after.restarted_at() != before.restarted_at()
        }
        "undo" => {
            after.strategy == before.strategy
                && after.paused == before.paused
                && after.template != before.template
                && revision_templates.contains(&after.template)
        }
        _ => unreachable!("{verb}"),
    }
}

async fn revision_templates(env: &TestEnv) -> Vec<Value> {
    let api: Api<ControllerRevision> = Api::namespaced(env.cluster.client().await, &env.ns);
    let revisions = api.list(&ListParams::default()).await.expect("list revisions");
    revisions
        .items
        .iter()
        .filter_map(|r| r.data.as_ref())
        .map(|d| {
            // The controller stores the template as a patch that replaces the whole.
            let mut t = d.0["spec"]["template"].clone();
            if let Some(o) = t.as_object_mut() {
                o.remove("$patch");
            }
            t
        })
        .collect()
}

#[tokio::test]
async fn a_write_killed_at_any_moment_leaves_the_daemonset_before_or_after() {
    let env = TestEnv::new("killed").await;
    create_rolled_out(&env, &["killed-a"], daemonset("agent")).await;
    set_image(&env, "agent", AGENT_V2, None).await;
    let rounds: usize = std::env::var("KUBECTL_DS_KILL_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let seed = seed();
    let mut rng = Rng(seed);
    let (mut untouched, mut done) = (0, 0);
    for round in 0..rounds {
        let before = State::of(&env.daemonsets().get("agent").await.expect("get"));
        let templates = revision_templates(&env).await;
        let verbs: &[&str] = if before.paused.is_some() {
            &["resume", "restart"]
        } else {
            &["pause", "restart", "undo"]
        };
        let verb = *rng.pick(verbs);
        let (signal, signal_name) = *rng.pick(&[(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")]);
        // The command reads the kubeconfig, gets the DaemonSet (and its revisions) and writes,
        // in a few tens of milliseconds: the delays span all of it and the end.
        let delay = Duration::from_millis(rng.below(250) as u64);
        let mut running = env.kubectl_ds().args([verb, "agent", "-n", &env.ns]).start();
        tokio::time::sleep(delay).await;
        running.signal(signal);
        let out = running.finish();
        let after = State::of(&env.daemonsets().get("agent").await.expect("get"));
        let what = format!(
            "round {round} (seed {seed}): `{verb}` sent {signal_name} after {delay:?}\n{out}\nbefore: {before:#?}\nafter: {after:#?}"
        );
        if after == before {
            // Cut off before its write, or refused: nothing changed.
            untouched += 1;
            assert!(matches!(out.code, None | Some(0..=3)), "{what}");
        } else {
            assert!(
                is_done(verb, &before, &after, &templates),
                "between before and after: {what}"
            );
            done += 1;
        }
    }
    eprintln!(
        "{rounds} killed writes (seed {seed}): {untouched} left the DaemonSet as it was, {done} as done"
    );
    // Both ends were reached, or the delays did not span the write.
    if rounds >= 20 {
        assert!(
            untouched > 0 && done > 0,
            "{untouched} untouched, {done} done: the delays miss the write"
        );
    }
}
