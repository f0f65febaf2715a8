//! `kubectl ds why-not-scheduled NODE [DAEMONSET]`: every DaemonSet against one node.

use std::io::Write;

use crate::Outcome;
use crate::analysis::{Filter, require_nodes, why_not};
use crate::cli::{OutputFormat, WhyNotArgs};
use crate::engine::verdict::VerdictKind;
use crate::error::Result;
use crate::fetch::{DsScope, failed_create_events_in, why_not_snapshot};
use crate::options::{Options, Scope};
use crate::render::table::Style;
use crate::render::{machine, verdicts};
use crate::snapshot::load::{Need, load_for};
use crate::snapshot::parse_source;

pub async fn run(opts: &Options, args: &WhyNotArgs) -> Result<Outcome> {
    use OutputFormat::*;
    opts.require_output("why-not-scheduled", &[None, Some(Wide), Some(Json), Some(Yaml)])?;
    let explain = args.explain || opts.output == Some(Wide);

    let (mut snapshot, filter, cluster) = match &args.snapshot {
        Some(file) => {
            let snapshot = load_for(&parse_source(file), &Need::Node(args.node.clone()))?;
            require_nodes(&snapshot, file)?;
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
    // A missing pod is explained by the controller's FailedCreate events, read only then.
    let mut missing: Vec<&str> = found
        .iter()
        .filter(|v| v.verdict == VerdictKind::Missing)
        .map(|v| v.namespace.as_str())
        .collect();
    if let Some(cluster) = cluster.filter(|_| !missing.is_empty()) {
        missing.sort_unstable();
        missing.dedup();
        snapshot.events = failed_create_events_in(&cluster, &missing).await?;
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
    Ok(if found.iter().all(|v| v.verdict.is_fine()) {
        Outcome::Fine
    } else {
        Outcome::NotFine
    })
}
