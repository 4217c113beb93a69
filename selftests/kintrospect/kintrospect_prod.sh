#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The production-like kernel (scripts/kernel-prod.config, issue 11 item 2):
# no lockdep, no DEBUG_SPINLOCK, no KUnit; the hung-task detector with its
# blocker tracking. Run only on that boot of make check. kintrospect loads
# and says what it lacks (status, locks, locks.json), and still does what
# needs no lock debugging: the ABBA deadlock on two mutexes is found from the
# hung-task blocker records and the mutexes' owners, with each lock named by
# its symbol; no held locks are invented; every CPU answers the snapshot.
# The watch (issue 9) works without lockdep and without tracepoints: a CPU
# held by a spinner is a stuck-cpu event with its task and function, no
# held locks; status says the hung-task hook is missing.
# Also run on Debian's own kernel as shipped (the stock boot, issue 18): no
# lockdep either, but tracepoints, so the watch has its hung-task hook
# there, and the hung-task detector's report of a task blocked on a mutex
# held by the kernel's own lib/test_lockup.c is an event with its chain.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
hung_timeout=$(cat /proc/sys/kernel/hung_task_timeout_secs)
cleanup() {
	[ -n "${abba_a:-}" ] && kill -9 "$abba_a" "$abba_b" 2>/dev/null
	echo "$hung_timeout" > /proc/sys/kernel/hung_task_timeout_secs
}
ki_trap_cleanup cleanup

[ -e /proc/lockdep ] &&
	ktap_exit_fail_msg "this kernel has lockdep: kintrospect_prod.sh runs on the prod boot only"
ki_load test_paths=1 || ktap_exit_fail_msg "cannot load kintrospect on the production-like kernel"
tracepoints=$(sed -n 's/^tracepoints: //p' "$KI/status")
if [ "$tracepoints" = yes ]; then ktap_set_plan 11; else ktap_set_plan 10; fi

# --- What status says of this kernel.
features_ok() {
	for f in lockdep prove_locking debug_spinlock lock_stat kunit; do
		grep -qx "$f: no" "$KI/status" || return 1
	done
	grep -qx "hung_task_blocker: yes" "$KI/status"
}
grep -E '^(lockdep|prove_locking|debug_spinlock|lock_stat|kunit|hung_task_blocker):' "$KI/status" |
	sed 's/^/# /'
ki_check "item 2: status says lockdep, prove_locking, debug_spinlock, lock_stat, kunit no; hung_task_blocker yes" \
	features_ok

# --- locks without lockdep: said in both files.
ki_locks || ktap_exit_fail_msg "cannot take a locks snapshot"
lockdep=$(sed -n 's/^\.lockdep=//p' "$KI_TMP/locks.flat")
echo "# locks.json \"lockdep\": $lockdep"
# A boolean today; a word that says "no lockdep" is accepted too.
case "$lockdep" in
false | '"no"' | '"none"' | '"absent"' | '"not built"') ok=1 ;;
*) ok=0 ;;
esac
ki_check "item 2: locks.json says there is no lockdep (\"lockdep\": $lockdep)" [ $ok -eq 1 ]
cat "$KI/locks" > "$KI_TMP/locks.txt"
head -n 1 "$KI_TMP/locks.txt" | sed 's/^/# /'
head -n 1 "$KI_TMP/locks.txt" | grep -q '; lockdep no$'
ki_check "item 2: the locks text says lockdep no" [ $? -eq 0 ]

# --- ABBA: found without lockdep.
cat "$KI/test/abba_a" > "$KI_TMP/abba_a" &
abba_a=$!
cat "$KI/test/abba_b" > "$KI_TMP/abba_b" &
abba_b=$!
tries=0
while [ $tries -lt 20 ]; do
	ki_locks && grep -q '^\.cycles#=1$' "$KI_TMP/locks.flat" && break
	sleep 0.5
	tries=$((tries + 1))
done
cycle=$(sed -n 's/^\.cycles\[0\]\[[01]\]=//p' "$KI_TMP/locks.flat" | sort | tr '\n' ' ')
want=$(printf '%s\n%s\n' "$abba_a" "$abba_b" | sort | tr '\n' ' ')
ki_check "item 2: the ABBA cycle is found without lockdep ($cycle= $want)" [ "$cycle" = "$want" ]
abba_ok() {
	[ "$(ki_lock_field $abba_a blocked_on.kind)" = '"mutex"' ] &&
		[ "$(ki_lock_field $abba_b blocked_on.kind)" = '"mutex"' ] &&
		[ "$(ki_lock_field $abba_a blocked_on.owner_pid)" = "$abba_b" ] &&
		[ "$(ki_lock_field $abba_b blocked_on.owner_pid)" = "$abba_a" ] &&
		ki_lock_field $abba_a blocked_on.name | grep -q 'kintrospect_abba_b' &&
		ki_lock_field $abba_b blocked_on.name | grep -q 'kintrospect_abba_a'
}
grep "^\.tasks\[$(ki_lock_task $abba_a)\]\.blocked_on\|^\.tasks\[$(ki_lock_task $abba_b)\]\.blocked_on" \
	"$KI_TMP/locks.flat" | sed 's/^/# /'
ki_check "item 2: each waits for a mutex owned by the other, the mutexes named by their symbols" abba_ok
! grep -q '^\.tasks\[[0-9]*\]\.held#=[1-9]' "$KI_TMP/locks.flat"
ki_check "item 2: no held locks are listed without lockdep" [ $? -eq 0 ]
cat "$KI/locks" | sed 's/^/# /'
kill -9 $abba_a $abba_b
wait $abba_a $abba_b 2>/dev/null
abba_a=

# --- cpus: every CPU answers. A vCPU the host deschedules for longer than
# nmi_timeout_ms is no-response (a documented limitation, not this kernel's):
# up to 5 snapshots, one of which must have them all.
taskset -p -c 0 $$ >/dev/null
nr=$(ki_nr_online)
tries=0
while [ $tries -lt 5 ]; do
	ki_snapshot 0 && ki_cpus_json || ktap_exit_fail_msg "cannot take a CPU snapshot"
	answered=$(grep -cE '^\.cpus\[[0-9]+\]\.state="(running|idle)"$' "$KI_TMP/cpus.flat")
	[ "$answered" -eq "$nr" ] && break
	echo "# $(grep -E '^\.cpus\[[0-9]+\]\.state=' "$KI_TMP/cpus.flat" | tr '\n' ' ')"
	tries=$((tries + 1))
done
ki_check "item 2: all $nr CPUs answer an NMI snapshot ($answered running or idle, $tries retries)" \
	[ "$answered" -eq "$nr" ]

# --- The watch without lockdep and without tracepoints.
ki_unload
ki_load test_paths=1 spin_timeout_ms=15000 watch_interval_ms=200 ||
	ktap_exit_fail_msg "cannot load kintrospect with the watch on"
grep '^watch_hooks:' "$KI/status" | sed 's/^/# /'
if [ "$tracepoints" = yes ]; then
	grep -qx 'watch_hooks: hung-task yes, oops yes, panic yes' "$KI/status"
	ki_check "issue 18: with tracepoints (Debian's kernel) the watch has its hung-task hook" [ $? -eq 0 ]
else
	grep -q '^tracepoints: no$' "$KI/status" && grep -qx 'watch_hooks: hung-task no, oops yes, panic yes' "$KI/status"
	ki_check "issue 9: without tracepoints the watch runs without its hung-task hook, and status says so" \
		[ $? -eq 0 ]
fi
spin_cpu=$((nr - 1))
taskset -c $spin_cpu dd if="$KI/test/spin" of="$KI_TMP/spin" bs=64 count=1 2>/dev/null &
spinner=$!
# The event is updated every sample: wait for one whose NMI hit the loop itself.
event_ok() {
	cat "$KI/events.json" > "$KI_TMP/events.json" &&
		"$KI_JSON" "$KI_TMP/events.json" > "$KI_TMP/events.flat" &&
		grep -qx '\.events\[0\]\.kind="stuck-cpu"' "$KI_TMP/events.flat" &&
		grep -qx "\.events\[0\]\.pid=$spinner" "$KI_TMP/events.flat" &&
		grep -qx "\.events\[0\]\.cpu=$spin_cpu" "$KI_TMP/events.flat" &&
		grep -q '^\.events\[0\]\.report\.stuck_cpus\[0\]\.frames\[0\]="kintrospect_test_spin_loop+' \
			"$KI_TMP/events.flat"
}
tries=0
while [ $tries -lt 30 ] && ! event_ok; do
	sleep 0.5
	tries=$((tries + 1))
done
ki_check "issue 9: the spinner on CPU $spin_cpu ($spinner) is a stuck-cpu event, in kintrospect_test_spin_loop" event_ok
! grep -q '^\.events\[0\]\.report\.stuck_cpus\[[0-9]*\]\.held\[[0-9]*\]\.name=' "$KI_TMP/events.flat"
ki_check "issue 9: its report lists no held locks without lockdep" [ $? -eq 0 ]
echo 1 > "$KI/test/release"
wait $spinner

# --- The hung-task hook: test_lockup holds slab_mutex asleep; cat
# /proc/slabinfo blocks on it. Without lockdep the mutex is named by its
# symbol, its owner from the mutex itself.
if [ "$tracepoints" = yes ]; then
	ki_slab_mutex_hung 12
	ins=$ki_lockup_pid
	cat=$ki_blocked_pid
	hung_ok() {
		cat "$KI/events.json" > "$KI_TMP/events.json" &&
			"$KI_JSON" "$KI_TMP/events.json" > "$KI_TMP/events.flat" || return 1
		e=$(sed -n 's/^\.events\[\([0-9]*\)\]\.kind="hung-task"$/\1/p' "$KI_TMP/events.flat" |
			while read -r i; do
				grep -qx "\.events\[$i\]\.pid=$cat" "$KI_TMP/events.flat" && echo "$i"
			done)
		[ "$(echo "$e" | wc -w)" -eq 1 ] || return 1
		b=$(sed -n "s/^\.events\[$e\]\.report\.blocked\[\([0-9]*\)\]\.pid=$cat$/\1/p" "$KI_TMP/events.flat")
		f=".events\[$e\]\.report\.blocked\[$b\]"
		[ -n "$b" ] &&
			grep -qx "$f\.state=\"D\"" "$KI_TMP/events.flat" &&
			grep -qx "$f\.chain\[0\]\.kind=\"mutex\"" "$KI_TMP/events.flat" &&
			grep -q "^$f\.chain\[0\]\.name=\"slab_mutex" "$KI_TMP/events.flat" &&
			grep -qx "$f\.chain\[0\]\.owner_pid=$ins" "$KI_TMP/events.flat"
	}
	tries=0
	while [ $tries -lt 30 ] && ! hung_ok; do
		sleep 0.5
		tries=$((tries + 1))
	done
	ki_check "issue 18: the hung-task detector's report of $cat (cat) is an event with its chain: mutex slab_mutex -> $ins (test_lockup's insmod)" \
		hung_ok
	sed -n '/: hung-task/,/^===/p' "$KI/events" | sed 's/^/# /' | head -n 30
	echo "$hung_timeout" > /proc/sys/kernel/hung_task_timeout_secs
	wait $ins $cat
fi

ktap_finished
