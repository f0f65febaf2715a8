//! Which ControllerRevision is a DaemonSet's current one (semantics §6.1, `Match`): the one home of
//! that rule for every command. The comparison itself is `engine::history::matches` (the
//! controller compares bytes of a Go encoding we cannot reproduce; meaning is compared instead).

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};

use super::pods::REVISION_HASH_LABEL;

/// Whether a revision stores exactly the DaemonSet's current template.
// mirrors Match (pkg/controller/daemon/update.go), by meaning rather than bytes
pub fn matches_template(ds: &DaemonSet, cr: &ControllerRevision) -> bool {
    let (Some(spec), Some(data)) = (ds.spec.as_ref(), cr.data.as_ref()) else {
        return false;
    };
    super::history::matches(&spec.template, &data.0)
}

/// A revision's hash label, or its name when the label is missing (as the controller sets it).
pub fn revision_hash(cr: &ControllerRevision) -> String {
    cr.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_HASH_LABEL))
        .cloned()
        .unwrap_or_else(|| cr.metadata.name.clone().unwrap_or_default())
}

/// Revisions the DaemonSet controls (controller ownerReference UID).
pub fn owned<'a>(ds: &DaemonSet, revisions: &'a [ControllerRevision]) -> Vec<&'a ControllerRevision> {
    let Some(uid) = ds.metadata.uid.as_deref() else {
        return Vec::new();
    };
    revisions
        .iter()
        .filter(|cr| {
            cr.metadata.namespace == ds.metadata.namespace
                && cr
                    .metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|r| r.controller == Some(true) && r.uid == uid)
        })
        .collect()
}

/// The current revision: of the owned revisions that match the template, the highest.
pub fn current<'a>(ds: &DaemonSet, revisions: &'a [ControllerRevision]) -> Option<&'a ControllerRevision> {
    owned(ds, revisions)
        .into_iter()
        .filter(|cr| matches_template(ds, cr))
        .max_by_key(|cr| cr.revision)
}

/// The current revision's hash, if the controller has made one for this template.
pub fn current_hash(ds: &DaemonSet, revisions: &[ControllerRevision]) -> Option<String> {
    current(ds, revisions).map(revision_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ds(image: &str) -> DaemonSet {
        serde_json::from_value(
            json!({"metadata": {"name": "agent", "namespace": "ns", "uid": "u1"},
            "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {
                "metadata": {"labels": {"app": "a"}},
                "spec": {"containers": [{"name": "c", "image": image, "resources": {}}]}}}}),
        )
        .unwrap()
    }
    fn cr(name: &str, revision: i64, image: &str, hash_label: bool) -> ControllerRevision {
        let labels = if hash_label {
            json!({"controller-revision-hash": format!("h-{name}")})
        } else {
            json!({})
        };
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ns", "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "u1", "controller": true}]},
            "revision": revision,
            "data": {"spec": {"template": {"$patch": "replace", "metadata": {"creationTimestamp": null, "labels": {"app": "a"}},
                "spec": {"containers": [{"name": "c", "image": image, "resources": {}}]}}}}}))
        .unwrap()
    }

    #[test]
    fn the_current_revision_is_the_highest_that_matches_the_template() {
        let revisions = vec![
            cr("r1", 1, "v1", true),
            cr("r2", 2, "v2", true),
            cr("r3", 3, "v1", true),
        ];
        assert_eq!(current_hash(&ds("v1"), &revisions).as_deref(), Some("h-r3"));
        assert_eq!(current_hash(&ds("v2"), &revisions).as_deref(), Some("h-r2"));
        assert_eq!(
            current_hash(&ds("v3"), &revisions),
            None,
            "no revision yet: the controller has not synced"
        );
    }

    #[test]
    fn a_revision_without_the_hash_label_uses_its_name() {
        let revisions = vec![cr("agent-abc", 1, "v1", false)];
        assert_eq!(current_hash(&ds("v1"), &revisions).as_deref(), Some("agent-abc"));
    }

    #[test]
    fn revisions_of_other_owners_do_not_count() {
        let mut other = cr("r9", 9, "v1", true);
        other.metadata.owner_references.as_mut().unwrap()[0].uid = "someone-else".into();
        assert_eq!(current_hash(&ds("v1"), &[other]), None);
    }
}
