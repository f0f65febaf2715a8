#!/usr/bin/env bash
# Starts and stops a real Kubernetes control plane for the tests, without Docker:
# etcd, kube-apiserver (RBAC), kube-controller-manager (the real DaemonSet controller),
# kube-scheduler and kwok (simulated nodes and pod lifecycle), all on loopback.
#
#   cluster.sh up [--dir DIR] [--owner-pid PID]   start; prints KUBECONFIG=<file> when ready
#   cluster.sh down DIR                            stop the processes this script started in DIR
#   cluster.sh stop COMPONENT DIR                  stop one component (e.g. kube-apiserver)
#   cluster.sh start COMPONENT DIR [FLAG...]       start it again with the same flags, plus these
#                                                  for this start only (e.g. --controllers=daemonset)
#   cluster.sh logs DIR [COMPONENT...]             print the tail of the components' logs
#   cluster.sh compact DIR                         write a key outside /registry, then compact etcd's
#                                                  history up to that revision (what the apiserver's
#                                                  periodic compaction does, now); prints the revision
#
# With --owner-pid, a watcher stops the cluster once that process exits (a test binary that is
# killed or panics leaves nothing behind). Binaries come from build.sh (built or reused).
#
# For large clusters (bench/bench.py) these environment variables change the defaults used by `up`:
#   TESTCLUSTER_KUBE_API_QPS / _BURST     client rate limits of the controller manager and the
#                                         scheduler (default 500 / 1000)
#   TESTCLUSTER_DAEMONSET_SYNCS           --concurrent-daemonset-syncs (default 4)
#   TESTCLUSTER_NODE_LEASE_SECONDS        kwok's node lease duration; kwok renews each lease every
#                                         quarter of it (default 40)
#   TESTCLUSTER_NODE_MONITOR_GRACE        --node-monitor-grace-period, to be raised with the lease
#                                         duration (default 40s)
#   TESTCLUSTER_KWOK_PARALLELISM          how many pod and node stages kwok plays at once (kwok's
#                                         default: 4)
#   TESTCLUSTER_AUDIT=1                   the apiserver writes an audit log of every pod write
#                                         (create, delete, patch, update; request and response) to
#                                         DIR/logs/audit.log
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { echo "[testcluster] $*" >&2; }
die() { log "error: $*"; exit 1; }

components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The apiserver must advertise a non-loopback address (it refuses to publish a loopback endpoint for
# the kubernetes service); nothing connects to it, the listener stays on 127.0.0.1.
advertise_address() {
  local ip
  ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | grep -v '^127\.' | head -n1 || true)
  echo "${ip:-10.255.255.1}"
}

make_pki() {
  local pki=$1
  mkdir -p "$pki"
  openssl genrsa -traditional -out "$pki/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=kubectl-ds-test-ca" -days 3650 -out "$pki/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  openssl genrsa -traditional -out "$pki/admin.key" 2048 2>/dev/null
  openssl req -new -key "$pki/admin.key" -subj "/O=system:masters/CN=kubectl-ds-admin" -out "$pki/admin.csr" 2>/dev/null
  cat >"$pki/admin.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:::1
EXT
  openssl x509 -req -in "$pki/admin.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -extfile "$pki/admin.ext" -out "$pki/admin.crt" 2>/dev/null
}

# A client certificate for a named user and groups, signed by the cluster CA (for RBAC tests).
make_user() {
  local dir=$1 user=$2 groups=${3:-} subj pki=$1/pki
  subj="/CN=$user"
  local g
  for g in ${groups//,/ }; do subj="/O=$g$subj"; done
  openssl genrsa -traditional -out "$pki/user-$user.key" 2048 2>/dev/null
  openssl req -new -key "$pki/user-$user.key" -subj "$subj" -out "$pki/user-$user.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$pki/user.ext"
  openssl x509 -req -in "$pki/user-$user.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -extfile "$pki/user.ext" -out "$pki/user-$user.crt" 2>/dev/null
  write_kubeconfig "$dir/kubeconfig-$user.yaml" "$(cat "$dir/apiserver-port")" "$pki/user-$user.crt" "$pki/user-$user.key" "$user"
  echo "$dir/kubeconfig-$user.yaml"
}

write_kubeconfig() {
  local file=$1 port=$2 cert=$3 key=$4 user=$5
  cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kubectl-ds-test
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $(dirname "$cert")/ca.crt
contexts:
- name: kubectl-ds-test
  context:
    cluster: kubectl-ds-test
    user: $user
    namespace: default
current-context: kubectl-ds-test
users:
- name: $user
  user:
    client-certificate: $cert
    client-key: $key
KC
}

# Starts one component in the background, detached from our stdio, and records its pid. Flags after
# the name are added to the recorded ones for this start only.
launch() {
  local dir=$1 name=$2
  shift 2
  local args_file=$dir/$name.args
  [[ -f $args_file ]] || die "no recorded flags for $name in $dir"
  local -a args
  mapfile -t args <"$args_file"
  args+=("$@")
  local bin
  bin=$(cat "$dir/bin-dir")/$name
  setsid "$bin" "${args[@]}" </dev/null >>"$dir/logs/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

stop_component() {
  local dir=$1 name=$2 pid i
  [[ -f $dir/$name.pid ]] || return 0
  pid=$(cat "$dir/$name.pid")
  # Only a process we started, still running the binary we recorded.
  if kill -0 "$pid" 2>/dev/null && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(cat "$dir/bin-dir")/$name"* ]]; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/$name.pid"
}

kubectl_() {
  "$(cat "$DIR/bin-dir")/kubectl" --kubeconfig "$DIR/kubeconfig.yaml" --request-timeout=5s "$@"
}

wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${seconds}s waiting for $what"
      return 1
    fi
    sleep 0.3
  done
}

etcd_healthy() { curl -fsS "http://127.0.0.1:$(cat "$DIR/etcd-port")/health" | grep -q '"health":"true"'; }
apiserver_ready() { [[ $(kubectl_ get --raw /readyz 2>/dev/null) == ok ]]; }

print_logs() {
  local dir=$1; shift
  local names=("$@")
  ((${#names[@]})) || names=("${components[@]}")
  local n
  for n in "${names[@]}"; do
    [[ -f $dir/logs/$n.log ]] || continue
    echo "----- $n (last 40 lines of $dir/logs/$n.log) -----"
    tail -n 40 "$dir/logs/$n.log"
  done
}

up() {
  local dir="" owner=""
  while (($#)); do
    case $1 in
      --dir) dir=$2; shift 2 ;;
      --owner-pid) owner=$2; shift 2 ;;
      *) die "unknown flag $1" ;;
    esac
  done
  [[ -n $dir ]] || dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-ds-cluster.XXXXXX")
  mkdir -p "$dir/logs"
  DIR=$dir
  local bin
  bin=$("$here/build.sh")
  echo "$bin" >"$dir/bin-dir"
  local started=$SECONDS

  make_pki "$dir/pki"
  local etcd_port etcd_peer api_port
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)
  echo "$etcd_port" >"$dir/etcd-port"
  echo "$api_port" >"$dir/apiserver-port"
  write_kubeconfig "$dir/kubeconfig.yaml" "$api_port" "$dir/pki/admin.crt" "$dir/pki/admin.key" kubectl-ds-admin

  # kwok needs stages: its default node and pod stages (from its module) plus the project's own.
  local kwok_dir stage
  kwok_dir=$(cat "$bin/kwok-module-dir")
  : >"$dir/kwok-stages.yaml"
  for stage in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    cat "$kwok_dir/kustomize/stage/$stage" >>"$dir/kwok-stages.yaml"
    printf '\n---\n' >>"$dir/kwok-stages.yaml"
  done
  cat "$here/stages.yaml" >>"$dir/kwok-stages.yaml"
  if [[ -n ${TESTCLUSTER_KWOK_PARALLELISM:-} ]]; then
    local p=$TESTCLUSTER_KWOK_PARALLELISM
    printf '\n---\napiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions:\n  podPlayStageParallelism: %s\n  nodePlayStageParallelism: %s\n  nodeLeaseParallelism: %s\n' \
      "$p" "$p" "$p" >>"$dir/kwok-stages.yaml"
  fi

  local pki=$dir/pki qps=${TESTCLUSTER_KUBE_API_QPS:-500} burst=${TESTCLUSTER_KUBE_API_BURST:-1000}
  printf '%s\n' --name=node0 --data-dir="$dir/etcd" --unsafe-no-fsync \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-cluster="node0=http://127.0.0.1:$etcd_peer" --auto-compaction-retention=1 \
    --quota-backend-bytes=8589934592 --log-level=warn >"$dir/etcd.args"
  printf '%s\n' --bind-address=127.0.0.1 --secure-port="$api_port" --advertise-address="$(advertise_address)" \
    --etcd-servers="http://127.0.0.1:$etcd_port" --etcd-prefix=/registry --allow-privileged=true \
    --authorization-mode=Node,RBAC --service-cluster-ip-range=10.96.0.0/16 \
    --tls-cert-file="$pki/admin.crt" --tls-private-key-file="$pki/admin.key" --client-ca-file="$pki/ca.crt" \
    --service-account-key-file="$pki/admin.key" --service-account-signing-key-file="$pki/admin.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --proxy-client-cert-file="$pki/admin.crt" --proxy-client-key-file="$pki/admin.key" \
    --max-requests-inflight=0 --max-mutating-requests-inflight=0 --enable-priority-and-fairness=false \
    >"$dir/kube-apiserver.args"
  if [[ ${TESTCLUSTER_AUDIT:-} == 1 ]]; then
    cat >"$dir/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: RequestResponse
  verbs: ["create", "delete", "patch", "update"]
  resources: [{group: "", resources: ["pods"]}]
- level: None
POLICY
    printf '%s\n' --audit-policy-file="$dir/audit-policy.yaml" --audit-log-path="$dir/logs/audit.log" \
      --audit-log-format=json --audit-log-mode=blocking >>"$dir/kube-apiserver.args"
  fi
  printf '%s\n' --kubeconfig="$dir/kubeconfig.yaml" --bind-address=127.0.0.1 --secure-port=0 \
    --root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/admin.key" --leader-elect=false \
    --kube-api-qps="$qps" --kube-api-burst="$burst" --concurrent-daemonset-syncs="${TESTCLUSTER_DAEMONSET_SYNCS:-4}" \
    --node-monitor-period=2s --node-monitor-grace-period="${TESTCLUSTER_NODE_MONITOR_GRACE:-40s}" \
    >"$dir/kube-controller-manager.args"
  printf '%s\n' --kubeconfig="$dir/kubeconfig.yaml" --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --kube-api-qps="$qps" --kube-api-burst="$burst" >"$dir/kube-scheduler.args"
  printf '%s\n' --kubeconfig="$dir/kubeconfig.yaml" --manage-all-nodes=true --config="$dir/kwok-stages.yaml" \
    --node-lease-duration-seconds="${TESTCLUSTER_NODE_LEASE_SECONDS:-40}" --node-ip=10.0.0.1 --cidr=10.0.0.0/16 >"$dir/kwok.args"

  if [[ -n $owner ]]; then
    # Stops the cluster when the owner goes away, however it goes.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -d $2 ]]; do sleep 1; done; exec "$0" down "$2"' \
      "$here/cluster.sh" "$owner" "$dir" </dev/null >/dev/null 2>&1 &
  fi

  launch "$dir" etcd
  wait_for etcd 30 etcd_healthy || { print_logs "$dir" etcd >&2; down "$dir"; exit 1; }
  launch "$dir" kube-apiserver
  wait_for kube-apiserver 120 apiserver_ready || { print_logs "$dir" kube-apiserver >&2; down "$dir"; exit 1; }
  launch "$dir" kube-controller-manager
  launch "$dir" kube-scheduler
  launch "$dir" kwok
  # The controller manager is working once it has made the default namespace's service account.
  wait_for "kube-controller-manager (default service account)" 120 kubectl_ get serviceaccount default -n default \
    || { print_logs "$dir" >&2; down "$dir"; exit 1; }
  local n
  for n in kube-controller-manager kube-scheduler kwok; do
    kill -0 "$(cat "$dir/$n.pid")" 2>/dev/null || { print_logs "$dir" "$n" >&2; down "$dir"; die "$n exited at start"; }
  done
  log "control plane ready in $((SECONDS - started))s ($dir)"
  echo "KUBECONFIG=$dir/kubeconfig.yaml"
}

# Through etcd's JSON gateway (/v3/kv/*): one write moves the revision past every resourceVersion
# a client holds, and a physical compaction at it makes all of them "too old" (410 Gone).
compact() {
  local dir=$1 url rev
  url=http://127.0.0.1:$(cat "$dir/etcd-port")/v3/kv
  # key "/kubectl-ds-test/compaction-bump", value "1", base64
  rev=$(curl -fsS -X POST "$url/put" -d '{"key":"L2t1YmVjdGwtZHMtdGVzdC9jb21wYWN0aW9uLWJ1bXA=","value":"MQ=="}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])') || die "etcd write failed"
  curl -fsS -X POST "$url/compaction" -d "{\"revision\":\"$rev\",\"physical\":true}" >/dev/null ||
    die "etcd compaction at revision $rev failed"
  echo "$rev"
}

down() {
  local dir=$1 i
  [[ -f $dir/bin-dir ]] || die "$dir is not a cluster folder made by this script"
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do
    stop_component "$dir" "${components[i]}"
  done
}

cmd=${1:-}
shift || true
case $cmd in
  up) up "$@" ;;
  down) down "$1" ;;
  stop) stop_component "$2" "$1" ;;
  start)
    DIR=$2
    launch "$2" "$1" "${@:3}"
    if [[ $1 == kube-apiserver ]]; then wait_for kube-apiserver 120 apiserver_ready || { print_logs "$2" kube-apiserver >&2; exit 1; }; fi
    ;;
  user) DIR=$1; make_user "$1" "$2" "${3:-}" ;;
  logs) dir=$1; shift; print_logs "$dir" "$@" ;;
  compact) compact "$1" ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
