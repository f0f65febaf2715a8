//! The fields nothing in kubectl ds reads, and the one place that says which: every object's
//! `metadata.managedFields` (a tree of `f:` keys per field manager, most of a node or pod as the
//! API returns it); a node's or pod's annotations (only a DaemonSet's are read); a node's image
//! list, system info, addresses, daemon endpoints, attached volumes and config source; a pod's
//! volumes and tolerations (the analysis reads a DaemonSet's template, never a pod's own
//! tolerations), its DNS policy, scheduler name, service account, preemption policy, service
//! links and security context, and its IP addresses, QoS class and start time.
//!
//! Two ways to leave them out, from the same list: [`clear`] on typed objects, and a filter around
//! a deserializer that skips them unread while an object is typed ([`from_slice`],
//! [`WithoutManagedFields`]), so that their trees are never built. [`Scope`] says how much goes:
//! a live list keeps all but managedFields (`kubectl ds snapshot` writes what it fetched), an
//! analysis of a saved snapshot drops all of them.

use std::borrow::Cow;
use std::fmt;

use k8s_openapi::Metadata;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};

use super::Snapshot;

/// How much is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `metadata.managedFields` only.
    ManagedFields,
    /// Every field nothing reads.
    Unread,
}

/// The shape of the object being typed: which of its fields may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Node,
    Pod,
    Other,
}

/// Clears the fields nothing reads from typed objects.
pub fn clear(snapshot: &mut Snapshot) {
    snapshot.nodes.iter_mut().for_each(clear_node);
    snapshot.daemonsets.iter_mut().for_each(clear_other);
    snapshot.pods.iter_mut().for_each(clear_pod);
    snapshot.revisions.iter_mut().for_each(clear_other);
    snapshot.events.iter_mut().for_each(clear_other);
}

/// Clears the fields nothing reads from a node.
pub fn clear_node(node: &mut Node) {
    clear_other(node);
    node.metadata.annotations = None;
    if let Some(status) = &mut node.status {
        status.images = None;
        status.node_info = None;
        status.addresses = None;
        status.daemon_endpoints = None;
        status.volumes_attached = None;
        status.volumes_in_use = None;
        status.config = None;
    }
}

/// Clears the fields nothing reads from a pod.
pub fn clear_pod(pod: &mut Pod) {
    clear_other(pod);
    pod.metadata.annotations = None;
    if let Some(spec) = &mut pod.spec {
        spec.volumes = None;
        spec.tolerations = None;
        spec.dns_policy = None;
        spec.scheduler_name = None;
        spec.service_account = None;
        spec.service_account_name = None;
        spec.preemption_policy = None;
        spec.enable_service_links = None;
        spec.security_context = None;
    }
    if let Some(status) = &mut pod.status {
        status.pod_ip = None;
        status.pod_ips = None;
        status.host_ip = None;
        status.host_ips = None;
        status.qos_class = None;
        status.start_time = None;
    }
}

/// Gives back the spare room of a typed pod's lists. serde grows a list as it reads it, to at
/// least four entries, and a pod's lists mostly hold one: three spare container statuses alone
/// take about 2 KB per pod, more than the pod's own text.
pub fn shrink_pod(pod: &mut Pod) {
    shrink(&mut pod.metadata.owner_references);
    if let Some(spec) = &mut pod.spec {
        for container in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            shrink(&mut container.ports);
        }
        let terms = spec
            .affinity
            .as_mut()
            .and_then(|a| a.node_affinity.as_mut())
            .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_mut());
        if let Some(terms) = terms {
            terms.node_selector_terms.shrink_to_fit();
            for term in &mut terms.node_selector_terms {
                shrink(&mut term.match_fields);
                shrink(&mut term.match_expressions);
                for requirement in term
                    .match_fields
                    .iter_mut()
                    .chain(term.match_expressions.iter_mut())
                    .flatten()
                {
                    shrink(&mut requirement.values);
                }
            }
        }
    }
    if let Some(status) = &mut pod.status {
        shrink(&mut status.conditions);
        shrink(&mut status.container_statuses);
        shrink(&mut status.init_container_statuses);
    }
}

/// [`shrink_pod`] for a node: its conditions (five, room for eight) and taints.
pub fn shrink_node(node: &mut Node) {
    if let Some(spec) = &mut node.spec {
        shrink(&mut spec.taints);
    }
    if let Some(status) = &mut node.status {
        shrink(&mut status.conditions);
    }
}

fn shrink<T>(list: &mut Option<Vec<T>>) {
    if let Some(list) = list {
        list.shrink_to_fit();
    }
}

/// Clears the fields nothing reads from an object of another kind: its managedFields.
pub fn clear_other<T: Metadata<Ty = ObjectMeta>>(object: &mut T) {
    object.metadata_mut().managed_fields = None;
}

/// A node's status fields nothing reads, as they are named in JSON.
const NODE_STATUS: [&str; 7] = [
    "images",
    "nodeInfo",
    "addresses",
    "daemonEndpoints",
    "volumesAttached",
    "volumesInUse",
    "config",
];

/// A pod's spec fields nothing reads.
const POD_SPEC: [&str; 9] = [
    "volumes",
    "tolerations",
    "dnsPolicy",
    "schedulerName",
    "serviceAccount",
    "serviceAccountName",
    "preemptionPolicy",
    "enableServiceLinks",
    "securityContext",
];

/// A pod's status fields nothing reads.
const POD_STATUS: [&str; 6] = ["podIP", "podIPs", "hostIP", "hostIPs", "qosClass", "startTime"];

/// Types one JSON object of the given shape, skipping what `scope` leaves out.
pub fn from_slice<K: DeserializeOwned>(bytes: &[u8], shape: Shape, scope: Scope) -> serde_json::Result<K> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let object = K::deserialize(Filtered {
        inner: &mut de,
        level: Level::Object(shape, scope),
    })?;
    de.end()?;
    Ok(object)
}

/// An object typed as `K` with its `metadata.managedFields` left out (a live list's items).
pub struct WithoutManagedFields<K>(pub K);

impl<'de, K: Deserialize<'de>> Deserialize<'de> for WithoutManagedFields<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        K::deserialize(Filtered {
            inner: deserializer,
            level: Level::Object(Shape::Other, Scope::ManagedFields),
        })
        .map(WithoutManagedFields)
    }
}

/// Which map a [`Filtered`] deserializer stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The object: its `metadata` (and, for the unread scope, a node's `status` or a pod's
    /// `spec`) is filtered.
    Object(Shape, Scope),
    /// Its metadata: `managedFields` is skipped, and for the unread scope a node's or pod's
    /// annotations.
    Metadata(Shape, Scope),
    /// A node's status: `images` is skipped.
    NodeStatus,
    /// A pod's spec: [`POD_SPEC`] is skipped.
    PodSpec,
    /// A pod's status: [`POD_STATUS`] is skipped.
    PodStatus,
}

impl Level {
    /// Whether the entry `key` of this map is left out.
    fn skips(self, key: &str) -> bool {
        match self {
            Level::Object(..) => false,
            Level::Metadata(shape, scope) => {
                key == "managedFields"
                    || (scope == Scope::Unread && shape != Shape::Other && key == "annotations")
            }
            Level::NodeStatus => NODE_STATUS.contains(&key),
            Level::PodSpec => POD_SPEC.contains(&key),
            Level::PodStatus => POD_STATUS.contains(&key),
        }
    }

    /// The level of the value of `key`, if that value is filtered too.
    fn inner(self, key: &str) -> Option<Level> {
        match (self, key) {
            (Level::Object(shape, scope), "metadata") => Some(Level::Metadata(shape, scope)),
            (Level::Object(Shape::Node, Scope::Unread), "status") => Some(Level::NodeStatus),
            (Level::Object(Shape::Pod, Scope::Unread), "spec") => Some(Level::PodSpec),
            (Level::Object(Shape::Pod, Scope::Unread), "status") => Some(Level::PodStatus),
            _ => None,
        }
    }
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
            next: None,
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

/// The entries of a filtered map: those its level skips are passed over unread.
struct FilteredMap<A> {
    inner: A,
    level: Level,
    /// The level of the value about to be read, if it is filtered too.
    next: Option<Level>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FilteredMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.inner.next_key::<Cow<'de, str>>()? else {
                return Ok(None);
            };
            if self.level.skips(&key) {
                self.inner.next_value::<IgnoredAny>()?;
                continue;
            }
            self.next = self.level.inner(&key);
            return seed
                .deserialize(de::value::CowStrDeserializer::<A::Error>::new(key))
                .map(Some);
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        match self.next.take() {
            Some(level) => self.inner.next_value_seed(FilteredSeed { seed, level }),
            None => self.inner.next_value_seed(seed),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Deserializes an inner map (metadata, status, spec) through a filter.
struct FilteredSeed<S> {
    seed: S,
    level: Level,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for FilteredSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Filtered {
            inner: deserializer,
            level: self.level,
        })
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::json;

    use super::*;

    fn node() -> serde_json::Value {
        json!({"metadata": {"name": "n1", "labels": {"a": "b"},
                "managedFields": [{"manager": "kwok", "fieldsV1": {"f:status": {}}}],
                "annotations": {"managedFields": "an annotation keeps its name"}},
            "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
            "status": {"allocatable": {"cpu": "2"}, "images": [{"names": ["a"], "sizeBytes": 1}],
                "nodeInfo": {"kubeletVersion": "v1.36.4", "architecture": "amd64", "bootID": "",
                    "containerRuntimeVersion": "", "kernelVersion": "", "kubeProxyVersion": "",
                    "machineID": "", "operatingSystem": "linux", "osImage": "", "systemUUID": ""},
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "volumesInUse": ["v"], "volumesAttached": [{"name": "v", "devicePath": "/d"}],
                "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    fn pod() -> serde_json::Value {
        json!({"metadata": {"name": "p", "managedFields": [{"manager": "kubelet"}], "annotations": {"a": "b"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c"}],
                "volumes": [{"name": "v", "emptyDir": {}}], "tolerations": [{"operator": "Exists"}],
                "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "serviceAccount": "default",
                "serviceAccountName": "default", "preemptionPolicy": "PreemptLowerPriority",
                "enableServiceLinks": true, "securityContext": {}},
            "status": {"phase": "Running", "podIP": "10.0.2.1", "podIPs": [{"ip": "10.0.2.1"}],
                "hostIP": "10.0.0.1", "hostIPs": [{"ip": "10.0.0.1"}], "qosClass": "Burstable",
                "startTime": "2026-12-01T07:10:51Z"}})
    }

    /// Filtering while typing gives what typing everything and clearing gives.
    #[test]
    fn the_filter_and_clear_leave_out_the_same_fields() {
        for scope in [Scope::ManagedFields, Scope::Unread] {
            let text = node().to_string();
            let typed: Node = from_slice(text.as_bytes(), Shape::Node, scope).expect("node");
            let mut want: Node = serde_json::from_value(node()).expect("node");
            want.metadata.managed_fields = None;
            if scope == Scope::Unread {
                let mut s = Snapshot {
                    nodes: vec![serde_json::from_value(node()).expect("node")],
                    ..Snapshot::default()
                };
                clear(&mut s);
                want = s.nodes.remove(0);
            }
            assert_eq!(typed, want, "{scope:?}");
            let annotations = typed.metadata.annotations.as_ref().map(|a| a.len());
            assert_eq!(annotations, (scope == Scope::ManagedFields).then_some(1));
            let conditions = typed.status.as_ref().and_then(|s| s.conditions.as_ref());
            assert_eq!(conditions.map(Vec::len), Some(1), "what is read stays");

            let text = pod().to_string();
            let typed: Pod = from_slice(text.as_bytes(), Shape::Pod, scope).expect("pod");
            let mut s = Snapshot {
                pods: vec![serde_json::from_value(pod()).expect("pod")],
                ..Snapshot::default()
            };
            clear(&mut s);
            assert_eq!(
                typed.spec.as_ref().map(|s| s.volumes.is_none()),
                Some(scope == Scope::Unread)
            );
            if scope == Scope::Unread {
                assert_eq!(typed, s.pods[0]);
            }
            assert!(typed.metadata.managed_fields.is_none());
        }
    }

    #[test]
    fn a_node_shaped_filter_leaves_a_pod_s_fields_alone() {
        let text = pod().to_string();
        let typed: Pod = from_slice(text.as_bytes(), Shape::Node, Scope::Unread).expect("pod");
        assert!(
            typed
                .spec
                .as_ref()
                .is_some_and(|s| s.volumes.is_some() && s.tolerations.is_some())
        );
    }

    #[test]
    fn trailing_input_is_an_error() {
        assert!(from_slice::<Pod>(b"{} {}", Shape::Pod, Scope::Unread).is_err());
    }
}
