//! Two kubectl-ds processes writing the same DaemonSet at once, on the real control plane:
//! `undo`, `pause`, `resume` and `restart` in every pairing, 50 rounds.
//!
//! What "nothing is lost" means here, checked on every version of the DaemonSet the apiserver
//! recorded (a watch sees each write), not only on the state after each round:
//! - Each process either wrote (and says so), found nothing to do (and says so), or refused with
//!   exit 3 and "nothing was changed" (a conflict: the DaemonSet changed since it was read; or a
//!   restart in the same second as the one it read). Never both refused because of each other.
//! - Every reported write is exactly one new generation of the DaemonSet, and every new generation
//!   is one reported write of the same kind: no write is silently dropped, merged or doubled.
//! - Each write changes only what its command changes: pause sets OnDelete and adds the record,
//!   resume restores the recorded strategy and removes the record, restart and undo change only the
//!   pod template. Labels and annotations set by anyone else (a third actor edits them before every
//!   round) are in every later version.
//! - In every version the pause record (`kubectl-ds/paused-update-strategy`) is present exactly
//!   when the strategy is OnDelete, and it records the original RollingUpdate strategy.
//! - restartedAt: every successful restart writes a value never seen before and later than every
//!   earlier restart's, so when both restarts of a round succeed the DaemonSet carries the later
//!   one. For each restart the controller either observed its generation (it then had to roll it
//!   out) or a later write superseded it first; both are counted. At the end the controller has
//!   rolled the final template out: every pod carries its restartedAt.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::DaemonSet;
use kube::api::{WatchEvent, WatchParams};
use serde_json::{Value, json};
use support::{
    Finished, PAUSE_ANNOTATION, Running, TestEnv, create_rolled_out, daemonset, kubectl_ds, merge,
    patch_daemonset, pods_by_node, update_strategy, wait_rolled_out, wait_until,
};

const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
const ROUNDS: usize = 50;
const DS: &str = "agent";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cmd {
    Undo,
    Pause,
    Resume,
    Restart,
}

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::Undo => "undo",
            Cmd::Pause => "pause",
            Cmd::Resume => "resume",
            Cmd::Restart => "restart",
        }
    }
}

/// The pairings, cycled through the rounds.
const PAIRS: [(Cmd, Cmd); 10] = [
    (Cmd::Restart, Cmd::Restart),
    (Cmd::Pause, Cmd::Restart),
    (Cmd::Undo, Cmd::Pause),
    (Cmd::Pause, Cmd::Resume),
    (Cmd::Pause, Cmd::Pause),
    (Cmd::Undo, Cmd::Restart),
    (Cmd::Resume, Cmd::Resume),
    (Cmd::Undo, Cmd::Undo),
    (Cmd::Resume, Cmd::Restart),
    (Cmd::Undo, Cmd::Resume),
];

/// What one process did, from its exit code and what it printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Wrote,
    NothingToDo,
    /// Exit 3: the DaemonSet changed since it was read; nothing was changed.
    Conflict,
    /// Exit 3: restart found a restart from the same second; nothing was changed.
    SameSecond,
}

impl Outcome {
    fn short(self) -> &'static str {
        match self {
            Outcome::Wrote => "wrote",
            Outcome::NothingToDo => "no-op",
            Outcome::Conflict => "conflict",
            Outcome::SameSecond => "same-second",
        }
    }
}

fn classify(cmd: Cmd, code: Option<i32>, stdout: &str, stderr: &str) -> Option<Outcome> {
    let object = format!("daemonset.apps/{DS}");
    match code {
        Some(0) => {
            let (wrote, noop) = match cmd {
                Cmd::Restart => (format!("{object} restarted"), None),
                Cmd::Pause => (
                    format!("{object} paused: its update strategy"),
                    Some(format!("{object} is already paused")),
                ),
                Cmd::Resume => (
                    format!("{object} resumed: update strategy"),
                    Some(format!("{object} is not paused\n")),
                ),
                Cmd::Undo => (
                    format!("{object} rolled back to revision"),
                    Some(format!("{object} already matches revision")),
                ),
            };
            if stdout.contains(&wrote) {
                Some(Outcome::Wrote)
            } else if noop.is_some_and(|n| stdout.contains(&n)) {
                Some(Outcome::NothingToDo)
            } else {
                None
            }
        }
        Some(3) if !stderr.contains("nothing was changed") => None,
        Some(3) if stderr.contains("changed since it was read (resourceVersion ") => Some(Outcome::Conflict),
        Some(3) if stderr.contains("kept changing while it was being written") => Some(Outcome::Conflict),
        Some(3) if stderr.contains("was already restarted at") && cmd == Cmd::Restart => {
            Some(Outcome::SameSecond)
        }
        _ => None,
    }
}

/// Every version of the DaemonSet the apiserver records, in order, from a watch.
#[derive(Clone, Default)]
struct Versions(Arc<Mutex<Vec<DaemonSet>>>);

impl Versions {
    fn start(env: &TestEnv, from: &DaemonSet) -> Versions {
        let versions = Versions::default();
        versions.0.lock().unwrap().push(from.clone());
        let api = env.daemonsets();
        let log = versions.0.clone();
        let mut rv = from.metadata.resource_version.clone().unwrap();
        tokio::spawn(async move {
            let params = WatchParams::default()
                .fields(&format!("metadata.name={DS}"))
                .timeout(290);
            loop {
                let stream = match api.watch(&params, &rv).await {
                    Ok(s) => s,
                    Err(e) => panic!("watching {DS}: {e}"),
                };
                let mut stream = stream.boxed();
                while let Some(event) = stream.try_next().await.expect("watch event") {
                    match event {
                        WatchEvent::Added(ds) | WatchEvent::Modified(ds) => {
                            rv = ds.metadata.resource_version.clone().unwrap();
                            log.lock().unwrap().push(ds);
                        }
                        WatchEvent::Bookmark(b) => rv = b.metadata.resource_version,
                        WatchEvent::Deleted(_) => return,
                        WatchEvent::Error(e) => panic!("watch error: {e:?}"),
                    }
                }
            }
        });
        versions
    }

    /// The index of the version with this resourceVersion, once the watch has delivered it.
    async fn index_of(&self, rv: &str) -> usize {
        let mut found = None;
        wait_until(
            &format!("the watch to deliver resourceVersion {rv}"),
            Duration::from_secs(60),
            || {
                found = self
                    .0
                    .lock()
                    .unwrap()
                    .iter()
                    .position(|d| d.metadata.resource_version.as_deref() == Some(rv));
                let done = found.is_some();
                async move { done }
            },
        )
        .await;
        found.unwrap()
    }

    fn range(&self, from: usize, to: usize) -> Vec<DaemonSet> {
        self.0.lock().unwrap()[from..=to].to_vec()
    }
}

fn timestamp(text: &str) -> k8s_openapi::jiff::Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("restartedAt {text:?} is not RFC 3339: {e}"))
}

/// The annotations no command writes: without the pause record, and without the template
/// generation the apiserver itself bumps on every template change.
fn annotations_without_record(ds: &DaemonSet) -> BTreeMap<String, String> {
    let mut a = ds.metadata.annotations.clone().unwrap_or_default();
    a.remove(PAUSE_ANNOTATION);
    a.remove("deprecated.daemonset.template.generation");
    a
}

fn record(ds: &DaemonSet) -> Option<&String> {
    ds.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PAUSE_ANNOTATION))
}

fn restarted_at(ds: &DaemonSet) -> Option<String> {
    template_restarted_at(&ds.spec.as_ref().unwrap().template)
}

fn template_restarted_at(t: &k8s_openapi::api::core::v1::PodTemplateSpec) -> Option<String> {
    t.metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(RESTARTED_AT).cloned())
}

fn template_without_restarted_at(ds: &DaemonSet) -> Value {
    let mut t = serde_json::to_value(&ds.spec.as_ref().unwrap().template).unwrap();
    if let Some(a) = t
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(RESTARTED_AT);
    }
    t
}

/// The invariant every version must keep.
fn check_version(ds: &DaemonSet, original: &Value, what: &str) {
    let on_delete = update_strategy(ds)["type"] == "OnDelete";
    match record(ds) {
        Some(raw) => {
            assert!(
                on_delete,
                "{what}: the pause record is there but the strategy is {}",
                update_strategy(ds)
            );
            let recorded: Value = serde_json::from_str(raw).expect("the pause record is JSON");
            assert_eq!(
                &recorded["updateStrategy"], original,
                "{what}: the record lost the original strategy"
            );
        }
        None => {
            assert!(!on_delete, "{what}: OnDelete without the pause record");
            assert_eq!(
                &update_strategy(ds),
                original,
                "{what}: not paused, yet not the original strategy"
            );
        }
    }
}

/// Which command made the write from `prev` to `next` (one generation apart), and checks that it
/// changed nothing else.
fn write_kind(prev: &DaemonSet, next: &DaemonSet, seen_restarts: &BTreeSet<String>, what: &str) -> Cmd {
    let (p, n) = (prev.spec.as_ref().unwrap(), next.spec.as_ref().unwrap());
    assert_eq!(
        prev.metadata.labels, next.metadata.labels,
        "{what}: a write changed the labels"
    );
    assert_eq!(
        annotations_without_record(prev),
        annotations_without_record(next),
        "{what}: a write changed an annotation it does not own"
    );
    assert_eq!(p.selector, n.selector, "{what}");
    let template_changed = p.template != n.template;
    let strategy_changed = p.update_strategy != n.update_strategy || record(prev) != record(next);
    match (template_changed, strategy_changed) {
        (true, false) => {
            let fresh = restarted_at(next).is_some_and(|v| !seen_restarts.contains(&v));
            if fresh && template_without_restarted_at(prev) == template_without_restarted_at(next) {
                Cmd::Restart
            } else {
                Cmd::Undo
            }
        }
        (false, true) => match (record(prev), record(next)) {
            (None, Some(_)) => Cmd::Pause,
            (Some(_), None) => Cmd::Resume,
            _ => panic!("{what}: the strategy changed without the record being added or removed"),
        },
        _ => panic!(
            "{what}: a new generation changed {template_changed:?} template / {strategy_changed:?} strategy"
        ),
    }
}

/// Starts `kubectl ds CMD agent`; with a pause before its write, when given (in ms).
fn start(env: &TestEnv, cmd: Cmd, pause_before_write_ms: Option<u64>) -> Running {
    let mut run = kubectl_ds()
        .kubeconfig(&env.cluster.kubeconfig)
        .args(["--request-timeout=30s", cmd.name(), DS, "-n", &env.ns])
        .timeout(Duration::from_secs(90));
    if let Some(ms) = pause_before_write_ms {
        run = run.env("KUBECTL_DS_TEST_PAUSE_BEFORE_WRITE", ms.to_string());
    }
    run.start()
}

/// The outputs of a round, for failure messages.
fn outputs(results: &[(Cmd, Finished)]) -> String {
    results
        .iter()
        .map(|(_, run)| run.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_at_once_never_lose_a_write() {
    let started = Instant::now();
    let env = TestEnv::new("concurrent-writers").await;
    let first = create_rolled_out(
        &env,
        &["conc-a"],
        merge(daemonset(DS), json!({"spec": {"revisionHistoryLimit": 1000}})),
    )
    .await;
    let original = update_strategy(&first);
    let versions = Versions::start(&env, &first);
    let mut seen_restarts: BTreeSet<String> = BTreeSet::new();

    // A second revision, so `undo` always has one to go back to.
    let setup = start(&env, Cmd::Restart, None).finish();
    assert_eq!(setup.code, Some(0), "{setup}");
    let ds = wait_rolled_out(&env, DS, 1).await;
    seen_restarts.extend(restarted_at(&ds));
    let mut last = versions
        .index_of(ds.metadata.resource_version.as_deref().unwrap())
        .await;

    let mut tally: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let (mut observed, mut superseded) = (0usize, 0usize);
    let mut restart_generations: Vec<i64> = Vec::new();
    for round in 0..ROUNDS {
        let (a, b) = PAIRS[round % PAIRS.len()];
        // Every other cycle of pairs starts paused, so that pause and resume both find work.
        let want_paused = (round / PAIRS.len()) % 2 == 1;
        let current = env.daemonsets().get(DS).await.unwrap();
        if record(&current).is_some() != want_paused {
            let setup = start(&env, if want_paused { Cmd::Pause } else { Cmd::Resume }, None).finish();
            assert_eq!(setup.code, Some(0), "setting up round {round}: {setup}");
            let now = env.daemonsets().get(DS).await.unwrap();
            let at = versions
                .index_of(now.metadata.resource_version.as_deref().unwrap())
                .await;
            for ds in versions.range(last, at) {
                check_version(&ds, &original, &format!("setting up round {round}"));
            }
            last = at;
        }
        // The third actor: a label and an annotation no command touches, set between rounds.
        patch_daemonset(
            &env,
            DS,
            json!({"metadata": {"labels": {"third-actor": format!("r{round}")},
                                "annotations": {"third-actor/round": round.to_string()}}}),
        )
        .await;
        // restartedAt has one-second precision; a restart in the same second as the last one is
        // refused by design, so start each round in a later second than the last restart.
        if let Some(newest) = seen_restarts.iter().map(|v| timestamp(v)).max() {
            while k8s_openapi::jiff::Timestamp::now().as_second() <= newest.as_second() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let before = env.daemonsets().get(DS).await.unwrap();
        // A third of the rounds hold both writes until both have read (both read the same
        // version); a third start both at once; a third start the second a little later, so
        // that some rounds run one after the other.
        let mode = round % 3;
        let hold = (mode == 1).then_some(600);
        let pa = start(&env, a, hold);
        if mode == 2 {
            // Two restarts in one second are refused by design; a second apart, both go through.
            let ms = if (a, b) == (Cmd::Restart, Cmd::Restart) {
                1100
            } else {
                150
            };
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let pb = start(&env, b, hold);
        let results = tokio::task::spawn_blocking(move || [(a, pa.finish()), (b, pb.finish())])
            .await
            .unwrap();

        let what = format!("round {round} ({} vs {})", a.name(), b.name());
        let mut outcomes = Vec::new();
        for (cmd, run) in &results {
            let outcome = classify(*cmd, run.code, &run.stdout, &run.stderr)
                .unwrap_or_else(|| panic!("{what}: {} gave no clear outcome: {run}", cmd.name()));
            outcomes.push((*cmd, outcome));
        }
        assert!(
            outcomes
                .iter()
                .any(|(_, o)| matches!(o, Outcome::Wrote | Outcome::NothingToDo)),
            "{what}: both refused:\n{}",
            outputs(&results)
        );

        let after = env.daemonsets().get(DS).await.unwrap();
        let end = versions
            .index_of(after.metadata.resource_version.as_deref().unwrap())
            .await;
        let history = versions.range(last, end);
        let mut writes_seen: Vec<Cmd> = Vec::new();
        for pair in history.windows(2) {
            let (prev, next) = (&pair[0], &pair[1]);
            check_version(next, &original, &what);
            let (gp, gn) = (
                prev.metadata.generation.unwrap(),
                next.metadata.generation.unwrap(),
            );
            assert!(gn == gp || gn == gp + 1, "{what}: generation jumped {gp} -> {gn}");
            if gn == gp + 1 {
                let kind = write_kind(prev, next, &seen_restarts, &what);
                if kind == Cmd::Restart {
                    let value = restarted_at(next).unwrap();
                    let at = timestamp(&value);
                    if let Some(newest) = seen_restarts.iter().map(|v| timestamp(v)).max() {
                        assert!(
                            at > newest,
                            "{what}: restart wrote {value}, not later than {newest}"
                        );
                    }
                    seen_restarts.insert(value);
                    restart_generations.push(gn);
                }
                writes_seen.push(kind);
            }
        }
        // The third actor's label and annotation are in every version from its edit on.
        let start = versions
            .index_of(before.metadata.resource_version.as_deref().unwrap())
            .await;
        for ds in versions.range(start, end) {
            let labels = ds.metadata.labels.clone().unwrap_or_default();
            assert_eq!(
                labels.get("third-actor"),
                Some(&format!("r{round}")),
                "{what}: the third actor's label was lost"
            );
            let annotations = ds.metadata.annotations.clone().unwrap_or_default();
            assert_eq!(
                annotations.get("third-actor/round"),
                Some(&round.to_string()),
                "{what}: the third actor's annotation was lost"
            );
        }
        let mut reported: Vec<Cmd> = outcomes
            .iter()
            .filter(|(_, o)| *o == Outcome::Wrote)
            .map(|(c, _)| *c)
            .collect();
        reported.sort();
        let mut seen_sorted = writes_seen.clone();
        seen_sorted.sort();
        assert_eq!(
            reported,
            seen_sorted,
            "{what}: the writes reported are not the writes made (in order: {writes_seen:?}); outputs:\n{}",
            outputs(&results)
        );
        assert_eq!(
            after.metadata.generation.unwrap() - before.metadata.generation.unwrap(),
            reported.len() as i64,
            "{what}: generation"
        );

        let mut key: Vec<String> = outcomes
            .iter()
            .map(|(c, o)| format!("{} {}", c.name(), o.short()))
            .collect();
        key.sort();
        *tally
            .entry(format!("{} vs {}", a.name(), b.name()))
            .or_default()
            .entry(key.join(" + "))
            .or_default() += 1;
        last = end;
    }

    // The controller catches up with the last write; then every restart generation was either
    // observed by it or superseded by a later write before it looked.
    let mut ds = env.daemonsets().get(DS).await.unwrap();
    if record(&ds).is_some() {
        let resume = start(&env, Cmd::Resume, None).finish();
        assert_eq!(resume.code, Some(0), "{resume}");
    }
    ds = wait_rolled_out(&env, DS, 1).await;
    let end = versions
        .index_of(ds.metadata.resource_version.as_deref().unwrap())
        .await;
    let all = versions.range(0, end);
    for g in &restart_generations {
        let seen = all
            .iter()
            .any(|d| d.status.as_ref().and_then(|s| s.observed_generation) == Some(*g));
        if seen { observed += 1 } else { superseded += 1 }
    }
    let final_at = restarted_at(&ds);
    let pods: Vec<_> = pods_by_node(&env, DS).await.into_values().flatten().collect();
    assert_eq!(pods.len(), 1);
    for p in &pods {
        let at = p
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(RESTARTED_AT).cloned());
        assert_eq!(
            at, final_at,
            "pod {:?} does not run the final template",
            p.metadata.name
        );
    }

    eprintln!("{ROUNDS} rounds in {:?}; outcomes per pair:", started.elapsed());
    for (pair, outcomes) in &tally {
        eprintln!("  {pair}: {outcomes:?}");
    }
    eprintln!(
        "restarts written in the rounds: {} (the controller observed {observed} of them; {superseded} were superseded by a later write before it looked); {} versions recorded",
        restart_generations.len(),
        all.len()
    );
}
