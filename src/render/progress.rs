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
mod tests;
