#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make bench` (scripts/bench): kintrospect's CPU
# snapshot and the kernel's SysRq-l, and its slab delta and userspace
# reading /proc/slabinfo twice, side by side in one boot. Prints
# "BENCH key=value" lines that scripts/bench turns into ratios.

B=/kselftest/kintrospect/kintrospect_bench
modprobe kintrospect || exit 1
echo 1 > /proc/sys/kernel/sysrq
echo "BENCH cpus=$(grep -c '^processor' /proc/cpuinfo)"
echo "BENCH $(grep '^snapshot_memory_bytes' /sys/kernel/debug/kintrospect/status | tr -d ' ' | tr : =)"
# Warm up both paths once.
$B snapshot 5 >/dev/null && $B sysrq-l 1 >/dev/null || exit 1
$B snapshot 200 | sed 's/^/BENCH /'
$B sysrq-x 20 | sed 's/^/BENCH /'
$B sysrq-l 20 | sed 's/^/BENCH /'
# Lock-holder reports against SysRq-d, with 1,000 and 10,000 sleeping threads.
$B locks 10 1000 | sed 's/^/BENCH /'
$B locks 5 10000 | sed 's/^/BENCH /'
# Slab deltas: one in-kernel sample + diff against userspace reading and
# parsing /proc/slabinfo twice, alternating so that both see the same load.
$B slab 5 >/dev/null && $B slabinfo 5 >/dev/null || exit 1
echo "BENCH slab_caches=$(grep -vc '^\(slabinfo\|#\)' /proc/slabinfo)"
$B slab 50 | sed 's/^/BENCH /'
$B slabinfo 50 | sed 's/^/BENCH /'
echo "BENCH $(grep '^slab_trend_memory_bytes' /sys/kernel/debug/kintrospect/status | tr -d ' ' | tr : =)"
modprobe -r kintrospect
# The trend ring at its defaults after K samples, with periodic sampling.
modprobe kintrospect slab_interval_ms=100 || exit 1
sleep 3
echo "BENCH periodic_$(grep '^slab_trend_memory_bytes' /sys/kernel/debug/kintrospect/status | tr -d ' ' | tr : =)"
echo "BENCH periodic_$(grep '^slab_caches_tracked' /sys/kernel/debug/kintrospect/status | tr -d ' ' | tr : =)"
modprobe -r kintrospect
