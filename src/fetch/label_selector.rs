//! A label selector as the strings list requests take (`a=b,c in (d),!e`), and each of its
//! requirements negated (the pods it does not select, one list each). The one home of the
//! selector's text; matching a selector is the engine's (`engine::sync::selector_matches`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// The label selector of a DaemonSet as a string for list requests (`a=b,c in (d),!e`).
pub fn selector_string(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        parts.push(format!("{k}={v}"));
    }
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other} ({values})", e.key),
        });
    }
    parts.join(",")
}

/// Each requirement of a selector negated, as selector strings: a pod fails the selector exactly
/// when it matches one of them (`a=b` gives `a!=b`, which an absent `a` matches too).
pub fn negated_requirements(selector: &LabelSelector) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        parts.push(format!("{k}!={v}"));
    }
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} notin ({values})", e.key),
            "NotIn" => format!("{} in ({values})", e.key),
            "Exists" => format!("!{}", e.key),
            "DoesNotExist" => e.key.clone(),
            other => format!("{} {other} ({values})", e.key),
        });
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn selector_string_covers_every_operator() {
        let sel = LabelSelector {
            match_labels: Some([("app".to_string(), "agent".to_string())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "x".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["c".into()]),
                },
                LabelSelectorRequirement {
                    key: "y".into(),
                    operator: "Exists".into(),
                    values: None,
                },
                LabelSelectorRequirement {
                    key: "z".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(selector_string(&sel), "app=agent,tier in (a,b),x notin (c),y,!z");
        // A pod fails the selector exactly when it matches one of these.
        assert_eq!(
            negated_requirements(&sel),
            vec!["app!=agent", "tier notin (a,b)", "x in (c)", "!y", "z"]
        );
        let parsed = |t: &str| crate::selector::Selector::parse(t).unwrap();
        let labels = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        for pod in [
            labels(&[("app", "agent"), ("tier", "a"), ("y", "1")]),
            labels(&[("app", "debug"), ("tier", "a"), ("y", "1")]),
            labels(&[("tier", "b"), ("y", "1")]),
            labels(&[("app", "agent"), ("tier", "c"), ("y", "1"), ("z", "1")]),
            labels(&[("app", "agent"), ("tier", "a"), ("x", "c"), ("y", "")]),
        ] {
            let matches = parsed(&selector_string(&sel)).matches(Some(&pod));
            let fails_one = negated_requirements(&sel)
                .iter()
                .any(|n| parsed(n).matches(Some(&pod)));
            assert_eq!(matches, !fails_one, "{pod:?}");
        }
    }
}
