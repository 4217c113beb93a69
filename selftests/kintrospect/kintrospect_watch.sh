#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The watch, kintrospect's flight recorder (issue 9 item 4), and metrics
# (item 5). Loaded with watch_interval_ms, kintrospect samples by itself and
# records events that nobody asked for at the time:
# - stuck-cpu: a task spinning with kintrospect_test_lock held and a second
#   task spinning on it give one event per CPU, updated while it lasts (not
#   one per sample), naming the CPU, the task, its function, the lock and the
#   waiter; one log line each.
# - hung-task: the kernel's own lib/test_lockup.c holds slab_mutex asleep and
#   `cat /proc/slabinfo` blocks on it uninterruptibly: once the hung-task
#   detector reports cat, an event keeps cat's chain to test_lockup's insmod.
# - deadlock: the ABBA pair gives one event with both pids.
# - sysrq events fill a small ring: the oldest are dropped and counted.
# - metrics: Prometheus text, with the stuck CPUs while they are stuck.
# - Off (the default): no sample, no hook, no event. Unload with the watch
#   on (even right after load) is clean; bad parameters refuse the load.
# oops and panic events are tested in their own boot (scripts/guest/panic.sh):
# an oops turns lockdep off for the rest of a boot, a panic ends it.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ki_require_module test_lockup
ki_require_lockdep
[ -e /proc/sys/kernel/hung_task_timeout_secs ] ||
	ki_skip "no hung-task detector (CONFIG_DETECT_HUNG_TASK)"
ki_require_cpus 3
ktap_print_header
ktap_set_plan 22
hung_timeout=$(cat /proc/sys/kernel/hung_task_timeout_secs)
cleanup() {
	[ -n "${abba_a:-}" ] && kill -9 "$abba_a" "$abba_b" 2>/dev/null
	echo "$hung_timeout" > /proc/sys/kernel/hung_task_timeout_secs
}
ki_trap_cleanup cleanup
# This shell stays off the spinning CPUs (see kintrospect_report.sh).
taskset -p -c 0 $$ >/dev/null
SPLATS='BUG:|WARNING:|Oops|possible circular|possible recursive|inconsistent lock state|suspicious RCU|sleeping function called'
HOLD_CPU=$((nr - 1))
WAIT_CPU=$((nr - 2))

# Flattens events.json into $KI_TMP/events.flat.
events_json() {
	cat "$KI/events.json" > "$KI_TMP/events.json" &&
		"$KI_JSON" "$KI_TMP/events.json" > "$KI_TMP/events.flat"
}

# Indexes (one per line) of the events of kind $1, with field $2 = $3 if given.
event_idx() {
	local i
	for i in $(sed -n "s/^\.events\[\([0-9]*\)\]\.kind=\"$1\"$/\1/p" "$KI_TMP/events.flat"); do
		[ -z "${2:-}" ] || grep -qx "\.events\[$i\]\.$2=$3" "$KI_TMP/events.flat" && echo "$i"
	done
}

# Field $2 of event $1 (e.g. report.stuck_cpus[0].pid).
event_field() {
	local field
	field=$(printf '%s' "$2" | sed 's/[].[]/\\&/g')
	sed -n "s/^\.events\[$1\]\.$field=//p" "$KI_TMP/events.flat"
}

# Takes events.json (up to $2 s) until the shell condition $1 holds.
wait_events() {
	local i=0
	while [ $i -lt $(($2 * 2)) ]; do
		events_json && eval "$1" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

status_field() {
	sed -n "s/^$1: //p" "$KI/status"
}

# --- Off, the default: nothing runs.
ki_load || ktap_exit_fail_msg "cannot load kintrospect"
ki_cpus_json
seq0=$(ki_field seq)
sleep 1
ki_cpus_json
off_ok() {
	[ "$(status_field watch_interval_ms)" = 0 ] &&
		[ "$(status_field watch_hooks)" = "hung-task no, oops no, panic no" ] &&
		[ "$(status_field watch_samples)" = 0 ] && [ "$(ki_field seq)" = "$seq0" ] &&
		grep -q '^the watch is off' "$KI/events" &&
		events_json && grep -qx '\.watch=false' "$KI_TMP/events.flat" &&
		grep -qx '\.events=\[\]' "$KI_TMP/events.flat"
}
ki_check "item 4: with the watch off no sample is taken (CPU snapshot seq stays ${seq0:-?}), no hook, no event" off_ok
grep -qx 'kintrospect_watch_enabled 0' "$KI/metrics"
ki_check "item 5: metrics say the watch is off" [ $? -eq 0 ]

# --- Bad parameters: a clear error, nothing loaded.
ki_unload
for bad in watch_interval_ms=50 watch_interval_ms=3600001 watch_events=1 watch_events=65; do
	dmesg -c >/dev/null
	if modprobe kintrospect $bad 2>/dev/null; then
		ki_check "item 4: $bad is refused" false
		ki_unload
	else
		name=${bad%%=*}
		ki_check "item 4: $bad is refused, with a message, and nothing is loaded" \
			[ -n "$(dmesg | grep "$name=.* is out of range")" ] && ! ki_loaded
	fi
done

# --- Unload with the watch on, at once and after samples: clean.
dmesg -c >/dev/null
i=0
while [ $i -lt 5 ]; do
	modprobe kintrospect watch_interval_ms=100 && modprobe -r kintrospect || break
	i=$((i + 1))
done
modprobe kintrospect watch_interval_ms=100 && sleep 1 && modprobe -r kintrospect
ki_check "item 6: load and unload with the watch on, 6 times, some right after load: clean" \
	[ $? -eq 0 -a $i -eq 5 -a -z "$(dmesg | grep -E 'BUG|WARNING|Oops|lockdep|circular')" ]

# --- On.
ki_load test_paths=1 spin_timeout_ms=15000 watch_interval_ms=200 stuck_ms=1000 watch_events=4 ||
	ktap_exit_fail_msg "cannot load kintrospect with the watch on"
on_ok() {
	[ "$(status_field watch_interval_ms)" = 200 ] &&
		[ "$(status_field watch_hooks)" = "hung-task yes, oops yes, panic yes" ] &&
		[ "$(status_field watch_samples)" -gt 0 ]
}
sleep 1
ki_check "item 4: the watch samples by itself, with its three hooks attached" on_ok
events_json
ki_check "item 4: a quiet machine gives no event" grep -qx '\.events=\[\]' "$KI_TMP/events.flat"

# --- stuck-cpu: a CPU held by a spinner holding a lock, a second spinning on it.
dmesg -c >/dev/null
taskset -c $HOLD_CPU dd if="$KI/test/spin" of="$KI_TMP/spin1" bs=64 count=1 2>/dev/null &
holder=$!
wait_events '[ -n "$(event_idx stuck-cpu pid $holder)" ]' 10
taskset -c $WAIT_CPU dd if="$KI/test/spin" of="$KI_TMP/spin2" bs=64 count=1 2>/dev/null &
spinner=$!
# The watch updates the event while the CPU stays stuck: wait for an update
# that shows the waiter spinning in the loop (not an interrupt on top of it).
hold_ok() {
	e=$(event_idx stuck-cpu pid $holder)
	[ "$(echo "$e" | wc -w)" -eq 1 ] || return 1
	[ "$(event_field $e cpu)" = $HOLD_CPU ] &&
		[ "$(event_field $e comm)" = '"dd"' ] &&
		[ "$(event_field $e 'report.stuck_cpus[0].cpu')" = $HOLD_CPU ] &&
		event_field $e 'report.stuck_cpus[0].frames[0]' | grep -q '^"kintrospect_test_spin_loop+' &&
		grep -q "^\.events\[$e\]\.report\.stuck_cpus\[0\]\.held\[[0-9]*\]\.name=\"kintrospect_test_lock\"$" \
			"$KI_TMP/events.flat" &&
		[ "$(event_field $e 'report.stuck_cpus[0].waiters[0].pid')" = $spinner ] &&
		[ "$(event_field $e 'report.stuck_cpus[0].waiters[0].lock')" = '"kintrospect_test_lock"' ]
}
wait_events hold_ok 15
ki_check "item 6: one stuck-cpu event names CPU $HOLD_CPU, pid $holder (dd), kintrospect_test_spin_loop, kintrospect_test_lock and its waiter $spinner" \
	[ $? -eq 0 ]
sed 's/^/# /' "$KI/events" | head -n 40
e=$(event_idx stuck-cpu pid $holder)
ki_check "item 4: it is one incident, updated ($(event_field $e updates) updates), not one event per sample" \
	[ "$(event_field $e updates)" -ge 2 -a "$(event_idx stuck-cpu cpu $HOLD_CPU | wc -w)" -eq 1 ]
# The waiter may have been seen waiting before it spun for stuck_ms: its own
# event can come a sample or a few later.
# metrics is read as soon as both CPUs count as stuck, while both still spin
# (the spins end after spin_timeout_ms: on a loaded host, a read after the
# waiter's event could come after that).
waiter_seen() {
	[ "$(event_idx stuck-cpu pid $spinner | wc -w)" -ge 1 ] &&
		cat "$KI/metrics" > "$KI_TMP/metrics" &&
		[ "$(sed -n 's/^kintrospect_stuck_cpus //p' "$KI_TMP/metrics")" -ge 2 ]
}
wait_events waiter_seen 10
ki_check "item 4: the waiter's CPU $WAIT_CPU is one stuck-cpu event too (pid $spinner)" \
	[ "$(event_idx stuck-cpu pid $spinner | wc -w)" -eq 1 ]
metrics_ok() {
	grep -qx 'kintrospect_watch_enabled 1' "$KI_TMP/metrics" &&
		[ "$(sed -n 's/^kintrospect_stuck_cpus //p' "$KI_TMP/metrics")" -ge 2 ] &&
		[ "$(sed -n 's/^kintrospect_events_total{kind="stuck-cpu"} //p' "$KI_TMP/metrics")" -ge 2 ] &&
		# Every sample line is a metric, optional labels, a number (an integer, or
		# a decimal: the times in seconds); each has HELP and TYPE.
		! grep -v '^#' "$KI_TMP/metrics" | grep -qvE '^kintrospect_[a-z_]+(\{[a-z]+="[^"]*"\})? -?[0-9]+(\.[0-9]+)?$' &&
		for m in $(grep -v '^#' "$KI_TMP/metrics" | sed 's/[{ ].*//' | sort -u); do
			grep -q "^# HELP $m " "$KI_TMP/metrics" && grep -q "^# TYPE $m " "$KI_TMP/metrics" || return 1
		done
}
ki_check "item 5: metrics: Prometheus text, kintrospect_stuck_cpus >= 2 while they spin" metrics_ok
sed 's/^/# /' "$KI_TMP/metrics" | grep -v '^# #'
echo 1 > "$KI/test/release"
wait $holder $spinner
log=$(dmesg | grep -c "kintrospect: event [0-9]*: stuck-cpu CPU $HOLD_CPU pid $holder (dd), see events")
ki_check "item 4: one log line for that incident ($log)" [ "$log" -eq 1 ]
sleep 1
ki_check "item 5: once they are released, kintrospect_stuck_cpus is 0" \
	grep -qx 'kintrospect_stuck_cpus 0' "$KI/metrics"

# --- deadlock: the ABBA pair.
cat "$KI/test/abba_a" > /dev/null &
abba_a=$!
cat "$KI/test/abba_b" > /dev/null &
abba_b=$!
want=$(printf '%s\n%s\n' "$abba_a" "$abba_b" | sort | tr '\n' ' ')
abba_ok() {
	e=$(event_idx deadlock)
	[ "$(echo "$e" | wc -w)" -eq 1 ] &&
		[ "$(sed -n "s/^\.events\[$e\]\.report\.deadlocks\[0\]\[[01]\]=//p" "$KI_TMP/events.flat" |
			sort | tr '\n' ' ')" = "$want" ]
}
wait_events abba_ok 15
ki_check "item 6: ABBA ($want) gives one deadlock event with both pids" [ $? -eq 0 ]
sleep 1
events_json
ki_check "item 4: the same deadlock a second later is the same event" [ "$(event_idx deadlock | wc -w)" -eq 1 ]
kill -9 $abba_a $abba_b
wait $abba_a $abba_b 2>/dev/null
abba_a=

# --- hung-task: test_lockup holds slab_mutex asleep; cat /proc/slabinfo blocks on it.
ki_slab_mutex_hung 12
ins=$ki_lockup_pid
cat=$ki_blocked_pid
hung_ok() {
	e=$(event_idx hung-task pid $cat)
	[ "$(echo "$e" | wc -w)" -eq 1 ] || return 1
	b=$(sed -n "s/^\.events\[$e\]\.report\.blocked\[\([0-9]*\)\]\.pid=$cat$/\1/p" "$KI_TMP/events.flat")
	[ -n "$b" ] &&
		[ "$(event_field $e "report.blocked[$b].state")" = '"D"' ] &&
		[ "$(event_field $e "report.blocked[$b].chain[0].kind")" = '"mutex"' ] &&
		[ "$(event_field $e "report.blocked[$b].chain[0].name")" = '"slab_mutex"' ] &&
		[ "$(event_field $e "report.blocked[$b].chain[0].owner_pid")" = "$ins" ]
}
wait_events hung_ok 10
ki_check "item 6: the hung-task detector's report of $cat (cat) is an event with its chain: mutex slab_mutex -> $ins (test_lockup's insmod)" \
	[ $? -eq 0 ]
sed -n '/: hung-task/,/^===/p' "$KI/events" | sed 's/^/# /' | head -n 30
ki_check "item 4: the detector's repeated reports of it are one event" \
	[ "$(event_idx hung-task pid $cat | wc -w)" -eq 1 ]
echo "$hung_timeout" > /proc/sys/kernel/hung_task_timeout_secs
wait $ins $cat

# --- The ring: sysrq events push the oldest out, counted.
events_json
before=$(sed -n 's/^\.events\[[0-9]*\]\.seq=//p' "$KI_TMP/events.flat" | sort -n | tail -n 1)
i=0
while [ $i -lt 5 ]; do
	echo x > /proc/sysrq-trigger
	wait_events "[ \"\$(event_idx sysrq | wc -w)\" -ge $((i + 1)) ] || [ \"\$(event_idx sysrq | wc -w)\" -eq 4 ]" 10
	i=$((i + 1))
done
wait_events '[ "$(sed -n "s/^\.counts\.sysrq=//p" "$KI_TMP/events.flat")" -eq 5 ]' 10
seqs=$(sed -n 's/^\.events\[[0-9]*\]\.seq=//p' "$KI_TMP/events.flat" | tr '\n' ' ')
last=$((before + 5))
ring_ok() {
	[ "$seqs" = "$((last - 3)) $((last - 2)) $((last - 1)) $last " ] &&
		[ "$(sed -n 's/^\.dropped=//p' "$KI_TMP/events.flat")" -eq $((last - 4)) ] &&
		[ "$(status_field watch_events_dropped)" -eq $((last - 4)) ] &&
		[ "$(event_idx sysrq | wc -w)" -eq 4 ]
}
ki_check "item 6: a ring of 4 keeps the newest 4 events (seq $seqs) and counts the $((last - 4)) dropped" ring_ok
ki_check "item 4: status shows the watch's memory ($(status_field watch_memory_bytes) bytes)" \
	[ "$(status_field watch_memory_bytes)" -gt 0 ]

ki_unload
ki_check "item 6: unload with the watch on and events kept is clean" \
	[ -z "$(dmesg | grep -E "$SPLATS")" ]

ktap_finished
