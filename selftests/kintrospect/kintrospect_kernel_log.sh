#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Judges the kernel log of the boot so far (run after the other tests by
# scripts/guest/check.sh, that is the whole run): no lockdep report, no
# BUG or WARNING, no unknown NMI in the kernel log, no kintrospect NMI
# handler run longer than 50 ms (the kernel reports every new longest run
# above 1 ms; in this TCG guest, 4 vCPUs share 2 host cores, and a vCPU
# descheduled by the host inside any NMI handler - the kernel's own
# nmi_cpu_backtrace_handler, which tests one bit, included - shows runs of
# 1 to 30 ms; a handler that did real work in NMI, such as symbolising or
# walking lists, would take far longer under TCG), and a kmemleak scan finds nothing allocated by
# kintrospect (the only other loadable modules in the test VM are the
# selftests' own helpers, so an unresolved module address in a report is a
# leak of the test setup's, and fails the test too).

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
KMEMLEAK=/sys/kernel/debug/kmemleak
# A kernel built without kmemleak (the production-like one) has no scan to
# run: its plan has no kmemleak check. One with kmemleak that cannot scan
# (disabled by an error) skips it, which fails make check.
if [ -e "$KMEMLEAK" ]; then ktap_set_plan 4; else ktap_set_plan 3; fi
ki_trap_cleanup

# Less what kintrospect_nmi_stress.sh brackets: the unknown NMIs it has the
# host inject on purpose.
dmesg | sed '/kintrospect_selftest: foreign NMI begin/,/kintrospect_selftest: foreign NMI end/d' \
	> "$KI_TMP/dmesg"
PATTERNS='BUG:|WARNING:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|Oops|general protection fault|NMI received for unknown reason|soft lockup|hard LOCKUP|sleeping function called from invalid context'
grep -E "$PATTERNS" "$KI_TMP/dmesg" > "$KI_TMP/splats"
sed 's/^/# /' "$KI_TMP/splats" | head -n 40
ki_check "no lockdep report, BUG, WARNING or unknown NMI in the kernel log" [ ! -s "$KI_TMP/splats" ]
grep 'NMI handler (.*) took too long' "$KI_TMP/dmesg" | sed 's/^/# /' | tail -n 10
slow=$(sed -n 's/.*NMI handler (kintrospect_nmi_handler.*took too long to run: \([0-9]*\)\..*/\1/p' \
	"$KI_TMP/dmesg" | sort -n | tail -n 1)
ki_check "kintrospect's NMI handler never ran 50 ms or longer (longest reported: ${slow:-none} ms)" \
	[ "${slow:-0}" -lt 50 ]

if [ ! -e "$KMEMLEAK" ]; then
	ki_load test_paths=1
	echo 'snapshot cpus' > "$KI/control"
	cat "$KI/cpus" "$KI/cpus.json" "$KI/status" > /dev/null
	ki_unload
	ki_check "final unload is clean (no kmemleak in this kernel)" [ $? -eq 0 -a ! -e "$KI" ]
elif [ -w "$KMEMLEAK" ] && echo scan > "$KMEMLEAK" 2>/dev/null; then
	# Loaded, so that a leak of this instance resolves to its symbols.
	ki_load test_paths=1
	echo 'snapshot cpus' > "$KI/control"
	cat "$KI/cpus" "$KI/cpus.json" "$KI/status" > /dev/null
	# kmemleak reports objects older than 5 s: scan, wait, scan.
	echo scan > "$KMEMLEAK"
	sleep 6
	echo scan > "$KMEMLEAK"
	cat "$KMEMLEAK" > "$KI_TMP/kmemleak"
	total=$(grep -c '^unreferenced object' "$KI_TMP/kmemleak")
	awk '/^unreferenced object/ { obj = $0 }
	     /kintrospect|^ +(\[<[0-9a-f]+>\] )?0x[0-9a-f]+$/ { if (obj != "") print obj; obj = "" }' \
		"$KI_TMP/kmemleak" > "$KI_TMP/ours"
	sed 's/^/# /' "$KI_TMP/ours" | head -n 20
	ktap_print_msg "kmemleak: $total unreferenced object(s) in all"
	ki_check "kmemleak reports no object allocated by kintrospect" [ ! -s "$KI_TMP/ours" ]
	ki_unload
	ki_check "final unload is clean" [ $? -eq 0 -a ! -e "$KI" ]
else
	ktap_test_skip "kmemleak scan: kmemleak is not available or disabled"
	ktap_test_skip "final unload (with the kmemleak scan)"
fi

ktap_finished
