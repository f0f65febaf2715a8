//! How `status` looks: the table of every DaemonSet, and one DaemonSet's summary lines above its
//! coverage table.

use std::fmt::Write as _;

use super::table::{Style, TableCell, Tone, render, status_cell};
use crate::engine::status::{Drift, Summary};
use crate::engine::verdict::Verdict;

/// The AGE column, as kubectl words it.
fn age(created: Option<&str>) -> String {
    match created.and_then(|c| c.parse::<k8s_openapi::jiff::Timestamp>().ok()) {
        Some(t) => super::age(t, k8s_openapi::jiff::Timestamp::now()),
        None => "-".into(),
    }
}

/// `status` without a name: one row per DaemonSet.
pub fn overview_table(summaries: &[Summary], style: Style) -> String {
    let color = style.color;
    let rows = summaries
        .iter()
        .map(|s| {
            let tone = if s.healthy() { Tone::Good } else { Tone::Bad };
            let strategy = if s.paused {
                format!("{} (paused)", s.update_strategy)
            } else {
                s.update_strategy.clone()
            };
            vec![
                TableCell::new(&s.namespace),
                TableCell::new(&s.name),
                TableCell::new(s.desired),
                TableCell::new(s.current),
                status_cell(
                    s.ready.to_string(),
                    if s.ready >= s.desired { Tone::Good } else { tone },
                    color,
                ),
                TableCell::new(s.up_to_date),
                status_cell(s.available.to_string(), tone, color),
                status_cell(
                    s.misscheduled.to_string(),
                    if s.misscheduled > 0 {
                        Tone::Warn
                    } else {
                        Tone::Neutral
                    },
                    color,
                ),
                TableCell::new(strategy),
                TableCell::new(age(s.created.as_deref())),
            ]
        })
        .collect();
    let header = [
        "NAMESPACE",
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "MISSCHEDULED",
        "STRATEGY",
        "AGE",
    ];
    render(style, &header, rows)
}

/// The lines above the coverage table of `status DS`.
pub fn summary_lines(summary: &Summary, revision: Option<&str>, drift: Option<Drift>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "DaemonSet {}/{}", summary.namespace, summary.name);
    let _ = writeln!(
        out,
        "  desired {}, current {}, ready {}, up-to-date {}, available {}, misscheduled {}",
        summary.desired,
        summary.current,
        summary.ready,
        summary.up_to_date,
        summary.available,
        summary.misscheduled
    );
    let paused = if summary.paused {
        " — PAUSED by kubectl ds pause (resume with `kubectl ds resume`)"
    } else {
        ""
    };
    let _ = writeln!(out, "  update strategy: {}{paused}", summary.update_strategy);
    match revision {
        Some(h) => {
            let _ = writeln!(out, "  current revision: {h}");
        }
        None => {
            let _ = writeln!(
                out,
                "  current revision: not created yet (the controller has not synced this template)"
            );
        }
    }
    if let Some(d) = drift {
        let _ = writeln!(
            out,
            "  note: by the controller's own rules the nodes now give desired {}, misscheduled {}; \
             its status still says {} and {} (it updates them on its next sync of this DaemonSet)",
            d.desired_now, d.misscheduled_now, summary.desired, summary.misscheduled
        );
    }
    if summary.observed_generation < summary.generation {
        let _ = writeln!(
            out,
            "  the controller has not caught up: observedGeneration {} < generation {}",
            summary.observed_generation, summary.generation
        );
    }
    out
}

/// The pods that run an older revision, ten at most.
pub fn outdated_lines(outdated: &[&Verdict]) -> String {
    let mut out = String::new();
    if outdated.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n{} pods run an older revision:", outdated.len());
    for v in outdated.iter().take(10) {
        let _ = writeln!(
            out,
            "  {} on {} (revision {})",
            v.pod.as_deref().unwrap_or("-"),
            v.node,
            v.revision.as_deref().unwrap_or("-")
        );
    }
    if outdated.len() > 10 {
        let _ = writeln!(out, "  … {} more", outdated.len() - 10);
    }
    out
}
