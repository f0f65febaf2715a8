//! One node's next move put together and said in words: the one home of which [`Action`] a
//! node's claim, `manage` and rolling-update writes add up to, and of the sentence that names
//! them. No controller function of its own: this is what the sync's writes (`syncNodes`) look
//! like from one node.

use k8s_openapi::api::core::v1::Pod;

use super::node::Qualifies;
use super::rolling::RuMove;
use super::{Action, NextMove, NodeWork};
use crate::engine::pods::{is_bound, is_ready, is_terminal, is_terminating};

pub(super) fn name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

pub(super) fn names(pods: &[&Pod]) -> String {
    pods.iter().map(|p| name(p)).collect::<Vec<_>>().join(", ")
}

/// One node's move from the claim, manage and the rolling update.
pub(super) fn assemble(
    w: NodeWork,
    ru: Option<RuMove>,
    elig: &Qualifies,
    pods: Option<&Vec<&Pod>>,
) -> NextMove {
    let mut sentences: Vec<String> = Vec::new();
    let adopt: Vec<String> = w.adopt.iter().map(|p| name(p)).collect();
    let release: Vec<String> = w.release.iter().map(|p| name(p)).collect();
    if !adopt.is_empty() {
        sentences.push(format!(
            "adopts orphan {} (no controller reference, labels match the selector)",
            adopt.join(", ")
        ));
    }
    if !release.is_empty() {
        sentences.push(format!(
            "releases {} (its labels no longer match the selector; it stops counting)",
            release.join(", ")
        ));
    }
    sentences.extend(w.notes.iter().cloned());
    let mut delete: Vec<String> = w.delete.iter().map(|p| name(p)).collect();
    let mut create = w.create;
    let mut pool = None;
    let mut after = false;
    let mut waiting = !w.waits.is_empty();
    let mut ru_followed = false;
    sentences.extend(w.waits.iter().cloned());
    if let Some(ru) = ru {
        ru_followed = ru.followed;
        for d in &ru.delete {
            if !delete.contains(d) {
                delete.push(d.clone());
            }
        }
        create |= ru.create;
        pool = ru.pool;
        after = !ru.delete.is_empty() || ru.create || ru.wait;
        waiting |= ru.wait;
        sentences.push(ru.why);
    }
    // A deletion on a node that qualifies is followed by a new pod: the rolling update's, or a
    // failed or succeeded pod's (manage creates it on the next sync, once the node has no pod).
    let followed = ru_followed
        || w.replaced
        || (elig.should_run && !w.delete.is_empty() && w.delete.iter().all(|p| is_terminal(p)));
    let action = if (!delete.is_empty() || create && ru_followed) && (create || followed) {
        Action::Replace
    } else if !delete.is_empty() {
        Action::Delete
    } else if create {
        Action::Create
    } else if !adopt.is_empty() {
        Action::Adopt
    } else if !release.is_empty() {
        Action::Release
    } else if waiting {
        Action::Wait
    } else {
        Action::None
    };
    let mut pods_named: Vec<String> = Vec::new();
    for p in adopt.iter().chain(&release).chain(&delete) {
        if !pods_named.contains(p) {
            pods_named.push(p.clone());
        }
    }
    let why = if sentences.is_empty() {
        nothing_why(elig, pods.map(|p| p.as_slice()).unwrap_or_default())
    } else {
        sentences.join("; then ")
    };
    let mut m = NextMove::new(action, format!("the controller {why}"));
    if why.starts_with("nothing") || why.starts_with("cannot tell") {
        m.why = format!("next sync: {why}");
    } else {
        m.why = format!("next sync: the controller {why}");
    }
    m.pods = pods_named;
    m.create = create;
    m.delete = delete;
    m.adopt = adopt;
    m.release = release;
    m.pool = pool;
    m.after_own_writes = after;
    m
}

/// Why the controller does nothing on a node: what it finds there, and why that is as it wants.
fn nothing_why(elig: &Qualifies, pods: &[&Pod]) -> String {
    match pods {
        [] if !elig.should_run => "nothing: the node does not qualify and has no pod of the DaemonSet".into(),
        [] => "nothing".into(),
        [pod, ..] if !elig.should_run && elig.should_continue_running && !is_bound(pod) => format!(
            "nothing: the controller keeps {}, but it is Pending and the scheduler will not bind it while the node has an untolerated NoSchedule taint; remove the taint or delete the pod",
            name(pod)
        ),
        [pod, ..] if !elig.should_run && elig.should_continue_running => format!(
            "nothing: {} stays (only NoSchedule taints are untolerated, and the pod is on the current revision or the strategy is OnDelete); no new pod would be created here",
            name(pod)
        ),
        [pod, ..] if is_terminating(pod) => format!("nothing: {} is terminating", name(pod)),
        [pod, ..] if !is_bound(pod) => format!("nothing: {} waits for the scheduler", name(pod)),
        [pod, ..] if !is_ready(pod) => format!(
            "nothing: {} is the node's pod; the controller does not replace a pod for not being ready (a rolling update does, once the pod is outdated)",
            name(pod)
        ),
        [pod, ..] => format!("nothing: {} is what the controller wants here", name(pod)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use serde_json::json;

    #[test]
    fn pending_pod_on_a_node_that_gained_a_noschedule_taint() {
        let d = ds(json!({"type": "OnDelete"}));
        let p = plan(
            &d,
            &[tainted("t", NO_SCHEDULE)],
            &[pod("p", "t", "new", "pending", 1)],
        );
        let m = on(&p, "t");
        assert_eq!(m.action, Action::None);
        assert!(
            m.why.contains("Pending") && m.why.contains("remove the taint or delete the pod"),
            "{}",
            m.why
        );
        // Under RollingUpdate an outdated Pending pod is not available: replaced at once, none follows.
        let d = ds(rolling(json!(1), json!(0)));
        let p = plan(
            &d,
            &[tainted("t", NO_SCHEDULE)],
            &[pod("p", "t", "old", "pending", 1)],
        );
        let m = on(&p, "t");
        assert_eq!(
            (m.action, m.delete.clone()),
            (Action::Delete, vec!["p".to_string()])
        );
    }
}
