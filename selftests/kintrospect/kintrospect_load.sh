#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading kintrospect: modprobe / modprobe -r five times in a
# row, the debugfs tree present after each load and gone after each unload,
# the test directory only with test_paths=1, and a bad parameter refusing the
# load cleanly.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 6
trap 'modprobe -r kintrospect 2>/dev/null; ki_cleanup_tmp' EXIT

ok=1
for i in 1 2 3 4 5; do
	ki_load || { ok=0; ktap_print_msg "load $i failed"; break; }
	for f in status control cpus cpus.json; do
		[ -e "$KI/$f" ] || { ok=0; ktap_print_msg "load $i: $KI/$f missing"; }
	done
	ki_unload || { ok=0; ktap_print_msg "unload $i failed"; break; }
	[ ! -e "$KI" ] || { ok=0; ktap_print_msg "unload $i: $KI still there"; }
done
[ $ok -eq 1 ]; ki_check "five modprobe / modprobe -r cycles create and remove the tree" [ $? -eq 0 ]

ki_load
ki_check "no test directory without test_paths" [ ! -e "$KI/test" ]
perms=$(stat -c '%a' "$KI/status" "$KI/cpus" "$KI/cpus.json" "$KI/control" | tr '\n' ' ')
ki_check "files are root-only (400 400 400 200): $perms" [ "$perms" = "400 400 400 200 " ]

ki_load test_paths=1
ki_check "test_paths=1 creates test/spin, test/spin_irqoff, test/release" \
	[ -e "$KI/test/spin" -a -e "$KI/test/spin_irqoff" -a -e "$KI/test/release" ]
ki_unload
ki_check "unload after test_paths=1 removes everything" [ ! -e "$KI" ]

# A key SysRq cannot use must refuse the load and leave nothing behind.
modprobe kintrospect 'sysrq_key=#' 2>/dev/null
rc=$?
[ $rc -ne 0 ] && ! ki_loaded && [ ! -e "$KI" ]
ki_check "an invalid sysrq_key refuses the load and leaves nothing" [ $? -eq 0 ]

ktap_finished
