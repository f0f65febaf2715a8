//! What every conditional write needs: the resourceVersion in the body, and whether a conflict
//! was only the controller's status update (then the same write may be sent again).

use super::*;

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

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

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
