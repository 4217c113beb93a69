#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The SysRq key: /proc/sysrq-trigger and a real key press (QEMU's sendkey,
# through the VM runner's vm-sendkey) each take a snapshot with source
# "sysrq" of every CPU and log one summary line; a key pressed while other
# snapshots are being taken (control writers on every other CPU) is not
# lost: each press gets its snapshot; a key that is already taken refuses
# the load with a clear message.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
[ -w /proc/sysrq-trigger ] || ki_skip "no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ)"
ktap_print_header
ktap_set_plan 7
old_sysrq=$(cat /proc/sys/kernel/sysrq)
ki_trap_cleanup 'kill $writers 2>/dev/null; echo "$old_sysrq" > /proc/sys/kernel/sysrq'
echo 1 > /proc/sys/kernel/sysrq

ki_load
nr=$(ki_nr_online)
ki_snapshot
ki_cpus_json
seq=$(ki_field seq)

# Waits up to 10 s for snapshot $1 to be the latest.
wait_seq() {
	i=0
	while [ $i -lt 20 ]; do
		ki_cpus_json && [ "$(ki_field seq)" = "$1" ] && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

all_answered() {
	[ "$(ki_field source)" = '"sysrq"' ] || return 1
	cpu=0
	while [ $cpu -lt "$nr" ]; do
		case "$(ki_cpu_field $cpu state)" in
		'"running"'|'"idle"') ;;
		*) return 1 ;;
		esac
		cpu=$((cpu + 1))
	done
}

echo x > /proc/sysrq-trigger
wait_seq $((seq + 1)) && all_answered
ki_check "echo x > /proc/sysrq-trigger takes snapshot $((seq + 1)) of all CPUs, source sysrq" [ $? -eq 0 ]
dmesg | grep -q "kintrospect: snapshot $((seq + 1)) of $nr CPUs (0 no-response) taken by sysrq"
ki_check "the handler logs one summary line" [ $? -eq 0 ]

# The locks report needs process context: the handler defers it to a work item.
locks_by_sysrq() {
	local tries=0
	while [ $tries -lt 20 ]; do
		dmesg | grep -q "kintrospect: locks snapshot taken by sysrq: no deadlock" &&
			head -n1 "$KI/locks" | grep -q '^locks snapshot 1 ' && return 0
		sleep 0.5
		tries=$((tries + 1))
	done
	return 1
}
ki_check "the key also takes a locks snapshot, in process context" locks_by_sysrq

if command -v vm-sendkey >/dev/null; then
	vm-sendkey alt-sysrq-x && wait_seq $((seq + 2)) && all_answered
	ki_check "a key press alt-sysrq-x takes snapshot $((seq + 2)), source sysrq" [ $? -eq 0 ]
else
	ktap_test_skip "a key press alt-sysrq-x: no vm-sendkey (not running under scripts/vm)"
fi

# --- Pressed while snapshots are being taken: before, the handler found the
# capture busy and dropped the key ("key ignored"). Writers on every CPU but
# 0 take CPU snapshots back to back; this shell, on CPU 0, presses the key 8
# times, each after the previous one's snapshot was logged.
taskset -p -c 0 $$ >/dev/null
sysrq_lines() {
	dmesg | grep -c "kintrospect: snapshot [0-9]* of $nr CPUs .* taken by sysrq in "
}
writers=
cpu=1
while [ $cpu -lt "$nr" ]; do
	taskset -c $cpu sh -c "while :; do echo 'snapshot cpus' > $KI/control; done" 2>/dev/null &
	writers="$writers $!"
	cpu=$((cpu + 1))
done
sleep 1
base=$(sysrq_lines)
press=0
while [ $press -lt 8 ]; do
	echo x > /proc/sysrq-trigger
	press=$((press + 1))
	i=0
	while [ "$(sysrq_lines)" -lt $((base + press)) ] && [ $i -lt 10 ]; do
		sleep 0.5
		i=$((i + 1))
	done
done
got=$(($(sysrq_lines) - base))
kill $writers 2>/dev/null
wait $writers 2>/dev/null
writers=
busy=$(dmesg | grep -c "the key's follows from a work item")
ki_check "8 presses while $((nr - 1)) writers take snapshots: 8 snapshots by sysrq ($got; $busy found one in progress), none ignored" \
	[ "$got" -eq 8 -a -z "$(dmesg | grep 'key ignored')" ]

# 'l' belongs to the kernel's show-backtrace-all-active-cpus.
ki_unload
modprobe kintrospect sysrq_key=l 2>/dev/null
rc=$?
[ $rc -ne 0 ] && ! ki_loaded && [ ! -e "$KI" ]
ki_check "sysrq_key=l (taken) refuses the load" [ $? -eq 0 ]
dmesg | grep -q "SysRq key 'l' is already taken"
ki_check "and says the key is taken" [ $? -eq 0 ]

ktap_finished
