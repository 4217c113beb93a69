#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What kintrospect itself costs, from the kernel's own accounting (issue
# 21): the watch's samples' CPU time (the scheduler's sum_exec_runtime of
# the kworker that ran them) and their phases, the NMI handler's time per
# CPU, the periodic slab samples' CPU time - in status and metrics. Over a
# window of a few seconds with the watch and the slab tick on, the counters
# grow with the samples, and the time they count is above zero and below
# the window's wall time (for the NMI handler: below the window times the
# CPUs). The locks walk is paced (a walk at most every 1000 times its CPU
# time, at least every 5 s): the walks are counted beside the samples,
# the spacing status shows follows from the last walk's duration, and a
# walk comes within the cap whatever a walk takes.
# Asserts what is counted, never how fast it is.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 9
trap 'modprobe -r kintrospect 2>/dev/null; ki_cleanup_tmp' EXIT

status_field() {
	sed -n "s/^$1: //p" "$KI/status"
}
# The value of metric line $1 (name with labels) in metrics file $2.
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$2"
}
# The sum of the values of metric $1 over its labels in metrics file $2.
metric_sum() {
	awk -v k="$1" 'index($1, k "{") == 1 { s += $2 } END { printf "%.9f\n", s }' "$2"
}
# Whether $1 $2 $3 holds for decimal numbers (awk's comparison).
num() {
	awk -v a="$1" -v b="$3" "BEGIN { exit !(a + 0 $2 b + 0) }"
}
uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

# --- Off: the lines are there, nothing counted.
ki_load || ktap_exit_fail_msg "cannot load kintrospect"
cat "$KI/status" > "$KI_TMP/status0"
cat "$KI/metrics" > "$KI_TMP/metrics0"
off_ok() {
	grep -qx 'watch_cpu_ms: 0.000 in 0 samples (by phase, wall clock: nmi 0.000, locks 0.000, join 0.000, persist 0.000)' "$KI_TMP/status0" &&
		grep -qx 'watch_last_sample_ms: 0.000 CPU, 0.000 wall (nmi 0.000, locks 0.000, join 0.000, persist 0.000)' "$KI_TMP/status0" &&
		grep -q '^nmi_handler_ms: [0-9]*\.[0-9]\{3\} in [0-9]* NMIs (most on one CPU: [0-9]*\.[0-9]\{3\}, CPU [0-9]*)$' "$KI_TMP/status0" &&
		grep -qx 'slab_tick_cpu_ms: 0.000 in 0 samples' "$KI_TMP/status0" &&
		grep -qx 'watch_locks_walks: 0 in 0 samples (the last took 0.000 ms of CPU; the next is due 0.000 ms after it started)' "$KI_TMP/status0" &&
		grep -qx 'kintrospect_watch_locks_walks_total 0' "$KI_TMP/metrics0" &&
		grep -qx 'kintrospect_watch_locks_spacing_seconds 0.000000000' "$KI_TMP/metrics0" &&
		grep -qx 'kintrospect_watch_cpu_seconds_total 0.000000000' "$KI_TMP/metrics0" &&
		[ "$(grep -c '^kintrospect_watch_phase_seconds_total{phase="[a-z]*"} 0.000000000$' "$KI_TMP/metrics0")" = 4 ] &&
		[ "$(grep -c '^kintrospect_nmi_handler_seconds_total{cpu="[0-9]*"} ' "$KI_TMP/metrics0")" -ge "$(ki_nr_online)" ] &&
		[ "$(grep -c '^kintrospect_nmi_handled_total{cpu="[0-9]*"} ' "$KI_TMP/metrics0")" -ge "$(ki_nr_online)" ] &&
		grep -qx 'kintrospect_slab_ticks_total 0' "$KI_TMP/metrics0"
}
ki_check "watch off: status and metrics have the cost lines, nothing counted" off_ok
grep -E '^(watch_cpu|watch_last_sample_ms|watch_locks|nmi_handler|slab_tick)' "$KI_TMP/status0" | sed 's/^/# /'

# --- On: a window of a few seconds, the watch at 100 ms, the slab tick at 100 ms.
ki_load watch_interval_ms=100 slab_interval_ms=100 ||
	ktap_exit_fail_msg "cannot load kintrospect with the watch and the slab tick on"
sleep 1
t0=$(uptime_s)
cat "$KI/metrics" > "$KI_TMP/m0"
sleep 4
cat "$KI/metrics" > "$KI_TMP/m1"
t1=$(uptime_s)
cat "$KI/status" > "$KI_TMP/status1"
grep -E '^(watch_cpu|watch_last_sample_ms|watch_locks|nmi_handler|slab_tick)' "$KI_TMP/status1" | sed 's/^/# /'
grep -E '^kintrospect_(watch_cpu|watch_phase|watch_last|watch_locks|nmi_h|slab_tick)' "$KI_TMP/m1" | sed 's/^/# /'
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }')

samples=$(($(metric kintrospect_watch_samples_total "$KI_TMP/m1") - $(metric kintrospect_watch_samples_total "$KI_TMP/m0")))
cpu0=$(metric kintrospect_watch_cpu_seconds_total "$KI_TMP/m0")
cpu1=$(metric kintrospect_watch_cpu_seconds_total "$KI_TMP/m1")
cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.9f\n", b - a }')
ktap_print_msg "window ${wall} s: $samples samples, ${cpu} s of CPU"
ki_check "the watch's CPU time grows with its samples: $samples samples, > 0 and < the window (${cpu} s of ${wall} s)" \
	eval '[ "$samples" -ge 5 ] && num "$cpu" ">" 0 && num "$cpu" "<" "$wall"'

ph0=$(metric_sum kintrospect_watch_phase_seconds_total "$KI_TMP/m0")
ph1=$(metric_sum kintrospect_watch_phase_seconds_total "$KI_TMP/m1")
ph=$(awk -v a="$ph0" -v b="$ph1" 'BEGIN { printf "%.9f\n", b - a }')
nmi0=$(metric 'kintrospect_watch_phase_seconds_total{phase="nmi"}' "$KI_TMP/m0")
nmi1=$(metric 'kintrospect_watch_phase_seconds_total{phase="nmi"}' "$KI_TMP/m1")
lk0=$(metric 'kintrospect_watch_phase_seconds_total{phase="locks"}' "$KI_TMP/m0")
lk1=$(metric 'kintrospect_watch_phase_seconds_total{phase="locks"}' "$KI_TMP/m1")
# The locks walk is paced (below): the window may hold none, but the first
# sample walked.
ki_check "the phases grow: the NMI round takes time, the locks walks took some, all of them < the window (${ph} s)" \
	eval 'num "$nmi1" ">" "$nmi0" && num "$lk1" ">" 0 && num "$lk1" ">=" "$lk0" && num "$ph" "<" "$wall"'

# The pace of the locks walk: walks counted beside the samples (the first
# sample walks), never more walks than samples, the spacing status shows is
# 1000 times the last walk's CPU time (both printed to the microsecond) or
# the 5 s cap, and whatever a walk takes, another one comes within the cap
# (waited for up to 15 s: the cap and a few samples).
w1=$(metric kintrospect_watch_locks_walks_total "$KI_TMP/m1")
s1=$(metric kintrospect_watch_samples_total "$KI_TMP/m1")
pace=$(sed -n 's/^watch_locks_walks: \([0-9]*\) in \([0-9]*\) samples (the last took \([0-9.]*\) ms of CPU; the next is due \([0-9.]*\) ms after it started)$/\1 \2 \3 \4/p' "$KI_TMP/status1")
walked_again() {
	local i=0
	while [ $i -lt 150 ]; do
		[ "$(metric kintrospect_watch_locks_walks_total "$KI/metrics")" -gt "$w1" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
pace_ok() {
	set -- $pace
	[ $# = 4 ] && [ "$w1" -ge 1 ] && [ "$w1" -le "$s1" ] && [ "$1" -le "$2" ] &&
		awk -v last="$3" -v nx="$4" 'BEGIN {
			want = int(last * 1000 + 0.5); if (want > 5000) want = 5000
			exit !(last > 0 && int(nx) == want) }' &&
		walked_again
}
ki_check "the locks walk is paced: $w1 walks in $s1 samples; status: $pace; another walk within the cap" pace_ok

last=$(metric kintrospect_watch_last_sample_seconds "$KI_TMP/m1")
lastcpu=$(metric kintrospect_watch_last_sample_cpu_seconds "$KI_TMP/m1")
lastph=$(metric_sum kintrospect_watch_last_sample_phase_seconds "$KI_TMP/m1")
ki_check "the latest sample: its time > 0 and < the window, its phases add up to it (${last} s, ${lastph} s, CPU ${lastcpu} s)" \
	eval 'num "$last" ">" 0 && num "$last" "<" "$wall" && num "$lastph" "==" "$last" && num "$lastcpu" "<" "$wall"'

h0=$(metric_sum kintrospect_nmi_handler_seconds_total "$KI_TMP/m0")
h1=$(metric_sum kintrospect_nmi_handler_seconds_total "$KI_TMP/m1")
n0=$(metric_sum kintrospect_nmi_handled_total "$KI_TMP/m0")
n1=$(metric_sum kintrospect_nmi_handled_total "$KI_TMP/m1")
h=$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.9f\n", b - a }')
nmis=$(awk -v a="$n0" -v b="$n1" 'BEGIN { printf "%d\n", b - a }')
nr=$(ki_nr_online)
max=$(awk -v w="$wall" -v n="$nr" 'BEGIN { printf "%.3f\n", w * n }')
if [ "$nr" -ge 2 ]; then
	ki_check "the NMI handler's time grows with its NMIs: $nmis NMIs, ${h} s, > 0 and < the window times $nr CPUs" \
		eval '[ "$nmis" -ge "$samples" ] && num "$h" ">" 0 && num "$h" "<" "$max"'
else
	ki_check "one CPU: no NMI is sent, none is counted" eval '[ "$nmis" = 0 ]'
fi

st0=$(metric kintrospect_slab_ticks_total "$KI_TMP/m0")
st1=$(metric kintrospect_slab_ticks_total "$KI_TMP/m1")
sc0=$(metric kintrospect_slab_tick_cpu_seconds_total "$KI_TMP/m0")
sc1=$(metric kintrospect_slab_tick_cpu_seconds_total "$KI_TMP/m1")
sc=$(awk -v a="$sc0" -v b="$sc1" 'BEGIN { printf "%.9f\n", b - a }')
ki_check "the slab tick's CPU time grows with its samples: $((st1 - st0)) samples, ${sc} s, > 0 and < the window" \
	eval '[ $((st1 - st0)) -ge 5 ] && num "$sc" ">" 0 && num "$sc" "<" "$wall"'

# status says what metrics says: the same samples (status read right after).
ms=$(metric kintrospect_watch_samples_total "$KI_TMP/m1")
ss=$(sed -n 's/^watch_cpu_ms: [0-9.]* in \([0-9]*\) samples .*/\1/p' "$KI_TMP/status1")
status_ok() {
	[ -n "$ss" ] && [ -n "$ms" ] && [ "$ss" -ge "$ms" ] && [ "$ss" -le $((ms + 20)) ] &&
		grep -q '^watch_last_sample_ms: [0-9]*\.[0-9]\{3\} CPU, [0-9]*\.[0-9]\{3\} wall (nmi [0-9.]*, locks [0-9.]*, join [0-9.]*, persist [0-9.]*)$' "$KI_TMP/status1" &&
		! grep -qx 'watch_last_sample_ms: 0.000 CPU, 0.000 wall (nmi 0.000, locks 0.000, join 0.000, persist 0.000)' "$KI_TMP/status1"
}
ki_check "status counts the samples metrics counted ($ss, $ms a moment before) and shows the latest one" status_ok

# Every metrics line is Prometheus text: values integers or decimals, every
# metric with its HELP and TYPE.
format_ok() {
	! grep -v '^#' "$KI_TMP/m1" | grep -qvE '^kintrospect_[a-z_]+(\{[a-z]+="[^"]*"\})? -?[0-9]+(\.[0-9]+)?$' &&
		for m in $(grep -v '^#' "$KI_TMP/m1" | sed 's/[{ ].*//' | sort -u); do
			grep -q "^# HELP $m " "$KI_TMP/m1" && grep -q "^# TYPE $m " "$KI_TMP/m1" || return 1
		done
}
ki_check "metrics is Prometheus text with the cost lines" format_ok

ktap_finished
