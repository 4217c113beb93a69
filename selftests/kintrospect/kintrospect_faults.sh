#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection: kintrospect's own allocations fail (failslab and
# fail_page_alloc, sleeping and atomic allocations alike). Two filters keep
# the failures on kintrospect: the task filter (only the processes this test
# marks with /proc/PID/make-it-fail) and the stack filter (only allocations
# with a caller in the module area, where kintrospect is the only module
# loaded meanwhile) - so the shell's own open() and exec() never fail.
# - During load: every load either succeeds whole or fails with an error and
#   leaves nothing behind.
# - During every kind of snapshot: each one fails with an error or succeeds;
#   a failed one leaves the previous report as it was (L2: a failed copy lost
#   the previous locks report).
# - During reads: a read fails with an error or shows a whole report.
# Leaks are judged by kintrospect_kernel_log.sh's kmemleak scan at the end.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
DBG=/sys/kernel/debug
for f in failslab fail_page_alloc; do
	[ -d "$DBG/$f" ] ||
		ki_skip "no $DBG/$f (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC)"
done
[ -e "$DBG/failslab/require-start" ] ||
	ki_skip "no stack filter (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)"
ktap_print_header
ktap_set_plan 10
# The x86-64 module area (MODULES_VADDR to MODULES_END, KASLR or not).
MOD_START=0xffffffffa0000000
MOD_END=0xffffffffff000000

# failN PERCENT: from now on, allocations of marked tasks fail with PERCENT %.
fail() {
	for f in failslab fail_page_alloc; do
		echo Y > "$DBG/$f/task-filter"
		echo N > "$DBG/$f/ignore-gfp-wait"
		echo 0 > "$DBG/$f/space"
		echo 1 > "$DBG/$f/interval"
		echo -1 > "$DBG/$f/times"
		echo 0 > "$DBG/$f/verbose"
		echo 32 > "$DBG/$f/stacktrace-depth"
		echo "$MOD_START" > "$DBG/$f/require-start"
		echo "$MOD_END" > "$DBG/$f/require-end"
		echo "$1" > "$DBG/$f/probability"
	done
	echo N > "$DBG/failslab/cache-filter" 2>/dev/null
	echo 0 > "$DBG/fail_page_alloc/min-order"
	echo Y > "$DBG/fail_page_alloc/ignore-gfp-highmem"
}
cleanup() {
	fail 0
}
ki_trap_cleanup cleanup

# failing CMD...: runs CMD in a child whose allocations may fail.
failing() {
	sh -c 'echo 1 > /proc/self/make-it-fail && exec "$@"' failing "$@"
}

# failing_write TEXT FILE: writes TEXT to FILE from a shell whose allocations
# may fail (the write is a builtin: nothing else runs in that shell).
failing_write() {
	sh -c 'echo 1 > /proc/self/make-it-fail && echo "$1" > "$2"' failing "$1" "$2"
}

# Field .seq of JSON file $1.
seq_of() {
	"$KI_JSON" "$1" | sed -n 's/^\.seq=//p'
}

# --- Load. One failure per load: the N-th allocation with kintrospect on the
# stack fails (/proc/self/fail-nth); the sweep moves it through init, from
# its first allocation to past its last. (Every other call counts too, such
# as kmemleak's own record of an object, which it survives.)
# probability 100 with times 0: the fail-nth failure only.
fail 100
for f in failslab fail_page_alloc; do
	echo 0 > "$DBG/$f/times"
	echo 2 > "$DBG/$f/verbose"
done
hits_before=$(dmesg | grep -c '^\[.*\]  [^ ]*+0x[0-9a-f]*/0x[0-9a-f]* \[kintrospect\]$')
bad=0 loaded=0 refused=0
for n in 1 2 3 4 5 6 7 8 10 12 16 20 24 32 48 64 96 128 256 1024; do
	sh -c 'echo "$1" > /proc/self/fail-nth && exec modprobe kintrospect test_paths=1' \
		failing "$n" 2>/dev/null
	if [ $? -eq 0 ]; then
		loaded=$((loaded + 1))
		for f in status control cpus cpus.json locks locks.json slab_delta slab_delta.json test/spin; do
			[ -e "$KI/$f" ] || { ktap_print_msg "fail-nth $n: $f missing"; bad=1; }
		done
		echo 'snapshot all' > "$KI/control" || { ktap_print_msg "fail-nth $n: loaded but broken"; bad=1; }
		ki_unload || { ktap_print_msg "unload after fail-nth $n failed"; bad=1; }
	else
		refused=$((refused + 1))
		{ ki_loaded || [ -e "$KI" ]; } && { ktap_print_msg "failed load (fail-nth $n) left something"; bad=1; }
		modprobe -r kintrospect 2>/dev/null
	fi
done
fail 0
hits=$(( $(dmesg | grep -c '^\[.*\]  [^ ]*+0x[0-9a-f]*/0x[0-9a-f]* \[kintrospect\]$') - hits_before ))
ktap_print_msg "20 loads, the 1st to 1024th allocation of init failing: $loaded loaded, $refused refused"
ki_check "a load with a failing allocation succeeds whole or fails leaving nothing" [ $bad -eq 0 ]
ki_check "the injected failures hit kintrospect's init ($hits stack frames of kintrospect in their reports)" \
	[ $hits -gt 0 ]

# --- Snapshots and reads.
ki_load test_paths=1 || ktap_exit_fail_msg "cannot load kintrospect"
echo 'snapshot all' > "$KI/control" || ktap_exit_fail_msg "snapshot all failed without fault injection"
cat "$KI/cpus.json" > "$KI_TMP/cpus.before"

# Each snapshot with every kintrospect allocation failing either fails with
# an error and leaves its previous report as it was, or succeeds (it needed
# no new memory) with a new, whole report.
bad=0 errors=0
for what in locks slab all; do
	for r in locks slab_delta; do
		cat "$KI/$r.json" > "$KI_TMP/$r.before"
	done
	fail 100
	failing_write "snapshot $what" "$KI/control" 2>"$KI_TMP/err"
	rc=$?
	fail 0
	[ $rc -ne 0 ] && errors=$((errors + 1))
	for r in locks slab_delta; do
		# snapshot all takes each report in turn: only slab_delta is judged.
		case "$what:$r" in locks:slab_delta|slab:locks|all:locks) continue ;; esac
		cat "$KI/$r.json" > "$KI_TMP/$r.after"
		if [ $rc -ne 0 ] && ! cmp -s "$KI_TMP/$r.before" "$KI_TMP/$r.after"; then
			ktap_print_msg "snapshot $what failed and changed $r.json"
			bad=1
		elif [ $rc -eq 0 ] && { ! "$KI_JSON" -q "$KI_TMP/$r.after" ||
			[ "$(seq_of "$KI_TMP/$r.after")" -le "$(seq_of "$KI_TMP/$r.before")" ]; }; then
			ktap_print_msg "snapshot $what succeeded without a new whole $r.json"
			bad=1
		fi
	done
	ktap_print_msg "snapshot $what with every kintrospect allocation failing: exit $rc $(cat "$KI_TMP/err")"
done
ki_check "L2: a snapshot that cannot allocate fails and keeps the previous report; one that needs nothing succeeds" \
	[ $bad -eq 0 ]
ki_check "fault injection reached the snapshots ($errors of 3 failed)" [ $errors -gt 0 ]

# L2: the owners of the locks waited for are found with one more allocation
# (resolve_owners()). When it failed, every owner became unknown and the
# snapshot still succeeded, with no edge: a deadlock reported as none, over
# the good report. Now that snapshot fails and the report with the cycle stays.
cat "$KI/test/abba_a" > /dev/null 2>&1 &
abba_a=$!
cat "$KI/test/abba_b" > /dev/null 2>&1 &
abba_b=$!
ki_wait_locks 'grep -q "^\.cycles#=1$" "$KI_TMP/locks.flat"'
found=$?
fail 100
failing_write "snapshot locks" "$KI/control" 2>"$KI_TMP/err"
rc=$?
fail 0
cat "$KI/locks.json" > "$KI_TMP/abba.json"
"$KI_JSON" "$KI_TMP/abba.json" > "$KI_TMP/abba.flat"
ktap_print_msg "snapshot locks during the ABBA deadlock, allocations failing: exit $rc $(cat "$KI_TMP/err")"
grep '^\.cycles' "$KI_TMP/abba.flat" | sed 's/^/# /'
kill -9 $abba_a $abba_b 2>/dev/null
wait $abba_a $abba_b 2>/dev/null
cycle_kept() {
	[ $found -eq 0 ] && grep -q '^\.cycles#=1$' "$KI_TMP/abba.flat"
}
ki_check "L2: with allocations failing, the ABBA deadlock is still reported (no false 'no deadlock')" \
	cycle_kept

# A CPU snapshot allocates nothing: it succeeds even now.
before=$(seq_of "$KI_TMP/cpus.before")
fail 100
failing_write "snapshot cpus" "$KI/control"
rc=$?
fail 0
cat "$KI/cpus.json" > "$KI_TMP/cpus.after"
ki_check "a CPU snapshot needs no allocation: it succeeds with every allocation failing" \
	[ $rc -eq 0 -a "$(seq_of "$KI_TMP/cpus.after")" -gt "$before" ]

# Reads: an error or a whole report, never a cut or replaced one. The cpus
# copy is one kvmalloc: vmalloc's pages (__GFP_HIGHMEM) may fail too.
fail 100
echo N > "$DBG/fail_page_alloc/ignore-gfp-highmem"
bad=0 errors=0
for i in $(seq 1 10); do
	for r in cpus.json locks.json slab_delta.json; do
		if failing cat "$KI/$r" > "$KI_TMP/read" 2>/dev/null; then
			"$KI_JSON" -q "$KI_TMP/read" || { ktap_print_msg "$r: a read returned a cut report"; bad=1; }
		else
			errors=$((errors + 1))
		fi
	done
	for r in cpus locks slab_delta status; do
		failing cat "$KI/$r" > /dev/null 2>&1 || errors=$((errors + 1))
	done
done
fail 0
ktap_print_msg "70 reads with every kintrospect allocation failing: $errors failed with an error"
ki_check "reads with failing allocations return an error or a whole report" [ $bad -eq 0 ]
ki_check "fault injection reached the reads of cpus (they allocate their copy)" [ $errors -gt 0 ]

echo 'snapshot all' > "$KI/control"
ki_check "everything works again once allocations succeed" [ $? -eq 0 ]
ki_unload
ki_check "unload after fault injection is clean" [ $? -eq 0 -a ! -e "$KI" ]

ktap_finished
