//! `kubectl ds restart`.

use crate::cli::NameArgs;
use crate::error::Result;
use crate::options::Options;
use crate::Outcome;

pub async fn run(_opts: &Options, _args: &NameArgs) -> Result<Outcome> {
    super::not_yet("restart")
}
