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

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::pods::revision_hash as pod_revision_hash;
use super::revisions::revision_hash;

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

// ---------------------------------------------------------------------------------------------
// Revisions
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Choosing a revision
// ---------------------------------------------------------------------------------------------

/// Why a requested revision cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Revision numbers start at 1; the user typed a negative one.
    Negative { requested: i64, existing: Vec<i64> },
    /// No revision has that number.
    Unknown { requested: i64, existing: Vec<i64> },
    /// `undo` without `--to-revision` and fewer than two revisions.
    NothingToRollBackTo { existing: Vec<i64> },
}

fn list(existing: &[i64]) -> String {
    let numbers: Vec<String> = existing.iter().map(i64::to_string).collect();
    numbers.join(", ")
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let have = |existing: &[i64]| match existing {
            [] => "it has no revisions yet".to_string(),
            [one] => format!("its only revision is {one}"),
            many => format!("its revisions are {}", list(many)),
        };
        match self {
            TargetError::Negative { requested, existing } => write!(
                f,
                "revision {requested} is not a revision number (they start at 1); {}",
                have(existing)
            ),
            TargetError::Unknown { requested, existing } => {
                write!(f, "there is no revision {requested}; {}", have(existing))
            }
            TargetError::NothingToRollBackTo { existing } => {
                write!(f, "there is nothing to roll back to: {}", have(existing))
            }
        }
    }
}

fn numbers(revisions: &[Revision]) -> Vec<i64> {
    revisions.iter().map(|r| r.revision).collect()
}

/// The revision numbered `n` (for `history --revision`, `--diff` and `undo --to-revision`).
pub fn find_revision(revisions: &[Revision], n: i64) -> Result<&Revision, TargetError> {
    if n < 0 {
        return Err(TargetError::Negative {
            requested: n,
            existing: numbers(revisions),
        });
    }
    revisions
        .iter()
        .find(|r| r.revision == n)
        .ok_or_else(|| TargetError::Unknown {
            requested: n,
            existing: numbers(revisions),
        })
}

/// What `undo --to-revision N` rolls back to: with 0, the second-highest revision, which is not
/// necessarily the one before the current (mirrors `findHistory`, kubectl rollback.go).
pub fn undo_target(revisions: &[Revision], to_revision: i64) -> Result<&Revision, TargetError> {
    if to_revision != 0 {
        return find_revision(revisions, to_revision);
    }
    // `revisions` is ascending with unique numbers.
    match revisions {
        [.., second, _] => Ok(second),
        _ => Err(TargetError::NothingToRollBackTo {
            existing: numbers(revisions),
        }),
    }
}

/// What `undo` will do.
#[derive(Debug, Clone, PartialEq)]
pub enum UndoPlan {
    /// The template already is the target's; nothing to send.
    AlreadyMatches,
    /// Send the target's data; these are the template changes it makes.
    Rollback { changes: Vec<Change> },
}

pub fn plan_undo(template: &PodTemplateSpec, target: &Revision) -> Result<UndoPlan, BadRevision> {
    let target_template = target.template()?;
    if matches(template, &target.data) {
        return Ok(UndoPlan::AlreadyMatches);
    }
    let changes = diff_templates(&template_value(template), &target_template);
    Ok(UndoPlan::Rollback { changes })
}

/// The undo PATCH (strategic merge): exactly the revision's data, which replaces the whole
/// template (§7.3), plus the resourceVersion it was computed against, so the server refuses it
/// with 409 Conflict if the DaemonSet changed in between.
pub fn undo_patch(target: &Revision, resource_version: &str) -> Result<Value, BadRevision> {
    if !target.data.is_object() {
        return Err(BadRevision {
            revision: target.revision,
            name: target.name.clone(),
            why: "its data is not a JSON object".into(),
        });
    }
    Ok(with_resource_version(target.data.clone(), resource_version))
}

/// Whether `now` differs from `read` only in what the controller writes on its own (status,
/// managedFields, resourceVersion): then a write computed from `read` is still right and may be
/// retried at `now`'s version. Any change to spec, labels, annotations, owners, finalizers or
/// deletion is another writer's edit and must not be overwritten.
pub fn only_status_changed(read: &DaemonSet, now: &DaemonSet) -> bool {
    let (r, n) = (&read.metadata, &now.metadata);
    read.spec == now.spec
        && r.uid == n.uid
        && r.generation == n.generation
        && r.labels == n.labels
        && r.annotations == n.annotations
        && r.owner_references == n.owner_references
        && r.finalizers == n.finalizers
        && r.deletion_timestamp == n.deletion_timestamp
}

/// Adds `metadata.resourceVersion` to a patch body (an object), keeping any other metadata.
pub fn with_resource_version(mut body: Value, resource_version: &str) -> Value {
    if let Some(map) = body.as_object_mut() {
        let metadata = map.entry("metadata").or_insert_with(|| json!({}));
        if !metadata.is_object() {
            *metadata = json!({});
        }
        if let Some(m) = metadata.as_object_mut() {
            m.insert("resourceVersion".into(), Value::String(resource_version.into()));
        }
    }
    body
}

// ---------------------------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------------------------

/// One field that differs between two templates, by JSON pointer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Change {
    Added { path: String, new: Value },
    Removed { path: String, old: Value },
    Changed { path: String, old: Value, new: Value },
}

impl Change {
    pub fn sign(&self) -> char {
        match self {
            Change::Added { .. } => '+',
            Change::Removed { .. } => '-',
            Change::Changed { .. } => '~',
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        match self {
            Change::Added { path, new } => write!(f, "+ {path}: {}", show(new)),
            Change::Removed { path, old } => write!(f, "- {path}: {}", show(old)),
            Change::Changed { path, old, new } => write!(f, "~ {path}: {} → {}", show(old), show(new)),
        }
    }
}

/// Field-by-field changes from `old` to `new`, from `json_patch::diff`. Old values are read from
/// a copy the operations are applied to one by one, so they stay right when array elements are
/// removed; removed array elements are shown at their index in `old`.
pub fn diff_templates(old: &Value, new: &Value) -> Vec<Change> {
    let patch = json_patch::diff(old, new);
    let mut working = old.clone();
    let mut removed_at: BTreeMap<String, usize> = BTreeMap::new();
    let mut changes = Vec::new();
    for op in patch.0 {
        let path = op.path().to_string();
        let before = working.pointer(&path).cloned();
        let change = match &op {
            json_patch::PatchOperation::Add(a) => Some(Change::Added {
                path: path.clone(),
                new: a.value.clone(),
            }),
            json_patch::PatchOperation::Replace(r) => Some(Change::Changed {
                path: path.clone(),
                old: before.clone().unwrap_or(Value::Null),
                new: r.value.clone(),
            }),
            json_patch::PatchOperation::Remove(_) => {
                // The diff removes trailing array elements at one shifting index; count them
                // back to their original positions.
                let seen = removed_at.entry(path.clone()).or_insert(0);
                let shown = original_index(&path, *seen);
                *seen += 1;
                Some(Change::Removed {
                    path: shown,
                    old: before.clone().unwrap_or(Value::Null),
                })
            }
            _ => None,
        };
        changes.extend(change);
        let _ = json_patch::patch(&mut working, std::slice::from_ref(&op));
    }
    changes
}

/// `/a/b/3` with `offset` 2 becomes `/a/b/5`; a path not ending in an index is returned as is.
fn original_index(path: &str, offset: usize) -> String {
    if offset == 0 {
        return path.to_string();
    }
    match path.rsplit_once('/') {
        Some((parent, last)) => match last.parse::<usize>() {
            Ok(i) => format!("{parent}/{}", i + offset),
            Err(_) => path.to_string(),
        },
        None => path.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Pause and resume
// ---------------------------------------------------------------------------------------------

/// What `kubectl ds pause` stores in [`PAUSE_ANNOTATION`]: the strategy it replaced and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PauseRecord {
    pub paused_at: Option<Timestamp>,
    /// `spec.updateStrategy` as it was, exactly (type and rollingUpdate values).
    pub update_strategy: Value,
}

impl PauseRecord {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a record, refusing anything `resume` could not restore faithfully.
    pub fn decode(raw: &str) -> Result<PauseRecord, String> {
        let record: PauseRecord = serde_json::from_str(raw)
            .map_err(|e| format!("it is not valid JSON of the expected shape ({e})"))?;
        let strategy = record
            .update_strategy
            .as_object()
            .ok_or("updateStrategy is not an object")?;
        match strategy.get("type").and_then(Value::as_str) {
            Some(ROLLING_UPDATE | ON_DELETE) => {}
            Some(other) => {
                return Err(format!(
                    "updateStrategy.type {other:?} is neither RollingUpdate nor OnDelete"
                ));
            }
            None => return Err("updateStrategy.type is missing".into()),
        }
        match strategy.get("rollingUpdate") {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return Err("updateStrategy.rollingUpdate is not an object".into()),
        }
        if let Some(extra) = strategy.keys().find(|k| *k != "type" && *k != "rollingUpdate") {
            return Err(format!("updateStrategy has an unknown field {extra:?}"));
        }
        Ok(record)
    }
}

/// Where a DaemonSet stands as far as pause and resume are concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum PauseState {
    /// Rolling out normally (or OnDelete with a leftover record of ours, see `Stale`).
    NotPaused { strategy: Value },
    /// Paused by `kubectl ds pause`: OnDelete plus a readable record.
    Paused { record: PauseRecord },
    /// OnDelete that `kubectl ds pause` did not set: there is no rollout to pause.
    OnDeleteNotOurs,
    /// Our record is there but the strategy is no longer OnDelete: someone changed it back
    /// by hand. The record is stale; the DaemonSet is not paused.
    Stale { strategy: Value },
    /// OnDelete with a record that cannot be read: what to restore is unknown.
    Malformed { raw: String, why: String },
}

/// `spec.updateStrategy` as JSON; absent means the API default, RollingUpdate.
pub fn update_strategy(ds: &DaemonSet) -> Value {
    ds.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| serde_json::to_value(u).ok())
        .filter(|v| v.get("type").is_some())
        .unwrap_or_else(|| json!({"type": ROLLING_UPDATE}))
}

pub fn strategy_type(strategy: &Value) -> &str {
    strategy
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(ROLLING_UPDATE)
}

pub fn pause_state(ds: &DaemonSet) -> PauseState {
    let strategy = update_strategy(ds);
    let raw = ds
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PAUSE_ANNOTATION));
    let on_delete = strategy_type(&strategy) == ON_DELETE;
    match (raw, on_delete) {
        (None, false) => PauseState::NotPaused { strategy },
        (None, true) => PauseState::OnDeleteNotOurs,
        (Some(_), false) => PauseState::Stale { strategy },
        (Some(raw), true) => match PauseRecord::decode(raw) {
            Ok(record) => PauseState::Paused { record },
            Err(why) => PauseState::Malformed {
                raw: raw.clone(),
                why,
            },
        },
    }
}

/// "RollingUpdate (maxUnavailable 1, maxSurge 0)", "OnDelete".
pub fn describe_strategy(strategy: &Value) -> String {
    let kind = strategy_type(strategy);
    let Some(ru) = strategy.get("rollingUpdate").and_then(Value::as_object) else {
        return kind.to_string();
    };
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let parts: Vec<String> = ["maxUnavailable", "maxSurge"]
        .iter()
        .filter_map(|k| ru.get(*k).map(|v| format!("{k} {}", show(v))))
        .collect();
    if parts.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({})", parts.join(", "))
    }
}

/// The pause write (JSON merge patch): record the strategy and switch to OnDelete in one
/// conditional request.
pub fn pause_patch(strategy: &Value, paused_at: Timestamp, resource_version: &str) -> Value {
    let record = PauseRecord {
        paused_at: Some(Timestamp::from_second(paused_at.as_second()).unwrap_or(paused_at)),
        update_strategy: strategy.clone(),
    };
    let body = json!({
        "metadata": {"annotations": {PAUSE_ANNOTATION: record.encode()}},
        "spec": {"updateStrategy": {"type": ON_DELETE, "rollingUpdate": null}},
    });
    with_resource_version(body, resource_version)
}

/// The resume write (JSON merge patch): the recorded strategy exactly, and the record removed,
/// in one conditional request.
pub fn resume_patch(current: &Value, record: &PauseRecord, resource_version: &str) -> Value {
    let body = json!({
        "metadata": {"annotations": {PAUSE_ANNOTATION: null}},
        "spec": {"updateStrategy": merge_patch_between(current, &record.update_strategy)},
    });
    with_resource_version(body, resource_version)
}

/// Removes a stale record and nothing else (conditional, JSON merge patch).
pub fn drop_record_patch(resource_version: &str) -> Value {
    with_resource_version(
        json!({"metadata": {"annotations": {PAUSE_ANNOTATION: null}}}),
        resource_version,
    )
}

/// The JSON merge patch (RFC 7386) that turns `current` into `target`.
pub fn merge_patch_between(current: &Value, target: &Value) -> Value {
    match (current, target) {
        (Value::Object(c), Value::Object(t)) => {
            let mut patch = Map::new();
            for (k, tv) in t {
                match c.get(k) {
                    Some(cv) if cv == tv => {}
                    Some(cv) => {
                        patch.insert(k.clone(), merge_patch_between(cv, tv));
                    }
                    None => {
                        patch.insert(k.clone(), tv.clone());
                    }
                }
            }
            for k in c.keys().filter(|k| !t.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            Value::Object(patch)
        }
        _ => target.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Restart
// ---------------------------------------------------------------------------------------------

/// RFC 3339 at second precision in UTC, the restartedAt format (kubectl uses the local offset;
/// UTC reads the same everywhere).
pub fn restarted_at_text(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The template already carries this very restartedAt value: the restart would change nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartedThisSecond {
    pub at: String,
}

/// The restart write (JSON merge patch): set the template's restartedAt annotation, conditionally.
pub fn restart_patch(
    template: &PodTemplateSpec,
    now: Timestamp,
    resource_version: &str,
) -> Result<Value, RestartedThisSecond> {
    let at = restarted_at_text(now);
    let existing = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(RESTARTED_AT_ANNOTATION));
    if existing == Some(&at) {
        return Err(RestartedThisSecond { at });
    }
    let body = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: at}}}}});
    Ok(with_resource_version(body, resource_version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pods::REVISION_HASH_LABEL;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"containers": [{"name": "agent", "image": image, "resources": {}}],
                     "securityContext": {}}
        }))
        .unwrap()
    }

    /// The data the controller stores: Go's encoding, with its zero values and sorted keys.
    fn go_data(image: &str) -> Value {
        json!({"spec": {"template": {
            "$patch": "replace",
            "metadata": {"creationTimestamp": null, "labels": {"app": "agent"}},
            "spec": {"containers": [{"image": image, "name": "agent", "resources": {}}],
                     "securityContext": {}}
        }}})
    }

    fn cr(
        name: &str,
        revision: i64,
        data: Value,
        hash: Option<&str>,
        cause: Option<&str>,
    ) -> ControllerRevision {
        let mut meta = json!({"name": name, "creationTimestamp": "2025-01-01T00:00:00Z"});
        if let Some(h) = hash {
            meta["labels"] = json!({REVISION_HASH_LABEL: h});
        }
        if let Some(c) = cause {
            meta["annotations"] = json!({CHANGE_CAUSE_ANNOTATION: c});
        }
        serde_json::from_value(json!({"metadata": meta, "revision": revision, "data": data})).unwrap()
    }

    fn rev(n: i64, image: &str) -> Revision {
        Revision::from_controller_revision(&cr(
            &format!("agent-{n}"),
            n,
            go_data(image),
            Some(&format!("h{n}")),
            None,
        ))
    }

    fn pod(hash: &str) -> Pod {
        serde_json::from_value(json!({"metadata": {"labels": {REVISION_HASH_LABEL: hash}}})).unwrap()
    }

    fn daemonset(image: &str, strategy: Value, annotations: Value) -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "ns", "annotations": annotations,
                         "resourceVersion": "42", "generation": 3},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "updateStrategy": strategy,
                     "template": template_value(&template(image))},
            "status": {"observedGeneration": 3, "currentNumberScheduled": 0, "desiredNumberScheduled": 0,
                       "numberMisscheduled": 0, "numberReady": 0}
        }))
        .unwrap()
    }

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

    /// (case, revisions, --to-revision, the revision picked or the error)
    type UndoCase<'a> = (&'a str, &'a [Revision], i64, Result<i64, TargetError>);

    #[test]
    fn kubectl_undo_target_selection() {
        let revs = [rev(1, "a:1"), rev(2, "a:2"), rev(5, "a:5")];
        let two = [rev(1, "a:1"), rev(2, "a:2")];
        let one = [rev(1, "a:1")];
        let cases: Vec<UndoCase> = vec![
            ("0 picks the second-highest", &revs, 0, Ok(2)),
            ("0 with two picks the lower", &two, 0, Ok(1)),
            ("explicit", &revs, 1, Ok(1)),
            ("explicit current", &revs, 5, Ok(5)),
            (
                "unknown",
                &revs,
                3,
                Err(TargetError::Unknown {
                    requested: 3,
                    existing: vec![1, 2, 5],
                }),
            ),
            (
                "negative",
                &revs,
                -1,
                Err(TargetError::Negative {
                    requested: -1,
                    existing: vec![1, 2, 5],
                }),
            ),
            (
                "single revision",
                &one,
                0,
                Err(TargetError::NothingToRollBackTo { existing: vec![1] }),
            ),
            (
                "no revisions",
                &[],
                0,
                Err(TargetError::NothingToRollBackTo { existing: vec![] }),
            ),
        ];
        for (name, revs, n, want) in cases {
            assert_eq!(undo_target(revs, n).map(|r| r.revision), want, "{name}");
        }
    }

    #[test]
    fn kubectl_target_error_texts() {
        let cases = [
            (
                TargetError::Unknown {
                    requested: 7,
                    existing: vec![1, 2],
                },
                "there is no revision 7; its revisions are 1, 2",
            ),
            (
                TargetError::Negative {
                    requested: -1,
                    existing: vec![3],
                },
                "revision -1 is not a revision number (they start at 1); its only revision is 3",
            ),
            (
                TargetError::NothingToRollBackTo { existing: vec![1] },
                "there is nothing to roll back to: its only revision is 1",
            ),
            (
                TargetError::NothingToRollBackTo { existing: vec![] },
                "there is nothing to roll back to: it has no revisions yet",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn kubectl_undo_skips_when_the_template_already_matches_and_names_the_real_revision() {
        let revs = [rev(1, "a:1"), rev(2, "a:2")];
        let target = undo_target(&revs, 2).unwrap();
        assert_eq!(plan_undo(&template("a:2"), target), Ok(UndoPlan::AlreadyMatches));
        assert_eq!(
            target.revision, 2,
            "the message names revision 2, not kubectl's `revision 0`"
        );
        let target = undo_target(&revs, 0).unwrap();
        assert_eq!(
            plan_undo(&template("a:2"), target),
            Ok(UndoPlan::Rollback {
                changes: vec![Change::Changed {
                    path: "/spec/containers/0/image".into(),
                    old: json!("a:2"),
                    new: json!("a:1")
                }]
            })
        );
    }

    #[test]
    fn kubectl_undo_patch_body_is_the_revision_data_plus_the_resource_version() {
        let r = rev(1, "a:1");
        let body = undo_patch(&r, "42").unwrap();
        let mut want = go_data("a:1");
        want["metadata"] = json!({"resourceVersion": "42"});
        assert_eq!(body, want);
        let mut broken = r.clone();
        broken.data = json!("x");
        assert!(undo_patch(&broken, "42").is_err());
    }

    #[test]
    fn unreadable_revision_data_is_reported_not_guessed() {
        let mut r = rev(1, "a:1");
        r.data = json!({"spec": {"template": {"spec": {"containers": "not a list"}}}});
        let err = r.template().unwrap_err();
        assert!(
            err.to_string()
                .contains("revision 1 (ControllerRevision agent-1)"),
            "{err}"
        );
        assert!(matches!(plan_undo(&template("a:1"), &r), Err(BadRevision { .. })));
    }

    #[test]
    fn diff_names_pointer_paths_with_old_and_new_values() {
        let old = json!({"metadata": {"labels": {"app": "a", "gone": "x"}},
                         "spec": {"containers": [{"image": "agent:1.0", "name": "a"}, {"image": "b", "name": "b"}, {"image": "c", "name": "c"}]}});
        let new = json!({"metadata": {"labels": {"app": "a", "tier": "t"}},
                         "spec": {"containers": [{"image": "agent:2.0", "name": "a"}]}});
        let lines: Vec<String> = diff_templates(&old, &new)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                r#"+ /metadata/labels/tier: "t""#,
                r#"- /metadata/labels/gone: "x""#,
                r#"~ /spec/containers/0/image: "agent:1.0" → "agent:2.0""#,
                r#"- /spec/containers/1: {"image":"b","name":"b"}"#,
                r#"- /spec/containers/2: {"image":"c","name":"c"}"#,
            ]
        );
        assert!(diff_templates(&old, &old).is_empty());
    }

    #[test]
    fn diff_escapes_keys_with_slashes() {
        let old = json!({"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t1"}}});
        let new = json!({"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t2"}}});
        let lines: Vec<String> = diff_templates(&old, &new)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [r#"~ /metadata/annotations/kubectl.kubernetes.io~1restartedAt: "t1" → "t2""#]
        );
    }

    fn rolling() -> Value {
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%", "maxSurge": 0}})
    }

    #[test]
    fn pause_states() {
        let record = PauseRecord {
            paused_at: Some("2025-01-01T00:00:00Z".parse().unwrap()),
            update_strategy: rolling(),
        };
        let ours = json!({PAUSE_ANNOTATION: record.encode()});
        let cases = [
            (
                "rolling, no record",
                rolling(),
                json!({}),
                PauseState::NotPaused { strategy: rolling() },
            ),
            (
                "paused by us",
                json!({"type": "OnDelete"}),
                ours.clone(),
                PauseState::Paused {
                    record: record.clone(),
                },
            ),
            (
                "OnDelete set by its owner",
                json!({"type": "OnDelete"}),
                json!({}),
                PauseState::OnDeleteNotOurs,
            ),
            (
                "strategy changed back by hand",
                rolling(),
                ours,
                PauseState::Stale { strategy: rolling() },
            ),
            (
                "unreadable record",
                json!({"type": "OnDelete"}),
                json!({PAUSE_ANNOTATION: "{"}),
                PauseState::Malformed {
                    raw: "{".into(),
                    why: String::new(),
                },
            ),
        ];
        for (name, strategy, annotations, want) in cases {
            let got = pause_state(&daemonset("a:1", strategy, annotations));
            match (&got, &want) {
                (PauseState::Malformed { raw, why }, PauseState::Malformed { raw: want_raw, .. }) => {
                    assert_eq!(raw, want_raw, "{name}");
                    assert!(why.contains("not valid JSON"), "{name}: {why}");
                }
                _ => assert_eq!(got, want, "{name}"),
            }
        }
    }

    #[test]
    fn pause_record_round_trips_and_rejects_what_cannot_be_restored() {
        let record = PauseRecord {
            paused_at: Some("2025-01-01T00:00:00Z".parse().unwrap()),
            update_strategy: rolling(),
        };
        assert_eq!(PauseRecord::decode(&record.encode()), Ok(record));
        let bad = [
            ("not json", "not valid JSON"),
            (r#"{"pausedAt": null}"#, "not valid JSON"),
            (r#"{"updateStrategy": "RollingUpdate"}"#, "not an object"),
            (r#"{"updateStrategy": {}}"#, "type is missing"),
            (
                r#"{"updateStrategy": {"type": "Recreate"}}"#,
                "neither RollingUpdate nor OnDelete",
            ),
            (
                r#"{"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": 1}}"#,
                "rollingUpdate is not an object",
            ),
            (
                r#"{"updateStrategy": {"type": "RollingUpdate", "x": 1}}"#,
                "unknown field \"x\"",
            ),
            (
                r#"{"pausedAt": "yesterday", "updateStrategy": {"type": "OnDelete"}}"#,
                "not valid JSON",
            ),
        ];
        for (raw, why) in bad {
            let err = PauseRecord::decode(raw).unwrap_err();
            assert!(err.contains(why), "{raw}: {err}");
        }
    }

    #[test]
    fn pause_patch_records_the_strategy_and_switches_to_on_delete_conditionally() {
        let at: Timestamp = "2025-01-01T00:00:00.123Z".parse().unwrap();
        let body = pause_patch(&rolling(), at, "42");
        assert_eq!(body["metadata"]["resourceVersion"], "42");
        assert_eq!(
            body["spec"]["updateStrategy"],
            json!({"type": "OnDelete", "rollingUpdate": null})
        );
        let raw = body["metadata"]["annotations"][PAUSE_ANNOTATION]
            .as_str()
            .unwrap();
        let record = PauseRecord::decode(raw).unwrap();
        assert_eq!(record.update_strategy, rolling());
        assert_eq!(
            record.paused_at,
            Some("2025-01-01T00:00:00Z".parse().unwrap()),
            "second precision"
        );
    }

    #[test]
    fn resume_patch_restores_exactly_what_was_recorded() {
        let record = PauseRecord {
            paused_at: None,
            update_strategy: rolling(),
        };
        let current = json!({"type": "OnDelete"});
        let body = resume_patch(&current, &record, "43");
        assert_eq!(
            body["metadata"],
            json!({"resourceVersion": "43", "annotations": {PAUSE_ANNOTATION: null}})
        );
        let mut restored = current.clone();
        json_patch::merge(&mut restored, &body["spec"]["updateStrategy"]);
        assert_eq!(restored, rolling());
        // Anything added to the strategy while paused is removed again.
        let current = json!({"type": "OnDelete", "rollingUpdate": {"maxSurge": 1}});
        let mut restored = current.clone();
        json_patch::merge(
            &mut restored,
            &resume_patch(&current, &record, "1")["spec"]["updateStrategy"],
        );
        assert_eq!(restored, rolling());
    }

    #[test]
    fn merge_patch_between_turns_current_into_target() {
        let cases = [
            (
                json!({"a": 1, "b": {"c": 1, "d": 2}}),
                json!({"a": 1, "b": {"c": 2}, "e": 3}),
            ),
            (json!({"a": 1}), json!({})),
            (json!({}), json!({"a": {"b": 1}})),
            (json!({"a": {"b": 1}}), json!({"a": 5})),
        ];
        for (current, target) in cases {
            let mut doc = current.clone();
            json_patch::merge(&mut doc, &merge_patch_between(&current, &target));
            assert_eq!(doc, target, "{current} -> {target}");
        }
    }

    #[test]
    fn strategies_are_described_for_people() {
        assert_eq!(
            describe_strategy(&rolling()),
            "RollingUpdate (maxUnavailable 10%, maxSurge 0)"
        );
        assert_eq!(describe_strategy(&json!({"type": "OnDelete"})), "OnDelete");
        let ds: DaemonSet =
            serde_json::from_value(json!({"metadata": {}, "spec": {"selector": {}, "template": {}}}))
                .unwrap();
        assert_eq!(
            update_strategy(&ds),
            json!({"type": "RollingUpdate"}),
            "absent means the API default"
        );
    }

    #[test]
    fn restart_patch_sets_restarted_at_and_refuses_the_same_second() {
        let now: Timestamp = "2025-03-04T05:06:07.891Z".parse().unwrap();
        assert_eq!(restarted_at_text(now), "2025-03-04T05:06:07Z");
        let body = restart_patch(&template("a:1"), now, "42").unwrap();
        assert_eq!(
            body,
            json!({"metadata": {"resourceVersion": "42"},
                   "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: "2025-03-04T05:06:07Z"}}}}})
        );
        let mut restarted = template("a:1");
        restarted.metadata.get_or_insert_default().annotations = Some(
            [(
                RESTARTED_AT_ANNOTATION.to_string(),
                "2025-03-04T05:06:07Z".to_string(),
            )]
            .into(),
        );
        assert_eq!(
            restart_patch(&restarted, now, "42"),
            Err(RestartedThisSecond {
                at: "2025-03-04T05:06:07Z".into()
            })
        );
        let later: Timestamp = "2025-03-04T05:06:08Z".parse().unwrap();
        assert!(restart_patch(&restarted, later, "42").is_ok());
    }

    /// (what another writer changed, the change)
    type Edit = (&'static str, fn(&mut DaemonSet));

    #[test]
    fn only_status_changes_allow_a_retry() {
        let read = daemonset("a:1", rolling(), json!({"a": "b"}));
        let mut status_only = read.clone();
        status_only.metadata.resource_version = Some("43".into());
        status_only.status.as_mut().unwrap().number_ready = 2;
        status_only.metadata.managed_fields = Some(vec![Default::default()]);
        assert!(only_status_changed(&read, &status_only));
        let edits: [Edit; 4] = [
            ("template", |d| {
                d.spec.as_mut().unwrap().template = template("a:2")
            }),
            ("strategy", |d| d.spec.as_mut().unwrap().update_strategy = None),
            ("annotation", |d| d.metadata.annotations = None),
            ("label", |d| {
                d.metadata.labels = Some([("x".to_string(), "y".to_string())].into())
            }),
        ];
        for (name, edit) in edits {
            let mut edited = status_only.clone();
            edit(&mut edited);
            assert!(!only_status_changed(&read, &edited), "{name}");
        }
    }

    #[test]
    fn with_resource_version_keeps_other_metadata() {
        let body = with_resource_version(json!({"metadata": {"annotations": {"a": "b"}}}), "7");
        assert_eq!(
            body,
            json!({"metadata": {"annotations": {"a": "b"}, "resourceVersion": "7"}})
        );
    }
}
