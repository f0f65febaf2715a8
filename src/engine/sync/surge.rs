//! The rolling update with surge: the one home of where a new pod is created beside an outdated
//! one within `maxSurge`, when the old pod goes, and when an outdated pod on a node that no
//! longer qualifies may go. Mirrors the `maxSurge > 0` half of `rollingUpdate`
//! (pkg/controller/daemon/update.go).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::Pool;
use super::rolling::{RuMove, Walk};
use super::text::name;
use crate::engine::pods::{is_terminating, is_updated};

impl<'a> Walk<'a, '_> {
    /// The rolling update with surge: a new pod beside an available old one while fewer than
    /// maxSurge nodes surge; the old pod goes once the new one is available.
    pub(super) fn with_surge(&self, max_surge: usize) -> BTreeMap<&'a str, RuMove> {
        let mut out: BTreeMap<&str, RuMove> = BTreeMap::new();
        let mut num_surge = 0usize;
        let mut num_available = 0usize;
        let mut candidates: Vec<&str> = Vec::new();
        let mut should_not_run: Vec<(&str, &Pod)> = Vec::new();
        let mut surging: Vec<&str> = Vec::new();
        for (node, pods) in &self.nodes {
            let Some((new, old, made)) = self.sort(node, pods) else {
                num_surge += 1;
                surging.push(node);
                continue;
            };
            if let Some(old) = old {
                num_available += usize::from(self.available(old));
            } else if let Some(new) = new {
                num_available += usize::from(self.available(new));
            }
            let should_run = self.should_run(node);
            match (old, new.is_some() || made) {
                (None, _) => {}
                (Some(old), false) => {
                    if !self.available(old) {
                        let mv = if !should_run {
                            RuMove::delete(
                                old,
                                false,
                                format!(
                                    "deletes outdated pod {}: it is not available and {}",
                                    name(old),
                                    self.why_not(node)
                                ),
                            )
                        } else {
                            RuMove::create(format!(
                                "creates a new pod beside outdated pod {}: it is not available, so the surge budget does not apply; the old pod goes once the new one is available",
                                name(old)
                            ))
                        };
                        out.insert(node, mv);
                    } else if !should_run {
                        should_not_run.push((node, old));
                    } else if num_surge < max_surge {
                        candidates.push(node);
                    } else {
                        out.insert(
                            node,
                            RuMove::wait(format!(
                                "waits to surge a new pod beside outdated pod {}: the surge budget (maxSurge {max_surge}) is in use",
                                name(old)
                            )),
                        );
                    }
                }
                (Some(old), true) => match new {
                    Some(new) if self.available(new) => {
                        out.insert(
                            node,
                            RuMove::delete(
                                old,
                                true,
                                format!(
                                    "deletes outdated pod {}: new pod {} is available",
                                    name(old),
                                    name(new)
                                ),
                            ),
                        );
                    }
                    _ => {
                        num_surge += 1;
                        surging.push(node);
                        out.insert(
                            node,
                            RuMove::wait(format!(
                                "waits for the new pod{} to become available, then deletes outdated pod {}",
                                new.map(|n| format!(" {}", name(n))).unwrap_or_default(),
                                name(old)
                            )),
                        );
                    }
                },
            }
        }
        let desired = self.desired;
        let deletable = num_available.saturating_sub(desired).min(should_not_run.len());
        let of = should_not_run.len();
        for (node, old) in should_not_run {
            let mv = if deletable == of {
                RuMove::delete(
                    old,
                    false,
                    format!(
                        "deletes outdated pod {}: {}, and {num_available} available pods exceed the {desired} wanted",
                        name(old),
                        self.why_not(node)
                    ),
                )
            } else if deletable == 0 {
                RuMove::wait(format!(
                    "keeps outdated pod {} for now: {}, but with surge it goes only while available pods ({num_available}) exceed the {desired} wanted",
                    name(old),
                    self.why_not(node)
                ))
            } else {
                RuMove::delete(
                    old,
                    false,
                    format!(
                        "may delete outdated pod {}: {deletable} of the {of} outdated pods on nodes that no longer qualify go now; which ones depends on the controller's order",
                        name(old)
                    ),
                )
                .picked(Pool {
                    picked: deletable,
                    of,
                })
            };
            out.insert(node, mv);
        }
        let room = max_surge.saturating_sub(num_surge).min(candidates.len());
        let of = candidates.len();
        for node in candidates {
            let old = self.nodes[node]
                .iter()
                .copied()
                .find(|p| !is_terminating(p) && !is_updated(p, self.hash, self.generation));
            let old_name = old.map(name).unwrap_or_default();
            let mv = if room == of {
                RuMove::create(format!(
                    "creates a new pod beside outdated pod {old_name} (maxSurge {max_surge}); the old pod goes once the new one is available"
                ))
            } else if room == 0 {
                RuMove::wait(format!(
                    "waits to surge a new pod beside outdated pod {old_name}: {num_surge} of maxSurge {max_surge} in use ({})",
                    surging.iter().take(3).copied().collect::<Vec<_>>().join(", ")
                ))
            } else {
                RuMove::create(format!(
                    "may create a new pod beside outdated pod {old_name}: the rolling update surges onto {room} of the {of} nodes with an available outdated pod (maxSurge {max_surge}); which ones is random"
                ))
                .picked(Pool { picked: room, of })
            };
            out.insert(node, mv);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use serde_json::json;

    #[test]
    fn rolling_update_with_surge() {
        let d = ds(rolling(json!(0), json!(1)));
        let nodes = abc_and_tainted_t();
        let pods = [
            // a: surged, new not yet available: uses the surge budget
            pod("pa-old", "a", "old", "ready", 1),
            pod("pa-new", "a", "new", "unready", 2),
            // b: old unready: a new pod at once, outside the budget
            pod("pb", "b", "old", "unready", 1),
            // c: old ready: waits for the budget
            pod("pc", "c", "old", "ready", 1),
            // t: old ready on a node that no longer qualifies: goes only while available > desired
            pod("pt", "t", "old", "ready", 1),
        ];
        let p = plan(&d, &nodes, &pods);
        assert_eq!(on(&p, "a").action, Action::Wait);
        let b = on(&p, "b");
        assert_eq!((b.action, b.create), (Action::Replace, true));
        assert_eq!(on(&p, "c").action, Action::Wait);
        assert!(on(&p, "c").why.contains("maxSurge 1"), "{}", on(&p, "c").why);
        // available: a (old), c, t = 3, desired 3: nothing to delete on t
        assert_eq!(on(&p, "t").action, Action::Wait, "{}", on(&p, "t").why);

        // Once the new pod on a is available the old one goes.
        let pods = [
            pod("pa-old", "a", "old", "ready", 1),
            pod("pa-new", "a", "new", "ready", 2),
        ];
        let p = plan(&d, &nodes[..1], &pods);
        let a = on(&p, "a");
        assert_eq!(
            (a.action, a.delete.clone()),
            (Action::Replace, vec!["pa-old".to_string()])
        );
    }
}
