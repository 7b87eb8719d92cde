#!/usr/bin/env bash
# Builds the guest for QEMU's virt machine, per kernel series (6.1: bookworm/security, 6.12: bookworm-backports):
# Debian's arm64 kernel image, the kernel's own arm_ffa driver (unmodified, from Debian's linux-source) and our
# test module, both built out of tree against Debian's linux-headers, and a busybox initramfs.
#
#   build.sh [6.1|6.12|all] [--print-key] [--check]
#
# Output: $SPMC_CACHE/guest/<key>/<series>/{vmlinuz,initrd.cpio.gz,versions.txt}; the last stdout line is
# $SPMC_CACHE/guest/<key>. The key hashes this script, init.sh, ffa-test/ and the Debian versions of both series.
# --print-key prints the key and exits; --check exits 0 when the requested series are built (printing the
# directory), 1 otherwise, building nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/apt.sh
source "$here/../lib/apt.sh"

log() { echo "guest: $*" >&2; }
die() { log "error: $*"; exit 1; }

want="all" mode="build"
for a in "$@"; do
  case "$a" in
    6.1|6.12|all) want="$a" ;;
    --print-key) mode="key" ;;
    --check) mode="check" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown argument: $a" ;;
  esac
done
all_series=(6.1 6.12)
if [ "$want" = all ]; then series=("${all_series[@]}"); else series=("$want"); fi

root="$SPMC_CACHE/guest"
debs="$root/debs"
mkdir -p "$debs"

# --- Versions: follow Debian's metapackage, so a new kernel ABI (a security upload) is picked up. ---
# Three apt-cache runs (each loads the private lists, about a second): candidates, metapackages, headers.
declare -A V ABI KBUILD
# `show` records, one line each: "<Version> <the first Depends>".
records() { awk '/^Version:/ {v=$2} /^Depends:/ {d=substr($0, 10)} /^$/ {if (v) print v, d; v=""; d=""} END {if (v) print v, d}'; }
cand="$(spmc_apt_cache policy busybox-static:arm64 linux-image-arm64:arm64 | awk '/^[^ ]/ {p=$1} /Candidate:/ {print p, $2}')"
bb_ver="$(awk '$1 == "busybox-static:arm64:" {print $2}' <<<"$cand")"
v61="$(awk '$1 == "linux-image-arm64:arm64:" {print $2}' <<<"$cand")"
[ -n "$bb_ver" ] && [ "$bb_ver" != "(none)" ] || die "busybox-static:arm64 not found"
[ -n "$v61" ] && [ "$v61" != "(none)" ] || die "linux-image-arm64:arm64 not found"
# 6.1: apt's candidate (bookworm or bookworm-security); 6.12: bookworm-backports' metapackage.
while read -r v deps; do
  abi="$(sed -n 's/.*linux-image-\([^ ,]*\)-arm64 .*/\1/p' <<<"$deps")"
  case "$abi" in 6.1.*) s=6.1 ;; 6.12.*) s=6.12 ;; *) die "metapackage $v names kernel ABI '$abi'" ;; esac
  V[$s]="$v" ABI[$s]="$abi"
done < <(spmc_apt_cache show "linux-image-arm64:arm64=$v61" linux-image-arm64:arm64/bookworm-backports | records)
for s in "${all_series[@]}"; do [ -n "${V[$s]:-}" ] || die "no linux-image-arm64:arm64 for $s"; done
while read -r v deps; do
  kb="$(grep -o 'linux-kbuild-[^ ,]*' <<<"$deps" | head -n1)"
  for s in "${all_series[@]}"; do [ "$v" = "${V[$s]}" ] && KBUILD[$s]="$kb"; done
done < <(spmc_apt_cache show "linux-headers-${ABI[6.1]}-arm64:arm64=${V[6.1]}" \
  "linux-headers-${ABI[6.12]}-arm64:arm64=${V[6.12]}" | records)
for s in "${all_series[@]}"; do [ -n "${KBUILD[$s]:-}" ] || die "linux-headers-${ABI[$s]}-arm64 ${V[$s]}: no linux-kbuild"; done

versions() { # the inputs of one series, as written to versions.txt
  local s="$1"
  printf 'series=%s\nkernel_abi=%s\nkernel_version=%s\nlinux-image=linux-image-%s-arm64-unsigned:arm64=%s\n' \
    "$s" "${ABI[$s]}" "${V[$s]}" "${ABI[$s]}" "${V[$s]}"
  printf 'linux-headers=linux-headers-%s-arm64:arm64=%s linux-headers-%s-common=%s\n' "${ABI[$s]}" "${V[$s]}" "${ABI[$s]}" "${V[$s]}"
  printf 'linux-kbuild=%s=%s\nlinux-source=linux-source-%s=%s\nbusybox-static=busybox-static:arm64=%s\n' \
    "${KBUILD[$s]}" "${V[$s]}" "$s" "${V[$s]}" "$bb_ver"
}

key="$( { cat "$here/build.sh" "$here/init.sh"; (cd "$here/ffa-test" && find . -type f | LC_ALL=C sort | xargs cat);
  for s in "${all_series[@]}"; do versions "$s"; done; } | sha256sum | cut -c1-12)"
out="$root/$key"
if [ "$mode" = key ]; then echo "$key"; exit 0; fi
if [ "$mode" = check ]; then
  for s in "${series[@]}"; do [ -f "$out/$s/.done" ] || { log "$s not built for key $key"; exit 1; }; done
  echo "$out"; exit 0
fi

# --- Host tools. kbuild's own programs (fixdep, modpost) are amd64 and come from linux-kbuild's .deb. ---
spmc_apt_install gcc-12-aarch64-linux-gnu binutils-aarch64-linux-gnu bc cpio make xz-utils
CC=aarch64-linux-gnu-gcc-12
STRIP=aarch64-linux-gnu-strip
NM=aarch64-linux-gnu-nm
vermagic() { aarch64-linux-gnu-objcopy -O binary -j .modinfo "$1" /dev/stdout | tr '\0' '\n' | sed -n 's/^vermagic=//p'; }

# fetch PKG VERSION: the .deb's path in $debs (downloaded once).
fetch() {
  local pkg="${1%%:*}" ver="$2" f
  f="$(compgen -G "$debs/${pkg}_${ver//:/%3a}_*.deb" | head -n1 || true)"
  if [ -z "$f" ]; then
    log "downloading $1=$ver"
    (cd "$debs" && spmc_apt_get download -q "$1=$ver" >&2) ||
      die "cannot download $1=$ver: if the archive has a newer upload (a security update), rerun with SPMC_APT_REFRESH=1"
    f="$(compgen -G "$debs/${pkg}_${ver//:/%3a}_*.deb" | head -n1 || true)"
    [ -n "$f" ] || die "download of $1=$ver left no .deb"
  fi
  echo "$f"
}

# The kernel image and a tree to build modules in: headers (arm64 + common) and kbuild extracted into one root,
# so the headers' relative scripts/tools links land on the extracted kbuild; the arm64 Makefile's absolute
# include of the common tree is pointed at the extracted copy.
prepare_kernel() {
  local s="$1" abi="${ABI[$1]}" v="${V[$1]}" dir="$root/kernel/${ABI[$1]}_${V[$1]}" d tmp
  if [ ! -f "$dir/.done" ]; then
    log "$s: preparing kernel $abi ($v) in $dir"
    rm -rf "$dir"; mkdir -p "$dir/root"
    tmp="$(mktemp -d "$root/tmp.XXXXXX")"
    d="$(fetch "linux-image-$abi-arm64-unsigned:arm64" "$v")"
    dpkg-deb --fsys-tarfile "$d" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
    mv "$tmp"/boot/vmlinuz-* "$dir/vmlinuz"
    rm -rf "$tmp" "$d"   # 60-90 MB .deb: only vmlinuz is kept
    for d in "linux-headers-$abi-arm64:arm64" "linux-headers-$abi-common" "${KBUILD[$s]}"; do
      dpkg-deb -x "$(fetch "$d" "$v")" "$dir/root"
    done
    sed -i "s#/usr/src/#$dir/root/usr/src/#g" "$dir/root/usr/src/linux-headers-$abi-arm64/Makefile"
    [ -e "$dir/root/usr/src/linux-headers-$abi-arm64/scripts/Makefile.build" ] || die "$s: scripts link is dangling"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# The in-tree driver's files, from linux-source's tarball, kept per source version (the .deb is 140-150 MB).
prepare_driver() {
  local s="$1" v="${V[$1]}" dir="$root/arm_ffa/${1}_${V[$1]}" d tmp
  if [ ! -f "$dir/.done" ]; then
    log "$s: extracting drivers/firmware/arm_ffa from linux-source-$s $v"
    d="$(fetch "linux-source-$s" "$v")"
    rm -rf "$dir"; mkdir -p "$dir"
    tmp="$(mktemp -d "$root/tmp.XXXXXX")"
    dpkg-deb --fsys-tarfile "$d" | tar -xO --wildcards "./usr/src/linux-source-$s.tar.xz" | xz -dc -T2 |
      tar -x -C "$tmp" --wildcards "linux-source-$s/drivers/firmware/arm_ffa/*"
    cp "$tmp/linux-source-$s/drivers/firmware/arm_ffa/"* "$dir/"
    rm -rf "$tmp" "$d"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# Every undefined symbol of a module must be exported by the kernel or by the modules loaded before it.
check_symbols() {
  local ko="$1"; shift
  local missing
  missing="$($NM -u "$ko" | awk '{print $2}' | while read -r sym; do
    grep -q -P "^0x[0-9a-f]+\t\Q$sym\E\t" "$@" || echo "$sym"; done)"
  [ -z "$missing" ] || die "$(basename "$ko"): symbols not exported by the kernel: $missing"
}

build_series() {
  local s="$1" abi="${ABI[$1]}" kdir ddir hdr bb work t0
  t0=$SECONDS
  kdir="$(prepare_kernel "$s")"
  ddir="$(prepare_driver "$s")"
  hdr="$kdir/root/usr/src/linux-headers-$abi-arm64"
  work="$out/$s.work"
  rm -rf "${work:?}" "${out:?}/$s"; mkdir -p "$work/ffa" "$work/test" "$work/initrd"

  # The driver, unmodified, with its own Makefile; Debian leaves CONFIG_ARM_FFA_TRANSPORT unset, so this Kbuild
  # sets what its Kconfig would have and tells <linux/arm_ffa.h> that the transport is (reachable as) a module.
  cp "$ddir"/*.c "$ddir"/*.h "$ddir/Makefile" "$work/ffa/"
  cat > "$work/ffa/Kbuild" <<'K'
CONFIG_ARM_FFA_TRANSPORT := m
CONFIG_ARM_FFA_SMCCC := y
ccflags-y += -DCONFIG_ARM_FFA_SMCCC=1 -DCONFIG_ARM_FFA_TRANSPORT_MODULE=1
include $(src)/Makefile
K
  cp "$here"/ffa-test/* "$work/test/"
  # No BTF for these modules: 6.12's headers ship a vmlinux for it, which would need pahole; nothing here uses BTF.
  local mk=(make -s -C "$hdr" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- "CC=$CC" CONFIG_DEBUG_INFO_BTF_MODULES= -j2)
  log "$s: building the arm_ffa driver against $abi"
  nice -n 10 "${mk[@]}" "M=$work/ffa" modules >&2
  log "$s: building ffa_spmc_test"
  nice -n 10 "${mk[@]}" "M=$work/test" "KBUILD_EXTRA_SYMBOLS=$work/ffa/Module.symvers" modules >&2

  $NM -u "$work/test/ffa_spmc_test.ko" | grep -q ' ffa_driver_register$' ||
    die "ffa_spmc_test.ko does not call the driver's ffa_driver_register (built against the header's stub?)"
  local ko mods=()
  for ko in "$work"/ffa/*.ko "$work/test/ffa_spmc_test.ko"; do
    check_symbols "$ko" "$hdr/Module.symvers" "$work/ffa/Module.symvers"
    case "$(vermagic "$ko")" in "$abi-arm64 "*) ;; *) die "$(basename "$ko"): vermagic '$(vermagic "$ko")' is not $abi-arm64" ;; esac
    mods+=("$ko")
  done

  bb="$root/busybox/$bb_ver"
  if [ ! -x "$bb/busybox" ]; then
    mkdir -p "$bb"
    dpkg-deb --fsys-tarfile "$(fetch busybox-static:arm64 "$bb_ver")" | tar -xO ./bin/busybox > "$bb/busybox.tmp"
    chmod 755 "$bb/busybox.tmp" && mv "$bb/busybox.tmp" "$bb/busybox"
  fi
  (cd "$work/initrd" && mkdir -p bin dev proc sys lib/modules)
  cp "$bb/busybox" "$work/initrd/bin/busybox"
  install -m 755 "$here/init.sh" "$work/initrd/init"
  for ko in "${mods[@]}"; do $STRIP --strip-debug -o "$work/initrd/lib/modules/$(basename "$ko")" "$ko"; done

  mkdir -p "$work/out"
  (cd "$work/initrd" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n > "$work/out/initrd.cpio.gz"
  cp "$kdir/vmlinuz" "$work/out/vmlinuz"
  { versions "$s"; echo "key=$key";
    for ko in "${mods[@]}"; do echo "module=$(basename "$ko") vermagic=$(vermagic "$ko")"; done; } > "$work/out/versions.txt"
  touch "$work/out/.done"
  mv "$work/out" "$out/$s"
  rm -rf "$work"
  log "$s: built in $((SECONDS - t0)) s: $out/$s ($(du -sh "$out/$s" | cut -f1))"
}

# Runs that share the cache take turns: a build removes and rewrites its work directories and the kernel trees.
# A series another run finished while this one waited is then found cached.
for s in "${series[@]}"; do
  [ -f "$out/$s/.done" ] && continue
  exec 9>"$root/.lock"
  log "taking $root/.lock (one build at a time)"
  flock -w 3600 9 || die "another build holds $root/.lock"
  break
done
for s in "${series[@]}"; do
  if [ -f "$out/$s/.done" ]; then log "$s: cached in $out/$s"; else build_series "$s"; fi
done
echo "$out"
