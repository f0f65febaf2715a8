//! One file per subcommand: fetch what is needed → evaluate → render.

use crate::Outcome;
use crate::cli::{Cli, Command, RolloutCommand};
use crate::error::{Error, ErrorKind, Result};
use crate::options::Options;

pub async fn run(cli: Cli) -> Result<Outcome> {
    let opts = Options::from_args(&cli.global)?;
    match cli.command {
        Command::Status(_) => not_yet("status"),
        Command::WhyNot(_) => not_yet("why-not-scheduled"),
        Command::Rollout(RolloutCommand::Watch(_)) => not_yet("rollout watch"),
        Command::History(_) => not_yet("history"),
        Command::Undo(_) => not_yet("undo"),
        Command::Pause(_) => not_yet("pause"),
        Command::Resume(_) => not_yet("resume"),
        Command::Restart(_) => not_yet("restart"),
        Command::Snapshot(_) => not_yet("snapshot"),
        Command::Complete(_) => {
            let _ = opts;
            Ok(Outcome::Fine)
        }
    }
}

fn not_yet(name: &str) -> Result<Outcome> {
    Err(Error::new(
        ErrorKind::Unsupported,
        format!("`kubectl ds {name}` is not available in this build yet"),
    )
    .with_hint("see the README for the commands this version supports"))
}
