#!/usr/bin/env bash
# Runs every test of the repository on a fresh Debian machine with the .NET 10 SDK and prints
# "N passed, N failed" as its last line. The build treats warnings as errors (Directory.Build.props), and
# `dotnet format --verify-no-changes` checks the style (.editorconfig): a difference counts as one failure.
# It first prints one line per set-up it is about to do (packages it installs, what it starts or downloads).
# Container tests (tests/Spmc.Container.Tests) need a Docker engine: scripts/docker-setup.sh installs Docker with
# apt-get when missing, starts dockerd when none answers, and builds a local stand-in for the aspnet base image. A
# dockerd started by this run is stopped at its end (SPMC_KEEP_DOCKERD=1 keeps it); one already running is left
# alone. SPMC_CONTAINER_TESTS=0 leaves the set-up and the project out, outside CI only; so does a failed set-up,
# outside CI. The container tests never skip: run without an engine, they fail and name the set-up.
# VMM tests need the C client, QEMU with the forwarder and the guest kernels: scripts/vmm-setup.sh builds them
# (cached in ~/.cache/spmc); SPMC_VMM_TESTS=0 leaves the set-up and those tests out, outside CI only.
# The Python client's tests need Debian's protoc, grpc_python_plugin and python3-grpcio/protobuf: clients/python/generate.sh
# installs them (apt-get) and generates the stubs.
set -uo pipefail
cd "$(dirname "$0")/.."

results=".ci/out/results"
rm -rf "$results" && mkdir -p "$results"
failed_setup=0
filters=()   # dotnet test filter terms, joined with '&'
containers_off=0; vmm_off=0
if [ "${SPMC_CONTAINER_TESTS:-1}" = "0" ] && [ "${CI:-}" != "true" ]; then containers_off=1; fi
if [ "${SPMC_VMM_TESTS:-1}" = "0" ] && [ "${CI:-}" != "true" ]; then vmm_off=1; fi

# --- What this run will set up, one line each, before doing any of it ------------------------------------
echo "test.sh: set-up before the tests:" >&2
if [ "$containers_off" = 1 ]; then
  echo "  Docker: none (SPMC_CONTAINER_TESTS=0: tests/Spmc.Container.Tests left out)" >&2
else
  echo "  $(scripts/docker-setup.sh --plan 2>&1 | tail -n 1)" >&2
fi
if [ "$vmm_off" = 1 ]; then
  echo "  VMM: none (SPMC_VMM_TESTS=0: tests/Spmc.Vmm.Tests left out)" >&2
else
  echo "  VMM (scripts/vmm-setup.sh): installs gcc, make and QEMU's/the kernels' build tools (apt-get) if missing;" \
       "downloads Debian's QEMU 7.2 source and kernel packages (~500 MB); builds the C client, QEMU with the forwarder" \
       "and the guest kernels into ${SPMC_CACHE:-~/.cache/spmc} (reused when cached; minutes when cold)" >&2
fi
if [ -x clients/python/generate.sh ]; then
  echo "  Python client (clients/python/generate.sh): installs protobuf-compiler, protobuf-compiler-grpc," \
       "python3-grpcio and python3-protobuf (apt-get) if missing" >&2
fi

# --- Docker --------------------------------------------------------------------------------------------
# A dockerd this run started is stopped before the summary (or on an interruption), unless SPMC_KEEP_DOCKERD=1.
SPMC_DOCKERD_STARTED=""
stop_dockerd() {
  [ -n "$SPMC_DOCKERD_STARTED" ] || return 0
  if [ "${SPMC_KEEP_DOCKERD:-}" = 1 ]; then
    echo "NOTE: dockerd (pid $SPMC_DOCKERD_STARTED), started by this run, keeps running (SPMC_KEEP_DOCKERD=1);" \
         "scripts/docker-setup.sh --stop stops it." >&2
  else
    scripts/docker-setup.sh --stop
  fi
  SPMC_DOCKERD_STARTED=""
}
trap stop_dockerd EXIT
if [ "$containers_off" = 1 ]; then
  echo "NOTE: SPMC_CONTAINER_TESTS=0: tests/Spmc.Container.Tests (Docker) was NOT run." >&2
  filters+=("FullyQualifiedName!~Spmc.Container.Tests")
else
  docker_ok=1
  docker_env=$(scripts/docker-setup.sh) || docker_ok=0
  eval "$(grep -E '^export SPMC_DOCKERD_STARTED=[0-9]+$' <<<"$docker_env")"   # only that line, nothing else
  if [ "$docker_ok" = 0 ] && [ "${CI:-}" = "true" ]; then
    echo "docker-setup failed under CI: the container tests run and fail" >&2
    failed_setup=1
  elif [ "$docker_ok" = 0 ]; then
    echo "NOTE: docker-setup failed (see above): tests/Spmc.Container.Tests was NOT run (under CI=true it fails)." >&2
    filters+=("FullyQualifiedName!~Spmc.Container.Tests")
  fi
fi

# --- Python client ---------------------------------------------------------------------------------------
# clients/python/generate.sh installs protobuf-compiler, protobuf-compiler-grpc, python3-grpcio and python3-protobuf
# with apt-get when missing and generates the stubs (git-ignored) that tests/Spmc.Clients.Tests runs the client with.
# Its failure fails those tests (they report its output).
clients/python/generate.sh >/dev/null || echo "python-setup failed (see above): tests/Spmc.Clients.Tests will fail" >&2

# --- VMM -----------------------------------------------------------------------------------------------
# The VMM tests never skip: a missing artefact fails them. Outside CI, switching the set-up off (or its failing)
# leaves the whole project out of the run, and the note says so; under CI they always run.
if [ "$vmm_off" = 1 ]; then
  echo "NOTE: SPMC_VMM_TESTS=0: tests/Spmc.Vmm.Tests (C client, QEMU, guests) was NOT run." >&2
  filters+=("FullyQualifiedName!~Spmc.Vmm.Tests")
else
  vmm_ok=1
  vmm_env=$(scripts/vmm-setup.sh) || vmm_ok=0
  eval "$(grep -E '^export SPMC_[A-Z_]+=' <<<"$vmm_env")"   # only its %q-quoted exports, nothing else it printed
  if [ "$vmm_ok" = 0 ] && [ "${CI:-}" = "true" ]; then
    echo "vmm-setup failed under CI: the VMM tests whose artefacts are missing fail" >&2
  elif [ "$vmm_ok" = 0 ]; then
    echo "NOTE: vmm-setup failed (see above): tests/Spmc.Vmm.Tests was NOT run." >&2
    filters+=("FullyQualifiedName!~Spmc.Vmm.Tests")
  fi
fi
filter_args=()
if [ ${#filters[@]} -gt 0 ]; then filter_args=(--filter "$(IFS='&'; echo "${filters[*]}")"); fi

dotnet test Spmc.sln --nologo -c Release "${filter_args[@]}" \
  --logger "trx" --results-directory "$results" \
  --logger "console;verbosity=minimal" 2>&1 | tee .ci/out/test.log
status=${PIPESTATUS[0]}

# Style: the code must be as `dotnet format` leaves it (.editorconfig); a difference counts as one failure.
format_failed=0
if ! dotnet format Spmc.sln --verify-no-changes --no-restore -v q >.ci/out/format.log 2>&1; then
  echo "dotnet format --verify-no-changes found differences (run 'dotnet format Spmc.sln'):" >&2
  head -20 .ci/out/format.log >&2
  format_failed=1
fi

# Sum the outcomes of every test from the TRX files (one per test project).
passed=0; failed=0
while IFS= read -r counters; do
  for attr in passed failed error timeout; do
    n=$(sed -n "s/.* ${attr}=\"\([0-9]*\)\".*/\1/p" <<<"$counters"); n=${n:-0}
    if [ "$attr" = passed ]; then passed=$((passed + n)); else failed=$((failed + n)); fi
  done
done < <(find "$results" -name '*.trx' -exec grep -ho '<Counters [^>]*>' {} + 2>/dev/null)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a build or host failure counts as a failure
failed=$((failed + failed_setup + format_failed))
stop_dockerd; trap - EXIT
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
