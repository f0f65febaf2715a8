//! `kubectl ds why-not-scheduled`.

use crate::cli::WhyNotArgs;
use crate::error::Result;
use crate::options::Options;
use crate::Outcome;

pub async fn run(_opts: &Options, _args: &WhyNotArgs) -> Result<Outcome> {
    super::not_yet("why-not-scheduled")
}
