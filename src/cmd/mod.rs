//! One file per subcommand: fetch what is needed → evaluate → render.

pub mod complete;
pub mod history;
pub mod pause;
pub mod restart;
pub mod resume;
pub mod rollout_watch;
pub mod snapshot;
pub mod status;
pub mod undo;
pub mod why_not;

use crate::Outcome;
use crate::cli::{Cli, Command, RolloutCommand};
use crate::client::{Cluster, connect};
use crate::error::{Error, Result};
use crate::options::Options;

pub async fn run(cli: Cli) -> Result<Outcome> {
    let opts = Options::from_args(&cli.global)?;
    match &cli.command {
        Command::Status(a) => status::run(&opts, a).await,
        Command::WhyNot(a) => why_not::run(&opts, a).await,
        Command::Rollout(RolloutCommand::Watch(a)) => rollout_watch::run(&opts, a).await,
        Command::History(a) => history::run(&opts, a).await,
        Command::Undo(a) => undo::run(&opts, a).await,
        Command::Pause(a) => pause::run(&opts, a).await,
        Command::Resume(a) => resume::run(&opts, a).await,
        Command::Restart(a) => restart::run(&opts, a).await,
        Command::Snapshot(a) => snapshot::run(&opts, a).await,
        Command::Complete(a) => complete::run(&opts, a).await,
    }
}

/// What a write command says on success: `message`, or with `-o name` only the object
/// (`daemonset.apps/NAME`), as kubectl's rollout commands do.
pub fn report(opts: &Options, object: &str, message: impl std::fmt::Display) {
    if opts.output == Some(crate::cli::OutputFormat::Name) {
        println!("{object}");
    } else {
        println!("{message}");
    }
}

/// Connects to the cluster the options point at.
pub async fn cluster(opts: &Options) -> Result<Cluster> {
    connect(&opts.connection).await
}

/// The namespace a single-DaemonSet command works in: `-n`, else the context's. `-A` makes no
/// sense for one named object.
pub fn single_namespace(opts: &Options, cluster: &Cluster, command: &str) -> Result<String> {
    match &opts.scope {
        crate::options::Scope::All => Err(Error::usage(format!(
            "`{command}` works on one DaemonSet; use -n NAMESPACE instead of -A"
        ))),
        scope => Ok(cluster.namespace(scope).unwrap_or_default().to_string()),
    }
}
