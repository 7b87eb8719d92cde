#!/usr/bin/env bash
# Builds what the VMM tests (tests/Spmc.Vmm.Tests) need, reusing the cache in ${SPMC_CACHE:-~/.cache/spmc}:
#   1. clients/c's test program                 (installs gcc, make; seconds)
#   2. QEMU 7.2 with the Spmc forwarder          (integrations/qemu/build.sh; cold: Debian's source package and
#                                                 a build of minutes; cached by the hash of its inputs)
#   3. the guest kernels 6.1 and 6.12 + modules (integrations/guest/build.sh; cold: ~500 MB of Debian packages)
# Prints `export NAME=value` lines for scripts/test.sh (SPMC_C_CLIENT_TEST, SPMC_QEMU, SPMC_GUEST_DIR), one per
# part that succeeded; exits non-zero if any part failed. Every part is bounded in time. Logs go to .ci/out/vmm-*.log.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .ci/out
status=0

# part NAME VARIABLE SECONDS COMMAND...: runs COMMAND under a time bound; its last stdout line is the artefact.
part() {
  local name=$1 variable=$2 seconds=$3; shift 3
  local log=".ci/out/vmm-$name.log" start=$SECONDS out
  echo "vmm-setup: $name ..." >&2
  if out=$(timeout -k 30 "$seconds" "$@" 2>"$log" | tail -n 1) && [ -n "$out" ] && [ -e "$out" ]; then
    echo "vmm-setup: $name ready in $((SECONDS - start)) s: $out" >&2
    printf 'export %s=%q\n' "$variable" "$out"
  else
    echo "vmm-setup: $name FAILED after $((SECONDS - start)) s (log: $log):" >&2
    tail -n 15 "$log" >&2
    status=1
  fi
}

c_client() {
  source integrations/lib/apt.sh
  spmc_apt_install gcc make libc6-dev >&2 || return 1
  make -C clients/c test >&2 || return 1
  echo "$PWD/clients/c/build/test_spmc"
}

export -f c_client
part c-client SPMC_C_CLIENT_TEST 600 bash -c c_client
part qemu SPMC_QEMU 2400 integrations/qemu/build.sh
part guest SPMC_GUEST_DIR 1800 integrations/guest/build.sh all
exit $status
