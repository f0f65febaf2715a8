//! `kubectl ds rollout watch`: follow a rollout until it finishes, stalls or times out.
//!
//! Fetch (watches, `live`) → evaluate (`engine::rollout`) → render (`render::progress`), again on
//! every change. Exit codes: 0 rolled out; 1 stalled for `--progress-deadline` or `--timeout`
//! elapsed; 3 the DaemonSet was deleted (or could not be watched); 130 Ctrl-C.

mod live;

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use crate::Outcome;
use crate::cli::WatchArgs;
use crate::engine::rollout::{self, Ending, Progress, Tracker};
use crate::error::{Error, ErrorKind, Result};
use crate::fetch;
use crate::options::Options;
use crate::render::progress::{Mode, Renderer, Timing, counts_text};

/// When nothing else is due, wake up this often anyway (a bound, not a poll: nothing is fetched).
const IDLE_WAKE: Duration = Duration::from_secs(3600);
/// How often the bars are redrawn for the ETA and age while nothing changes.
const TICK: Duration = Duration::from_secs(1);

pub async fn run(opts: &Options, args: &WatchArgs) -> Result<Outcome> {
    opts.require_output("rollout watch", &[None])?;
    let nonzero = |d: Duration| (!d.is_zero()).then_some(d);
    let timeout = nonzero(args.timeout);
    let deadline = nonzero(args.progress_deadline);
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot listen for Ctrl-C: {e}")))?;

    let started = Instant::now();
    let cluster = super::cluster(opts).await?;
    let namespace = super::single_namespace(opts, &cluster, "rollout watch")?;
    let ds = fetch::get_daemonset(&cluster, &namespace, &args.daemonset).await?;
    let mut live = live::Live::start(&cluster, &ds, opts.request_timeout).await?;

    let mut out = Renderer::new(Mode::detect(), opts.color);
    let mut tracker = Tracker::new(Timestamp::now());
    let mut last: Option<Progress> = None;
    for note in &live.notes {
        out.notice(&format!("daemonset/{}: {note}", args.daemonset), Timestamp::now())?;
    }
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    loop {
        let wake = next_wake(started, timeout, &tracker, deadline, last.is_some());
        tokio::select! {
            _ = interrupt.recv() => {
                out.clear();
                return Err(Error::new(ErrorKind::Interrupted, "interrupted; the rollout goes on in the cluster"));
            }
            batch = live.next_batch() => {
                let batch = batch.inspect_err(|_| out.clear())?;
                let now = Timestamp::now();
                if let Some(what) = &batch.interrupted {
                    let text = format!("daemonset/{}: watch interrupted, reconnecting: {what}", args.daemonset);
                    out.notice(&text, now)?;
                }
                if batch.resumed {
                    out.notice(&format!("daemonset/{}: watch resumed", args.daemonset), now)?;
                }
                if batch.changed && live.is_listed() {
                    let current = live.daemonset().filter(|d| d.metadata.deletion_timestamp.is_none());
                    let Some(ds) = current else {
                        out.clear();
                        return Err(deleted(&args.daemonset, &namespace, last.as_ref()));
                    };
                    let view = live.snapshot(&ds, now);
                    let p = rollout::evaluate(&view, &ds, now);
                    tracker.observe(&p, now);
                    last = Some(p);
                }
            }
            _ = ticker.tick(), if out.wants_ticks() => {}
            _ = tokio::time::sleep_until(wake) => {}
        }

        let now = Timestamp::now();
        let elapsed = started.elapsed();
        let ending = match &last {
            Some(p) if p.is_complete() => Some(Ending::RolledOut),
            Some(_) if tracker.is_stuck(now, deadline) => {
                deadline.map(|deadline| Ending::Stalled { deadline })
            }
            _ => timeout
                .filter(|t| elapsed >= *t)
                .map(|after| Ending::TimedOut { after }),
        };
        if let Some(ending) = ending {
            // Before the first full view (only a timeout can end it), the status is all there is.
            let p = match last.take() {
                Some(p) => p,
                None => rollout::status_only(live.daemonset().as_deref().unwrap_or(&ds)),
            };
            out.finish(&p, ending, elapsed, now)?;
            return Ok(Outcome::fine_if(ending == Ending::RolledOut));
        }
        if let Some(p) = &last {
            let timing = Timing {
                eta: tracker.eta(p, now),
                quiet_for: tracker.stalled_for(now),
                deadline,
            };
            out.update(p, timing, now)?;
        }
    }
}

/// The next moment something can happen without a watch event: the timeout or the progress
/// deadline.
fn next_wake(
    started: Instant,
    timeout: Option<Duration>,
    tracker: &Tracker,
    deadline: Option<Duration>,
    have_view: bool,
) -> Instant {
    let mut left = IDLE_WAKE;
    if let Some(t) = timeout {
        left = left.min(t.saturating_sub(started.elapsed()));
    }
    if let (Some(d), true) = (deadline, have_view) {
        let until_stuck = tracker.stuck_at(d).duration_since(Timestamp::now());
        left = left.min(Duration::try_from(until_stuck).unwrap_or(Duration::ZERO));
    }
    Instant::now() + left
}

fn deleted(name: &str, namespace: &str, last: Option<&Progress>) -> Error {
    let seen = last
        .map(|p| format!(" (last seen: {})", counts_text(p)))
        .unwrap_or_default();
    Error::new(
        ErrorKind::NotFound,
        format!(
            "daemonset/{name} in namespace {namespace} was deleted while its rollout was being watched{seen}"
        ),
    )
}
