//! `kubectl ds status [DAEMONSET]`: DaemonSet health; with a name, per-node coverage.

use std::io::Write;

use k8s_openapi::api::apps::v1::DaemonSet;
use serde::Serialize;

use crate::Outcome;
use crate::analysis::{Filter, coverage, require_nodes, select};
use crate::cli::{OutputFormat, StatusArgs};
use crate::engine::revisions::current_hash;
use crate::engine::status::{Summary, counter_drift, outdated};
use crate::engine::verdict::{Verdict, all_fine, template_generation};
use crate::error::Result;
use crate::fetch::{DsScope, list_daemonsets, status_snapshot};
use crate::options::{Options, Scope};
use crate::render::table::Style;
use crate::render::{self, machine, verdicts};
use crate::snapshot::load::{Need, load_for};
use crate::snapshot::{Snapshot, load};

pub async fn run(opts: &Options, args: &StatusArgs) -> Result<Outcome> {
    use OutputFormat::*;
    opts.require_output("status", &[None, Some(Wide), Some(Json), Some(Yaml), Some(Name)])?;
    match (&args.daemonset, &args.snapshot) {
        (None, None) => {
            let cluster = super::cluster(opts).await?;
            let scope = match cluster.namespace(&opts.scope) {
                Some(ns) => DsScope::Namespace(ns.to_string()),
                None => DsScope::All,
            };
            let list = list_daemonsets(&cluster, &scope, opts.selector.as_deref()).await?;
            let mut refs: Vec<&DaemonSet> = list.iter().collect();
            refs.sort_by(|a, b| {
                (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
            });
            overview(opts, &refs, cluster.namespace(&opts.scope).map(str::to_string))
        }
        (None, Some(file)) => {
            let snapshot = load(file)?;
            let filter = Filter {
                namespace: snapshot_namespace(opts),
                name: None,
                selector: opts.selector.clone(),
            };
            let list = select(&snapshot, &filter)?;
            overview(opts, &list, filter.namespace.clone())
        }
        (Some(name), Some(file)) => {
            let need = Need::DaemonSet {
                namespace: snapshot_namespace(opts),
                name: name.clone(),
            };
            let snapshot = load_for(file, &need)?;
            require_nodes(&snapshot, &file.to_string())?;
            let filter = Filter {
                namespace: snapshot_namespace(opts),
                name: Some(name.clone()),
                selector: None,
            };
            let ds = select(&snapshot, &filter)?.into_iter().next().cloned();
            let outcome = detail(opts, &snapshot, ds);
            exit_without_freeing(snapshot);
            outcome
        }
        (Some(name), None) => {
            let cluster = super::cluster(opts).await?;
            let namespace = super::single_namespace(opts, &cluster, "status DAEMONSET")?;
            let snapshot = status_snapshot(&cluster, &namespace, name).await?;
            let ds = snapshot.daemonsets.first().cloned();
            let outcome = detail(opts, &snapshot, ds);
            exit_without_freeing(snapshot);
            outcome
        }
    }
}

/// Leaves every node and pod of `snapshot` to the end of the process, which follows: freeing
/// thousands of objects one by one takes longer than printing their verdicts.
fn exit_without_freeing(snapshot: Snapshot) {
    std::mem::forget(snapshot);
}

fn snapshot_namespace(opts: &Options) -> Option<String> {
    match &opts.scope {
        Scope::Namespace(ns) => Some(ns.clone()),
        Scope::All | Scope::ContextDefault => None,
    }
}

fn overview(opts: &Options, list: &[&DaemonSet], namespace: Option<String>) -> Result<Outcome> {
    let summaries: Vec<Summary> = list.iter().map(|d| Summary::of(d)).collect();
    let mut out = std::io::stdout().lock();
    match opts.output {
        Some(format @ (OutputFormat::Json | OutputFormat::Yaml)) => machine::write(
            &mut out,
            format,
            &List {
                api_version: "kubectl-ds/v1",
                kind: "DaemonSetSummaryList",
                items: &summaries,
            },
        )?,
        // As `kubectl get -o name`: one `daemonset.apps/NAME` line each, nothing when none match.
        Some(OutputFormat::Name) => {
            for s in &summaries {
                writeln!(out, "daemonset.apps/{}", s.name)?;
            }
        }
        _ if summaries.is_empty() => writeln!(
            out,
            "No DaemonSets found{}.",
            namespace
                .map(|n| format!(" in namespace {n}"))
                .unwrap_or_default()
        )?,
        _ => {
            let style = Style {
                headers: !opts.no_headers,
                color: opts.color,
            };
            out.write_all(render::status::overview_table(&summaries, style).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(Outcome::fine_if(summaries.iter().all(Summary::healthy)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct List<'a, T: Serialize> {
    api_version: &'static str,
    kind: &'static str,
    items: &'a [T],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Detail<'a> {
    api_version: &'static str,
    kind: &'static str,
    summary: &'a Summary,
    current_revision: Option<&'a str>,
    nodes: &'a [Verdict],
}

fn detail(opts: &Options, snapshot: &Snapshot, ds: Option<DaemonSet>) -> Result<Outcome> {
    let Some(ds) = ds else {
        return Err(crate::error::Error::not_found(
            "the DaemonSet is not in the data that was read",
        ));
    };
    let explain = opts.output == Some(OutputFormat::Wide);
    let summary = Summary::of(&ds);
    let found = coverage(snapshot, &ds, explain);
    let hash = current_hash(&ds, &snapshot.revisions);
    let mut out = std::io::stdout().lock();
    if opts.output == Some(OutputFormat::Name) {
        writeln!(out, "daemonset.apps/{}", summary.name)?;
    } else if let Some(format @ (OutputFormat::Json | OutputFormat::Yaml)) = opts.output {
        let doc = Detail {
            api_version: "kubectl-ds/v1",
            kind: "DaemonSetStatus",
            summary: &summary,
            current_revision: hash.as_deref(),
            nodes: &found,
        };
        machine::write(&mut out, format, &doc)?;
    } else {
        let style = Style {
            headers: !opts.no_headers,
            color: opts.color,
        };
        let drift = counter_drift(&summary, &found);
        out.write_all(render::status::summary_lines(&summary, hash.as_deref(), drift).as_bytes())?;
        writeln!(out)?;
        out.write_all(verdicts::coverage_table(&found, style, 5).as_bytes())?;
        if hash.is_some() || template_generation(&ds).is_some() {
            out.write_all(render::status::outdated_lines(&outdated(&found)).as_bytes())?;
        }
        if explain {
            out.write_all(verdicts::explain(&found, opts.color).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(Outcome::fine_if(all_fine(&found)))
}
