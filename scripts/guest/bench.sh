#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make bench` (scripts/bench): kintrospect's CPU
# snapshot and the kernel's SysRq-l, side by side in one boot. Prints
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
modprobe -r kintrospect
