#!/usr/bin/env bash
# Replays a trace (JSON Lines, as GET /api/v1/systems/{id}/trace or a recording wrote it) on a running
# service and prints the report. Exit status: 0 identical, 1 a difference, 2 the service refused or failed.
#   scripts/replay.sh FILE [URL]        URL defaults to http://127.0.0.1:5080
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || "$1" == -h || "$1" == --help ]]; then
  echo "usage: $0 FILE [URL]   (URL defaults to http://127.0.0.1:5080)" >&2
  exit 2
fi
file=$1
url=${2:-http://127.0.0.1:5080}
[[ -r "$file" ]] || { echo "replay: cannot read '$file'" >&2; exit 2; }

body=$(mktemp)
trap 'rm -f "$body"' EXIT
status=$(curl -sS -o "$body" -w '%{http_code}' -X POST "$url/api/v1/replay" \
  -H 'content-type: application/x-ndjson' --data-binary "@$file") || { echo "replay: cannot reach $url" >&2; exit 2; }
cat "$body"; echo
if [[ "$status" != 200 ]]; then
  echo "replay: HTTP $status" >&2
  exit 2
fi
grep -q '"identical": *true' "$body"
