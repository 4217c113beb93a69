#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make check`, in its own boot, last: the watch's
# oops and panic events (issue 9 item 4), which end what a boot can test (an
# oops turns lockdep off, a panic stops the machine). kintrospect is loaded
# with the watch on; then
# - ki_oops's init dereferences NULL in insmod: the watch records an "oops"
#   event for that insmod and prints the event's report to the console;
# - a task spins in kernel mode on the last CPU until the watch records it
#   as a stuck CPU, and SysRq-c panics the kernel: the panic notifier prints
#   the watch's latest report - naming the spinning task - to the console.
# Lines "PANIC-CHECK ok|not ok DESC" are the checks made here; scripts/check
# reads them and checks the console after the panic (the guest cannot).

KI=/sys/kernel/debug/kintrospect
check() {
	desc=$1
	shift
	if "$@"; then echo "PANIC-CHECK ok $desc"; else echo "PANIC-CHECK not ok $desc"; fi
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

taskset -p -c 0 $$ >/dev/null
modprobe kintrospect test_paths=1 spin_timeout_ms=15000 watch_interval_ms=200 ||
	{ echo "PANIC-CHECK not ok modprobe kintrospect watch_interval_ms=200"; poweroff -f; }

insmod "$(modinfo ki_oops | sed -n 's/^filename: *//p')" 2>/dev/null &
oopser=$!
wait $oopser
echo "PANIC-OOPS-PID $oopser"
wait_for 'grep -q "^=== event [0-9]*: oops CPU [0-9]* pid $oopser (insmod)" $KI/events'
check "the oops of insmod ($oopser) in ki_oops_probe is an oops event" [ $? -eq 0 ]
grep '^=== event' $KI/events
check "the oops event's report says lockdep is off (the oops turned it off)" \
	grep -q '^lockdep is off' $KI/events

cpu=$(($(grep -c '^processor' /proc/cpuinfo) - 1))
taskset -c $cpu dd if=$KI/test/spin of=/tmp/spin.out bs=64 count=1 2>/dev/null &
spinner=$!
echo "PANIC-SPINNER $spinner CPU $cpu"
wait_for 'grep -q "^=== event [0-9]*: stuck-cpu CPU $cpu pid $spinner (dd)" $KI/events'
check "the spinner ($spinner) on CPU $cpu is a stuck-cpu event before the panic" [ $? -eq 0 ]
echo "PANIC-NOW"
echo c > /proc/sysrq-trigger
echo "PANIC-CHECK not ok the kernel did not panic"
