#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make run`, on two boots of one VM (scripts/vm
# --boots 2): loads kintrospect with modprobe, the watch (flight recorder)
# on and its black box in the reserve_mem region, and shows what it sees on
# the seed scenarios: a task spinning in kernel mode with a spinlock held
# and interrupts off, on the last CPU, which the watch records by itself;
# two tasks in an ABBA deadlock; a slab cache that leaks referenced objects.
# Then the machine panics and reboots, and the second boot reads what the
# first one's flight recorder kept.

KI=/sys/kernel/debug/kintrospect
show() { printf '\n# %s\n' "$*"; }

if [ "${VM_BOOT:-1}" = 2 ]; then
	show "# --- the second boot: what the first one's flight recorder kept"
	show modprobe kintrospect persist=kintrospect
	modprobe kintrospect persist=kintrospect || exit 1
	show "grep '^persist' $KI/status"
	grep '^persist' $KI/status
	show "grep -A 14 '^--- previous boot' $KI/events"
	grep -A 14 '^--- previous boot' $KI/events
	show "grep -e '^---' -e '^=== event' $KI/events"
	grep -e '^---' -e '^=== event' $KI/events
	exit 0
fi

args="test_paths=1 spin_timeout_ms=15000 watch_interval_ms=500 persist=kintrospect"
show modprobe kintrospect $args
modprobe kintrospect $args || exit 1
show cat $KI/status
cat $KI/status

cpu=$(($(grep -c '^processor' /proc/cpuinfo) - 1))
show "taskset -c $cpu dd if=$KI/test/spin_irqoff of=/tmp/spin.out bs=64 count=1 &   # spins, spinlock held, irqs off"
taskset -c $cpu dd if=$KI/test/spin_irqoff of=/tmp/spin.out bs=64 count=1 2>/dev/null &
spinner=$!
# Until a snapshot finds it spinning (at most 10 s).
tries=0
while [ $tries -lt 20 ]; do
	echo 'snapshot cpus' > $KI/control
	grep -q "^  kintrospect_test_spin_loop+" $KI/cpus && break
	sleep 0.5
	tries=$((tries + 1))
done

show "cat /proc/$spinner/stack   # the kernel's own view of the spinner: nothing"
cat /proc/$spinner/stack
show "echo 'snapshot cpus' > $KI/control; cat $KI/cpus"
echo 'snapshot cpus' > $KI/control
cat $KI/cpus
show "head -c 600 $KI/cpus.json"
head -c 600 $KI/cpus.json
echo

# The watch (a sample every 500 ms) records the stuck CPU by itself.
tries=0
while [ $tries -lt 20 ] && ! grep -q "^=== event [0-9]*: stuck-cpu CPU $cpu" $KI/events; do
	sleep 0.5
	tries=$((tries + 1))
done
show "head -n 16 $KI/events   # the flight recorder caught it by itself"
head -n 16 $KI/events

show "echo 1 > $KI/test/release"
echo 1 > $KI/test/release
wait $spinner
echo "spinner: $(cat /tmp/spin.out)"

show "cat $KI/test/abba_a & cat $KI/test/abba_b &   # an ABBA deadlock on two mutexes"
cat $KI/test/abba_a > /dev/null &
a=$!
cat $KI/test/abba_b > /dev/null &
b=$!
sleep 2
show "echo 'snapshot locks' > $KI/control; cat $KI/locks"
echo 'snapshot locks' > $KI/control
cat $KI/locks
show "kill -9 $a $b"
kill -9 $a $b
wait

show "echo baseline > $KI/control; echo 1000 > $KI/test/leak; echo 'snapshot slab' > $KI/control"
echo baseline > $KI/control
echo 1000 > $KI/test/leak
echo 'snapshot slab' > $KI/control
show "head -n 12 $KI/slab_delta"
head -n 12 $KI/slab_delta
echo free > $KI/test/leak
show "grep '^=== event' $KI/events"
grep '^=== event' $KI/events
show "echo c > /proc/sysrq-trigger   # the machine panics (and reboots: panic=-1)"
echo c > /proc/sysrq-trigger
exit 1
