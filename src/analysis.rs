//! Turns a snapshot into what the analysis commands show: which DaemonSets are in scope, and
//! the verdicts for a node or for a DaemonSet across nodes. Works the same on live and saved state.

use k8s_openapi::api::apps::v1::DaemonSet;

use crate::engine::verdict::{Index, Verdict};
use crate::error::{Error, ErrorKind, Result};
use crate::fetch::{daemonset_not_found, node_not_found};
use crate::selector::Selector;
use crate::snapshot::Snapshot;

/// Which DaemonSets a command looks at.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// None = every namespace.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub selector: Option<String>,
}

/// The DaemonSets of the snapshot that the filter selects, sorted by namespace and name. A named
/// DaemonSet that is not there is an error naming the closest ones.
pub fn select<'a>(snapshot: &'a Snapshot, filter: &Filter) -> Result<Vec<&'a DaemonSet>> {
    let selector = filter.selector.as_deref().map(Selector::parse).transpose()?;
    let in_ns = |ds: &&DaemonSet| {
        filter
            .namespace
            .as_deref()
            .is_none_or(|ns| ds.metadata.namespace.as_deref() == Some(ns))
    };
    let mut selected: Vec<&DaemonSet> = snapshot
        .daemonsets
        .iter()
        .filter(in_ns)
        .filter(|ds| {
            filter
                .name
                .as_deref()
                .is_none_or(|n| ds.metadata.name.as_deref() == Some(n))
        })
        .filter(|ds| {
            selector
                .as_ref()
                .is_none_or(|s| s.matches(ds.metadata.labels.as_ref()))
        })
        .collect();
    selected.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    if let Some(name) = &filter.name {
        if selected.is_empty() {
            let existing: Vec<String> = snapshot
                .daemonsets
                .iter()
                .filter(in_ns)
                .filter_map(|d| d.metadata.name.clone())
                .collect();
            let ns = filter.namespace.as_deref().unwrap_or("any namespace");
            return Err(daemonset_not_found(name, ns, &existing));
        }
        if selected.len() > 1 {
            let places: Vec<String> = selected
                .iter()
                .filter_map(|d| d.metadata.namespace.clone())
                .collect();
            return Err(Error::usage(format!(
                "daemonset {name:?} exists in several namespaces ({}); pick one with -n",
                places.join(", ")
            )));
        }
    }
    Ok(selected)
}

/// `why-not NODE`: one verdict per selected DaemonSet on that node.
pub fn why_not(snapshot: &Snapshot, node: &str, filter: &Filter, explain: bool) -> Result<Vec<Verdict>> {
    let index = Index::new(snapshot);
    let Some(node_obj) = index.node(node) else {
        let names: Vec<String> = snapshot
            .nodes
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        return Err(node_not_found(node, &names));
    };
    let daemonsets = select(snapshot, filter)?;
    Ok(daemonsets
        .into_iter()
        .map(|ds| index.verdict(ds, node_obj, explain))
        .collect())
}

/// `status DS`: the verdict on every node, sorted by node name.
pub fn coverage(snapshot: &Snapshot, ds: &DaemonSet, explain: bool) -> Vec<Verdict> {
    let index = Index::new(snapshot);
    let mut nodes: Vec<_> = snapshot.nodes.iter().collect();
    nodes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    nodes.into_iter().map(|n| index.verdict(ds, n, explain)).collect()
}

/// A snapshot with no nodes cannot answer anything; say so instead of printing nothing.
pub fn require_nodes(snapshot: &Snapshot, origin: &str) -> Result<()> {
    if snapshot.nodes.is_empty() {
        return Err(Error::new(ErrorKind::InvalidInput, format!("{origin} holds no nodes")).with_hint(
            "save a snapshot with `kubectl ds snapshot -A > snap.json` or `kubectl get nodes,ds,pods,controllerrevisions,events -A -o json > snap.json`",
        ));
    }
    Ok(())
}
