//! A snapshot of cluster state: the unit of analysis. Live mode fetches one (`crate::fetch`),
//! offline mode loads one from a file (`load`). Commands never care which.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};

/// Cluster state as the analysis sees it. Objects are kept as the API returned them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub nodes: Vec<Node>,
    pub daemonsets: Vec<DaemonSet>,
    pub pods: Vec<Pod>,
    pub revisions: Vec<ControllerRevision>,
    pub events: Vec<Event>,
    /// When the state was taken, if known (live: now; file: the newest timestamp seen, or None).
    pub taken_at: Option<k8s_openapi::jiff::Timestamp>,
}
