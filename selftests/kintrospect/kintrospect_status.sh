#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The status file: module version, kernel release, and the kernel debug
# features it reports, each checked against what the running kernel shows
# by other means (the /proc and debugfs files those features create).

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 4
ki_trap_cleanup

ki_load
cat "$KI/status" > "$KI_TMP/status" || ktap_exit_fail_msg "cannot read $KI/status"
sed 's/^/# /' "$KI_TMP/status"
value() { sed -n "s/^$1: //p" "$KI_TMP/status"; }

ki_check "status names a version" [ -n "$(value version)" ]
ki_check "status names the running kernel ($(uname -r))" [ "$(value kernel)" = "$(uname -r)" ]

# Each feature with the evidence the kernel itself gives of it.
wrong=""
check() {
	name=$1; shift
	if [ -e "$1" ]; then want=yes; else want=no; fi
	[ "$(value "$name")" = "$want" ] || wrong="$wrong $name(status $(value "$name"), $1 $want)"
}
check lockdep /proc/lockdep
check lock_stat /proc/lock_stat
check kmemleak /sys/kernel/debug/kmemleak
check slub_debug /sys/kernel/debug/slab
check hung_task /proc/sys/kernel/hung_task_timeout_secs
check softlockup_detector /proc/sys/kernel/soft_watchdog
check magic_sysrq /proc/sysrq-trigger
check kunit /sys/kernel/debug/kunit
check mem_alloc_profiling /proc/allocinfo
[ -z "$wrong" ] || ktap_print_msg "mismatched:$wrong"
ki_check "reported features match the kernel's own files" [ -z "$wrong" ]

ki_check "cpu_slots covers every online CPU" [ "$(value cpu_slots)" -ge "$(ki_nr_online)" ]

ktap_finished
