//! Should a DaemonSet have a pod on a node? The controller's own answer (semantics §1), with every
//! rule it evaluated spelled out.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, PodSpec, Taint, Toleration};
use serde::Serialize;

use super::affinity::match_required_node_affinity;
use super::tolerations::{
    MergeOutcome, NO_EXECUTE, NO_SCHEDULE, describe_taint, describe_toleration, find_untolerated_taint,
    merge_daemon_pod_tolerations, near_misses, tolerating,
};
use super::{Reason, Rule};

/// One rule evaluated for one node, pass or fail. `passed` is about this line alone: a failing
/// affinity term next to a matching one is a failed check but not a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub rule: Rule,
    pub passed: bool,
    pub message: String,
}

impl Check {
    pub fn pass(rule: Rule, message: impl Into<String>) -> Self {
        Check {
            rule,
            passed: true,
            message: message.into(),
        }
    }

    pub fn fail(rule: Rule, message: impl Into<String>) -> Self {
        Check {
            rule,
            passed: false,
            message: message.into(),
        }
    }
}

/// The controller's verdict for one node and DaemonSet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eligibility {
    /// The node counts toward `desiredNumberScheduled` and gets a pod.
    pub should_run: bool,
    /// A pod already there is kept (false means the controller deletes it).
    pub should_continue_running: bool,
    /// Every rule that says no; empty exactly when both booleans are true.
    pub reasons: Vec<Reason>,
    /// Every rule evaluated, pass or fail, in evaluation order.
    pub checks: Vec<Check>,
}

// mirrors NodeShouldRunDaemonPod (pkg/controller/daemon)
//
// Upstream returns at the first failing rule; this evaluates all of them so that every reason is
// reported. The booleans follow upstream's order exactly.
pub fn node_should_run_daemon_pod(node: &Node, ds: &DaemonSet) -> Eligibility {
    let empty = PodSpec::default();
    let spec = ds
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .unwrap_or(&empty);
    let node_name = node.metadata.name.as_deref().unwrap_or("");

    let mut reasons = Vec::new();
    let mut checks = Vec::new();

    // NewPod overwrites spec.nodeName with the node, so the template's value is the only one that matters
    let fits_node_name = match spec.node_name.as_deref().unwrap_or("") {
        "" => {
            checks.push(Check::pass(Rule::NodeName, "template has no nodeName"));
            true
        }
        wanted if wanted == node_name => {
            checks.push(Check::pass(
                Rule::NodeName,
                format!("template nodeName is this node ({node_name})"),
            ));
            true
        }
        wanted => {
            let message = format!("template nodeName is {wanted}, not this node ({node_name})");
            checks.push(Check::fail(Rule::NodeName, message.clone()));
            reasons.push(Reason::new(Rule::NodeName, message));
            false
        }
    };

    let affinity = match_required_node_affinity(spec, node);
    reasons.extend(affinity.reasons);
    checks.extend(affinity.checks);

    let merged = merge_daemon_pod_tolerations(
        spec.tolerations.as_deref().unwrap_or(&[]),
        spec.host_network.unwrap_or(false),
    );
    for default in &merged.defaults {
        let described = describe_toleration(&default.toleration);
        let message = match &default.outcome {
            MergeOutcome::Appended => format!("controller adds toleration {described}"),
            MergeOutcome::AlreadyPresent => format!("toleration {described} is already in the template"),
            MergeOutcome::Replaced(old) => {
                let old: Vec<String> = old.iter().map(describe_toleration).collect();
                format!(
                    "controller replaces toleration {} with {described}",
                    old.join(", ")
                )
            }
        };
        checks.push(Check::pass(Rule::Taint, message));
    }

    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[]);
    let defaults: Vec<&Toleration> = merged.defaults.iter().map(|d| &d.toleration).collect();
    if taints.is_empty() {
        checks.push(Check::pass(Rule::Taint, "node has no taints"));
    }
    // An untolerated NoExecute taint decides the outcome (the pod goes), so its reason comes
    // before the NoSchedule ones: the first reason is the one tables show.
    let mut no_schedule_reasons = Vec::new();
    for taint in taints {
        let check = explain_taint(taint, &merged.tolerations, &defaults);
        if !check.passed {
            let reason = Reason::new(Rule::Taint, check.message.clone());
            if taint.effect == NO_EXECUTE {
                reasons.push(reason);
            } else {
                no_schedule_reasons.push(reason);
            }
        }
        checks.push(check);
    }
    reasons.append(&mut no_schedule_reasons);

    let fits_taints =
        find_untolerated_taint(taints, &merged.tolerations, &[NO_SCHEDULE, NO_EXECUTE]).is_none();
    let (should_run, should_continue_running) = if !fits_node_name || !affinity.matches {
        (false, false)
    } else if !fits_taints {
        let untolerated_no_execute =
            find_untolerated_taint(taints, &merged.tolerations, &[NO_EXECUTE]).is_some();
        (false, !untolerated_no_execute)
    } else {
        (true, true)
    };

    Eligibility {
        should_run,
        should_continue_running,
        reasons,
        checks,
    }
}

fn explain_taint(taint: &Taint, tolerations: &[Toleration], defaults: &[&Toleration]) -> Check {
    let described = describe_taint(taint);
    let consequence = match taint.effect.as_str() {
        NO_SCHEDULE => "no new pod is placed here",
        NO_EXECUTE => "pods are removed",
        _ => {
            return Check::pass(
                Rule::Taint,
                format!(
                    "taint {described} is ignored (the DaemonSet controller only considers NoSchedule and NoExecute)"
                ),
            );
        }
    };
    if let Some(toleration) = tolerating(tolerations, taint) {
        let origin = if defaults.contains(&toleration) {
            ", a controller default"
        } else {
            ""
        };
        return Check::pass(
            Rule::Taint,
            format!(
                "taint {described} is tolerated by {}{origin}",
                describe_toleration(toleration)
            ),
        );
    }
    let misses = near_misses(tolerations, taint);
    let closest = match misses.as_slice() {
        [] => format!("no toleration for key {}", taint.key),
        [(t, why)] => format!("closest toleration: {}, {why}", describe_toleration(t)),
        _ => {
            let listed: Vec<String> = misses
                .iter()
                .map(|(t, why)| format!("{}, {why}", describe_toleration(t)))
                .collect();
            format!("closest tolerations: {}", listed.join("; "))
        }
    };
    Check::fail(
        Rule::Taint,
        format!("taint {described} is not tolerated ({closest}); {consequence}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn node(name: &str, labels: Value, taints: Value) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints},
        }))
        .unwrap()
    }

    fn plain_node(name: &str) -> Node {
        node(name, json!({}), json!([]))
    }

    fn tainted(taints: Value) -> Node {
        node("node-a", json!({}), taints)
    }

    fn taint(key: &str, value: &str, effect: &str) -> Value {
        json!({"key": key, "value": value, "effect": effect})
    }

    fn ds(pod_spec: Value) -> DaemonSet {
        let mut spec = pod_spec;
        spec["containers"] = json!([{"name": "agent", "image": "agent:1"}]);
        serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "kube-system"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec},
            },
        }))
        .unwrap()
    }

    /// (rule, node, DaemonSet, shouldRun, shouldContinueRunning, (rule, text) every reason list must hold)
    type Case<'a> = (&'a str, Node, DaemonSet, bool, bool, &'a [(Rule, &'a str)]);

    fn run(cases: Vec<Case>) {
        for (rule, node, ds, run, keep, needles) in cases {
            let e = node_should_run_daemon_pod(&node, &ds);
            assert_eq!(
                (e.should_run, e.should_continue_running),
                (run, keep),
                "{rule}: {e:#?}"
            );
            assert_eq!(
                e.reasons.is_empty(),
                run && keep,
                "{rule}: reasons empty iff (true,true): {e:#?}"
            );
            for (want_rule, needle) in needles {
                assert!(
                    e.reasons
                        .iter()
                        .any(|r| r.rule == *want_rule && r.message.contains(needle)),
                    "{rule}: expected a {want_rule:?} reason containing {needle:?} in {:#?}",
                    e.reasons
                );
            }
            // every reason is also a failed check
            for r in &e.reasons {
                assert!(
                    e.checks
                        .iter()
                        .any(|c| !c.passed && c.rule == r.rule && c.message == r.message),
                    "{rule}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn template_node_name_rules() {
        let pinned = || ds(json!({"nodeName": "node-a"}));
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("template nodeName: the named node", plain_node("node-a"), pinned(), true, true, &[]),
            ("template nodeName: another node", plain_node("node-b"), pinned(), false, false,
                &[(Rule::NodeName, "template nodeName is node-a, not this node (node-b)")]),
            ("template nodeName: another node that is also tainted reports both", node("node-b", json!({}), json!([taint("x", "", "NoSchedule")])), pinned(), false, false,
                &[(Rule::NodeName, "node-a"), (Rule::Taint, "x:NoSchedule")]),
            ("template nodeName: the named node still honours taints", tainted(json!([taint("x", "", "NoExecute")])), pinned(), false, false,
                &[(Rule::Taint, "taint x:NoExecute is not tolerated")]),
            ("no template nodeName", plain_node("node-b"), ds(json!({})), true, true, &[]),
        ];
        run(cases);
    }

    #[test]
    fn template_node_name_nonexistent_gives_desired_zero() {
        let pinned = ds(json!({"nodeName": "gone"}));
        let nodes = [plain_node("node-a"), plain_node("node-b"), plain_node("node-c")];
        let desired = nodes
            .iter()
            .filter(|n| node_should_run_daemon_pod(n, &pinned).should_run)
            .count();
        assert_eq!(desired, 0);
    }

    #[test]
    fn node_selector_and_affinity_rules() {
        let zone_a_affinity = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}});
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("nodeSelector empty value requires the label with an empty value", node("node-a", json!({"edge": ""}), json!([])), ds(json!({"nodeSelector": {"edge": ""}})), true, true, &[]),
            ("nodeSelector empty value: label missing", plain_node("node-a"), ds(json!({"nodeSelector": {"edge": ""}})), false, false,
                &[(Rule::NodeSelector, "node has no label edge")]),
            ("failing nodeSelector with matching affinity", node("node-a", json!({"zone": "a"}), json!([])), ds(json!({"nodeSelector": {"gpu": "true"}, "affinity": zone_a_affinity})), false, false,
                &[(Rule::NodeSelector, "nodeSelector gpu=true: node has no label gpu")]),
            ("failing affinity gives (false,false) even on a tainted node", node("node-a", json!({"zone": "b"}), json!([taint("x", "", "NoSchedule")])), ds(json!({"affinity": zone_a_affinity})), false, false,
                &[(Rule::NodeAffinity, "node affinity term 1: zone In [a]: value \"b\" not in [a]"), (Rule::Taint, "x:NoSchedule")]),
            ("matching affinity", node("node-a", json!({"zone": "a"}), json!([])), ds(json!({"affinity": zone_a_affinity})), true, true, &[]),
            ("all-empty terms match nothing", plain_node("node-a"), ds(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}}}})), false, false,
                &[(Rule::NodeAffinity, "term 1 is empty (matches nothing)")]),
            ("the metadata.name term is not injected for the evaluation", plain_node("node-a"), ds(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-b"]}]}]}}}})), false, false,
                &[(Rule::NodeAffinity, "metadata.name In [node-b]")]),
            ("preferred affinity is not required", plain_node("node-a"), ds(json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}]}}})), true, true, &[]),
        ];
        run(cases);
    }

    #[test]
    fn taint_outcome_rules() {
        let tolerate = |key: &str, effect: &str| {
            ds(json!({"tolerations": [{"key": key, "operator": "Exists", "effect": effect}]}))
        };
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("untolerated NoSchedule keeps existing pods", tainted(json!([taint("dedicated", "db", "NoSchedule")])), ds(json!({})), false, true,
                &[(Rule::Taint, "taint dedicated=db:NoSchedule is not tolerated (no toleration for key dedicated); no new pod is placed here")]),
            ("untolerated NoExecute removes pods", tainted(json!([taint("dedicated", "", "NoExecute")])), ds(json!({})), false, false,
                &[(Rule::Taint, "taint dedicated:NoExecute is not tolerated (no toleration for key dedicated); pods are removed")]),
            ("PreferNoSchedule is ignored", tainted(json!([taint("soft", "", "PreferNoSchedule")])), ds(json!({})), true, true, &[]),
            ("NoSchedule plus a tolerated NoExecute", tainted(json!([taint("a", "", "NoSchedule"), taint("b", "", "NoExecute")])), tolerate("b", "NoExecute"), false, true,
                &[(Rule::Taint, "a:NoSchedule")]),
            ("untolerated NoSchedule and NoExecute", tainted(json!([taint("a", "", "NoSchedule"), taint("b", "", "NoExecute")])), ds(json!({})), false, false,
                &[(Rule::Taint, "a:NoSchedule"), (Rule::Taint, "b:NoExecute")]),
            ("tolerated NoSchedule", tainted(json!([taint("a", "", "NoSchedule")])), tolerate("a", "NoSchedule"), true, true, &[]),
            ("closest toleration: value differs", tainted(json!([taint("dedicated", "db", "NoSchedule")])),
                ds(json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}]})), false, true,
                &[(Rule::Taint, "taint dedicated=db:NoSchedule is not tolerated (closest toleration: dedicated=web:NoSchedule, value differs)")]),
            ("closest toleration: effect differs", tainted(json!([taint("dedicated", "", "NoExecute")])), tolerate("dedicated", "NoSchedule"), false, false,
                &[(Rule::Taint, "closest toleration: dedicated:NoSchedule (Exists), effect differs); pods are removed")]),
            ("closest toleration: Gt with the gate off", tainted(json!([taint("cores", "8", "NoSchedule")])),
                ds(json!({"tolerations": [{"key": "cores", "operator": "Gt", "value": "4", "effect": "NoSchedule"}]})), false, true,
                &[(Rule::Taint, "operator Gt is ignored (feature gate TaintTolerationComparisonOperators is off)")]),
            ("empty-key Exists toleration tolerates everything", tainted(json!([taint("a", "1", "NoSchedule"), taint("b", "", "NoExecute")])),
                ds(json!({"tolerations": [{"operator": "Exists"}]})), true, true, &[]),
        ];
        run(cases);
    }

    #[test]
    fn untolerated_no_execute_taint_is_the_first_reason() {
        // The NoSchedule taint comes first on the node, but the NoExecute one removes the pod.
        let node = tainted(json!([
            taint("dedicated", "db", "NoSchedule"),
            taint("maintenance", "now", "NoExecute")
        ]));
        let e = node_should_run_daemon_pod(&node, &ds(json!({})));
        assert_eq!((e.should_run, e.should_continue_running), (false, false));
        let messages: Vec<&str> = e.reasons.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("taint maintenance=now:NoExecute is not tolerated")
                && messages[0].ends_with("pods are removed"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("taint dedicated=db:NoSchedule is not tolerated"),
            "{messages:?}"
        );
        // The checks keep the node's order.
        let taint_checks: Vec<&str> = messages_of_failed(&e);
        assert!(
            taint_checks[0].contains("dedicated=db:NoSchedule"),
            "{taint_checks:?}"
        );
    }

    fn messages_of_failed(e: &Eligibility) -> Vec<&str> {
        e.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.message.as_str())
            .collect()
    }

    #[test]
    fn default_toleration_rules() {
        let host_network = || ds(json!({"hostNetwork": true}));
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("network-unavailable tolerated with hostNetwork", tainted(json!([taint("node.kubernetes.io/network-unavailable", "", "NoSchedule")])), host_network(), true, true, &[]),
            ("network-unavailable not tolerated without hostNetwork", tainted(json!([taint("node.kubernetes.io/network-unavailable", "", "NoSchedule")])), ds(json!({})), false, true,
                &[(Rule::Taint, "node.kubernetes.io/network-unavailable:NoSchedule is not tolerated")]),
            ("not-ready:NoExecute tolerated by default", tainted(json!([taint("node.kubernetes.io/not-ready", "", "NoExecute")])), ds(json!({})), true, true, &[]),
            ("unreachable:NoExecute tolerated by default", tainted(json!([taint("node.kubernetes.io/unreachable", "", "NoExecute")])), ds(json!({})), true, true, &[]),
            ("pressure taints tolerated by default", tainted(json!([
                taint("node.kubernetes.io/disk-pressure", "", "NoSchedule"),
                taint("node.kubernetes.io/memory-pressure", "", "NoSchedule"),
                taint("node.kubernetes.io/pid-pressure", "", "NoSchedule")])), ds(json!({})), true, true, &[]),
            ("not-ready:NoSchedule is not tolerated", tainted(json!([taint("node.kubernetes.io/not-ready", "", "NoSchedule")])), ds(json!({})), false, true,
                &[(Rule::Taint, "closest toleration: node.kubernetes.io/not-ready:NoExecute (Exists), effect differs")]),
            ("unreachable:NoSchedule is not tolerated", tainted(json!([taint("node.kubernetes.io/unreachable", "", "NoSchedule")])), ds(json!({})), false, true,
                &[(Rule::Taint, "node.kubernetes.io/unreachable:NoSchedule is not tolerated")]),
            ("NotReady node (both not-ready taints) keeps its pods", tainted(json!([
                taint("node.kubernetes.io/not-ready", "", "NoSchedule"),
                taint("node.kubernetes.io/not-ready", "", "NoExecute")])), ds(json!({})), false, true,
                &[(Rule::Taint, "not-ready:NoSchedule")]),
            ("out-of-service:NoExecute is not tolerated", tainted(json!([taint("node.kubernetes.io/out-of-service", "nodeshutdown", "NoExecute")])), ds(json!({})), false, false,
                &[(Rule::Taint, "taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute is not tolerated")]),
            ("cordoned node", {
                let mut n = tainted(json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]));
                if let Some(s) = n.spec.as_mut() { s.unschedulable = Some(true); }
                n
            }, ds(json!({})), true, true, &[]),
            ("user Exists not-ready:NoExecute with tolerationSeconds still tolerates", tainted(json!([taint("node.kubernetes.io/not-ready", "", "NoExecute")])),
                ds(json!({"tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}]})), true, true, &[]),
        ];
        run(cases);
    }

    fn messages(e: &Eligibility, rule: Rule) -> Vec<&str> {
        e.checks
            .iter()
            .filter(|c| c.rule == rule)
            .map(|c| c.message.as_str())
            .collect()
    }

    #[test]
    fn checks_explain_defaults_and_taints() {
        let node = tainted(json!([
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
            taint("soft", "", "PreferNoSchedule"),
            taint("team", "a", "NoSchedule"),
        ]));
        let daemon = ds(json!({"tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
            {"key": "team", "operator": "Equal", "value": "a", "effect": "NoSchedule"},
        ]}));
        let e = node_should_run_daemon_pod(&node, &daemon);
        assert_eq!((e.should_run, e.should_continue_running), (true, true));
        assert!(e.checks.iter().all(|c| c.passed), "{e:#?}");
        assert_eq!(
            messages(&e, Rule::Taint),
            vec![
                "controller replaces toleration node.kubernetes.io/not-ready:NoExecute (Exists, tolerationSeconds=60) with node.kubernetes.io/not-ready:NoExecute (Exists)",
                "toleration node.kubernetes.io/unreachable:NoExecute (Exists) is already in the template",
                "controller adds toleration node.kubernetes.io/disk-pressure:NoSchedule (Exists)",
                "controller adds toleration node.kubernetes.io/memory-pressure:NoSchedule (Exists)",
                "controller adds toleration node.kubernetes.io/pid-pressure:NoSchedule (Exists)",
                "controller adds toleration node.kubernetes.io/unschedulable:NoSchedule (Exists)",
                "taint node.kubernetes.io/unschedulable:NoSchedule is tolerated by node.kubernetes.io/unschedulable:NoSchedule (Exists), a controller default",
                "taint soft:PreferNoSchedule is ignored (the DaemonSet controller only considers NoSchedule and NoExecute)",
                "taint team=a:NoSchedule is tolerated by team=a:NoSchedule",
            ]
        );
        assert_eq!(messages(&e, Rule::NodeName), vec!["template has no nodeName"]);
        assert_eq!(messages(&e, Rule::NodeSelector), vec!["no nodeSelector"]);
        assert_eq!(
            messages(&e, Rule::NodeAffinity),
            vec!["no required node affinity"]
        );
    }

    #[test]
    fn host_network_check_lists_network_unavailable() {
        let e = node_should_run_daemon_pod(&plain_node("node-a"), &ds(json!({"hostNetwork": true})));
        assert!(messages(&e, Rule::Taint).contains(
            &"controller adds toleration node.kubernetes.io/network-unavailable:NoSchedule (Exists)"
        ));
        assert!(messages(&e, Rule::Taint).contains(&"node has no taints"));
    }

    #[test]
    fn daemonset_without_spec_runs_everywhere_untainted() {
        let bare: DaemonSet = serde_json::from_value(json!({"metadata": {"name": "bare"}})).unwrap();
        let e = node_should_run_daemon_pod(&plain_node("node-a"), &bare);
        assert_eq!((e.should_run, e.should_continue_running), (true, true));
    }

    #[test]
    fn eligibility_serializes_for_json_output() {
        let e = node_should_run_daemon_pod(&tainted(json!([taint("gpu", "", "NoSchedule")])), &ds(json!({})));
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["shouldRun"], json!(false));
        assert_eq!(v["shouldContinueRunning"], json!(true));
        assert_eq!(v["reasons"][0]["rule"], json!("taint"));
        assert_eq!(
            v["checks"][0],
            json!({"rule": "node-name", "passed": true, "message": "template has no nodeName"})
        );
    }
}
