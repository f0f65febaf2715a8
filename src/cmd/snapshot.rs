//! `kubectl ds snapshot`.

use crate::cli::SnapshotArgs;
use crate::error::Result;
use crate::options::Options;
use crate::Outcome;

pub async fn run(_opts: &Options, _args: &SnapshotArgs) -> Result<Outcome> {
    super::not_yet("snapshot")
}
