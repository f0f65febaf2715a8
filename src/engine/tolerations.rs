//! Tolerations versus taints, and the tolerations the DaemonSet controller gives every daemon pod
//! (semantics §2 and §3.4).

use k8s_openapi::api::core::v1::{PodSpec, Taint, Toleration};

pub const NO_SCHEDULE: &str = "NoSchedule";
pub const NO_EXECUTE: &str = "NoExecute";
pub const PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const TAINT_DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
pub const TAINT_PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const TAINT_NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";

/// The defaults every daemon pod gets, in the order the controller appends them.
const ALWAYS_TOLERATED: [(&str, &str); 6] = [
    (TAINT_NOT_READY, NO_EXECUTE),
    (TAINT_UNREACHABLE, NO_EXECUTE),
    (TAINT_DISK_PRESSURE, NO_SCHEDULE),
    (TAINT_MEMORY_PRESSURE, NO_SCHEDULE),
    (TAINT_PID_PRESSURE, NO_SCHEDULE),
    (TAINT_UNSCHEDULABLE, NO_SCHEDULE),
];

fn exists_toleration(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.to_string()),
        operator: Some("Exists".to_string()),
        effect: Some(effect.to_string()),
        value: None,
        // none means "tolerate forever"
        toleration_seconds: None,
    }
}

fn defaults_for(host_network: bool) -> Vec<Toleration> {
    let mut defaults: Vec<Toleration> = ALWAYS_TOLERATED
        .iter()
        .map(|(key, effect)| exists_toleration(key, effect))
        .collect();
    if host_network {
        defaults.push(exists_toleration(TAINT_NETWORK_UNAVAILABLE, NO_SCHEDULE));
    }
    defaults
}

/// The tolerations the controller adds to a pod built from `spec`, in the order it adds them.
pub fn default_tolerations(spec: &PodSpec) -> Vec<Toleration> {
    defaults_for(spec.host_network.unwrap_or(false))
}

/// What merging one default toleration did to the pod's list.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeOutcome {
    /// No user toleration matched it, so it was appended at the end.
    Appended,
    /// Matching user tolerations were already identical to it; the list did not change.
    AlreadyPresent,
    /// These user tolerations (same key, effect, operator and value, but a different
    /// `tolerationSeconds`) were replaced in place by the default.
    Replaced(Vec<Toleration>),
}

/// One default toleration and what merging it did.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultToleration {
    pub toleration: Toleration,
    pub outcome: MergeOutcome,
}

/// The pod's tolerations after the controller's defaults were merged in, plus what each default did.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedTolerations {
    pub tolerations: Vec<Toleration>,
    pub defaults: Vec<DefaultToleration>,
}

/// Like [`add_or_update_daemon_pod_tolerations`], and also says what each default did (for `--explain`).
pub fn merge_daemon_pod_tolerations(tolerations: &[Toleration], host_network: bool) -> MergedTolerations {
    let mut merged = tolerations.to_vec();
    let defaults = defaults_for(host_network)
        .into_iter()
        .map(|toleration| {
            let outcome = add_or_update_toleration(&mut merged, &toleration);
            DefaultToleration { toleration, outcome }
        })
        .collect();
    MergedTolerations {
        tolerations: merged,
        defaults,
    }
}

// mirrors AddOrUpdateDaemonPodTolerations (pkg/controller/daemon/util)
pub fn add_or_update_daemon_pod_tolerations(
    tolerations: &[Toleration],
    host_network: bool,
) -> Vec<Toleration> {
    merge_daemon_pod_tolerations(tolerations, host_network).tolerations
}

// mirrors AddOrUpdateTolerationInPodSpec (pkg/apis/core/v1/helper)
//
// Upstream guards the replacement with `Semantic.DeepEqual(*Toleration, Toleration)`, a pointer
// compared with a value, which is never equal; so every matching toleration is replaced in place,
// even one already identical to the default. Replacing with an identical value changes nothing,
// which is what `AlreadyPresent` reports.
fn add_or_update_toleration(list: &mut Vec<Toleration>, toleration: &Toleration) -> MergeOutcome {
    let mut matched = false;
    let mut replaced = Vec::new();
    for existing in list.iter_mut() {
        if match_toleration(toleration, existing) {
            matched = true;
            if existing.toleration_seconds != toleration.toleration_seconds {
                replaced.push(existing.clone());
            }
            *existing = toleration.clone();
        }
    }
    if !matched {
        list.push(toleration.clone());
        MergeOutcome::Appended
    } else if replaced.is_empty() {
        MergeOutcome::AlreadyPresent
    } else {
        MergeOutcome::Replaced(replaced)
    }
}

// mirrors Toleration.MatchToleration (k8s.io/api/core/v1): tolerationSeconds is not compared
fn match_toleration(a: &Toleration, b: &Toleration) -> bool {
    key(a) == key(b) && effect(a) == effect(b) && operator(a) == operator(b) && value(a) == value(b)
}

fn key(t: &Toleration) -> &str {
    t.key.as_deref().unwrap_or("")
}

fn effect(t: &Toleration) -> &str {
    t.effect.as_deref().unwrap_or("")
}

fn operator(t: &Toleration) -> &str {
    t.operator.as_deref().unwrap_or("")
}

fn value(t: &Toleration) -> &str {
    t.value.as_deref().unwrap_or("")
}

fn taint_value(t: &Taint) -> &str {
    t.value.as_deref().unwrap_or("")
}

/// Does `toleration` tolerate `taint`, with the `TaintTolerationComparisonOperators` feature gate
/// off (its default through 1.37): `Lt`/`Gt` tolerate nothing.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    tolerates_with_gate(toleration, taint, false)
}

// mirrors Toleration.ToleratesTaint (k8s.io/api/core/v1)
pub fn tolerates_with_gate(toleration: &Toleration, taint: &Taint, comparison_operators: bool) -> bool {
    mismatch(toleration, taint, comparison_operators).is_empty()
}

/// Why `toleration` does not tolerate `taint`; empty when it does. Every failing condition is
/// listed, so a near miss can be explained.
fn mismatch(toleration: &Toleration, taint: &Taint, comparison_operators: bool) -> Vec<String> {
    let mut why = Vec::new();
    // an empty effect or key is a wildcard
    if !effect(toleration).is_empty() && effect(toleration) != taint.effect {
        why.push("effect differs".to_string());
    }
    if !key(toleration).is_empty() && key(toleration) != taint.key {
        why.push("key differs".to_string());
    }
    match operator(toleration) {
        "" | "Equal" => {
            if value(toleration) != taint_value(taint) {
                why.push("value differs".to_string());
            }
        }
        "Exists" => {}
        op @ ("Lt" | "Gt") => {
            if !comparison_operators {
                why.push(format!(
                    "operator {op} is ignored (feature gate TaintTolerationComparisonOperators is off)"
                ));
            } else {
                match (
                    canonical_integer(value(toleration)),
                    canonical_integer(taint_value(taint)),
                ) {
                    (Some(bound), Some(actual)) => {
                        let holds = if op == "Lt" {
                            actual < bound
                        } else {
                            actual > bound
                        };
                        if !holds {
                            why.push(format!(
                                "taint value {actual} is not {} {bound}",
                                comparison_word(op)
                            ));
                        }
                    }
                    _ => why.push(format!("operator {op} needs canonical integers on both sides")),
                }
            }
        }
        other => why.push(format!("operator {other:?} is not supported")),
    }
    why
}

fn comparison_word(op: &str) -> &'static str {
    if op == "Lt" { "less than" } else { "greater than" }
}

/// `"0"`, or an optional `-` then `[1-9][0-9]*`, that fits in an i64 (`content.IsDecimalInteger`):
/// no `+`, no leading zeros, no `-0`.
fn canonical_integer(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut chars = digits.chars();
    let first_ok = matches!(chars.next(), Some('1'..='9'));
    if !first_ok || !chars.all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The first toleration, in list order, that tolerates `taint` (gate off).
pub fn tolerating<'a>(tolerations: &'a [Toleration], taint: &Taint) -> Option<&'a Toleration> {
    tolerations.iter().find(|t| tolerates(t, taint))
}

// mirrors FindMatchingUntoleratedTaint (component-helpers scheduling/corev1), gate off
//
// Only taints whose effect is in `effects` are considered; an empty `effects` considers every
// taint, as upstream does with a nil filter.
pub fn find_untolerated_taint<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    effects: &[&str],
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|taint| effects.is_empty() || effects.contains(&taint.effect.as_str()))
        .find(|taint| tolerating(tolerations, taint).is_none())
}

/// Tolerations that nearly tolerate `taint` (same key, or a wildcard key) and why each falls short.
pub fn near_misses<'a>(tolerations: &'a [Toleration], taint: &Taint) -> Vec<(&'a Toleration, String)> {
    tolerations
        .iter()
        .filter(|t| key(t).is_empty() || key(t) == taint.key)
        .filter_map(|t| {
            let why = mismatch(t, taint, false);
            (!why.is_empty()).then(|| (t, why.join(", ")))
        })
        .collect()
}

/// `key=value:effect`, or `key:effect` when the value is empty.
pub fn describe_taint(taint: &Taint) -> String {
    match taint_value(taint) {
        "" => format!("{}:{}", taint.key, taint.effect),
        value => format!("{}={value}:{}", taint.key, taint.effect),
    }
}

/// A toleration written like the taints it tolerates: `key=value:effect` for Equal, with the
/// operator in parentheses otherwise; `*` stands for an empty (wildcard) key or effect.
pub fn describe_toleration(toleration: &Toleration) -> String {
    let key = match key(toleration) {
        "" => "*",
        k => k,
    };
    let effect = match effect(toleration) {
        "" => "*",
        e => e,
    };
    let mut notes = Vec::new();
    let head = match operator(toleration) {
        "" | "Equal" => match value(toleration) {
            "" => format!("{key}:{effect}"),
            v => format!("{key}={v}:{effect}"),
        },
        "Exists" => {
            notes.push("Exists".to_string());
            format!("{key}:{effect}")
        }
        op => {
            notes.push(format!("{op} {:?}", value(toleration)));
            format!("{key}:{effect}")
        }
    };
    if let Some(seconds) = toleration.toleration_seconds {
        notes.push(format!("tolerationSeconds={seconds}"));
    }
    if notes.is_empty() {
        head
    } else {
        format!("{head} ({})", notes.join(", "))
    }
}

#[cfg(test)]
mod tests;
