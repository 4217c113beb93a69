#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# CPU snapshots on an idle machine: every online CPU is reported, the
# calling CPU as running (captured directly) and the others by NMI, idle or
# running; cpus.json is valid JSON and agrees with the text file; concurrent
# writers are serialised and every one of their snapshots is taken.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 9
old_kptr=$(cat /proc/sys/kernel/kptr_restrict)
ki_trap_cleanup 'echo "$old_kptr" > /proc/sys/kernel/kptr_restrict'

ki_load
ki_require_cpus 2

ki_snapshot 0
ki_cpus_json
ki_check "cpus.json is valid JSON" [ $? -eq 0 ]
ki_check "the snapshot was taken by control" [ "$(ki_field source)" = '"control"' ]

bad=""
cpu=0
while [ $cpu -lt "$nr" ]; do
	state=$(ki_cpu_field $cpu state)
	case "$state" in
	'"running"'|'"idle"') ;;
	*) bad="$bad cpu$cpu=$state" ;;
	esac
	cpu=$((cpu + 1))
done
ki_check "all $nr online CPUs answered, running or idle:$bad" [ -z "$bad" ]

self_ok() {
	[ "$(ki_cpu_field 0 state)" = '"running"' ] && [ "$(ki_cpu_field 0 mode)" = '"kernel"' ] &&
		ki_cpu_has_frame 0 kintrospect_cpus_capture
}
ki_check "the calling CPU 0 shows the writer in kintrospect_cpus_capture" self_ok

cat "$KI/cpus" > "$KI_TMP/cpus"
sed 's/^/# /' "$KI_TMP/cpus" | head -n 40
blocks=$(grep -c '^CPU [0-9]*: ' "$KI_TMP/cpus")
head -n1 "$KI_TMP/cpus" | grep -q "^snapshot $(ki_field seq) by control "
ki_check "the text file shows the same snapshot, one block per CPU ($blocks)" \
	[ $? -eq 0 -a "$blocks" -eq "$(ki_field 'cpus#')" ]

idle_ok=1
for cpu in $(sed -n 's/^\.cpus\[\([0-9]*\)\]\.state="idle"$/\1/p' "$KI_TMP/cpus.flat"); do
	grep -q "^CPU $cpu: idle at [a-z_]" "$KI_TMP/cpus" || idle_ok=0
done
ki_check "idle CPUs are one line 'idle at <symbol>'" [ $idle_ok -eq 1 ]

# Raw addresses only where %pK would print them: kptr_restrict=2 hides them
# from everyone, kptr_restrict=1 shows them to root (CAP_SYSLOG).
raw_shown() {
	echo "$1" > /proc/sys/kernel/kptr_restrict
	cat "$KI/cpus" > "$KI_TMP/raw.txt"
	cat "$KI/cpus.json" > "$KI_TMP/raw.json"
	grep -q '^ ip 0x[0-9a-f]* sp 0x[0-9a-f]* flags 0x[0-9a-f]*$' "$KI_TMP/raw.txt" &&
		grep -q '"ip":"0x' "$KI_TMP/raw.json"
}
! raw_shown 2
ki_check "kptr_restrict=2: no raw address in cpus or cpus.json" [ $? -eq 0 ]
raw_shown 1
ki_check "kptr_restrict=1, read by root: raw ip/sp/flags in cpus and cpus.json" [ $? -eq 0 ]
echo "$old_kptr" > /proc/sys/kernel/kptr_restrict

# 4 writers x 10 snapshots at once, from every CPU: all succeed, none lost.
seq=$(ki_field seq)
fails=0
for w in 0 1 2 3; do
	(
		for i in 1 2 3 4 5 6 7 8 9 10; do
			ki_snapshot $((w % nr)) || echo fail >> "$KI_TMP/fails"
		done
	) &
done
wait
[ -e "$KI_TMP/fails" ] && fails=$(wc -l < "$KI_TMP/fails")
ki_cpus_json
ki_check "40 concurrent snapshots all taken ($fails failed, seq $seq -> $(ki_field seq))" \
	[ "$fails" -eq 0 -a "$(ki_field seq)" -eq $((seq + 40)) ]

ktap_finished
