#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# L3: /proc/slabinfo is generated a page at a time, each page under its own
# slab_mutex section, re-seeking by position; a cache created or destroyed
# between two pages makes one reading list a cache twice or skip one. With
# ki_cache_churn creating and destroying caches in a loop, every sample must
# list each cache at most once, and a cache that exists all along must never
# be reported gone (0 objects): at worst "unknown" for a sample.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ki_require_module ki_cache_churn
ktap_print_header
ktap_set_plan 4
cleanup() {
	modprobe -r ki_cache_churn 2>/dev/null
}
ki_trap_cleanup cleanup

SAMPLES=60

ki_load || ktap_exit_fail_msg "cannot load kintrospect"
# Caches that exist all along and hold objects (counted by kintrospect, so
# without what slabinfo counts in per-CPU sheaves): never gone.
echo 'snapshot slab' > "$KI/control"
cat "$KI/slab_delta.json" > "$KI_TMP/s.json"
"$KI_JSON" "$KI_TMP/s.json" | awk '
	match($0, /^\.caches\[[0-9]+\]\./) {
		k = substr($0, 9, RLENGTH - 10); kv = substr($0, RLENGTH + 1)
		split(kv, a, "=")
		if (a[1] == "name") { n = a[2]; gsub(/"/, "", n); name[k] = n }
		if (a[1] == "active_objs") objs[k] = a[2] + 0
	}
	END { for (k in name) if (objs[k] >= 50) print name[k] }' | sort > "$KI_TMP/stable"
ktap_print_msg "$(wc -l < "$KI_TMP/stable") stable caches with >= 50 objects"

modprobe ki_cache_churn nr=100 threads=4 duration_ms=150000 || ktap_exit_fail_msg "cannot load ki_cache_churn"
i=0
dups=0
gone=0
unknown=0
while [ $i -lt $SAMPLES ]; do
	echo 'snapshot slab' > "$KI/control" || break
	cat "$KI/slab_delta.json" > "$KI_TMP/s.json"
	"$KI_JSON" "$KI_TMP/s.json" > "$KI_TMP/s.flat"
	sed -n 's/^\.caches\[[0-9]*\]\.name="\(.*\)"$/\1/p' "$KI_TMP/s.flat" | sort > "$KI_TMP/names"
	d=$(uniq -d "$KI_TMP/names" | wc -l)
	[ "$d" -ne 0 ] && { ktap_print_msg "sample $i lists twice: $(uniq -d "$KI_TMP/names" | tr '\n' ' ')"; dups=$((dups + d)); }
	# A stable cache with 0 objects was reported gone.
	awk -v list="$KI_TMP/stable" '
		BEGIN { while ((getline l < list) > 0) stable[l] = 1 }
		match($0, /^\.caches\[[0-9]+\]\./) {
			k = substr($0, 9, RLENGTH - 10); kv = substr($0, RLENGTH + 1)
			split(kv, a, "=")
			if (a[1] == "name") { n = a[2]; gsub(/"/, "", n); name[k] = n }
			if (a[1] == "num_objs") objs[k] = a[2] + 0
		}
		END { for (k in name) if ((name[k] in stable) && objs[k] == 0) print name[k] }
	' "$KI_TMP/s.flat" > "$KI_TMP/gone"
	[ -s "$KI_TMP/gone" ] && { ktap_print_msg "sample $i reports gone: $(tr '\n' ' ' < "$KI_TMP/gone")"; gone=$((gone + $(wc -l < "$KI_TMP/gone"))); }
	# Unknown for one sample: mostly ki_churn caches just destroyed.
	u=$(grep -c '^\.unknown\[' "$KI_TMP/s.flat")
	unknown=$((unknown + u))
	grep '^\.unknown\[' "$KI_TMP/s.flat" | grep -v '"ki_churn_' | sed "s/^/# sample $i: /"
	i=$((i + 1))
done
ki_check "$SAMPLES samples taken while caches churn ($(cat /sys/module/ki_cache_churn/parameters/cycles) caches destroyed)" [ $i -eq $SAMPLES ]
ktap_print_msg "caches unknown for one sample (listed above unless ki_churn_*): $unknown in all"
ki_check "L3: no sample lists a cache twice ($dups duplicates)" [ $dups -eq 0 ]
ki_check "L3: no cache that exists all along is reported gone ($gone times)" [ $gone -eq 0 ]
modprobe -r ki_cache_churn
ki_unload
ki_check "unload after the churn is clean" [ $? -eq 0 -a ! -e "$KI" ]

ktap_finished
