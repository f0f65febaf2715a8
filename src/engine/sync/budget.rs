//! The rolling update's budgets: the one home of how `maxSurge` and `maxUnavailable` become
//! numbers of nodes (percentages of the desired nodes, rounded up; both 0 gives maxUnavailable 1)
//! and of whether the strategy is a rolling update at all. Mirrors `updatedDesiredNodeCounts`
//! (pkg/controller/daemon/update.go; `getUnavailableNumbers` before surge) and `SurgeCount`,
//! `UnavailableCount` and `AllowsSurge` (pkg/controller/daemon/util).

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

// mirrors GetScaledValueFromIntOrPercent(v, total, roundUp=true) (apimachinery intstr)
fn scaled(value: Option<&IntOrString>, total: usize) -> Result<usize, String> {
    match value {
        None => Ok(0),
        Some(IntOrString::Int(i)) => Ok((*i).max(0) as usize),
        Some(IntOrString::String(s)) => {
            let p: i64 = s
                .strip_suffix('%')
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("invalid value {s:?}: an integer or a percentage"))?;
            Ok(((p as f64 * total as f64) / 100.0).ceil().max(0.0) as usize)
        }
    }
}

/// Whether the strategy is RollingUpdate (the default when the type is absent).
pub(super) fn is_rolling_update(ds: &DaemonSet) -> bool {
    ds.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

/// The strategy's budgets: (maxSurge, maxUnavailable) for `desired` nodes.
// mirrors updatedDesiredNodeCounts + SurgeCount/UnavailableCount (pkg/controller/daemon)
pub fn budgets(ds: &DaemonSet, desired: usize) -> Result<(usize, usize), String> {
    if !is_rolling_update(ds) {
        return Ok((0, 0));
    }
    // Without rollingUpdate both counts are 0, and the fallback below makes maxUnavailable 1.
    let r = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let surge = scaled(r.and_then(|r| r.max_surge.as_ref()), desired)?;
    let mut unavailable = scaled(r.and_then(|r| r.max_unavailable.as_ref()), desired)?;
    if desired > 0 && surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

// mirrors AllowsSurge (pkg/controller/daemon/util)
pub(super) fn allows_surge(ds: &DaemonSet) -> bool {
    budgets(ds, 1).is_ok_and(|(surge, _)| surge > 0)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn rolling_update_budget_is_a_percentage_of_desired_rounded_up() {
        let d = ds(rolling(json!("50%"), json!(0)));
        assert_eq!(budgets(&d, 3), Ok((0, 2)));
        assert_eq!(budgets(&ds(rolling(json!("1%"), json!(0))), 101), Ok((0, 2)));
        assert_eq!(
            budgets(&ds(rolling(json!(0), json!(0))), 5),
            Ok((0, 1)),
            "both 0 falls back to 1"
        );
        assert_eq!(
            budgets(&ds(json!({"type": "RollingUpdate"})), 5),
            Ok((0, 1)),
            "no rollingUpdate: both 0, so maxUnavailable 1"
        );
        assert!(budgets(&ds(rolling(json!("5"), json!(0))), 5).is_err());
        let nodes = [node("a", json!([])), node("b", json!([])), node("c", json!([]))];
        let pods = [
            pod("pa", "a", "old", "ready", 1),
            pod("pb", "b", "old", "ready", 1),
            pod("pc", "c", "old", "ready", 1),
        ];
        let p = plan(&d, &nodes, &pods);
        assert!(
            ["a", "b", "c"]
                .iter()
                .all(|n| on(&p, n).pool == Some(Pool { picked: 2, of: 3 }))
        );
    }
}
