#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# M2: the CPU snapshot stays reachable whatever the other reports are doing.
# An incident this tool is for: a runaway real-time task monopolises one CPU,
# and a module unload meanwhile destroys a slab cache that keeps objects
# cached on that CPU. kmem_cache_destroy() then waits for a kworker on that
# CPU while holding slab_mutex, so every reader of /proc/slabinfo - a
# kintrospect slab sample among them - waits too. Before the fix that slab
# sample held the lock every control command takes, and "snapshot cpus" hung
# in D state behind it. Here the slab sample is stuck (checked first), and
# "snapshot cpus" must still take a snapshot that shows the hog, and
# "snapshot locks" must complete too.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
modinfo ki_slab_stall >/dev/null 2>&1 ||
	{ ktap_skip_all "the ki_slab_stall helper module is not installed (make testmods_install)"; exit "$KSFT_SKIP"; }
nr=$(ki_nr_online)
[ "$nr" -ge 3 ] || { ktap_skip_all "needs at least 3 online CPUs, have $nr"; exit "$KSFT_SKIP"; }
HOG_CPU=$((nr - 1))
FAIR=/sys/kernel/debug/sched/fair_server/cpu$HOG_CPU/runtime
RT=/proc/sys/kernel/sched_rt_runtime_us
[ -w "$FAIR" ] && [ -w "$RT" ] ||
	{ ktap_skip_all "no $FAIR or $RT to let a real-time task monopolise a CPU"; exit "$KSFT_SKIP"; }
ktap_print_header
ktap_set_plan 6

old_fair=$(cat "$FAIR")
old_rt=$(cat "$RT")
cleanup() {
	[ -n "${hog:-}" ] && kill "$hog" 2>/dev/null
	wait
	echo "$old_rt" > "$RT"
	echo "$old_fair" > "$FAIR"
	modprobe -r ki_slab_stall 2>/dev/null
	modprobe -r kintrospect 2>/dev/null
	ki_cleanup_tmp
}
trap cleanup EXIT
taskset -p -c 0 $$ >/dev/null

ki_load || ktap_exit_fail_msg "cannot load kintrospect"
modprobe ki_slab_stall cpu=$HOG_CPU || ktap_exit_fail_msg "cannot load ki_slab_stall"

echo -1 > "$RT"
echo 0 > "$FAIR"
"$KI_DIR/kintrospect_hog" $HOG_CPU 30 &
hog=$!
sleep 1
modprobe -r ki_slab_stall &
unload=$!
sleep 1
sh -c "echo 'snapshot slab' > $KI/control" &
slab=$!
sleep 2

stuck() { kill -0 $unload 2>/dev/null && kill -0 $slab 2>/dev/null; }
ki_check "precondition: the unload and a slab sample both wait for CPU $HOG_CPU" stuck

ki_cpus_json
before=$(ki_field seq)
sh -c "echo 'snapshot cpus' > $KI/control" &
snap=$!
i=0
while kill -0 $snap 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
done_ok() { ! kill -0 $snap 2>/dev/null && wait $snap; }
ki_check "M2: 'snapshot cpus' completes while the slab sample is stuck" done_ok
ki_cpus_json
hog_seen() {
	[ "$(ki_field seq)" -gt "${before:-0}" ] &&
		[ "$(ki_cpu_field $HOG_CPU pid)" = "$hog" ] &&
		[ "$(ki_cpu_field $HOG_CPU mode)" = '"user"' ]
}
ki_check "M2: the new snapshot shows the hog $hog in user mode on CPU $HOG_CPU" hog_seen

sh -c "echo 'snapshot locks' > $KI/control" &
locks=$!
i=0
while kill -0 $locks 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
locks_ok() { ! kill -0 $locks 2>/dev/null && wait $locks; }
ki_check "M2: 'snapshot locks' completes too" locks_ok

kill $hog
wait $hog 2>/dev/null
hog=
i=0
while { kill -0 $unload 2>/dev/null || kill -0 $slab 2>/dev/null; } && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
ended() { ! kill -0 $unload 2>/dev/null && ! kill -0 $slab 2>/dev/null; }
ki_check "once the CPU is free, the unload and the slab sample finish" ended
ki_unload
ki_check "kintrospect unloads cleanly afterwards" [ $? -eq 0 -a ! -e "$KI" ]

ktap_finished
