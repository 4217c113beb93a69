#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Slab leak deltas. A known leak from the test path (test/leak, objects from
# the module's own kintrospect_leak cache) must show in slab_delta.json as
# +N active objects and as the top grower by bytes, and go back to 0 when
# freed; a sample agrees with /proc/slabinfo; periodic sampling marks a
# cache that grows every interval as a suspect and a flat one not; with SLUB
# user tracking (slab_debug=U, as make check boots) the leak's allocation
# site is the module's leak function; bad input is rejected with EINVAL and
# changes nothing.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 13
trap 'modprobe -r kintrospect 2>/dev/null; ki_cleanup_tmp' EXIT

LEAK=kintrospect_leak

# Flattened slab_delta.json into $KI_TMP/slab.flat.
slab_json() {
	cat "$KI/slab_delta.json" > "$KI_TMP/slab.json" &&
		"$KI_JSON" "$KI_TMP/slab.json" > "$KI_TMP/slab.flat"
}

# Index of cache $1 in the last slab_json.
slab_index() {
	sed -n "s/^\.caches\[\([0-9]*\)\]\.name=\"$1\"$/\1/p" "$KI_TMP/slab.flat"
}

# Field $2 of cache $1 in the last slab_json.
slab_field() {
	i=$(slab_index "$1")
	[ -n "$i" ] && sed -n "s/^\.caches\[$i\]\.$2=//p" "$KI_TMP/slab.flat"
}

# Writes $1 to file $2; succeeds if the write fails with EINVAL.
einval() {
	err=$(printf "$1" | dd of="$2" bs=4096 2>&1 >/dev/null)
	case "$err" in
	*"Invalid argument"*) return 0 ;;
	esac
	ktap_print_msg "'$1' to $2 was not rejected with EINVAL: $err"
	return 1
}

ki_load test_paths=1 || ktap_exit_fail_msg "cannot load with test_paths=1"

# --- A known leak, ranked first -------------------------------------------
# Only shell builtins between baseline and sample: no fork adds noise.
echo baseline > "$KI/control"
echo 1000 > "$KI/test/leak"
echo 'snapshot slab' > "$KI/control"
slab_json || ktap_exit_fail_msg "cannot read slab_delta.json"
head -n 20 "$KI/slab_delta" | sed 's/^/# /'
ki_check "$LEAK shows +1000 active objects" [ "$(slab_field $LEAK active_objs_delta)" = 1000 ]
size=$(slab_field $LEAK objsize)
ki_check "$LEAK grew by 1000 x objsize ($size) bytes" \
	[ "$(slab_field $LEAK bytes_delta)" = $((1000 * size)) ]
first=$(sed -n 's/^\.caches\[0\]\.name=//p' "$KI_TMP/slab.flat")
ki_check "$LEAK ranks first by bytes grown (first: $first)" [ "$first" = "\"$LEAK\"" ]

# With slab_debug=U the top grower's allocation sites are looked up.
if grep -qw 'slab_debug=U' /proc/cmdline; then
	grep "^\.caches\[0\]\.alloc_sites" "$KI_TMP/slab.flat" | sed 's/^/# /'
	grep -q "^\.caches\[0\]\.alloc_sites\[0\]\.site=\"kintrospect_test_leak_alloc+" \
		"$KI_TMP/slab.flat"
	ki_check "the top allocation site is kintrospect_test_leak_alloc" [ $? -eq 0 ]
	grep -q '^ *1000  kintrospect_test_leak_alloc+.* \[kintrospect\]$' "$KI/slab_delta"
	ki_check "slab_delta names the site with 1000 objects" [ $? -eq 0 ]
else
	ktap_test_skip "allocation site: the kernel was not booted with slab_debug=U"
	ktap_test_skip "allocation site in the text: the kernel was not booted with slab_debug=U"
fi

# --- Agreement with /proc/slabinfo ----------------------------------------
# kintrospect_leak holds exactly 1000 objects now: a sample and slabinfo read
# right after it must agree exactly on its line.
echo 'snapshot slab' > "$KI/control"
slab_json
grep "^$LEAK " /proc/slabinfo > "$KI_TMP/slabinfo"
read -r _ active num objsize _ < "$KI_TMP/slabinfo"
ki_check "the sample agrees with /proc/slabinfo on $LEAK ($active $num $objsize)" \
	[ "$(slab_field $LEAK active_objs)" = "$active" -a \
	  "$(slab_field $LEAK num_objs)" = "$num" -a "$(slab_field $LEAK objsize)" = "$objsize" ]
# Every cache: same names, same object sizes; counts within the kernel's own
# movement between two slabinfo reads taken around the sample.
cat /proc/slabinfo > "$KI_TMP/before"
echo 'snapshot slab' > "$KI/control"
cat /proc/slabinfo > "$KI_TMP/after"
slab_json
awk '
	FNR == 1 { file++ }
	file <= 2 && !/^(slabinfo|#)/ {
		if (!($1 in lo) || $2 + 0 < lo[$1]) lo[$1] = $2 + 0
		if (!($1 in hi) || $2 + 0 > hi[$1]) hi[$1] = $2 + 0
		size[$1] = $4; names[$1] = 1
	}
	file == 3 && match($0, /^\.caches\[[0-9]+\]\./) {
		i = substr($0, 9, RLENGTH - 10); kv = substr($0, RLENGTH + 1)
		split(kv, a, "="); v[i, a[1]] = a[2]
		if (a[1] == "name") { n = a[2]; gsub(/"/, "", n); name[i] = n; count++ }
	}
	END {
		bad = 0
		for (i in name) {
			c = name[i]
			if (!(c in names)) { print "# not in slabinfo: " c; bad++; continue }
			if (v[i, "objsize"] + 0 != size[c] + 0) { print "# objsize differs: " c; bad++ }
			# The kernel moves between the reads; the sample is within that
			# movement, with room for what happens inside the sample itself.
			slack = (hi[c] - lo[c]) + 64
			a = v[i, "active_objs"] + 0
			if (a < lo[c] - slack || a > hi[c] + slack) {
				print "# active_objs out of range: " c " " a " " lo[c] "-" hi[c]; bad++
			}
			seen[c] = 1
		}
		for (c in names) if (!(c in seen)) { print "# missing from the sample: " c; bad++ }
		print "# " count " caches compared"
		exit bad != 0
	}' "$KI_TMP/before" "$KI_TMP/after" "$KI_TMP/slab.flat" > "$KI_TMP/cmp"
rc=$?
cat "$KI_TMP/cmp"
ki_check "every cache of the sample is in /proc/slabinfo with the same objsize and counts" [ $rc -eq 0 ]

# --- Free --------------------------------------------------------------------
echo free > "$KI/test/leak"
echo 'snapshot slab' > "$KI/control"
slab_json
d=$(slab_field $LEAK active_objs_delta)
ki_check "after free, $LEAK is back to about its baseline (delta $d)" [ "${d:-x}" -ge -16 -a "${d:-x}" -le 16 ]

# --- Bad input changes nothing ------------------------------------------------
seq=$(sed -n 's/^\.seq=//p' "$KI_TMP/slab.flat")
bad=0
for w in 'snapshot slabs\n' 'snapshot slab now\n' 'baseline now\n' 'Baseline\n' 'snapshot\n'; do
	einval "$w" "$KI/control" || bad=1
done
for w in '0\n' '-5\n' '1000001\n' '12abc\n' 'free all\n' '\n' '10 20\n' 'FREE\n'; do
	einval "$w" "$KI/test/leak" || bad=1
done
slab_json
objs=$(sed -n 's/^test_leak_objects: //p' "$KI/status")
ki_check "bad control and test/leak writes fail with EINVAL" [ $bad -eq 0 ]
ki_check "they took no sample (seq $seq) and leaked nothing ($objs kept)" \
	[ "$(sed -n 's/^\.seq=//p' "$KI_TMP/slab.flat")" = "$seq" -a "$objs" = 0 ]

ki_unload
ki_check "unload after the leak tests is clean" [ $? -eq 0 -a ! -e "$KI" ]

# --- Periodic sampling: a steady grower is a suspect, a flat cache is not -----
K=4
M=3
ki_load test_paths=1 slab_interval_ms=300 slab_trend_samples=$K slab_trend_min_growth=$M ||
	ktap_exit_fail_msg "cannot load with periodic sampling"
# Leak more often than the sampler samples, for more than K intervals.
i=0
while [ $i -lt 16 ]; do
	echo 3 > "$KI/test/leak"
	sleep 0.15
	i=$((i + 1))
done
slab_json
grew=$(slab_field $LEAK grew_intervals)
ki_check "a cache growing every interval is a suspect (grew in $grew of the last $K)" \
	[ "$(slab_field $LEAK suspect)" = true ]
sed -n '/^suspects/,/^$/p' "$KI/slab_delta" | sed 's/^/# /'
echo free > "$KI/test/leak"
sleep 2.5
slab_json
ki_check "after free and $K quiet intervals, $LEAK is no suspect" \
	[ "$(slab_field $LEAK suspect)" = false -a "$(slab_field $LEAK grew_intervals)" = 0 ]
sed -n '/^slab_/p' "$KI/status" | sed 's/^/# /'

ktap_finished
