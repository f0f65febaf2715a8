//! `kubectl ds status [DAEMONSET]`: DaemonSet health; with a name, per-node coverage.

use std::io::Write;

use k8s_openapi::api::apps::v1::DaemonSet;
use serde::Serialize;

use crate::Outcome;
use crate::analysis::{Filter, coverage, require_nodes, select};
use crate::cli::{OutputFormat, StatusArgs};
use crate::engine::history;
use crate::engine::revisions::current_hash;
use crate::engine::verdict::{Verdict, VerdictKind, template_generation};
use crate::error::Result;
use crate::fetch::{DsScope, list_daemonsets, status_snapshot};
use crate::options::{Options, Scope};
use crate::render::table::{Style, TableCell, Tone, render, status_cell};
use crate::render::{machine, verdicts};
use crate::snapshot::load::{Need, load_for};
use crate::snapshot::{Snapshot, load, parse_source};

/// One DaemonSet's counters, as the controller reports them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub namespace: String,
    pub name: String,
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
    pub up_to_date: i32,
    pub available: i32,
    pub misscheduled: i32,
    pub update_strategy: String,
    pub paused: bool,
    pub observed_generation: i64,
    pub generation: i64,
    pub created: Option<String>,
}

impl Summary {
    pub fn of(ds: &DaemonSet) -> Summary {
        let s = ds.status.clone().unwrap_or_default();
        // One home for the strategy's text and for "paused": the engine (engine::history), which
        // `resume` asks too, so the two never disagree.
        let update_strategy = history::describe_strategy(&history::update_strategy(ds));
        let paused = matches!(
            history::pause_state(ds),
            history::PauseState::Paused { .. } | history::PauseState::Malformed { .. }
        );
        Summary {
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            name: ds.metadata.name.clone().unwrap_or_default(),
            desired: s.desired_number_scheduled,
            current: s.current_number_scheduled,
            ready: s.number_ready,
            up_to_date: s.updated_number_scheduled.unwrap_or(0),
            available: s.number_available.unwrap_or(0),
            misscheduled: s.number_misscheduled,
            update_strategy,
            paused,
            observed_generation: s.observed_generation.unwrap_or(0),
            generation: ds.metadata.generation.unwrap_or(0),
            created: ds.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        }
    }

    pub fn healthy(&self) -> bool {
        self.available >= self.desired && self.misscheduled == 0
    }
}

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
            let snapshot = load(&parse_source(file))?;
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
            let snapshot = load_for(&parse_source(file), &need)?;
            require_nodes(&snapshot, file)?;
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

/// The AGE column, as kubectl words it (one home: `render::age`).
fn age(created: Option<&str>) -> String {
    match created.and_then(|c| c.parse::<k8s_openapi::jiff::Timestamp>().ok()) {
        Some(t) => crate::render::age(t, k8s_openapi::jiff::Timestamp::now()),
        None => "-".into(),
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
            let rows = summaries
                .iter()
                .map(|s| {
                    let tone = if s.healthy() { Tone::Good } else { Tone::Bad };
                    let strategy = if s.paused {
                        format!("{} (paused)", s.update_strategy)
                    } else {
                        s.update_strategy.clone()
                    };
                    vec![
                        TableCell::new(&s.namespace),
                        TableCell::new(&s.name),
                        TableCell::new(s.desired),
                        TableCell::new(s.current),
                        status_cell(
                            s.ready.to_string(),
                            if s.ready >= s.desired { Tone::Good } else { tone },
                            opts.color,
                        ),
                        TableCell::new(s.up_to_date),
                        status_cell(s.available.to_string(), tone, opts.color),
                        status_cell(
                            s.misscheduled.to_string(),
                            if s.misscheduled > 0 {
                                Tone::Warn
                            } else {
                                Tone::Neutral
                            },
                            opts.color,
                        ),
                        TableCell::new(strategy),
                        TableCell::new(age(s.created.as_deref())),
                    ]
                })
                .collect();
            let header = [
                "NAMESPACE",
                "NAME",
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "MISSCHEDULED",
                "STRATEGY",
                "AGE",
            ];
            out.write_all(render(style, &header, rows).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(if summaries.iter().all(Summary::healthy) {
        Outcome::Fine
    } else {
        Outcome::NotFine
    })
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
        writeln!(out, "DaemonSet {}/{}", summary.namespace, summary.name)?;
        writeln!(
            out,
            "  desired {}, current {}, ready {}, up-to-date {}, available {}, misscheduled {}",
            summary.desired,
            summary.current,
            summary.ready,
            summary.up_to_date,
            summary.available,
            summary.misscheduled
        )?;
        let paused = if summary.paused {
            " — PAUSED by kubectl ds pause (resume with `kubectl ds resume`)"
        } else {
            ""
        };
        writeln!(out, "  update strategy: {}{paused}", summary.update_strategy)?;
        match &hash {
            Some(h) => writeln!(out, "  current revision: {h}")?,
            None => writeln!(
                out,
                "  current revision: not created yet (the controller has not synced this template)"
            )?,
        }
        // The controller's counters can lag: since 1.36 it does not re-sync a DaemonSet when a
        // node gains a NoSchedule-only taint (e.g. not-ready) while a pod is there.
        let desired_now = found.iter().filter(|v| v.should_run).count() as i32;
        let misscheduled_now = found
            .iter()
            .filter(|v| v.verdict == VerdictKind::Misscheduled)
            .count() as i32;
        if desired_now != summary.desired || misscheduled_now != summary.misscheduled {
            writeln!(
                out,
                "  note: by the controller's own rules the nodes now give desired {desired_now}, misscheduled {misscheduled_now}; \
                 its status still says {} and {} (it updates them on its next sync of this DaemonSet)",
                summary.desired, summary.misscheduled
            )?;
        }
        if summary.observed_generation < summary.generation {
            writeln!(
                out,
                "  the controller has not caught up: observedGeneration {} < generation {}",
                summary.observed_generation, summary.generation
            )?;
        }
        writeln!(out)?;
        out.write_all(verdicts::coverage_table(&found, style, 5).as_bytes())?;
        let generation = template_generation(&ds);
        let outdated: Vec<&Verdict> = found.iter().filter(|v| v.updated == Some(false)).collect();
        if !outdated.is_empty() && (hash.is_some() || generation.is_some()) {
            writeln!(out, "\n{} pods run an older revision:", outdated.len())?;
            for v in outdated.iter().take(10) {
                writeln!(
                    out,
                    "  {} on {} (revision {})",
                    v.pod.as_deref().unwrap_or("-"),
                    v.node,
                    v.revision.as_deref().unwrap_or("-")
                )?;
            }
            if outdated.len() > 10 {
                writeln!(out, "  … {} more", outdated.len() - 10)?;
            }
        }
        if explain {
            out.write_all(verdicts::explain(&found, opts.color).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(if found.iter().all(|v| v.verdict.is_fine()) {
        Outcome::Fine
    } else {
        Outcome::NotFine
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ds(strategy: serde_json::Value, record: bool) -> DaemonSet {
        let mut annotations = serde_json::Map::new();
        if record {
            annotations.insert(
                history::PAUSE_ANNOTATION.into(),
                json!(r#"{"pausedAt": "2025-01-01T00:00:00Z", "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2, "maxSurge": 0}}}"#),
            );
        }
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "ns", "annotations": annotations},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "updateStrategy": strategy,
                     "template": {"spec": {"containers": []}}}
        }))
        .unwrap()
    }

    #[test]
    fn paused_is_what_resume_sees() {
        let rolling = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2, "maxSurge": 0}});
        // The strategy was set back to RollingUpdate by hand after `pause`: the record is stale
        // and `resume` says "is not paused"; status must not say paused.
        let stale = Summary::of(&ds(rolling.clone(), true));
        assert!(!stale.paused);
        assert_eq!(
            stale.update_strategy,
            "RollingUpdate (maxUnavailable 2, maxSurge 0)"
        );
        assert!(Summary::of(&ds(json!({"type": "OnDelete"}), true)).paused);
        assert!(
            !Summary::of(&ds(json!({"type": "OnDelete"}), false)).paused,
            "OnDelete set by hand is not a pause"
        );
        assert!(!Summary::of(&ds(rolling, false)).paused);
    }
}
