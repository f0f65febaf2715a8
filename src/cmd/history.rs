//! `kubectl ds history`: the revisions of a DaemonSet, one revision's pod template, or a
//! field-by-field diff of two.

use std::io::Write;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::jiff::Timestamp;
use owo_colors::OwoColorize;
use serde_json::json;

use crate::Outcome;
use crate::cli::{HistoryArgs, OutputFormat};
use crate::engine::history::{self as engine, Change, History, Revision, TargetError};
use crate::error::{Error, ErrorKind, Result};
use crate::fetch;
use crate::options::Options;
use crate::render::{machine, table};

pub async fn run(opts: &Options, args: &HistoryArgs) -> Result<Outcome> {
    opts.require_output(
        "history",
        &[
            None,
            Some(OutputFormat::Json),
            Some(OutputFormat::Yaml),
            Some(OutputFormat::Name),
        ],
    )?;
    if !args.diff.is_empty() && opts.output == Some(OutputFormat::Name) {
        return Err(Error::usage(
            "`history --diff` does not support -o name; it supports json and yaml",
        ));
    }
    let cluster = super::cluster(opts).await?;
    let ns = super::single_namespace(opts, &cluster, "history")?;
    let ds = fetch::get_daemonset(&cluster, &ns, &args.daemonset).await?;
    let revisions = engine::revisions(&fetch::daemonset_revisions(&cluster, &ds).await?);
    if let Some(n) = args.revision {
        return show_template(opts, &ds, &revisions, n);
    }
    if let [a, rest @ ..] = args.diff.as_slice() {
        return show_diff(opts, &ds, &revisions, *a, rest.first().copied());
    }
    let pods = fetch::daemonset_pods(&cluster, &ds).await?;
    let history = engine::summarize(&ds, &revisions, &pods);
    show_overview(opts, &history, Timestamp::now())
}

/// `daemonset.apps/NAME`, as kubectl names the object in its messages.
pub(crate) fn object_ref(ds: &DaemonSet) -> String {
    format!(
        "daemonset.apps/{}",
        ds.metadata.name.as_deref().unwrap_or_default()
    )
}

/// `kubectl ds history NAME -n NS`, for hints.
fn history_command(ds: &DaemonSet) -> String {
    format!("kubectl ds history {}", name_and_namespace(ds))
}

/// A revision that cannot be used, as an error for the user.
pub(crate) fn revision_error(ds: &DaemonSet, err: &TargetError) -> Error {
    let message = format!("{}: {err}", object_ref(ds));
    match err {
        TargetError::Negative { .. } => Error::usage(message)
            .with_hint(format!("give one of the revision numbers; `{}` lists them", history_command(ds))),
        TargetError::Unknown { .. } => Error::not_found(message).with_hint(format!(
            "give one of the existing revisions; `{}` lists them with their images",
            history_command(ds)
        )),
        TargetError::NothingToRollBackTo { .. } => Error::not_found(message).with_hint(
            "a revision is recorded each time the pod template changes; roll back once there is an earlier one",
        ),
    }
}

/// A write refused because the DaemonSet changed since it was read: says how to try again.
pub(crate) fn on_conflict(e: Error, again: impl Into<String>) -> Error {
    if e.kind == ErrorKind::Conflict {
        e.with_hint(again)
    } else {
        e
    }
}

/// The DaemonSet's pod template, or an error when the object has none.
pub(crate) fn template_of(ds: &DaemonSet) -> Result<&PodTemplateSpec> {
    engine::daemonset_template(ds)
        .ok_or_else(|| Error::invalid_input(format!("{} has no spec.template", object_ref(ds))))
}

/// `NAME -n NAMESPACE`, to complete a suggested command.
pub(crate) fn name_and_namespace(ds: &DaemonSet) -> String {
    format!(
        "{} -n {}",
        ds.metadata.name.as_deref().unwrap_or_default(),
        ds.metadata.namespace.as_deref().unwrap_or_default()
    )
}

/// A revision whose data is not a pod template, as an error for the user.
pub(crate) fn bad_revision(ds: &DaemonSet, err: &engine::BadRevision) -> Error {
    Error::invalid_input(format!("{}: {err}", object_ref(ds))).with_hint(format!(
        "inspect it with `kubectl get controllerrevision {} -n {} -o yaml`",
        err.name,
        ds.metadata.namespace.as_deref().unwrap_or_default()
    ))
}

fn show_overview(opts: &Options, history: &History, now: Timestamp) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match opts.output {
        // The revisions as objects, oldest first, for scripts (`kubectl get controllerrevision`).
        Some(OutputFormat::Name) => {
            for r in &history.revisions {
                writeln!(out, "controllerrevision.apps/{}", r.name)?;
            }
            return Ok(Outcome::Fine);
        }
        Some(format) => {
            machine::write(&mut out, format, history)?;
            return Ok(Outcome::Fine);
        }
        None => {}
    }
    let name = format!("daemonset.apps/{}", history.daemonset);
    if history.revisions.is_empty() {
        writeln!(out, "No rollout history found for {name}.")?;
        return Ok(Outcome::Fine);
    }
    let rows = history
        .revisions
        .iter()
        .map(|r| {
            let current = if r.current { "*" } else { "" };
            vec![
                table::TableCell::new(r.revision),
                table::TableCell::new(r.change_cause.as_deref().unwrap_or("<none>")),
                table::TableCell::new(if r.images.is_empty() {
                    "<unknown>".to_string()
                } else {
                    r.images.join(",")
                }),
                table::TableCell::new(
                    r.created
                        .map(|c| crate::render::age(c, now))
                        .unwrap_or_else(|| "<unknown>".into()),
                ),
                table::TableCell::new(r.pods),
                table::status_cell(current, table::Tone::Good, opts.color),
            ]
        })
        .collect();
    let style = table::Style {
        headers: !opts.no_headers,
        color: opts.color,
    };
    let header = ["REVISION", "CHANGE-CAUSE", "IMAGES", "AGE", "PODS", "CURRENT"];
    out.write_all(table::render(style, &header, rows).as_bytes())?;
    out.flush()?;
    if history.current_revision.is_none() {
        let lag = match (history.observed_generation, history.generation) {
            (Some(o), Some(g)) if o < g => format!(" (observedGeneration {o} < generation {g})"),
            _ => String::new(),
        };
        eprintln!(
            "note: no revision matches the current pod template of {name}: the DaemonSet controller has not \
             caught up yet{lag}; run the command again in a moment"
        );
    }
    Ok(Outcome::Fine)
}

fn show_template(opts: &Options, ds: &DaemonSet, revisions: &[Revision], n: i64) -> Result<Outcome> {
    let revision = engine::find_revision(revisions, n).map_err(|e| revision_error(ds, &e))?;
    if opts.output == Some(OutputFormat::Name) {
        println!("controllerrevision.apps/{}", revision.name);
        return Ok(Outcome::Fine);
    }
    let template = revision.template().map_err(|e| bad_revision(ds, &e))?;
    let format = match opts.output {
        Some(OutputFormat::Json) => OutputFormat::Json,
        _ => OutputFormat::Yaml,
    };
    machine::write(&mut std::io::stdout().lock(), format, &template)?;
    Ok(Outcome::Fine)
}

fn show_diff(
    opts: &Options,
    ds: &DaemonSet,
    revisions: &[Revision],
    a: i64,
    b: Option<i64>,
) -> Result<Outcome> {
    let from = engine::find_revision(revisions, a).map_err(|e| revision_error(ds, &e))?;
    let from_template = from.template().map_err(|e| bad_revision(ds, &e))?;
    let template = engine::daemonset_template(ds);
    let current = template.and_then(|t| engine::current_revision(t, revisions));
    let label = |r: &Revision| {
        let is_current = current.is_some_and(|c| c.revision == r.revision);
        format!(
            "revision {}{}",
            r.revision,
            if is_current { " (current)" } else { "" }
        )
    };
    let (to_label, to_number, to_template) = match (b, current) {
        (Some(b), _) => {
            let to = engine::find_revision(revisions, b).map_err(|e| revision_error(ds, &e))?;
            (
                label(to),
                Some(to.revision),
                to.template().map_err(|e| bad_revision(ds, &e))?,
            )
        }
        (None, Some(c)) => (
            label(c),
            Some(c.revision),
            c.template().map_err(|e| bad_revision(ds, &e))?,
        ),
        (None, None) => {
            let t = engine::template_value(template_of(ds)?);
            (
                "the current template (not recorded as a revision yet)".to_string(),
                None,
                t,
            )
        }
    };
    let changes = engine::diff_templates(&from_template, &to_template);
    let mut out = std::io::stdout().lock();
    if let Some(format) = opts.output {
        let current_number = current.map(|c| c.revision);
        let value = json!({
            "daemonset": ds.metadata.name,
            "namespace": ds.metadata.namespace,
            "from": {"revision": from.revision, "current": Some(from.revision) == current_number},
            "to": {"revision": to_number, "current": to_number.is_none() || to_number == current_number},
            "changes": changes,
        });
        machine::write(&mut out, format, &value)?;
        return Ok(Outcome::Fine);
    }
    let from_label = label(from);
    if changes.is_empty() {
        writeln!(out, "{from_label} and {to_label} have the same pod template")?;
        return Ok(Outcome::Fine);
    }
    writeln!(out, "--- {from_label}\n+++ {to_label}")?;
    out.write_all(render_diff(&changes, opts.color).as_bytes())?;
    Ok(Outcome::Fine)
}

/// One line per change, colored by kind when color is on.
pub(crate) fn render_diff(changes: &[Change], color: bool) -> String {
    let mut text = String::new();
    for change in changes {
        let line = change.to_string();
        let line = match (color, change) {
            (false, _) => line,
            (true, Change::Added { .. }) => line.green().to_string(),
            (true, Change::Removed { .. }) => line.red().to_string(),
            (true, Change::Changed { .. }) => line.yellow().to_string(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lines_are_plain_without_color_and_colored_with_it() {
        let changes = [Change::Changed {
            path: "/spec/x".into(),
            old: json!(1),
            new: json!(2),
        }];
        assert_eq!(render_diff(&changes, false), "~ /spec/x: 1 → 2\n");
        let colored = render_diff(&changes, true);
        assert!(
            colored.contains("\u{1b}[") && colored.contains("~ /spec/x: 1 → 2"),
            "{colored:?}"
        );
    }
}
