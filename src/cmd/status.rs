//! `kubectl ds status`.

use crate::cli::StatusArgs;
use crate::error::Result;
use crate::options::Options;
use crate::Outcome;

pub async fn run(_opts: &Options, _args: &StatusArgs) -> Result<Outcome> {
    super::not_yet("status")
}
