#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Slab samples on a sick machine never wedge the tool.
#
# Item 3: a default boot flushes SLUB's per-CPU sheaves before reading, and
# SLUB's flush waits for a work item on every CPU. With one CPU spinning with
# preemption off (test/spin) a sample must still return, with its counts
# reported approximate and the CPU named; with slab_debug=U there is nothing
# to flush and the counts stay exact.
#
# M2: with slab_mutex held by a stuck kernel path (the kernel's own
# lib/test_lockup.c holding it for 10 s), a sample gets stuck reading
# slabinfo; the SysRq work then skips its slab sample instead of queueing
# behind it, and a control write that waits for the stuck sample dies on
# SIGKILL. (The periodic sampler tries the lock the same way; one tick is in
# flight at a time, on an unbound workqueue.)

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ki_require_module test_lockup
ki_require_cpus 2
ktap_print_header
ktap_set_plan 6
ki_trap_cleanup

SPIN_CPU=$((nr - 1))
taskset -p -c 0 $$ > /dev/null

slab_json() {
	cat "$KI/slab_delta.json" > "$KI_TMP/slab.json" &&
		"$KI_JSON" "$KI_TMP/slab.json" > "$KI_TMP/slab.flat"
}

slab_top() {
	sed -n "s/^\.$1=//p" "$KI_TMP/slab.flat"
}

# Snapshots from CPU 0 until CPU $1 shows pid $2 in kintrospect_test_spin_loop.
wait_spinning() {
	i=0
	while [ $i -lt 20 ]; do
		ki_snapshot 0 && ki_cpus_json &&
			[ "$(ki_cpu_field "$1" pid)" = "$2" ] &&
			ki_cpu_has_frame "$1" kintrospect_test_spin_loop && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

# --- Item 3: a spinning CPU makes the counts approximate, not the tool stuck ---
ki_load test_paths=1 spin_timeout_ms=15000 || ktap_exit_fail_msg "cannot load with test_paths=1"
if [ "$(cat /sys/kernel/slab/kintrospect_leak/store_user 2>/dev/null)" = 1 ]; then
	TRACKING=1
	ktap_print_msg "slab_debug=U: yes: no cache has per-CPU sheaves, nothing to flush"
else
	TRACKING=0
	ktap_print_msg "slab_debug=U: no: per-CPU sheaves are flushed before each reading"
fi
taskset -c "$SPIN_CPU" dd if="$KI/test/spin" of=/dev/null bs=64 count=1 2>/dev/null &
spid=$!
wait_spinning "$SPIN_CPU" "$spid" || ktap_print_msg "CPU $SPIN_CPU is not seen spinning"
# Builtins only until the release.
echo 'snapshot slab' > "$KI/control"
rc=$?
echo 1 > "$KI/test/release"
wait "$spid"
slab_json
grep '^counts' "$KI/slab_delta" | sed 's/^/# /'
prec=$(slab_top precision)
why=$(slab_top precision_reason)
if [ $TRACKING = 1 ]; then
	ki_check "item 3: with CPU $SPIN_CPU spinning, snapshot slab returns and is exact ($prec: nothing to flush)" \
		[ $rc -eq 0 -a "$prec" = '"no_sheaves"' ]
else
	ki_check "item 3: with CPU $SPIN_CPU spinning, snapshot slab returns, approximate: $why" \
		[ $rc -eq 0 -a "$prec" = '"approximate"' -a "${why#\"CPU $SPIN_CPU }" != "$why" ]
fi
echo 'snapshot slab' > "$KI/control"
slab_json
prec=$(slab_top precision)
ki_check "item 3: once the CPU runs again the next sample is exact ($prec)" \
	[ "$prec" = '"no_sheaves"' -o "$prec" = '"flushed"' ]
ki_unload

# --- M2: slab_mutex held by a stuck kernel path -------------------------------
ki_load || ktap_exit_fail_msg "cannot load kintrospect"
addr=$(awk '$3 == "slab_mutex" { print $1; exit }' /proc/kallsyms)
lockup=$(modinfo test_lockup | sed -n 's/^filename: *//p')
ktap_print_msg "slab_mutex at 0x$addr, held 10 s by $lockup"
# insmod, not modprobe: test_lockup's init fails with EAGAIN, which modprobe retries.
insmod "$lockup" lock_mutex_ptr=0x"$addr" time_secs=10 state=S 2>/dev/null &
lpid=$!
i=0
while [ $i -lt 50 ] && ! dmesg | grep -q 'test_lockup: lock mutex slab_mutex'; do
	sleep 0.1
	i=$((i + 1))
done
# The first writer gets stuck reading slabinfo, holding the slab io lock.
echo 'snapshot slab' > "$KI/control" &
apid=$!
i=0
while [ $i -lt 50 ] && ! grep -q slab_start "/proc/$apid/stack" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
sed 's/^/# stuck writer: /' "/proc/$apid/stack" 2>/dev/null | head -n 8
# SysRq's slab sample skips it.
echo x > /proc/sysrq-trigger
i=0
while [ $i -lt 30 ]; do
	skipped=$(sed -n 's/^slab_samples_skipped_busy: //p' "$KI/status")
	[ "${skipped:-0}" -gt 0 ] && break
	sleep 0.2
	i=$((i + 1))
done
ki_check "M2: the SysRq work skips its slab sample while one is stuck ($skipped skipped)" \
	[ "${skipped:-0}" -gt 0 ]
dmesg | grep 'slab sample by sysrq' | tail -n 1 | sed 's/^/# /'
# A second writer waits for the stuck one, killably.
echo 'snapshot slab' > "$KI/control" &
bpid=$!
sleep 0.5
sed 's/^/# waiting writer: /' "/proc/$bpid/stack" 2>/dev/null | head -n 3
kill -9 $bpid
ki_wait_gone $bpid 3
ki_check "M2: a control write waiting for the stuck sample dies on SIGKILL" [ $? -eq 0 ]
wait $lpid
wait $apid
rc=$?
echo 'snapshot slab' > "$KI/control"
rc2=$?
ki_check "M2: once slab_mutex is free, the stuck write completes (rc $rc) and samples work" \
	[ $rc -eq 0 -a $rc2 -eq 0 ]
ki_unload
ki_check "unload after the stuck samples is clean" [ $? -eq 0 -a ! -e "$KI" ]

ktap_finished
