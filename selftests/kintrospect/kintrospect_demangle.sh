#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Readable Rust frames (issue 11 item 7). The CPU that writes "snapshot cpus"
# is captured directly, inside kintrospect's Rust code: its frames in cpus and
# cpus.json name Rust functions demangled (kintrospect_main::...), keep
# "+off/size [kintrospect]", and no frame is a mangled v0 symbol (_R...).
# A method of an inherent impl is <kintrospect_main::Type>::method: the
# frame left on top depends on what rustc inlined (Debian's rustc 1.85 on its
# stock kernel leaves <kintrospect_main::files::Data>::snapshot_cpus).

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 3
ki_trap_cleanup

ki_load || ktap_exit_fail_msg "cannot load kintrospect"
taskset -p -c 0 $$ >/dev/null
ki_snapshot 0 && ki_cpus_json || ktap_exit_fail_msg "cannot take a CPU snapshot"
grep '^\.cpus\[0\]\.frames\[' "$KI_TMP/cpus.flat" | sed 's/^/# /'

grep -q '^\.cpus\[0\]\.frames\[[0-9]*\]="<\{0,1\}kintrospect_main::[^"]*+0x[0-9a-f]*/0x[0-9a-f]* \[kintrospect\]"$' \
	"$KI_TMP/cpus.flat"
ki_check "item 7: cpus.json names the writer's Rust frames kintrospect_main::..., with +off/size [kintrospect]" \
	[ $? -eq 0 ]
! grep -q '^\.cpus\[[0-9]*\]\.frames\[[0-9]*\]="_R' "$KI_TMP/cpus.flat"
ki_check "item 7: no frame in cpus.json is a mangled Rust symbol" [ $? -eq 0 ]
cat "$KI/cpus" > "$KI_TMP/cpus.txt"
grep -q '^  <\{0,1\}kintrospect_main::.*+0x[0-9a-f]*/0x[0-9a-f]* \[kintrospect\]$' "$KI_TMP/cpus.txt" &&
	! grep -q '^  _R' "$KI_TMP/cpus.txt"
ki_check "item 7: the cpus text shows the same demangled names, none mangled" [ $? -eq 0 ]

ktap_finished
