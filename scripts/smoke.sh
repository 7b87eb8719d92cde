#!/usr/bin/env bash
# Smoke client for a running Spmc service: the `smoke` service of docker-compose.yml runs it, and it
# works from any host with bash (no curl needed: it speaks HTTP/1.0 over bash's /dev/tcp).
#   SPMC_REST=host:port (default spmc:5080)   SPMC_GRPC=host:port (default spmc:5081)
#   SPMC_SMOKE_WAIT=seconds to wait for /healthz (default 60)   SPMC_SMOKE_SYSTEMS="default lab"
#   SPMC_TOKEN=the operator token of a service with access tokens on (sent as Authorization: Bearer)
# Checks: /healthz answers Healthy; FFA_VERSION(1.2) on the default system answers 0x10002; each system
# named in SPMC_SMOKE_SYSTEMS exists; the gRPC port accepts connections. Exit code 0 when all pass.
set -uo pipefail
REST="${SPMC_REST:-spmc:5080}"
GRPC="${SPMC_GRPC:-spmc:5081}"
WAIT="${SPMC_SMOKE_WAIT:-60}"
SYSTEMS="${SPMC_SMOKE_SYSTEMS:-default}"
AUTH=""
[ -n "${SPMC_TOKEN:-}" ] && AUTH="Authorization: Bearer $SPMC_TOKEN"$'\r\n'

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
ok() { echo "smoke: ok: $*"; }

# http METHOD PATH [JSON-BODY] -> prints "STATUS" on the first line, then the body.
http() {
  local method=$1 path=$2 body=${3:-} host=${REST%:*} port=${REST##*:} response
  exec 3<>"/dev/tcp/$host/$port" || return 1
  if [ -n "$body" ]; then
    printf '%s %s HTTP/1.0\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
      "$method" "$path" "$host" "$AUTH" "${#body}" "$body" >&3
  else
    printf '%s %s HTTP/1.0\r\nHost: %s\r\n%s\r\n' "$method" "$path" "$host" "$AUTH" >&3
  fi
  response=$(timeout 10 cat <&3); exec 3<&-
  # Status code, then everything after the blank line that ends the headers.
  printf '%s\n' "$(head -n 1 <<<"$response" | cut -d ' ' -f 2)"
  sed '1,/^\r\{0,1\}$/d' <<<"$response"
}

# 1. health, with a bounded wait for the service to come up.
deadline=$((SECONDS + WAIT))
until out=$(http GET /healthz 2>/dev/null) && [ "$(head -n 1 <<<"$out")" = 200 ]; do
  [ $SECONDS -lt $deadline ] || fail "GET http://$REST/healthz did not answer 200 within ${WAIT}s: ${out:-no answer}"
  sleep 1
done
ok "GET /healthz: $(tail -n +2 <<<"$out")"

# 2. FFA_VERSION (0x84000063) asking for v1.2 (0x10002) as the host VM: x0 must be 0x10002.
out=$(http POST /api/v1/systems/default/smc '{"caller":"0x0","x":["0x84000063","0x10002"]}') \
  || fail "POST /api/v1/systems/default/smc: no answer"
[ "$(head -n 1 <<<"$out")" = 200 ] || fail "FFA_VERSION: HTTP $(head -n 1 <<<"$out"): $(tail -n +2 <<<"$out")"
x0=$(tail -n +2 <<<"$out" | tr -d ' \r\n' | sed -n 's/.*"x":\["\([^"]*\)".*/\1/p')
[ "$x0" = 0x10002 ] || fail "FFA_VERSION: x0 = '${x0}', expected 0x10002: $(tail -n +2 <<<"$out")"
ok "FFA_VERSION(1.2) -> x0 = $x0"

# 3. the systems that should exist (the default one plus those from the mounted manifest directory).
for id in $SYSTEMS; do
  out=$(http GET "/api/v1/systems/$id") || fail "GET /api/v1/systems/$id: no answer"
  [ "$(head -n 1 <<<"$out")" = 200 ] || fail "system '$id': HTTP $(head -n 1 <<<"$out")"
  ok "system '$id' exists"
done

# 4. the gRPC endpoint accepts connections (speaking HTTP/2 takes a real client: see the container tests).
timeout 5 bash -c "exec 3<>/dev/tcp/${GRPC%:*}/${GRPC##*:}" 2>/dev/null || fail "gRPC port $GRPC refuses connections"
ok "gRPC port $GRPC accepts connections"
echo "smoke: PASSED"
