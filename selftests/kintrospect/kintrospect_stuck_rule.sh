#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# "Stuck" means what the soft-lockup detector means: the CPU did not
# schedule and could not - its task stayed in the kernel where it cannot be
# preempted (preemption, bottom halves or interrupts off), with no context
# switch and no user time between the snapshots. Look-alikes that were
# called stuck before, and must never be:
# - the CPU that takes the SysRq key on an idle machine: its own record was
#   the handler itself (kernel mode, in kintrospect_sysrq_handler), carried
#   over from the idle task's earlier record; now it is what the keyboard
#   interrupt interrupted (get_irq_regs());
# - a user-mode busy loop alone on its CPU: an NMI that lands in the timer
#   interrupt read "mode kernel" and its time on the CPU was carried over;
#   now its mode stays "user" (context "irq"), and user time breaks the run;
# - a busy syscall-heavy process alone on its CPU (dd from /dev/zero to
#   /dev/null): no context switch, in the kernel at nearly every NMI, but
#   preemptible there - a CPU that simply has nothing else to run.
# The watch runs meanwhile (100 ms, stuck_ms=300): no stuck-cpu event.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ki_require_cpus 3
command -v vm-sendkey >/dev/null ||
	ki_skip "no vm-sendkey (the key press needs scripts/vm)"
ktap_print_header
ktap_set_plan 6
old_sysrq=$(cat /proc/sys/kernel/sysrq)
cleanup() {
	kill $loop $dd 2>/dev/null
	wait
	echo "$old_sysrq" > /proc/sys/kernel/sysrq
}
ki_trap_cleanup cleanup
echo 1 > /proc/sys/kernel/sysrq
taskset -p -c 0 $$ >/dev/null
LOOP_CPU=$((nr - 1))
DD_CPU=$((nr - 2))

# --- The SysRq key on an idle machine.
ki_load stuck_ms=300 || ktap_exit_fail_msg "cannot load kintrospect"
ki_snapshot 0
sleep 1
ki_snapshot 0
ki_cpus_json
seq=$(ki_field seq)
vm-sendkey alt-sysrq-x
i=0
while [ $i -lt 20 ]; do
	ki_cpus_json && [ "$(ki_field seq)" = $((seq + 1)) ] && break
	sleep 0.5
	i=$((i + 1))
done
grep -E '^\.cpus\[[0-9]+\]\.(pid|state|mode|context|frames\[[01]\])=' "$KI_TMP/cpus.flat" |
	sed 's/^/# /'
key_ok() {
	[ "$(ki_field source)" = '"sysrq"' ] &&
		! grep -qE '^\.cpus\[[0-9]+\]\.frames\[[0-9]+\]="(kintrospect_sysrq_handler|kintrospect_cpus_capture)\+' \
			"$KI_TMP/cpus.flat"
}
ki_check "the key's snapshot shows what the keyboard interrupt interrupted, not the key's handler" key_ok
idle_ok() {
	local cpu=0
	while [ $cpu -lt "$nr" ]; do
		[ "$(ki_cpu_field $cpu pid)" = 0 ] && [ "$(ki_cpu_field $cpu mode)" != '"idle"' ] &&
			return 1
		cpu=$((cpu + 1))
	done
	return 0
}
ki_check "every idle task in the key's snapshot reads mode idle (in an interrupt or not)" idle_ok
# The key's deferred work builds a report from that snapshot.
i=0
while [ $i -lt 20 ] && ! head -n 1 "$KI/report" | grep -q ": CPU snapshot $((seq + 1)), "; do
	sleep 0.5
	i=$((i + 1))
done
head -n 1 "$KI/report" | sed 's/^/# /'
no_stuck_line() {
	! grep -q '^STUCK CPU' "$KI/report"
}
ki_check "the key's report names no stuck CPU" no_stuck_line
ki_unload

# --- A user-mode loop and a syscall-heavy dd, each alone on its CPU, watched.
taskset -c $LOOP_CPU sh -c 'while :; do :; done' &
loop=$!
taskset -c $DD_CPU dd if=/dev/zero of=/dev/null bs=1M 2>/dev/null &
dd=$!
ki_load watch_interval_ms=100 stuck_ms=300 || ktap_exit_fail_msg "cannot load with the watch on"
start=$(date +%s)
# Snapshots of our own meanwhile: the loop's records when an NMI caught it in an interrupt.
caught=0 wrong=0 n=0
while [ $n -lt 60 ]; do
	if ki_snapshot 0 && ki_cpus_json && [ "$(ki_cpu_field $LOOP_CPU pid)" = $loop ]; then
		case "$(ki_cpu_field $LOOP_CPU context)" in
		'"irq"'|'"softirq"')
			caught=$((caught + 1))
			[ "$(ki_cpu_field $LOOP_CPU mode)" = '"user"' ] || wrong=$((wrong + 1))
			;;
		esac
	fi
	n=$((n + 1))
done
# 30 s of watching in all.
while [ $(($(date +%s) - start)) -lt 30 ]; do
	sleep 1
done
echo "# the loop was caught in an interrupt $caught times in 60 snapshots, $wrong not as user mode"
ki_check "a user loop caught in an interrupt reads mode user ($wrong of $caught did not)" [ $wrong -eq 0 ]
grep -E '^(watch_samples|watch_samples_busy): ' "$KI/status" | sed 's/^/# /'
# Only the two CPUs under test are judged: CPU 0 runs this shell's helpers,
# whose vCPU the host may deschedule in the middle of anything.
grep 'stuck-cpu' "$KI/events" | sed 's/^/# /' | head -n 5
no_stuck() {
	! grep -qE "^=== event [0-9]+: stuck-cpu CPU ($LOOP_CPU|$DD_CPU) " "$KI/events" &&
		! grep -qE "^STUCK CPU ($LOOP_CPU|$DD_CPU): " "$KI/events" &&
		[ "$(sed -n 's/^watch_samples: //p' "$KI/status")" -ge 20 ]
}
ki_check "the watch saw the loop (CPU $LOOP_CPU) and dd (CPU $DD_CPU) for 30 s and called neither stuck" \
	no_stuck
ki_snapshot 0
echo 'snapshot report' > "$KI/control"
no_stuck_now() {
	! grep -qE "^STUCK CPU ($LOOP_CPU|$DD_CPU): " "$KI/report"
}
ki_check "a report taken now calls neither stuck" no_stuck_now

ktap_finished
