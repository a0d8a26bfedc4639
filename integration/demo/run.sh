#!/usr/bin/env bash
# The README's first command (`make demo`): runletd on its built-in
# defaults (no config file, the built-in pause, no registry), a busybox
# image built from this machine's busybox-static and imported, then a pod
# with a container driven by the real crictl. It cleans up what it made
# and stops the runletd it started.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=$repo/bin
crictl="$repo/.tools/crictl --runtime-endpoint unix:///run/runlet/runlet.sock --image-endpoint unix:///run/runlet/runlet.sock"
work=$(mktemp -d /tmp/runlet-demo.XXXXXX)
export PATH=$bin:$PATH CRI_CONFIG_FILE=/dev/null

# Pods without a cgroup_parent live under the runtime's "runlet" parent,
# which runletd leaves in place (as containerd leaves its own); the demo
# removes it again when it made it (rmdir removes only empty ones).
had_parent=$(ls -d /sys/fs/cgroup/*/runlet 2>/dev/null | head -1 || true)

cleanup() {
  [ -n "${pod:-}" ] && $crictl rmp -f "$pod" >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  [ -z "$had_parent" ] && rmdir /sys/fs/cgroup/*/runlet 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -S /run/runlet/runlet.sock ] && $crictl version >/dev/null 2>&1; then
  echo "a runletd already serves /run/runlet/runlet.sock; stop it first" >&2
  exit 1
fi

echo "== busybox image from /bin/busybox, imported without a registry"
(cd "$repo" && go run ./integration/images/cmd/mkimage -o "$work/busybox.tar")
runletd images import "$work/busybox.tar"

echo "== runletd on its built-in defaults"
runletd >"$work/runletd.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do $crictl version >/dev/null 2>&1 && break; sleep 0.1; done
$crictl version

cat >"$work/pod.json" <<JSON
{"metadata": {"name": "demo", "namespace": "default", "uid": "demo-$$", "attempt": 0},
 "hostname": "demo", "log_directory": "$work/logs", "linux": {}}
JSON
cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "hello"}, "image": {"image": "docker.io/library/busybox:latest"},
 "command": ["sh", "-c", "echo hello from a runlet pod: \$(hostname), pid \$\$, \$(id)"], "log_path": "hello.log"}
JSON

echo "== a pod (built-in pause) and a container"
pod=$($crictl runp "$work/pod.json")
ctr=$($crictl create "$pod" "$work/ctr.json" "$work/pod.json")
$crictl start "$ctr" >/dev/null
for _ in $(seq 50); do $crictl ps -a --id "$ctr" | grep -q Exited && break; sleep 0.1; done
$crictl pods
$crictl ps -a
echo "== crictl logs"
$crictl logs "$ctr"
$crictl rm "$ctr" >/dev/null
$crictl stopp "$pod" >/dev/null
$crictl rmp "$pod" >/dev/null
pod=
echo "== done: pod and container removed, runletd stopped"
