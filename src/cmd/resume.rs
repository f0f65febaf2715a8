//! `kubectl ds resume`: restore exactly the update strategy `kubectl ds pause` recorded and remove
//! the record, in one conditional write.

use kube::api::Patch;

use super::history::{name_and_namespace, object_ref, on_conflict};
use super::pause::malformed_record;
use crate::Outcome;
use crate::cli::NameArgs;
use crate::cli::OutputFormat;
use crate::engine::history::{self as engine, PAUSE_ANNOTATION, PauseState};
use crate::error::Result;
use crate::fetch;
use crate::options::Options;

pub async fn run(opts: &Options, args: &NameArgs) -> Result<Outcome> {
    opts.require_output("resume", &[None, Some(OutputFormat::Name)])?;
    let cluster = super::cluster(opts).await?;
    let ns = super::single_namespace(opts, &cluster, "resume")?;
    let ds = fetch::get_daemonset(&cluster, &ns, &args.daemonset).await?;
    let object = object_ref(&ds);
    let again = || format!("run `kubectl ds resume {}` again", name_and_namespace(&ds));
    let read_version = ds.metadata.resource_version.as_deref().unwrap_or_default();
    match engine::pause_state(&ds) {
        PauseState::NotPaused { .. } => super::report(opts, &object, format_args!("{object} is not paused")),
        PauseState::OnDeleteNotOurs => super::report(
            opts,
            &object,
            format_args!(
                "{object} is not paused: it uses the OnDelete update strategy, which `kubectl ds pause` did \
                 not set; to roll out automatically, set spec.updateStrategy.type to RollingUpdate"
            ),
        ),
        PauseState::Malformed { raw, why } => return Err(malformed_record(&object, &raw, &why, &ds)),
        PauseState::Stale { strategy } => {
            let body = engine::drop_record_patch(read_version);
            fetch::patch_daemonset_if_unchanged(&cluster, &ds, &Patch::Merge(body))
                .await
                .map_err(|e| on_conflict(e, again()))?;
            super::report(
                opts,
                &object,
                format_args!(
                    "{object} is not paused: its update strategy was changed to {} after `kubectl ds pause`; \
                     kept it and removed the leftover annotation {PAUSE_ANNOTATION}",
                    engine::describe_strategy(&strategy)
                ),
            );
        }
        PauseState::Paused { record } => {
            let body = engine::resume_patch(&engine::update_strategy(&ds), &record, read_version);
            fetch::patch_daemonset_if_unchanged(&cluster, &ds, &Patch::Merge(body))
                .await
                .map_err(|e| on_conflict(e, again()))?;
            let restored = &record.update_strategy;
            let next = if engine::strategy_type(restored) == engine::ROLLING_UPDATE {
                "; pods not on the current template are now replaced as it allows"
            } else {
                ""
            };
            super::report(
                opts,
                &object,
                format_args!(
                    "{object} resumed: update strategy {} restored{next}",
                    engine::describe_strategy(restored)
                ),
            );
        }
    }
    Ok(Outcome::Fine)
}
