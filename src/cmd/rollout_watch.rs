//! `kubectl ds rollout watch`.

use crate::cli::WatchArgs;
use crate::error::Result;
use crate::options::Options;
use crate::Outcome;

pub async fn run(_opts: &Options, _args: &WatchArgs) -> Result<Outcome> {
    super::not_yet("rollout watch")
}
