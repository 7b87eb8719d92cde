#!/usr/bin/env bash
# Regenerates the golden traces (tests/Spmc.Core.Tests/Tracing/Golden/*.jsonl) from their flows
# (tests/Spmc.Core.Tests/Tracing/GoldenFlows.cs). Run it after an intended behaviour change, then review
# `git diff tests/Spmc.Core.Tests/Tracing/Golden` and commit the traces with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
SPMC_GOLDEN_REGENERATE=1 dotnet test tests/Spmc.Core.Tests -c Release \
  --filter "FullyQualifiedName~Spmc.Core.Tests.Tracing.GoldenTraceTests.GoldenTrace_Replays_Identically" "$@"
git status --short tests/Spmc.Core.Tests/Tracing/Golden
