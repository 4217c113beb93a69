#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Lock-holder reports. A task spinning with kintrospect_test_lock held is
# reported as its holder, acquired in the spin function, and a second task
# spinning on the same lock as waiting for it (lockdep alone would list both
# as holders); the ABBA pair deadlocks, and the report names exactly one
# cycle with both pids and both mutexes until both tasks are killed; threads
# that come and go while snapshots run never break a snapshot. Acquire sites
# in long Rust functions (the writer's own kintrospect_locks mutex, taken in
# a closure whose mangled name does not fit a record) are demangled and keep
# "+off/size [kintrospect]": before the fix a site was cut in its mangled
# name and shown as "_RNvY...9call_on", with no offset.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 12
cleanup() {
	[ -n "${abba_a:-}" ] && kill -9 "$abba_a" "$abba_b" 2>/dev/null
}
ki_trap_cleanup cleanup

ki_require_cpus 3
ki_require_lockdep
ki_load test_paths=1 spin_timeout_ms=15000 || ktap_exit_fail_msg "cannot load with test_paths=1"

# --- Acquire sites of long Rust names: the writer's own snapshot mutex.
ki_locks || ktap_exit_fail_msg "cannot take a locks snapshot"
grep '^\.tasks\[[0-9]*\]\.held\[[0-9]*\]\.acquired_at=".*kintrospect' "$KI_TMP/locks.flat" | sed 's/^/# /'
grep -q '^\.tasks\[[0-9]*\]\.held\[[0-9]*\]\.acquired_at="[^"]*kintrospect_main::[^"]*+0x[0-9a-f]*/0x[0-9a-f]* \[kintrospect\]"$' \
	"$KI_TMP/locks.flat" &&
	! grep -q '^\.tasks\[[0-9]*\]\.held\[[0-9]*\]\.acquired_at="_R' "$KI_TMP/locks.flat"
ki_check "locks.json: Rust acquire sites are demangled, with +off/size [kintrospect], none mangled" [ $? -eq 0 ]
cat "$KI/locks" > "$KI_TMP/locks.txt"
grep -q ' acquired at [^ ]*kintrospect_main::.*+0x[0-9a-f]*/0x[0-9a-f]* \[kintrospect\], held ' "$KI_TMP/locks.txt" &&
	! grep -q ' acquired at _R' "$KI_TMP/locks.txt"
ki_check "locks text: the same acquire sites demangled, none mangled" [ $? -eq 0 ]

# --- A holder and a spinner on the same spinlock.
taskset -c $((nr - 1)) dd if="$KI/test/spin" of="$KI_TMP/spin1" bs=64 count=1 2>/dev/null &
holder=$!
ki_wait_locks '[ -n "$(ki_lock_held $holder kintrospect_test_lock)" ]'
ki_check "the spinning task $holder is listed holding kintrospect_test_lock" [ $? -eq 0 ]
taskset -c $((nr - 2)) dd if="$KI/test/spin" of="$KI_TMP/spin2" bs=64 count=1 2>/dev/null &
spinner=$!
# Until it spins on this lock: before that, the forked shell may be caught
# spinning briefly on another one (a page table lock in a page fault).
ki_wait_locks '[ "$(ki_lock_field $spinner blocked_on.name)" = "\"kintrospect_test_lock\"" ]'
ki_check "the second task $spinner is reported waiting on a spinlock, kintrospect_test_lock" \
	[ $? -eq 0 -a "$(ki_lock_field $spinner blocked_on.kind)" = '"spinlock"' ]
grep "^\.tasks\[$(ki_lock_task $holder)\]\.\|^\.tasks\[$(ki_lock_task $spinner)\]\." \
	"$KI_TMP/locks.flat" | sed 's/^/# /'

holder_ok() {
	local h
	h=$(ki_lock_held $holder kintrospect_test_lock)
	[ -n "$h" ] && [ "$(ki_lock_field $holder "held[$h].mode")" = '"write"' ] &&
		[ "$(ki_lock_field $holder "held[$h].kind")" = '"spinlock"' ] &&
		ki_lock_field $holder "held[$h].acquired_at" | grep -q '^"kintrospect_test_spin+' &&
		[ "$(ki_lock_field $holder blocked_on)" = null ]
}
ki_check "the holder holds it in write mode, acquired in kintrospect_test_spin, blocked on nothing" holder_ok

spinner_ok() {
	[ "$(ki_lock_field $spinner blocked_on.name)" = '"kintrospect_test_lock"' ] &&
		[ "$(ki_lock_field $spinner blocked_on.owner_pid)" = "$holder" ] &&
		[ "$(ki_lock_field $spinner blocked_on.owner_cpu)" = $((nr - 1)) ] &&
		[ -z "$(ki_lock_held $spinner kintrospect_test_lock)" ]
}
ki_check "the spinner waits for kintrospect_test_lock owned by $holder on CPU $((nr - 1)), holds nothing of it" spinner_ok

cat "$KI/locks" > "$KI_TMP/locks.txt"
sed 's/^/# /' "$KI_TMP/locks.txt"
grep -q "pid $spinner (dd) state R cpu $((nr - 2)) waits for spinlock kintrospect_test_lock -> pid $holder (dd) state R cpu $((nr - 1))$" "$KI_TMP/locks.txt"
ki_check "the text report shows the chain spinner -> holder" [ $? -eq 0 ]

echo 1 > "$KI/test/release"
wait $holder $spinner

# --- ABBA.
cat "$KI/test/abba_a" > "$KI_TMP/abba_a" &
abba_a=$!
cat "$KI/test/abba_b" > "$KI_TMP/abba_b" &
abba_b=$!
ki_wait_locks 'grep -q "^\.cycles#=1$" "$KI_TMP/locks.flat"'
ki_check "ABBA: exactly one cycle is reported, confirmed (M4: none only possible)" \
	[ $? -eq 0 -a "$(sed -n 's/^\.possible_cycles=//p' "$KI_TMP/locks.flat")" = "[]" ]
cycle=$(sed -n 's/^\.cycles\[0\]\[[01]\]=//p' "$KI_TMP/locks.flat" | sort | tr '\n' ' ')
want=$(printf '%s\n%s\n' "$abba_a" "$abba_b" | sort | tr '\n' ' ')
ki_check "the cycle names both pids ($cycle= $want)" [ "$cycle" = "$want" ]
names_ok() {
	[ "$(ki_lock_field $abba_a blocked_on.name)" = '"kintrospect_abba_b"' ] &&
		[ "$(ki_lock_field $abba_b blocked_on.name)" = '"kintrospect_abba_a"' ] &&
		[ "$(ki_lock_field $abba_a blocked_on.owner_pid)" = "$abba_b" ] &&
		[ "$(ki_lock_field $abba_b blocked_on.owner_pid)" = "$abba_a" ]
}
ki_check "each waits for the other's mutex (kintrospect_abba_b, kintrospect_abba_a)" names_ok
cat "$KI/locks" | sed 's/^/# /'

kill -9 $abba_a $abba_b
wait $abba_a $abba_b 2>/dev/null
gone=1
kill -0 $abba_a 2>/dev/null && gone=0
kill -0 $abba_b 2>/dev/null && gone=0
abba_a=
ki_locks
ki_check "after killing both, they are gone and no cycle is reported" \
	[ $gone -eq 1 -a "$(sed -n 's/^\.cycles=//p' "$KI_TMP/locks.flat")" = "[]" ]

# --- Threads that come and go while snapshots run.
(
	end=$(($(date +%s) + 6))
	while [ "$(date +%s)" -lt $end ]; do
		for i in 1 2 3 4 5 6 7 8; do sh -c ':' & done
		wait
	done
) &
churn=$!
fails=0
n=0
while kill -0 $churn 2>/dev/null; do
	echo 'snapshot locks' > "$KI/control" && cat "$KI/locks.json" > "$KI_TMP/churn.json" &&
		"$KI_JSON" -q "$KI_TMP/churn.json" || fails=$((fails + 1))
	n=$((n + 1))
done
wait $churn
ki_check "$n snapshots while threads come and go: all valid ($fails failed)" [ $fails -eq 0 -a $n -gt 0 ]

ktap_finished
