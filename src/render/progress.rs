//! Live progress of a rollout: indicatif bars on a terminal (stderr; drawn in `bars`), plain
//! timestamped lines otherwise (stdout), one per change. Shows what `engine::rollout` found;
//! decides nothing. The texts both faces share live here.

mod bars;

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use owo_colors::OwoColorize;

pub use bars::{Bars, BarsView, bars_view};

use crate::engine::rollout::{Ending, NodeHoldup, Phase, Progress, Strategy};

/// Nodes named in one status line.
const LINE_HOLDUPS: usize = 3;
/// Nodes listed under the bars.
const BAR_HOLDUPS: usize = 5;
/// Nodes listed, one per line, when the watch gives up.
const DETAIL_HOLDUPS: usize = 20;
/// Under the bars, "no progress for ..." appears once the rollout has been quiet this long.
const QUIET_NOTE_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// indicatif bars on stderr.
    Bars,
    /// Timestamped lines on stdout.
    Lines,
}

impl Mode {
    /// Bars when stderr is a terminal that can move the cursor, lines otherwise.
    pub fn detect() -> Mode {
        let capable = matches!(std::env::var("TERM"), Ok(t) if !t.is_empty() && t != "dumb");
        if io::stderr().is_terminal() && capable {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }
}

/// What the renderer is told besides the view itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// Time left at the observed rate.
    pub eta: Option<Duration>,
    /// How long nothing moved forward.
    pub quiet_for: Duration,
    /// `--progress-deadline` (None: none).
    pub deadline: Option<Duration>,
}

/// The live renderer the command drives.
pub enum Renderer {
    Bars(Box<Bars>),
    Lines(Lines<io::Stdout>),
}

impl Renderer {
    pub fn new(mode: Mode, color: bool) -> Renderer {
        match mode {
            Mode::Bars => Renderer::Bars(Box::new(Bars::new(color))),
            Mode::Lines => Renderer::Lines(Lines::new(io::stdout())),
        }
    }

    /// Whether redrawing once a second is useful (the ETA and "no progress for" age move).
    pub fn wants_ticks(&self) -> bool {
        matches!(self, Renderer::Bars(_))
    }

    pub fn update(&mut self, p: &Progress, timing: Timing, now: Timestamp) -> io::Result<()> {
        match self {
            Renderer::Bars(b) => {
                b.update(p, timing);
                Ok(())
            }
            Renderer::Lines(l) => l.update(p, timing, now),
        }
    }

    /// A message about the watch itself ("lost the connection ..."), printed once until the
    /// next view.
    pub fn notice(&mut self, text: &str, now: Timestamp) -> io::Result<()> {
        match self {
            Renderer::Bars(b) => {
                b.notice(text);
                Ok(())
            }
            Renderer::Lines(l) => l.notice(text, now),
        }
    }

    /// Clears the live display and prints how the watch ended.
    pub fn finish(
        &mut self,
        p: &Progress,
        ending: Ending,
        elapsed: Duration,
        now: Timestamp,
    ) -> io::Result<()> {
        match self {
            Renderer::Bars(b) => {
                b.clear();
                write_ending(&mut io::stdout().lock(), "", p, ending, elapsed, b.color)
            }
            Renderer::Lines(l) => {
                let prefix = format!("{} ", timestamp(now));
                write_ending(&mut l.out, &prefix, p, ending, elapsed, false)?;
                l.out.flush()
            }
        }
    }

    /// Leaves the terminal clean (bars cleared, cursor shown), e.g. on Ctrl-C or an error.
    pub fn clear(&mut self) {
        if let Renderer::Bars(b) = self {
            b.clear();
        }
    }
}

/// `2026-11-21T19:40:01Z`.
pub fn timestamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A short duration: `42s`, `2m05s`, `1h05m`.
pub fn duration_text(d: Duration) -> String {
    let secs = d.as_secs_f64().round() as u64;
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

fn object(p: &Progress) -> String {
    format!("daemonset/{}", p.name)
}

/// `updated 3/5 ready 4/5 available 4/5`.
pub fn counts_text(p: &Progress) -> String {
    let c = &p.counts;
    format!(
        "updated {}/{} ready {}/{} available {}/{}",
        c.updated, c.desired, c.ready, c.desired, c.available, c.desired
    )
}

/// The strategy as `status` words it, and for OnDelete what that means for the rollout.
fn strategy_text(p: &Progress) -> String {
    match p.strategy {
        Strategy::RollingUpdate => p.update_strategy.clone(),
        Strategy::OnDelete => format!(
            "{}: pods are replaced only when they are deleted",
            p.update_strategy
        ),
    }
}

fn images_text(p: &Progress) -> String {
    let images: Vec<String> = p
        .images
        .iter()
        .map(|(name, image)| format!("{name}={image}"))
        .collect();
    images.join(", ")
}

/// What is being rolled out: generation, revision, images and strategy.
pub fn header_text(p: &Progress) -> String {
    let revision = p.revision.as_deref().unwrap_or("not created yet");
    format!(
        "{} generation {}: revision {revision}, images {}; {}",
        object(p),
        p.generation,
        images_text(p),
        strategy_text(p)
    )
}

/// `node-2: reason; node-3: reason (+2 more)`.
pub fn holdups_text(holdups: &[&NodeHoldup], max: usize) -> String {
    let parts: Vec<String> = holdups
        .iter()
        .take(max)
        .map(|h| format!("{}: {}", h.node, h.summary()))
        .collect();
    let mut text = parts.join("; ");
    if holdups.len() > max {
        text.push_str(&format!(" (+{} more)", holdups.len() - max));
    }
    text
}

fn outdated_note(p: &Progress) -> Option<String> {
    let n = p.outdated().count();
    (p.strategy == Strategy::OnDelete && n > 0).then(|| {
        format!(
            "{n} outdated pod{} awaiting deletion",
            if n == 1 { "" } else { "s" }
        )
    })
}

/// One status line without its timestamp; the ETA, when given, follows the counts.
pub fn status_text(p: &Progress, eta: Option<Duration>) -> String {
    if let Phase::WaitingForController { generation, observed } = p.phase {
        return format!(
            "{} waiting for the controller to observe generation {generation} (observed {observed}); {}",
            object(p),
            counts_text(p)
        );
    }
    let mut text = format!("{} {}", object(p), counts_text(p));
    if let Some(eta) = eta {
        text.push_str(&format!(" (eta {})", duration_text(eta)));
    }
    if let Some(note) = outdated_note(p) {
        text.push_str(&format!("; {note}"));
    }
    let holdups = p.main_holdups();
    if !holdups.is_empty() {
        text.push_str(&format!("; waiting on {}", holdups_text(&holdups, LINE_HOLDUPS)));
    }
    for warning in &p.warnings {
        text.push_str(&format!("; controller warning {warning}"));
    }
    text
}

/// The last line: the outcome and the final counts.
pub fn final_text(p: &Progress, ending: Ending, elapsed: Duration) -> String {
    let holdups = p.main_holdups();
    let tail = if holdups.is_empty() {
        String::new()
    } else {
        format!("; held up by {}", holdups_text(&holdups, LINE_HOLDUPS))
    };
    match ending {
        Ending::RolledOut => format!(
            "{} successfully rolled out in {}: {} (revision {})",
            object(p),
            duration_text(elapsed),
            counts_text(p),
            p.revision.as_deref().unwrap_or("unknown")
        ),
        Ending::Stalled { deadline } => {
            let waiting = match p.phase {
                Phase::WaitingForController { generation, .. } => {
                    format!("; the controller never observed generation {generation}")
                }
                _ => String::new(),
            };
            format!(
                "{} rollout stalled: no progress for {} (--progress-deadline): {}{waiting}{tail}",
                object(p),
                duration_text(deadline),
                counts_text(p)
            )
        }
        Ending::TimedOut { after } => format!(
            "{} timed out after {} (--timeout) before the rollout finished: {}{tail}",
            object(p),
            duration_text(after),
            counts_text(p)
        ),
    }
}

/// When the watch gives up, every node holding the rollout up, one per line.
pub fn detail_lines(p: &Progress, ending: Ending) -> Vec<String> {
    if ending == Ending::RolledOut {
        return Vec::new();
    }
    let mut lines: Vec<String> = p
        .holdups
        .iter()
        .take(DETAIL_HOLDUPS)
        .map(|h| {
            let pod = h
                .pod
                .as_deref()
                .map(|n| format!(" (pod {n})"))
                .unwrap_or_default();
            format!("{}   node {}{pod}: {}", object(p), h.node, h.summary())
        })
        .collect();
    if p.holdups.len() > DETAIL_HOLDUPS {
        lines.push(format!(
            "{}   and {} more nodes",
            object(p),
            p.holdups.len() - DETAIL_HOLDUPS
        ));
    }
    for warning in &p.warnings {
        lines.push(format!("{}   controller warning {warning}", object(p)));
    }
    lines
}

/// How the watch ended, `prefix` before each line: every node still holding the rollout up, then
/// the outcome (green or red with `color`).
fn write_ending(
    out: &mut impl Write,
    prefix: &str,
    p: &Progress,
    ending: Ending,
    elapsed: Duration,
    color: bool,
) -> io::Result<()> {
    for line in detail_lines(p, ending) {
        writeln!(out, "{prefix}{line}")?;
    }
    let text = final_text(p, ending, elapsed);
    let text = match (color, ending) {
        (false, _) => text,
        (true, Ending::RolledOut) => text.green().to_string(),
        (true, _) => text.red().to_string(),
    };
    writeln!(out, "{prefix}{text}")
}

/// Plain lines for logs and pipes: a header when what is rolled out changes, a status line when
/// the status changes (the ETA alone does not make a new line), nothing otherwise.
pub struct Lines<W: Write> {
    out: W,
    header: Option<String>,
    status: Option<String>,
    notice: Option<String>,
}

impl<W: Write> Lines<W> {
    pub fn new(out: W) -> Self {
        Lines {
            out,
            header: None,
            status: None,
            notice: None,
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn update(&mut self, p: &Progress, timing: Timing, now: Timestamp) -> io::Result<()> {
        self.notice = None;
        let ts = timestamp(now);
        let header = header_text(p);
        if self.header.as_ref() != Some(&header) {
            writeln!(self.out, "{ts} {header}")?;
            self.header = Some(header);
        }
        let status = status_text(p, None);
        if self.status.as_ref() != Some(&status) {
            writeln!(self.out, "{ts} {}", status_text(p, timing.eta))?;
            self.status = Some(status);
        }
        self.out.flush()
    }

    pub fn notice(&mut self, text: &str, now: Timestamp) -> io::Result<()> {
        if self.notice.as_deref() == Some(text) {
            return Ok(());
        }
        writeln!(self.out, "{} {text}", timestamp(now))?;
        self.notice = Some(text.to_string());
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rollout::{Counts, Holdup};
    use crate::engine::{Reason, Rule};

    pub(super) fn holdup(node: &str, holdup: Holdup, reason: &str) -> NodeHoldup {
        NodeHoldup {
            node: node.into(),
            pod: Some(format!("agent-{node}")),
            holdup,
            reasons: vec![Reason::new(Rule::Container, reason)],
        }
    }

    pub(super) fn progress(updated: i32, ready: i32, available: i32, holdups: Vec<NodeHoldup>) -> Progress {
        Progress {
            namespace: "ns".into(),
            name: "agent".into(),
            generation: 2,
            observed_generation: 2,
            strategy: Strategy::RollingUpdate,
            update_strategy: "RollingUpdate (maxUnavailable 1, maxSurge 0)".into(),
            min_ready_seconds: 0,
            counts: Counts {
                desired: 5,
                current: 5,
                updated,
                ready,
                available,
                misscheduled: 0,
            },
            updated_available: updated.min(available),
            revision: Some("6d9f8b7c5".into()),
            images: vec![("agent".into(), "registry.example/agent:2.0".into())],
            holdups,
            warnings: vec![],
            phase: if updated == 5 && available == 5 {
                Phase::Complete
            } else {
                Phase::Progressing
            },
        }
    }

    fn crash() -> NodeHoldup {
        holdup(
            "node-2",
            Holdup::NotReady,
            "container agent is waiting: CrashLoopBackOff",
        )
    }

    #[test]
    fn durations_are_short() {
        let cases = [
            (0, "0s"),
            (42, "42s"),
            (59, "59s"),
            (60, "1m00s"),
            (125, "2m05s"),
            (3900, "1h05m"),
        ];
        for (secs, want) in cases {
            assert_eq!(duration_text(Duration::from_secs(secs)), want);
        }
        assert_eq!(
            duration_text(Duration::from_millis(1600)),
            "2s",
            "rounded, not truncated"
        );
    }

    #[test]
    fn status_line_has_counts_eta_and_the_nodes_waited_on() {
        let p = progress(3, 4, 4, vec![crash()]);
        assert_eq!(
            status_text(&p, Some(Duration::from_secs(40))),
            "daemonset/agent updated 3/5 ready 4/5 available 4/5 (eta 40s); \
             waiting on node-2: container agent is waiting: CrashLoopBackOff"
        );
    }

    #[test]
    fn problems_are_named_before_nodes_that_wait_their_turn() {
        let p = progress(
            1,
            4,
            4,
            vec![crash(), holdup("node-1", Holdup::Outdated, "waits its turn")],
        );
        let text = status_text(&p, None);
        assert!(text.contains("node-2: container agent"), "{text}");
        assert!(
            !text.contains("node-1"),
            "queued nodes are not named next to problems: {text}"
        );
        let queued = progress(
            1,
            5,
            5,
            vec![holdup("node-1", Holdup::Outdated, "waits its turn")],
        );
        assert!(status_text(&queued, None).contains("waiting on node-1: waits its turn"));
    }

    #[test]
    fn long_holdup_lists_are_cut_with_a_count() {
        let hs: Vec<NodeHoldup> = (1..=5)
            .map(|i| holdup(&format!("n{i}"), Holdup::NotReady, "x"))
            .collect();
        let refs: Vec<&NodeHoldup> = hs.iter().collect();
        assert_eq!(holdups_text(&refs, 3), "n1: x; n2: x; n3: x (+2 more)");
        assert_eq!(holdups_text(&refs[..2], 3), "n1: x; n2: x");
    }

    #[test]
    fn on_delete_counts_the_pods_awaiting_deletion() {
        let mut p = progress(
            1,
            5,
            5,
            vec![
                holdup("n1", Holdup::Outdated, "awaits deletion"),
                holdup("n2", Holdup::Outdated, "awaits deletion"),
            ],
        );
        p.strategy = Strategy::OnDelete;
        p.update_strategy = "OnDelete".into();
        let text = status_text(&p, None);
        assert!(
            text.contains("; 2 outdated pods awaiting deletion; waiting on n1: awaits deletion"),
            "{text}"
        );
        assert!(header_text(&p).contains("OnDelete: pods are replaced only when they are deleted"));
    }

    #[test]
    fn waiting_for_the_controller_is_said_plainly() {
        let mut p = progress(5, 5, 5, vec![]);
        p.generation = 3;
        p.phase = Phase::WaitingForController {
            generation: 3,
            observed: 2,
        };
        assert!(
            status_text(&p, None).contains("waiting for the controller to observe generation 3 (observed 2)")
        );
    }

    #[test]
    fn final_lines_state_the_outcome_and_the_counts() {
        let done = progress(5, 5, 5, vec![]);
        let stuck = progress(3, 4, 4, vec![crash()]);
        let cases = [
            (
                &done,
                Ending::RolledOut,
                "daemonset/agent successfully rolled out in 1m05s: updated 5/5 ready 5/5 available 5/5 (revision 6d9f8b7c5)",
            ),
            (
                &stuck,
                Ending::Stalled {
                    deadline: Duration::from_secs(10),
                },
                "daemonset/agent rollout stalled: no progress for 10s (--progress-deadline): updated 3/5 ready 4/5 \
                 available 4/5; held up by node-2: container agent is waiting: CrashLoopBackOff",
            ),
            (
                &stuck,
                Ending::TimedOut {
                    after: Duration::from_secs(30),
                },
                "daemonset/agent timed out after 30s (--timeout) before the rollout finished: updated 3/5 ready 4/5 \
                 available 4/5; held up by node-2: container agent is waiting: CrashLoopBackOff",
            ),
        ];
        for (p, ending, want) in cases {
            assert_eq!(final_text(p, ending, Duration::from_secs(65)), want);
        }
        assert!(detail_lines(&done, Ending::RolledOut).is_empty());
        assert_eq!(
            detail_lines(
                &stuck,
                Ending::Stalled {
                    deadline: Duration::from_secs(10)
                }
            ),
            [
                "daemonset/agent   node node-2 (pod agent-node-2): container agent is waiting: CrashLoopBackOff"
            ]
        );
    }

    fn lines_output(steps: &[(Progress, Option<Duration>)]) -> Vec<String> {
        let mut lines = Lines::new(Vec::new());
        let now: Timestamp = "2026-11-21T19:40:01Z".parse().unwrap();
        for (p, eta) in steps {
            lines
                .update(
                    p,
                    Timing {
                        eta: *eta,
                        ..Default::default()
                    },
                    now,
                )
                .unwrap();
        }
        String::from_utf8(lines.into_inner())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn one_line_per_change_and_none_when_nothing_changed() {
        let out = lines_output(&[
            (progress(2, 5, 5, vec![]), None),
            (progress(2, 5, 5, vec![]), None),
            (progress(2, 5, 5, vec![]), Some(Duration::from_secs(30))),
            (progress(3, 4, 4, vec![crash()]), Some(Duration::from_secs(20))),
        ]);
        assert_eq!(
            out,
            [
                "2026-11-21T19:40:01Z daemonset/agent generation 2: revision 6d9f8b7c5, images \
                 agent=registry.example/agent:2.0; RollingUpdate (maxUnavailable 1, maxSurge 0)",
                "2026-11-21T19:40:01Z daemonset/agent updated 2/5 ready 5/5 available 5/5",
                "2026-11-21T19:40:01Z daemonset/agent updated 3/5 ready 4/5 available 4/5 (eta 20s); \
                 waiting on node-2: container agent is waiting: CrashLoopBackOff",
            ]
        );
    }

    #[test]
    fn a_notice_is_printed_once_per_interruption() {
        let mut lines = Lines::new(Vec::new());
        let now: Timestamp = "2026-11-21T19:40:01Z".parse().unwrap();
        lines.notice("lost the connection", now).unwrap();
        lines.notice("lost the connection", now).unwrap();
        lines
            .update(&progress(2, 5, 5, vec![]), Timing::default(), now)
            .unwrap();
        lines.notice("lost the connection", now).unwrap();
        let out = String::from_utf8(lines.into_inner()).unwrap();
        assert_eq!(out.matches("lost the connection").count(), 2, "{out}");
    }

    #[test]
    fn timestamps_are_utc_seconds() {
        let t: Timestamp = "2026-11-21T19:40:01.734Z".parse().unwrap();
        assert_eq!(timestamp(t), "2026-11-21T19:40:01Z");
    }
}
