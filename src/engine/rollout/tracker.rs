//! Progress over time: the one home of when a rollout last moved forward (stuck detection against
//! `--progress-deadline`) and of the observed rate behind the ETA. "Moved forward" mirrors
//! `DeploymentProgressing` (pkg/controller/deployment/util): a DaemonSet has no Progressing
//! condition of its own. The only state kept between views; everything else is recomputed from
//! each whole view.

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::{Phase, Progress};

/// A rate measured over less than this many seconds is noise, not a basis for an ETA.
const MIN_RATE_WINDOW: f64 = 2.0;

/// The counts that say whether a rollout moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    generation: i64,
    observed: i64,
    updated: i32,
    ready: i32,
    available: i32,
    updated_available: i32,
    outdated: usize,
}

impl Mark {
    fn of(p: &Progress) -> Self {
        Mark {
            generation: p.generation,
            observed: p.observed_generation,
            updated: p.counts.updated,
            ready: p.counts.ready,
            available: p.counts.available,
            updated_available: p.updated_available,
            outdated: p.outdated().count(),
        }
    }

    // mirrors DeploymentProgressing (pkg/controller/deployment/util): any count moving forward is
    // progress; a DaemonSet has no condition of its own to read it from.
    fn moved_forward_from(&self, prev: &Mark) -> bool {
        self.generation != prev.generation
            || self.observed > prev.observed
            || self.updated > prev.updated
            || self.ready > prev.ready
            || self.available > prev.available
            || self.updated_available > prev.updated_available
            || self.outdated < prev.outdated
    }
}

/// What the watch remembers between views: when the rollout last moved forward (stuck
/// detection) and where the current generation's rollout started (the observed rate, for the ETA).
#[derive(Debug, Clone)]
pub struct Tracker {
    last_progress: Timestamp,
    previous: Option<Mark>,
    /// (when, updated_available, generation) at the first view of the current generation.
    baseline: Option<(Timestamp, i32, i64)>,
}

impl Tracker {
    /// Starts tracking at `now`: the progress deadline counts from the start of the watch.
    pub fn new(now: Timestamp) -> Self {
        Tracker {
            last_progress: now,
            previous: None,
            baseline: None,
        }
    }

    /// Takes in a new view; returns whether the rollout moved forward since the previous one.
    pub fn observe(&mut self, p: &Progress, now: Timestamp) -> bool {
        let mark = Mark::of(p);
        let moved = self.previous.is_some_and(|prev| mark.moved_forward_from(&prev));
        if moved {
            self.last_progress = now;
        }
        self.previous = Some(mark);
        let caught_up = !matches!(p.phase, Phase::WaitingForController { .. });
        let same_generation = self.baseline.is_some_and(|(_, _, g)| g == p.generation);
        if caught_up && !same_generation {
            self.baseline = Some((now, p.updated_available, p.generation));
        }
        moved
    }

    /// When the rollout last moved forward (or the watch started).
    pub fn last_progress(&self) -> Timestamp {
        self.last_progress
    }

    /// How long the rollout has not moved forward.
    pub fn stalled_for(&self, now: Timestamp) -> Duration {
        Duration::try_from(now.duration_since(self.last_progress)).unwrap_or(Duration::ZERO)
    }

    /// When the rollout counts as stuck if nothing moves: last progress + the deadline.
    pub fn stuck_at(&self, deadline: Duration) -> Timestamp {
        SignedDuration::try_from(deadline)
            .ok()
            .and_then(|d| self.last_progress.checked_add(d).ok())
            .unwrap_or(Timestamp::MAX)
    }

    /// Whether no progress was made for `deadline` (None: no deadline).
    pub fn is_stuck(&self, now: Timestamp, deadline: Option<Duration>) -> bool {
        deadline.is_some_and(|d| now >= self.stuck_at(d))
    }

    /// Time left at the rate observed since this generation's rollout was first seen: nodes that
    /// became updated and available per second. None until at least one node got there.
    pub fn eta(&self, p: &Progress, now: Timestamp) -> Option<Duration> {
        let (since, done_then, generation) = self.baseline?;
        if generation != p.generation || p.is_complete() {
            return None;
        }
        let gained = p.updated_available - done_then;
        let remaining = p.counts.desired - p.updated_available;
        let elapsed = now.duration_since(since).as_secs_f64();
        if gained <= 0 || remaining <= 0 || elapsed < MIN_RATE_WINDOW {
            return None;
        }
        Duration::try_from_secs_f64(elapsed / f64::from(gained) * f64::from(remaining)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::super::evaluate;
    use super::super::fixtures::*;
    use super::*;

    fn progress(generation: i64, updated: i32, ready: i32, available: i32, done: i32) -> Progress {
        let d = ds(
            rolling(),
            generation,
            status(generation, 4, updated, ready, available),
        );
        let mut p = evaluate(&view(vec![], vec![]), &d, now());
        p.updated_available = done;
        p
    }

    #[test]
    fn progress_is_any_count_moving_forward() {
        let cases = [
            ("nothing changed", progress(2, 1, 3, 3, 1), false),
            ("one more node updated", progress(2, 2, 3, 3, 1), true),
            ("one more pod ready", progress(2, 1, 4, 3, 1), true),
            ("one more pod available", progress(2, 1, 3, 4, 1), true),
            (
                "a count going down is not progress",
                progress(2, 1, 2, 2, 1),
                false,
            ),
            (
                "a new generation restarts the rollout",
                progress(3, 0, 3, 3, 0),
                true,
            ),
        ];
        for (rule, next, want) in cases {
            let mut t = Tracker::new(now());
            t.observe(&progress(2, 1, 3, 3, 1), now());
            assert_eq!(t.observe(&next, at(5)), want, "{rule}");
            assert_eq!(t.last_progress(), if want { at(5) } else { now() }, "{rule}");
        }
    }

    #[test]
    fn stuck_after_the_deadline_without_progress() {
        let mut t = Tracker::new(now());
        t.observe(&progress(2, 1, 3, 3, 1), now());
        let deadline = Some(Duration::from_secs(10));
        assert!(!t.is_stuck(at(9), deadline));
        assert!(
            t.is_stuck(at(10), deadline),
            "the deadline itself counts as stuck"
        );
        assert!(!t.is_stuck(at(1000), None), "no deadline, never stuck");
        t.observe(&progress(2, 2, 3, 3, 1), at(8));
        assert!(!t.is_stuck(at(10), deadline), "progress at 8s restarts the clock");
        assert!(t.is_stuck(at(18), deadline));
        assert_eq!(t.stalled_for(at(18)), Duration::from_secs(10));
        assert_eq!(t.stuck_at(Duration::from_secs(10)), at(18));
    }

    #[test]
    fn eta_follows_the_observed_rate() {
        let mut t = Tracker::new(now());
        let start = progress(2, 1, 4, 4, 1);
        t.observe(&start, now());
        assert_eq!(
            t.eta(&start, at(5)),
            None,
            "no node done since the start: no rate yet"
        );
        // 2 nodes in 20 s → 10 s a node; 1 node left.
        let later = progress(2, 3, 4, 4, 3);
        t.observe(&later, at(20));
        assert_eq!(t.eta(&later, at(20)), Some(Duration::from_secs(10)));
        // Waiting makes the rate slower: 2 nodes in 40 s → 20 s for the last one.
        assert_eq!(t.eta(&later, at(40)), Some(Duration::from_secs(20)));
        // A new generation starts a new rate.
        let next = progress(3, 0, 4, 4, 0);
        t.observe(&next, at(50));
        assert_eq!(t.eta(&next, at(60)), None);
    }

    #[test]
    fn no_eta_from_a_rate_measured_over_an_instant() {
        let mut t = Tracker::new(now());
        t.observe(&progress(2, 1, 4, 4, 1), now());
        let next = progress(2, 2, 4, 4, 2);
        t.observe(&next, at(1));
        assert_eq!(t.eta(&next, at(1)), None);
        assert_eq!(t.eta(&next, at(2)), Some(Duration::from_secs(4)));
    }

    #[test]
    fn no_eta_while_the_controller_has_not_caught_up() {
        let mut t = Tracker::new(now());
        let d = ds(rolling(), 3, status(2, 4, 4, 4, 4));
        let p = evaluate(&view(vec![], vec![]), &d, now());
        t.observe(&p, now());
        assert_eq!(t.eta(&p, at(10)), None);
    }
}
