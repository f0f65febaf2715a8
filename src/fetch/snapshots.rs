//! What each analysis command needs, in as few rounds of concurrent requests as it can: the
//! snapshot of `why-not NODE`, of `status DS`, and of `kubectl ds snapshot`, and the DaemonSets
//! `status` lists. The commands analyse a [`Snapshot`] alike, fetched or loaded.

use std::collections::{BTreeSet, HashSet};

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;

use super::owned::{all_nodes, claimed_only, daemonset_revisions, released_candidates, selected_pods};
use super::{get_daemonset, get_node, list_in};
use crate::client::Cluster;
use crate::engine::pods::{of_daemonsets, pending_nodes, target_node};
use crate::error::{Error, ErrorKind, Result};
use crate::snapshot::Snapshot;

/// Where the analysis commands look for DaemonSets.
#[derive(Debug, Clone)]
pub enum DsScope {
    /// Every namespace.
    All,
    /// One namespace.
    Namespace(String),
    /// One DaemonSet.
    One { namespace: String, name: String },
}

impl DsScope {
    fn namespace(&self) -> Option<&str> {
        match self {
            DsScope::All => None,
            DsScope::Namespace(ns) | DsScope::One { namespace: ns, .. } => Some(ns),
        }
    }
}

async fn daemonsets_in(cluster: &Cluster, scope: &DsScope, selector: Option<&str>) -> Result<Vec<DaemonSet>> {
    match scope {
        DsScope::One { namespace, name } => Ok(vec![get_daemonset(cluster, namespace, name).await?]),
        _ => {
            let mut params = ListParams::default();
            if let Some(sel) = selector {
                params = params.labels(sel);
            }
            list_in(cluster, "daemonsets", scope.namespace(), &params).await
        }
    }
}

/// The DaemonSets' FailedCreate events. Read from the API server's cache (resourceVersion 0): a
/// field selector on events is no index, and a consistent read filters every event of the cluster
/// in etcd (half a second with a few thousand); the cache may lag by a moment, which a hint can.
async fn failed_create_events(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<Event>> {
    let params = ListParams::default()
        .fields("involvedObject.kind=DaemonSet,reason=FailedCreate")
        .match_any();
    list_in(cluster, "events", namespace, &params).await
}

async fn revisions_in(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<ControllerRevision>> {
    list_in(cluster, "controllerrevisions", namespace, &ListParams::default()).await
}

/// Every pod of a namespace (every namespace with None).
async fn pods_in(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<Pod>> {
    list_in(cluster, "pods", namespace, &ListParams::default()).await
}

async fn pods_with_fields(cluster: &Cluster, namespace: Option<&str>, fields: &str) -> Result<Vec<Pod>> {
    list_in(cluster, "pods", namespace, &ListParams::default().fields(fields)).await
}

/// Every pod bound to the node (`node_field` is `spec.nodeName=NODE`; empty for every pod),
/// whatever its namespace: a host port or cpu taken by another namespace's pod keeps a DaemonSet
/// pod Pending all the same. A user who may read only one namespace gets that namespace's pods
/// instead.
async fn pods_on_node(cluster: &Cluster, namespace: Option<&str>, node_field: &str) -> Result<Vec<Pod>> {
    match pods_with_fields(cluster, None, node_field).await {
        Err(e) if namespace.is_some() && e.kind == ErrorKind::Forbidden => {
            tracing::info!(
                "cannot list pods in every namespace; the resource check sees this namespace's pods only"
            );
            pods_with_fields(cluster, namespace, node_field).await
        }
        other => other,
    }
}

/// Everything `why-not NODE` needs, in one round of concurrent requests: the node, the
/// DaemonSets, the pods bound to the node plus unbound pods aimed at it, and revisions. The
/// FailedCreate events explain only a missing pod, and listing them makes the server go through
/// every event of the cluster (tens of thousands on a big one, no index): they are asked for
/// afterwards, only when a pod is missing ([`failed_create_events_in`]).
pub async fn why_not_snapshot(
    cluster: &Cluster,
    node: &str,
    scope: &DsScope,
    selector: Option<&str>,
) -> Result<Snapshot> {
    let ns = scope.namespace();
    let node_field = format!("spec.nodeName={node}");
    let (node_obj, daemonsets, bound, unbound, revisions) = futures::try_join!(
        get_node(cluster, node),
        daemonsets_in(cluster, scope, selector),
        pods_on_node(cluster, ns, &node_field),
        pods_with_fields(cluster, ns, "spec.nodeName="),
        revisions_in(cluster, ns),
    )?;
    let mut pods = bound;
    pods.extend(unbound.into_iter().filter(|p| target_node(p) == Some(node)));
    Ok(Snapshot {
        nodes: vec![node_obj],
        daemonsets,
        pods,
        revisions,
        events: Vec::new(),
        taken_at: Some(Timestamp::now()),
        partial: true,
    })
}

/// The FailedCreate events of DaemonSets in these namespaces, concurrently.
pub async fn failed_create_events_in(cluster: &Cluster, namespaces: &[&str]) -> Result<Vec<Event>> {
    let lists = futures::future::try_join_all(
        namespaces
            .iter()
            .map(|ns| failed_create_events(cluster, Some(ns))),
    )
    .await?;
    Ok(lists.into_iter().flatten().collect())
}

/// Everything `status DS` needs: the DaemonSet, every node, its pods, its revisions and events,
/// plus the pods bound to nodes where one of its pods is Pending (for the local fit check). The
/// nodes and events are asked for at once with the DaemonSet; its pods and revisions once it is known.
pub async fn status_snapshot(cluster: &Cluster, namespace: &str, name: &str) -> Result<Snapshot> {
    let daemonset_and_pods = async {
        let ds = get_daemonset(cluster, namespace, name).await?;
        let (mut pods, revisions) =
            futures::try_join!(selected_pods(cluster, &ds), daemonset_revisions(cluster, &ds))?;
        pods.extend(released_candidates(cluster, &ds, &revisions).await?);
        let pods = claimed_only(&ds, pods);
        let neighbours = neighbours_of_pending(cluster, namespace, &pods).await?;
        Ok::<_, Error>((ds, pods, neighbours, revisions))
    };
    let (nodes, events, (ds, mut pods, neighbours, revisions)) = futures::try_join!(
        all_nodes(cluster),
        failed_create_events(cluster, Some(namespace)),
        daemonset_and_pods,
    )?;
    // A neighbour may be one of the DaemonSet's own pods (an old one, bound next to a new one).
    extend_new(&mut pods, neighbours);
    Ok(Snapshot {
        nodes,
        daemonsets: vec![ds],
        pods,
        revisions,
        events,
        taken_at: Some(Timestamp::now()),
        partial: false,
    })
}

/// The pods bound to the nodes where one of `pods` (of `namespace`) is Pending: one request per
/// node for a few nodes (a field selector the API server answers from an index), one list of every
/// pod for more. Like [`pods_on_node`], every namespace's pods, or `namespace`'s for a user who
/// may read no other.
async fn neighbours_of_pending(cluster: &Cluster, namespace: &str, pods: &[Pod]) -> Result<Vec<Pod>> {
    const PER_NODE: usize = 20;
    let pending = pending_nodes(pods);
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    if pending.len() > PER_NODE {
        let all = pods_on_node(cluster, Some(namespace), "").await?;
        return Ok(bound_to(all, &pending));
    }
    let per_node =
        futures::future::try_join_all(pending.iter().map(|n| async move {
            pods_on_node(cluster, Some(namespace), &format!("spec.nodeName={n}")).await
        }))
        .await?;
    Ok(per_node.into_iter().flatten().collect())
}

/// The pods bound to one of `nodes`.
fn bound_to(pods: Vec<Pod>, nodes: &BTreeSet<&str>) -> Vec<Pod> {
    pods.into_iter()
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_some_and(|n| nodes.contains(n))
        })
        .collect()
}

/// Adds the pods of `more` that are not among `pods` yet (by uid).
fn extend_new(pods: &mut Vec<Pod>, more: Vec<Pod>) {
    let known: HashSet<Option<String>> = pods.iter().map(|p| p.metadata.uid.clone()).collect();
    pods.extend(more.into_iter().filter(|p| !known.contains(&p.metadata.uid)));
}

/// The DaemonSets for `status` without a name.
pub async fn list_daemonsets(
    cluster: &Cluster,
    scope: &DsScope,
    selector: Option<&str>,
) -> Result<Vec<DaemonSet>> {
    daemonsets_in(cluster, scope, selector).await
}

/// Everything the analysis needs, for `kubectl ds snapshot`: nodes, DaemonSets, their pods,
/// revisions and FailedCreate events, plus the pods bound to nodes where a DaemonSet pod is Pending.
pub async fn full_snapshot(cluster: &Cluster, scope: &DsScope, selector: Option<&str>) -> Result<Snapshot> {
    let ns = scope.namespace();
    let (nodes, daemonsets, pods, revisions, events) = futures::try_join!(
        all_nodes(cluster),
        daemonsets_in(cluster, scope, selector),
        pods_in(cluster, ns),
        revisions_in(cluster, ns),
        failed_create_events(cluster, ns),
    )?;
    let ds_uids: HashSet<&str> = daemonsets
        .iter()
        .filter_map(|d| d.metadata.uid.as_deref())
        .collect();
    // Orphans too: a DaemonSet whose selector matches one adopts it.
    let (mut pods, others): (Vec<Pod>, Vec<Pod>) = pods
        .into_iter()
        .partition(|p| of_daemonsets(p, |u| ds_uids.contains(u)));
    match ns {
        // Every pod was listed: the neighbours of pending pods are among them.
        None => {
            let neighbours = bound_to(others, &pending_nodes(&pods));
            pods.extend(neighbours);
        }
        // Pods of other namespaces count too.
        Some(ns) => {
            let neighbours = neighbours_of_pending(cluster, ns, &pods).await?;
            extend_new(&mut pods, neighbours);
        }
    }
    let revisions = revisions
        .into_iter()
        .filter(|r| {
            r.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| ds_uids.contains(o.uid.as_str()))
        })
        .collect();
    Ok(Snapshot {
        nodes,
        daemonsets,
        pods,
        revisions,
        events,
        taken_at: Some(Timestamp::now()),
        partial: false,
    })
}
