//! Revisions, rollback, pause and restart, decided over plain data (semantics §6.1, §7.2–7.5):
//! which ControllerRevisions a DaemonSet has and which one is current, what `undo` rolls back to,
//! how two pod templates differ, the record `pause` leaves behind, and the exact body of every
//! write. The commands fetch and send; nothing here talks to a cluster.
//!
//! **How "current" is decided.** The controller marks a revision current when its `data` is
//! byte-equal to the patch it would write for the DaemonSet's template today:
//! `{"spec":{"template":{…template…,"$patch":"replace"}}}` (§6.1 `Match`). Those bytes come from
//! Go's encoder and cannot be reproduced here, and the typed client has already dropped Go's zero
//! values (`"creationTimestamp": null`) from the DaemonSet it read. So both sides are normalized the
//! same way before comparing them as `serde_json::Value`s: the template is read into the typed
//! `PodTemplateSpec` and serialized again. Nulls and empty-vs-missing quirks then agree on both
//! sides; the known limit is that a field this build's API types do not know is ignored on both
//! sides alike.
//!
//! One file per verb, as kubectl keeps its rollback, pauser, resumer and restarter helpers apart:
//! this one lists the revisions and says which is current; `rollback`, `diff`, `pause` (and resume),
//! `restart`, and `write` (what every conditional write needs).

mod diff;
#[cfg(test)]
mod fixtures;
mod pause;
mod restart;
mod rollback;
mod write;

pub use diff::*;
pub use pause::*;
pub use restart::*;
pub use rollback::*;
pub use write::*;

use super::pods::revision_hash as pod_revision_hash;
use super::revisions::revision_hash;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// The DaemonSet annotation copied into a revision when the revision is created.
pub const CHANGE_CAUSE_ANNOTATION: &str = "kubernetes.io/change-cause";
/// kubectl apply's record; undo does not update it, so kubectl warns (§7.3) and so do we.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The template annotation `kubectl rollout restart` sets (§7.4).
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";
/// Where `kubectl ds pause` records the update strategy it replaced with OnDelete.
pub const PAUSE_ANNOTATION: &str = "kubectl-ds/paused-update-strategy";

pub const ROLLING_UPDATE: &str = "RollingUpdate";
pub const ON_DELETE: &str = "OnDelete";
const PATCH_DIRECTIVE: &str = "$patch";

/// One ControllerRevision of a DaemonSet.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub revision: i64,
    pub name: String,
    /// The `controller-revision-hash` label; the controller sets it to the revision's own name
    /// when it is missing (§6.1), so that is what pods carry then.
    pub hash: String,
    pub change_cause: Option<String>,
    pub created: Option<Timestamp>,
    /// `data` as stored: the strategic-merge patch that replaces the whole template.
    pub data: Value,
}

impl Revision {
    pub fn from_controller_revision(cr: &ControllerRevision) -> Revision {
        let name = cr.metadata.name.clone().unwrap_or_default();
        let hash = revision_hash(cr);
        let change_cause = cr
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(CHANGE_CAUSE_ANNOTATION))
            .filter(|c| !c.is_empty())
            .cloned();
        Revision {
            revision: cr.revision,
            name,
            hash,
            change_cause,
            created: cr.metadata.creation_timestamp.as_ref().map(|t| t.0),
            data: cr.data.as_ref().map(|d| d.0.clone()).unwrap_or(Value::Null),
        }
    }

    /// The change cause as `kubectl rollout history` prints it.
    pub fn change_cause_or_none(&self) -> &str {
        self.change_cause.as_deref().unwrap_or("<none>")
    }

    /// The pod template this revision restores, normalized (no `$patch` directive).
    pub fn template(&self) -> Result<Value, BadRevision> {
        let bad = |why: String| BadRevision {
            revision: self.revision,
            name: self.name.clone(),
            why,
        };
        let template = self
            .data
            .get("spec")
            .and_then(|s| s.get("template"))
            .ok_or_else(|| bad("its data has no spec.template".into()))?;
        normalize_template(template).map_err(bad)
    }

    /// Container images of the template, in order; empty when the data is unreadable.
    pub fn images(&self) -> Vec<String> {
        self.template().map(|t| images(&t)).unwrap_or_default()
    }
}

/// A revision whose `data` is not a pod template patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRevision {
    pub revision: i64,
    pub name: String,
    pub why: String,
}

impl fmt::Display for BadRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "revision {} (ControllerRevision {}) does not hold a pod template: {}",
            self.revision, self.name, self.why
        )
    }
}

/// The DaemonSet's revisions in ascending order, one per revision number; for a repeated number
/// the one listed last wins (mirrors `DaemonSetHistoryViewer`, kubectl).
pub fn revisions(crs: &[ControllerRevision]) -> Vec<Revision> {
    let mut by_number: BTreeMap<i64, Revision> = BTreeMap::new();
    for cr in crs {
        by_number.insert(cr.revision, Revision::from_controller_revision(cr));
    }
    by_number.into_values().collect()
}

/// The template read into the typed `PodTemplateSpec` and written out again, without `$patch`.
fn normalize_template(template: &Value) -> Result<Value, String> {
    let mut template = template.clone();
    match template.as_object_mut() {
        Some(map) => {
            map.remove(PATCH_DIRECTIVE);
        }
        None => return Err("spec.template is not an object".into()),
    }
    let typed: PodTemplateSpec =
        serde_json::from_value(template).map_err(|e| format!("spec.template is not a pod template: {e}"))?;
    Ok(template_value(&typed))
}

/// A typed template as JSON (Go's zero values are absent, as after normalization).
pub fn template_value(template: &PodTemplateSpec) -> Value {
    serde_json::to_value(template).unwrap_or(Value::Null)
}

/// The revision payload the controller writes for this template (§6.1 `getPatch`), normalized.
pub fn template_patch(template: &PodTemplateSpec) -> Value {
    let mut t = template_value(template);
    if let Some(map) = t.as_object_mut() {
        map.insert(PATCH_DIRECTIVE.into(), Value::String("replace".into()));
    }
    json!({"spec": {"template": t}})
}

/// A revision's data with its template normalized; anything else in it is kept as is, so extra
/// content makes it differ, as it does for the controller's byte comparison.
fn normalize_data(data: &Value) -> Option<Value> {
    let mut data = data.clone();
    let template = data.get_mut("spec")?.get_mut("template")?;
    let directive = template.get(PATCH_DIRECTIVE).cloned();
    let mut normalized = normalize_template(template).ok()?;
    if let (Some(d), Some(map)) = (directive, normalized.as_object_mut()) {
        map.insert(PATCH_DIRECTIVE.into(), d);
    }
    *template = normalized;
    Some(data)
}

/// Whether a revision holds exactly this template (mirrors `Match`, pkg/controller/daemon; see the
/// module docs for the normalization).
pub fn matches(template: &PodTemplateSpec, data: &Value) -> bool {
    normalize_data(data).is_some_and(|d| d == template_patch(template))
}

/// The current revision among revisions already read as [`Revision`]s: the highest-numbered one
/// matching the template (§6.1), by the same rule as `engine::revisions::current`. None means the
/// controller has not recorded the template yet.
pub fn current_revision<'a>(template: &PodTemplateSpec, revisions: &'a [Revision]) -> Option<&'a Revision> {
    revisions
        .iter()
        .filter(|r| matches(template, &r.data))
        .max_by_key(|r| r.revision)
}

/// The pod template of a DaemonSet, if it has a spec.
pub fn daemonset_template(ds: &DaemonSet) -> Option<&PodTemplateSpec> {
    ds.spec.as_ref().map(|s| &s.template)
}

fn images(template: &Value) -> Vec<String> {
    template
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("image").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// How many pods carry each `controller-revision-hash`.
pub fn pods_by_hash(pods: &[Pod]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for pod in pods {
        if let Some(hash) = pod_revision_hash(pod) {
            *counts.entry(hash.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// One row of `kubectl ds history`, and one object of its `-o json|yaml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionSummary {
    pub revision: i64,
    pub name: String,
    pub hash: String,
    pub change_cause: Option<String>,
    pub images: Vec<String>,
    pub created: Option<Timestamp>,
    /// Pods of the DaemonSet carrying this revision's hash now.
    pub pods: usize,
    /// The revision whose template is the DaemonSet's template now.
    pub current: bool,
    /// The pod template the revision restores (null when its data is unreadable).
    pub template: Option<Value>,
}

/// What `kubectl ds history` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub daemonset: String,
    pub namespace: String,
    /// None: no revision matches the current template; the controller has not caught up.
    pub current_revision: Option<i64>,
    pub generation: Option<i64>,
    pub observed_generation: Option<i64>,
    pub revisions: Vec<RevisionSummary>,
}

pub fn summarize(ds: &DaemonSet, revisions: &[Revision], pods: &[Pod]) -> History {
    let current = daemonset_template(ds)
        .and_then(|t| current_revision(t, revisions))
        .map(|r| r.revision);
    let counts = pods_by_hash(pods);
    let rows = revisions
        .iter()
        .map(|r| RevisionSummary {
            revision: r.revision,
            name: r.name.clone(),
            hash: r.hash.clone(),
            change_cause: r.change_cause.clone(),
            images: r.images(),
            created: r.created,
            pods: counts.get(&r.hash).copied().unwrap_or(0),
            current: Some(r.revision) == current,
            template: r.template().ok(),
        })
        .collect();
    History {
        daemonset: ds.metadata.name.clone().unwrap_or_default(),
        namespace: ds.metadata.namespace.clone().unwrap_or_default(),
        current_revision: current,
        generation: ds.metadata.generation,
        observed_generation: ds.status.as_ref().and_then(|s| s.observed_generation),
        revisions: rows,
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn match_ignores_go_zero_values_but_not_real_differences() {
        let cases = [
            ("same image, Go nulls in the data", go_data("a:1"), true),
            ("other image", go_data("a:2"), false),
            (
                "data without the $patch directive",
                json!({"spec": {"template": template_value(&template("a:1"))}}),
                false,
            ),
            (
                "data with an extra top-level key",
                {
                    let mut d = go_data("a:1");
                    d["metadata"] = json!({"x": 1});
                    d
                },
                false,
            ),
            (
                "data that is not a template",
                json!({"spec": {"template": "nope"}}),
                false,
            ),
            ("no data", Value::Null, false),
        ];
        for (name, data, want) in cases {
            assert_eq!(matches(&template("a:1"), &data), want, "{name}");
        }
    }

    #[test]
    fn match_agrees_with_the_current_revision_the_other_commands_use() {
        let ds = daemonset("a:1", json!({"type": "RollingUpdate"}), json!({}));
        for image in ["a:1", "a:2"] {
            let c = cr("agent-1", 1, go_data(image), Some("h"), None);
            assert_eq!(
                matches(daemonset_template(&ds).unwrap(), &go_data(image)),
                super::super::revisions::matches_template(&ds, &c),
                "{image}"
            );
        }
    }

    #[test]
    fn revisions_are_ascending_and_a_repeated_number_keeps_the_last_listed() {
        let crs = [
            cr("agent-b", 2, go_data("a:2"), Some("b"), None),
            cr("agent-a", 1, go_data("a:1"), Some("a"), None),
            cr("agent-c", 2, go_data("a:3"), Some("c"), None),
        ];
        let revs = revisions(&crs);
        let seen: Vec<(i64, &str)> = revs.iter().map(|r| (r.revision, r.name.as_str())).collect();
        assert_eq!(seen, [(1, "agent-a"), (2, "agent-c")]);
    }

    #[test]
    fn history_a_revision_without_the_hash_label_is_counted_by_its_own_name() {
        let r = Revision::from_controller_revision(&cr("agent-7f9c", 1, go_data("a:1"), None, None));
        assert_eq!(r.hash, "agent-7f9c");
        let pods = [pod("agent-7f9c"), pod("agent-7f9c"), pod("other")];
        let ds = daemonset("a:1", json!({"type": "RollingUpdate"}), json!({}));
        let h = summarize(&ds, &[r], &pods);
        assert_eq!(h.revisions[0].pods, 2);
    }

    #[test]
    fn history_change_cause_shows_none_when_empty_or_missing() {
        let cases = [
            (None, "<none>"),
            (Some(""), "<none>"),
            (Some("kubectl set image"), "kubectl set image"),
        ];
        for (cause, shown) in cases {
            let r = Revision::from_controller_revision(&cr("agent-1", 1, go_data("a:1"), Some("h"), cause));
            assert_eq!(r.change_cause_or_none(), shown, "{cause:?}");
        }
    }

    #[test]
    fn history_summary_marks_the_matching_revision_and_counts_pods() {
        let revs = [rev(1, "a:1"), rev(2, "a:2"), rev(3, "a:3")];
        let ds = daemonset("a:2", json!({"type": "RollingUpdate"}), json!({}));
        let pods = [pod("h2"), pod("h2"), pod("h3")];
        let h = summarize(&ds, &revs, &pods);
        assert_eq!(h.current_revision, Some(2));
        let rows: Vec<(i64, usize, bool, Vec<String>)> = h
            .revisions
            .iter()
            .map(|r| (r.revision, r.pods, r.current, r.images.clone()))
            .collect();
        assert_eq!(
            rows,
            [
                (1, 0, false, vec!["a:1".to_string()]),
                (2, 2, true, vec!["a:2".to_string()]),
                (3, 1, false, vec!["a:3".to_string()]),
            ]
        );
        assert_eq!(
            h.revisions[0].created,
            Some("2025-01-01T00:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn history_no_matching_revision_means_the_controller_has_not_caught_up() {
        let revs = [rev(1, "a:1"), rev(2, "a:2")];
        let ds = daemonset("a:9", json!({"type": "RollingUpdate"}), json!({}));
        assert_eq!(summarize(&ds, &revs, &[]).current_revision, None);
    }

    #[test]
    fn history_revision_bumped_on_rollback_is_current_under_its_new_number() {
        // After undo to revision 1 the controller reuses that revision and renumbers it 3 (§6.1).
        let mut reused = rev(1, "a:1");
        reused.revision = 3;
        let revs = [rev(2, "a:2"), reused];
        let ds = daemonset("a:1", json!({"type": "RollingUpdate"}), json!({}));
        assert_eq!(
            current_revision(daemonset_template(&ds).unwrap(), &revs).map(|r| r.revision),
            Some(3)
        );
        // And the next plain undo goes back to 2.
        assert_eq!(undo_target(&revs, 0).unwrap().revision, 2);
    }

    #[test]
    fn current_revision_prefers_the_highest_of_several_matches() {
        let revs = [rev(1, "a:1"), rev(2, "a:2"), rev(4, "a:1")];
        assert_eq!(
            current_revision(&template("a:1"), &revs).map(|r| r.revision),
            Some(4)
        );
    }
}
