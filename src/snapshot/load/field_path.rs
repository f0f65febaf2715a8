//! Which field of an object failed to deserialize, for error messages: serde reports what was
//! wrong ("invalid type: string, expected i32"), `serde_path_to_error` tracks where.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where a field sits in an object: `spec.taints[0].effect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// Deserializes `value` as `T`; on failure, the error and the path of the failing field (None
/// when the object itself is wrong, such as a missing field at its top).
pub(super) fn deserialize<T: DeserializeOwned>(
    value: &Value,
) -> Result<T, (serde_json::Error, Option<FieldPath>)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let segments: Option<Vec<Segment>> = e
            .path()
            .iter()
            .map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let path = segments.filter(|s| !s.is_empty()).map(FieldPath);
        (e.into_inner(), path)
    })
}

/// Replaces the number or boolean at `path` with its text; false if there is none.
pub(super) fn scalar_to_string(value: &mut Value, path: &FieldPath) -> bool {
    let mut at = value;
    for segment in &path.0 {
        let next = match segment {
            Segment::Key(key) => at.get_mut(key.as_str()),
            Segment::Index(i) => at.get_mut(*i),
        };
        let Some(next) = next else { return false };
        at = next;
    }
    let text = match at {
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    *at = Value::String(text);
    true
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::Key(key) if is_plain(key) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Node;
    use serde_json::json;

    use super::*;

    fn path_of(value: &Value) -> Option<String> {
        deserialize::<Node>(value)
            .err()
            .and_then(|(_, p)| p)
            .map(|p| p.to_string())
    }

    #[test]
    fn names_a_field_inside_an_array() {
        let node = json!({
            "metadata": {"name": "worker-1", "labels": {"kubernetes.io/os": "linux"}},
            "spec": {"taints": [
                {"key": "a", "effect": "NoSchedule"},
                {"key": "b", "effect": 7},
            ]},
        });
        assert_eq!(path_of(&node).as_deref(), Some("spec.taints[1].effect"));
    }

    #[test]
    fn quotes_keys_that_are_not_plain_words() {
        let node = json!({"metadata": {"name": "w", "labels": {"kubernetes.io/os": 1}}});
        assert_eq!(
            path_of(&node).as_deref(),
            Some(r#"metadata.labels["kubernetes.io/os"]"#)
        );
    }

    #[test]
    fn an_object_of_the_wrong_type_is_named() {
        let node = json!({"spec": {"taints": {"key": "a"}}});
        assert_eq!(path_of(&node).as_deref(), Some("spec.taints"));
    }

    #[test]
    fn scalar_to_string_replaces_only_numbers_and_booleans() {
        let mut value = json!({"a": [{"b": 2}, {"b": true}, {"b": "x"}]});
        let path = |i| {
            FieldPath(vec![
                Segment::Key("a".into()),
                Segment::Index(i),
                Segment::Key("b".into()),
            ])
        };
        assert!(scalar_to_string(&mut value, &path(0)));
        assert!(scalar_to_string(&mut value, &path(1)));
        assert!(!scalar_to_string(&mut value, &path(2)));
        assert!(!scalar_to_string(&mut value, &path(3)));
        assert_eq!(value, json!({"a": [{"b": "2"}, {"b": "true"}, {"b": "x"}]}));
    }

    #[test]
    fn a_valid_object_has_no_error() {
        let node = json!({"metadata": {"name": "w"}});
        assert!(deserialize::<Node>(&node).is_ok());
    }
}
