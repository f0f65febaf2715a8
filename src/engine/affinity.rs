//! `spec.nodeSelector` and required node affinity against a node's labels and name (semantics §3.1–3.3).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodSpec};
use serde::Serialize;

use super::eligibility::Check;
use super::{Reason, Rule};

/// Whether a node satisfies a pod's nodeSelector and required node affinity, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AffinityResult {
    pub matches: bool,
    /// Why it did not match; empty when it matches.
    pub reasons: Vec<Reason>,
    /// One line per nodeSelector entry and per affinity term, pass or fail.
    pub checks: Vec<Check>,
}

type Labels = BTreeMap<String, String>;

// mirrors GetRequiredNodeAffinity(pod).Match(node) (component-helpers nodeaffinity)
//
// Its error is ignored, as the DaemonSet controller does. Upstream stops at a failing nodeSelector;
// this evaluates the affinity terms anyway so that every reason is reported. The verdict is the same.
pub fn match_required_node_affinity(spec: &PodSpec, node: &Node) -> AffinityResult {
    let empty = Labels::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let mut result = match_node_selector_map(spec.node_selector.as_ref(), labels);
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref());
    match required {
        Some(selector) => {
            let terms = match_node_selector(selector, node);
            result.matches &= terms.matches;
            result.reasons.extend(terms.reasons);
            result.checks.extend(terms.checks);
        }
        None => result
            .checks
            .push(Check::pass(Rule::NodeAffinity, "no required node affinity")),
    }
    result
}

/// `spec.nodeSelector`: one Equals requirement per entry, unvalidated; `""` must exist with the empty value.
fn match_node_selector_map(selector: Option<&Labels>, labels: &Labels) -> AffinityResult {
    let mut result = AffinityResult {
        matches: true,
        reasons: Vec::new(),
        checks: Vec::new(),
    };
    let Some(selector) = selector.filter(|s| !s.is_empty()) else {
        result
            .checks
            .push(Check::pass(Rule::NodeSelector, "no nodeSelector"));
        return result;
    };
    for (key, want) in selector {
        let entry = format!("nodeSelector {key}={}", show_value(want));
        match labels.get(key) {
            Some(have) if have == want => {
                result.checks.push(Check::pass(
                    Rule::NodeSelector,
                    format!("{entry}: node has {key}={}", show_value(have)),
                ));
            }
            found => {
                let message = match found {
                    Some(have) => format!("{entry}: node has {key}={}", show_value(have)),
                    None => format!("{entry}: node has no label {key}"),
                };
                result.matches = false;
                result
                    .checks
                    .push(Check::fail(Rule::NodeSelector, message.clone()));
                result.reasons.push(Reason::new(Rule::NodeSelector, message));
            }
        }
    }
    result
}

// mirrors LazyErrorNodeSelector.Match (component-helpers nodeaffinity), errors ignored
//
// Terms are ORed; a term with neither matchExpressions nor matchFields is dropped; a term that
// does not parse never matches.
pub fn match_node_selector(selector: &NodeSelector, node: &Node) -> AffinityResult {
    let empty = Labels::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let name = node.metadata.name.as_deref().unwrap_or("");

    if selector.node_selector_terms.is_empty() {
        let message = "node affinity has no nodeSelectorTerms (matches nothing)";
        return AffinityResult {
            matches: false,
            reasons: vec![Reason::new(Rule::NodeAffinity, message)],
            checks: vec![Check::fail(Rule::NodeAffinity, message)],
        };
    }

    let outcomes: Vec<TermOutcome> = selector
        .node_selector_terms
        .iter()
        .map(|term| evaluate_term(term, labels, name))
        .collect();
    let matched = outcomes.iter().position(|o| matches!(o, TermOutcome::Matches(_)));

    let mut result = AffinityResult {
        matches: matched.is_some(),
        reasons: Vec::new(),
        checks: Vec::new(),
    };
    for (i, outcome) in outcomes.into_iter().enumerate() {
        let n = i + 1;
        let message = match outcome {
            TermOutcome::Matches(detail) => {
                result.checks.push(Check::pass(
                    Rule::NodeAffinity,
                    format!("node affinity term {n} matches: {detail}"),
                ));
                continue;
            }
            TermOutcome::Empty => format!("node affinity term {n} is empty (matches nothing)"),
            TermOutcome::Unparsable(errors) => format!(
                "node affinity term {n}: term does not parse: {} (a term that does not parse never matches)",
                errors.join("; ")
            ),
            TermOutcome::Fails(failures) => format!("node affinity term {n}: {}", failures.join("; ")),
        };
        match matched {
            // terms are ORed, so a failing term next to a matching one is not a reason
            Some(m) => result.checks.push(Check::fail(
                Rule::NodeAffinity,
                format!("{message} (terms are ORed; term {} matches)", m + 1),
            )),
            None => {
                result
                    .checks
                    .push(Check::fail(Rule::NodeAffinity, message.clone()));
                result.reasons.push(Reason::new(Rule::NodeAffinity, message));
            }
        }
    }
    result
}

enum TermOutcome {
    /// Every requirement holds; the requirements, described.
    Matches(String),
    /// Neither matchExpressions nor matchFields: dropped upstream.
    Empty,
    /// At least one requirement does not parse.
    Unparsable(Vec<String>),
    /// Parsed, and these requirements do not hold.
    Fails(Vec<String>),
}

// mirrors nodeSelectorTerm.match (component-helpers scheduling/corev1/nodeaffinity)
fn evaluate_term(term: &NodeSelectorTerm, labels: &Labels, node_name: &str) -> TermOutcome {
    let expressions = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if expressions.is_empty() && fields.is_empty() {
        return TermOutcome::Empty;
    }

    let mut parsed_labels = Vec::new();
    let mut parsed_fields = Vec::new();
    let mut errors = Vec::new();
    for requirement in expressions {
        match parse_label_requirement(requirement) {
            Ok(r) => parsed_labels.push(r),
            Err(e) => errors.extend(e),
        }
    }
    for requirement in fields {
        match parse_field_requirement(requirement) {
            Ok(r) => parsed_fields.push(r),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return TermOutcome::Unparsable(errors);
    }

    let mut failures = Vec::new();
    let mut held = Vec::new();
    for r in &parsed_labels {
        match r.check(labels) {
            Ok(()) => held.push(r.describe()),
            Err(why) => failures.push(format!("{}: {why}", r.describe())),
        }
    }
    // upstream skips the field check for a node without a name (never the case for real nodes)
    if !node_name.is_empty() {
        for r in &parsed_fields {
            match r.check(node_name) {
                Ok(()) => held.push(r.describe()),
                Err(why) => failures.push(format!("{}: {why}", r.describe())),
            }
        }
    }
    if failures.is_empty() {
        TermOutcome::Matches(held.join("; "))
    } else {
        TermOutcome::Fails(failures)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LabelOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

impl LabelOp {
    fn parse(op: &str) -> Option<Self> {
        Some(match op {
            "In" => LabelOp::In,
            "NotIn" => LabelOp::NotIn,
            "Exists" => LabelOp::Exists,
            "DoesNotExist" => LabelOp::DoesNotExist,
            "Gt" => LabelOp::Gt,
            "Lt" => LabelOp::Lt,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            LabelOp::In => "In",
            LabelOp::NotIn => "NotIn",
            LabelOp::Exists => "Exists",
            LabelOp::DoesNotExist => "DoesNotExist",
            LabelOp::Gt => "Gt",
            LabelOp::Lt => "Lt",
        }
    }
}

struct LabelRequirement<'a> {
    key: &'a str,
    op: LabelOp,
    values: &'a [String],
    /// The parsed value of a Gt/Lt requirement.
    bound: i64,
}

// mirrors labels.NewRequirement (apimachinery pkg/labels) via nodeSelectorRequirementsAsSelector
fn parse_label_requirement(r: &NodeSelectorRequirement) -> Result<LabelRequirement<'_>, Vec<String>> {
    let values = r.values.as_deref().unwrap_or(&[]);
    let key = r.key.as_str();
    let Some(op) = LabelOp::parse(&r.operator) else {
        return Err(vec![format!("{key} {:?}: operator is not supported", r.operator)]);
    };
    let mut errors = Vec::new();
    if let Err(why) = validate_label_key(key) {
        errors.push(format!("key {key:?} is not a valid label key: {why}"));
    }
    let mut bound = 0;
    match op {
        LabelOp::In | LabelOp::NotIn if values.is_empty() => {
            errors.push(format!("{key} {} needs at least one value", op.name()));
        }
        LabelOp::Exists | LabelOp::DoesNotExist if !values.is_empty() => {
            errors.push(format!(
                "{key} {} takes no values, has {}",
                op.name(),
                show_values(values)
            ));
        }
        LabelOp::Gt | LabelOp::Lt => {
            if values.len() != 1 {
                errors.push(format!(
                    "{key} {} needs exactly one value, has {}",
                    op.name(),
                    show_values(values)
                ));
            }
            for v in values {
                match v.parse::<i64>() {
                    Ok(n) => bound = n,
                    Err(_) => errors.push(format!("{key} {} value {v:?} is not an integer", op.name())),
                }
            }
        }
        _ => {}
    }
    for v in values {
        if let Err(why) = validate_label_value(v) {
            errors.push(format!(
                "{key} {} value {v:?} is not a valid label value: {why}",
                op.name()
            ));
        }
    }
    if errors.is_empty() {
        Ok(LabelRequirement {
            key,
            op,
            values,
            bound,
        })
    } else {
        Err(errors)
    }
}

impl LabelRequirement<'_> {
    fn describe(&self) -> String {
        match self.op {
            LabelOp::Exists | LabelOp::DoesNotExist => format!("{} {}", self.key, self.op.name()),
            LabelOp::Gt | LabelOp::Lt => format!("{} {} {}", self.key, self.op.name(), self.bound),
            LabelOp::In | LabelOp::NotIn => {
                format!("{} {} {}", self.key, self.op.name(), show_values(self.values))
            }
        }
    }

    // mirrors Requirement.Matches (apimachinery pkg/labels)
    fn check(&self, labels: &Labels) -> Result<(), String> {
        let have = labels.get(self.key);
        let listed = |v: &String| self.values.contains(v);
        match (self.op, have) {
            (LabelOp::In, None) | (LabelOp::Exists, None) | (LabelOp::Gt | LabelOp::Lt, None) => {
                Err("label missing".to_string())
            }
            (LabelOp::In, Some(v)) if !listed(v) => {
                Err(format!("value {v:?} not in {}", show_values(self.values)))
            }
            (LabelOp::NotIn, Some(v)) if listed(v) => {
                Err(format!("value {v:?} is in {}", show_values(self.values)))
            }
            (LabelOp::DoesNotExist, Some(v)) => Err(format!("label present with value {v:?}")),
            (LabelOp::Gt | LabelOp::Lt, Some(v)) => {
                // same accept/reject set as Go's strconv.ParseInt(v, 10, 64)
                let Ok(n) = v.parse::<i64>() else {
                    return Err(format!("node label value {v:?} is not an integer"));
                };
                match self.op {
                    LabelOp::Gt if n <= self.bound => {
                        Err(format!("value {n} is not greater than {}", self.bound))
                    }
                    LabelOp::Lt if n >= self.bound => {
                        Err(format!("value {n} is not less than {}", self.bound))
                    }
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

const NODE_NAME_FIELD: &str = "metadata.name";

struct FieldRequirement<'a> {
    key: &'a str,
    equal: bool,
    value: &'a str,
}

// mirrors nodeSelectorRequirementsAsFieldSelector (component-helpers scheduling/corev1/nodeaffinity)
fn parse_field_requirement(r: &NodeSelectorRequirement) -> Result<FieldRequirement<'_>, String> {
    let values = r.values.as_deref().unwrap_or(&[]);
    let equal = match r.operator.as_str() {
        "In" => true,
        "NotIn" => false,
        other => {
            return Err(format!(
                "matchFields {} {other:?}: only In and NotIn are supported",
                r.key
            ));
        }
    };
    match values {
        [value] => Ok(FieldRequirement {
            key: &r.key,
            equal,
            value,
        }),
        _ => Err(format!(
            "matchFields {} {} needs exactly one value, has {}",
            r.key,
            r.operator,
            show_values(values)
        )),
    }
}

impl FieldRequirement<'_> {
    fn describe(&self) -> String {
        let op = if self.equal { "In" } else { "NotIn" };
        format!("{} {op} [{}]", self.key, show_value(self.value))
    }

    fn check(&self, node_name: &str) -> Result<(), String> {
        // a node's only field is metadata.name; any other key reads as ""
        let have = if self.key == NODE_NAME_FIELD {
            node_name
        } else {
            ""
        };
        if (have == self.value) == self.equal {
            return Ok(());
        }
        if self.key == NODE_NAME_FIELD {
            Err(format!("node name is {have:?}"))
        } else {
            Err(format!(
                "{} is not a node field (only {NODE_NAME_FIELD} is), so it reads as \"\"",
                self.key
            ))
        }
    }
}

fn show_value(v: &str) -> String {
    if v.is_empty() {
        "\"\"".to_string()
    } else {
        v.to_string()
    }
}

fn show_values(values: &[String]) -> String {
    let shown: Vec<String> = values.iter().map(|v| show_value(v)).collect();
    format!("[{}]", shown.join(", "))
}

/// A label key (`IsQualifiedName`): an optional DNS-1123 subdomain prefix and `/`, then a name.
fn validate_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split('/').collect::<Vec<_>>()[..] {
        [name] => (None, name),
        [prefix, name] => (Some(prefix), name),
        _ => return Err("at most one '/' is allowed".to_string()),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err("the prefix before '/' must be non-empty".to_string());
        }
        if !is_dns1123_subdomain(prefix) {
            return Err(format!("prefix {prefix:?} is not a DNS-1123 subdomain"));
        }
    }
    if name.is_empty() {
        return Err("the name part must be non-empty".to_string());
    }
    if name.len() > 63 {
        return Err("the name part must be at most 63 characters".to_string());
    }
    if !is_label_token(name) {
        return Err(
            "the name part must be alphanumeric at both ends, with '-', '_' or '.' inside".to_string(),
        );
    }
    Ok(())
}

/// A label value (`IsValidLabelValue`): empty, or at most 63 characters, alphanumeric at both ends.
fn validate_label_value(value: &str) -> Result<(), String> {
    if value.len() > 63 {
        return Err("must be at most 63 characters".to_string());
    }
    if !value.is_empty() && !is_label_token(value) {
        return Err("must be alphanumeric at both ends, with '-', '_' or '.' inside".to_string());
    }
    Ok(())
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, non-empty.
fn is_label_token(s: &str) -> bool {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// At most 253 characters of dot-separated lowercase alphanumeric labels with `-` inside.
fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|part| {
            let bytes = part.as_bytes();
            match (bytes.first(), bytes.last()) {
                (Some(first), Some(last)) => {
                    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
                    alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
                }
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
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
}
