#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The seed case: a task spinning in kernel mode with a spinlock held, and
# with interrupts off, on its own CPU. /proc/PID/stack cannot show it (the
# task is running on another CPU); an NMI snapshot names the spin function,
# the task, kernel mode and the interrupt state. The spin ends on release
# and on its timeout; unload is refused (never hangs) while a spin runs. A
# reader waiting for the lock with interrupts off ends the holder's spin by
# its own bound, so that no CPU keeps interrupts off longer than 8 s.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 16
ki_trap_cleanup

ki_require_cpus 3
SPIN_CPU=$((nr - 1))
# This shell and what it starts stay off the spinning CPU: a CPU spinning with
# interrupts off runs no timer queued on it (sleep, read -t).
taskset -p -c 0 $$ >/dev/null

# Snapshots from CPU 0 until the NMI finds pid $2 on CPU $1 in the loop itself
# (frames[0] kintrospect_test_spin_loop), not in an interrupt taken on top of
# it: a timer interrupt runs with interrupts off and preempt_count raised.
wait_spinning() {
	i=0
	while [ $i -lt 20 ]; do
		ki_snapshot 0 && ki_cpus_json &&
			[ "$(ki_cpu_field "$1" pid)" = "$2" ] &&
			grep -q "^\.cpus\[$1\]\.frames\[0\]=\"kintrospect_test_spin_loop+" \
				"$KI_TMP/cpus.flat" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

# Starts a reader of test/$1 pinned to CPU $2 (default SPIN_CPU), writing
# what it read to $KI_TMP/$1.out; its pid in $spid.
start_spinner() {
	taskset -c "${2:-$SPIN_CPU}" dd if="$KI/test/$1" of="$KI_TMP/$1.out" bs=256 count=1 2>/dev/null &
	spid=$!
}

# Below the soft-lockup threshold (20 s), even if a check fails and waits.
ki_load test_paths=1 spin_timeout_ms=15000 || ktap_exit_fail_msg "cannot load with test_paths=1"

# Preemption off, interrupts on.
start_spinner spin
wait_spinning "$SPIN_CPU" "$spid"
ki_check "snapshot shows pid $spid on CPU $SPIN_CPU in kintrospect_test_spin_loop" [ $? -eq 0 ]
cp "$KI_TMP/cpus.flat" "$KI_TMP/spin.flat"
grep "^\.cpus\[$SPIN_CPU\]\." "$KI_TMP/spin.flat" | sed 's/^/# /' | head -n 20

spin_fields_ok() {
	[ "$(ki_cpu_field "$SPIN_CPU" comm)" = '"dd"' ] &&
		[ "$(ki_cpu_field "$SPIN_CPU" mode)" = '"kernel"' ] &&
		[ "$(ki_cpu_field "$SPIN_CPU" state)" = '"running"' ] &&
		[ "$(ki_cpu_field "$SPIN_CPU" irqs_disabled)" = "$1" ] &&
		preempt_ok
}

# One level for the spinlock: exactly 1 when the NMI hit the loop itself (the
# loop also reads the clock, which disables preemption for a moment).
preempt_ok() {
	local pc
	pc=$(ki_cpu_field "$SPIN_CPU" preempt_count)
	if grep -q "^\.cpus\[$SPIN_CPU\]\.frames\[0\]=\"kintrospect_test_spin_loop+" "$KI_TMP/cpus.flat"; then
		[ "$pc" = 1 ]
	else
		[ "$pc" -ge 1 ]
	fi
}
ki_check "the spinner is comm dd, running, kernel mode, irqs_disabled false, preempt_count 1 in the loop" \
	spin_fields_ok false

stack_blind() {
	cat "/proc/$spid/stack" > "$KI_TMP/stack" 2>&1 || return 1
	sed 's/^/# stack: /' "$KI_TMP/stack"
	! grep -q kintrospect_test_spin_loop "$KI_TMP/stack"
}
ki_check "/proc/$spid/stack is readable and does not show the spin function, the snapshot does" \
	stack_blind

cat "$KI/cpus" > "$KI_TMP/cpus.txt"
grep -q "^CPU $SPIN_CPU: pid $spid tgid $spid comm dd mode kernel context task irqs on " "$KI_TMP/cpus.txt"
ki_check "the cpus text file shows the spinner's header line" [ $? -eq 0 ]

modprobe -r kintrospect 2>/dev/null
rc=$?
ki_loaded && kill -0 "$spid" 2>/dev/null
ki_check "unload while spinning is refused (rc $rc), module and spinner stay" [ $? -eq 0 -a $rc -ne 0 ]

echo 1 > "$KI/test/release"
ki_wait_gone "$spid" 10 && grep -q '^released$' "$KI_TMP/spin.out"
ki_check "release ends the spin and the read returns 'released'" [ $? -eq 0 ]

# Preemption and interrupts off: only an NMI reaches this CPU.
start_spinner spin_irqoff
wait_spinning "$SPIN_CPU" "$spid"
ki_check "snapshot shows the irqs-off spinner $spid on CPU $SPIN_CPU" [ $? -eq 0 ]
ki_check "the irqs-off spinner is reported with irqs_disabled true, preempt_count 1 in the loop" \
	spin_fields_ok true
echo 1 > "$KI/test/release"
ki_wait_gone "$spid" 10 && grep -q '^released$' "$KI_TMP/spin_irqoff.out"
ki_check "release ends the irqs-off spin" [ $? -eq 0 ]

ki_unload
ki_check "unload after the spins is clean" [ $? -eq 0 -a ! -e "$KI" ]

# Nobody releases: the timeout ends the spin.
ki_load test_paths=1 spin_timeout_ms=1500
start_spinner spin
ki_wait_gone "$spid" 30 && grep -q '^timed out after 1500 ms$' "$KI_TMP/spin.out"
ki_check "a spin nobody releases ends after spin_timeout_ms" [ $? -eq 0 ]
ki_unload
ki_check "unload after the timeout is clean" [ $? -eq 0 -a ! -e "$KI" ]

# L6: with interrupts off a spin is bounded below the hard-lockup threshold
# (watchdog_thresh, 10 s), whatever spin_timeout_ms says; before, it lasted
# spin_timeout_ms (default 30 s: a hard LOCKUP with a PMU watchdog).
ki_load test_paths=1 spin_timeout_ms=15000
start_spinner spin_irqoff
ki_wait_gone "$spid" 30 && grep -q '^timed out after 8000 ms$' "$KI_TMP/spin_irqoff.out"
ki_check "L6: an irqs-off spin nobody releases ends after 8000 ms, not spin_timeout_ms=15000" [ $? -eq 0 ]
sed 's/^/# /' "$KI_TMP/spin_irqoff.out"

# L6: a reader waiting for the lock with interrupts off waits as long as the
# holder spins. Before, a holder with spin_timeout_ms=15000 kept the waiter's
# CPU with interrupts off for 15 s, above the hard-lockup threshold; now the
# waiter's own bound (8000 ms) ends the holder's spin, and the waiter says how
# long its interrupts were off, waiting included (the kernel's local_clock).
WAIT_CPU=$((nr - 2))
start_spinner spin
wait_spinning "$SPIN_CPU" "$spid"
holder=$spid
start_spinner spin_irqoff "$WAIT_CPU"
waiter=$spid
ki_wait_gone "$waiter" 30
ki_wait_gone "$holder" 30
sed 's/^/# waiter: /' "$KI_TMP/spin_irqoff.out"
sed 's/^/# holder: /' "$KI_TMP/spin.out"
irqoff_ms=$(sed -n 's/^interrupts off for \([0-9]*\) ms$/\1/p' "$KI_TMP/spin_irqoff.out")
waiter_ok() {
	[ -n "$irqoff_ms" ] && [ "$irqoff_ms" -le 8500 ]
}
ki_check "L6: a reader waiting with interrupts off had them off ${irqoff_ms:-?} ms, at most its 8000 ms bound, not the holder's 15000" waiter_ok
grep -q '^ended early: an irqs-off waiter allows at most 8000 ms$' "$KI_TMP/spin.out"
ki_check "L6: the holder's spin was ended for that reader, and says so" [ $? -eq 0 ]
ki_unload
modprobe kintrospect test_paths=1 spin_timeout_ms=30000 2>/dev/null
rc=$?
ki_check "L6: spin_timeout_ms above 15000 (soft-lockup and RCU stall thresholds) is refused" \
	[ $rc -ne 0 ]
ki_loaded && ki_unload

ktap_finished
