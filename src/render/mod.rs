//! Rendering: a human table (comfy-table), machine output (`-o json|yaml`) and live progress.
//! Nothing here decides anything about Kubernetes; it only shows what the engine found.

pub mod machine;
pub mod progress;
pub mod status;
pub mod table;
pub mod verdicts;

use k8s_openapi::jiff::Timestamp;

/// How long ago, the way kubectl's AGE column says it (5s, 3m20s, 45m, 2h10m, 30h, 3d4h, 90d, 2y).
pub fn age(created: Timestamp, now: Timestamp) -> String {
    let seconds = now.duration_since(created).as_secs();
    if seconds < -1 {
        return "<invalid>".into();
    }
    let s = seconds.max(0);
    let (minutes, hours, days) = (s / 60, s / 3600, s / 86_400);
    let with = |big: i64, unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big}{unit}")
        } else {
            format!("{big}{unit}{small}{small_unit}")
        }
    };
    match () {
        _ if s < 120 => format!("{s}s"),
        _ if minutes < 10 => with(minutes, "m", s % 60, "s"),
        _ if minutes < 180 => format!("{minutes}m"),
        _ if hours < 8 => with(hours, "h", minutes % 60, "m"),
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 24 * 8 => with(days, "d", hours % 24, "h"),
        _ if days < 365 * 2 => format!("{days}d"),
        _ if days < 365 * 8 => with(days / 365, "y", days % 365, "d"),
        _ => format!("{}y", days / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let now: Timestamp = "2025-01-10T00:00:00Z".parse().unwrap();
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (200, "3m20s"),
            (300, "5m"),
            (45 * 60, "45m"),
            (2 * 3600 + 600, "130m"),
            (4 * 3600 + 600, "4h10m"),
            (30 * 3600, "30h"),
            (3 * 86_400 + 4 * 3600, "3d4h"),
            (90 * 86_400, "90d"),
            (3 * 365 * 86_400, "3y"),
            (-10, "<invalid>"),
        ];
        for (ago, want) in cases {
            let created = now - k8s_openapi::jiff::SignedDuration::from_secs(ago);
            assert_eq!(age(created, now), want, "{ago}s ago");
        }
    }
}
