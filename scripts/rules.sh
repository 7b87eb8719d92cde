#!/usr/bin/env bash
# Regenerates docs/rules.md, the rule catalogue, from the Rule declarations in src/ (Spmc.Abi and Spmc.Core).
# A test (RuleCatalogueTests) fails while the committed file differs from what the code declares.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
if ! SPMC_UPDATE_RULES=1 dotnet test tests/Spmc.Core.Tests -c Release --nologo \
     --filter "FullyQualifiedName~RuleCatalogueTests.Committed_catalogue_matches_the_code" >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"; exit 1
fi
rm -f "$log"
echo "docs/rules.md: $(grep -c '^| `' docs/rules.md) rules"
