//! Typing list responses straight from their text, without `metadata.managedFields`.
//!
//! managedFields are most of a node or pod as the API returns it (a tree of `f:` keys per field
//! manager) and nothing here reads them; typing them would build that tree for every object.
//! [`WithoutManagedFields`] wraps the deserializer of an object so that this one field of its
//! metadata is skipped unread, and hands everything else to the object's own deserializer.

use std::borrow::Cow;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};

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

/// An object typed as `K` with its `metadata.managedFields` left out.
pub struct WithoutManagedFields<K>(pub K);

impl<'de, K: Deserialize<'de>> Deserialize<'de> for WithoutManagedFields<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        K::deserialize(Filtered {
            inner: deserializer,
            level: Level::Object,
        })
        .map(WithoutManagedFields)
    }
}

/// Which map a [`Filtered`] deserializer stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The object: its `metadata` is filtered.
    Object,
    /// Its metadata: `managedFields` is skipped.
    Metadata,
}

/// A deserializer that hands its map to the visitor through [`FilteredMap`].
struct Filtered<D> {
    inner: D,
    level: Level,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Filtered<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(FilteredVisitor {
            inner: visitor,
            level: self.level,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(FilteredVisitor {
            inner: visitor,
            level: self.level,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_struct(
            name,
            fields,
            FilteredVisitor {
                inner: visitor,
                level: self.level,
            },
        )
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_option(FilteredVisitor {
            inner: visitor,
            level: self.level,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct enum identifier ignored_any
    }
}

struct FilteredVisitor<V> {
    inner: V,
    level: Level,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for FilteredVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(FilteredMap {
            inner: map,
            level: self.level,
            metadata_next: false,
        })
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Filtered {
            inner: deserializer,
            level: self.level,
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.inner.visit_bool(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.inner.visit_i64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.inner.visit_u64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.inner.visit_f64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.inner.visit_string(v)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(seq)
    }
}

/// The entries of the object (its `metadata` filtered) or of its metadata (without
/// `managedFields`).
struct FilteredMap<A> {
    inner: A,
    level: Level,
    /// The value about to be read is the object's metadata.
    metadata_next: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FilteredMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.inner.next_key::<Cow<'de, str>>()? else {
                return Ok(None);
            };
            if self.level == Level::Metadata && key == "managedFields" {
                self.inner.next_value::<IgnoredAny>()?;
                continue;
            }
            self.metadata_next = self.level == Level::Object && key == "metadata";
            return seed
                .deserialize(de::value::CowStrDeserializer::<A::Error>::new(key))
                .map(Some);
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        if std::mem::take(&mut self.metadata_next) {
            self.inner.next_value_seed(MetadataSeed(seed))
        } else {
            self.inner.next_value_seed(seed)
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Deserializes the object's metadata through a filter.
struct MetadataSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for MetadataSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Filtered {
            inner: deserializer,
            level: Level::Metadata,
        })
    }
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
