//! `kubectl ds undo`.

use crate::cli::UndoArgs;
use crate::error::Result;
use crate::options::Options;
use crate::Outcome;

pub async fn run(_opts: &Options, _args: &UndoArgs) -> Result<Outcome> {
    super::not_yet("undo")
}
