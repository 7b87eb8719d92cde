#!/usr/bin/env bash
# Boots a Debian arm64 Linux guest in QEMU (TCG) whose own arm_ffa driver talks to Spmc, and prints what the
# driver and our test module saw. Builds or reuses QEMU with the forwarder and the guest (first run: minutes,
# see docs/vmm-integration.md; cached in ${SPMC_CACHE:-~/.cache/spmc}). Uses the Spmc at SPMC_URL
# (default http://127.0.0.1:5080), starting one for the demo's duration if none answers there.
#   scripts/qemu-demo.sh [--series 6.1|6.12] [--proxy pkvm-7.4|passthrough|pkvm-6.3|...]
set -euo pipefail
cd "$(dirname "$0")/.."
series=6.12 proxy=pkvm-7.4
while [ $# -gt 0 ]; do
  case "$1" in
    --series) series=$2; shift 2 ;;
    --proxy) proxy=$2; shift 2 ;;
    *) echo "usage: $0 [--series 6.1|6.12] [--proxy PROFILE]" >&2; exit 2 ;;
  esac
done
url=${SPMC_URL:-http://127.0.0.1:5080}
system=qemu-demo
out="$PWD/.ci/out"
mkdir -p "$out"
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "qemu-demo: '$tool' is needed: sudo apt-get install $tool" >&2; exit 1; }
done

echo "== building or reusing QEMU with the forwarder and the $series guest (first time: minutes)" >&2
qemu=$(integrations/qemu/build.sh | tail -n 1)
guest=$(integrations/guest/build.sh "$series" | tail -n 1)

server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; }
trap cleanup EXIT
if ! curl -sf -m 5 "$url/healthz" >/dev/null 2>&1; then
  # Something answering HTTP there without Spmc's health check is not ours to replace.
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$url/healthz" 2>/dev/null) || true
  if [ "${code:-000}" != 000 ]; then
    echo "qemu-demo: $url answers HTTP $code on /healthz but is not a healthy Spmc; set SPMC_URL to a free port" >&2
    exit 1
  fi
  echo "== starting Spmc at $url for the demo (log: $out/qemu-demo-server.log)" >&2
  dotnet build src/Spmc.Server -c Release --nologo -v q >"$out/qemu-demo-server.log" 2>&1 \
    || { echo "qemu-demo: building Spmc failed (log: $out/qemu-demo-server.log)" >&2; exit 1; }
  (cd src/Spmc.Server && Kestrel__Endpoints__Rest__Url="$url" Kestrel__Endpoints__Grpc__Url="http://127.0.0.1:0" \
    exec dotnet bin/Release/net10.0/Spmc.Server.dll) >>"$out/qemu-demo-server.log" 2>&1 &
  server=$!
  for _ in $(seq 120); do
    curl -sf -m 5 "$url/healthz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || break   # it exited: e.g. the port is taken by something that is not HTTP
    sleep 1
  done
  curl -sf -m 5 "$url/healthz" >/dev/null 2>&1 || {
    echo "qemu-demo: Spmc did not start at $url (log: $out/qemu-demo-server.log):" >&2
    grep -m 1 -E 'Exception' "$out/qemu-demo-server.log" >&2 || tail -n 5 "$out/qemu-demo-server.log" >&2
    exit 1
  }
fi

curl -s -m 30 -o /dev/null -X DELETE "$url/api/v1/systems/$system"
jq -n --arg id "$system" --arg proxy "$proxy" --slurpfile m examples/manifests/qemu-virt.json \
  '{id: $id, manifest: ($m[0] + {proxy: $proxy})}' |
  curl -sf -m 30 -o /dev/null -X POST "$url/api/v1/systems" -H 'content-type: application/json' -d @- \
  || { echo "cannot create system '$system' at $url" >&2; exit 1; }

echo "== booting Linux $series against system '$system' (proxy $proxy)" >&2
SPMC_URL=$url SPMC_SYSTEM=$system integrations/guest/boot.sh --qemu "$qemu" --series "$series" --dir "$guest" \
  | tee "$out/qemu-demo-guest.log" | grep -E '^(=== |ffa-spmc-test: )' || true
echo "== shares left in '$system': $(curl -s -m 30 "$url/api/v1/systems/$system/state" | jq '.shares | length')"
grep -q 'ffa-spmc-test: summary: [0-9]* passed, 0 failed' "$out/qemu-demo-guest.log" || {
  echo "qemu-demo: the guest's test module did not report all steps passed (serial log: $out/qemu-demo-guest.log)" >&2
  exit 1
}
