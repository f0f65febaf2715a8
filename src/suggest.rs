//! "Did you mean": the closest existing names to one that was not found.

/// Up to three names closest to `wanted`, best first: names containing it or contained in it, then
/// by edit distance; only reasonable matches.
pub fn closest<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let d = if name.contains(wanted) || wanted.contains(name) {
                0
            } else {
                strsim::levenshtein(wanted, name)
            };
            let limit = (wanted.chars().count().max(name.chars().count()) / 2).max(2);
            (d <= limit).then_some((d, name))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(3).map(|(_, n)| n.to_string()).collect()
}

/// A sentence listing the suggestions, or an empty string.
pub fn did_you_mean(wanted: &str, names: &[String]) -> String {
    let found = closest(wanted, names.iter().map(String::as_str));
    if found.is_empty() {
        String::new()
    } else {
        format!("did you mean {}?", found.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_and_prefixes_but_not_unrelated_names() {
        let names = ["worker-1", "worker-2", "gpu-node-1", "control-plane"];
        assert_eq!(closest("workr-1", names), vec!["worker-1", "worker-2"]);
        assert_eq!(closest("gpu", names), vec!["gpu-node-1"]);
        assert!(closest("zzzzzzzz", names).is_empty());
    }
}
