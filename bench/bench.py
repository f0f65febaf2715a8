#!/usr/bin/env python3
"""Benchmarks kubectl-ds against the kubectl commands it replaces, side by side in one run.

For each node count it starts the project's test control plane (testcluster/cluster.sh: etcd,
kube-apiserver, kube-controller-manager, kube-scheduler, kwok), creates N kwok nodes and 30
DaemonSets in five namespaces (node selectors, required node affinity, tolerations; 3 of them on
every node), waits until the real controller and scheduler have placed every pod it should and
kwok has made them Ready, then measures wall time and peak RSS: the median of --runs runs after
one warm-up, the commands of a row interleaved run by run so that a change in the machine's load
hits every column alike. Last, `rollout watch`: the time from a change of the DaemonSet's status
on the server to the line that shows it, and the watch's CPU while nothing changes. Prints the
ratios and writes bench/RESULTS.md.

    bench/bench.py                                   # 1,000 and 5,000 nodes, 5 runs
    bench/bench.py --nodes 1000 --runs 7 --baseline /tmp/kubectl-ds-before

--baseline BIN measures an older build of kubectl-ds in the same run, as the "before" column.
--keep leaves the cluster running and prints how to reuse it with --reuse DIR (no setup).
This is a script that reports figures, not a test: nothing here fails on a slow result.
"""
import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER_SH = os.path.join(ROOT, "testcluster", "cluster.sh")

NAMESPACES = ["bench-a", "bench-b", "bench-c", "bench-d", "bench-e"]
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
WHY_NOT_NODE = "node-10"  # a GPU node: eligible for some DaemonSets, not for others
STATUS_DS = ("bench-a", "agent-0")  # on every node

# Raised limits for a big cluster (see testcluster/cluster.sh). kwok renews every node's lease each
# quarter of its duration; at 5,000 nodes the default 40 s means 500 writes a second on 2 cores,
# which would load the apiserver for every column alike but make the figures noisy.
CLUSTER_ENV = {
    "TESTCLUSTER_KUBE_API_QPS": "2000",
    "TESTCLUSTER_KUBE_API_BURST": "4000",
    "TESTCLUSTER_DAEMONSET_SYNCS": "10",
    "TESTCLUSTER_NODE_LEASE_SECONDS": "600",
    "TESTCLUSTER_NODE_MONITOR_GRACE": "900s",
    "TESTCLUSTER_KWOK_PARALLELISM": "32",
}

TARGETS = {
    "why-not NODE": 0.33,
    "status DS": 1.0,
    "status -A": 1.0,
    "why-not NODE --snapshot": 0.25,
    "status DS --snapshot": 0.25,
}
SNAPSHOT_RSS_TARGET = 1.5  # peak RSS / file size
SCALING_TARGET = 5.5  # 5,000 vs 1,000 nodes
WATCH_P95_TARGET = 0.250  # seconds, status change → line printed
WATCH_IDLE_CPU_TARGET = 0.01  # fraction of one core


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


# ---- the cluster's contents ----


def make_nodes(n):
    items = []
    for i in range(n):
        labels = {
            "kubernetes.io/hostname": f"node-{i}",
            "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": ZONES[i % 3],
            "bench/pool": "general",
            "bench/rack": str(i % 40),
        }
        taints = []
        if i % 10 == 0:
            labels["bench/pool"] = "gpu"
            labels["accelerator"] = "nvidia"
            taints.append({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"})
        if i % 25 == 1:
            taints.append({"key": "dedicated", "value": "db", "effect": "NoExecute"})
        items.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"node-{i}", "labels": labels,
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"}},
            "spec": {"taints": taints},
            "status": {"allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                       "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"}},
        })
    return items


def daemonset_placement(i):
    """The pod spec fields that decide where DaemonSet agent-<i> runs, and a predicate over the
    node's index telling whether it should run there (the controller's rules, for this layout)."""
    tainted = lambda n: n % 10 == 0 or n % 25 == 1  # noqa: E731 (untolerated unless said otherwise)
    if i < 3:
        return {"tolerations": [{"operator": "Exists"}]}, lambda n: True
    if i % 4 == 0:
        return ({"nodeSelector": {"bench/pool": "gpu"},
                 "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]},
                lambda n: n % 10 == 0)
    if i % 4 == 1:
        racks = [str(i), str(i + 1)]
        return ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "bench/rack", "operator": "In", "values": racks}]}]}}}},
                lambda n: str(n % 40) in racks and not tainted(n))
    if i % 4 == 2:
        return ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "bench/rack", "operator": "Gt", "values": ["37"]}]}]}}}},
                lambda n: n % 40 > 37 and not tainted(n))
    return ({"nodeSelector": {"topology.kubernetes.io/zone": "eu-west-1c", "bench/rack": str(i)}},
            lambda n: n % 3 == 2 and n % 40 == i and not tainted(n))


def make_daemonsets(n_nodes):
    """The DaemonSets, and how many pods each should have."""
    items, expected = [], {}
    for i in range(30):
        ns = NAMESPACES[i % len(NAMESPACES)]
        placement, runs_on = daemonset_placement(i)
        spec = {"containers": [{"name": "agent", "image": f"registry.example/agent-{i}:1.0",
                                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
                "terminationGracePeriodSeconds": 0, **placement}
        items.append({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": f"agent-{i}", "namespace": ns, "labels": {"bench": "true"}},
            "spec": {"selector": {"matchLabels": {"app": f"agent-{i}"}},
                     "template": {"metadata": {"labels": {"app": f"agent-{i}"}}, "spec": spec}},
        })
        expected[(ns, f"agent-{i}")] = sum(1 for n in range(n_nodes) if runs_on(n))
    return items, expected


# ---- running things ----


def kubectl(ctx, *args, input=None, timeout=600):
    out = subprocess.run([ctx["kubectl"], *args], env=ctx["env"], input=input, capture_output=True,
                         text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


# Peak RSS is read by GNU time, not by this script's own wait4: a child forked from this Python
# process inherits its resident size as the starting peak (Linux keeps the high-water mark across
# exec), so wait4 here would count the benchmark's own memory, about 20 MB, in every command.
# GNU time forks from a process of about 2 MB, the floor of every figure in both columns.
GNU_TIME = "/usr/bin/time"


def run_child(cmd, env):
    """Runs cmd with output to /dev/null; returns (wall seconds, peak RSS bytes)."""
    with tempfile.NamedTemporaryFile("r", prefix="kubectl-ds-bench-rss.") as rss_file:
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.execve(GNU_TIME, [GNU_TIME, "-f", "%x %M", "-o", rss_file.name, *cmd], env)
            finally:
                os._exit(127)
        _, status, _ = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) == 127 and not rss_file.read():
            raise SystemExit(f"could not run {shlex.join(cmd)} under {GNU_TIME}")
        rss_file.seek(0)
        # The last line: "exit-code peak-KB" (GNU time writes "Command exited with ..." before it).
        code, peak_kb = rss_file.read().split("\n")[-2].split()
    code = int(code)
    # kubectl-ds exits 1 when it found a problem (a node without its pod): a normal answer.
    if code not in (0, 1):
        raise SystemExit(f"command failed with exit code {code}: {shlex.join(cmd)}\n"
                         f"  (run it by hand with KUBECONFIG={env.get('KUBECONFIG', '')} to see why)")
    return elapsed, int(peak_kb) * 1024


def measure(variants, env, runs):
    """variants: {label: [cmd, ...]} (commands of one variant run in sequence). One warm-up, then
    `runs` rounds; each round runs every variant once, in turn. Returns {label: stats}."""
    samples = {label: [] for label in variants}
    for round_ in range(runs + 1):
        for label, cmds in variants.items():
            total, peak = 0.0, 0
            for c in cmds:
                t, rss = run_child(c, env)
                total += t
                peak = max(peak, rss)
            if round_ > 0:
                samples[label].append((total, peak))
    return {label: {"time": statistics.median(t for t, _ in s),
                    "time_min": min(t for t, _ in s), "time_max": max(t for t, _ in s),
                    "rss": statistics.median(r for _, r in s), "runs": len(s)}
            for label, s in samples.items()}


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


def other_clusters(own_dir):
    """How many kube-apiservers run on this machine besides ours (other test clusters)."""
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if cmdline and os.path.basename(cmdline[0]) == b"kube-apiserver" and own_dir.encode() not in b" ".join(cmdline):
            n += 1
    return n


# ---- setup ----


def start_cluster(n, reuse, keep):
    if reuse:
        cluster_dir = reuse
        log(f"reusing the cluster in {cluster_dir}")
    else:
        cluster_dir = tempfile.mkdtemp(prefix="kubectl-ds-bench.")
        log(f"starting a control plane for {n} nodes in {cluster_dir}")
        # Without --keep the cluster goes away with this script, however it ends.
        owner = [] if keep else ["--owner-pid", str(os.getpid())]
        up = subprocess.run([CLUSTER_SH, "up", "--dir", cluster_dir, *owner],
                            env=dict(os.environ, **CLUSTER_ENV), capture_output=True, text=True)
        if up.returncode != 0:
            raise SystemExit(f"cluster.sh up failed:\n{up.stderr}")
    bin_dir = open(os.path.join(cluster_dir, "bin-dir")).read().strip()
    env = dict(os.environ, KUBECONFIG=os.path.join(cluster_dir, "kubeconfig.yaml"))
    # Outputs that depend on these would differ between runs; kubectl-ds and kubectl alike.
    for var in ("NO_COLOR", "COLUMNS", "KUBECTL_DS_TEST_PAUSE_BEFORE_WRITE"):
        env.pop(var, None)
    return {"dir": cluster_dir, "kubectl": os.path.join(bin_dir, "kubectl"), "env": env, "bin_dir": bin_dir}


def create_nodes(ctx, n):
    nodes = make_nodes(n)
    batches = [nodes[i:i + 250] for i in range(0, n, 250)]
    threads, errors = [], []

    def create(batch):
        try:
            kubectl(ctx, "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": batch}))
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    for k in range(0, len(batches), 4):  # four kubectl create at a time
        threads = [threading.Thread(target=create, args=(b,)) for b in batches[k:k + 4]]
        [t.start() for t in threads]
        [t.join() for t in threads]
        if errors:
            raise SystemExit(f"creating nodes: {errors[0]}")


def populate(ctx, n, timeout):
    t0 = time.time()
    create_nodes(ctx, n)
    daemonsets, expected = make_daemonsets(n)
    for ns in NAMESPACES:
        kubectl(ctx, "create", "namespace", ns)
    kubectl(ctx, "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": daemonsets}))
    log(f"{n} nodes and {len(daemonsets)} DaemonSets created in {time.time() - t0:.0f}s; "
        f"waiting for {sum(expected.values())} DaemonSet pods to be Ready")
    settle(ctx, expected, timeout, t0)


def settle(ctx, expected, timeout, t0):
    """Waits until every DaemonSet reports exactly the pods the layout gives it, all updated,
    Ready and available; polls the counters the controller writes, with a deadline."""
    deadline = time.time() + timeout
    last_report = 0.0
    while True:
        items = json.loads(kubectl(ctx, "get", "ds", "-A", "-l", "bench=true", "-o", "json"))["items"]
        lagging, ready = [], 0
        for d in items:
            key = (d["metadata"]["namespace"], d["metadata"]["name"])
            s = d.get("status", {})
            want = expected[key]
            ready += min(s.get("numberReady", 0), want)
            done = (s.get("observedGeneration", 0) >= d["metadata"]["generation"]
                    and s.get("desiredNumberScheduled") == want
                    and all(s.get(f, 0) == want for f in
                            ("currentNumberScheduled", "numberReady", "updatedNumberScheduled", "numberAvailable"))
                    and s.get("numberMisscheduled", 0) == 0)
            if not done:
                lagging.append(f"{key[0]}/{key[1]} (desired {s.get('desiredNumberScheduled')}/{want}, "
                               f"ready {s.get('numberReady', 0)})")
        if len(items) == len(expected) and not lagging:
            log(f"settled: {sum(expected.values())} pods Ready after {time.time() - t0:.0f}s")
            return
        if time.time() > deadline:
            raise SystemExit(
                f"timed out after {timeout}s waiting for the DaemonSets to settle "
                f"({ready}/{sum(expected.values())} pods Ready); still lagging: {'; '.join(lagging[:5])}"
                f"{' ...' if len(lagging) > 5 else ''}\n"
                f"  the control plane's logs: {CLUSTER_SH} logs {ctx['dir']}; raise --setup-timeout if it was progressing")
        if time.time() - last_report > 30:
            log(f"  {ready}/{sum(expected.values())} pods Ready, {len(lagging)} DaemonSets lagging "
                f"({time.time() - t0:.0f}s, load {' '.join(loadavg())})")
            last_report = time.time()
        time.sleep(2)


# ---- the measurements ----


@contextlib.contextmanager
def paused(ctx):
    """Stops every process of the cluster (SIGSTOP) for the duration, and lets them go on after."""
    pids = []
    for name in os.listdir(ctx["dir"]):
        if name.endswith(".pid"):
            try:
                pids.append(int(open(os.path.join(ctx["dir"], name)).read().strip()))
            except (OSError, ValueError):
                pass
    for pid in pids:
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            pass
    log(f"cluster paused ({len(pids)} processes)")
    try:
        yield
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
        log("cluster resumed")


def cool_down(limit):
    """Waits, up to `limit` seconds, for the one-minute load average to fall below the core count:
    right after the pods settle the control plane is still busy, and what it takes from the
    machine it takes from both sides of each measurement unevenly."""
    cores = os.cpu_count() or 1
    t0 = time.time()
    while float(loadavg()[0]) >= cores and time.time() - t0 < limit:
        time.sleep(5)
    log(f"load {' '.join(loadavg())} after {time.time() - t0:.0f}s of cooling down")


def bench_size(n, args, ds_bin):
    reuse = args.reused.get(n)
    ctx = start_cluster(n, reuse, args.keep)
    try:
        if not reuse:
            populate(ctx, n, args.setup_timeout)
        cool_down(args.cool_down)
        return measure_size(ctx, n, args, ds_bin)
    finally:
        if args.keep or reuse:
            log(f"cluster left running; reuse it with --nodes {n} --reuse {ctx['dir']}; "
                f"stop it with {CLUSTER_SH} down {ctx['dir']}")
        else:
            subprocess.run([CLUSTER_SH, "down", ctx["dir"]], capture_output=True)
            shutil.rmtree(ctx["dir"], ignore_errors=True)


def measure_size(ctx, n, args, ds_bin):
    env, k = ctx["env"], ctx["kubectl"]
    node = WHY_NOT_NODE
    ns, ds = STATUS_DS
    load_before, others = loadavg(), other_clusters(ctx["dir"])
    work = tempfile.mkdtemp(prefix="kubectl-ds-bench-snap.")
    # The snapshot as the error messages tell users to make it (kubectl leaves managedFields out),
    # and the one `kubectl ds snapshot` writes.
    snapshots = {}
    path = os.path.join(work, "kubectl-get.json")
    with open(path, "w") as f:
        subprocess.run([k, "get", "nodes,ds,pods,controllerrevisions,events", "-A", "-o", "json"],
                       env=env, stdout=f, check=True)
    snapshots["kubectl get -o json"] = path
    path = os.path.join(work, "kubectl-ds-snapshot.json")
    with open(path, "w") as f:
        subprocess.run([ds_bin, "snapshot", "-A"], env=env, stdout=f, stderr=subprocess.DEVNULL, check=True)
    snapshots["kubectl ds snapshot"] = path
    # The same objects in the other shapes a snapshot comes in: one line (as `kubectl get -o json`
    # piped through `jq -c` is, or a program's own dump) and pretty, each with and without
    # managedFields (kubectl leaves them out unless asked with --show-managed-fields), and YAML
    # (`kubectl get -o yaml`).
    path = os.path.join(work, "pretty-managed-fields.json")
    with open(path, "w") as f:
        subprocess.run([k, "get", "nodes,ds,pods,controllerrevisions,events", "-A", "-o", "json",
                        "--show-managed-fields"], env=env, stdout=f, check=True)
    snapshots["pretty, with managedFields"] = path
    with open(path) as f:
        data = json.load(f)
    path = os.path.join(work, "compact-managed-fields.json")
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    snapshots["compact, with managedFields"] = path
    for item in data.get("items", []):
        item.get("metadata", {}).pop("managedFields", None)
    path = os.path.join(work, "compact.json")
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    snapshots["compact, no managedFields"] = path
    del data
    path = os.path.join(work, "kubectl-get.yaml")
    with open(path, "w") as f:
        subprocess.run([k, "get", "nodes,ds,pods,controllerrevisions,events", "-A", "-o", "yaml"],
                       env=env, stdout=f, check=True)
    snapshots["kubectl get -o yaml"] = path

    variants = lambda ours, theirs: {  # noqa: E731
        "kubectl-ds": [[ds_bin, *ours]],
        **({"before": [[args.baseline, *ours]]} if args.baseline else {}),
        "compared with": theirs,
    }
    rows = []

    def row(name, ours, theirs, compared, file=None):
        log(f"{n} nodes: {name} ...")
        r = measure(variants(ours, theirs), env, args.runs)
        entry = {"name": name, "command": "kubectl ds " + shlex.join(ours), "compared": compared,
                 "target": TARGETS[name.split(" (")[0]], "results": r}
        if file:
            entry["file"] = file
            entry["file_bytes"] = os.path.getsize(snapshots[file])
        rows.append(entry)
        log(f"  {r['kubectl-ds']['time'] * 1000:.0f} ms vs {r['compared with']['time'] * 1000:.0f} ms = "
            f"{r['kubectl-ds']['time'] / r['compared with']['time']:.2f}x"
            + (f" (before: {r['before']['time'] * 1000:.0f} ms)" if "before" in r else ""))

    row("why-not NODE", ["why-not", node],
        [[k, "get", "node", node, "-o", "json"], [k, "get", "ds", "-A", "-o", "json"],
         [k, "get", "pods", "-A", "--field-selector", f"spec.nodeName={node}", "-o", "json"]],
        f"`kubectl get node {node} -o json` + `kubectl get ds -A -o json` + "
        f"`kubectl get pods -A --field-selector spec.nodeName={node} -o json`, in sequence")
    row("status DS", ["status", ds, "-n", ns],
        [[k, "get", "nodes", "-o", "json"], [k, "get", "pods", "-n", ns, "-l", f"app={ds}", "-o", "json"]],
        f"`kubectl get nodes -o json` + `kubectl get pods -n {ns} -l app={ds} -o json`")
    row("status -A", ["status", "-A"], [[k, "get", "ds", "-A"]], "`kubectl get ds -A`")
    # The snapshot rows need no cluster: it is paused, so that its own work (node heartbeats, the
    # controllers' resyncs, which grow with N) does not take the machine's cores from either side.
    with paused(ctx):
        for label, path in snapshots.items():
            if path.endswith(".yaml"):
                # YAML against Python's YAML reader with libyaml, the fastest it has.
                py = [sys.executable, "-c",
                      f"import yaml; yaml.load(open({path!r}), Loader=yaml.CSafeLoader)"]
                compared = "Python's `yaml.load` (libyaml) of the file"
            else:
                py = [sys.executable, "-c", f"import json; json.load(open({path!r}))"]
                compared = "Python's `json.load` of the file"
            row(f"why-not NODE --snapshot ({label})", ["why-not", node, "--snapshot", path], [py],
                compared, file=label)
            row(f"status DS --snapshot ({label})", ["status", ds, "-n", ns, "--snapshot", path], [py],
                compared, file=label)
    if args.keep_snapshots:
        os.makedirs(args.keep_snapshots, exist_ok=True)
        for label, path in snapshots.items():
            shutil.copy(path, os.path.join(args.keep_snapshots, f"{n}-{os.path.basename(path)}"))
    shutil.rmtree(work, ignore_errors=True)
    log(f"{n} nodes: rollout watch ...")
    watch = measure_watch(ctx, ds_bin, args.watch_samples, args.idle_seconds)
    return {"nodes": n, "rows": rows, "watch": watch, "load_before": load_before, "load_after": loadavg(),
            "other_clusters": others}


# ---- rollout watch: latency and idle CPU ----


class ApiClient:
    """Just enough of an API client to PATCH the status subresource without the start-up cost of a
    kubectl process in the measured interval (the admin client certificate of the test cluster)."""

    def __init__(self, cluster_dir):
        import http.client
        import ssl
        pki = os.path.join(cluster_dir, "pki")
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
        self.port = int(open(os.path.join(cluster_dir, "apiserver-port")).read())
        self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)

    def merge_patch(self, path, body):
        self.patch(path, body, "application/merge-patch+json")

    def patch(self, path, body, content_type):
        self.conn.request("PATCH", path, body=json.dumps(body), headers={"Content-Type": content_type})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise SystemExit(f"PATCH {path}: HTTP {resp.status}: {data[:300]!r}")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send_heartbeats(api, rate, seconds, nodes):
    """As a kubelet or kwok does: rewrite Ready's lastHeartbeatTime on node after node, `rate` a
    second (kwok's 600 s heartbeat on 5,000 nodes is about 8 a second)."""
    end, i = time.time() + seconds, 0
    while time.time() < end:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        api.patch(f"/api/v1/nodes/node-{i % nodes}/status",
                  {"status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": now}]}},
                  "application/strategic-merge-patch+json")
        i += 1
        time.sleep(1 / rate)


def measure_watch(ctx, ds_bin, samples, idle_seconds, heartbeats=0.0, nodes=0):
    """`kubectl ds rollout watch` on a rollout that cannot finish (its pod never becomes Ready),
    with the controller manager stopped so that this script is the only writer of the
    DaemonSet's status: each sample PATCHes status.numberReady (0 ↔ 1, as the controller would
    when the pod's readiness flips) and times until the watch prints the line with that count.
    Then the watch is left alone for idle_seconds and its CPU time is read from /proc."""
    ns, name = "bench-watch", "probe"
    kubectl(ctx, "delete", "namespace", ns, "--ignore-not-found", "--wait=true")  # an earlier --reuse run
    kubectl(ctx, "create", "namespace", ns)
    body = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name, "kubectl-ds.test/stage": "never-ready"}},
                                  "spec": {"nodeSelector": {"kubernetes.io/hostname": "node-5"},
                                           "terminationGracePeriodSeconds": 0,
                                           "containers": [{"name": "agent", "image": "registry.example/probe:1"}]}}}}
    kubectl(ctx, "create", "-f", "-", input=json.dumps(body))
    deadline = time.time() + 300
    while True:
        st = json.loads(kubectl(ctx, "get", "ds", name, "-n", ns, "-o", "json")).get("status", {})
        if st.get("desiredNumberScheduled") == 1 and st.get("updatedNumberScheduled") == 1:
            break
        if time.time() > deadline:
            raise SystemExit(f"the watch probe DaemonSet did not get its pod: {st}")
        time.sleep(1)
    subprocess.run([CLUSTER_SH, "stop", "kube-controller-manager", ctx["dir"]], check=True)
    watch = None
    try:
        lines = []
        cond = threading.Condition()
        watch = subprocess.Popen([ds_bin, "rollout", "watch", name, "-n", ns, "--progress-deadline", "0"],
                                 env=ctx["env"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

        def read():
            for line in watch.stdout:
                with cond:
                    lines.append((time.perf_counter(), line))
                    cond.notify_all()

        threading.Thread(target=read, daemon=True).start()

        def wait_line(after, needle, timeout=10):
            end = time.perf_counter() + timeout
            with cond:
                while True:
                    for t, line in lines[after:]:
                        if needle in line:
                            return t
                    left = end - time.perf_counter()
                    if left <= 0:
                        raise SystemExit(f"rollout watch printed no line with {needle!r} within {timeout}s; "
                                         f"its lines: {[l for _, l in lines][-5:]}")
                    cond.wait(left)

        wait_line(0, "updated 1/1 ready 0/1", timeout=60)
        api = ApiClient(ctx["dir"])
        path = f"/apis/apps/v1/namespaces/{ns}/daemonsets/{name}/status"
        latencies = []
        for i in range(samples):
            ready = 1 - i % 2
            with cond:
                seen = len(lines)
            sent = time.perf_counter()
            api.merge_patch(path, {"status": {"numberReady": ready}})
            printed = wait_line(seen, f"ready {ready}/1")
            latencies.append(printed - sent)
            time.sleep(0.2)
        time.sleep(2)
        before = cpu_seconds(watch.pid)
        if heartbeats:
            send_heartbeats(api, heartbeats, idle_seconds, nodes)
        else:
            time.sleep(idle_seconds)
        idle = (cpu_seconds(watch.pid) - before) / idle_seconds
    finally:
        if watch:
            watch.terminate()
            watch.wait()
        subprocess.run([CLUSTER_SH, "start", "kube-controller-manager", ctx["dir"]], check=True)
        kubectl(ctx, "delete", "namespace", ns, "--wait=false")
    latencies.sort()
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    log(f"  rollout watch: p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"idle CPU {idle * 100:.3f}%")
    return {"samples": len(latencies), "p50": statistics.median(latencies), "p95": p95,
            "max": latencies[-1], "idle_cpu": idle, "idle_seconds": idle_seconds}


# ---- the report ----


def versions(ds_bin, kubectl_bin):
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return "?"
    kv = out([kubectl_bin, "version", "--client", "-o", "json"])
    try:
        kv = json.loads(kv)["clientVersion"]["gitVersion"]
    except (ValueError, KeyError):
        pass
    rev = out(["git", "rev-parse", "--short", "HEAD"])
    dirty = " (with uncommitted changes)" if out(["git", "status", "--porcelain", "--", "src", "Cargo.toml"]) else ""
    return {"kubectl-ds": f"{out([ds_bin, '--version'])}, commit {rev}{dirty}",
            "kubectl and control plane": kv, "rustc": out(["rustc", "--version"]),
            "python": platform.python_version()}


def machine():
    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) * 1024
    return f"{model}, {os.cpu_count()} cores, {mem / 2**30:.0f} GiB RAM, {platform.system()} {platform.release()}"


def fmt_ms(s):
    return f"{s * 1000:.0f} ms"


def fmt_mb(b):
    return f"{b / 1e6:.0f} MB"


def report(results, args, ds_bin, kubectl_bin):
    v = versions(ds_bin, kubectl_bin)
    cmdline = "bench/bench.py " + shlex.join(sys.argv[1:])
    lines = ["# Benchmark results", "",
             f"Generated by `{cmdline}` on {time.strftime('%Y-%m-%d %H:%M %Z')}. Do not edit by hand.", "",
             f"- Machine: {machine()}",
             *[f"- {name}: {value}" for name, value in v.items()],
             f"- Method: median of {args.runs} runs after one warm-up; the commands of a row run in turn "
             "within each round; wall time as seen by the parent, peak RSS as GNU time reports it (`%M`; for a sequence "
             "of commands, the largest). Output goes to /dev/null. Measuring starts once the load average is below the core count (or after `--cool-down` seconds). "
             "The cluster's processes are paused (SIGSTOP) while the snapshot rows, which need no cluster, are measured.",
             "- Cluster: the project's control plane (testcluster/cluster.sh) with kwok nodes; "
             + ", ".join(f"{k}={v}" for k, v in CLUSTER_ENV.items()) + ".",
             ]
    if args.baseline:
        lines.append(f"- \"before\": `{args.baseline}`, an older build measured in the same rounds.")
    lines.append("")
    for r in results:
        quiet = "quiet" if r["other_clusters"] == 0 and float(r["load_before"][0]) < 1.5 else "NOT quiet"
        lines += [f"## {r['nodes']} nodes", "",
                  f"Load average before/after: {' '.join(r['load_before'])} / {' '.join(r['load_after'])}; "
                  f"other test clusters running on the machine: {r['other_clusters']} — the machine was {quiet}.", ""]
        head = "| measure | kubectl-ds | RSS |"
        sep = "|---|---|---|"
        if args.baseline:
            head += " before | RSS |"
            sep += "---|---|"
        head += " compared with | RSS | ratio | target |"
        sep += "---|---|---|---|"
        lines += [head, sep]
        for row in r["rows"]:
            res = row["results"]
            ours, theirs = res["kubectl-ds"], res["compared with"]
            ratio = ours["time"] / theirs["time"]
            verdict = "met" if ratio <= row["target"] else "**not met**"
            cells = [row["name"], f"{fmt_ms(ours['time'])} ({fmt_ms(ours['time_min'])}–{fmt_ms(ours['time_max'])})",
                     fmt_mb(ours["rss"])]
            if args.baseline:
                b = res["before"]
                cells += [f"{fmt_ms(b['time'])} ({b['time'] / theirs['time']:.2f}x)", fmt_mb(b["rss"])]
            target = f"≤ {row['target']}x: {verdict}"
            if "file_bytes" in row:
                rss_ratio = ours["rss"] / row["file_bytes"]
                target += (f"; RSS {rss_ratio:.2f}x the {row['file_bytes'] / 1e6:.0f} MB file (≤ {SNAPSHOT_RSS_TARGET}x: "
                           f"{'met' if rss_ratio <= SNAPSHOT_RSS_TARGET else '**not met**'})")
            cells += [fmt_ms(theirs["time"]), fmt_mb(theirs["rss"]), f"{ratio:.2f}x", target]
            lines.append("| " + " | ".join(cells) + " |")
        w = r["watch"]
        lines += ["", f"rollout watch, server-side status change → line printed ({w['samples']} samples): "
                  f"p50 {w['p50'] * 1000:.1f} ms, p95 {w['p95'] * 1000:.1f} ms, max {w['max'] * 1000:.1f} ms "
                  f"(p95 ≤ {WATCH_P95_TARGET * 1000:.0f} ms: {'met' if w['p95'] <= WATCH_P95_TARGET else '**not met**'}); "
                  f"CPU while idle for {w['idle_seconds']} s: {w['idle_cpu'] * 100:.3f}% "
                  f"(< {WATCH_IDLE_CPU_TARGET * 100:.0f}%: {'met' if w['idle_cpu'] < WATCH_IDLE_CPU_TARGET else '**not met**'})."]
        lines += ["", "Commands:", ""]
        for row in r["rows"]:
            lines.append(f"- {row['name']}: `{row['command']}` vs {row['compared']}")
        lines.append("")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        lines += [f"## Scaling: {a['nodes']} → {b['nodes']} nodes (kubectl-ds; target ≤ {SCALING_TARGET}x)", "",
                  "| measure | kubectl-ds | compared with |", "|---|---|---|"]
        for ra, rb in zip(a["rows"], b["rows"]):
            o = rb["results"]["kubectl-ds"]["time"] / ra["results"]["kubectl-ds"]["time"]
            t = rb["results"]["compared with"]["time"] / ra["results"]["compared with"]["time"]
            lines.append(f"| {ra['name']} | {o:.2f}x ({'met' if o <= SCALING_TARGET else '**not met**'}) | {t:.2f}x |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(args.output, "w") as f:
        f.write(text)
    log(f"wrote {args.output}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, action="append", help="node count; repeat for several (default 1000 and 5000)")
    ap.add_argument("--runs", type=int, default=5, help="measured runs per command, after one warm-up (default 5)")
    ap.add_argument("--baseline", help="an older kubectl-ds binary to measure as \"before\" in the same rounds")
    ap.add_argument("--setup-timeout", type=int, default=3600,
                    help="seconds to wait for the DaemonSets to settle (default 3600)")
    ap.add_argument("--keep", action="store_true", help="leave the cluster running at the end")
    ap.add_argument("--reuse", metavar="DIR", action="append",
                    help="measure on a cluster an earlier --keep or --setup-only run left; once per --nodes, in the same order")
    ap.add_argument("--setup-only", action="store_true", help="only start and fill the clusters; implies --keep")
    ap.add_argument("--output", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    ap.add_argument("--watch-samples", type=int, default=60, help="status changes timed for rollout watch (default 60)")
    ap.add_argument("--idle-seconds", type=int, default=30, help="how long the idle watch's CPU is measured (default 30)")
    ap.add_argument("--no-build", action="store_true", help="use target/release/kubectl-ds as it is")
    ap.add_argument("--keep-snapshots", metavar="DIR", help="copy the snapshot files measured into DIR")
    ap.add_argument("--cool-down", type=int, default=300, metavar="SECONDS",
                    help="before measuring, wait up to this long for the load average to fall below the core count (default 300)")
    ap.add_argument("--binary", help="measure this kubectl-ds binary instead of target/release/kubectl-ds")
    ap.add_argument("--heartbeats", type=float, default=0.0,
                    help="with --watch-only: node heartbeats a second sent while the watch idles (default 0)")
    ap.add_argument("--watch-only", action="store_true",
                    help="only the nodes and the rollout watch measurement (printed, RESULTS.md untouched)")
    args = ap.parse_args()
    sizes = args.nodes or [1000, 5000]
    if args.reuse and len(args.reuse) != len(sizes):
        ap.error("--reuse names the cluster of each --nodes: give as many of one as of the other")
    # The cluster each node count is measured on, if an earlier run left it.
    args.reused = dict(zip(sizes, args.reuse or []))
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} (GNU time) measures peak memory here: install it (Debian: apt-get install time)")
    if args.setup_only:
        args.keep = True
        for n in sizes:
            ctx = start_cluster(n, None, True)
            populate(ctx, n, args.setup_timeout)
            log(f"ready: measure with --nodes {n} --reuse {ctx['dir']}; stop it with {CLUSTER_SH} down {ctx['dir']}")
        return
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
    if not args.no_build:
        log("building kubectl-ds (release)")
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    ds_bin = os.path.abspath(args.binary) if args.binary else os.path.join(ROOT, "target", "release", "kubectl-ds")
    # A clean exit (and the clusters' teardown) on Ctrl-C or kill.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.watch_only:
        for n in sizes:
            reuse = args.reused.get(n)
            ctx = start_cluster(n, reuse, args.keep)
            try:
                if not reuse:
                    create_nodes(ctx, n)
                    # kwok takes the nodes over and starts their heartbeats.
                    time.sleep(30)
                w = measure_watch(ctx, ds_bin, args.watch_samples, args.idle_seconds, args.heartbeats, n)
                print(f"{n} nodes: rollout watch p50 {w['p50'] * 1000:.1f} ms, p95 {w['p95'] * 1000:.1f} ms, "
                      f"max {w['max'] * 1000:.1f} ms; idle CPU {w['idle_cpu'] * 100:.3f}% over {w['idle_seconds']} s "
                      f"({args.heartbeats} node heartbeats a second); "
                      f"load {' '.join(loadavg())}")
            finally:
                if not (args.keep or reuse):
                    subprocess.run([CLUSTER_SH, "down", ctx["dir"]], capture_output=True)
                    shutil.rmtree(ctx["dir"], ignore_errors=True)
        return
    results = [bench_size(n, args, ds_bin) for n in sizes]
    build = subprocess.run([os.path.join(ROOT, "testcluster", "build.sh")], capture_output=True, text=True)
    kubectl_bin = os.path.join(build.stdout.strip(), "kubectl")
    report(results, args, ds_bin, kubectl_bin)


if __name__ == "__main__":
    main()
