#!/bin/busybox sh
# shellcheck shell=dash
# /init of Spmc's guest initramfs: loads the kernel's FF-A driver (built out of tree), lists the partitions it
# found, runs the test module and powers off. Every line meant for a parser starts with "=== " or with
# "ffa-spmc-test: "; see README.md for the contract.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel's built-in initramfs has /dev/console; should it be missing, devtmpfs has it now.
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

say() { echo "=== $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# Kernel log lines without their timestamp, "[    1.234567] ".
klog() { dmesg | sed 's/^\[[^]]*\] //'; }

say "spmc-guest: kernel $(uname -r)"
say "spmc-guest: uptime start $(uptime_s) s"
[ -r /proc/device-tree/psci/method ] && say "spmc-guest: psci method $(tr -d '\0' < /proc/device-tree/psci/method)"
klog | grep -i -E 'psci|smccc' | sed 's/^/=== dmesg: /'

# 6.1 builds the driver as one module; 6.12 splits the bus (ffa-core) from the driver (ffa-module).
for m in ffa-core ffa-module; do
  [ -f /lib/modules/$m.ko ] || continue
  insmod /lib/modules/$m.ko
  say "insmod $m rc=$?"
done
klog | grep -i -E 'ffa|ff-a' | grep -v 'ffa-spmc-test' | sed 's/^/=== dmesg: /'

list_devices() {
  for d in /sys/bus/arm_ffa/devices/*; do
    [ -e "$d" ] || continue
    line="$1: ${d##*/}"
    for a in partition_id uuid; do
      [ -r "$d/$a" ] && line="$line $a=$(cat "$d/$a")"
    done
    [ -e "$d/driver" ] && line="$line driver=$(basename "$(readlink "$d/driver")")"
    say "$line"
  done
}
list_devices ffa-device

# Parameters for the test module from the kernel command line (ffa_spmc_test.NAME=VALUE), as modprobe would.
# shellcheck disable=SC2046
insmod /lib/modules/ffa_spmc_test.ko $(tr ' ' '\n' < /proc/cmdline | sed -n 's/^ffa_spmc_test\.//p')
say "insmod ffa_spmc_test rc=$?"
klog | grep -E '^ffa-spmc-test: '
# After binding: under FF-A 1.0 the driver learns each UUID only when a driver asks for it.
list_devices ffa-device-bound
say "spmc-guest: uptime end $(uptime_s) s"
say "spmc-guest: done"
poweroff -f
