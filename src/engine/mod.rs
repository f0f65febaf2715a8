//! The pure engine: eligibility, verdicts, rollout math. Plain synchronous Rust over plain data:
//! no kube client, no tokio, no terminal, no renderers. Fed by a [`crate::snapshot::Snapshot`]
//! whether that came from a live cluster or a file.

pub mod affinity;
pub mod eligibility;
pub mod fit;
pub mod history;
pub mod pods;
pub mod quantity;
pub mod revisions;
pub mod rollout;
pub mod status;
pub mod sync;
pub mod tolerations;
pub mod verdict;

use serde::Serialize;

/// The rule a reason is about. The serialized names are part of the JSON contract (README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The template's `spec.nodeName` names another node.
    NodeName,
    /// `spec.nodeSelector`.
    NodeSelector,
    /// Required node affinity (`requiredDuringSchedulingIgnoredDuringExecution`).
    NodeAffinity,
    /// A NoSchedule/NoExecute taint that no toleration tolerates.
    Taint,
    /// Not enough allocatable cpu, memory, pods or an extended resource (scheduler layer).
    Resources,
    /// A host port already taken on the node (scheduler layer).
    HostPort,
    /// The scheduler's own message for a Pending pod.
    Scheduler,
    /// A container state keeps the pod from being Ready (kubelet layer).
    Container,
    /// The node is not Ready.
    NodeNotReady,
    /// The DaemonSet controller: not caught up, FailedCreate, rollout or deletion in progress.
    Controller,
}

/// One reason behind a verdict: which rule, and a message naming the exact object involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub rule: Rule,
    pub message: String,
}

impl Reason {
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Reason {
            rule,
            message: message.into(),
        }
    }
}
