//! One DaemonSet's health as `status` reports it: the controller's counters, the update strategy
//! and whether `kubectl ds pause` holds it (both from `engine::history`, which `resume` asks too),
//! and where the counters lag behind what the controller's own rules now give.

use k8s_openapi::api::apps::v1::DaemonSet;
use serde::Serialize;

use super::history;
use super::verdict::{Verdict, VerdictKind};

/// One DaemonSet's counters, as the controller reports them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub namespace: String,
    pub name: String,
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
    pub up_to_date: i32,
    pub available: i32,
    pub misscheduled: i32,
    pub update_strategy: String,
    pub paused: bool,
    pub observed_generation: i64,
    pub generation: i64,
    pub created: Option<String>,
}

impl Summary {
    pub fn of(ds: &DaemonSet) -> Summary {
        let s = ds.status.clone().unwrap_or_default();
        // One home for the strategy's text and for "paused": the engine (engine::history), which
        // `resume` asks too, so the two never disagree.
        let update_strategy = history::describe_strategy(&history::update_strategy(ds));
        let paused = matches!(
            history::pause_state(ds),
            history::PauseState::Paused { .. } | history::PauseState::Malformed { .. }
        );
        Summary {
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            name: ds.metadata.name.clone().unwrap_or_default(),
            desired: s.desired_number_scheduled,
            current: s.current_number_scheduled,
            ready: s.number_ready,
            up_to_date: s.updated_number_scheduled.unwrap_or(0),
            available: s.number_available.unwrap_or(0),
            misscheduled: s.number_misscheduled,
            update_strategy,
            paused,
            observed_generation: s.observed_generation.unwrap_or(0),
            generation: ds.metadata.generation.unwrap_or(0),
            created: ds.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        }
    }

    pub fn healthy(&self) -> bool {
        self.available >= self.desired && self.misscheduled == 0
    }
}

/// The controller's counters lag behind the nodes: what its own rules give now. Since 1.36 it
/// does not re-sync a DaemonSet when a node that runs its pod gains a NoSchedule-only taint (such
/// as not-ready), so `desiredNumberScheduled` and `numberMisscheduled` wait for its next sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drift {
    pub desired_now: i32,
    pub misscheduled_now: i32,
}

pub fn counter_drift(summary: &Summary, verdicts: &[Verdict]) -> Option<Drift> {
    let desired_now = verdicts.iter().filter(|v| v.should_run).count() as i32;
    let misscheduled_now = verdicts
        .iter()
        .filter(|v| v.verdict == VerdictKind::Misscheduled)
        .count() as i32;
    (desired_now != summary.desired || misscheduled_now != summary.misscheduled).then_some(Drift {
        desired_now,
        misscheduled_now,
    })
}

/// The verdicts whose pod runs an older revision.
pub fn outdated(verdicts: &[Verdict]) -> Vec<&Verdict> {
    verdicts.iter().filter(|v| v.updated == Some(false)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ds(strategy: serde_json::Value, record: bool) -> DaemonSet {
        let mut annotations = serde_json::Map::new();
        if record {
            annotations.insert(
                history::PAUSE_ANNOTATION.into(),
                json!(r#"{"pausedAt": "2025-01-01T00:00:00Z", "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2, "maxSurge": 0}}}"#),
            );
        }
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "ns", "annotations": annotations},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "updateStrategy": strategy,
                     "template": {"spec": {"containers": []}}}
        }))
        .unwrap()
    }

    #[test]
    fn paused_is_what_resume_sees() {
        let rolling = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2, "maxSurge": 0}});
        // The strategy was set back to RollingUpdate by hand after `pause`: the record is stale
        // and `resume` says "is not paused"; status must not say paused.
        let stale = Summary::of(&ds(rolling.clone(), true));
        assert!(!stale.paused);
        assert_eq!(
            stale.update_strategy,
            "RollingUpdate (maxUnavailable 2, maxSurge 0)"
        );
        assert!(Summary::of(&ds(json!({"type": "OnDelete"}), true)).paused);
        assert!(
            !Summary::of(&ds(json!({"type": "OnDelete"}), false)).paused,
            "OnDelete set by hand is not a pause"
        );
        assert!(!Summary::of(&ds(rolling, false)).paused);
    }
}
