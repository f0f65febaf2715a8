//! Finds which field of an object failed to deserialize, for error messages.
//!
//! serde reports what was wrong ("invalid type: string, expected i32") but not where inside the
//! object. Only on that error path, the object is printed as pretty JSON and deserialized again:
//! the line of the new error, read against the printed nesting, gives the field's path.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where a field sits in an object: `spec.taints[0].effect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldPath(Vec<Segment>);

/// The path of the field that makes `value` fail to deserialize as `T`, or None if it does not
/// fail or the path cannot be told.
pub(super) fn of_error<T: DeserializeOwned>(value: &Value) -> Option<FieldPath> {
    let pretty = serde_json::to_string_pretty(value).ok()?;
    let error = serde_json::from_str::<T>(&pretty).err()?;
    let path = path_at_line(&pretty, error.line())?;
    (!path.is_empty()).then_some(FieldPath(path))
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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// Walks serde_json's pretty output (two spaces per level, one entry per line) down to `line`
/// (1-based) and returns the path of the value on that line; for a closing bracket, the path of
/// the object or array it closes.
fn path_at_line(pretty: &str, line: usize) -> Option<Vec<Segment>> {
    let mut path: Vec<Segment> = Vec::new();
    // Per depth: whether the container at that depth is an array, and its next index.
    let mut in_array: Vec<bool> = Vec::new();
    let mut next_index: Vec<usize> = Vec::new();
    for text in pretty.lines().take(line) {
        let body = text.trim_start_matches(' ');
        let depth = (text.len() - body.len()) / 2;
        if body.starts_with(['}', ']']) {
            path.truncate(depth);
            continue;
        }
        if depth > 0 {
            path.truncate(depth - 1);
            let parent_is_array = *in_array.get(depth - 1)?;
            let segment = if parent_is_array {
                let index = next_index.get_mut(depth - 1)?;
                *index += 1;
                Segment::Index(*index - 1)
            } else {
                Segment::Key(leading_key(body)?)
            };
            path.push(segment);
        }
        let opens = match body.trim_end_matches(',').chars().last() {
            Some('{') => Some(false),
            Some('[') => Some(true),
            _ => None,
        };
        if let Some(is_array) = opens {
            in_array.truncate(depth);
            in_array.push(is_array);
            next_index.truncate(depth);
            next_index.push(0);
        }
    }
    Some(path)
}

/// The key of a `"key": value` line.
fn leading_key(body: &str) -> Option<String> {
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<String>();
    stream.next()?.ok()
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

    #[test]
    fn names_a_field_inside_an_array() {
        let node = json!({
            "metadata": {"name": "worker-1", "labels": {"kubernetes.io/os": "linux"}},
            "spec": {"taints": [
                {"key": "a", "effect": "NoSchedule"},
                {"key": "b", "effect": 7},
            ]},
        });
        assert_eq!(
            of_error::<Node>(&node).map(|p| p.to_string()).as_deref(),
            Some("spec.taints[1].effect")
        );
    }

    #[test]
    fn quotes_keys_that_are_not_plain_words() {
        let node = json!({"metadata": {"name": "w", "labels": {"kubernetes.io/os": 1}}});
        assert_eq!(
            of_error::<Node>(&node).map(|p| p.to_string()).as_deref(),
            Some(r#"metadata.labels["kubernetes.io/os"]"#)
        );
    }

    #[test]
    fn a_closing_bracket_belongs_to_the_object_it_closes() {
        // Where serde_json puts an error raised after a whole object was read (a missing field).
        let pretty =
            "{\n  \"spec\": {\n    \"taints\": [\n      {\n        \"key\": \"a\"\n      }\n    ]\n  }\n}";
        let path = path_at_line(pretty, 6).map(|p| FieldPath(p).to_string());
        assert_eq!(path.as_deref(), Some("spec.taints[0]"));
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
    fn a_valid_object_has_no_error_path() {
        let node = json!({"metadata": {"name": "w"}});
        assert_eq!(of_error::<Node>(&node), None);
    }
}
