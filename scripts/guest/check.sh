#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM for `make check` (scripts/check): collects the
# KUnit results that the module's suites print when it loads, then runs the
# kselftests with the kernel's own runner (with argument "slab": only the
# slab ones and the kernel log's), and ends with one summary line that
# scripts/check reads:
#   KINTROSPECT-RESULT kunit_pass=N kunit_fail=N ksft_pass=N ksft_fail=N ksft_skip=N

LOG=/tmp/kintrospect-check
mkdir -p $LOG

echo "=== KUnit: kintrospect's suites, run by loading the module ==="
before=$(dmesg | wc -l)
if modprobe kintrospect; then
	modprobe -r kintrospect
else
	echo "modprobe kintrospect failed"
fi
dmesg | tail -n +$((before + 1)) | sed 's/^\[[^]]*\] //' |
	grep -E '^ *(KTAP|# Subtest|ok [0-9]|not ok [0-9]|1\.\.|# [a-z_]+: )' > $LOG/kunit
cat $LOG/kunit
kunit_pass=$(grep -cE '^ +ok [0-9]+ ' $LOG/kunit)
kunit_fail=$(grep -cE '^ +not ok [0-9]+ ' $LOG/kunit)
# The suites must have run at all.
[ "$kunit_pass" -gt 0 ] || kunit_fail=$((kunit_fail + 1))

echo "=== kselftest: kintrospect, run by run_kselftest.sh ==="
cd /kselftest || exit 1
if [ "${1:-}" = slab ]; then
	# The second boot (no slab_debug): the tests whose checks depend on it.
	./run_kselftest.sh -t kintrospect:kintrospect_slab.sh -t kintrospect:kintrospect_slab_churn.sh \
		-t kintrospect:kintrospect_slab_stuck.sh -t kintrospect:kintrospect_kernel_log.sh 2>&1 |
		tee $LOG/ksft
else
	./run_kselftest.sh -c kintrospect 2>&1 | tee $LOG/ksft
fi
ksft_pass=$(grep -E '^# ok [0-9]+ ' $LOG/ksft | grep -vc '# SKIP')
ksft_skip=$(grep -cE '^# ok [0-9]+ .*# SKIP|^ok [0-9]+ .*# SKIP' $LOG/ksft)
ksft_fail=$(grep -cE '^# not ok [0-9]+ |^not ok [0-9]+ ' $LOG/ksft)
[ "$ksft_pass" -gt 0 ] || ksft_fail=$((ksft_fail + 1))

echo "KINTROSPECT-RESULT kunit_pass=$kunit_pass kunit_fail=$kunit_fail" \
	"ksft_pass=$ksft_pass ksft_fail=$ksft_fail ksft_skip=$ksft_skip"
