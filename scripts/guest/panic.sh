#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make check`, in boots of its own, last: what ends
# a boot (an oops turns lockdep off, a panic stops the machine). $1 is the
# scenario:
# - sysrq (the default): the watch's oops and panic events (issue 9 item 4).
#   kintrospect is loaded with the watch on; then
#   - the guest's marks must reach the host whole while the kernel floods
#     the console (issue 17 item 6: a mark once shared a console line with a
#     kernel message and the host's parse missed it);
#   - ki_oops's init dereferences NULL in insmod: the watch records an "oops"
#     event for that insmod and prints the event's report to the console;
#   - ki_oops_storm: writers oops at once; each is an event, but the console
#     gets at most one full report for them (issue 17 item 5);
#   - a task spins in kernel mode on the last CPU until the watch records it
#     as a stuck CPU, and SysRq-c panics the kernel: the panic notifier
#     prints the watch's latest report - naming the spinning task - to the
#     console.
# - timekeeping: a panic inside the timekeeper's update (ki_panic_tk,
#   issue 17 item 4), with the watch on: its panic notifier must still print
#   and return, so that the panic reaches its reboot.
# Results go to the host as marks (vm-mark: a line of their own, never mixed
# with a kernel message): "PANIC-CHECK ok|not ok DESC" for the checks made
# here, and the pids and the point of the panic that scripts/check needs to
# check the console after the panic (the guest cannot).

KI=/sys/kernel/debug/kintrospect
scenario=${1:-sysrq}
mark() {
	vm-mark "$*"
}
check() {
	desc=$1
	shift
	if "$@"; then mark "PANIC-CHECK ok $desc"; else mark "PANIC-CHECK not ok $desc"; fi
}
# Waits up to 10 s for the shell condition $1.
wait_for() {
	i=0
	while [ $i -lt 20 ]; do
		eval "$1" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
# The file of helper module $1.
module_file() {
	modinfo "$1" | sed -n 's/^filename: *//p'
}

taskset -p -c 0 $$ >/dev/null

if [ "$scenario" = timekeeping ]; then
	modprobe kintrospect watch_interval_ms=200 ||
		{ mark "PANIC-CHECK not ok modprobe kintrospect watch_interval_ms=200"; poweroff -f; }
	wait_for '[ "$(sed -n "s/^watch_samples: //p" $KI/status)" -gt 0 ]'
	check "the watch samples (its panic notifier is registered)" [ $? -eq 0 ]
	mark "PANIC-NOW"
	# Panics at the next tick, inside the timekeeper's write section.
	insmod "$(module_file ki_panic_tk)" arm=1
	sleep 10
	mark "PANIC-CHECK not ok the kernel did not panic"
	exit 1
fi

modprobe kintrospect test_paths=1 spin_timeout_ms=15000 watch_interval_ms=200 ||
	{ mark "PANIC-CHECK not ok modprobe kintrospect watch_interval_ms=200"; poweroff -f; }

# Marks while the kernel writes to the console all the time: the host
# checks that each arrives as a line of its own (issue 17 item 6).
(
	i=0
	while [ ! -e /tmp/flood.stop ]; do
		echo "<4>ki-flood $i: a kernel message on the console while the guest marks" >/dev/kmsg
		i=$((i + 1))
	done
) &
flood=$!
for i in $(seq 20); do
	mark "PANIC-MARK $i of 20, whole"
done
touch /tmp/flood.stop
wait $flood

insmod "$(module_file ki_oops)" 2>/dev/null &
oopser=$!
wait $oopser
mark "PANIC-OOPS-PID $oopser"
wait_for 'grep -q "^=== event [0-9]*: oops CPU [0-9]* pid $oopser (insmod)" $KI/events'
check "the oops of insmod ($oopser) in ki_oops_probe is an oops event" [ $? -eq 0 ]
grep '^=== event' $KI/events
check "the oops event's report says lockdep is off (the oops turned it off)" \
	grep -q '^lockdep is off' $KI/events

# An oops storm: 8 writers oops at once. Today each oops event printed the
# whole report (up to 80 lines) to the console, the same one for every hit
# of a sample; now at most one full report for them all (one per sample and
# rate limit window), the rest one line each.
# Counted in the kernel log from here: the single oops's report is out
# (scripts/check finds it on the console).
wait_for 'dmesg | grep -q "kintrospect: report [0-9]* at "'
dmesg -c >/dev/null
insmod "$(module_file ki_oops_storm)" ||
	mark "PANIC-CHECK not ok insmod ki_oops_storm"
storm=
# On CPUs 0-2 (the last one is the spinner's, below).
for i in 1 2 3 4 5 6 7 8; do
	taskset -c $((i % 3)) sh -c 'echo 1 > /sys/kernel/debug/ki_oops_storm' 2>/dev/null &
	storm="$storm $!"
done
wait
storm_events() {
	n=0
	for p in $storm; do
		grep -q "^=== event [0-9]*: oops CPU [0-9]* pid $p (sh)" $KI/events && n=$((n + 1))
	done
	echo $n
}
wait_for '[ "$(storm_events)" -ge 8 ]'
# A sample after the last hit has printed whatever it prints.
sleep 1
events=$(storm_events)
reports=$(dmesg | grep -c 'kintrospect: report [0-9]* at ')
dmesg | grep 'kintrospect: event [0-9]*: oops'
check "an oops storm: $events of 8 oopses are events (>= 2), $reports full reports on the console (<= 1)" \
	[ "$events" -ge 2 -a "$reports" -le 1 ]

cpu=$(($(grep -c '^processor' /proc/cpuinfo) - 1))
taskset -c $cpu dd if=$KI/test/spin of=/tmp/spin.out bs=64 count=1 2>/dev/null &
spinner=$!
mark "PANIC-SPINNER $spinner CPU $cpu"
wait_for 'grep -q "^=== event [0-9]*: stuck-cpu CPU $cpu pid $spinner (dd)" $KI/events'
check "the spinner ($spinner) on CPU $cpu is a stuck-cpu event before the panic" [ $? -eq 0 ]
mark "PANIC-NOW"
echo c > /proc/sysrq-trigger
mark "PANIC-CHECK not ok the kernel did not panic"
