//! The skim of an item: the few fields that decide whether a command can use an object, and when
//! it was last touched, borrowed from the input. Everything else is skipped unread. The rules
//! mirror the engine's (`engine::pods::target_node`, `engine::verdict::controller_uid`,
//! `Snapshot::newest_timestamp`) on these borrowed fields, so that objects a command passes over
//! are never typed.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;

use super::document::Target;

/// The fields of any kept kind that tell whether a command can use an object, and when it was
/// last touched. Unknown fields are skipped unread.
#[derive(Deserialize)]
pub(super) struct Skim<'a> {
    #[serde(rename = "apiVersion", borrow)]
    api_version: Option<Str<'a>>,
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    metadata: Option<Meta<'a>>,
    #[serde(borrow)]
    spec: Option<Spec<'a>>,
    status: Option<Status>,
    // core/v1 Event
    #[serde(borrow)]
    reason: Option<Str<'a>>,
    #[serde(rename = "involvedObject", borrow)]
    involved_object: Option<Involved<'a>>,
    #[serde(rename = "firstTimestamp")]
    first_timestamp: Option<Time>,
    #[serde(rename = "lastTimestamp")]
    last_timestamp: Option<Time>,
    #[serde(rename = "eventTime")]
    event_time: Option<MicroTime>,
    series: Option<Series>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    namespace: Option<Str<'a>>,
    #[serde(rename = "creationTimestamp")]
    creation_timestamp: Option<Time>,
    #[serde(rename = "ownerReferences", borrow)]
    owner_references: Option<Vec<Owner<'a>>>,
}

#[derive(Deserialize)]
struct Owner<'a> {
    controller: Option<bool>,
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Spec<'a> {
    #[serde(rename = "nodeName", borrow)]
    node_name: Option<Str<'a>>,
    #[serde(borrow)]
    affinity: Option<Affinity<'a>>,
}

#[derive(Deserialize)]
struct Affinity<'a> {
    #[serde(rename = "nodeAffinity", borrow)]
    node_affinity: Option<NodeAffinity<'a>>,
}

#[derive(Deserialize)]
struct NodeAffinity<'a> {
    #[serde(rename = "requiredDuringSchedulingIgnoredDuringExecution", borrow)]
    required: Option<NodeSelector<'a>>,
}

#[derive(Deserialize)]
struct NodeSelector<'a> {
    #[serde(rename = "nodeSelectorTerms", borrow)]
    terms: Option<Vec<Term<'a>>>,
}

#[derive(Deserialize)]
struct Term<'a> {
    #[serde(rename = "matchFields", borrow)]
    match_fields: Option<Vec<Requirement<'a>>>,
}

#[derive(Deserialize)]
struct Requirement<'a> {
    #[serde(borrow)]
    key: Option<Str<'a>>,
    #[serde(borrow)]
    operator: Option<Str<'a>>,
    #[serde(borrow)]
    values: Option<Vec<Str<'a>>>,
}

#[derive(Deserialize)]
struct Status {
    conditions: Option<Vec<Condition>>,
}

#[derive(Deserialize)]
struct Condition {
    #[serde(rename = "lastTransitionTime")]
    last_transition_time: Option<Time>,
}

#[derive(Deserialize)]
struct Series {
    #[serde(rename = "lastObservedTime")]
    last_observed_time: Option<MicroTime>,
}

#[derive(Deserialize)]
struct Involved<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
}

/// A string of the input: borrowed, unless it had escapes.
pub(super) struct Str<'a>(Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;

        impl<'de> serde::de::Visitor<'de> for StrVisitor {
            type Value = Str<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }

        deserializer.deserialize_str(StrVisitor)
    }
}

impl<'a> Skim<'a> {
    pub fn kind(&self) -> Option<&str> {
        self.kind.as_deref()
    }

    pub fn api_version(&self) -> Option<&str> {
        self.api_version.as_deref()
    }

    pub fn name(&self) -> Option<&str> {
        self.metadata.as_ref()?.name.as_deref()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata.as_ref()?.namespace.as_deref()
    }

    /// A pod without any controller reference: one a DaemonSet may adopt.
    pub fn is_orphan(&self) -> bool {
        self.metadata.as_ref().is_none_or(|m| {
            !m.owner_references
                .iter()
                .flatten()
                .any(|r| r.controller == Some(true))
        })
    }

    /// The controller reference, if it is a DaemonSet's: its name and uid
    /// (`engine::pods::controller_uid`).
    pub fn daemonset_owner(&self) -> Option<(Option<&str>, &str)> {
        let owner = self
            .metadata
            .as_ref()?
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true))
            .filter(|r| r.kind.as_deref() == Some("DaemonSet"))?;
        Some((owner.name.as_deref(), owner.uid.as_deref().unwrap_or("")))
    }

    /// The node the pod is bound to.
    pub fn node_name(&self) -> Option<&str> {
        self.spec.as_ref()?.node_name.as_deref()
    }

    /// The node the pod is bound to or aimed at (`engine::pods::target_node`).
    pub fn target_node(&self) -> Option<&str> {
        let spec = self.spec.as_ref()?;
        if let Some(name) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
            return Some(name);
        }
        let terms = spec
            .affinity
            .as_ref()?
            .node_affinity
            .as_ref()?
            .required
            .as_ref()?
            .terms
            .as_ref()?;
        terms
            .iter()
            .flat_map(|t| t.match_fields.iter().flatten())
            .find_map(|f| {
                let values = f.values.as_deref().unwrap_or_default();
                (f.key.as_deref() == Some("metadata.name")
                    && f.operator.as_deref() == Some("In")
                    && values.len() == 1)
                    .then(|| values[0].as_ref())
            })
    }

    /// Whether the event is one the analysis reads (`load::is_failed_create`).
    pub fn is_failed_create(&self) -> bool {
        super::is_failed_create_of(
            self.reason.as_deref(),
            self.involved_object.as_ref().and_then(|o| o.kind.as_deref()),
        )
    }

    /// The newest timestamp of the object, as `Snapshot::newest_timestamp` dates a snapshot by it.
    pub fn newest(&self, target: Target) -> Option<Timestamp> {
        let created = self
            .metadata
            .as_ref()
            .and_then(|m| m.creation_timestamp.as_ref())
            .map(|t| t.0);
        match target {
            Target::Pod => {
                let conditions = self.status.iter().flat_map(|s| s.conditions.iter().flatten());
                conditions
                    .map(|c| c.last_transition_time.as_ref().map(|t| t.0))
                    .chain([created])
                    .flatten()
                    .max()
            }
            Target::Event | Target::EventsEvent => {
                let series = self
                    .series
                    .as_ref()
                    .and_then(|s| s.last_observed_time.as_ref())
                    .map(|t| t.0);
                [
                    created,
                    self.first_timestamp.as_ref().map(|t| t.0),
                    self.last_timestamp.as_ref().map(|t| t.0),
                    self.event_time.as_ref().map(|t| t.0),
                    series,
                ]
                .into_iter()
                .flatten()
                .max()
            }
            _ => created,
        }
    }
}
