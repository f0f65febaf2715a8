//! How two pod templates differ, field by field, for `history --diff` and `undo --dry-run`.

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn diff_lines(old: &Value, new: &Value) -> Vec<String> {
        diff_templates(old, new).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn diff_names_pointer_paths_with_old_and_new_values() {
        let old = json!({"metadata": {"labels": {"app": "a", "gone": "x"}},
                         "spec": {"containers": [{"image": "agent:1.0", "name": "a"}, {"image": "b", "name": "b"}, {"image": "c", "name": "c"}]}});
        let new = json!({"metadata": {"labels": {"app": "a", "tier": "t"}},
                         "spec": {"containers": [{"image": "agent:2.0", "name": "a"}]}});
        let lines = diff_lines(&old, &new);
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
        let lines = diff_lines(&old, &new);
        assert_eq!(
            lines,
            [r#"~ /metadata/annotations/kubectl.kubernetes.io~1restartedAt: "t1" → "t2""#]
        );
    }
}
