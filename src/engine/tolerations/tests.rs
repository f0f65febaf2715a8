use super::*;

fn toleration(key: &str, operator: &str, value: &str, effect: &str) -> Toleration {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Toleration {
        key: opt(key),
        operator: opt(operator),
        value: opt(value),
        effect: opt(effect),
        toleration_seconds: None,
    }
}

fn with_seconds(mut t: Toleration, seconds: i64) -> Toleration {
    t.toleration_seconds = Some(seconds);
    t
}

fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.to_string(),
        value: (!value.is_empty()).then(|| value.to_string()),
        effect: effect.to_string(),
        time_added: None,
    }
}

#[test]
fn toleration_matches_taint_per_rule() {
    let cases = [
        // (rule, toleration, taint, gate off, gate on)
        (
            "empty effect matches all effects",
            toleration("k", "Equal", "v", ""),
            taint("k", "v", NO_EXECUTE),
            true,
            true,
        ),
        (
            "effect mismatch",
            toleration("k", "Equal", "v", NO_SCHEDULE),
            taint("k", "v", NO_EXECUTE),
            false,
            false,
        ),
        (
            "empty key with Exists matches everything",
            toleration("", "Exists", "", ""),
            taint("any", "thing", NO_EXECUTE),
            true,
            true,
        ),
        (
            "empty key with Exists keeps its effect",
            toleration("", "Exists", "", NO_SCHEDULE),
            taint("any", "", NO_EXECUTE),
            false,
            false,
        ),
        (
            "key mismatch",
            toleration("a", "Exists", "", ""),
            taint("b", "", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "empty operator means Equal: same value",
            toleration("k", "", "v", NO_SCHEDULE),
            taint("k", "v", NO_SCHEDULE),
            true,
            true,
        ),
        (
            "empty operator means Equal: other value",
            toleration("k", "", "v", NO_SCHEDULE),
            taint("k", "w", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "Equal with value mismatch fails",
            toleration("k", "Equal", "web", NO_SCHEDULE),
            taint("k", "db", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "Equal empty equals empty",
            toleration("k", "Equal", "", NO_SCHEDULE),
            taint("k", "", NO_SCHEDULE),
            true,
            true,
        ),
        (
            "Equal empty value vs set value",
            toleration("k", "Equal", "", NO_SCHEDULE),
            taint("k", "v", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "Exists ignores the value",
            toleration("k", "Exists", "", NO_SCHEDULE),
            taint("k", "whatever", NO_SCHEDULE),
            true,
            true,
        ),
        (
            "unknown operator never tolerates",
            toleration("k", "Matches", "v", NO_SCHEDULE),
            taint("k", "v", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "Lt false with gate off, true with gate on",
            toleration("k", "Lt", "10", NO_SCHEDULE),
            taint("k", "5", NO_SCHEDULE),
            false,
            true,
        ),
        (
            "Lt compares taint < toleration",
            toleration("k", "Lt", "10", NO_SCHEDULE),
            taint("k", "10", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "Gt compares taint > toleration",
            toleration("k", "Gt", "10", NO_SCHEDULE),
            taint("k", "11", NO_SCHEDULE),
            false,
            true,
        ),
        (
            "Gt with negative canonical values",
            toleration("k", "Gt", "-3", NO_SCHEDULE),
            taint("k", "-2", NO_SCHEDULE),
            false,
            true,
        ),
        (
            "Gt with zero",
            toleration("k", "Gt", "0", NO_SCHEDULE),
            taint("k", "1", NO_SCHEDULE),
            false,
            true,
        ),
        (
            "comparison needs canonical integers: leading zero",
            toleration("k", "Gt", "0", NO_SCHEDULE),
            taint("k", "01", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "comparison needs canonical integers: plus sign",
            toleration("k", "Gt", "0", NO_SCHEDULE),
            taint("k", "+1", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "comparison needs canonical integers: minus zero",
            toleration("k", "Lt", "1", NO_SCHEDULE),
            taint("k", "-0", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "comparison needs canonical integers: toleration side",
            toleration("k", "Lt", "010", NO_SCHEDULE),
            taint("k", "5", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "comparison needs integers that fit in i64",
            toleration("k", "Gt", "1", NO_SCHEDULE),
            taint("k", "9223372036854775808", NO_SCHEDULE),
            false,
            false,
        ),
        (
            "comparison accepts i64::MIN",
            toleration("k", "Lt", "0", NO_SCHEDULE),
            taint("k", "-9223372036854775808", NO_SCHEDULE),
            false,
            true,
        ),
        (
            "comparison with an empty taint value",
            toleration("k", "Lt", "5", NO_SCHEDULE),
            taint("k", "", NO_SCHEDULE),
            false,
            false,
        ),
    ];
    for (rule, tol, tnt, gate_off, gate_on) in cases {
        assert_eq!(tolerates(&tol, &tnt), gate_off, "{rule} (gate off)");
        assert_eq!(
            tolerates_with_gate(&tol, &tnt, false),
            gate_off,
            "{rule} (gate off, explicit)"
        );
        assert_eq!(tolerates_with_gate(&tol, &tnt, true), gate_on, "{rule} (gate on)");
    }
}

#[test]
fn canonical_integer_rules() {
    let cases = [
        ("0", Some(0)),
        ("7", Some(7)),
        ("-7", Some(-7)),
        ("007", None),
        ("01", None),
        ("+1", None),
        ("-0", None),
        ("-", None),
        ("", None),
        ("1.5", None),
        (" 1", None),
        ("9223372036854775807", Some(i64::MAX)),
        ("9223372036854775808", None),
    ];
    for (input, want) in cases {
        assert_eq!(canonical_integer(input), want, "{input:?}");
    }
}

fn keys_and_effects(list: &[Toleration]) -> Vec<(String, String)> {
    list.iter()
        .map(|t| (key(t).to_string(), effect(t).to_string()))
        .collect()
}

#[test]
fn default_tolerations_network_unavailable_only_for_host_network() {
    let plain = default_tolerations(&PodSpec::default());
    let host = default_tolerations(&PodSpec {
        host_network: Some(true),
        ..PodSpec::default()
    });
    let expected = [
        (TAINT_NOT_READY, NO_EXECUTE),
        (TAINT_UNREACHABLE, NO_EXECUTE),
        (TAINT_DISK_PRESSURE, NO_SCHEDULE),
        (TAINT_MEMORY_PRESSURE, NO_SCHEDULE),
        (TAINT_PID_PRESSURE, NO_SCHEDULE),
        (TAINT_UNSCHEDULABLE, NO_SCHEDULE),
    ];
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(k, e)| (k.to_string(), e.to_string()))
        .collect();
    assert_eq!(keys_and_effects(&plain), want);
    let mut want_host = want.clone();
    want_host.push((TAINT_NETWORK_UNAVAILABLE.to_string(), NO_SCHEDULE.to_string()));
    assert_eq!(keys_and_effects(&host), want_host);
    for t in plain.iter().chain(&host) {
        assert_eq!(operator(t), "Exists", "{t:?}");
        assert_eq!(value(t), "", "{t:?}");
        assert_eq!(t.toleration_seconds, None, "defaults tolerate forever: {t:?}");
    }
}

#[test]
fn default_tolerations_merge_rule() {
    let not_ready = exists_toleration(TAINT_NOT_READY, NO_EXECUTE);
    let cases: Vec<(&str, Vec<Toleration>, Vec<Toleration>)> = vec![
        (
            "no user tolerations: defaults appended",
            vec![],
            defaults_for(false),
        ),
        (
            "user Exists not-ready:NoExecute with tolerationSeconds becomes infinite, in place",
            vec![
                toleration("a", "Exists", "", ""),
                with_seconds(not_ready.clone(), 60),
                toleration("b", "Exists", "", ""),
            ],
            [
                vec![
                    toleration("a", "Exists", "", ""),
                    not_ready.clone(),
                    toleration("b", "Exists", "", ""),
                ],
                defaults_for(false)[1..].to_vec(),
            ]
            .concat(),
        ),
        (
            "user Equal not-ready:NoExecute is kept beside the appended default",
            vec![with_seconds(
                toleration(TAINT_NOT_READY, "Equal", "", NO_EXECUTE),
                30,
            )],
            [
                vec![with_seconds(
                    toleration(TAINT_NOT_READY, "Equal", "", NO_EXECUTE),
                    30,
                )],
                defaults_for(false),
            ]
            .concat(),
        ),
        (
            "user toleration identical to a default: list unchanged, nothing appended",
            vec![not_ready.clone()],
            defaults_for(false),
        ),
        (
            "every matching toleration is replaced, even beside an identical one",
            vec![with_seconds(not_ready.clone(), 30), not_ready.clone()],
            [
                vec![not_ready.clone(), not_ready.clone()],
                defaults_for(false)[1..].to_vec(),
            ]
            .concat(),
        ),
        (
            "a user catch-all is not a match: defaults still appended after it",
            vec![with_seconds(toleration("", "Exists", "", NO_EXECUTE), 30)],
            [
                vec![with_seconds(toleration("", "Exists", "", NO_EXECUTE), 30)],
                defaults_for(false),
            ]
            .concat(),
        ),
    ];
    for (rule, user, want) in cases {
        assert_eq!(add_or_update_daemon_pod_tolerations(&user, false), want, "{rule}");
    }
}

#[test]
fn merge_reports_what_each_default_did() {
    let not_ready = exists_toleration(TAINT_NOT_READY, NO_EXECUTE);
    let unreachable = exists_toleration(TAINT_UNREACHABLE, NO_EXECUTE);
    let merged = merge_daemon_pod_tolerations(&[with_seconds(not_ready.clone(), 60), unreachable], true);
    let outcomes: Vec<&MergeOutcome> = merged.defaults.iter().map(|d| &d.outcome).collect();
    assert_eq!(
        outcomes[0],
        &MergeOutcome::Replaced(vec![with_seconds(not_ready, 60)])
    );
    assert_eq!(outcomes[1], &MergeOutcome::AlreadyPresent);
    assert!(outcomes[2..].iter().all(|o| **o == MergeOutcome::Appended));
    assert_eq!(merged.defaults.len(), 7);
    assert_eq!(merged.tolerations.len(), 7);
}

#[test]
fn find_untolerated_taint_filters_by_effect_and_keeps_node_order() {
    let taints = [
        taint("soft", "", PREFER_NO_SCHEDULE),
        taint("first", "x", NO_SCHEDULE),
        taint("second", "", NO_EXECUTE),
    ];
    let none: [Toleration; 0] = [];
    let both = [NO_SCHEDULE, NO_EXECUTE];
    assert_eq!(
        find_untolerated_taint(&taints, &none, &both).map(|t| t.key.as_str()),
        Some("first")
    );
    assert_eq!(
        find_untolerated_taint(&taints, &none, &[NO_EXECUTE]).map(|t| t.key.as_str()),
        Some("second")
    );
    assert_eq!(
        find_untolerated_taint(&taints, &none, &[]).map(|t| t.key.as_str()),
        Some("soft")
    );
    let tolerate_first = [toleration("first", "Equal", "x", NO_SCHEDULE)];
    assert_eq!(
        find_untolerated_taint(&taints, &tolerate_first, &both).map(|t| t.key.as_str()),
        Some("second")
    );
    let all = [toleration("", "Exists", "", "")];
    assert_eq!(find_untolerated_taint(&taints, &all, &[]), None);
    // PreferNoSchedule alone never counts for the DaemonSet controller
    assert_eq!(find_untolerated_taint(&taints[..1], &none, &both), None);
}

#[test]
fn near_misses_name_what_differs() {
    let tnt = taint("dedicated", "db", NO_SCHEDULE);
    let tolerations = [
        toleration("dedicated", "Equal", "web", NO_SCHEDULE),
        toleration("dedicated", "Exists", "", NO_EXECUTE),
        toleration("dedicated", "Gt", "1", NO_SCHEDULE),
        toleration("other", "Exists", "", ""),
        toleration("", "Exists", "", NO_EXECUTE),
    ];
    let misses: Vec<(String, String)> = near_misses(&tolerations, &tnt)
        .into_iter()
        .map(|(t, why)| (describe_toleration(t), why))
        .collect();
    assert_eq!(
        misses,
        vec![
            (
                "dedicated=web:NoSchedule".to_string(),
                "value differs".to_string()
            ),
            (
                "dedicated:NoExecute (Exists)".to_string(),
                "effect differs".to_string()
            ),
            (
                "dedicated:NoSchedule (Gt \"1\")".to_string(),
                "operator Gt is ignored (feature gate TaintTolerationComparisonOperators is off)".to_string()
            ),
            ("*:NoExecute (Exists)".to_string(), "effect differs".to_string()),
        ]
    );
}

#[test]
fn descriptions() {
    assert_eq!(
        describe_taint(&taint("dedicated", "db", NO_SCHEDULE)),
        "dedicated=db:NoSchedule"
    );
    assert_eq!(describe_taint(&taint("gpu", "", NO_EXECUTE)), "gpu:NoExecute");
    assert_eq!(
        describe_toleration(&exists_toleration(TAINT_NOT_READY, NO_EXECUTE)),
        "node.kubernetes.io/not-ready:NoExecute (Exists)"
    );
    assert_eq!(
        describe_toleration(&with_seconds(exists_toleration(TAINT_NOT_READY, NO_EXECUTE), 60)),
        "node.kubernetes.io/not-ready:NoExecute (Exists, tolerationSeconds=60)"
    );
    assert_eq!(
        describe_toleration(&toleration("", "Exists", "", "")),
        "*:* (Exists)"
    );
    assert_eq!(describe_toleration(&toleration("k", "", "v", "")), "k=v:*");
}
