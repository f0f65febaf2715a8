//! What a DaemonSet owns or claims, found by its selector in its namespace: the pods and
//! ControllerRevisions it controls (controller ownerReference UID), and the pods its claim looks
//! at (`engine::sync::claim`), released ones included.

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::{list_in, list_overlapped, negated_requirements, selector_string};
use crate::client::{Cluster, Request};
use crate::error::Result;

fn controlled_by(owner_uid: Option<&str>, refs: Option<&Vec<OwnerReference>>) -> bool {
    let Some(uid) = owner_uid else { return false };
    refs.into_iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

/// The objects of one kind a DaemonSet controls (controller ownerReference UID), found by its
/// selector in its namespace.
async fn controlled_by_daemonset<K>(cluster: &Cluster, ds: &DaemonSet, resource: &str) -> Result<Vec<K>>
where
    K: Resource<Scope = NamespaceResourceScope> + DeserializeOwned + Send + 'static,
    <K as Resource>::DynamicType: Default,
{
    let ns = ds.namespace().unwrap_or_default();
    let params = ListParams::default().labels(&daemonset_selector(ds));
    let items: Vec<K> = list_in(cluster, resource, Some(&ns), &params).await?;
    let uid = ds.metadata.uid.as_deref();
    Ok(items
        .into_iter()
        .filter(|o| controlled_by(uid, o.meta().owner_references.as_ref()))
        .collect())
}

/// The DaemonSet's selector as a string for list requests.
fn daemonset_selector(ds: &DaemonSet) -> String {
    ds.spec
        .as_ref()
        .map(|s| selector_string(&s.selector))
        .unwrap_or_default()
}

/// The pods a DaemonSet controls (controller ownerReference UID), found by its selector.
pub async fn daemonset_pods(cluster: &Cluster, ds: &DaemonSet) -> Result<Vec<Pod>> {
    controlled_by_daemonset(cluster, ds, "pods").await
}

/// The pods the controller's claim looks at for a DaemonSet (engine::sync::claim): those its
/// selector matches (its own, and orphans it adopts) and those it controls whose labels no longer
/// match (it releases them). The latter cannot be asked for by owner, but they still carry the
/// `controller-revision-hash` of one of the DaemonSet's revisions: one list per requirement of
/// the selector, negated, among the pods carrying those hashes (usually none).
pub async fn claimable_pods(
    cluster: &Cluster,
    ds: &DaemonSet,
    revisions: &[ControllerRevision],
) -> Result<Vec<Pod>> {
    let mut pods = selected_pods(cluster, ds).await?;
    pods.extend(released_candidates(cluster, ds, revisions).await?);
    Ok(claimed_only(ds, pods))
}

/// The pods of the DaemonSet's namespace its selector matches.
pub(super) async fn selected_pods(cluster: &Cluster, ds: &DaemonSet) -> Result<Vec<Pod>> {
    let ns = ds.namespace().unwrap_or_default();
    let params = ListParams::default().labels(&daemonset_selector(ds));
    list_in(cluster, "pods", Some(&ns), &params).await
}

/// The pods carrying one of the revisions' hashes that the DaemonSet's selector does not match.
pub(super) async fn released_candidates(
    cluster: &Cluster,
    ds: &DaemonSet,
    revisions: &[ControllerRevision],
) -> Result<Vec<Pod>> {
    let ns = ds.namespace().unwrap_or_default();
    let mut hashes: Vec<String> = revisions
        .iter()
        .map(crate::engine::revisions::revision_hash)
        .collect();
    hashes.sort();
    hashes.dedup();
    let Some(selector) = ds
        .spec
        .as_ref()
        .map(|s| &s.selector)
        .filter(|_| !hashes.is_empty())
    else {
        return Ok(Vec::new());
    };
    let hashes = hashes.join(",");
    let selectors: Vec<String> = negated_requirements(selector)
        .into_iter()
        .map(|n| format!("controller-revision-hash in ({hashes}),{n}"))
        .collect();
    let ns = ns.as_str();
    let lists = futures::future::try_join_all(selectors.iter().map(|sel| {
        let params = ListParams::default().labels(sel);
        async move { list_in::<Pod>(cluster, "pods", Some(ns), &params).await }
    }))
    .await?;
    Ok(lists.into_iter().flatten().collect())
}

/// The pods the DaemonSet's claim keeps, adopts or releases, each once.
pub(super) fn claimed_only(ds: &DaemonSet, pods: Vec<Pod>) -> Vec<Pod> {
    let mut seen = std::collections::HashSet::new();
    pods.into_iter()
        .filter(|p| seen.insert(p.metadata.uid.clone()))
        .filter(|p| crate::engine::sync::claim(ds, p) != crate::engine::sync::Claim::Ignored)
        .collect()
}

/// What `why-not` adds when a rolling update's budget decides a node's next move: every node, and
/// the pods these DaemonSets' claims look at.
pub async fn whole_view(cluster: &Cluster, daemonsets: &[&DaemonSet]) -> Result<(Vec<Node>, Vec<Pod>)> {
    let pods = futures::future::try_join_all(daemonsets.iter().map(|ds| async move {
        let revisions = daemonset_revisions(cluster, ds).await?;
        claimable_pods(cluster, ds, &revisions).await
    }));
    let (nodes, pods) = futures::try_join!(all_nodes(cluster), pods)?;
    Ok((nodes, pods.into_iter().flatten().collect()))
}

/// Every node of the cluster.
pub(super) async fn all_nodes(cluster: &Cluster) -> Result<Vec<Node>> {
    let api: Api<Node> = Api::all(cluster.client.clone());
    list_overlapped(
        cluster,
        &api,
        &ListParams::default(),
        Request::list("nodes", None),
    )
    .await
}

/// The ControllerRevisions a DaemonSet controls, as `kubectl rollout history` finds them.
pub async fn daemonset_revisions(cluster: &Cluster, ds: &DaemonSet) -> Result<Vec<ControllerRevision>> {
    controlled_by_daemonset(cluster, ds, "controllerrevisions").await
}
