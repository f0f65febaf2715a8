//! A huge snapshot does not exhaust memory: a 280 MB `kubectl get -o json` file of 20,000 nodes
//! (with the managedFields and image lists real nodes carry) and 18,000 DaemonSet pods (with
//! their volumes, tolerations, conditions and managedFields) is read by the binary in memory
//! bounded by a fraction of its size, and the answer is still exact.

mod support;

use std::fs::File;
use std::io::{BufWriter, Write};

use support::kubectl_ds;

const NODES: usize = 20_000;

/// One node as `kubectl get nodes -o json` prints it, padded to about 10 KB with what a kubelet
/// reports and the analysis never reads (managedFields, images).
fn write_node(out: &mut impl Write, i: usize) -> std::io::Result<()> {
    let tainted = i.is_multiple_of(10);
    let taints = if tainted {
        r#"[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]"#
    } else {
        "[]"
    };
    write!(
        out,
        r#"{{"apiVersion":"v1","kind":"Node","metadata":{{"name":"node-{i}","uid":"uid-node-{i}","resourceVersion":"{i}","creationTimestamp":"2026-01-01T00:00:00Z","labels":{{"kubernetes.io/hostname":"node-{i}","kubernetes.io/os":"linux","pool":"{pool}"}},"managedFields":["#,
        pool = if tainted { "gpu" } else { "general" }
    )?;
    for f in 0..12 {
        if f > 0 {
            out.write_all(b",")?;
        }
        write!(
            out,
            r#"{{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{{"f:status":{{"f:conditions":{{"k:{{\"type\":\"Condition{f}\"}}":{{".":{{}},"f:lastHeartbeatTime":{{}},"f:lastTransitionTime":{{}},"f:message":{{}},"f:reason":{{}},"f:status":{{}},"f:type":{{}}}}}}}}}}}}"#
        )?;
    }
    write!(
        out,
        r#"]}},"spec":{{"taints":{taints}}},"status":{{"allocatable":{{"cpu":"32","memory":"128Gi","pods":"110"}},"capacity":{{"cpu":"32","memory":"128Gi","pods":"110"}},"conditions":[{{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}}],"images":["#
    )?;
    for m in 0..30 {
        if m > 0 {
            out.write_all(b",")?;
        }
        write!(
            out,
            r#"{{"names":["registry.example/team-{m}/service@sha256:{m:064x}","registry.example/team-{m}/service:v{m}.{i}"],"sizeBytes":{}}}"#,
            100_000_000 + m
        )?;
    }
    out.write_all(b"]}}")
}

/// One DaemonSet pod as `kubectl get pods -o json` prints it (about 5 KB): the controller's
/// tolerations and the service account volume, conditions, statuses and managedFields.
fn write_pod(out: &mut impl Write, i: usize) -> std::io::Result<()> {
    let t = "2026-01-01T00:00:00Z";
    write!(
        out,
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"agent-{i:05}","generateName":"agent-","namespace":"infra","uid":"uid-pod-{i}","resourceVersion":"{i}","creationTimestamp":"{t}","labels":{{"app":"agent","controller-revision-hash":"abc123","pod-template-generation":"1"}},"ownerReferences":[{{"apiVersion":"apps/v1","kind":"DaemonSet","name":"agent","uid":"uid-ds","controller":true,"blockOwnerDeletion":true}}],"managedFields":[{{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"{t}","fieldsType":"FieldsV1","fieldsV1":{{"f:metadata":{{"f:generateName":{{}},"f:labels":{{".":{{}},"f:app":{{}},"f:controller-revision-hash":{{}},"f:pod-template-generation":{{}}}},"f:ownerReferences":{{".":{{}},"k:{{\"uid\":\"uid-ds\"}}":{{}}}}}},"f:spec":{{"f:affinity":{{".":{{}},"f:nodeAffinity":{{".":{{}},"f:requiredDuringSchedulingIgnoredDuringExecution":{{}}}}}},"f:containers":{{"k:{{\"name\":\"agent\"}}":{{".":{{}},"f:image":{{}},"f:imagePullPolicy":{{}},"f:name":{{}},"f:resources":{{".":{{}},"f:requests":{{".":{{}},"f:cpu":{{}}}}}},"f:terminationMessagePath":{{}},"f:terminationMessagePolicy":{{}}}}}},"f:dnsPolicy":{{}},"f:enableServiceLinks":{{}},"f:restartPolicy":{{}},"f:schedulerName":{{}},"f:securityContext":{{}},"f:terminationGracePeriodSeconds":{{}},"f:tolerations":{{}}}}}}}},{{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"{t}","fieldsType":"FieldsV1","fieldsV1":{{"f:status":{{"f:conditions":{{"k:{{\"type\":\"ContainersReady\"}}":{{".":{{}},"f:lastProbeTime":{{}},"f:lastTransitionTime":{{}},"f:status":{{}},"f:type":{{}}}},"k:{{\"type\":\"Initialized\"}}":{{".":{{}},"f:lastProbeTime":{{}},"f:lastTransitionTime":{{}},"f:status":{{}},"f:type":{{}}}},"k:{{\"type\":\"Ready\"}}":{{".":{{}},"f:lastProbeTime":{{}},"f:lastTransitionTime":{{}},"f:status":{{}},"f:type":{{}}}}}},"f:containerStatuses":{{}},"f:hostIP":{{}},"f:hostIPs":{{}},"f:phase":{{}},"f:podIP":{{}},"f:podIPs":{{".":{{}},"k:{{\"ip\":\"10.0.0.1\"}}":{{".":{{}},"f:ip":{{}}}}}},"f:startTime":{{}}}}}},"subresource":"status"}}]}},"#
    )?;
    write!(
        out,
        r#""spec":{{"nodeName":"node-{i}","affinity":{{"nodeAffinity":{{"requiredDuringSchedulingIgnoredDuringExecution":{{"nodeSelectorTerms":[{{"matchFields":[{{"key":"metadata.name","operator":"In","values":["node-{i}"]}}]}}]}}}}}},"containers":[{{"name":"agent","image":"registry.example/agent:1.0","imagePullPolicy":"IfNotPresent","resources":{{"requests":{{"cpu":"10m"}}}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","volumeMounts":[{{"name":"kube-api-access-x1","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}}]}}],"volumes":[{{"name":"kube-api-access-x1","projected":{{"defaultMode":420,"sources":[{{"serviceAccountToken":{{"expirationSeconds":3607,"path":"token"}}}},{{"configMap":{{"name":"kube-root-ca.crt","items":[{{"key":"ca.crt","path":"ca.crt"}}]}}}},{{"downwardAPI":{{"items":[{{"path":"namespace","fieldRef":{{"apiVersion":"v1","fieldPath":"metadata.namespace"}}}}]}}}}]}}}}],"dnsPolicy":"ClusterFirst","enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority","priority":0,"restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{{}},"serviceAccount":"default","serviceAccountName":"default","terminationGracePeriodSeconds":30,"tolerations":[{{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute"}},{{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute"}},{{"key":"node.kubernetes.io/disk-pressure","operator":"Exists","effect":"NoSchedule"}},{{"key":"node.kubernetes.io/memory-pressure","operator":"Exists","effect":"NoSchedule"}},{{"key":"node.kubernetes.io/pid-pressure","operator":"Exists","effect":"NoSchedule"}},{{"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}}]}},"#
    )?;
    write!(
        out,
        r#""status":{{"phase":"Running","hostIP":"10.1.0.{h}","hostIPs":[{{"ip":"10.1.0.{h}"}}],"podIP":"10.0.0.1","podIPs":[{{"ip":"10.0.0.1"}}],"startTime":"{t}","qosClass":"Burstable","conditions":[{{"type":"PodReadyToStartContainers","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}},{{"type":"Initialized","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}},{{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}},{{"type":"ContainersReady","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}},{{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"{t}"}}],"containerStatuses":[{{"name":"agent","ready":true,"started":true,"restartCount":0,"image":"registry.example/agent:1.0","imageID":"registry.example/agent@sha256:{i:064x}","containerID":"containerd://{i:064x}","state":{{"running":{{"startedAt":"{t}"}}}},"lastState":{{}}}}]}}}}"#,
        h = i % 250
    )
}

/// The snapshot: every node, a DaemonSet that does not tolerate the gpu taint, and its pods on
/// the untainted nodes.
fn write_snapshot(path: &std::path::Path) -> u64 {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    // One item a line, indented: the reader splits such a list in two halves.
    out.write_all(b"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n    ")
        .unwrap();
    for i in 0..NODES {
        write_node(&mut out, i).unwrap();
        out.write_all(b",\n    ").unwrap();
    }
    out.write_all(
        br#"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent","namespace":"infra","uid":"uid-ds","generation":1,"creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"agent","image":"registry.example/agent:1.0"}]}},"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}}},"status":{"observedGeneration":1,"desiredNumberScheduled":18000,"currentNumberScheduled":18000,"numberReady":18000,"updatedNumberScheduled":18000,"numberAvailable":18000,"numberMisscheduled":0}}"#,
    )
    .unwrap();
    for i in (0..NODES).filter(|i| !i.is_multiple_of(10)) {
        out.write_all(b",\n    ").unwrap();
        write_pod(&mut out, i).unwrap();
    }
    out.write_all(b"]}\n").unwrap();
    out.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn a_huge_snapshot_is_read_in_a_fraction_of_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let size = write_snapshot(&path);
    assert!(size > 200_000_000, "the snapshot is only {size} bytes");
    let file = path.to_str().unwrap();

    // A tainted node: not eligible, and the reason is the taint.
    let why_not = kubectl_ds()
        .env("NO_COLOR", "1")
        .args(["why-not", "node-4000", "agent", "-n", "infra", "--snapshot", file])
        .run();
    assert_eq!(why_not.code, Some(0), "{why_not}");
    assert!(
        why_not.stdout.contains("not-eligible")
            && why_not
                .stdout
                .contains("taint dedicated=gpu:NoSchedule is not tolerated"),
        "{why_not}"
    );
    let status = kubectl_ds()
        .env("NO_COLOR", "1")
        .args(["status", "agent", "-n", "infra", "--snapshot", file])
        .run();
    assert_eq!(status.code, Some(0), "{status}");
    assert!(
        status.stdout.contains("18000   running") && status.stdout.contains("2000    not-eligible"),
        "{status}"
    );
    let (why_not_rss, status_rss) = (why_not.peak_rss, status.peak_rss);

    let mb = |b: u64| b as f64 / 1e6;
    eprintln!(
        "snapshot {:.0} MB: why-not peak RSS {:.0} MB ({:.2}x), status peak RSS {:.0} MB ({:.2}x)",
        mb(size),
        mb(why_not_rss),
        why_not_rss as f64 / size as f64,
        mb(status_rss),
        status_rss as f64 / size as f64
    );
    // Bounds from the benchmark's target (peak RSS at most 1.5x the file, bench/bench.py) and
    // below: why-not keeps the nodes and one node's pods, status keeps the DaemonSet's pods too.
    // Typing the whole file, as a plain `serde_json::from_reader` into objects would, takes
    // several times its size.
    for (what, rss, bound) in [("why-not", why_not_rss, 0.75), ("status", status_rss, 1.5)] {
        assert!(
            (rss as f64) < size as f64 * bound,
            "{what} used {:.0} MB of memory for a {:.0} MB snapshot (bound: {bound}x)",
            mb(rss),
            mb(size)
        );
    }
}
