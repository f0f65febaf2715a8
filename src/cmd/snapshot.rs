//! `kubectl ds snapshot`: saves what the analysis needs as a kubectl List, for `--snapshot`.

use std::io::Write;

use serde::Serialize;

use crate::Outcome;
use crate::cli::{OutputFormat, SnapshotArgs};
use crate::error::Result;
use crate::fetch::{DsScope, full_snapshot};
use crate::options::Options;
use crate::render::machine;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct List {
    api_version: &'static str,
    kind: &'static str,
    items: Vec<serde_json::Value>,
}

pub async fn run(opts: &Options, _args: &SnapshotArgs) -> Result<Outcome> {
    opts.require_output(
        "snapshot",
        &[None, Some(OutputFormat::Json), Some(OutputFormat::Yaml)],
    )?;
    let cluster = super::cluster(opts).await?;
    let scope = match cluster.namespace(&opts.scope) {
        Some(ns) => DsScope::Namespace(ns.to_string()),
        None => DsScope::All,
    };
    let mut snap = full_snapshot(&cluster, &scope, opts.selector.as_deref()).await?;
    // managedFields are large and say nothing about placement.
    snap.nodes
        .iter_mut()
        .for_each(|o| o.metadata.managed_fields = None);
    snap.daemonsets
        .iter_mut()
        .for_each(|o| o.metadata.managed_fields = None);
    snap.pods
        .iter_mut()
        .for_each(|o| o.metadata.managed_fields = None);
    snap.revisions
        .iter_mut()
        .for_each(|o| o.metadata.managed_fields = None);
    snap.events
        .iter_mut()
        .for_each(|o| o.metadata.managed_fields = None);
    let mut items = Vec::new();
    let to_value = |v: serde_json::Result<serde_json::Value>| {
        v.map_err(|e| {
            crate::error::Error::new(crate::error::ErrorKind::Io, format!("encoding the snapshot: {e}"))
        })
    };
    for n in &snap.nodes {
        items.push(to_value(serde_json::to_value(n))?);
    }
    for d in &snap.daemonsets {
        items.push(to_value(serde_json::to_value(d))?);
    }
    for p in &snap.pods {
        items.push(to_value(serde_json::to_value(p))?);
    }
    for r in &snap.revisions {
        items.push(to_value(serde_json::to_value(r))?);
    }
    for e in &snap.events {
        items.push(to_value(serde_json::to_value(e))?);
    }
    let list = List {
        api_version: "v1",
        kind: "List",
        items,
    };
    let mut out = std::io::stdout().lock();
    machine::write(&mut out, opts.output.unwrap_or(OutputFormat::Json), &list)?;
    out.flush()?;
    eprintln!(
        "saved {} nodes, {} DaemonSets, {} pods, {} revisions, {} events",
        snap.nodes.len(),
        snap.daemonsets.len(),
        snap.pods.len(),
        snap.revisions.len(),
        snap.events.len()
    );
    Ok(Outcome::Fine)
}
