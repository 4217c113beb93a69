#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make bench` (scripts/bench): kintrospect's CPU
# snapshot and the kernel's SysRq-l, and its slab delta and userspace
# reading /proc/slabinfo twice, side by side in one boot; the idle overhead
# of the loaded module and of the watch, and the watch's direct cost from its
# own counters; the watch's detection latency; the bare NMI round trip beside
# the CPU snapshot; NMI handler times as the kernel measures them. Prints "BENCH key=value" lines
# that scripts/bench turns into ratios, as marks (scripts/vm's vm-mark:
# lines of their own, which no kernel message can run into).
# With $1 = scale (the boots with more vCPUs), only the CPU snapshot; with
# $1 = idle (Debian's stock kernel), only the idle and watch overhead.

B=/kselftest/kintrospect/kintrospect_bench
# Each line of the input as a "BENCH" mark.
bench() {
	while IFS= read -r line; do
		vm-mark "BENCH $line"
	done
}
echo 1 > /proc/sys/kernel/sysrq
vm-mark "BENCH cpus=$(grep -c '^processor' /proc/cpuinfo)"

# The kernel's warnings for slow NMI handlers (above 1 ms), counted as the
# run goes: SysRq-l and SysRq-d fill the log buffer, which wraps.
too_long_ki=0
too_long_all=0
count_too_long() {
	dmesg -c > /tmp/dmesg.part
	# Kept in the bench logs, with their durations.
	grep 'took too long' /tmp/dmesg.part | sed 's/^/too long: /'
	too_long_ki=$((too_long_ki + $(grep -c 'kintrospect_nmi_handler.* took too long' /tmp/dmesg.part)))
	too_long_all=$((too_long_all + $(grep -c 'took too long' /tmp/dmesg.part)))
}
print_too_long() {
	count_too_long
	vm-mark "BENCH nmi_too_long: kintrospect=$too_long_ki all=$too_long_all"
}

if [ "${1:-}" = idle ]; then
	vm-mark "BENCH kernel: $(uname -r)"
	/kselftest/kintrospect/kintrospect_bench idle 15 1000000 10000 | bench
	exit 0
fi
if [ "${1:-}" = scale ]; then
	modprobe kintrospect || exit 1
	$B snapshot 5 >/dev/null || exit 1
	$B snapshot "${2:-50}" | grep '^snapshot' | bench
	modprobe -r kintrospect
	print_too_long
	exit 0
fi
# Idle overhead first, on a quiet machine: 1,000,000 getppid() and 10,000
# ping-pong round trips (a few seconds each under TCG: several watch
# intervals) with kintrospect not loaded, loaded, and with the watch on,
# rotating, 15 rounds: the spread of the per-round ratios says whether a
# difference is the module's or the noise's.
$B idle 15 1000000 10000 | bench
# From a CPU getting stuck to its watch event, at the documented stuck_ms.
$B stuck 5 1000 | bench
# The watch's direct cost from its own counters over 20 s windows (the locks
# walk is paced: with 10,000 threads a few walks a window): at
# watch_interval_ms 250 and 1000, with 100 and 10,000 sleeping threads.
$B cost 20 | bench
# The bare NMI round trip, the CPU snapshot's physical limit: an NMI to
# every other CPU whose handler only acknowledges (the ki_nmi_rtt helper
# module), 200 times, with kintrospect not loaded; marked as $1, with gap_us=$2
# between rounds.
nmi_rtt() {
	modprobe ki_nmi_rtt rounds=200 gap_us="$2" || return
	p=/sys/module/ki_nmi_rtt/parameters
	vm-mark "BENCH $1: n=200 gap_us=$2 median_ns=$(cat $p/median_ns) min_ns=$(cat $p/min_ns) max_ns=$(cat $p/max_ns) cpus=$(cat $p/cpus) timeouts=$(cat $p/timeouts)"
	modprobe -r ki_nmi_rtt
}
nmi_rtt 'nmi round trip' 0
# The same with 1 ms between rounds: the other CPUs idle between rounds, as
# they do between the snapshots below (each one's userspace round trip).
nmi_rtt 'nmi round trip idle' 1000
modprobe kintrospect || exit 1
vm-mark "BENCH $(grep '^snapshot_memory_bytes' /sys/kernel/debug/kintrospect/status | tr -d ' ' | tr : =)"
# Warm up both paths once.
$B snapshot 5 >/dev/null && $B sysrq-l 1 >/dev/null || exit 1
$B snapshot 200 | bench
$B sysrq-x 20 | bench
$B sysrq-l 20 | bench
count_too_long
# NMI handler times as nmi_handle() measures them, from the nmi_handler
# trace event (CONFIG_EVENT_TRACING): kintrospect's and SysRq-l's.
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
$B nmi 50 | bench
count_too_long
# Lock-holder reports against SysRq-d, with 1,000 and 10,000 sleeping threads.
$B locks 10 1000 | bench
count_too_long
$B locks 5 10000 | bench
count_too_long
# And 50,000: room for the threads (pids, kernel's thread limit, two
# mappings per thread stack).
echo 4194304 > /proc/sys/kernel/pid_max
echo 1000000 > /proc/sys/kernel/threads-max
echo 1000000 > /proc/sys/vm/max_map_count
$B locks 3 50000 | bench
count_too_long
# Slab deltas: one in-kernel sample + diff against userspace reading and
# parsing /proc/slabinfo twice, alternating so that both see the same load.
$B slab 5 >/dev/null && $B slabinfo 5 >/dev/null || exit 1
vm-mark "BENCH slab_caches=$(grep -vc '^\(slabinfo\|#\)' /proc/slabinfo)"
$B slab 50 | bench
# What the last sample flushed, and left unflushed as beyond its sheaves.
vm-mark "BENCH slab_flush: flushed=$(sed -n 's/^counts: .* \([0-9][0-9]*\) \(caches \)\{0,1\}flushed in .*/\1/p' /sys/kernel/debug/kintrospect/slab_delta) beyond_bound=$(sed -n 's/.*"beyond_bound_caches":\([0-9]*\).*/\1/p' /sys/kernel/debug/kintrospect/slab_delta.json)"
$B slabinfo 50 | bench
vm-mark "BENCH $(grep '^slab_trend_memory_bytes' /sys/kernel/debug/kintrospect/status | tr -d ' ' | tr : =)"
modprobe -r kintrospect
# The trend ring at its defaults after K samples, with periodic sampling.
modprobe kintrospect slab_interval_ms=100 || exit 1
sleep 3
vm-mark "BENCH periodic_$(grep '^slab_trend_memory_bytes' /sys/kernel/debug/kintrospect/status | tr -d ' ' | tr : =)"
vm-mark "BENCH periodic_$(grep '^slab_caches_tracked' /sys/kernel/debug/kintrospect/status | tr -d ' ' | tr : =)"
modprobe -r kintrospect
print_too_long
