//! `kubectl ds why-not-scheduled NODE [DAEMONSET]`: every DaemonSet against one node.

use std::collections::HashSet;
use std::io::Write;

use k8s_openapi::api::apps::v1::DaemonSet;

use crate::Outcome;
use crate::analysis::{Filter, require_nodes, why_not};
use crate::cli::{OutputFormat, WhyNotArgs};
use crate::engine::sync::Action;
use crate::engine::verdict::{VerdictKind, all_fine};
use crate::error::Result;
use crate::fetch::{DsScope, failed_create_events_in, whole_view, why_not_snapshot};
use crate::options::{Options, Scope};
use crate::render::table::Style;
use crate::render::{machine, verdicts};
use crate::snapshot::load::{Need, load_for};

pub async fn run(opts: &Options, args: &WhyNotArgs) -> Result<Outcome> {
    use OutputFormat::*;
    opts.require_output("why-not-scheduled", &[None, Some(Wide), Some(Json), Some(Yaml)])?;
    let explain = args.explain || opts.output == Some(Wide);

    let (mut snapshot, filter, cluster) = match &args.snapshot {
        Some(file) => {
            let mut snapshot = load_for(file, &Need::Node(args.node.clone()))?;
            require_nodes(&snapshot, &file.to_string())?;
            snapshot.partial = true;
            let namespace = match &opts.scope {
                Scope::Namespace(ns) => Some(ns.clone()),
                Scope::All | Scope::ContextDefault => None,
            };
            (
                snapshot,
                Filter {
                    namespace,
                    name: args.daemonset.clone(),
                    selector: opts.selector.clone(),
                },
                None,
            )
        }
        None => {
            let cluster = super::cluster(opts).await?;
            // Without a DaemonSet name every namespace is checked unless -n is given; with a
            // name, the current namespace unless -n/-A, as kubectl resolves names.
            let namespace = match (&opts.scope, &args.daemonset) {
                (Scope::All, _) => None,
                (Scope::Namespace(ns), _) => Some(ns.clone()),
                (Scope::ContextDefault, Some(_)) => Some(cluster.default_namespace.clone()),
                (Scope::ContextDefault, None) => None,
            };
            let scope = match (&namespace, &args.daemonset) {
                (Some(ns), Some(name)) => DsScope::One {
                    namespace: ns.clone(),
                    name: name.clone(),
                },
                (Some(ns), None) => DsScope::Namespace(ns.clone()),
                (None, _) => DsScope::All,
            };
            let snapshot = why_not_snapshot(&cluster, &args.node, &scope, opts.selector.as_deref()).await?;
            (
                snapshot,
                Filter {
                    namespace,
                    name: args.daemonset.clone(),
                    selector: opts.selector.clone(),
                },
                Some(cluster),
            )
        }
    };

    let mut found = why_not(&snapshot, &args.node, &filter, explain)?;
    // A rolling update's next move is counted over every node: read the whole cluster when one
    // of the node's pods is outdated under RollingUpdate (only mid-rollout).
    if snapshot.partial && found.iter().any(|v| v.next.action == Action::Unknown) {
        match (&args.snapshot, &cluster) {
            (Some(file), _) => snapshot = load_for(file, &Need::Everything)?,
            (None, Some(cluster)) => {
                let wanted: Vec<&DaemonSet> = found
                    .iter()
                    .filter(|v| v.next.action == Action::Unknown)
                    .filter_map(|v| {
                        snapshot.daemonsets.iter().find(|d| {
                            d.metadata.namespace.as_deref() == Some(v.namespace.as_str())
                                && d.metadata.name.as_deref() == Some(v.daemonset.as_str())
                        })
                    })
                    .collect();
                let (nodes, pods) = whole_view(cluster, &wanted).await?;
                let mut seen: HashSet<String> = snapshot
                    .pods
                    .iter()
                    .filter_map(|p| p.metadata.uid.clone())
                    .collect();
                snapshot.nodes = nodes;
                for pod in pods {
                    if pod.metadata.uid.clone().is_some_and(|u| seen.insert(u)) {
                        snapshot.pods.push(pod);
                    }
                }
            }
            (None, None) => {}
        }
        snapshot.partial = false;
        found = why_not(&snapshot, &args.node, &filter, explain)?;
    }
    // A missing pod is explained by the controller's FailedCreate events, read only then.
    let mut missing: Vec<&str> = found
        .iter()
        .filter(|v| v.verdict == VerdictKind::Missing)
        .map(|v| v.namespace.as_str())
        .collect();
    if let Some(cluster) = cluster.as_ref().filter(|_| !missing.is_empty()) {
        missing.sort_unstable();
        missing.dedup();
        snapshot.events = failed_create_events_in(cluster, &missing).await?;
        found = why_not(&snapshot, &args.node, &filter, explain)?;
    }
    let mut out = std::io::stdout().lock();
    match opts.output {
        Some(format @ (Json | Yaml)) => {
            machine::write(&mut out, format, &verdicts::VerdictList::new(&found))?
        }
        _ => {
            if found.is_empty() {
                writeln!(
                    out,
                    "No DaemonSets found{}.",
                    match &filter.namespace {
                        Some(ns) => format!(" in namespace {ns}"),
                        None => String::new(),
                    }
                )?;
            } else {
                let style = Style {
                    headers: !opts.no_headers,
                    color: opts.color,
                };
                out.write_all(verdicts::why_not_table(&found, style, explain).as_bytes())?;
                if explain {
                    out.write_all(verdicts::explain(&found, opts.color).as_bytes())?;
                }
            }
        }
    }
    out.flush()?;
    Ok(Outcome::fine_if(all_fine(&found)))
}
