#!/usr/bin/env bash
# Boots the guest built by build.sh in QEMU's virt machine (TCG) and copies the serial console to stdout.
#
#   boot.sh --qemu BIN --series 6.1|6.12 [--dir OUTDIR] [--timeout 300] [--append ARGS] [-- EXTRA-QEMU-ARGS...]
#
# --append adds kernel parameters (e.g. ffa_spmc_test.wrong_check=share to see a step fail).
# OUTDIR is build.sh's output directory (one subdirectory per series; default: build.sh --check's answer).
# SPMC_URL, SPMC_SYSTEM, SPMC_TOKEN and SPMC_CALLER pass through to QEMU's FF-A forwarder.
# Exit status: 0 when the guest printed "=== spmc-guest: done", 124 on timeout, 1 otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { echo "boot: $*" >&2; }
die() { log "error: $*"; exit 1; }

qemu="" series="" dir="" limit=300 append="" extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --qemu) qemu="$2"; shift 2 ;;
    --series) series="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --timeout) limit="$2"; shift 2 ;;
    --append) append=" $2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[ -n "$qemu" ] && [ -x "$qemu" ] || die "--qemu BIN: an executable qemu-system-aarch64 is needed"
case "$series" in 6.1|6.12) ;; *) die "--series 6.1|6.12" ;; esac
[ -n "$dir" ] || dir="$("$here/build.sh" "$series" --check | tail -n1)" || die "guest not built: run build.sh $series"
[ -f "$dir/$series/vmlinuz" ] && [ -f "$dir/$series/initrd.cpio.gz" ] || die "no $series guest in $dir"

log "$series: $qemu, SPMC_URL=${SPMC_URL:-<unset>} SPMC_SYSTEM=${SPMC_SYSTEM:-default}, timeout ${limit}s"
log_file="$(mktemp)"
trap 'rm -f "$log_file"' EXIT
start=$SECONDS
set +e
# The serial console goes to stdout and, through tee, to a file that decides the exit status.
timeout --foreground -k 10 "$limit" "$qemu" -M virt,gic-version=3 -cpu max -smp 1 -m 256M -nographic -no-reboot -nic none \
  -kernel "$dir/$series/vmlinuz" -initrd "$dir/$series/initrd.cpio.gz" \
  -append "console=ttyAMA0 panic=-1 quiet loglevel=6$append" "${extra[@]}" </dev/null | tee "$log_file"
rc=${PIPESTATUS[0]}
set -e
log "$series: qemu exited with $rc after $((SECONDS - start)) s"
{ [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && { log "$series: timed out"; exit 124; }
grep -q '^=== spmc-guest: done' <(tr -d '\r' < "$log_file") && exit 0
log "$series: the guest did not finish"
exit 1
