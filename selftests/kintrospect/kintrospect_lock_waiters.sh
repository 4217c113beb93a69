#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Lock waiters are not lock holders (issue 17 item 3). lockdep records an
# acquisition before the task waits, and these waits leave no blocked_on or
# hung-task blocker record; kintrospect decides held or waiting from the
# lock's own owner state. With the ki_locktypes helper (holder A on one CPU,
# waiter B on another) and the kernel's own lib/test_lockup.c:
# - a mutex: B spinning on A, who holds it busy with preemption off: B's CPU
#   waits for it (cpus), B is blocked on it owned by A (locks), the report
#   joins B to A's stuck CPU, not to B's own (B stops spinning, and sleeps
#   with blocked_on, within a second or two under TCG: the report, taken
#   later, is right without the fix too once B sleeps);
# - an rwsem written by A, asleep: B in down_read_killable() and then in
#   down_write_killable() is blocked on it, owned by A;
# - an ABBA through a mutex and a killable rwsem wait: a confirmed DEADLOCK;
# - a percpu rw-semaphore written by A: B in percpu_down_read() waits;
# - an rwlock_t write-held by A busy: B spinning for it waits (cpus, locks),
#   joined to A's stuck CPU; and test_lockup's insmod spinning in
#   queued_write_lock_slowpath for the same lock waits too.
# Every check fails on a kintrospect that takes lockdep's entry for a hold:
# B is then listed holding the lock and blocked on nothing.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ki_require_module ki_locktypes
ki_require_module test_lockup
ki_require_lockdep
ki_require_cpus 3
ktap_print_header
ktap_set_plan 24
LT=/sys/module/ki_locktypes/parameters
cleanup() {
	[ -e "$LT/start" ] && echo stop > "$LT/start"
	wait
	modprobe -r ki_locktypes 2>/dev/null
}
ki_trap_cleanup cleanup
# This shell stays off the holder's and the waiter's CPUs.
taskset -p -c 0 $$ >/dev/null
HOLD_CPU=$((nr - 1))
WAIT_CPU=$((nr - 2))

ki_load stuck_ms=300 || ktap_exit_fail_msg "cannot load kintrospect"
modprobe ki_locktypes hold_cpu=$HOLD_CPU wait_cpu=$WAIT_CPU ||
	ktap_exit_fail_msg "cannot load ki_locktypes"

# Starts scenario $1 holding for $2 ms; sets $a and $b to A's and B's pids.
lt_start() {
	echo stop > "$LT/start"
	echo "$2" > "$LT/hold_ms"
	echo "$1" > "$LT/start" || return 1
	read -r a < "$LT/a_pid"
	read -r b < "$LT/b_pid"
	echo "# $1: A $a on CPU $HOLD_CPU, B $b on CPU $WAIT_CPU"
}

# Reports (up to 10 s) until the shell condition $1 holds.
wait_report() {
	local i=0
	while [ $i -lt 20 ]; do
		ki_report && eval "$1" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

# Whether stuck CPU $1 in the last report has a waiter pid $2 for lock $3.
stuck_waiter() {
	local idx
	idx=$(ki_stuck_idx "$1")
	[ -n "$idx" ] &&
		grep -q "^\.stuck_cpus\[$idx\]\.waiters\[[0-9]*\]\.pid=$2$" "$KI_TMP/report.flat" &&
		grep -q "^\.stuck_cpus\[$idx\]\.waiters\[[0-9]*\]\.lock=\"$3\"$" "$KI_TMP/report.flat"
}

# Whether the last ki_locks records pid $1 blocked on kind $2 owned by pid $3
# (null: unknown) and not holding lock $4.
lock_waits() {
	[ "$(ki_lock_field "$1" blocked_on.kind)" = "\"$2\"" ] &&
		[ "$(ki_lock_field "$1" blocked_on.name)" = "\"$4\"" ] &&
		[ "$(ki_lock_field "$1" blocked_on.owner_pid)" = "$3" ] &&
		[ -z "$(ki_lock_held "$1" "$4")" ]
}

# Whether the last ki_locks records pid $1 holding lock $2 (not "acquiring or held").
lock_holds() {
	[ -n "$(ki_lock_held "$1" "$2")" ] &&
		[ "$(ki_lock_held_field "$1" "$2" maybe_waiting)" = false ]
}

dump_locks() {
	for p in "$@"; do
		i=$(ki_lock_task "$p")
		[ -n "$i" ] && grep "^\.tasks\[$i\]\.\(pid\|state\|held\|blocked_on\)" "$KI_TMP/locks.flat" |
			sed 's/^/# /'
	done
}

dump_cpus() {
	grep "^\.cpus\[\($HOLD_CPU\|$WAIT_CPU\)\]\.\(pid\|held\|waits_for\|frames\[[0-3]\]\)" \
		"$KI_TMP/cpus.flat" | sed 's/^/# /'
}

# --- A mutex: A busy holding it with preemption off, B spinning on A. B
# stops spinning (and sleeps, blocked_on) when its CPU has other work: tried
# again, 3 times at most, until an NMI finds it on its CPU.
tries=0
while [ $tries -lt 3 ]; do
	lt_start mutex 10000
	ki_wait_cpus '[ "$(ki_cpu_field $HOLD_CPU pid)" = "$a" ] &&
		[ "$(ki_cpu_field $WAIT_CPU pid)" = "$b" ]' && break
	tries=$((tries + 1))
done
ki_check "precondition: A ($a) holds ki_lt_mutex on CPU $HOLD_CPU, B ($b) runs on CPU $WAIT_CPU ($tries retries)" \
	[ $tries -lt 3 ]
dump_cpus
cpu_mutex_ok() {
	[ "$(ki_cpu_field $WAIT_CPU waits_for.name)" = '"ki_lt_mutex"' ] &&
		[ "$(ki_cpu_field $WAIT_CPU waits_for.kind)" = '"mutex"' ] &&
		[ -z "$(ki_cpu_held_field $WAIT_CPU ki_lt_mutex kind)" ] &&
		[ "$(ki_cpu_held_field $HOLD_CPU ki_lt_mutex maybe_waiting)" = false ]
}
ki_check "cpus: CPU $WAIT_CPU (B, spinning) waits for ki_lt_mutex (mutex), holds nothing of it; CPU $HOLD_CPU (A) holds it" \
	cpu_mutex_ok
# At once, while B may still spin.
ki_locks
dump_locks "$a" "$b"
locks_mutex_ok() {
	lock_waits "$b" mutex "$a" ki_lt_mutex && lock_holds "$a" ki_lt_mutex
}
ki_check "locks: B ($b) is blocked on mutex ki_lt_mutex owned by A ($a), A holds it" locks_mutex_ok
wait_report 'ki_stuck_field $HOLD_CPU pid | grep -qx "$a"'
grep "^\.stuck_cpus\[[0-9]*\]\.\(cpu\|pid\|waiters\|waits_for\.name\)" "$KI_TMP/report.flat" | sed 's/^/# /'
report_mutex_ok() {
	stuck_waiter $HOLD_CPU "$b" ki_lt_mutex &&
		{ [ -z "$(ki_stuck_idx $WAIT_CPU)" ] ||
			[ -z "$(ki_stuck_field $WAIT_CPU 'waiters[0].pid')" ]; }
}
ki_check "report: B ($b) is the waiter of A's stuck CPU $HOLD_CPU, none is joined to B's CPU $WAIT_CPU" \
	report_mutex_ok
ki_check "report: B ($b) is blocked, its chain: mutex ki_lt_mutex held by A ($a)" \
	[ "$(ki_blocked_field "$b" chain[0].kind)" = '"mutex"' -a \
	  "$(ki_blocked_field "$b" chain[0].owner_pid)" = "$a" ]
cat "$KI/report" > "$KI_TMP/report.txt"
grep '^STUCK CPU\|^  holds\|^  waits for\|^  acquiring or held\|^    waited for' "$KI_TMP/report.txt" |
	sed 's/^/# /'

# --- An rwsem written by A, asleep; B in down_read_killable(), then in
# down_write_killable(): asleep, with no blocker record.
for mode in read write; do
	lt_start rwsem_$mode 8000
	# D alone is not enough: on its way to sleep B is D while it still spins on
	# a scheduler lock. Wait until it sleeps on the rwsem.
	ki_wait_locks '[ -n "$(ki_lock_task "$b")" ] && [ -n "$(ki_lock_task "$a")" ] &&
		[ "$(ki_lock_field "$b" state)" = "\"D\"" ] &&
		[ "$(ki_lock_field "$b" blocked_on.kind)" = "\"rwsem-$mode\"" ]'
	dump_locks "$a" "$b"
	locks_rwsem_ok() {
		lock_waits "$b" rwsem-$mode "$a" ki_lt_rwsem && lock_holds "$a" ki_lt_rwsem
	}
	ki_check "locks: B ($b) in down_${mode}_killable() is blocked on rwsem-$mode ki_lt_rwsem owned by A ($a), A holds it" \
		locks_rwsem_ok
	ki_report
	ki_check "report: B ($b) is blocked on rwsem-$mode ki_lt_rwsem, its chain ends at A ($a)" \
		[ "$(ki_blocked_field "$b" chain[0].kind)" = "\"rwsem-$mode\"" -a \
		  "$(ki_blocked_field "$b" chain[0].owner_pid)" = "$a" ]
done

# --- ABBA: A holds ki_lt_mutex and waits killably for ki_lt_rwsem, B holds
# ki_lt_rwsem and waits for ki_lt_mutex. Ended by a SIGKILL to A.
lt_start abba 30000
# A is D also on its way to sleep, while it still spins on a scheduler lock
# (a snapshot once caught it so, blocked on &rq->__lock): wait until it
# sleeps on the rwsem.
ki_wait_locks '[ "$(ki_lock_field "$b" blocked_on.kind)" = "\"mutex\"" ] &&
	[ "$(ki_lock_field "$a" state)" = "\"D\"" ] &&
	[ "$(ki_lock_field "$a" blocked_on.kind)" = "\"rwsem-write\"" ]'
ki_check "precondition: B ($b) waits for ki_lt_mutex, A ($a) sleeps on ki_lt_rwsem" [ $? -eq 0 ]
dump_locks "$a" "$b"
ki_check "locks: A ($a) in down_write_killable() is blocked on rwsem-write ki_lt_rwsem owned by B ($b)" \
	lock_waits "$a" rwsem-write "$b" ki_lt_rwsem
cycle=$(sed -n 's/^\.cycles\[0\]\[[01]\]=//p' "$KI_TMP/locks.flat" | sort -n | tr '\n' ' ')
want=$(printf '%s\n%s\n' "$a" "$b" | sort -n | tr '\n' ' ')
ki_check "locks: the ABBA through the killable rwsem wait is a confirmed deadlock [$cycle]" \
	[ "$cycle" = "$want" -a "$(sed -n 's/^\.cycles#=//p' "$KI_TMP/locks.flat")" = 1 ]
cat "$KI/locks" > "$KI_TMP/locks.txt"
sed -n '/^DEADLOCK/,/^$/p' "$KI_TMP/locks.txt" | sed 's/^/# /'
grep -q "^  pid $a (ki_lt_a) waits for rwsem-write ki_lt_rwsem held by pid $b (ki_lt_b)$" "$KI_TMP/locks.txt" &&
	grep -q "^  pid $b (ki_lt_b) waits for mutex ki_lt_mutex held by pid $a (ki_lt_a)$" "$KI_TMP/locks.txt"
ki_check "locks text: DEADLOCK names both waits" [ $? -eq 0 ]
ki_report
report_abba_ok() {
	grep -q "^\.deadlocks\[0\]\[[01]\]=$a$" "$KI_TMP/report.flat" &&
		grep -q "^\.deadlocks\[0\]\[[01]\]=$b$" "$KI_TMP/report.flat"
}
ki_check "report: the deadlock of A ($a) and B ($b) is reported" report_abba_ok

# --- A percpu rw-semaphore written by A, asleep; B in percpu_down_read().
lt_start percpu 8000
ki_wait_locks '[ -n "$(ki_lock_task "$b")" ] && [ -n "$(ki_lock_task "$a")" ] &&
	[ "$(ki_lock_field "$b" state)" = "\"D\"" ]'
dump_locks "$a" "$b"
ki_check "locks: B ($b) in percpu_down_read() is blocked on percpu-rwsem-read ki_lt_percpu (no owner recorded)" \
	lock_waits "$b" percpu-rwsem-read null ki_lt_percpu
ki_check "locks: A ($a), the writer, holds ki_lt_percpu" lock_holds "$a" ki_lt_percpu

# --- An rwlock_t write-held by A, busy (8 s at most, interrupts on); B
# spinning for it. A hold too short for the snapshots is tried again.
tries=0
while [ $tries -lt 3 ]; do
	lt_start rwlock 8000
	ki_wait_cpus '[ "$(ki_cpu_field $HOLD_CPU pid)" = "$a" ] &&
		[ "$(ki_cpu_field $WAIT_CPU pid)" = "$b" ]' && ki_locks &&
		[ -n "$(ki_lock_task "$b")" ] && break
	tries=$((tries + 1))
done
ki_check "precondition: A ($a) on CPU $HOLD_CPU, B ($b) on CPU $WAIT_CPU ($tries retries)" [ $tries -lt 3 ]
dump_cpus
dump_locks "$a" "$b"
cpu_rwlock_ok() {
	[ "$(ki_cpu_field $WAIT_CPU waits_for.name)" = '"ki_lt_rwlock"' ] &&
		[ "$(ki_cpu_field $WAIT_CPU waits_for.kind)" = '"rwlock-write"' ] &&
		[ -z "$(ki_cpu_held_field $WAIT_CPU ki_lt_rwlock kind)" ] &&
		[ "$(ki_cpu_held_field $HOLD_CPU ki_lt_rwlock maybe_waiting)" = false ]
}
ki_check "cpus: CPU $WAIT_CPU (B) waits for ki_lt_rwlock (rwlock-write), CPU $HOLD_CPU (A) holds it" cpu_rwlock_ok
locks_rwlock_ok() {
	[ "$(ki_lock_field "$b" blocked_on.owner_cpu)" = "$HOLD_CPU" ] &&
		lock_waits "$b" rwlock-write "$a" ki_lt_rwlock
}
ki_check "locks: B ($b) is blocked on rwlock-write ki_lt_rwlock owned by A ($a) on CPU $HOLD_CPU" \
	locks_rwlock_ok
wait_report 'ki_stuck_field $HOLD_CPU pid | grep -qx "$a"'
ki_check "report: B ($b) is the waiter of A's stuck CPU $HOLD_CPU" stuck_waiter $HOLD_CPU "$b" ki_lt_rwlock

# --- lib/test_lockup.c spinning for ki_lt_rwlock, write-held by A.
echo stop > "$LT/start"
addr=$(awk '$3 == "ki_lt_rwlock" { print $1; exit }' /proc/kallsyms)
lockup=$(modinfo test_lockup | sed -n 's/^filename: *//p')
tries=0
while [ $tries -lt 3 ]; do
	lt_start rwlock_hold 8000
	# insmod, not modprobe: test_lockup's init ends with EAGAIN, which modprobe retries.
	taskset -c $WAIT_CPU insmod "$lockup" lock_rwlock_ptr=0x"$addr" 2>/dev/null &
	ins=$!
	ki_wait_cpus '[ "$(ki_cpu_field $HOLD_CPU pid)" = "$a" ] &&
		[ "$(ki_cpu_field $WAIT_CPU pid)" = "$ins" ] &&
		ki_cpu_has_frame $WAIT_CPU queued_write_lock_slowpath' && ki_locks &&
		[ -n "$(ki_lock_task "$ins")" ] && break
	wait $ins
	tries=$((tries + 1))
done
ki_check "precondition: test_lockup's insmod ($ins) spins in queued_write_lock_slowpath on CPU $WAIT_CPU ($tries retries)" \
	[ $tries -lt 3 ]
dump_cpus
dump_locks "$a" "$ins"
ki_check "cpus: CPU $WAIT_CPU (insmod) waits for ki_lt_rwlock, does not hold it" \
	[ "$(ki_cpu_field $WAIT_CPU waits_for.name)" = '"ki_lt_rwlock"' -a \
	  -z "$(ki_cpu_held_field $WAIT_CPU ki_lt_rwlock kind)" ]
ki_check "locks: insmod ($ins) is blocked on rwlock-write ki_lt_rwlock owned by A ($a)" \
	lock_waits "$ins" rwlock-write "$a" ki_lt_rwlock
wait $ins
echo stop > "$LT/start"

modprobe -r ki_locktypes
ki_unload
ki_check "unload is clean" [ $? -eq 0 -a ! -e "$KI" ]

ktap_finished
