use super::*;
use serde_json::{Value, json};

fn node(name: &str, labels: Value) -> Node {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap()
}

fn spec(value: Value) -> PodSpec {
    let mut v = value;
    v["containers"] = json!([]);
    serde_json::from_value(v).unwrap()
}

fn required(terms: Value) -> PodSpec {
    spec(
        json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}}),
    )
}

fn expr(key: &str, op: &str, values: &[&str]) -> Value {
    json!({"key": key, "operator": op, "values": values})
}

fn term(exprs: &[Value]) -> Value {
    json!({"matchExpressions": exprs})
}

fn fields(exprs: &[Value]) -> Value {
    json!({"matchFields": exprs})
}

/// (rule, pod spec, node labels, expected match, text every reason must contain together)
fn run(cases: Vec<(&str, PodSpec, Value, bool, &[&str])>) {
    for (rule, spec, labels, want, needles) in cases {
        let result = match_required_node_affinity(&spec, &node("node-a", labels));
        assert_eq!(result.matches, want, "{rule}: {result:#?}");
        assert_eq!(
            result.reasons.is_empty(),
            want,
            "{rule}: reasons empty iff it matches: {result:#?}"
        );
        let text: Vec<&str> = result.reasons.iter().map(|r| r.message.as_str()).collect();
        let text = text.join("\n");
        for needle in needles {
            assert!(text.contains(needle), "{rule}: expected {needle:?} in\n{text}");
        }
        assert!(
            !result.checks.is_empty(),
            "{rule}: every evaluation leaves checks"
        );
    }
}

#[test]
fn node_selector_rules() {
    #[rustfmt::skip]
    let cases: Vec<(&str, PodSpec, Value, bool, &[&str])> = vec![
        ("no nodeSelector matches any node", spec(json!({})), json!({}), true, &[]),
        ("empty nodeSelector matches any node", spec(json!({"nodeSelector": {}})), json!({}), true, &[]),
        ("nodeSelector needs the exact value", spec(json!({"nodeSelector": {"disktype": "ssd"}})), json!({"disktype": "ssd"}), true, &[]),
        ("nodeSelector value differs", spec(json!({"nodeSelector": {"disktype": "ssd"}})), json!({"disktype": "hdd"}), false,
            &["nodeSelector disktype=ssd: node has disktype=hdd"]),
        ("nodeSelector label missing", spec(json!({"nodeSelector": {"gpu": "true"}})), json!({}), false,
            &["nodeSelector gpu=true: node has no label gpu"]),
        ("nodeSelector is case-sensitive", spec(json!({"nodeSelector": {"gpu": "true"}})), json!({"gpu": "True"}), false,
            &["node has gpu=True"]),
        ("nodeSelector entries are ANDed", spec(json!({"nodeSelector": {"a": "1", "b": "2"}})), json!({"a": "1"}), false,
            &["nodeSelector b=2: node has no label b"]),
        ("nodeSelector empty value requires the label to exist", spec(json!({"nodeSelector": {"edge": ""}})), json!({}), false,
            &["nodeSelector edge=\"\": node has no label edge"]),
        ("nodeSelector empty value matches an empty label", spec(json!({"nodeSelector": {"edge": ""}})), json!({"edge": ""}), true, &[]),
        ("nodeSelector empty value rejects a set label", spec(json!({"nodeSelector": {"edge": ""}})), json!({"edge": "x"}), false,
            &["node has edge=x"]),
        ("nodeSelector is not validated", spec(json!({"nodeSelector": {"bad key!": "-x-"}})), json!({"bad key!": "-x-"}), true, &[]),
    ];
    run(cases);
}

#[test]
fn failing_node_selector_with_matching_affinity_does_not_match() {
    let mut s = required(json!([term(&[expr("zone", "In", &["a"])])]));
    s.node_selector = Some([("gpu".to_string(), "true".to_string())].into());
    let result = match_required_node_affinity(&s, &node("node-a", json!({"zone": "a"})));
    assert!(!result.matches);
    assert_eq!(result.reasons.len(), 1, "{result:#?}");
    assert_eq!(result.reasons[0].rule, Rule::NodeSelector);
    assert!(
        result
            .checks
            .iter()
            .any(|c| c.rule == Rule::NodeAffinity && c.passed),
        "{result:#?}"
    );
}

#[test]
fn node_selector_terms_rules() {
    let zone_a = term(&[expr("zone", "In", &["a"])]);
    #[rustfmt::skip]
    let cases: Vec<(&str, PodSpec, Value, bool, &[&str])> = vec![
        ("no terms at all matches nothing", required(json!([])), json!({"zone": "a"}), false,
            &["no nodeSelectorTerms (matches nothing)"]),
        ("all-empty terms match nothing", required(json!([{}, {"matchExpressions": [], "matchFields": []}])), json!({"zone": "a"}), false,
            &["term 1 is empty (matches nothing)", "term 2 is empty (matches nothing)"]),
        ("empty term ORed with a valid term: the valid one counts (match)", required(json!([{}, zone_a])), json!({"zone": "a"}), true, &[]),
        ("empty term ORed with a valid term: the valid one counts (no match)", required(json!([{}, zone_a])), json!({"zone": "b"}), false,
            &["term 1 is empty", "node affinity term 2: zone In [a]: value \"b\" not in [a]"]),
        ("terms are ORed", required(json!([term(&[expr("zone", "In", &["x"])]), zone_a])), json!({"zone": "a"}), true, &[]),
        ("expressions in a term are ANDed", required(json!([term(&[expr("zone", "In", &["a"]), expr("gpu", "Exists", &[])])])), json!({"zone": "a"}), false,
            &["node affinity term 1: gpu Exists: label missing"]),
        ("expressions and fields in a term are ANDed", required(json!([{"matchExpressions": [expr("zone", "In", &["a"])], "matchFields": [expr("metadata.name", "In", &["node-b"])]}])), json!({"zone": "a"}), false,
            &["metadata.name In [node-b]: node name is \"node-a\""]),
        ("In lists the values it wanted", required(json!([term(&[expr("zone", "In", &["a", "b"])])])), json!({"zone": "x"}), false,
            &["value \"x\" not in [a, b]"]),
        ("In on a missing key", required(json!([term(&[expr("zone", "In", &["a"])])])), json!({}), false,
            &["zone In [a]: label missing"]),
        ("unparsable term: In with no values", required(json!([term(&[expr("zone", "In", &[])])])), json!({"zone": "a"}), false,
            &["term 1: term does not parse: zone In needs at least one value (a term that does not parse never matches)"]),
        ("unparsable term: NotIn with no values", required(json!([term(&[expr("zone", "NotIn", &[])])])), json!({}), false,
            &["zone NotIn needs at least one value"]),
        ("unparsable term: Exists with values", required(json!([term(&[expr("zone", "Exists", &["a"])])])), json!({"zone": "a"}), false,
            &["zone Exists takes no values"]),
        ("unparsable term: DoesNotExist with values", required(json!([term(&[expr("zone", "DoesNotExist", &["a"])])])), json!({}), false,
            &["zone DoesNotExist takes no values"]),
        ("unparsable term: Gt \"abc\"", required(json!([term(&[expr("cores", "Gt", &["abc"])])])), json!({"cores": "8"}), false,
            &["cores Gt value \"abc\" is not an integer"]),
        ("unparsable term: Gt with two values", required(json!([term(&[expr("cores", "Gt", &["1", "2"])])])), json!({"cores": "8"}), false,
            &["cores Gt needs exactly one value, has [1, 2]"]),
        ("unparsable term: Lt with no value", required(json!([term(&[expr("cores", "Lt", &[])])])), json!({"cores": "8"}), false,
            &["cores Lt needs exactly one value"]),
        ("unparsable term: invalid label value", required(json!([term(&[expr("zone", "In", &["-a-"])])])), json!({"zone": "-a-"}), false,
            &["value \"-a-\" is not a valid label value"]),
        ("unparsable term: label value too long", required(json!([term(&[expr("zone", "In", &["a".repeat(64).as_str()])])])), json!({"zone": "a".repeat(64)}), false,
            &["is not a valid label value: must be at most 63 characters"]),
        ("unparsable term: unknown operator", required(json!([term(&[expr("zone", "Like", &["a"])])])), json!({"zone": "a"}), false,
            &["zone \"Like\": operator is not supported"]),
        ("unparsable term: invalid label key", required(json!([term(&[expr("bad key", "Exists", &[])])])), json!({"bad key": ""}), false,
            &["key \"bad key\" is not a valid label key"]),
        ("unparsable term: uppercase key prefix", required(json!([term(&[expr("Example.com/zone", "Exists", &[])])])), json!({"Example.com/zone": "a"}), false,
            &["is not a DNS-1123 subdomain"]),
        ("unparsable term: empty key prefix", required(json!([term(&[expr("/zone", "Exists", &[])])])), json!({"/zone": "a"}), false,
            &["prefix before '/' must be non-empty"]),
        ("unparsable term: two slashes in key", required(json!([term(&[expr("a/b/c", "Exists", &[])])])), json!({"a/b/c": "a"}), false,
            &["at most one '/'"]),
        ("unparsable term: one bad expression spoils the term", required(json!([term(&[expr("zone", "In", &["a"]), expr("cores", "Gt", &["abc"])])])), json!({"zone": "a", "cores": "8"}), false,
            &["term does not parse"]),
        ("unparsable term is harmless when ORed with a matching term", required(json!([term(&[expr("zone", "In", &[])]), zone_a])), json!({"zone": "a"}), true, &[]),
        ("unparsable Gt is harmless when ORed with a matching term", required(json!([term(&[expr("cores", "Gt", &["1", "2"])]), zone_a])), json!({"zone": "a"}), true, &[]),
        ("unknown operator is harmless when ORed with a matching term", required(json!([term(&[expr("zone", "Like", &["a"])]), zone_a])), json!({"zone": "a"}), true, &[]),
        ("prefixed key is valid", required(json!([term(&[expr("topology.kubernetes.io/zone", "In", &["a"])])])), json!({"topology.kubernetes.io/zone": "a"}), true, &[]),
    ];
    run(cases);
}

#[test]
fn operator_rules() {
    let one = |key: &str, op: &str, values: &[&str]| required(json!([term(&[expr(key, op, values)])]));
    #[rustfmt::skip]
    let cases: Vec<(&str, PodSpec, Value, bool, &[&str])> = vec![
        ("NotIn on a missing key is true", one("zone", "NotIn", &["a"]), json!({}), true, &[]),
        ("NotIn on another value is true", one("zone", "NotIn", &["a"]), json!({"zone": "b"}), true, &[]),
        ("NotIn on a listed value is false", one("zone", "NotIn", &["a", "b"]), json!({"zone": "a"}), false,
            &["zone NotIn [a, b]: value \"a\" is in [a, b]"]),
        ("DoesNotExist on a missing key is true", one("gpu", "DoesNotExist", &[]), json!({}), true, &[]),
        ("DoesNotExist on a present key is false", one("gpu", "DoesNotExist", &[]), json!({"gpu": ""}), false,
            &["gpu DoesNotExist: label present with value \"\""]),
        ("Exists on an empty-valued label is true", one("gpu", "Exists", &[]), json!({"gpu": ""}), true, &[]),
        ("Gt on a missing label is false", one("cores", "Gt", &["4"]), json!({}), false,
            &["cores Gt 4: label missing"]),
        ("Lt on a missing label is false", one("cores", "Lt", &["4"]), json!({}), false,
            &["cores Lt 4: label missing"]),
        ("Gt on a non-integer node label is false", one("cores", "Gt", &["4"]), json!({"cores": "abc"}), false,
            &["node label value \"abc\" is not an integer"]),
        ("Lt on a non-integer node label is false", one("cores", "Lt", &["4"]), json!({"cores": "4.5"}), false,
            &["node label value \"4.5\" is not an integer"]),
        ("Gt is strict", one("cores", "Gt", &["4"]), json!({"cores": "4"}), false,
            &["value 4 is not greater than 4"]),
        ("Gt holds", one("cores", "Gt", &["4"]), json!({"cores": "5"}), true, &[]),
        ("Lt is strict", one("cores", "Lt", &["4"]), json!({"cores": "4"}), false,
            &["value 4 is not less than 4"]),
        ("Lt holds", one("cores", "Lt", &["4"]), json!({"cores": "3"}), true, &[]),
        ("Gt value \"007\" parses as 7 (8 > 7)", one("cores", "Gt", &["007"]), json!({"cores": "8"}), true, &[]),
        ("Gt value \"007\" parses as 7 (7 is not > 7)", one("cores", "Gt", &["007"]), json!({"cores": "7"}), false,
            &["value 7 is not greater than 7"]),
        ("node label \"007\" parses as 7", one("cores", "Lt", &["8"]), json!({"cores": "007"}), true, &[]),
        ("Gt value \"+5\" fails label-value validation", one("cores", "Gt", &["+5"]), json!({"cores": "8"}), false,
            &["term does not parse", "value \"+5\" is not a valid label value"]),
        ("Lt value \"-5\" fails label-value validation", one("cores", "Lt", &["-5"]), json!({"cores": "-9"}), false,
            &["term does not parse", "value \"-5\" is not a valid label value"]),
        ("Gt value out of int64 range", one("cores", "Gt", &["9223372036854775808"]), json!({"cores": "1"}), false,
            &["is not an integer"]),
        ("Gt compares as signed 64-bit integers, not strings", one("cores", "Gt", &["9"]), json!({"cores": "10"}), true, &[]),
    ];
    run(cases);
}

#[test]
fn match_fields_rules() {
    let f = |key: &str, op: &str, values: &[&str]| required(json!([fields(&[expr(key, op, values)])]));
    #[rustfmt::skip]
    let cases: Vec<(&str, PodSpec, Value, bool, &[&str])> = vec![
        ("matchFields metadata.name In this node", f("metadata.name", "In", &["node-a"]), json!({}), true, &[]),
        ("matchFields metadata.name In another node", f("metadata.name", "In", &["node-b"]), json!({}), false,
            &["node affinity term 1: metadata.name In [node-b]: node name is \"node-a\""]),
        ("matchFields metadata.name NotIn another node", f("metadata.name", "NotIn", &["node-b"]), json!({}), true, &[]),
        ("matchFields metadata.name NotIn this node", f("metadata.name", "NotIn", &["node-a"]), json!({}), false,
            &["metadata.name NotIn [node-a]: node name is \"node-a\""]),
        ("matchFields with two values does not parse", f("metadata.name", "In", &["node-a", "node-b"]), json!({}), false,
            &["term does not parse", "metadata.name In needs exactly one value, has [node-a, node-b]"]),
        ("matchFields with no value does not parse", f("metadata.name", "NotIn", &[]), json!({}), false,
            &["needs exactly one value"]),
        ("matchFields Exists does not parse", f("metadata.name", "Exists", &[]), json!({}), false,
            &["only In and NotIn are supported"]),
        ("matchFields other key In never matches", f("metadata.uid", "In", &["node-a"]), json!({}), false,
            &["metadata.uid is not a node field"]),
        ("matchFields other key NotIn always matches", f("metadata.uid", "NotIn", &["node-a"]), json!({}), true, &[]),
        ("matchFields other key In [\"\"] matches: it reads as \"\"", f("metadata.uid", "In", &[""]), json!({}), true, &[]),
        ("matchFields is not a label lookup", f("metadata.name", "In", &["x"]), json!({"metadata.name": "x"}), false,
            &["node name is \"node-a\""]),
    ];
    run(cases);
}

#[test]
fn match_fields_skipped_for_a_node_without_name() {
    let s = required(json!([fields(&[expr("metadata.name", "In", &["node-b"])])]));
    let nameless: Node = serde_json::from_value(json!({"metadata": {}})).unwrap();
    assert!(match_required_node_affinity(&s, &nameless).matches);
}

#[test]
fn failing_term_beside_a_matching_one_is_a_check_not_a_reason() {
    let s = required(json!([
        term(&[expr("zone", "In", &["x"])]),
        term(&[expr("zone", "In", &["a"])])
    ]));
    let result = match_required_node_affinity(&s, &node("node-a", json!({"zone": "a"})));
    assert!(result.matches);
    assert!(result.reasons.is_empty());
    let failed: Vec<&Check> = result.checks.iter().filter(|c| !c.passed).collect();
    assert_eq!(failed.len(), 1, "{result:#?}");
    assert!(
        failed[0].message.contains("term 2 matches"),
        "{}",
        failed[0].message
    );
    assert!(
        result
            .checks
            .iter()
            .any(|c| c.passed && c.message == "node affinity term 2 matches: zone In [a]")
    );
}

#[test]
fn label_key_and_value_validation() {
    let keys = [
        ("zone", true),
        ("a", true),
        ("kubernetes.io/hostname", true),
        ("example.com/a_b.c-d", true),
        ("my-prefix/Name", true),
        (&"a".repeat(63), true),
        (&"a".repeat(64), false),
        ("", false),
        ("-zone", false),
        ("zone-", false),
        ("zo ne", false),
        ("/zone", false),
        ("example.com/", false),
        ("Example.com/zone", false),
        ("example..com/zone", false),
        ("a/b/c", false),
        (&format!("{}/x", "a".repeat(254)), false),
    ];
    for (key, ok) in keys {
        assert_eq!(validate_label_key(key).is_ok(), ok, "key {key:?}");
    }
    let values = [
        ("", true),
        ("x", true),
        ("007", true),
        ("a.b_c-d", true),
        ("+5", false),
        ("-5", false),
        ("a-", false),
        ("a b", false),
        (&"v".repeat(63), true),
        (&"v".repeat(64), false),
    ];
    for (value, ok) in values {
        assert_eq!(validate_label_value(value).is_ok(), ok, "value {value:?}");
    }
}
