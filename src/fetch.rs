//! The fetch layer: every request kubectl-ds makes goes through here, with errors that name the
//! request. Lists are paginated; nothing here decides anything about Kubernetes.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::client::{Cluster, Request, api_error};
use crate::error::{Error, ErrorKind, Result};
use crate::suggest::did_you_mean;

const PAGE: u32 = 500;

/// Lists every object matching `params`, page by page.
pub async fn list_all<K>(cluster: &Cluster, api: &Api<K>, params: &ListParams, req: Request<'_>) -> Result<Vec<K>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut params = params.clone().limit(PAGE);
    loop {
        let page = api.list(&params).await.map_err(|e| api_error(&cluster.server, req, e))?;
        items.extend(page.items);
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return Ok(items),
        }
    }
}

/// Gets one DaemonSet; when it does not exist, says so and names the closest existing ones.
pub async fn get_daemonset(cluster: &Cluster, namespace: &str, name: &str) -> Result<DaemonSet> {
    let api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), namespace);
    let req = Request { verb: "get", resource: "daemonsets", namespace: Some(namespace) };
    match api.get_opt(name).await.map_err(|e| api_error(&cluster.server, req, e))? {
        Some(ds) => Ok(ds),
        None => {
            let list_req = Request { verb: "list", resource: "daemonsets", namespace: Some(namespace) };
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
    Error::new(ErrorKind::NotFound, format!("daemonset {name:?} not found in namespace {namespace}")).with_hint(hint)
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

fn controlled_by(owner_uid: Option<&str>, refs: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>) -> bool {
    let Some(uid) = owner_uid else { return false };
    refs.into_iter().flatten().any(|r| r.controller == Some(true) && r.uid == uid)
}

/// The pods a DaemonSet controls (controller ownerReference UID), found by its selector.
pub async fn daemonset_pods(cluster: &Cluster, ds: &DaemonSet) -> Result<Vec<Pod>> {
    let ns = ds.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &ns);
    let selector = ds.spec.as_ref().map(|s| selector_string(&s.selector)).unwrap_or_default();
    let req = Request { verb: "list", resource: "pods", namespace: Some(&ns) };
    let pods = list_all(cluster, &api, &ListParams::default().labels(&selector), req).await?;
    let uid = ds.metadata.uid.as_deref();
    Ok(pods.into_iter().filter(|p| controlled_by(uid, p.metadata.owner_references.as_ref())).collect())
}

/// The ControllerRevisions a DaemonSet controls, as `kubectl rollout history` finds them.
pub async fn daemonset_revisions(cluster: &Cluster, ds: &DaemonSet) -> Result<Vec<ControllerRevision>> {
    let ns = ds.namespace().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(cluster.client.clone(), &ns);
    let selector = ds.spec.as_ref().map(|s| selector_string(&s.selector)).unwrap_or_default();
    let req = Request { verb: "list", resource: "controllerrevisions", namespace: Some(&ns) };
    let revisions = list_all(cluster, &api, &ListParams::default().labels(&selector), req).await?;
    let uid = ds.metadata.uid.as_deref();
    Ok(revisions.into_iter().filter(|r| controlled_by(uid, r.metadata.owner_references.as_ref())).collect())
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
                LabelSelectorRequirement { key: "tier".into(), operator: "In".into(), values: Some(vec!["a".into(), "b".into()]) },
                LabelSelectorRequirement { key: "x".into(), operator: "NotIn".into(), values: Some(vec!["c".into()]) },
                LabelSelectorRequirement { key: "y".into(), operator: "Exists".into(), values: None },
                LabelSelectorRequirement { key: "z".into(), operator: "DoesNotExist".into(), values: None },
            ]),
        };
        assert_eq!(selector_string(&sel), "app=agent,tier in (a,b),x notin (c),y,!z");
    }
}
