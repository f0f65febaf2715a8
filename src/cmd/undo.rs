//! `kubectl ds undo`: roll a DaemonSet back to an earlier revision as `kubectl rollout undo` does
//! (semantics §7.3), showing the template changes first and never overwriting a concurrent edit.

use std::io::Write;

use kube::api::Patch;

use super::history::{
    bad_revision, name_and_namespace, object_ref, on_conflict, render_diff, revision_error, template_of,
};
use crate::Outcome;
use crate::cli::OutputFormat;
use crate::cli::UndoArgs;
use crate::engine::history::{self as engine, LAST_APPLIED_ANNOTATION, UndoPlan};
use crate::error::Result;
use crate::fetch;
use crate::options::Options;

pub async fn run(opts: &Options, args: &UndoArgs) -> Result<Outcome> {
    opts.require_output("undo", &[None, Some(OutputFormat::Name)])?;
    let names_only = opts.output == Some(OutputFormat::Name);
    let cluster = super::cluster(opts).await?;
    let ns = super::single_namespace(opts, &cluster, "undo")?;
    let ds = fetch::get_daemonset(&cluster, &ns, &args.daemonset).await?;
    let revisions = engine::revisions(&fetch::daemonset_revisions(&cluster, &ds).await?);
    let target = engine::undo_target(&revisions, args.to_revision).map_err(|e| revision_error(&ds, &e))?;
    let object = object_ref(&ds);
    let n = target.revision;
    let plan = engine::plan_undo(template_of(&ds)?, target).map_err(|e| bad_revision(&ds, &e))?;
    let UndoPlan::Rollback { changes } = plan else {
        super::report(
            opts,
            &object,
            format_args!("{object} already matches revision {n}; nothing to do"),
        );
        return Ok(Outcome::Fine);
    };

    if !names_only {
        let mut out = std::io::stdout().lock();
        let verb = if args.dry_run { "would change" } else { "changes" };
        writeln!(
            out,
            "{object}: rolling back to revision {n} {verb} the pod template:"
        )?;
        if changes.is_empty() {
            writeln!(
                out,
                "(no field of the template differs; the revision's data is sent as stored)"
            )?;
        }
        out.write_all(render_diff(&changes, opts.color).as_bytes())?;
        out.flush()?;
    }
    let applied = ds
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(LAST_APPLIED_ANNOTATION));
    if applied {
        eprintln!(
            "Warning: {object} is managed with `kubectl apply`; rolling back does not update its \
             {LAST_APPLIED_ANNOTATION} annotation, so the next `kubectl apply` compares against the \
             configuration applied before the rollback"
        );
    }
    if args.dry_run {
        super::report(
            opts,
            &object,
            format_args!("{object} would be rolled back to revision {n} (dry run: nothing was changed)"),
        );
        return Ok(Outcome::Fine);
    }

    let read_version = ds.metadata.resource_version.as_deref().unwrap_or_default();
    let body = engine::undo_patch(target, read_version).map_err(|e| bad_revision(&ds, &e))?;
    fetch::patch_daemonset_if_unchanged(&cluster, &ds, &Patch::Strategic(body))
        .await
        .map_err(|e| {
            on_conflict(
                e,
                format!(
                    "run `kubectl ds undo {}` again to see the new diff",
                    name_and_namespace(&ds)
                ),
            )
        })?;
    super::report(
        opts,
        &object,
        format_args!("{object} rolled back to revision {n}"),
    );
    Ok(Outcome::Fine)
}
