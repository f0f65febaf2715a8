//! The bars face of live progress: indicatif bars on stderr when it is a terminal. What they show
//! is computed as plain text and numbers ([`bars_view`]); [`Bars`] only draws it.

use std::io::{self, IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use owo_colors::OwoColorize;

use super::{
    BAR_HOLDUPS, QUIET_NOTE_AFTER, Timing, duration_text, images_text, object, outdated_note, strategy_text,
};
use crate::engine::rollout::{Phase, Progress};

/// Everything the bars show, as text and numbers; the terminal part only draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarsView {
    pub title: String,
    pub images: String,
    /// (label, position, length) for updated, ready, available.
    pub bars: [(&'static str, u64, u64); 3],
    /// ETA, "no progress for", or what the watch waits for.
    pub note: String,
    /// Nodes holding the rollout up: (is a problem, line).
    pub holdups: Vec<(bool, String)>,
}

pub fn bars_view(p: &Progress, timing: Timing) -> BarsView {
    let c = &p.counts;
    let len = c.desired.max(0) as u64;
    let pos = |n: i32| (n.max(0) as u64).min(len);
    let mut notes = Vec::new();
    match p.phase {
        Phase::WaitingForController { generation, observed } => notes.push(format!(
            "waiting for the controller to observe generation {generation} (observed {observed})"
        )),
        Phase::Complete => notes.push("rolled out".to_string()),
        Phase::Progressing => {
            if let Some(eta) = timing.eta {
                notes.push(format!("eta {}", duration_text(eta)));
            }
        }
    }
    if let Some(note) = outdated_note(p) {
        notes.push(note);
    }
    if timing.quiet_for >= QUIET_NOTE_AFTER && p.phase != Phase::Complete {
        let deadline = timing
            .deadline
            .map(|d| format!(" (deadline {})", duration_text(d)))
            .unwrap_or_default();
        notes.push(format!(
            "no progress for {}{deadline}",
            duration_text(timing.quiet_for)
        ));
    }
    notes.extend(p.warnings.iter().map(|w| format!("controller warning {w}")));
    let holdups = p.main_holdups();
    let width = holdups
        .iter()
        .take(BAR_HOLDUPS)
        .map(|h| h.node.len())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<(bool, String)> = holdups
        .iter()
        .take(BAR_HOLDUPS)
        .map(|h| {
            (
                h.holdup.is_problem(),
                format!("  {:<width$}  {}", h.node, h.summary()),
            )
        })
        .collect();
    if holdups.len() > BAR_HOLDUPS {
        lines.push((
            false,
            format!("  … and {} more nodes", holdups.len() - BAR_HOLDUPS),
        ));
    }
    if !lines.is_empty() {
        let n = holdups.len();
        lines.insert(
            0,
            (
                false,
                format!("waiting on {n} node{}:", if n == 1 { "" } else { "s" }),
            ),
        );
    }
    let revision = p.revision.as_deref().unwrap_or("not created yet");
    BarsView {
        title: format!(
            "{}  generation {}  revision {revision}  {}",
            object(p),
            p.generation,
            strategy_text(p)
        ),
        images: format!("images  {}", images_text(p)),
        bars: [
            ("updated", pos(c.updated), len),
            ("ready", pos(c.ready), len),
            ("available", pos(c.available), len),
        ],
        note: notes.join(" · "),
        holdups: lines,
    }
}

fn text_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_template(color: bool) -> &'static str {
    if color {
        "{prefix:>10} [{bar:40.green/white}] {pos}/{len}"
    } else {
        "{prefix:>10} [{bar:40}] {pos}/{len}"
    }
}

fn bar_style(color: bool) -> ProgressStyle {
    ProgressStyle::with_template(bar_template(color))
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// indicatif bars on stderr: title, images, three bars, a note line, and the nodes holding the
/// rollout up. Only what changed is redrawn.
pub struct Bars {
    multi: MultiProgress,
    title: ProgressBar,
    images: ProgressBar,
    bars: [ProgressBar; 3],
    note: ProgressBar,
    holdups: Vec<ProgressBar>,
    last: Option<BarsView>,
    pub(super) color: bool,
}

impl Bars {
    pub fn new(color: bool) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let text = |multi: &MultiProgress| multi.add(ProgressBar::new(0).with_style(text_style()));
        let title = text(&multi);
        let images = text(&multi);
        let bar = |multi: &MultiProgress| multi.add(ProgressBar::new(0).with_style(bar_style(color)));
        let bars = [bar(&multi), bar(&multi), bar(&multi)];
        let note = text(&multi);
        title.set_message("waiting for the first list of the DaemonSet and its pods…");
        Bars {
            multi,
            title,
            images,
            bars,
            note,
            holdups: Vec::new(),
            last: None,
            color,
        }
    }

    fn paint(&self, problem: bool, text: &str) -> String {
        match (self.color, problem) {
            (true, true) => text.red().to_string(),
            (true, false) => text.yellow().to_string(),
            (false, _) => text.to_string(),
        }
    }

    pub fn update(&mut self, p: &Progress, timing: Timing) {
        let view = bars_view(p, timing);
        let last = self.last.take();
        let changed = |f: &dyn Fn(&BarsView) -> bool| last.as_ref().is_none_or(|l| !f(l));
        if changed(&|l| l.title == view.title) {
            let title = if self.color {
                view.title.bold().to_string()
            } else {
                view.title.clone()
            };
            self.title.set_message(title);
        }
        if changed(&|l| l.images == view.images) {
            self.images.set_message(view.images.clone());
        }
        for (i, (label, pos, len)) in view.bars.iter().enumerate() {
            if changed(&|l| l.bars[i] == view.bars[i]) {
                self.bars[i].set_prefix(*label);
                self.bars[i].set_length(*len);
                self.bars[i].set_position(*pos);
            }
        }
        if changed(&|l| l.note == view.note) {
            self.note.set_message(view.note.clone());
        }
        if changed(&|l| l.holdups == view.holdups) {
            while self.holdups.len() > view.holdups.len() {
                if let Some(bar) = self.holdups.pop() {
                    self.multi.remove(&bar);
                }
            }
            while self.holdups.len() < view.holdups.len() {
                self.holdups
                    .push(self.multi.add(ProgressBar::new(0).with_style(text_style())));
            }
            for (bar, (problem, line)) in self.holdups.iter().zip(&view.holdups) {
                bar.set_message(self.paint(*problem, line));
            }
        }
        self.last = Some(view);
    }

    pub fn notice(&self, text: &str) {
        let _ = self.multi.println(self.paint(false, text));
    }

    pub fn clear(&mut self) {
        let _ = self.multi.clear();
        // Finished bars draw nothing more, now or when they are dropped.
        self.multi.set_draw_target(ProgressDrawTarget::hidden());
        let fixed = [
            &self.title,
            &self.images,
            &self.bars[0],
            &self.bars[1],
            &self.bars[2],
            &self.note,
        ];
        for bar in fixed.into_iter().chain(&self.holdups) {
            bar.finish_and_clear();
        }
        // indicatif does not hide the cursor, but an interrupted draw must not leave it hidden.
        let mut err = io::stderr();
        if err.is_terminal() {
            let _ = write!(err, "\x1b[?25h");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{holdup, progress};
    use super::*;
    use crate::engine::rollout::{Holdup, NodeHoldup};
    use std::time::Duration;

    #[test]
    fn bars_show_counts_out_of_desired_eta_and_up_to_five_nodes() {
        let hs: Vec<NodeHoldup> = (1..=7)
            .map(|i| holdup(&format!("node-{i}"), Holdup::NotReady, "x"))
            .collect();
        let p = progress(3, 4, 4, hs);
        let timing = Timing {
            eta: Some(Duration::from_secs(90)),
            quiet_for: Duration::from_secs(12),
            deadline: Some(Duration::from_secs(600)),
        };
        let v = bars_view(&p, timing);
        assert_eq!(v.bars, [("updated", 3, 5), ("ready", 4, 5), ("available", 4, 5)]);
        assert_eq!(v.note, "eta 1m30s · no progress for 12s (deadline 10m00s)");
        assert_eq!(
            v.title,
            "daemonset/agent  generation 2  revision 6d9f8b7c5  RollingUpdate (maxUnavailable 1, maxSurge 0)"
        );
        assert_eq!(v.images, "images  agent=registry.example/agent:2.0");
        let texts: Vec<&str> = v.holdups.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "waiting on 7 nodes:",
                "  node-1  x",
                "  node-2  x",
                "  node-3  x",
                "  node-4  x",
                "  node-5  x",
                "  … and 2 more nodes"
            ]
        );
        assert!(v.holdups[1].0, "a not-ready node is a problem");
    }

    #[test]
    fn bars_never_overflow_and_a_quiet_moment_is_not_noted() {
        let mut p = progress(7, 5, 5, vec![]);
        p.counts.desired = 5;
        let v = bars_view(
            &p,
            Timing {
                quiet_for: Duration::from_secs(2),
                ..Default::default()
            },
        );
        assert_eq!(
            v.bars[0],
            ("updated", 5, 5),
            "surge can make updated exceed desired"
        );
        assert!(!v.note.contains("no progress"), "{}", v.note);
        assert!(v.holdups.is_empty());
    }

    #[test]
    fn bar_templates_parse() {
        for color in [true, false] {
            assert!(ProgressStyle::with_template(bar_template(color)).is_ok());
        }
        assert!(ProgressStyle::with_template("{msg}").is_ok());
    }
}
