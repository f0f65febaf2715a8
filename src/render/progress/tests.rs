use super::*;
use crate::engine::rollout::{Counts, Holdup};
use crate::engine::{Reason, Rule};

pub(super) fn holdup(node: &str, holdup: Holdup, reason: &str) -> NodeHoldup {
    NodeHoldup {
        node: node.into(),
        pod: Some(format!("agent-{node}")),
        holdup,
        reasons: vec![Reason::new(Rule::Container, reason)],
    }
}

pub(super) fn progress(updated: i32, ready: i32, available: i32, holdups: Vec<NodeHoldup>) -> Progress {
    Progress {
        namespace: "ns".into(),
        name: "agent".into(),
        generation: 2,
        observed_generation: 2,
        strategy: Strategy::RollingUpdate,
        update_strategy: "RollingUpdate (maxUnavailable 1, maxSurge 0)".into(),
        min_ready_seconds: 0,
        counts: Counts {
            desired: 5,
            current: 5,
            updated,
            ready,
            available,
            misscheduled: 0,
        },
        updated_available: updated.min(available),
        revision: Some("6d9f8b7c5".into()),
        images: vec![("agent".into(), "registry.example/agent:2.0".into())],
        holdups,
        warnings: vec![],
        phase: if updated == 5 && available == 5 {
            Phase::Complete
        } else {
            Phase::Progressing
        },
    }
}

fn crash() -> NodeHoldup {
    holdup(
        "node-2",
        Holdup::NotReady,
        "container agent is waiting: CrashLoopBackOff",
    )
}

#[test]
fn durations_are_short() {
    let cases = [
        (0, "0s"),
        (42, "42s"),
        (59, "59s"),
        (60, "1m00s"),
        (125, "2m05s"),
        (3900, "1h05m"),
    ];
    for (secs, want) in cases {
        assert_eq!(duration_text(Duration::from_secs(secs)), want);
    }
    assert_eq!(
        duration_text(Duration::from_millis(1600)),
        "2s",
        "rounded, not truncated"
    );
}

#[test]
fn status_line_has_counts_eta_and_the_nodes_waited_on() {
    let p = progress(3, 4, 4, vec![crash()]);
    assert_eq!(
        status_text(&p, Some(Duration::from_secs(40))),
        "daemonset/agent updated 3/5 ready 4/5 available 4/5 (eta 40s); \
         waiting on node-2: container agent is waiting: CrashLoopBackOff"
    );
}

#[test]
fn problems_are_named_before_nodes_that_wait_their_turn() {
    let p = progress(
        1,
        4,
        4,
        vec![crash(), holdup("node-1", Holdup::Outdated, "waits its turn")],
    );
    let text = status_text(&p, None);
    assert!(text.contains("node-2: container agent"), "{text}");
    assert!(
        !text.contains("node-1"),
        "queued nodes are not named next to problems: {text}"
    );
    let queued = progress(
        1,
        5,
        5,
        vec![holdup("node-1", Holdup::Outdated, "waits its turn")],
    );
    assert!(status_text(&queued, None).contains("waiting on node-1: waits its turn"));
}

#[test]
fn long_holdup_lists_are_cut_with_a_count() {
    let hs: Vec<NodeHoldup> = (1..=5)
        .map(|i| holdup(&format!("n{i}"), Holdup::NotReady, "x"))
        .collect();
    let refs: Vec<&NodeHoldup> = hs.iter().collect();
    assert_eq!(holdups_text(&refs, 3), "n1: x; n2: x; n3: x (+2 more)");
    assert_eq!(holdups_text(&refs[..2], 3), "n1: x; n2: x");
}

#[test]
fn on_delete_counts_the_pods_awaiting_deletion() {
    let mut p = progress(
        1,
        5,
        5,
        vec![
            holdup("n1", Holdup::Outdated, "awaits deletion"),
            holdup("n2", Holdup::Outdated, "awaits deletion"),
        ],
    );
    p.strategy = Strategy::OnDelete;
    p.update_strategy = "OnDelete".into();
    let text = status_text(&p, None);
    assert!(
        text.contains("; 2 outdated pods awaiting deletion; waiting on n1: awaits deletion"),
        "{text}"
    );
    assert!(header_text(&p).contains("OnDelete: pods are replaced only when they are deleted"));
}

#[test]
fn waiting_for_the_controller_is_said_plainly() {
    let mut p = progress(5, 5, 5, vec![]);
    p.generation = 3;
    p.phase = Phase::WaitingForController {
        generation: 3,
        observed: 2,
    };
    assert!(
        status_text(&p, None).contains("waiting for the controller to observe generation 3 (observed 2)")
    );
}

#[test]
fn final_lines_state_the_outcome_and_the_counts() {
    let done = progress(5, 5, 5, vec![]);
    let stuck = progress(3, 4, 4, vec![crash()]);
    let cases = [
        (
            &done,
            Ending::RolledOut,
            "daemonset/agent successfully rolled out in 1m05s: updated 5/5 ready 5/5 available 5/5 (revision 6d9f8b7c5)",
        ),
        (
            &stuck,
            Ending::Stalled {
                deadline: Duration::from_secs(10),
            },
            "daemonset/agent rollout stalled: no progress for 10s (--progress-deadline): updated 3/5 ready 4/5 \
             available 4/5; held up by node-2: container agent is waiting: CrashLoopBackOff",
        ),
        (
            &stuck,
            Ending::TimedOut {
                after: Duration::from_secs(30),
            },
            "daemonset/agent timed out after 30s (--timeout) before the rollout finished: updated 3/5 ready 4/5 \
             available 4/5; held up by node-2: container agent is waiting: CrashLoopBackOff",
        ),
    ];
    for (p, ending, want) in cases {
        assert_eq!(final_text(p, ending, Duration::from_secs(65)), want);
    }
    assert!(detail_lines(&done, Ending::RolledOut).is_empty());
    assert_eq!(
        detail_lines(
            &stuck,
            Ending::Stalled {
                deadline: Duration::from_secs(10)
            }
        ),
        ["daemonset/agent   node node-2 (pod agent-node-2): container agent is waiting: CrashLoopBackOff"]
    );
}

fn lines_output(steps: &[(Progress, Option<Duration>)]) -> Vec<String> {
    let mut lines = Lines::new(Vec::new());
    let now: Timestamp = "2026-11-21T19:40:01Z".parse().unwrap();
    for (p, eta) in steps {
        lines
            .update(
                p,
                Timing {
                    eta: *eta,
                    ..Default::default()
                },
                now,
            )
            .unwrap();
    }
    String::from_utf8(lines.into_inner())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn one_line_per_change_and_none_when_nothing_changed() {
    let out = lines_output(&[
        (progress(2, 5, 5, vec![]), None),
        (progress(2, 5, 5, vec![]), None),
        (progress(2, 5, 5, vec![]), Some(Duration::from_secs(30))),
        (progress(3, 4, 4, vec![crash()]), Some(Duration::from_secs(20))),
    ]);
    assert_eq!(
        out,
        [
            "2026-11-21T19:40:01Z daemonset/agent generation 2: revision 6d9f8b7c5, images \
             agent=registry.example/agent:2.0; RollingUpdate (maxUnavailable 1, maxSurge 0)",
            "2026-11-21T19:40:01Z daemonset/agent updated 2/5 ready 5/5 available 5/5",
            "2026-11-21T19:40:01Z daemonset/agent updated 3/5 ready 4/5 available 4/5 (eta 20s); \
             waiting on node-2: container agent is waiting: CrashLoopBackOff",
        ]
    );
}

#[test]
fn a_notice_is_printed_once_per_interruption() {
    let mut lines = Lines::new(Vec::new());
    let now: Timestamp = "2026-11-21T19:40:01Z".parse().unwrap();
    lines.notice("lost the connection", now).unwrap();
    lines.notice("lost the connection", now).unwrap();
    lines
        .update(&progress(2, 5, 5, vec![]), Timing::default(), now)
        .unwrap();
    lines.notice("lost the connection", now).unwrap();
    let out = String::from_utf8(lines.into_inner()).unwrap();
    assert_eq!(out.matches("lost the connection").count(), 2, "{out}");
}

#[test]
fn timestamps_are_utc_seconds() {
    let t: Timestamp = "2026-11-21T19:40:01.734Z".parse().unwrap();
    assert_eq!(timestamp(t), "2026-11-21T19:40:01Z");
}
