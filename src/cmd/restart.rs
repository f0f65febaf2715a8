//! `kubectl ds restart`: as `kubectl rollout restart` (semantics §7.4), stamp the pod template with
//! `kubectl.kubernetes.io/restartedAt` so the controller replaces every pod; conditional on the
//! version read.

use k8s_openapi::jiff::Timestamp;
use kube::api::Patch;

use super::history::{name_and_namespace, object_ref, on_conflict, template_of};
use crate::Outcome;
use crate::cli::NameArgs;
use crate::cli::OutputFormat;
use crate::engine::history::{self as engine, ON_DELETE, PauseState};
use crate::error::{Error, ErrorKind, Result};
use crate::fetch;
use crate::options::Options;

pub async fn run(opts: &Options, args: &NameArgs) -> Result<Outcome> {
    opts.require_output("restart", &[None, Some(OutputFormat::Name)])?;
    let cluster = super::cluster(opts).await?;
    let ns = super::single_namespace(opts, &cluster, "restart")?;
    let ds = fetch::get_daemonset(&cluster, &ns, &args.daemonset).await?;
    let object = object_ref(&ds);
    let read_version = ds.metadata.resource_version.as_deref().unwrap_or_default();
    let body = engine::restart_patch(template_of(&ds)?, Timestamp::now(), read_version).map_err(|e| {
        Error::new(
            ErrorKind::Conflict,
            format!(
                "{object} was already restarted at {}, less than a second ago; nothing was changed",
                e.at
            ),
        )
        .with_hint("wait a second and run the command again")
    })?;
    fetch::patch_daemonset_if_unchanged(&cluster, &ds, &Patch::Merge(body))
        .await
        .map_err(|e| {
            on_conflict(
                e,
                format!("run `kubectl ds restart {}` again", name_and_namespace(&ds)),
            )
        })?;
    super::report(opts, &object, format_args!("{object} restarted"));
    let strategy = engine::update_strategy(&ds);
    if engine::strategy_type(&strategy) == ON_DELETE {
        let why = match engine::pause_state(&ds) {
            PauseState::Paused { .. } => {
                format!(
                    "it is paused; resume with `kubectl ds resume {}`",
                    name_and_namespace(&ds)
                )
            }
            _ => "its update strategy is OnDelete".to_string(),
        };
        eprintln!("note: pods restart only when they are deleted: {why}");
    }
    Ok(Outcome::Fine)
}
