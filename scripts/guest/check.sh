#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM for `make check` (scripts/check), once per boot
# ($1 names the boot): on the slab_debug boot, first the KUnit suites, by
# loading the test build of the module (/kunit/kintrospect.ko, the only
# build that has them) once; then the kselftests with the kernel's own
# runner, those of the boot's kernel flavour (debug, or prod: the
# production-like kernel; stock: Debian's own kernel as shipped, $2 its
# release). Ends with one summary line that scripts/check reads:
#   KINTROSPECT-RESULT kunit_pass=N kunit_fail=N ksft_pass=N ksft_fail=N ksft_skip=N
# sent as a mark (scripts/vm's vm-mark): a line of its own on the host, which
# no kernel message can run into.

LOG=/tmp/kintrospect-check
mkdir -p $LOG
boot=${1:-default}
kunit_pass=0
kunit_fail=0

if [ "$boot" = slab_debug ]; then
	echo "=== KUnit: kintrospect's suites, run by loading its test build once ==="
	before=$(dmesg | wc -l)
	if insmod /kunit/kintrospect.ko; then
		rmmod kintrospect
	else
		echo "insmod /kunit/kintrospect.ko failed"
	fi
	dmesg | tail -n +$((before + 1)) | sed 's/^\[[^]]*\] //' |
		grep -E '^ *(KTAP|# Subtest|ok [0-9]|not ok [0-9]|1\.\.|# [a-z_]+: )' > $LOG/kunit
	# One line (and the failed cases); the whole KTAP is in the kernel log.
	kunit_pass=$(grep -cE '^ +ok [0-9]+ ' $LOG/kunit)
	kunit_fail=$(grep -cE '^ +not ok [0-9]+ ' $LOG/kunit)
	echo "KUnit: $(grep -cE '^ok [0-9]+ |^not ok [0-9]+ ' $LOG/kunit) suites," \
		"$kunit_pass cases passed, $kunit_fail failed"
	grep -E 'not ok [0-9]+ ' $LOG/kunit
	# The suites must have run at all.
	[ "$kunit_pass" -gt 0 ] || kunit_fail=$((kunit_fail + 1))
fi

# scripts/vm run --add DIR:/tmp/added (scripts/check adds the helper
# modules' sources): the folder is in the guest, under the tmpfs on /tmp.
add_pass=0
add_fail=0
if [ -f /tmp/added/ki_semevent.c ]; then
	echo "ok: scripts/vm --add DIR:/tmp/added put the folder into the guest"
	add_pass=1
else
	echo "not ok: scripts/vm --add DIR:/tmp/added: no /tmp/added/ki_semevent.c in the guest"
	add_fail=1
fi

# The stock boot (issue 18): the kernel is Debian's, as shipped.
if [ "$boot" = stock ]; then
	if [ -n "${2:-}" ] && [ "$(uname -r)" = "$2" ] && grep -q ' Debian ' /proc/version; then
		echo "ok: uname -r is $(uname -r), Debian's kernel: $(cat /proc/version)"
		add_pass=$((add_pass + 1))
	else
		echo "not ok: uname -r is $(uname -r), not Debian's ${2:-(no release given)}: $(cat /proc/version)"
		add_fail=$((add_fail + 1))
	fi
fi

echo "=== kselftest ($boot boot): kintrospect, run by run_kselftest.sh ==="
cd /kselftest || exit 1
# The tests of each kernel flavour (a skip fails make check, so tests are
# chosen here rather than skipped): the production-like kernel runs those
# that need no lock debugging, kintrospect_prod.sh only there and on
# Debian's stock kernel (no lockdep either). Then, each on its own, what
# must come after them: kintrospect_lockdep_off.sh turns lockdep off for the
# rest of the boot (the tests that need it would skip), and
# kintrospect_kernel_log.sh judges the kernel log of the whole run.
last="kintrospect_lockdep_off.sh kintrospect_kernel_log.sh"
case "$boot" in
prod | stock)
	select=
	for t in load status control cpus spin nmi_blocked sysrq stuck_rule watch_cadence watch_cost slab demangle prod; do
		select="$select -t kintrospect:kintrospect_$t.sh"
	done
	last=kintrospect_kernel_log.sh
	;;
*)
	select="-c kintrospect -S kintrospect:kintrospect_prod.sh"
	for t in $last; do
		select="$select -S kintrospect:$t"
	done
	;;
esac
{
	# shellcheck disable=SC2086
	./run_kselftest.sh $select
	for t in $last; do
		./run_kselftest.sh -t "kintrospect:$t"
	done
} 2>&1 | tee $LOG/ksft
ksft_pass=$(grep -E '^# ok [0-9]+ ' $LOG/ksft | grep -vc '# SKIP')
ksft_skip=$(grep -cE '^# ok [0-9]+ .*# SKIP|^ok [0-9]+ .*# SKIP' $LOG/ksft)
ksft_fail=$(grep -cE '^# not ok [0-9]+ |^not ok [0-9]+ ' $LOG/ksft)
[ "$ksft_pass" -gt 0 ] || ksft_fail=$((ksft_fail + 1))
ksft_pass=$((ksft_pass + add_pass))
ksft_fail=$((ksft_fail + add_fail))

vm-mark "KINTROSPECT-RESULT kunit_pass=$kunit_pass kunit_fail=$kunit_fail" \
	"ksft_pass=$ksft_pass ksft_fail=$ksft_fail ksft_skip=$ksft_skip"
