#!/usr/bin/env bash
# Builds Release and runs the loopback benchmark of the SMC gateway (bench/Spmc.Bench) with its defaults:
# it starts src/Spmc.Server on free 127.0.0.1 ports, measures gRPC Call, gRPC Session (ping-pong and
# pipelined) and REST POST .../smc, prints p50/p90/p99/max in microseconds and calls/s, and stops the server.
# Arguments are passed on, e.g. `scripts/bench.sh --calls 5000 --time-limit 30` or
# `scripts/bench.sh --url http://127.0.0.1:5081 --rest-url http://127.0.0.1:5080`; see `--help`.
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet build src/Spmc.Server/Spmc.Server.csproj -c Release --nologo -v quiet
dotnet build bench/Spmc.Bench/Spmc.Bench.csproj -c Release --nologo -v quiet
exec dotnet bench/Spmc.Bench/bin/Release/net10.0/Spmc.Bench.dll \
  --server src/Spmc.Server/bin/Release/net10.0/Spmc.Server.dll "$@"
