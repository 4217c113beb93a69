#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Issue 8 item 1 and L5: frames are named when the snapshot is taken. A
# module whose init function spins (ki_stuck_init, a hanging insmod) is
# captured on its CPU; then its init returns (its init code is freed) and the
# module is removed. Read afterwards, the same snapshot still names those
# frames "function+off/size [ki_stuck_init]", and shows no raw address
# (before the fix, symbols were looked up at read time and printed as
# 0xffffffffa00...).

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ki_require_module ki_stuck_init
ktap_print_header
ktap_set_plan 4
cleanup() {
	[ -n "$mpid" ] && wait "$mpid" 2>/dev/null
	rmmod ki_stuck_init 2>/dev/null
}
ki_trap_cleanup cleanup

ki_require_cpus 2
SPIN_CPU=$((nr - 1))
# This shell and its snapshots stay off the spinning CPU.
taskset -p -c 0 $$ >/dev/null

ki_load || ktap_exit_fail_msg "cannot load kintrospect"

# The init spins for 8 s in slices with preemption off, pinned to SPIN_CPU.
taskset -c "$SPIN_CPU" modprobe ki_stuck_init spin_ms=8000 &
mpid=$!

# CPU $SPIN_CPU's frames in the last ki_cpus_json.
spin_frames() {
	sed -n "s/^\.cpus\[$SPIN_CPU\]\.frames\[[0-9]*\]=//p" "$KI_TMP/cpus.flat"
}

caught=0
i=0
while [ $i -lt 40 ] && kill -0 "$mpid" 2>/dev/null; do
	if ki_snapshot 0 && ki_cpus_json && spin_frames | grep -q '^"ki_stuck_init'; then
		caught=1
		break
	fi
	sleep 0.2
	i=$((i + 1))
done
spin_frames | sed 's/^/# while spinning: /'
ki_check "a snapshot caught ki_stuck_init's init spinning on CPU $SPIN_CPU" [ $caught -eq 1 ]
seq=$(ki_field seq)

wait "$mpid"
rc=$?
mpid=
rmmod ki_stuck_init
rmrc=$?
removed() {
	[ $rc -eq 0 ] && [ $rmrc -eq 0 ] && ! grep -q '^ki_stuck_init ' /proc/modules
}
ki_check "the init returned (modprobe rc $rc) and ki_stuck_init was removed (rc $rmrc)" removed

# Names of code that no longer exists, as "name+0xoff/0xsize [ki_stuck_init]".
named='"ki_stuck_init[a-z_]*+0x[0-9a-f]*/0x[0-9a-f]* \[ki_stuck_init\]"'
ki_cpus_json
spin_frames | sed 's/^/# after removal: /'
json_ok() {
	[ $caught -eq 1 ] && [ "$(ki_field seq)" = "$seq" ] &&
		spin_frames | grep -q "^$named\$" &&
		! spin_frames | grep -q '^"0x'
}
ki_check "item 1: after init ended and rmmod, cpus.json still names the frames [ki_stuck_init], no raw address" \
	json_ok

cat "$KI/cpus" > "$KI_TMP/cpus.txt"
# The block of CPU SPIN_CPU: from its header line to the next blank line.
sed -n "/^CPU $SPIN_CPU: /,/^\$/p" "$KI_TMP/cpus.txt" > "$KI_TMP/block.txt"
text_ok() {
	[ $caught -eq 1 ] &&
		grep -q "^  ki_stuck_init[a-z_]*+0x[0-9a-f]*/0x[0-9a-f]* \[ki_stuck_init\]\$" \
			"$KI_TMP/block.txt" &&
		! grep -q '^  0x' "$KI_TMP/block.txt"
}
ki_check "item 1: the cpus text names them too, no raw address" text_ok

ktap_finished
