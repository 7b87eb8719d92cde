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
mkdir -p .ci/out

echo "== building or reusing QEMU with the forwarder and the $series guest (first time: minutes)" >&2
qemu=$(integrations/qemu/build.sh | tail -n 1)
guest=$(integrations/guest/build.sh "$series" | tail -n 1)

server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; }
trap cleanup EXIT
if ! curl -sf "$url/healthz" >/dev/null 2>&1; then
  echo "== starting Spmc at $url for the demo" >&2
  dotnet build src/Spmc.Server -c Release --nologo -v q >.ci/out/qemu-demo-server.log 2>&1
  (cd src/Spmc.Server && Kestrel__Endpoints__Rest__Url="$url" Kestrel__Endpoints__Grpc__Url="http://127.0.0.1:0" \
    exec dotnet bin/Release/net10.0/Spmc.Server.dll) >>.ci/out/qemu-demo-server.log 2>&1 &
  server=$!
  for _ in $(seq 120); do curl -sf "$url/healthz" >/dev/null 2>&1 && break; sleep 1; done
  curl -sf "$url/healthz" >/dev/null || { echo "Spmc did not start (log: .ci/out/qemu-demo-server.log)" >&2; exit 1; }
fi

curl -s -o /dev/null -X DELETE "$url/api/v1/systems/$system"
jq -n --arg id "$system" --arg proxy "$proxy" --slurpfile m examples/manifests/qemu-virt.json \
  '{id: $id, manifest: ($m[0] + {proxy: $proxy})}' |
  curl -sf -o /dev/null -X POST "$url/api/v1/systems" -H 'content-type: application/json' -d @- \
  || { echo "cannot create system '$system' at $url" >&2; exit 1; }

echo "== booting Linux $series against system '$system' (proxy $proxy)" >&2
SPMC_URL=$url SPMC_SYSTEM=$system integrations/guest/boot.sh --qemu "$qemu" --series "$series" --dir "$guest" \
  | tee .ci/out/qemu-demo-guest.log | grep -E '^(=== |ffa-spmc-test: )' || true
echo "== shares left in '$system': $(curl -s "$url/api/v1/systems/$system/state" | jq '.shares | length')"
grep -q 'ffa-spmc-test: summary: [0-9]* passed, 0 failed' .ci/out/qemu-demo-guest.log
