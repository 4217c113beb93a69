#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# M2: the CPU snapshot stays reachable whatever the other reports are doing.
# The kernel's own lib/test_lockup.c holds slab_mutex for 10 s (as a stuck
# kmem_cache_destroy() does when a CPU cannot run its flush work), so a
# kintrospect slab sample gets stuck reading /proc/slabinfo. Before the fix
# that sample held a lock every control command takes, and "snapshot cpus"
# hung in D state behind it. Here, while the sample is stuck, "snapshot cpus"
# and "snapshot locks" both complete, and the locks report names the stuck
# writer waiting for slab_mutex and the holder (insmod, in test_lockup).

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ki_require_module test_lockup
ktap_print_header
ktap_set_plan 6
ki_trap_cleanup
taskset -p -c 0 $$ >/dev/null

# Waits up to $2 tenths of a second for process $1 to end.
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $i -ge "$2" ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	wait "$1"
}

ki_load || ktap_exit_fail_msg "cannot load kintrospect"
addr=$(awk '$3 == "slab_mutex" { print $1; exit }' /proc/kallsyms)
lockup=$(modinfo test_lockup | sed -n 's/^filename: *//p')
# insmod, not modprobe: test_lockup's init ends with EAGAIN, which modprobe retries.
insmod "$lockup" lock_mutex_ptr=0x"$addr" time_secs=10 state=S 2>/dev/null &
holder=$!
i=0
while [ $i -lt 50 ] && ! dmesg | grep -q 'test_lockup: lock mutex slab_mutex'; do
	sleep 0.1
	i=$((i + 1))
done
sh -c "echo 'snapshot slab' > $KI/control" &
slab=$!
i=0
while [ $i -lt 50 ] && ! grep -q slab_start "/proc/$slab/stack" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
stuck() { kill -0 $holder 2>/dev/null && grep -q slab_start "/proc/$slab/stack" 2>/dev/null; }
ki_check "precondition: test_lockup ($holder) holds slab_mutex, a slab sample ($slab) waits for it" stuck

ki_cpus_json
before=$(ki_field seq)
sh -c "echo 'snapshot cpus' > $KI/control" &
snap=$!
ki_check "M2: 'snapshot cpus' completes while the slab sample is stuck" wait_gone $snap 30
ki_cpus_json
ki_check "M2: it took a new snapshot ($before -> $(ki_field seq))" [ "$(ki_field seq)" -gt "${before:-0}" ]

sh -c "echo 'snapshot locks' > $KI/control" &
locks=$!
ki_check "M2: 'snapshot locks' completes too" wait_gone $locks 30
cat "$KI/locks.json" > "$KI_TMP/locks.json" && "$KI_JSON" "$KI_TMP/locks.json" > "$KI_TMP/locks.flat"
cat "$KI/locks" | sed 's/^/# /' | head -n 20
names_holder() {
	[ "$(ki_lock_field $slab blocked_on.name)" = '"slab_mutex"' ] &&
		[ "$(ki_lock_field $slab blocked_on.owner_pid)" = "$holder" ]
}
ki_check "the locks report shows the stuck sample waiting for slab_mutex held by $holder" names_holder

wait $holder
ki_check "once slab_mutex is free, the stuck sample completes" wait_gone $slab 100

ktap_finished
