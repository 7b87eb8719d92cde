#!/usr/bin/env bash
# Runs the in-process micro benchmarks (bench/Spmc.Bench.Micro, BenchmarkDotNet). By default, one SMC through
# SimulatedSystem (SmcTelemetryBenchmarks): FFA_VERSION and an echo direct request on a passthrough system, without
# telemetry (the baseline) and with the SMC log observer at Information, metrics (no listener / collected by prometheus-net), the server's default set-up and
# tracing sampled; it prints each as a ratio to the baseline. A short job: about two minutes on two cores.
# Arguments go to BenchmarkDotNet (default: --filter '*SmcTelemetry*'). Snapshots (docs/snapshots.md):
# `--filter '*.SnapshotBenchmarks.*'` (default system, seconds) and `--filter '*LargeSnapshot*'` (1 GiB written:
# about 3 minutes and 1 GiB of RAM). Persistence (docs/persistence.md): `--filter '*Persistence*'` (off, batched,
# strict; about 2 minutes).
# Results: BenchmarkDotNet.Artifacts/results/ (Markdown, CSV).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 0 ] && set -- --filter '*SmcTelemetry*'
exec dotnet run -c Release --project bench/Spmc.Bench.Micro -- "$@"
