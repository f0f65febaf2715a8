//! Typing list responses straight from their text, without `metadata.managedFields`.
//!
//! managedFields are most of a node or pod as the API returns it and nothing here reads them:
//! each item is typed through [`WithoutManagedFields`] (`snapshot::unread`), which skips them
//! unread.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::snapshot::unread::WithoutManagedFields;

/// The items of a list response, typed.
pub fn items<K: DeserializeOwned>(body: &str) -> serde_json::Result<Vec<K>> {
    #[derive(Deserialize)]
    #[serde(bound = "K: DeserializeOwned")]
    struct Items<K> {
        #[serde(default)]
        items: Option<Vec<WithoutManagedFields<K>>>,
    }
    let list: Items<K> = serde_json::from_str(body)?;
    Ok(list.items.unwrap_or_default().into_iter().map(|i| i.0).collect())
}

/// The metadata of a list response. The API writes it before the items, so this reads only the
/// head of the text; otherwise it reads it all.
pub fn list_meta(body: &str) -> serde_json::Result<ListMeta> {
    if let Some(meta) = leading_list_meta(body.as_bytes()) {
        return Ok(meta);
    }
    #[derive(Deserialize)]
    struct Head {
        #[serde(default)]
        metadata: ListMeta,
    }
    serde_json::from_str::<Head>(body).map(|h| h.metadata)
}

fn leading_list_meta(bytes: &[u8]) -> Option<ListMeta> {
    let mut at = skip_ws(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_ws(bytes, at);
        let (key, len) = one::<Cow<'_, str>>(&bytes[at..])?;
        at = skip_ws(bytes, at + len);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_ws(bytes, at + 1);
        if key == "metadata" {
            return one::<ListMeta>(&bytes[at..]).map(|(meta, _)| meta);
        }
        if key == "items" {
            return None;
        }
        let (_, len) = one::<IgnoredAny>(&bytes[at..])?;
        at = skip_ws(bytes, at + len);
        if bytes.get(at) != Some(&b',') {
            return None;
        }
        at += 1;
    }
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        at += 1;
    }
    at
}

/// The first JSON value of `bytes`, and its length.
fn one<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Option<(T, usize)> {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<T>();
    let value = stream.next()?.ok()?;
    Some((value, stream.byte_offset()))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::json;

    use super::*;

    /// A list as the API server writes it: metadata before the items.
    fn list(items: serde_json::Value) -> String {
        format!(
            r#"{{"kind":"NodeList","apiVersion":"v1","metadata":{{"resourceVersion":"12","continue":"next-page","remainingItemCount":3}},"items":{items}}}"#
        )
    }

    #[test]
    fn items_are_typed_without_managed_fields_and_with_everything_else() {
        let node = json!({"metadata": {"name": "n1", "labels": {"a": "b"},
                "managedFields": [{"manager": "kwok", "fieldsV1": {"f:status": {}}}],
                "annotations": {"managedFields": "an annotation keeps its name"}},
            "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
            "status": {"allocatable": {"cpu": "2"}}});
        let body = list(json!([node]));
        let nodes: Vec<Node> = items(&body).expect("typed");
        let mut want: Node = serde_json::from_value(node).expect("node");
        want.metadata.managed_fields = None;
        assert_eq!(nodes, vec![want]);
        assert_eq!(nodes[0].metadata.annotations.as_ref().map(|a| a.len()), Some(1));
    }

    #[test]
    fn an_object_without_metadata_or_with_null_metadata_is_typed() {
        let body = list(json!([{"spec": {"nodeName": "n1"}}, {"metadata": null}]));
        let pods: Vec<Pod> = items(&body).expect("typed");
        assert_eq!(pods.len(), 2);
        assert_eq!(
            pods[0].spec.as_ref().and_then(|s| s.node_name.as_deref()),
            Some("n1")
        );
    }

    #[test]
    fn errors_are_the_object_s_own() {
        let body = list(json!([{"metadata": {"name": 5}}]));
        let e = items::<Node>(&body).expect_err("a number for a name");
        assert!(
            e.to_string()
                .contains("invalid type: integer `5`, expected a string"),
            "{e}"
        );
    }

    #[test]
    fn the_continue_token_is_read_from_the_head() {
        let body = list(json!([{"metadata": {"name": "n1"}}]));
        assert_eq!(
            leading_list_meta(body.as_bytes())
                .and_then(|m| m.continue_)
                .as_deref(),
            Some("next-page")
        );
        // Metadata after the items is read too, the slow way.
        let late = r#"{"items": [], "metadata": {"continue": "late"}}"#;
        assert!(leading_list_meta(late.as_bytes()).is_none());
        assert_eq!(list_meta(late).expect("meta").continue_.as_deref(), Some("late"));
        assert_eq!(list_meta(r#"{"items": []}"#).expect("meta").continue_, None);
    }
}
