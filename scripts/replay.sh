#!/usr/bin/env bash
# Replays a trace (JSON Lines, as GET /api/v1/systems/{id}/trace or a recording wrote it) on a running
# service and prints the report: as text (the first difference with both answers decoded), or with --json
# the JSON report. Exit status: 0 identical, 1 a difference, 2 the service refused the trace or failed.
#   scripts/replay.sh [--json] FILE [URL]        URL defaults to http://127.0.0.1:5080
set -euo pipefail

format=text
if [[ "${1:-}" == --json ]]; then format=json; shift; fi
if [[ $# -lt 1 || $# -gt 2 || "$1" == -h || "$1" == --help ]]; then
  echo "usage: $0 [--json] FILE [URL]   (URL defaults to http://127.0.0.1:5080)" >&2
  exit 2
fi
file=$1
url=${2:-http://127.0.0.1:5080}
[[ -r "$file" && -f "$file" ]] || { echo "replay: cannot read '$file'" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=$(curl -sS -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X POST "$url/api/v1/replay?format=$format" \
  -H 'content-type: application/x-ndjson' --data-binary "@$file") || { echo "replay: cannot reach $url" >&2; exit 2; }
cat "$tmp/body"
if [[ "$status" != 200 ]]; then
  echo; echo "replay: HTTP $status" >&2
  exit 2
fi
[[ "$format" == text ]] || echo
grep -qi '^x-spmc-replay-identical: *true' "$tmp/headers"
