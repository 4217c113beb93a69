#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading kintrospect: modprobe / modprobe -r five times in a
# row, the debugfs tree present after each load and gone after each unload,
# the test directory only with test_paths=1, and a bad parameter refusing the
# load cleanly - also while another process opens the files in a loop (H1:
# a file opened during a load that then failed outlived the module and
# oopsed the kernel when it was closed).

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 12
ki_trap_cleanup

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

# L8: the module users load carries no KUnit suite (only the test build that
# make check loads once has them): loading it runs no test and adds no
# TAINT_TEST (bit 18) to the kernel.
modprobe -r kintrospect 2>/dev/null
ktap_before=$(dmesg | grep -c '# Subtest: kintrospect')
taint_before=$(( $(cat /proc/sys/kernel/tainted) >> 18 & 1 ))
ki_load
ktap_after=$(dmesg | grep -c '# Subtest: kintrospect')
taint_after=$(( $(cat /proc/sys/kernel/tainted) >> 18 & 1 ))
no_kunit() { [ "$ktap_after" -eq "$ktap_before" ] && [ "$taint_after" -le "$taint_before" ]; }
ki_check "L8: modprobe kintrospect runs no KUnit suite ($ktap_before -> $ktap_after) and adds no test taint" \
	no_kunit
ki_check "no test directory without test_paths" [ ! -e "$KI/test" ]
perms=$(stat -c '%a' "$KI/status" "$KI/cpus" "$KI/cpus.json" "$KI/control" | tr '\n' ' ')
ki_check "files are root-only (400 400 400 200): $perms" [ "$perms" = "400 400 400 200 " ]

ki_load test_paths=1
ki_check "test_paths=1 creates test/spin, test/spin_irqoff, test/release" \
	[ -e "$KI/test/spin" -a -e "$KI/test/spin_irqoff" -a -e "$KI/test/release" ]
perms=$(cd "$KI/test" && stat -c '%n %a' spin spin_irqoff release abba_a abba_b leak | tr '\n' ' ')
ki_check "test files are root-only, read or write by what they do: $perms" \
	[ "$perms" = "spin 400 spin_irqoff 400 release 200 abba_a 400 abba_b 400 leak 200 " ]
# Root may open any of them both ways: what a file does not do fails with
# EINVAL, for the test files (served in C) as for control.
einval_rw() {
	dd if="$KI/control" of=/dev/null 2>&1 | grep -q 'Invalid argument' &&
		dd if="$KI/test/release" of=/dev/null 2>&1 | grep -q 'Invalid argument' &&
		dd if="$KI/test/leak" of=/dev/null 2>&1 | grep -q 'Invalid argument' &&
		echo 1 | dd of="$KI/test/spin" 2>&1 | grep -q 'Invalid argument' &&
		echo 1 | dd of="$KI/test/abba_a" 2>&1 | grep -q 'Invalid argument'
}
ki_check "reading a write-only file or writing a read-only one fails with EINVAL" einval_rw
ki_unload
ki_check "unload after test_paths=1 removes everything" [ ! -e "$KI" ]

# A key SysRq cannot use must refuse the load and leave nothing behind.
modprobe kintrospect 'sysrq_key=#' 2>/dev/null
rc=$?
[ $rc -ne 0 ] && ! ki_loaded && [ ! -e "$KI" ]
ki_check "an invalid sysrq_key refuses the load and leaves nothing" [ $? -eq 0 ]

# Out-of-range parameters are refused with a message naming the parameter.
bad=0
for p in nmi_timeout_ms=0 nmi_timeout_ms=10001 spin_timeout_ms=0 spin_timeout_ms=30000 \
	slab_interval_ms=50 slab_trend_samples=1 slab_trend_min_growth=11; do
	before=$(dmesg | wc -l)
	if modprobe kintrospect "$p" 2>/dev/null || ki_loaded; then
		ktap_print_msg "$p was accepted"; bad=1; ki_unload
	elif ! dmesg | tail -n +$((before + 1)) | grep -q "${p%%=*}=.* is out of range"; then
		ktap_print_msg "$p: no message naming it"; bad=1
	fi
done
ki_check "L9: out-of-range parameters refuse the load with a message naming them" [ $bad -eq 0 ]

# H1: a load that fails (sysrq_key=l: the kernel's own key) while another
# process opens status in a tight loop and keeps it open 2 s. Before the fix
# the open succeeded while the module was still coming, and the close after
# the failed load called into the freed module: an oops in full_proxy_release.
oops_before=$(dmesg | grep -cE 'BUG:|Oops|general protection fault')
opened=0
for i in 1 2 3; do
	"$KI_DIR/kintrospect_open_race" "$KI/status" 5 2000 > "$KI_TMP/race" &
	race=$!
	modprobe kintrospect sysrq_key=l 2>/dev/null && { ki_unload; opened=99; }
	wait $race
	grep -q '^opened$' "$KI_TMP/race" && opened=$((opened + 1))
done
oops_after=$(dmesg | grep -cE 'BUG:|Oops|general protection fault')
ktap_print_msg "opens that succeeded during the failing loads: $opened"
race_ok() {
	[ "$oops_after" -eq "$oops_before" ] && [ "$opened" -lt 99 ] && ! ki_loaded && [ ! -e "$KI" ]
}
ki_check "H1: a failing load with status opened in a loop: refused, no oops ($oops_before -> $oops_after)" \
	race_ok
ki_load
"$KI_DIR/kintrospect_open_race" "$KI/status" 5 0 > "$KI_TMP/race"
ki_check "H1: once loaded, the files open" grep -q '^opened$' "$KI_TMP/race"
ki_unload

ktap_finished
