//! Kubernetes resource quantities ("100m", "64Mi", "1.5", "2e3") as exact milli-units.

/// Parses a quantity into thousandths of its unit (cpu "100m" → 100, memory "1Ki" → 1_024_000).
/// Returns None for text that is not a quantity.
pub fn parse_milli(text: &str) -> Option<i128> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'-' => (-1, &t[1..]),
        b'+' => (1, &t[1..]),
        _ => (1, t),
    };
    let split = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(split);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    // value = digits / 10^frac_len
    let digits: i128 = format!("{int_part}{frac_part}").parse().ok()?;
    let frac_len = frac_part.len() as u32;
    let (mul_num, mul_den): (i128, i128) = match suffix {
        "" => (1000, 1),
        "m" => (1, 1),
        "u" => (1, 1000),
        "n" => (1, 1_000_000),
        "k" => (1000 * 1000, 1),
        "M" => (1000 * 1_000_000, 1),
        "G" => (1000 * 1_000_000_000, 1),
        "T" => (1000 * 1_000_000_000_000, 1),
        "P" => (1000 * 1_000_000_000_000_000, 1),
        "E" => (1000 * 1_000_000_000_000_000_000, 1),
        "Ki" => (1000 << 10, 1),
        "Mi" => (1000 << 20, 1),
        "Gi" => (1000 << 30, 1),
        "Ti" => (1000 << 40, 1),
        "Pi" => (1000 << 50, 1),
        "Ei" => (1000 << 60, 1),
        s if s.starts_with(['e', 'E']) => {
            let exp: i32 = s[1..].parse().ok()?;
            if !(-18..=18).contains(&exp) {
                return None;
            }
            if exp >= 0 {
                (1000 * 10i128.pow(exp as u32), 1)
            } else {
                (1000, 10i128.pow((-exp) as u32))
            }
        }
        _ => return None,
    };
    let den = mul_den.checked_mul(10i128.checked_pow(frac_len)?)?;
    let num = digits.checked_mul(mul_num)?;
    // Round up, as the API does when it stores a quantity with more precision than milli.
    // (Not `(num + den - 1) / den`: that overflows for a `num` near the largest i128.)
    let value = num / den + i128::from(num % den != 0);
    Some(sign * value)
}

/// A milli-unit amount for people: cpu as cores or millicores, bytes with binary suffixes.
pub fn format_milli(resource: &str, milli: i128) -> String {
    if resource == "cpu" {
        return if milli % 1000 == 0 {
            format!("{}", milli / 1000)
        } else {
            format!("{milli}m")
        };
    }
    let units = milli / 1000;
    if resource == "memory" || resource.ends_with("storage") {
        for (suffix, shift) in [("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)] {
            let unit = 1i128 << shift;
            if units >= unit && units % unit == 0 {
                return format!("{}{suffix}", units / unit);
            }
        }
        for (suffix, shift) in [("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)] {
            let unit = 1i128 << shift;
            if units >= unit {
                return format!("{:.1}{suffix}", units as f64 / unit as f64);
            }
        }
    }
    format!("{units}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_to_milli_units() {
        let cases = [
            ("100m", 100),
            ("1", 1000),
            ("1.5", 1500),
            ("64Mi", 64 * 1024 * 1024 * 1000),
            ("1k", 1_000_000),
            ("1Ti", (1i128 << 40) * 1000),
            ("2e3", 2_000_000),
            ("0.1m", 1),
            ("110", 110_000),
        ];
        for (text, want) in cases {
            assert_eq!(parse_milli(text), Some(want), "{text}");
        }
        for bad in ["", "abc", "1..2", "5x", "."] {
            assert_eq!(parse_milli(bad), None, "{bad}");
        }
    }

    /// Regression (found by tests/fuzz_engine.rs): rounding up a value whose milli-units are
    /// near i128::MAX overflowed, a panic in debug builds and a wrapped negative in release.
    #[test]
    fn rounding_up_the_largest_quantities_does_not_overflow() {
        let max = i128::MAX;
        assert_eq!(
            parse_milli("170141183460469231731687303715884105.727m"),
            Some(max / 1000 + 1)
        );
        assert_eq!(parse_milli(&format!("{max}m")), Some(max));
        assert_eq!(parse_milli(&format!("-{max}m")), Some(-max));
        assert_eq!(parse_milli("0.0001"), Some(1));
        assert_eq!(parse_milli("-0.0001"), Some(-1));
    }

    #[test]
    fn amounts_format_for_people() {
        assert_eq!(format_milli("cpu", 1500), "1500m");
        assert_eq!(format_milli("cpu", 2000), "2");
        assert_eq!(format_milli("memory", 64 * 1024 * 1024 * 1000), "64Mi");
        assert_eq!(format_milli("pods", 110_000), "110");
    }
}
