#!/usr/bin/env bash
# Runs the in-process micro benchmark of one SMC through SimulatedSystem (bench/Spmc.Bench.Micro, BenchmarkDotNet):
# FFA_VERSION and an echo direct request on a passthrough system, without telemetry (the baseline) and with the SMC
# log observer at Information, metrics (no listener / collected by prometheus-net), the server's default set-up and
# tracing sampled; it prints each as a ratio to the baseline. A short job: about two minutes on two cores.
# Arguments go to BenchmarkDotNet, e.g. `scripts/bench-micro.sh --filter '*Tracing*'` (default: --filter '*').
# Results: BenchmarkDotNet.Artifacts/results/ (Markdown, CSV).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 0 ] && set -- --filter '*'
exec dotnet run -c Release --project bench/Spmc.Bench.Micro -- "$@"
