//! `kubectl ds history`.

use crate::cli::HistoryArgs;
use crate::error::Result;
use crate::options::Options;
use crate::Outcome;

pub async fn run(_opts: &Options, _args: &HistoryArgs) -> Result<Outcome> {
    super::not_yet("history")
}
