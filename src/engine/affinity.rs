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
mod tests;
