//! The fetch layer: every request kubectl-ds makes goes through here, with errors that name the
//! request. Lists are paginated; nothing here decides anything about Kubernetes.

mod decode;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::client::{Cluster, Request, api_error};
use crate::error::{Error, ErrorKind, Result};
use crate::suggest::did_you_mean;

/// Objects per page, as kubectl asks for.
const PAGE: u32 = 500;

/// Lists every object matching `params`, page by page, typed straight from the response text and
/// without `managedFields`.
pub async fn list_all<K>(
    cluster: &Cluster,
    api: &Api<K>,
    params: &ListParams,
    req: Request<'_>,
) -> Result<Vec<K>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut params = paged(params);
    loop {
        let (body, next) = list_page(cluster, api.resource_url(), &params, req).await?;
        items.extend(decode::items::<K>(&body).map_err(|e| undecodable(req, &e))?);
        match next {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

/// [`list_all`], with each page typed on a blocking thread while the next one is on its way.
async fn list_overlapped<K>(
    cluster: &Cluster,
    api: &Api<K>,
    params: &ListParams,
    req: Request<'_>,
) -> Result<Vec<K>>
where
    K: Resource + DeserializeOwned + Send + 'static,
{
    let mut pages = Vec::new();
    let mut params = paged(params);
    loop {
        let (body, next) = list_page(cluster, api.resource_url(), &params, req).await?;
        pages.push(tokio::task::spawn_blocking(move || decode::items::<K>(&body)));
        match next {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    let mut items = Vec::new();
    for page in pages {
        let page = page.await.map_err(|e| {
            Error::new(
                ErrorKind::Api,
                format!("{}: reading the answer failed: {e}", listing(req)),
            )
        })?;
        items.extend(page.map_err(|e| undecodable(req, &e))?);
    }
    Ok(items)
}

/// `params` in pages of [`PAGE`], unless they read from the API server's cache (resourceVersion
/// 0), which answers whole.
fn paged(params: &ListParams) -> ListParams {
    if params.resource_version.as_deref() == Some("0") {
        params.clone()
    } else {
        params.clone().limit(PAGE)
    }
}

/// One page of a list: the response text, and the token for the next page if there is one.
async fn list_page(
    cluster: &Cluster,
    url: &str,
    params: &ListParams,
    req: Request<'_>,
) -> Result<(String, Option<String>)> {
    let http = kube::core::Request::new(url)
        .list(params)
        .map_err(|e| api_error(&cluster.server, req, kube::Error::BuildRequest(e)))?;
    let body = cluster
        .client
        .request_text(http)
        .await
        .map_err(|e| api_error(&cluster.server, req, e))?;
    let meta = decode::list_meta(&body).map_err(|e| undecodable(req, &e))?;
    Ok((body, meta.continue_.filter(|t| !t.is_empty())))
}

/// "listing pods in namespace x", as `client::api_error` words requests.
fn listing(req: Request<'_>) -> String {
    match req.namespace {
        Some(ns) => format!("listing {} in namespace {ns}", req.resource),
        None => format!("listing {}", req.resource),
    }
}

fn undecodable(req: Request<'_>, e: &serde_json::Error) -> Error {
    Error::new(
        ErrorKind::Api,
        format!("{}: the server's answer is not a valid list: {e}", listing(req)),
    )
    .with_hint("check that the server is a Kubernetes API server (`kubectl get --raw /version`)")
}

/// Gets one DaemonSet; when it does not exist, says so and names the closest existing ones.
pub async fn get_daemonset(cluster: &Cluster, namespace: &str, name: &str) -> Result<DaemonSet> {
    let api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), namespace);
    let req = Request {
        verb: "get",
        resource: "daemonsets",
        namespace: Some(namespace),
    };
    match api
        .get_opt(name)
        .await
        .map_err(|e| api_error(&cluster.server, req, e))?
    {
        Some(ds) => Ok(ds),
        None => {
            let list_req = Request {
                verb: "list",
                resource: "daemonsets",
                namespace: Some(namespace),
            };
            let names: Vec<String> = list_all(cluster, &api, &ListParams::default(), list_req)
                .await
                .map(|l| l.iter().map(|d| d.name_any()).collect())
                .unwrap_or_default();
            Err(daemonset_not_found(name, namespace, &names))
        }
    }
}

pub fn daemonset_not_found(name: &str, namespace: &str, existing: &[String]) -> Error {
    let mut hint = did_you_mean(name, existing);
    if hint.is_empty() {
        hint = if existing.is_empty() {
            format!("namespace {namespace} has no DaemonSets; use -n NAMESPACE or -A to look elsewhere")
        } else {
            format!("DaemonSets in namespace {namespace}: {}", existing.join(", "))
        };
    }
    Error::new(
        ErrorKind::NotFound,
        format!("daemonset {name:?} not found in namespace {namespace}"),
    )
    .with_hint(hint)
}

/// The label selector of a DaemonSet as a string for list requests (`a=b,c in (d),!e`).
pub fn selector_string(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        parts.push(format!("{k}={v}"));
    }
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other} ({values})", e.key),
        });
    }
    parts.join(",")
}

/// Each requirement of a selector negated, as selector strings: a pod fails the selector exactly
/// when it matches one of them (`a=b` gives `a!=b`, which an absent `a` matches too).
pub fn negated_requirements(selector: &LabelSelector) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        parts.push(format!("{k}!={v}"));
    }
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} notin ({values})", e.key),
            "NotIn" => format!("{} in ({values})", e.key),
            "Exists" => format!("!{}", e.key),
            "DoesNotExist" => e.key.clone(),
            other => format!("{} {other} ({values})", e.key),
        });
    }
    parts
}

fn controlled_by(
    owner_uid: Option<&str>,
    refs: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>,
) -> bool {
    let Some(uid) = owner_uid else { return false };
    refs.into_iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

/// The objects of one kind a DaemonSet controls (controller ownerReference UID), found by its
/// selector in its namespace.
async fn controlled_by_daemonset<K>(cluster: &Cluster, ds: &DaemonSet, resource: &str) -> Result<Vec<K>>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope> + DeserializeOwned + Send + 'static,
    <K as Resource>::DynamicType: Default,
{
    let ns = ds.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &ns);
    let selector = ds
        .spec
        .as_ref()
        .map(|s| selector_string(&s.selector))
        .unwrap_or_default();
    let req = Request {
        verb: "list",
        resource,
        namespace: Some(&ns),
    };
    let items = list_overlapped(cluster, &api, &ListParams::default().labels(&selector), req).await?;
    let uid = ds.metadata.uid.as_deref();
    Ok(items
        .into_iter()
        .filter(|o| controlled_by(uid, o.meta().owner_references.as_ref()))
        .collect())
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

fn pods_list_request(ns: &str) -> Request<'_> {
    Request {
        verb: "list",
        resource: "pods",
        namespace: Some(ns),
    }
}

/// The pods of the DaemonSet's namespace its selector matches.
async fn selected_pods(cluster: &Cluster, ds: &DaemonSet) -> Result<Vec<Pod>> {
    let ns = ds.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &ns);
    let selector = ds
        .spec
        .as_ref()
        .map(|s| selector_string(&s.selector))
        .unwrap_or_default();
    list_overlapped(
        cluster,
        &api,
        &ListParams::default().labels(&selector),
        pods_list_request(&ns),
    )
    .await
}

/// The pods carrying one of the revisions' hashes that the DaemonSet's selector does not match.
async fn released_candidates(
    cluster: &Cluster,
    ds: &DaemonSet,
    revisions: &[ControllerRevision],
) -> Result<Vec<Pod>> {
    let ns = ds.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &ns);
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
    let req = pods_list_request(&ns);
    let lists = futures::future::try_join_all(selectors.iter().map(|sel| {
        let params = ListParams::default().labels(sel);
        let api = api.clone();
        async move { list_overlapped(cluster, &api, &params, req).await }
    }))
    .await?;
    Ok(lists.into_iter().flatten().collect())
}

/// The pods the DaemonSet's claim keeps, adopts or releases, each once.
fn claimed_only(ds: &DaemonSet, pods: Vec<Pod>) -> Vec<Pod> {
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
async fn all_nodes(cluster: &Cluster) -> Result<Vec<Node>> {
    let api: Api<Node> = Api::all(cluster.client.clone());
    let req = Request {
        verb: "list",
        resource: "nodes",
        namespace: None,
    };
    list_overlapped(cluster, &api, &ListParams::default(), req).await
}

/// Every pod of a namespace (every namespace with None).
async fn pods_in(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<Pod>> {
    let api: Api<Pod> = api_for(cluster, namespace);
    let req = Request {
        verb: "list",
        resource: "pods",
        namespace,
    };
    list_overlapped(cluster, &api, &ListParams::default(), req).await
}

/// The ControllerRevisions a DaemonSet controls, as `kubectl rollout history` finds them.
pub async fn daemonset_revisions(cluster: &Cluster, ds: &DaemonSet) -> Result<Vec<ControllerRevision>> {
    controlled_by_daemonset(cluster, ds, "controllerrevisions").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn selector_string_covers_every_operator() {
        let sel = LabelSelector {
            match_labels: Some([("app".to_string(), "agent".to_string())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "x".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["c".into()]),
                },
                LabelSelectorRequirement {
                    key: "y".into(),
                    operator: "Exists".into(),
                    values: None,
                },
                LabelSelectorRequirement {
                    key: "z".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(selector_string(&sel), "app=agent,tier in (a,b),x notin (c),y,!z");
        // A pod fails the selector exactly when it matches one of these.
        assert_eq!(
            negated_requirements(&sel),
            vec!["app!=agent", "tier notin (a,b)", "x in (c)", "!y", "z"]
        );
        let parsed = |t: &str| crate::selector::Selector::parse(t).unwrap();
        let labels = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        for pod in [
            labels(&[("app", "agent"), ("tier", "a"), ("y", "1")]),
            labels(&[("app", "debug"), ("tier", "a"), ("y", "1")]),
            labels(&[("tier", "b"), ("y", "1")]),
            labels(&[("app", "agent"), ("tier", "c"), ("y", "1"), ("z", "1")]),
            labels(&[("app", "agent"), ("tier", "a"), ("x", "c"), ("y", "")]),
        ] {
            let matches = parsed(&selector_string(&sel)).matches(Some(&pod));
            let fails_one = negated_requirements(&sel)
                .iter()
                .any(|n| parsed(n).matches(Some(&pod)));
            assert_eq!(matches, !fails_one, "{pod:?}");
        }
    }
}

// ---- snapshots for the analysis commands ----

use k8s_openapi::api::core::v1::{Event, Node};

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

fn api_for<K>(cluster: &Cluster, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as Resource>::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    }
}

/// Gets one node; when it does not exist, names the closest existing nodes.
pub async fn get_node(cluster: &Cluster, name: &str) -> Result<Node> {
    let api: Api<Node> = Api::all(cluster.client.clone());
    let req = Request {
        verb: "get",
        resource: "nodes",
        namespace: None,
    };
    match api
        .get_opt(name)
        .await
        .map_err(|e| api_error(&cluster.server, req, e))?
    {
        Some(node) => Ok(node),
        None => {
            let list_req = Request {
                verb: "list",
                resource: "nodes",
                namespace: None,
            };
            let names: Vec<String> = api
                .list_metadata(&ListParams::default())
                .await
                .map_err(|e| api_error(&cluster.server, list_req, e))
                .map(|l| l.items.into_iter().map(|n| n.name_any()).collect())
                .unwrap_or_default();
            Err(node_not_found(name, &names))
        }
    }
}

pub fn node_not_found(name: &str, existing: &[String]) -> Error {
    let hint = did_you_mean(name, existing);
    let hint = if !hint.is_empty() {
        hint
    } else if existing.is_empty() {
        "the cluster has no nodes".to_string()
    } else {
        "list the nodes with `kubectl get nodes`".to_string()
    };
    Error::new(ErrorKind::NotFound, format!("node {name:?} not found")).with_hint(hint)
}

async fn daemonsets_in(cluster: &Cluster, scope: &DsScope, selector: Option<&str>) -> Result<Vec<DaemonSet>> {
    match scope {
        DsScope::One { namespace, name } => Ok(vec![get_daemonset(cluster, namespace, name).await?]),
        _ => {
            let ns = scope.namespace();
            let api: Api<DaemonSet> = api_for(cluster, ns);
            let mut params = ListParams::default();
            if let Some(sel) = selector {
                params = params.labels(sel);
            }
            list_overlapped(
                cluster,
                &api,
                &params,
                Request {
                    verb: "list",
                    resource: "daemonsets",
                    namespace: ns,
                },
            )
            .await
        }
    }
}

/// The DaemonSets' FailedCreate events. Read from the API server's cache (resourceVersion 0): a
/// field selector on events is no index, and a consistent read filters every event of the cluster
/// in etcd (half a second with a few thousand); the cache may lag by a moment, which a hint can.
async fn failed_create_events(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<Event>> {
    let api: Api<Event> = api_for(cluster, namespace);
    let params = ListParams::default()
        .fields("involvedObject.kind=DaemonSet,reason=FailedCreate")
        .match_any();
    list_overlapped(
        cluster,
        &api,
        &params,
        Request {
            verb: "list",
            resource: "events",
            namespace,
        },
    )
    .await
}

async fn revisions_in(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<ControllerRevision>> {
    let api: Api<ControllerRevision> = api_for(cluster, namespace);
    let req = Request {
        verb: "list",
        resource: "controllerrevisions",
        namespace,
    };
    list_overlapped(cluster, &api, &ListParams::default(), req).await
}

async fn pods_with_fields(cluster: &Cluster, namespace: Option<&str>, fields: &str) -> Result<Vec<Pod>> {
    let api: Api<Pod> = api_for(cluster, namespace);
    let req = Request {
        verb: "list",
        resource: "pods",
        namespace,
    };
    list_overlapped(cluster, &api, &ListParams::default().fields(fields), req).await
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
    pods.extend(
        unbound
            .into_iter()
            .filter(|p| crate::engine::pods::target_node(p) == Some(node)),
    );
    Ok(Snapshot {
        nodes: vec![node_obj],
        daemonsets,
        pods,
        revisions,
        events: Vec::new(),
        taken_at: Some(k8s_openapi::jiff::Timestamp::now()),
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
    let own: std::collections::HashSet<Option<String>> =
        pods.iter().map(|p| p.metadata.uid.clone()).collect();
    pods.extend(neighbours.into_iter().filter(|p| !own.contains(&p.metadata.uid)));
    Ok(Snapshot {
        nodes,
        daemonsets: vec![ds],
        pods,
        revisions,
        events,
        taken_at: Some(k8s_openapi::jiff::Timestamp::now()),
        partial: false,
    })
}

/// The pods bound to the nodes where one of `pods` (of `namespace`) is Pending: one request per
/// node for a few nodes (a field selector the API server answers from an index), one list of every
/// pod for more. Like [`pods_on_node`], every namespace's pods, or `namespace`'s for a user who
/// may read no other.
async fn neighbours_of_pending(cluster: &Cluster, namespace: &str, pods: &[Pod]) -> Result<Vec<Pod>> {
    const PER_NODE: usize = 20;
    let pending = crate::engine::pods::pending_nodes(pods);
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    if pending.len() > PER_NODE {
        let all = pods_on_node(cluster, Some(namespace), "").await?;
        return Ok(all
            .into_iter()
            .filter(|p| {
                p.spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_deref())
                    .is_some_and(|n| pending.contains(n))
            })
            .collect());
    }
    let per_node =
        futures::future::try_join_all(pending.iter().map(|n| async move {
            pods_on_node(cluster, Some(namespace), &format!("spec.nodeName={n}")).await
        }))
        .await?;
    Ok(per_node.into_iter().flatten().collect())
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
    let ds_uids: std::collections::HashSet<&str> = daemonsets
        .iter()
        .filter_map(|d| d.metadata.uid.as_deref())
        .collect();
    // Orphans too: a DaemonSet whose selector matches one adopts it.
    let (mut pods, others): (Vec<Pod>, Vec<Pod>) = pods.into_iter().partition(|p| {
        crate::engine::verdict::controller_uid(p).is_some_and(|u| ds_uids.contains(u))
            || crate::snapshot::load::is_orphan_pod(p)
    });
    let neighbours = match ns {
        // Every pod was listed: the neighbours of pending pods are among them.
        None => {
            let pending = crate::engine::pods::pending_nodes(&pods);
            others
                .into_iter()
                .filter(|p| {
                    p.spec
                        .as_ref()
                        .and_then(|s| s.node_name.as_deref())
                        .is_some_and(|n| pending.contains(n))
                })
                .collect()
        }
        // Pods of other namespaces count too.
        Some(_) => {
            let own: std::collections::HashSet<Option<String>> =
                pods.iter().map(|p| p.metadata.uid.clone()).collect();
            neighbours_of_pending(cluster, ns.unwrap_or_default(), &pods)
                .await?
                .into_iter()
                .filter(|p| !own.contains(&p.metadata.uid))
                .collect::<Vec<_>>()
        }
    };
    pods.extend(neighbours);
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
        taken_at: Some(k8s_openapi::jiff::Timestamp::now()),
        partial: false,
    })
}

// ---- conditional writes ----

/// For the end-to-end tests only: milliseconds to wait after a write is computed and before it is
/// sent, so a test can change the object in between. Announced on stderr when used.
pub const TEST_PAUSE_BEFORE_WRITE: &str = "KUBECTL_DS_TEST_PAUSE_BEFORE_WRITE";

/// Patches the DaemonSet `read` only if it is still the version that was read. The patch body must
/// carry `read`'s `metadata.resourceVersion`; the server then applies all of it, or refuses it with
/// 409 Conflict and applies nothing. After a conflict the DaemonSet is read again: if only its
/// status moved on (the controller writes it all the time during a rollout), the same write is
/// sent again at the new version; any other change becomes an error naming both versions.
pub async fn patch_daemonset_if_unchanged(
    cluster: &Cluster,
    read: &DaemonSet,
    patch: &kube::api::Patch<serde_json::Value>,
) -> Result<DaemonSet> {
    use kube::api::{Patch, PatchParams};
    const ATTEMPTS: usize = 5;
    let ns = read.namespace().unwrap_or_default();
    let name = read.name_any();
    let read_version = read.resource_version().unwrap_or_default();
    let (body, strategic) = match patch {
        Patch::Merge(b) => (b, false),
        Patch::Strategic(b) => (b, true),
        _ => (&serde_json::Value::Null, false),
    };
    let carried = body.pointer("/metadata/resourceVersion").and_then(|v| v.as_str());
    if read_version.is_empty() || carried != Some(read_version.as_str()) {
        return Err(Error::new(
            ErrorKind::Api,
            format!("refusing to patch daemonset {name:?}: the write is not conditional on the version that was read"),
        )
        .with_hint("this is a bug in kubectl-ds; please report it"));
    }
    if let Some(ms) = std::env::var(TEST_PAUSE_BEFORE_WRITE)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        eprintln!("kubectl-ds: {TEST_PAUSE_BEFORE_WRITE}: waiting {ms} ms before writing");
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), &ns);
    let params = PatchParams {
        field_manager: Some("kubectl-ds".into()),
        ..PatchParams::default()
    };
    let req = Request {
        verb: "patch",
        resource: "daemonsets",
        namespace: Some(&ns),
    };
    let mut body = body.clone();
    for attempt in 1..=ATTEMPTS {
        let patch = if strategic {
            Patch::Strategic(&body)
        } else {
            Patch::Merge(&body)
        };
        match api.patch(&name, &params, &patch).await {
            Ok(ds) => return Ok(ds),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let get_req = Request {
                    verb: "get",
                    resource: "daemonsets",
                    namespace: Some(&ns),
                };
                let now = api
                    .get_opt(&name)
                    .await
                    .map_err(|e| api_error(&cluster.server, get_req, e))?;
                let now_version = match &now {
                    Some(now)
                        if attempt < ATTEMPTS && crate::engine::history::only_status_changed(read, now) =>
                    {
                        let version = now.resource_version().unwrap_or_default();
                        tracing::info!(
                            "daemonset {name:?}: only its status changed since it was read; writing again at \
                             resourceVersion {version}"
                        );
                        body = crate::engine::history::with_resource_version(body, &version);
                        continue;
                    }
                    Some(now) => format!("now {}", now.resource_version().unwrap_or_default()),
                    None => "now deleted".to_string(),
                };
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "daemonset {name:?} in namespace {ns} changed since it was read (resourceVersion \
                         {read_version}, {now_version}); nothing was changed"
                    ),
                )
                .with_hint("run the command again"));
            }
            Err(e) => return Err(api_error(&cluster.server, req, e)),
        }
    }
    Err(Error::new(
        ErrorKind::Conflict,
        format!("daemonset {name:?} in namespace {ns} kept changing while it was being written; nothing was changed"),
    )
    .with_hint("run the command again"))
}
