//! The fetch layer: every request kubectl-ds makes goes through here, with errors that name the
//! request. Lists are paginated; nothing here decides anything about Kubernetes.
//!
//! This file lists and gets; `owned` finds what a DaemonSet owns or claims, `snapshots` gathers
//! what each analysis command needs, `write` makes the one conditional write, and
//! `label_selector` turns a selector into the strings list requests take.

mod decode;
mod label_selector;
mod owned;
mod snapshots;
mod write;

pub use label_selector::{negated_requirements, selector_string};
pub use owned::{claimable_pods, daemonset_pods, daemonset_revisions, whole_view};
pub use snapshots::{
    DsScope, failed_create_events_in, full_snapshot, list_daemonsets, status_snapshot, why_not_snapshot,
};
pub use write::{TEST_PAUSE_BEFORE_WRITE, patch_daemonset_if_unchanged};

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
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
    each_page(cluster, api.resource_url(), params, req, |body| {
        items.extend(decode::items::<K>(&body).map_err(|e| undecodable(req, &e))?);
        Ok(())
    })
    .await?;
    Ok(items)
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
    each_page(cluster, api.resource_url(), params, req, |body| {
        pages.push(tokio::task::spawn_blocking(move || decode::items::<K>(&body)));
        Ok(())
    })
    .await?;
    let mut items = Vec::new();
    for page in pages {
        let page = page.await.map_err(|e| {
            Error::new(
                ErrorKind::Api,
                format!("{}: reading the answer failed: {e}", req.describe()),
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

/// Walks a list page by page, handing each page's response text to `page` as it comes.
async fn each_page(
    cluster: &Cluster,
    url: &str,
    params: &ListParams,
    req: Request<'_>,
    mut page: impl FnMut(String) -> Result<()>,
) -> Result<()> {
    let mut params = paged(params);
    loop {
        let (body, next) = list_page(cluster, url, &params, req).await?;
        page(body)?;
        match next {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
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

fn undecodable(req: Request<'_>, e: &serde_json::Error) -> Error {
    Error::new(
        ErrorKind::Api,
        format!("{}: the server's answer is not a valid list: {e}", req.describe()),
    )
    .with_hint("check that the server is a Kubernetes API server (`kubectl get --raw /version`)")
}

/// Gets one DaemonSet; when it does not exist, says so and names the closest existing ones.
pub async fn get_daemonset(cluster: &Cluster, namespace: &str, name: &str) -> Result<DaemonSet> {
    let api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), namespace);
    if let Some(ds) = get_opt(cluster, &api, name, Request::get("daemonsets", Some(namespace))).await? {
        return Ok(ds);
    }
    let list = Request::list("daemonsets", Some(namespace));
    let names: Vec<String> = list_all(cluster, &api, &ListParams::default(), list)
        .await
        .map(|l| l.iter().map(|d| d.name_any()).collect())
        .unwrap_or_default();
    Err(daemonset_not_found(name, namespace, &names))
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

fn api_for<K>(cluster: &Cluster, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope>,
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
    if let Some(node) = get_opt(cluster, &api, name, Request::get("nodes", None)).await? {
        return Ok(node);
    }
    let names: Vec<String> = api
        .list_metadata(&ListParams::default())
        .await
        .map_err(|e| api_error(&cluster.server, Request::list("nodes", None), e))
        .map(|l| l.items.into_iter().map(|n| n.name_any()).collect())
        .unwrap_or_default();
    Err(node_not_found(name, &names))
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

/// Every object of a namespaced kind matching `params` in `namespace` (every namespace with None).
async fn list_in<K>(
    cluster: &Cluster,
    resource: &str,
    namespace: Option<&str>,
    params: &ListParams,
) -> Result<Vec<K>>
where
    K: Resource<Scope = NamespaceResourceScope> + DeserializeOwned + Send + 'static,
    <K as Resource>::DynamicType: Default,
{
    let api: Api<K> = api_for(cluster, namespace);
    list_overlapped(cluster, &api, params, Request::list(resource, namespace)).await
}

/// Gets one object; None when it does not exist.
async fn get_opt<K>(cluster: &Cluster, api: &Api<K>, name: &str, req: Request<'_>) -> Result<Option<K>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name)
        .await
        .map_err(|e| api_error(&cluster.server, req, e))
}
