#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make run`: loads kintrospect with modprobe and
# shows what it sees, on the seed scenario: a task spinning in kernel mode
# with a spinlock held and interrupts off, on the last CPU.

KI=/sys/kernel/debug/kintrospect
show() { printf '\n# %s\n' "$*"; }

show modprobe kintrospect test_paths=1
modprobe kintrospect test_paths=1 || exit 1
show cat $KI/status
cat $KI/status

cpu=$(($(grep -c '^processor' /proc/cpuinfo) - 1))
show "taskset -c $cpu cat $KI/test/spin_irqoff &   # spins with a spinlock held, irqs off"
taskset -c $cpu cat $KI/test/spin_irqoff > /tmp/spin.out &
spinner=$!
sleep 2

show "cat /proc/$spinner/stack   # the kernel's view: nothing"
cat /proc/$spinner/stack
show "echo 'snapshot cpus' > $KI/control; cat $KI/cpus"
echo 'snapshot cpus' > $KI/control
cat $KI/cpus
show "head -c 600 $KI/cpus.json"
head -c 600 $KI/cpus.json
echo

show "echo 1 > $KI/test/release"
echo 1 > $KI/test/release
wait $spinner
echo "spinner: $(cat /tmp/spin.out)"
show modprobe -r kintrospect
modprobe -r kintrospect && echo unloaded
