#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The black box across real reboots, for `make check`: run by
# `scripts/vm run --boots 4` (one VM whose RAM survives its resets; every
# boot has reserve_mem=2M:4096:kintrospect). $VM_BOOT says which boot this is:
# 1. A cold boot: the region holds nothing. The watch records a test spin on
#    the last CPU as a stuck CPU; SysRq-c panics the kernel, which reboots.
# 2. The previous boot's stuck-cpu event (its report naming the spinner)
#    and its panic event are found, marked with that boot's id, release and
#    time. Then a hung task with hung_task_panic=1: the detector panics the
#    kernel right after its report, before any sample of the watch.
# 3. Both earlier boots are found; the second's hung task (written by the
#    panic notifier) and panic. Then the watch writes records all the time
#    (a SysRq event every 100 ms, a stuck CPU updated) and the machine is
#    reset in the middle of them (QMP system_reset).
# 4. Whatever the reset left is whole: events.json parses, every record
#    shown is an event with its report; the torn ones are counted. The
#    region is dumped as an ELF core (vm-dump) for scripts/blackbox-read on
#    the host. `clear previous` forgets them all.
# Results go to the host as marks: "BLACKBOX-CHECK ok|not ok DESC".

KI=/sys/kernel/debug/kintrospect
KI_JSON=/kselftest/kintrospect/kintrospect_json
mark() {
	vm-mark "$*"
}
check() {
	desc=$1
	shift
	if "$@"; then mark "BLACKBOX-CHECK ok $desc"; else mark "BLACKBOX-CHECK not ok $desc"; fi
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
json() {
	cat $KI/events.json >/tmp/events.json && $KI_JSON /tmp/events.json >/tmp/events.flat
}
jfield() {
	awk -v k=".$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1) }' /tmp/events.flat
}
found() {
	sed -n 's/^persist: .*; found \([0-9]*\) of earlier boots or loads, \([0-9]*\) bad records dropped.*/\1 \2/p' $KI/status
}
# The heading of previous boot group $1 (1-based) in events.
group() {
	grep '^--- previous boot ' $KI/events | sed -n "${1}p"
}

taskset -p -c 0 $$ >/dev/null
echo 1 >/proc/sys/kernel/sysrq
cpu=$(($(grep -c '^processor' /proc/cpuinfo) - 1))
boot_id=$(cat /proc/sys/kernel/random/boot_id)
mark "BLACKBOX-BOOT $VM_BOOT $boot_id"

# Early in a boot the kernel still switches to the TSC clocksource once it is
# calibrated, with stop_machine(): a test spin with preemption off on one CPU
# then stalls every other CPU (the watch too) until the spin ends. The spins
# start after that switch (up to 10 s; a kernel that never switches goes on).
cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
[ -r $cs ] && wait_for "grep -qx tsc $cs"

case "$VM_BOOT" in
1)
	modprobe kintrospect persist=kintrospect watch_interval_ms=200 test_paths=1 \
		spin_timeout_ms=15000 || { mark "BLACKBOX-CHECK not ok modprobe"; exit 1; }
	check "boot 1 (cold): the region holds nothing ($(found))" [ "$(found)" = "0 0" ]
	taskset -c $cpu dd if=$KI/test/spin of=/dev/null bs=64 count=1 2>/dev/null &
	spinner=$!
	mark "BLACKBOX-SPINNER $spinner"
	wait_for "grep -q '^=== event [0-9]*: stuck-cpu CPU $cpu pid $spinner (dd)' $KI/events"
	check "boot 1: the spinner ($spinner) on CPU $cpu is a stuck-cpu event" [ $? -eq 0 ]
	# Its record is written when the event is (the watch's work, before the sample ends).
	sleep 1
	echo c >/proc/sysrq-trigger
	mark "BLACKBOX-CHECK not ok boot 1: the kernel did not panic"
	exit 1
	;;
2)
	modprobe kintrospect persist=kintrospect watch_interval_ms=200 ||
		{ mark "BLACKBOX-CHECK not ok modprobe"; exit 1; }
	json
	grep '^--- \|^=== event' $KI/events
	check "boot 2: one earlier boot, 2 events ($(found))" [ "$(found)" = "2 0" ]
	g=$(group 1)
	case "$g" in
	"--- previous boot "*", kernel $(uname -r), booted "*", panicked at "*": 2 event(s)") ok=0 ;;
	*) ok=1 ;;
	esac
	check "boot 2: it is marked previous boot, kernel $(uname -r), booted, panicked at ... ($g)" [ $ok -eq 0 ]
	prev=$(jfield 'previous[0].boot_id' | tr -d '"')
	check "boot 2: its boot_id ($prev) is not this boot's ($boot_id)" \
		[ -n "$prev" -a "$prev" != "$boot_id" ]
	spinner=$(jfield 'previous[0].events[0].pid')
	[ "$(jfield 'previous[0].events[0].kind')" = '"stuck-cpu"' ] &&
		[ "$(jfield 'previous[0].events[1].kind')" = '"panic"' ] &&
		[ "$(jfield 'previous[0].this_boot')" = false ] &&
		[ "$(jfield 'previous[0].panicked')" != null ]
	check "boot 2: events.json previous[0]: stuck-cpu (pid $spinner), then panic" [ $? -eq 0 ]
	mark "BLACKBOX-PREVIOUS-SPINNER $spinner"
	awk -v head="^STUCK CPU $cpu: pid $spinner [(]dd[)] " '
		$0 ~ head { inside = 1; next }
		inside && /^  kintrospect_test_spin_loop[+]/ { found = 1 }
		/^$/ { inside = 0 }
		END { exit !found }' $KI/events
	check "boot 2: the stuck-cpu report names the spinner in kintrospect_test_spin_loop" [ $? -eq 0 ]
	grep -q '^=== event [0-9]*: panic, first at ' $KI/events
	check "boot 2: the panic event and its report are there" [ $? -eq 0 ]
	# A hung task that panics the kernel: test_lockup holds slab_mutex
	# asleep, cat /proc/slabinfo waits for it in D state.
	echo 1 >/proc/sys/kernel/hung_task_panic
	echo 2 >/proc/sys/kernel/hung_task_timeout_secs
	addr=$(awk '$3 == "slab_mutex" { print $1; exit }' /proc/kallsyms)
	insmod "$(modinfo -F filename test_lockup)" lock_mutex_ptr=0x"$addr" time_secs=30 state=S 2>/dev/null &
	wait_for "dmesg | grep -q 'test_lockup: lock mutex slab_mutex'"
	cat /proc/slabinfo >/dev/null &
	mark "BLACKBOX-HUNG $!"
	sleep 30
	mark "BLACKBOX-CHECK not ok boot 2: the hung task did not panic the kernel"
	exit 1
	;;
3)
	modprobe kintrospect persist=kintrospect watch_interval_ms=100 test_paths=1 \
		spin_timeout_ms=15000 || { mark "BLACKBOX-CHECK not ok modprobe"; exit 1; }
	json
	grep '^--- \|^=== event' $KI/events
	check "boot 3: two earlier boots: 2 events of boot 1, then boot 2's" \
		[ "$(group 1 | sed 's/.*: //')" = "2 event(s)" -a -n "$(group 2)" ]
	if grep -q '^watch_hooks: hung-task yes' $KI/status; then
		# The hung task, then the panic it caused (in the order of their numbers).
		[ "$(jfield 'previous[1].events[0].kind')" = '"hung-task"' ] &&
			[ "$(jfield 'previous[1].events[0].comm')" = '"cat"' ] &&
			[ "$(jfield 'previous[1].events[1].kind')" = '"panic"' ]
		check "boot 3: boot 2's hung task (cat, pid $(jfield 'previous[1].events[0].pid')), then its panic" [ $? -eq 0 ]
		mark "BLACKBOX-PREVIOUS-HUNG $(jfield 'previous[1].events[0].pid')"
	else
		# No tracepoints (the production-like kernel): no hung-task hook,
		# as status says; the panic is recorded all the same.
		[ "$(jfield 'previous[1].events[0].kind')" = '"panic"' ] &&
			[ -z "$(jfield 'previous[1].events[1].kind')" ]
		check "boot 3: boot 2's panic alone (no hung-task hook on this kernel: $(sed -n 's/^watch_hooks: //p' $KI/status))" [ $? -eq 0 ]
		mark "BLACKBOX-PREVIOUS-HUNG none"
	fi
	# Records written all the time, then a reset at any moment.
	taskset -c $cpu dd if=$KI/test/spin of=/dev/null bs=64 count=1 2>/dev/null &
	(while :; do echo x >/proc/sysrq-trigger; sleep 0.1; done) &
	sleep 3
	mark "BLACKBOX-RESET"
	vm-reset
	sleep 30
	mark "BLACKBOX-CHECK not ok boot 3: no reset"
	exit 1
	;;
4)
	modprobe kintrospect persist=kintrospect ||
		{ mark "BLACKBOX-CHECK not ok modprobe"; exit 1; }
	grep '^persist' $KI/status
	json
	check "boot 4: after the reset, events.json parses" [ $? -eq 0 ]
	groups=$(grep -c '^--- previous boot ' $KI/events)
	check "boot 4: three earlier boots are shown ($groups)" [ "$groups" -eq 3 ]
	# Every record of boot 3 shown is a SysRq or stuck-cpu event with a report.
	i=0 bad=0
	while [ -n "$(jfield "previous[2].events[$i].kind")" ]; do
		case "$(jfield "previous[2].events[$i].kind")" in
		'"sysrq"'|'"stuck-cpu"') ;;
		*) bad=$((bad + 1)) ;;
		esac
		grep -qE "^\.previous\[2\]\.events\[$i\]\.(report\.seq=|report_cut=true)" /tmp/events.flat ||
			bad=$((bad + 1))
		i=$((i + 1))
	done
	mark "BLACKBOX-RESET-FOUND $i records of boot 3, $(found | cut -d' ' -f2) torn or bad"
	check "boot 4: boot 3's $i records are whole events with their reports ($bad not)" \
		[ "$i" -ge 1 -a "$bad" -eq 0 ]
	# The region as a vmcore would hold it, for scripts/blackbox-read on the host.
	name=blackbox-$boot_id.elf
	vm-dump "$name" "$(jfield persist.phys)" "$(jfield persist.size)" &&
		mark "BLACKBOX-DUMP $name $(found | cut -d' ' -f1)"
	echo 'clear previous' >$KI/control
	modprobe -r kintrospect && modprobe kintrospect persist=kintrospect
	check "boot 4: after 'clear previous' the next load finds nothing ($(found))" [ "$(found)" = "0 0" ]
	modprobe -r kintrospect
	;;
esac
exit 0
