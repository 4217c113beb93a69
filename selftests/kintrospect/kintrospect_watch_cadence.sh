#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The flight recorder keeps its cadence through a hard lockup. A timer fires
# only on the CPU it was queued on, and a CPU spinning with interrupts off
# runs none of its timers. Before, the watch's next sample was a delayed work
# whose timer sat on the CPU that had run the last sample: when that CPU then
# spun with interrupts off, the watch never sampled again and the lockup -
# the incident the recorder is for - never became an event.
#
# Here a user-mode loop at nice 19 keeps this shell's CPU 0 busy, so that
# the watch's sampler (a kworker, woken on an idle CPU) settles on the other
# CPUs; then ki_wedge spins with interrupts off on every CPU but CPU 0,
# three times for 3 s. While they are wedged the watch must go
# on sampling, record each wedged CPU as a stuck-cpu event (its ki_wedge
# thread, interrupts off), and its files must stay readable; status and
# metrics count the samples a backup timer had to start.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ki_require_module ki_wedge
ki_require_cpus 3
ktap_print_header
ktap_set_plan 6
cleanup() {
	kill $busy 2>/dev/null
	wait
	modprobe -r ki_wedge 2>/dev/null
}
ki_trap_cleanup cleanup
taskset -p -c 0 $$ >/dev/null
LAST=$((nr - 1))
WEDGE=/sys/kernel/debug/ki_wedge

status_field() {
	sed -n "s/^$1: //p" "$KI/status" | cut -d' ' -f1
}

modprobe ki_wedge || ktap_exit_fail_msg "cannot load ki_wedge"
# busybox has no nice: the loop is reniced once started. It must run, or
# the sampler may settle on CPU 0, which is never wedged, and no backup
# timer is ever needed (rescued 0).
taskset -c 0 sh -c 'while :; do :; done' &
busy=$!
renice -n 19 -p $busy >/dev/null && kill -0 $busy ||
	ktap_exit_fail_msg "cannot start the busy loop at nice 19 on CPU 0"
# Loaded from the last CPU: the watch's first timer is there.
taskset -c "$LAST" modprobe kintrospect watch_interval_ms=200 stuck_ms=500 watch_events=16 ||
	ktap_exit_fail_msg "cannot load kintrospect with the watch on"
sleep 2

min_during=-1
readable=1
round=1
while [ $round -le 3 ]; do
	before=$(status_field watch_samples)
	echo "1-$LAST 3000" > "$WEDGE" || ktap_exit_fail_msg "cannot wedge CPUs 1-$LAST"
	sleep 2.5
	# Still wedged: reading must work and the samples must have gone on.
	during=$(status_field watch_samples)
	cat "$KI/events" > "$KI_TMP/events.$round" && cat "$KI/metrics" > "$KI_TMP/metrics.$round" ||
		readable=0
	n=$((during - before))
	echo "# round $round: $n samples in 2.5 s with CPUs 1-$LAST wedged (interrupts off)"
	[ $min_during -lt 0 -o $n -lt $min_during ] && min_during=$n
	sleep 1
	round=$((round + 1))
done
grep '^watch_' "$KI/status" | sed 's/^/# /'

# At 200 ms, and a backup at 300 ms: about 8 in 2.5 s; before, 0 in most rounds.
ki_check "the watch sampled while CPUs 1-$LAST had interrupts off (at least 4 per 2.5 s, each of 3 rounds; fewest $min_during)" \
	[ "$min_during" -ge 4 ]
ki_check "events and metrics were readable with CPUs 1-$LAST wedged" [ $readable -eq 1 ]

wedged_events() {
	local cpu=1 ok=1
	while [ $cpu -le $LAST ]; do
		grep -q "^=== event [0-9]*: stuck-cpu CPU $cpu pid [0-9]* (ki_wedge/$cpu), " \
			"$KI_TMP/events.1" || ok=0
		cpu=$((cpu + 1))
	done
	[ $ok -eq 1 ]
}
ki_check "the first wedge became one stuck-cpu event per wedged CPU, naming its ki_wedge thread" \
	wedged_events
grep -q "^STUCK CPU $LAST: pid [0-9]* (ki_wedge/$LAST) mode kernel context task irqs off " \
	"$KI_TMP/events.1"
ki_check "its report shows CPU $LAST in the kernel, in a task, interrupts off" [ $? -eq 0 ]

rescued=$(status_field watch_samples_rescued)
echo "# samples a backup timer started: $rescued, late: $(status_field watch_samples_late)"
cadence_reported() {
	grep -q '^watch_samples_late: [0-9]* (started more than 300 ms after the previous one)$' \
		"$KI/status" &&
		grep -q '^watch_samples_rescued: [0-9]* ' "$KI/status" &&
		grep -q '^watch_longest_gap_ms: [0-9]*$' "$KI/status" &&
		grep -q '^kintrospect_watch_samples_late_total [0-9]*$' "$KI_TMP/metrics.3" &&
		grep -q "^kintrospect_watch_samples_rescued_total [0-9]*$" "$KI_TMP/metrics.3" &&
		grep -q '^kintrospect_watch_last_sample_age_milliseconds [0-9]*$' "$KI_TMP/metrics.3"
}
ki_check "status and metrics say how the watch kept its cadence (late, rescued, longest gap, age)" \
	cadence_reported
# The first wedge caught the sampler's CPU: a backup had to start the sample.
ki_check "a backup timer started samples while the sampler's CPU was wedged (rescued $rescued)" \
	[ "${rescued:-0}" -ge 1 ]

ktap_finished
