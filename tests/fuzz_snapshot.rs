//! Hostile input for the offline snapshot loader: arbitrary bytes, and JSON/YAML that is well
//! formed but strange (deep nesting, huge numbers, wrong types, unicode, duplicate keys). The
//! loader must answer every input with a snapshot or an error, never a panic or a hang.
//!
//! CI runs proptest's default number of cases; set PROPTEST_CASES for a long run.

mod fuzz_support;

use fuzz_support::{arb_json, config, to_yaml, within_deadline};
use kubectl_ds::snapshot::load_str;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Loads text, on a watchdog; returns whether it loaded.
fn load(text: String) -> bool {
    within_deadline(move || load_str(&text, "fuzz input").is_ok())
}

/// A kind the loader keeps or skips, or something else.
fn arb_kind() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "Node", "DaemonSet", "Pod", "ControllerRevision", "Event", "List", "NodeList",
            "DaemonSetList", "PodList", "ConfigMap", "", "node", "Nodé",
        ])
        .prop_map(|k| json!(k)),
        1 => arb_json(1),
    ]
}

/// An object with a plausible kind and apiVersion, and anything in its other fields.
fn arb_object() -> impl Strategy<Value = Value> {
    (
        arb_kind(),
        prop::sample::select(vec!["v1", "apps/v1", "events.k8s.io/v1", "", "v2"]),
        arb_json(3),
        arb_json(3),
        arb_json(3),
        any::<bool>(),
    )
        .prop_map(|(kind, api, metadata, spec, status, named)| {
            let mut object = json!({"kind": kind, "apiVersion": api, "spec": spec, "status": status});
            object["metadata"] = if named {
                json!({"name": "n", "namespace": "ns", "labels": metadata})
            } else {
                metadata
            };
            object
        })
}

/// A list of objects, as `kubectl get -o json` writes, or a bare object.
fn arb_document() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(arb_object(), 0..6)
            .prop_map(|items| json!({"kind": "List", "apiVersion": "v1", "items": items})),
        arb_object(),
        arb_json(4),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        load(String::from_utf8_lossy(&bytes).into_owned());
    }

    #[test]
    fn arbitrary_text(text in ".{0,512}") {
        load(text);
    }

    #[test]
    fn text_that_looks_like_json_or_yaml(text in r#"[-{}\[\]":,\n #&*!|>'0-9a-zA-Z.eE+]{0,400}"#) {
        load(text);
    }

    #[test]
    fn documents_as_json(doc in arb_document(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) };
        load(text.unwrap());
    }

    #[test]
    fn documents_as_yaml(docs in prop::collection::vec(arb_document(), 1..4), flow in any::<bool>()) {
        // A leading comment makes the loader read YAML; JSON is flow-style YAML.
        let text: Vec<String> = docs
            .iter()
            .map(|d| if flow { serde_json::to_string(d).unwrap() } else { to_yaml(d) })
            .collect();
        load(format!("# fuzz\n{}", text.join("\n---\n")));
    }

    #[test]
    fn duplicate_keys(kinds in prop::collection::vec(prop::sample::select(vec!["Node", "Pod", "DaemonSet", "List"]), 2..5),
                      yaml in any::<bool>()) {
        let text = if yaml {
            let mut t = String::new();
            for k in &kinds {
                t.push_str(&format!("kind: {k}\nmetadata:\n  name: a\n  name: b\nitems: []\n"));
            }
            t
        } else {
            let fields: Vec<String> = kinds.iter().map(|k| format!(r#""kind":"{k}","metadata":{{"name":"a","name":"b"}},"items":[]"#)).collect();
            format!("{{{}}}", fields.join(","))
        };
        load(text);
    }

    #[test]
    fn deep_nesting(depth in 1usize..20_000, style in 0u8..6) {
        let text = match style {
            0 => format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
            1 => format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)),
            2 => format!(r#"{{"kind":"Node","metadata":{{"name":"n"}},"spec":{}null{}}}"#, r#"{"a":"#.repeat(depth), "}".repeat(depth)),
            3 => format!("# yaml\n{}1", "- ".repeat(depth)),
            4 => format!("# yaml\n{}{}", "[".repeat(depth), "]".repeat(depth)),
            _ => {
                let mut t = String::from("kind: Node\nmetadata:\n  name: n\nspec:\n");
                for i in 0..depth.min(2000) {
                    t.push_str(&" ".repeat(2 * (i + 1)));
                    t.push_str("a:\n");
                }
                t
            }
        };
        load(text);
    }

    #[test]
    fn strange_numbers_where_numbers_belong(n in prop::sample::select(vec![
        "1e309", "-1e309", "-0", "0.0", "99999999999999999999", "-99999999999999999999", "1.5",
        "18446744073709551616", "9223372036854775808", "-9223372036854775809", "1e-400", "NaN",
        "\"1\"", "true", "null", "[]", "{}",
    ]), field in prop::sample::select(vec![
        "/spec/revisionHistoryLimit", "/spec/minReadySeconds", "/metadata/generation",
        "/status/desiredNumberScheduled", "/status/observedGeneration",
        "/spec/template/spec/terminationGracePeriodSeconds",
        "/spec/template/spec/tolerations/0/tolerationSeconds",
        "/spec/updateStrategy/rollingUpdate/maxUnavailable",
    ]), yaml in any::<bool>()) {
        let mut ds = json!({
            "kind": "DaemonSet", "apiVersion": "apps/v1",
            "metadata": {"name": "d", "namespace": "ns", "generation": 1},
            "spec": {"selector": {"matchLabels": {"app": "d"}}, "revisionHistoryLimit": 1, "minReadySeconds": 0,
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                     "template": {"metadata": {"labels": {"app": "d"}},
                                  "spec": {"containers": [{"name": "c"}], "terminationGracePeriodSeconds": 1,
                                           "tolerations": [{"operator": "Exists", "tolerationSeconds": 1}]}}},
            "status": {"desiredNumberScheduled": 1, "observedGeneration": 1,
                       "currentNumberScheduled": 1, "numberMisscheduled": 0, "numberReady": 1}
        });
        *ds.pointer_mut(field).unwrap() = json!("@@NUMBER@@");
        let node = json!({"kind": "Node", "apiVersion": "v1", "metadata": {"name": "n"}});
        let list = json!({"kind": "List", "apiVersion": "v1", "items": [node, ds]});
        let text = serde_json::to_string(&list).unwrap().replace("\"@@NUMBER@@\"", n);
        load(if yaml { format!("# yaml\n{text}") } else { text });
    }
}

#[test]
fn a_valid_snapshot_still_loads() {
    // The generators above would pass against a loader that rejects everything; this one must load.
    let text = r#"{"kind":"List","apiVersion":"v1","items":[{"kind":"Node","apiVersion":"v1","metadata":{"name":"n"}}]}"#;
    assert!(load(text.to_string()));
    assert!(load(format!("# yaml\n{text}")));
    assert!(load(
        "kind: Node\napiVersion: v1\nmetadata:\n  name: n\n".to_string()
    ));
}
