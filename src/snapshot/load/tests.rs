use std::fs;
use std::path::{Path, PathBuf};

use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::error::ErrorKind;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/snapshots")
        .join(name)
}

fn load_fixture(name: &str) -> Snapshot {
    match load(&Source::Path(fixture(name))) {
        Ok(snapshot) => snapshot,
        Err(e) => panic!("loading {name}: {e}"),
    }
}

fn load_err(text: &str, origin: &str) -> Error {
    match load_str(text, origin) {
        Ok(s) => panic!("expected an error, loaded {} nodes", s.nodes.len()),
        Err(e) => e,
    }
}

fn names<T: k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>>(
    objects: &[T],
) -> Vec<String> {
    objects
        .iter()
        .map(|o| o.metadata().name.clone().unwrap_or_default())
        .collect()
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

/// The whole snapshot as JSON, to compare two loads.
fn as_json(s: &Snapshot) -> serde_json::Value {
    json!({
        "nodes": s.nodes, "daemonsets": s.daemonsets, "pods": s.pods,
        "revisions": s.revisions, "events": s.events, "taken_at": s.taken_at.map(|t| t.to_string()),
    })
}

const ONE_NODE: &str =
    r#"{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1", "uid": "u1"}}"#;

// --- formats -------------------------------------------------------------------------------

#[test]
fn json_list_keeps_the_five_kinds_and_skips_the_rest() {
    let s = load_fixture("list.json");
    assert_eq!(names(&s.nodes), ["control-plane-1", "worker-1", "worker-2"]);
    assert_eq!(names(&s.daemonsets), ["fluent-bit"]);
    assert_eq!(names(&s.pods), ["fluent-bit-7xkq2", "fluent-bit-m4p9d"]);
    assert_eq!(names(&s.revisions), ["fluent-bit-5d4c8b7f9"]);
    assert_eq!(s.events.len(), 2);
    let owner = &s.pods[0]
        .metadata
        .owner_references
        .as_ref()
        .expect("owner references")[0];
    assert_eq!((owner.kind.as_str(), owner.controller), ("DaemonSet", Some(true)));
    assert_eq!(
        owner.uid,
        s.daemonsets[0].metadata.uid.clone().unwrap_or_default()
    );
    let taints = s.nodes[0]
        .spec
        .as_ref()
        .and_then(|spec| spec.taints.clone())
        .unwrap_or_default();
    assert_eq!(taints[0].key, "node-role.kubernetes.io/control-plane");
    assert_eq!(s.revisions[0].revision, 1);
    assert!(
        s.revisions[0]
            .data
            .as_ref()
            .is_some_and(|d| d.0["spec"]["template"]["$patch"] == "replace")
    );
}

#[test]
fn taken_at_is_the_newest_timestamp_in_the_file() {
    // worker-1's last heartbeat is later than every creation, transition and event.
    assert_eq!(
        load_fixture("list.json").taken_at,
        Some(ts("2025-06-02T10:15:02Z"))
    );
}

#[test]
fn yaml_list_reads_the_same_as_json() {
    let from_json = load_fixture("list.json");
    let from_yaml = load_fixture("list.yaml");
    assert_eq!(as_json(&from_yaml), as_json(&from_json));
}

#[test]
fn multi_document_yaml_reads_every_document() {
    let s = load_fixture("multi.yaml");
    // The NodeList items carry no kind; the list's kind says what they are.
    assert_eq!(names(&s.nodes), ["linux-1", "windows-1"]);
    assert_eq!(names(&s.daemonsets), ["node-exporter"]);
    assert_eq!(names(&s.pods), ["node-exporter-9xk2p"]);
    assert_eq!(names(&s.revisions), ["node-exporter-6b9f7c5d8"]);
    assert_eq!(s.events.len(), 2);
    let windows_taint = s.nodes[1]
        .spec
        .as_ref()
        .and_then(|spec| spec.taints.clone())
        .unwrap_or_default();
    assert_eq!(windows_taint[0].value.as_deref(), Some("windows"));
}

#[test]
fn events_k8s_io_events_are_mapped_onto_core_events() {
    let s = load_fixture("multi.yaml");
    let created = &s.events[0];
    assert_eq!(created.involved_object.kind.as_deref(), Some("DaemonSet"));
    assert_eq!(created.involved_object.name.as_deref(), Some("node-exporter"));
    assert_eq!(
        created.message.as_deref(),
        Some("Created pod: node-exporter-9xk2p")
    );
    assert_eq!(created.reason.as_deref(), Some("SuccessfulCreate"));
    assert_eq!(created.type_.as_deref(), Some("Normal"));
    assert_eq!(created.count, Some(1));
    assert_eq!(
        created.last_timestamp.as_ref().map(|t| t.0),
        Some(ts("2025-07-10T12:00:03Z"))
    );
    assert_eq!(
        created.reporting_component.as_deref(),
        Some("daemonset-controller")
    );
    // A series event: its count and last time come from the series.
    let series = &s.events[1];
    assert_eq!(series.count, Some(3));
    assert_eq!(
        series.last_timestamp.as_ref().map(|t| t.0),
        Some(ts("2025-07-10T12:05:20.113274Z"))
    );
    assert_eq!(s.taken_at, Some(ts("2025-07-10T12:05:20.113274Z")));
}

#[test]
fn event_time_stands_in_for_a_missing_last_timestamp() {
    let text = format!(
        "{ONE_NODE}\n{}",
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
               "eventTime": "2025-01-02T03:04:05.678901Z", "note": "hello", "reason": "Test", "type": "Warning",
               "regarding": {"kind": "Pod", "name": "p", "namespace": "default"}})
    );
    let s = load_str(&text, "events.json").expect("loads");
    assert_eq!(
        s.events[0].last_timestamp.as_ref().map(|t| t.0),
        Some(ts("2025-01-02T03:04:05.678901Z"))
    );
    assert_eq!(s.events[0].involved_object.name.as_deref(), Some("p"));
}

#[test]
fn typed_json_list_gives_its_kind_to_items_without_one() {
    let text = r#"{"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "12"},
                   "items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}"#;
    assert_eq!(
        names(&load_str(text, "nodes.json").expect("loads").nodes),
        ["a", "b"]
    );
}

#[test]
fn list_kind_may_come_after_its_items() {
    // Concatenated outputs; kubectl sorts keys, so `kind` follows `items`.
    let text = r#"{"apiVersion": "v1", "items": [{"metadata": {"name": "a"}}], "kind": "NodeList"}
        {"apiVersion": "apps/v1", "items": [{"metadata": {"name": "ds", "namespace": "x"}}], "kind": "DaemonSetList"}"#;
    let s = load_str(text, "both.json").expect("loads");
    assert_eq!(names(&s.nodes), ["a"]);
    assert_eq!(names(&s.daemonsets), ["ds"]);
}

#[test]
fn a_single_object_and_a_bare_array_are_documents_too() {
    assert_eq!(
        names(&load_str(ONE_NODE, "node.json").expect("object").nodes),
        ["worker-1"]
    );
    let array = format!(
        "[{ONE_NODE}, {{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {{\"name\": \"p\"}}}}]"
    );
    let s = load_str(&array, "array.json").expect("array");
    assert_eq!((s.nodes.len(), s.pods.len()), (1, 1));
}

#[test]
fn a_typed_list_with_null_items_is_empty() {
    let text = format!("{ONE_NODE}\n{{\"kind\": \"PodList\", \"apiVersion\": \"v1\", \"items\": null}}");
    assert!(load_str(&text, "pods.json").expect("loads").pods.is_empty());
}

#[test]
fn a_list_without_items_is_empty() {
    let text = format!("{ONE_NODE}\n{{\"kind\": \"PodList\", \"apiVersion\": \"v1\"}}");
    let s = load_str(&text, "pods.json").expect("loads");
    assert!(s.pods.is_empty());
}

#[test]
fn kinds_of_other_groups_are_skipped() {
    let text = format!(
        "{ONE_NODE}\n{}\n{}",
        json!({"apiVersion": "extensions/v1beta1", "kind": "DaemonSet", "metadata": {"name": "old"}}),
        json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Node", "metadata": {"name": "not-a-node"}, "spec": 3}),
    );
    let s = load_str(&text, "mixed.json").expect("loads");
    assert_eq!(names(&s.nodes), ["worker-1"]);
    assert!(s.daemonsets.is_empty());
}

#[test]
fn a_repeated_object_keeps_the_last_copy() {
    let text = r#"
apiVersion: v1
kind: Node
metadata: {name: worker-1, labels: {copy: first}}
---
apiVersion: v1
kind: Node
metadata: {name: worker-2}
---
apiVersion: v1
kind: Node
metadata: {name: worker-1, labels: {copy: second}}
"#;
    let s = load_str(text, "nodes.yaml").expect("loads");
    assert_eq!(names(&s.nodes), ["worker-2", "worker-1"]);
    let labels = s.nodes[1].metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("copy").map(String::as_str), Some("second"));
}

#[test]
fn a_number_where_kubernetes_wants_text_is_read_as_text() {
    // Hand-written YAML often leaves quantities unquoted; the API server accepts them.
    let text = "apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\n  labels:\n    rack: 12\n    gpu: true\n\
                status:\n  allocatable:\n    cpu: 2\n    memory: 1024\n";
    let s = load_str(text, "node.yaml").expect("loads");
    let allocatable = s.nodes[0]
        .status
        .as_ref()
        .and_then(|st| st.allocatable.clone())
        .unwrap_or_default();
    assert_eq!(allocatable.get("cpu").map(|q| q.0.as_str()), Some("2"));
    assert_eq!(allocatable.get("memory").map(|q| q.0.as_str()), Some("1024"));
    let labels = s.nodes[0].metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("rack").map(String::as_str), Some("12"));
    assert_eq!(labels.get("gpu").map(String::as_str), Some("true"));
}

#[test]
fn no_timestamps_means_no_taken_at() {
    assert_eq!(load_str(ONE_NODE, "node.json").expect("loads").taken_at, None);
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let text = format!("\u{feff}{ONE_NODE}");
    assert_eq!(load_str(&text, "bom.json").expect("loads").nodes.len(), 1);
}

fn objects_json(o: &Objects) -> serde_json::Value {
    json!({"snapshot": as_json(&o.snapshot), "skipped": o.skipped})
}

#[test]
fn the_fast_and_the_detailed_pass_read_the_same() {
    let inline = [
        ONE_NODE.to_owned(),
        format!("[{ONE_NODE}]"),
        r#"{"apiVersion": "v1", "items": [{"metadata": {"name": "a"}}], "kind": "NodeList"}"#.to_owned(),
        r#"{"kind": "List", "items": [{"metadata": {"name": "a"}, "kind": "Node"}], "apiVersion": "v1"}"#.to_owned(),
        // Go's typed order: kind first, then apiVersion.
        r#"{"kind": "List", "items": [{"kind": "DaemonSet", "apiVersion": "extensions/v1beta1", "metadata": {}}]}"#
            .to_owned(),
        r#"{"kind": "List", "items": [{"metadata": {}, "kind": "Secret", "data": {"a": "b"}}]}"#.to_owned(),
    ];
    for text in &inline {
        let fast = json_documents::<false>(text).expect("fast pass");
        let detailed = json_documents::<true>(text).expect("detailed pass");
        assert_eq!(objects_json(&fast), objects_json(&detailed), "{text}");
        // JSON is YAML too: the YAML reader must agree.
        let fast_yaml = yaml_documents::<false>(text.as_bytes()).expect("fast YAML pass");
        let detailed_yaml = yaml_documents::<true>(text.as_bytes()).expect("detailed YAML pass");
        assert_eq!(objects_json(&fast_yaml[0]), objects_json(&fast), "{text}");
        assert_eq!(objects_json(&detailed_yaml[0]), objects_json(&fast), "{text}");
    }
    for name in ["list.json", "list.yaml", "multi.yaml"] {
        let text = fs::read_to_string(fixture(name)).expect("fixture");
        let (fast, detailed) = if name.ends_with(".json") {
            (
                json_documents::<false>(&text).expect("fast"),
                json_documents::<true>(&text).expect("detailed"),
            )
        } else {
            let merge = |docs: Vec<Objects>| {
                docs.into_iter().fold(Objects::default(), |mut all, d| {
                    all.append(d);
                    all
                })
            };
            (
                merge(yaml_documents::<false>(text.as_bytes()).expect("fast")),
                merge(yaml_documents::<true>(text.as_bytes()).expect("detailed")),
            )
        };
        assert_eq!(objects_json(&fast), objects_json(&detailed), "{name}");
        assert!(fast.kept() > 0);
    }
}

#[test]
fn the_detailed_pass_catches_an_apiversion_that_comes_late() {
    // The fast pass takes the item for an apps/v1 DaemonSet, typing fails, the detailed pass skips it.
    let text = format!(
        r#"{ONE_NODE}
        {{"kind": "List", "items": [{{"kind": "DaemonSet", "metadata": {{"name": "old"}}, "apiVersion": "extensions/v1beta1"}}]}}"#
    );
    assert!(json_documents::<false>(&text).is_err());
    let s = load_str(&text, "late.json").expect("loads");
    assert!(s.daemonsets.is_empty());
}

// --- folders ---------------------------------------------------------------------------------

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create folder");
    }
    fs::write(path, text).expect("write file");
}

fn typed_list(kind: &str, api_version: &str, items: serde_json::Value) -> String {
    // What `kubectl cluster-info dump` writes: typed lists whose items carry no kind.
    serde_json::to_string_pretty(&json!({"kind": kind, "apiVersion": api_version,
        "metadata": {"resourceVersion": "4711"}, "items": items}))
    .expect("json")
}

#[test]
fn cluster_info_dump_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ds_uid = "6f1c3a52-8e0b-4d7a-9b61-2f4e5a7c9d10";
    write(
        d,
        "nodes.json",
        &typed_list(
            "NodeList",
            "v1",
            json!([
                {"metadata": {"name": "worker-1", "uid": "n1", "creationTimestamp": "2025-01-01T00:00:00Z"}},
                {"metadata": {"name": "worker-2", "uid": "n2"}, "status": {"conditions": [
                    {"type": "Ready", "status": "True", "lastHeartbeatTime": "2025-01-05T10:00:00Z",
                     "lastTransitionTime": "2025-01-01T00:00:00Z"}]}},
            ]),
        ),
    );
    write(
        d,
        "kube-system/daemonsets.json",
        &typed_list(
            "DaemonSetList",
            "apps/v1",
            json!([
                {"metadata": {"name": "fluent-bit", "namespace": "kube-system", "uid": ds_uid},
                 "spec": {"selector": {"matchLabels": {"app": "fluent-bit"}},
                          "template": {"metadata": {"labels": {"app": "fluent-bit"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}},
            ]),
        ),
    );
    write(
        d,
        "kube-system/pods.json",
        &typed_list(
            "PodList",
            "v1",
            json!([
                {"metadata": {"name": "fluent-bit-abcde", "namespace": "kube-system",
                              "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "fluent-bit", "uid": ds_uid, "controller": true}]},
                 "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "image": "i"}]}},
            ]),
        ),
    );
    write(
        d,
        "kube-system/events.json",
        &typed_list(
            "EventList",
            "v1",
            json!([
                {"metadata": {"name": "fluent-bit.1", "namespace": "kube-system"}, "involvedObject": {"kind": "DaemonSet", "name": "fluent-bit"},
                 "reason": "SuccessfulCreate", "lastTimestamp": "2025-01-05T09:00:00Z"},
            ]),
        ),
    );
    write(
        d,
        "kube-system/controllerrevisions.json",
        &typed_list(
            "ControllerRevisionList",
            "apps/v1",
            json!([
                {"metadata": {"name": "fluent-bit-5d4c8b7f9", "namespace": "kube-system"}, "revision": 1},
            ]),
        ),
    );
    write(
        d,
        "default/events.json",
        &typed_list("EventList", "v1", json!(null)),
    );
    // Files the loader must not even parse.
    write(d, "kube-system/replicasets.json", "not json at all {");
    write(d, "kube-system/services.json", "{");
    write(
        d,
        "kube-system/fluent-bit-abcde/logs.txt",
        "==== START logs for container c ====\n",
    );

    let s = load(&Source::Path(d.to_path_buf())).expect("loads the dump");
    assert_eq!(names(&s.nodes), ["worker-1", "worker-2"]);
    assert_eq!(names(&s.daemonsets), ["fluent-bit"]);
    assert_eq!(names(&s.pods), ["fluent-bit-abcde"]);
    assert_eq!(names(&s.revisions), ["fluent-bit-5d4c8b7f9"]);
    assert_eq!(names(&s.events), ["fluent-bit.1"]);
    assert_eq!(s.taken_at, Some(ts("2025-01-05T10:00:00Z")));
}

#[test]
fn a_folder_of_json_and_yaml_files_is_read_as_one_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The same cluster twice, in two formats: each object is kept once.
    fs::copy(fixture("list.json"), d.join("cluster.json")).expect("copy");
    fs::copy(fixture("list.yaml"), d.join("cluster.yml")).expect("copy");
    write(d, "README.md", "# not a snapshot");
    write(d, ".hidden.json", "{");
    let s = load(&Source::Path(d.to_path_buf())).expect("loads");
    assert_eq!(as_json(&s), as_json(&load_fixture("list.json")));
}

#[test]
fn a_folder_without_snapshot_files_says_what_it_expected() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "notes.txt", "hello");
    let e = load(&Source::Path(dir.path().to_path_buf())).expect_err("no files");
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(e.message.contains(&dir.path().display().to_string()), "{e}");
    assert!(e.message.contains("has no snapshot files"), "{e}");
    assert!(e.message.contains("cluster-info dump"), "{e}");
}

#[test]
fn a_bad_file_in_a_folder_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "nodes.json",
        "{\n  \"kind\": \"NodeList\",\n  \"items\": [\n}\n",
    );
    let e = load(&Source::Path(dir.path().to_path_buf())).expect_err("bad file");
    let file = dir.path().join("nodes.json").display().to_string();
    assert!(e.message.starts_with(&format!("{file}, line 4 column 1")), "{e}");
}

// --- errors ----------------------------------------------------------------------------------

#[test]
fn json_syntax_error_names_file_line_and_column() {
    let text = "{\n  \"kind\": \"List\",\n  \"items\": [\n    {\"kind\": \"Node\",, }\n  ]\n}\n";
    let e = load_err(text, "snap.json");
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(
        e.message
            .starts_with("snap.json, line 4 column 21: not valid JSON"),
        "{e}"
    );
    assert!(
        e.hint
            .as_deref()
            .is_some_and(|h| h.contains("kubectl get nodes,ds,pods,controllerrevisions,events -A -o json"))
    );
}

#[test]
fn truncated_json_says_it_looks_truncated() {
    let text = "{\"kind\": \"List\", \"items\": [\n  {\"kind\": \"Node\", \"metadata\": {\"name\": \"a\"";
    let e = load_err(text, "snap.json");
    assert!(e.message.starts_with("snap.json, line 2 column"), "{e}");
    assert!(e.message.contains("truncated"), "{e}");
}

#[test]
fn json_item_of_the_wrong_shape_names_index_kind_name_and_field() {
    let text = r#"{"kind": "List", "apiVersion": "v1", "items": [
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"}},
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-2"},
   "spec": {"taints": [{"key": "gpu", "effect": ["NoSchedule"]}]}}
]}"#;
    let e = load_err(text, "snap.json");
    assert!(e.message.starts_with("snap.json, line 4 column"), "{e}");
    assert!(
        e.message
            .contains(r#"items[1] (Node "worker-2") is not a valid Node"#),
        "{e}"
    );
    assert!(e.message.contains("field `spec.taints[0].effect`"), "{e}");
    assert!(
        e.message.contains("invalid type: sequence, expected a string"),
        "{e}"
    );
}

#[test]
fn a_single_object_of_the_wrong_shape_is_named() {
    let text = r#"{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds", "namespace": "kube-system"},
                   "spec": {"selector": "app=x"}}"#;
    let e = load_err(text, "ds.json");
    assert!(
        e.message
            .contains(r#"the object (DaemonSet "kube-system/ds") is not a valid DaemonSet"#),
        "{e}"
    );
    assert!(e.message.contains("field `spec.selector`"), "{e}");
}

#[test]
fn yaml_syntax_error_names_file_line_and_column() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- kind: Node\n  metadata: {name: a\n";
    let e = load_err(text, "snap.yaml");
    assert_eq!(e.kind, ErrorKind::InvalidInput);

    assert!(e.message.starts_with("snap.yaml, line "), "{e}");
    assert!(e.message.contains(" column "), "{e}");
    assert!(!e.message.contains('\n'), "one paragraph: {e}");
}

#[test]
fn yaml_item_of_the_wrong_shape_names_index_kind_name_field_and_line() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n    namespace: ns\n  spec:\n    containers: 7\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: a\n";
    let e = load_err(text, "snap.yaml");
    assert!(e.message.starts_with("snap.yaml, line "), "{e}");
    assert!(
        e.message.contains(r#"items[0] (Pod "ns/p") is not a valid Pod"#),
        "{e}"
    );

    assert!(e.message.contains("field `spec.containers`"), "{e}");
}

#[test]
fn an_item_without_a_kind_in_a_generic_list_is_an_error() {
    let e = load_err(
        r#"{"kind": "List", "items": [{"metadata": {"name": "a"}}]}"#,
        "snap.json",
    );
    assert!(e.message.contains("items[0] has no `kind`"), "{e}");
    let e = load_err(r#"[{"metadata": {"name": "a"}}]"#, "snap.json");
    assert!(e.message.contains("items[0] has no `kind`"), "{e}");
}

#[test]
fn an_item_that_is_not_an_object_is_an_error() {
    let e = load_err(r#"{"kind": "List", "items": [42]}"#, "snap.json");
    assert!(
        e.message
            .contains("invalid type: integer `42`, expected items[0] to be a Kubernetes object"),
        "{e}"
    );
}

#[test]
fn a_yaml_scalar_is_not_a_snapshot() {
    let e = load_err("hello world\n", "notes.yaml");
    assert!(e.message.starts_with("notes.yaml"), "{e}");
    assert!(
        e.message.contains("expected a Kubernetes object or a List"),
        "{e}"
    );
}

#[test]
fn an_empty_file_is_named_empty() {
    for text in ["", "  \n\t\n"] {
        let e = load_err(text, "snap.json");
        assert_eq!(e.message, "snap.json is empty");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("kubectl get")));
    }
}

#[test]
fn a_yaml_file_of_comments_has_no_documents() {
    let e = load_err("# nothing here\n---\n", "snap.yaml");
    assert!(e.message.contains("snap.yaml has no YAML documents"), "{e}");
}

#[test]
fn a_snapshot_without_nodes_says_what_it_has() {
    let text = r#"{"kind": "List", "apiVersion": "v1", "items": [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}]}"#;
    let e = load_err(text, "snap.json");
    assert_eq!(
        e.message,
        "snap.json has no Node objects (it has 1 DaemonSet, 2 other objects (ConfigMap, Service))"
    );
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("needs the nodes")));
}

#[test]
fn an_empty_list_holds_no_objects() {
    let e = load_err(
        r#"{"kind": "List", "apiVersion": "v1", "items": []}"#,
        "snap.json",
    );
    assert_eq!(e.message, "snap.json holds no Kubernetes objects");
}

#[test]
fn a_missing_file_is_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing.json");
    let e = load(&Source::Path(path.clone())).expect_err("missing");
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.message, format!("snapshot {} does not exist", path.display()));
}

#[test]
fn a_gzip_file_asks_to_decompress_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("snap.json.gz");
    fs::write(&path, [0x1f, 0x8b, 0x08, 0x00, 0x00]).expect("write");
    let e = load(&Source::Path(path.clone())).expect_err("gzip");
    assert_eq!(e.message, format!("{} is gzip-compressed", path.display()));
}

#[test]
fn binary_input_is_not_utf8() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("snap.json");
    fs::write(&path, b"{\"kind\": \"\xff\"}").expect("write");
    let e = load(&Source::Path(path.clone())).expect_err("binary");
    assert!(
        e.message
            .contains("is not UTF-8 text (invalid byte at offset 10)"),
        "{e}"
    );
}

#[test]
fn deeply_nested_input_is_an_error_not_a_crash() {
    let deep = "[".repeat(100_000);
    assert!(
        load_err(&deep, "deep.json")
            .message
            .starts_with("deep.json, line 1 column")
    );
    let deep_item = format!(
        r#"{{"kind": "List", "items": [{{"kind": "Node", "metadata": {}}}]}}"#,
        "[".repeat(50_000)
    );
    assert!(
        load_err(&deep_item, "deep.json")
            .message
            .contains("recursion limit")
    );
    let deep_yaml = format!("a: {}", "[".repeat(100_000));
    assert!(load_err(&deep_yaml, "deep.yaml").message.starts_with("deep.yaml"));
    let deep_block = (0..500)
        .map(|i| format!("{}- x:\n", "  ".repeat(i)))
        .collect::<String>();
    assert!(
        load_err(&deep_block, "deep.yaml")
            .message
            .starts_with("deep.yaml")
    );
}

#[test]
fn parse_source_reads_dash_as_stdin() {
    assert_eq!(parse_source("-"), Source::Stdin);
    assert_eq!(
        parse_source("snap.json"),
        Source::Path(PathBuf::from("snap.json"))
    );
    assert_eq!(Source::Stdin.to_string(), "standard input");
}

// --- reading only what a command needs (the fast reader, `walk`) ------------------------------

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snapshot.json")
}

/// Every need a command can have on this snapshot, plus names that are not there.
fn needs_of(s: &Snapshot) -> Vec<Need> {
    let mut needs: Vec<Need> = names(&s.nodes).into_iter().map(Need::Node).collect();
    needs.push(Need::Everything);
    needs.push(Need::Node("no-such-node".into()));
    for ds in &s.daemonsets {
        let name = ds.metadata.name.clone().unwrap_or_default();
        needs.push(Need::DaemonSet {
            namespace: ds.metadata.namespace.clone(),
            name: name.clone(),
        });
        needs.push(Need::DaemonSet {
            namespace: None,
            name,
        });
    }
    needs.push(Need::DaemonSet {
        namespace: Some("elsewhere".into()),
        name: names(&s.daemonsets)[0].clone(),
    });
    needs
}

/// The thorough reading of `text`, trimmed to `need`: what the fast path must give.
fn thorough(text: &str, need: &Need) -> Snapshot {
    let mut s = load_str(text, "test").expect("loads");
    need.retain(&mut s);
    s
}

fn fast(text: &str, need: &Need) -> Option<Snapshot> {
    fast_bytes(text.as_bytes(), need)
}

fn fast_bytes(bytes: &[u8], need: &Need) -> Option<Snapshot> {
    walk::load(&[&bytes::Bytes::Read(bytes.to_vec())], need, "test")
}

#[test]
fn the_fast_path_keeps_what_the_thorough_reading_keeps() {
    for path in [example(), fixture("list.json")] {
        let text = fs::read_to_string(&path).expect("fixture");
        let full = load_str(&text, "test").expect("loads");
        for need in needs_of(&full) {
            let want = as_json(&thorough(&text, &need));
            let got = fast(&text, &need)
                .unwrap_or_else(|| panic!("{}: the fast path gave up on {need:?}", path.display()));
            assert_eq!(as_json(&got), want, "{}, {need:?}", path.display());
            let from_file = load_for(&Source::Path(path.clone()), &need).expect("loads");
            assert_eq!(as_json(&from_file), want, "{}, {need:?}", path.display());
        }
    }
}

#[test]
fn why_not_keeps_the_pods_bound_to_or_aimed_at_the_node() {
    let need = Need::Node("gpu-node-2".into());
    let s = load_for(&Source::Path(example()), &need).expect("loads");
    assert_eq!(s.nodes.len(), 6, "every node, for suggestions");
    assert_eq!(s.daemonsets.len(), 4);
    assert!(!s.pods.is_empty());
    assert!(
        s.pods
            .iter()
            .all(|p| crate::engine::pods::target_node(p) == Some("gpu-node-2"))
    );
    // Still dated by everything in the file, also what was passed over.
    assert_eq!(
        s.taken_at,
        load(&Source::Path(example())).expect("loads").taken_at
    );
}

#[test]
fn status_keeps_the_daemonsets_pods_and_the_neighbours_of_its_pending_ones() {
    let full = load(&Source::Path(example())).expect("loads");
    let need = Need::DaemonSet {
        namespace: Some("gpu-operator".into()),
        name: "nvidia-device-plugin".into(),
    };
    let s = load_for(&Source::Path(example()), &need).expect("loads");
    let uid = full.daemonsets[0].metadata.uid.clone();
    let (own, neighbours): (Vec<_>, Vec<_>) = s
        .pods
        .iter()
        .partition(|p| crate::engine::verdict::controller_uid(p).map(str::to_owned) == uid && uid.is_some());
    assert!(
        own.iter().any(|p| !crate::engine::pods::is_bound(p)),
        "a pending pod"
    );
    assert!(!neighbours.is_empty(), "the pods next to which it must fit");
    assert!(s.pods.len() < full.pods.len());
}

/// A List as kubectl writes it, with managedFields, events of both APIs and a pod of another node.
fn big_list() -> String {
    let managed = json!([{"manager": "kwok", "operation": "Update", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:status": {"f:conditions": {}}}}]);
    let owner = json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "ds-1",
        "controller": true}]);
    let pod = |name: &str, node: &str| {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns", "ownerReferences": owner, "managedFields": managed,
                "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
                "lastTransitionTime": format!("2025-01-0{}T00:00:00Z", if node == "n2" { 3 } else { 2 })}]}})
    };
    let items = json!([
        {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n1", "labels": {"zone": "日本"}, "managedFields": managed}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": "ns", "uid": "ds-1", "managedFields": managed},
            "spec": {"selector": {}, "template": {}}},
        pod("agent-a", "n1"),
        pod("agent-b", "n2"),
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "odd", "namespace": "ns"},
            "spec": {"nodeName": "n2", "containers": "not a list"}},
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "ns"},
            "reason": "FailedCreate", "involvedObject": {"kind": "DaemonSet", "name": "agent"},
            "lastTimestamp": "2025-01-01T00:00:00Z"},
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e2", "namespace": "ns"},
            "reason": "SuccessfulCreate", "involvedObject": {"kind": "DaemonSet", "name": "agent"},
            "lastTimestamp": "2025-01-04T00:00:00Z"},
        {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e3", "namespace": "ns"},
            "reason": "Scheduled", "regarding": {"kind": "Pod", "name": "agent-a"},
            "eventTime": "2025-01-05T00:00:00.000000Z", "reportingController": "s", "reportingInstance": "s",
            "action": "Binding"},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": "ns"}},
    ]);
    serde_json::to_string_pretty(&json!({"apiVersion": "v1", "kind": "List", "items": items})).expect("json")
}

#[test]
fn the_fast_path_drops_managed_fields_and_unused_events_but_dates_by_them() {
    let text = big_list();
    let need = Need::Node("n1".into());
    let s = fast(&text, &need).expect("fast path");
    assert_eq!(names(&s.pods), ["agent-a"]);
    assert_eq!(names(&s.events), ["e1"]);
    assert!(s.nodes[0].metadata.managed_fields.is_none());
    assert!(s.daemonsets[0].metadata.managed_fields.is_none());
    assert!(s.pods[0].metadata.managed_fields.is_none());
    assert_eq!(s.taken_at, Some(ts("2025-01-05T00:00:00Z")));
}

#[test]
fn a_pod_the_command_does_not_use_is_not_typed() {
    // The thorough reading stops at the pod `odd`; `why-not n1` never looks at it.
    let text = big_list();
    assert!(load_str(&text, "big.json").is_err());
    assert!(fast(&text, &Need::Node("n1".into())).is_some());
    // `why-not n2` needs it: the fast path gives up and the thorough reading words the error.
    assert!(fast(&text, &Need::Node("n2".into())).is_none());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.json");
    fs::write(&path, &text).expect("write");
    let e = load_for(&Source::Path(path), &Need::Node("n2".into())).expect_err("odd pod");
    assert!(e.message.contains("items[5]"), "{}", e.message);
}

#[test]
fn what_the_fast_path_does_not_handle_is_read_the_thorough_way() {
    let pod = |node: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": node, "containers": []}})
    };
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}});
    let list = |items: serde_json::Value| json!({"kind": "List", "items": items}).to_string();
    let cases = [
        // The same pod twice: the last copy counts.
        list(json!([node, pod("n1"), pod("n2")])),
        // Items without a kind, before the list's kind.
        json!({"items": [{"metadata": {"name": "n1"}}], "kind": "NodeList", "apiVersion": "v1"}).to_string(),
        // A single object.
        node.to_string(),
        // YAML.
        "kind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: n1}\n".to_owned(),
    ];
    for text in &cases {
        let need = Need::Node("n1".into());
        assert!(fast(text, &need).is_none(), "{text}");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("snap");
        fs::write(&path, text).expect("write");
        let got = load_for(&Source::Path(path), &need).expect("loads");
        assert_eq!(as_json(&got), as_json(&thorough(text, &need)), "{text}");
    }
}

#[test]
fn the_fast_path_refuses_what_the_thorough_reading_refuses() {
    let text = big_list();
    let need = Need::Node("n1".into());
    let mut bad = text.clone().into_bytes();
    let at = text.find("agent-b").expect("pod");
    bad[at] = 0xff;
    assert!(
        fast_bytes(&bad, &need).is_none(),
        "invalid UTF-8 in a pod passed over"
    );
    let truncated = &text[..text.len() - 10];
    assert!(fast(truncated, &need).is_none());
    assert!(fast(&format!("{text} x"), &need).is_none());
    assert!(fast(&text.replacen("\"items\": [", "\"items\": [,", 1), &need).is_none());
}

#[test]
fn a_folder_is_read_the_fast_way_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = fs::read_to_string(example()).expect("example");
    write(dir.path(), "a/snap.json", &example);
    write(
        dir.path(),
        "b/extra.json",
        &big_list()
            .replace("\"odd\"", "\"odd\", \"labels\": {}")
            .replace("\"containers\": \"not a list\"", "\"containers\": []"),
    );
    let source = Source::Path(dir.path().to_path_buf());
    let full = load(&source).expect("loads");
    for need in needs_of(&full) {
        let mut want = full.clone();
        need.retain(&mut want);
        assert_eq!(
            as_json(&load_for(&source, &need).expect("loads")),
            as_json(&want),
            "{need:?}"
        );
    }
}

/// A pretty-printed list (as kubectl prints one) of `n` nodes, a DaemonSet, and a pod of it on
/// each node; `node` may change a node before it is printed.
fn pretty_list(n: usize, node: impl Fn(usize, &mut serde_json::Value)) -> String {
    let owner = json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "ds-1",
        "controller": true}]);
    let mut items = vec![json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "ns", "uid": "ds-1"},
        "spec": {"selector": {}, "template": {}}})];
    for i in 0..n {
        let mut item = json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": format!("node-{i}"), "labels": {"zone": format!("z{}", i % 3)}}});
        node(i, &mut item);
        items.push(item);
        items.push(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("agent-{i}"), "namespace": "ns", "ownerReferences": owner,
                "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {"nodeName": format!("node-{i}"), "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
                "lastTransitionTime": format!("2025-01-{:02}T00:00:00Z", 1 + i % 28)}]}}));
    }
    serde_json::to_string_pretty(&json!({"apiVersion": "v1", "kind": "List", "items": items})).expect("json")
}

fn pretty_needs() -> Vec<Need> {
    vec![
        Need::Node("node-3".into()),
        Need::Node("node-190".into()),
        Need::DaemonSet {
            namespace: Some("ns".into()),
            name: "agent".into(),
        },
    ]
}

#[test]
fn a_big_file_is_given_back_behind_the_walk_and_reads_the_same() {
    let text = pretty_list(2000, |_, _| {});
    assert!(text.len() > 4 * bytes::PAGE, "{} bytes", text.len());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("snap.json");
    fs::write(&path, &text).expect("write");
    let mapped = bytes::Bytes::open(&path).expect("opens");
    assert!(matches!(mapped, bytes::Bytes::Mapped(_)), "a file is mapped");
    for need in pretty_needs() {
        let want = as_json(&thorough(&text, &need));
        // Released every page: the pods remembered for `status DS` are read again from the file.
        let got = walk::load_releasing(&[&mapped], &need, bytes::PAGE).expect("loads");
        assert_eq!(as_json(&got), want, "{need:?}");
        assert_eq!(
            &mapped[..],
            text.as_bytes(),
            "the bytes read again are the file's"
        );
    }
}

#[test]
fn an_object_twice_is_read_the_thorough_way_which_keeps_the_last_copy() {
    let text = pretty_list(200, |i, node| {
        if i == 190 {
            node["metadata"]["name"] = json!("node-3");
            node["metadata"]["labels"]["copy"] = json!("last");
        }
    });
    let need = Need::Node("node-3".into());
    assert!(fast(&text, &need).is_none(), "node-3 is there twice");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("snap.json");
    fs::write(&path, &text).expect("write");
    let got = load_for(&Source::Path(path), &need).expect("loads");
    let node = got
        .nodes
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some("node-3"))
        .expect("node-3");
    assert_eq!(
        node.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("copy"))
            .map(String::as_str),
        Some("last")
    );
}

// --- the two readers agree on generated files --------------------------------------------------

mod generated {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn time(day: u32) -> String {
        format!("2025-02-{:02}T00:00:{:02}Z", 1 + day % 28, day % 60)
    }

    fn managed(with: bool) -> Value {
        if with {
            json!([{"manager": "kubelet", "operation": "Update", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {}}}}}])
        } else {
            Value::Null
        }
    }

    fn node(i: usize, day: u32, managed_fields: bool) -> Value {
        json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": format!("node-{i}"), "labels": {"zone": format!("z{}", i % 2)},
                "creationTimestamp": time(day), "managedFields": managed(managed_fields)},
            "status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": time(day + 1),
                "lastHeartbeatTime": time(day + 2)}],
                "images": [{"names": ["registry/agent:1"], "sizeBytes": 1000}]}})
    }

    fn daemonset(k: usize, managed_fields: bool) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": format!("ds-{}", k % 2), "namespace": format!("ns-{k}"), "uid": format!("uid-{k}"),
                "managedFields": managed(managed_fields)},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {}}})
    }

    /// A pod: its owner (0 none, 1-2 a DaemonSet's controller, 3 a ReplicaSet, 4 a reference naming
    /// DaemonSet 0 with another uid, 5 a DaemonSet but not as controller, 6 a DaemonSet's
    /// controller under another name), its node (none, a node, a missing one, or aimed at one by
    /// affinity), pending or running.
    #[allow(clippy::too_many_arguments)]
    fn pod(
        i: usize,
        ns: usize,
        owner: u8,
        node: u8,
        target: usize,
        pending: bool,
        day: u32,
        managed_fields: bool,
    ) -> Value {
        let reference = |kind: &str, name: String, uid: String, controller: bool| json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid, "controller": controller}]);
        let owners = match owner {
            1 | 2 => reference("DaemonSet", format!("ds-{}", ns % 2), format!("uid-{ns}"), true),
            3 => reference("ReplicaSet", "web".into(), "rs-uid".into(), true),
            4 => reference("DaemonSet", "ds-0".into(), "uid-old".into(), true),
            5 => reference("DaemonSet", format!("ds-{}", ns % 2), format!("uid-{ns}"), false),
            6 => reference("DaemonSet", "renamed".into(), format!("uid-{ns}"), true),
            _ => Value::Null,
        };
        let mut spec = json!({"containers": [{"name": "c", "image": "registry/agent:1"}],
            "volumes": [{"name": "v", "emptyDir": {}}],
            "tolerations": [{"operator": "Exists"}]});
        match node {
            1 => spec["nodeName"] = json!(format!("node-{target}")),
            2 => spec["nodeName"] = json!("gone"),
            3 => {
                spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                        "values": [format!("node-{target}")]}]}]}}})
            }
            _ => {}
        }
        let phase = if pending { "Pending" } else { "Running" };
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("pod-{i}"), "namespace": format!("ns-{ns}"),
                "labels": {"app": "agent"}, "ownerReferences": owners,
                "creationTimestamp": time(day), "managedFields": managed(managed_fields)},
            "spec": spec,
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if pending { "False" } else { "True" },
                "lastTransitionTime": time(day + 3)}]}})
    }

    fn event(i: usize, new_api: bool, failed_create: bool, day: u32) -> Value {
        let reason = if failed_create {
            "FailedCreate"
        } else {
            "SuccessfulCreate"
        };
        if new_api {
            json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
                "metadata": {"name": format!("ev-{i}"), "namespace": "ns-0"},
                "reason": reason, "regarding": {"kind": "DaemonSet", "name": "ds-0"},
                "note": "x", "eventTime": format!("2025-03-{:02}T00:00:00.000000Z", 1 + day % 28),
                "reportingController": "c", "reportingInstance": "c", "action": "Create"})
        } else {
            json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("ev-{i}"), "namespace": "ns-0"},
                "reason": reason, "involvedObject": {"kind": "DaemonSet", "name": "ds-0"},
                "lastTimestamp": time(day)})
        }
    }

    prop_compose! {
        fn items()(
            nodes in 1usize..5,
            daemonsets in 1usize..4,
            pods in prop::collection::vec((0u8..7, 0u8..4, 0usize..5, any::<bool>(), 0u32..200), 0..14),
            events in prop::collection::vec((any::<bool>(), any::<bool>(), 0u32..200), 0..4),
            others in 0usize..3,
            managed_fields in any::<bool>(),
            day in 0u32..100,
        ) -> Vec<Value> {
            let mut items = Vec::new();
            items.extend((0..nodes).map(|i| node(i, day + i as u32, managed_fields)));
            items.extend((0..daemonsets).map(|k| daemonset(k, managed_fields)));
            for (i, (owner, at, target, pending, d)) in pods.into_iter().enumerate() {
                items.push(pod(i, i % daemonsets, owner, at, target, pending, d, managed_fields));
            }
            for (i, (new_api, failed, d)) in events.into_iter().enumerate() {
                items.push(event(i, new_api, failed, d));
            }
            items.extend((0..others).map(|i| json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{i}"), "namespace": "ns-0"}})));
            items
        }
    }

    fn file(items: Vec<Value>, pretty: bool, typed_header: bool) -> String {
        let list = if typed_header {
            // Go's order: the list's kind before its items.
            let mut text = String::from(r#"{"kind": "List", "apiVersion": "v1", "items": "#);
            text.push_str(&Value::Array(items).to_string());
            text.push('}');
            text
        } else {
            json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
                .to_string()
        };
        if pretty {
            let value: Value = serde_json::from_str(&list).expect("json");
            serde_json::to_string_pretty(&value).expect("json")
        } else {
            list
        }
    }

    /// A pod bound to the node of the DaemonSet's unbound pod, whose controller reference names
    /// the DaemonSet but carries another uid: not the DaemonSet's, but a neighbour it must fit with.
    #[test]
    fn a_neighbour_named_like_the_daemonset_is_kept() {
        let items = vec![
            node(0, 1, false),
            node(1, 1, false),
            daemonset(0, false),
            pod(0, 0, 0, 3, 1, true, 1, false),
            pod(1, 0, 4, 1, 1, false, 1, false),
        ];
        let text = file(items, false, false);
        let need = Need::DaemonSet {
            namespace: Some("ns-0".into()),
            name: "ds-0".into(),
        };
        let got = fast(&text, &need).expect("fast");
        assert_eq!(names(&got.pods), ["pod-0", "pod-1"]);
        assert_eq!(as_json(&got), as_json(&thorough(&text, &need)));
    }

    /// The sieved thorough reading (YAML, and JSON the fast reader refuses) of `text`.
    fn sifted(text: &str, need: &Need) -> Snapshot {
        let read = |objects: &mut Objects| parse(text, "generated", objects);
        super::super::thorough(read, need, "generated").expect("loads")
    }

    /// `items` with a pod repeated (another copy of the first one, bound elsewhere): the thorough
    /// reader keeps the last copy.
    fn with_a_repeat(mut items: Vec<Value>) -> Vec<Value> {
        if let Some(first) = items.iter().find(|i| i["kind"] == "Pod").cloned() {
            let mut copy = first;
            copy["spec"]["nodeName"] = json!("node-0");
            items.push(copy);
        }
        items
    }

    proptest! {
        // Failures are not kept in a file beside the sources; a case found is added as a test
        // (as `a_neighbour_named_like_the_daemonset_is_kept` was).
        #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the shape (compact or pretty, with or without managedFields, in any order), the
        /// fast reader gives what the thorough one gives followed by `Need::retain`, for every need.
        #[test]
        fn the_fast_reader_gives_what_the_thorough_one_gives(
            items in items().prop_shuffle(),
            pretty in any::<bool>(),
            typed_header in any::<bool>(),
        ) {
            let text = file(items, pretty, typed_header);
            let full = load_str(&text, "generated").expect("loads");
            for need in needs_of(&full) {
                let want = as_json(&thorough(&text, &need));
                let got = fast(&text, &need);
                prop_assert!(got.is_some(), "the fast reader gave up on {need:?}:\n{text}");
                prop_assert_eq!(as_json(&got.expect("some")), want, "{:?}", need);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

        /// The thorough reader's sieve, on YAML and on JSON (also with an object twice, which the
        /// sieve leaves to an unsieved reading), gives what reading everything then `Need::retain`
        /// gives, for every need.
        #[test]
        fn the_sieve_gives_what_the_thorough_reader_then_retain_gives(
            items in items().prop_shuffle(),
            repeat in any::<bool>(),
            yaml in any::<bool>(),
        ) {
            let items = if repeat { with_a_repeat(items) } else { items };
            let json_text = file(items, false, false);
            let text = if yaml {
                let value: Value = serde_json::from_str(&json_text).expect("json");
                serde_saphyr::to_string(&value).expect("yaml")
            } else {
                json_text
            };
            let full = load_str(&text, "generated").expect("loads");
            for need in needs_of(&full) {
                let want = as_json(&thorough(&text, &need));
                prop_assert_eq!(as_json(&sifted(&text, &need)), want, "{:?}\n{}", need, text);
            }
        }
    }
}
