//! `kubectl ds pause`: DaemonSets cannot be paused upstream (semantics §7.5), so this records the
//! update strategy in an annotation and switches to OnDelete, in one conditional write.

use k8s_openapi::jiff::Timestamp;
use kube::api::Patch;

use super::history::{name_and_namespace, object_ref, on_conflict};
use crate::Outcome;
use crate::cli::NameArgs;
use crate::cli::OutputFormat;
use crate::engine::history::{self as engine, PAUSE_ANNOTATION, PauseState};
use crate::error::{Error, ErrorKind, Result};
use crate::fetch;
use crate::options::Options;

pub async fn run(opts: &Options, args: &NameArgs) -> Result<Outcome> {
    opts.require_output("pause", &[None, Some(OutputFormat::Name)])?;
    let cluster = super::cluster(opts).await?;
    let ns = super::single_namespace(opts, &cluster, "pause")?;
    let ds = fetch::get_daemonset(&cluster, &ns, &args.daemonset).await?;
    let object = object_ref(&ds);
    let resume = format!("kubectl ds resume {}", name_and_namespace(&ds));
    let strategy = match engine::pause_state(&ds) {
        PauseState::Paused { record } => {
            let since = record
                .paused_at
                .map(|t| t.to_string())
                .unwrap_or_else(|| "an unknown time".into());
            super::report(
                opts,
                &object,
                format_args!("{object} is already paused (since {since}); resume with `{resume}`"),
            );
            return Ok(Outcome::Fine);
        }
        PauseState::OnDeleteNotOurs => return Err(on_delete_not_ours(&object)),
        PauseState::Malformed { raw, why } => return Err(malformed_record(&object, &raw, &why, &ds)),
        PauseState::NotPaused { strategy } | PauseState::Stale { strategy } => strategy,
    };
    let read_version = ds.metadata.resource_version.as_deref().unwrap_or_default();
    let body = engine::pause_patch(&strategy, Timestamp::now(), read_version);
    fetch::patch_daemonset_if_unchanged(&cluster, &ds, &Patch::Merge(body))
        .await
        .map_err(|e| {
            on_conflict(
                e,
                format!("run `kubectl ds pause {}` again", name_and_namespace(&ds)),
            )
        })?;
    super::report(
        opts,
        &object,
        format_args!(
            "{object} paused: its update strategy {} is saved in the annotation {PAUSE_ANNOTATION} and is now OnDelete.\n\
         While paused:\n  \
         - pods are replaced only when they are deleted; template changes do not roll out;\n  \
         - new nodes still get pods, created from the CURRENT template (including changes made while paused);\n  \
         - `kubectl rollout status` refuses to run (it supports only RollingUpdate).\n\
         Resume with: {resume}",
            engine::describe_strategy(&strategy)
        ),
    );
    Ok(Outcome::Fine)
}

/// Pausing an OnDelete DaemonSet would record OnDelete and "resume" to it: nothing to do, and
/// saying "paused" would suggest a later resume rolls something out. Refused, exit 3 (the command
/// line is fine; the object's state makes the operation meaningless).
fn on_delete_not_ours(object: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "{object} uses the OnDelete update strategy, which `kubectl ds pause` did not set, so it has no \
             rollout to pause: OnDelete replaces a pod only when that pod is deleted, and that is what a pause \
             would do too; nothing was changed"
        ),
    )
    .with_hint(
        "to hold pods on their current template, simply do not delete them; to roll out automatically, set \
         spec.updateStrategy.type to RollingUpdate",
    )
}

/// Our record is there but unreadable: what resume should restore is unknown. Shared with resume.
pub(crate) fn malformed_record(
    object: &str,
    raw: &str,
    why: &str,
    ds: &k8s_openapi::api::apps::v1::DaemonSet,
) -> Error {
    let name = name_and_namespace(ds);
    Error::invalid_input(format!(
        "{object} is paused, but the update strategy to restore, recorded in the annotation {PAUSE_ANNOTATION}, \
         cannot be read: {why}; nothing was changed (the annotation holds {raw:?})"
    ))
    .with_hint(format!(
        "restore the strategy by hand, e.g. `kubectl patch ds {name} --type=merge -p \
         '{{\"spec\":{{\"updateStrategy\":{{\"type\":\"RollingUpdate\",\"rollingUpdate\":{{\"maxUnavailable\":1}}}}}}}}'`, \
         then remove the record with `kubectl annotate ds {name} {PAUSE_ANNOTATION}-`"
    ))
}
