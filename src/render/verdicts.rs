//! How verdicts look: a table row per DaemonSet (why-not) or a coverage table grouped by verdict
//! and reason (status), the `--explain` blocks, and the JSON/YAML documents.

use std::collections::BTreeMap;

use serde::Serialize;

use super::table::{Style, TableCell, Tone, render, status_cell};
use crate::engine::sync::Action;
use crate::engine::verdict::{Verdict, VerdictKind};

pub fn tone(kind: VerdictKind) -> Tone {
    match kind {
        VerdictKind::Running => Tone::Good,
        VerdictKind::NotEligible => Tone::Neutral,
        VerdictKind::Pending | VerdictKind::Misscheduled => Tone::Warn,
        VerdictKind::NotReady | VerdictKind::Missing => Tone::Bad,
    }
}

/// The why-not table: one row per DaemonSet.
pub fn why_not_table(verdicts: &[Verdict], style: Style, wide: bool) -> String {
    let mut header = vec!["NAMESPACE", "DAEMONSET", "VERDICT", "POD"];
    if wide {
        header.extend(["REVISION", "UPDATED"]);
    }
    header.push("REASON");
    let rows = verdicts
        .iter()
        .map(|v| {
            let mut row = vec![
                TableCell::new(&v.namespace),
                TableCell::new(&v.daemonset),
                status_cell(v.verdict.as_str(), tone(v.verdict), style.color),
                TableCell::new(v.pod.as_deref().unwrap_or("-")),
            ];
            if wide {
                row.push(TableCell::new(v.revision.as_deref().unwrap_or("-")));
                row.push(TableCell::new(match v.updated {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "-",
                }));
            }
            row.push(TableCell::new(reason_cell(v)));
            row
        })
        .collect();
    render(style, &header, rows)
}

/// Every reason of a verdict, one a line, then the controller's next move ("next sync: ...")
/// unless there is nothing to say (a fine verdict the controller leaves as it is).
pub fn reason_cell(v: &Verdict) -> String {
    let mut lines: Vec<String> = v.reasons.iter().map(|r| r.message.clone()).collect();
    if !(v.next.action == Action::None && v.verdict.is_fine()) {
        lines.push(v.next.why.clone());
    }
    if lines.is_empty() {
        "-".into()
    } else {
        lines.join("\n")
    }
}

/// Every rule evaluated, per verdict, for `--explain` / `-o wide`.
pub fn explain(verdicts: &[Verdict], color: bool) -> String {
    use owo_colors::OwoColorize;
    let mut out = String::new();
    for v in verdicts {
        out.push_str(&format!(
            "\n{}/{} on node {}: {}\n",
            v.namespace,
            v.daemonset,
            v.node,
            v.verdict.as_str()
        ));
        out.push_str(&format!(
            "  controller: shouldRun={} shouldContinueRunning={}\n",
            v.should_run, v.should_continue_running
        ));
        for c in &v.checks {
            let mark = if c.passed { "ok  " } else { "FAIL" };
            let mark = match (color, c.passed) {
                (false, _) => mark.to_string(),
                (true, true) => mark.green().to_string(),
                (true, false) => mark.red().bold().to_string(),
            };
            out.push_str(&format!("  {mark} {:<14} {}\n", rule_name(c.rule), c.message));
        }
        for r in &v.reasons {
            out.push_str(&format!("  => {:<14} {}\n", rule_name(r.rule), r.message));
        }
        out.push_str(&format!("  => {:<14} {}\n", "next", v.next.why));
    }
    out
}

pub fn rule_name(rule: crate::engine::Rule) -> String {
    serde_json::to_value(rule)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The machine document for why-not: the node and its verdicts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictList<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub items: &'a [Verdict],
}

impl<'a> VerdictList<'a> {
    pub fn new(items: &'a [Verdict]) -> Self {
        VerdictList {
            api_version: "kubectl-ds/v1",
            kind: "VerdictList",
            items,
        }
    }
}

/// Per-node coverage grouped by verdict and reason, node names listed when few.
pub fn coverage_table(verdicts: &[Verdict], style: Style, max_names: usize) -> String {
    let mut groups: BTreeMap<(VerdictKind, String, Action), Vec<&Verdict>> = BTreeMap::new();
    for v in verdicts {
        groups
            .entry((v.verdict, group_reason(v), v.next.action))
            .or_default()
            .push(v);
    }
    let rows = groups
        .into_iter()
        .map(|((kind, generic_reason, action), nodes)| {
            // A group of one node says its own names; only a shared reason needs `<pod>`.
            let reason = match nodes.as_slice() {
                [one] => one
                    .reasons
                    .iter()
                    .map(|r| r.message.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => generic_reason,
            };
            let mut names = nodes
                .iter()
                .take(max_names)
                .map(|v| v.node.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if nodes.len() > max_names {
                names.push_str(&format!(", … {} more", nodes.len() - max_names));
            }
            vec![
                TableCell::new(nodes.len()),
                status_cell(kind.as_str(), tone(kind), style.color),
                TableCell::new(if reason.is_empty() {
                    "-".to_string()
                } else {
                    reason
                }),
                TableCell::new(action.as_str()),
                TableCell::new(names),
            ]
        })
        .collect();
    render(style, &["NODES", "VERDICT", "REASON", "NEXT", "NODE NAMES"], rows)
}

/// Every reason, one a line, with what differs from node to node (node and pod names, times)
/// taken out, so that nodes with the same problems fall into one group.
pub fn group_reason(v: &Verdict) -> String {
    v.reasons
        .iter()
        .map(|r| generic(v, &r.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn generic(v: &Verdict, message: &str) -> String {
    let mut text = message.to_string();
    if let Some(pod) = &v.pod {
        text = text.replace(pod.as_str(), "<pod>");
    }
    if !v.node.is_empty() {
        text = text
            .replace(&format!("({})", v.node), "")
            .replace(v.node.as_str(), "<node>");
    }
    // " since 2026-01-02T15:04:05Z": the time differs from node to node.
    if let Some(i) = text.find(" since ") {
        let rest = &text[i + 7..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | 'T' | ':' | 'Z' | '.' | '+')))
            .unwrap_or(rest.len());
        let end = if rest[..end].ends_with(':') { end - 1 } else { end };
        text = format!("{}{}", &text[..i], &rest[end..]);
    }
    text.trim().to_string()
}
