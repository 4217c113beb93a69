#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The black box in one boot (the reboots are scripts/guest/blackbox.sh's):
# events written to the reserve_mem region "kintrospect" (2 MiB, on every
# scripts/vm command line) are found by the next load, marked as an earlier
# load of this boot, whole, in events, events.json and metrics; a damaged
# region is read cleanly: a flipped bit, a torn record, a newer layout and
# random bytes are each dropped and counted, never shown; a region that
# does not exist, or is too small (ki_small, 64 KiB), is refused with a
# line in status and everything else works; `clear previous` forgets.
# Before the black box, modprobe refused persist= and nothing survived.

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
grep -q 'reserve_mem=2M:4096:kintrospect' /proc/cmdline &&
	grep -q 'reserve_mem=64K:4096:ki_small' /proc/cmdline ||
	ki_skip "boot with reserve_mem=2M:4096:kintrospect reserve_mem=64K:4096:ki_small"
ki_require_module ki_region
region_mod=$(modinfo -F filename ki_region)
ktap_print_header
ktap_set_plan 23
old_sysrq=$(cat /proc/sys/kernel/sysrq)
ki_trap_cleanup 'wait; echo "$old_sysrq" > /proc/sys/kernel/sysrq; rmmod ki_region 2>/dev/null'
echo 1 > /proc/sys/kernel/sysrq
taskset -p -c 0 $$ >/dev/null

status_persist() {
	sed -n 's/^persist: //p' "$KI/status"
}
# Waits up to 10 s for the shell condition $1.
wait_for() {
	i=0
	while [ $i -lt 20 ]; do
		eval "$1" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
events_json() {
	cat "$KI/events.json" > "$KI_TMP/events.json" &&
		"$KI_JSON" "$KI_TMP/events.json" > "$KI_TMP/events.flat"
}
# Field $1 of the last events_json, e.g. jfield 'previous[0].this_boot'.
jfield() {
	awk -v k=".$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1) }' "$KI_TMP/events.flat"
}
# Loads with persist=kintrospect and the watch off: what earlier loads left.
reload() {
	ki_load persist=kintrospect "$@" && events_json
}

# --- no region, a missing one, one too small
ki_load
status_persist | grep -q '^off: events do not survive a reboot'
ki_check "without persist=, status says events do not survive a reboot" [ $? -eq 0 ]
echo 'clear previous' > "$KI/control" 2>/dev/null
ki_check "'clear previous' without a black box is refused" [ $? -ne 0 ]
ki_load persist=nosuch
ki_check "persist=nosuch loads" [ $? -eq 0 ]
status_persist | grep -q '^no reserve_mem region "nosuch": events do not survive a reboot'
ki_check "status: no reserve_mem region \"nosuch\"" [ $? -eq 0 ]
ki_load persist=ki_small
status_persist | grep -q '^region "ki_small" is 64 KiB, at least 512 KiB are needed'
ki_check "persist=ki_small (64 KiB) is refused in status, the module loads" [ $? -eq 0 ]
events_json && [ "$(jfield persist.state)" = '"too-small"' ]
ki_check "events.json: persist.state too-small" [ $? -eq 0 ]

# --- events of one load, found by the next
ki_load persist=kintrospect && echo 'clear previous' > "$KI/control"
ki_load persist=kintrospect watch_interval_ms=200 test_paths=1 spin_timeout_ms=3000
cpu=$(($(ki_nr_online) - 1))
for n in 1 2 3; do
	echo x > /proc/sysrq-trigger
	wait_for "[ \$(grep -c '^=== event [0-9]*: sysrq' $KI/events) -ge $n ]"
done
taskset -c $cpu dd if=$KI/test/spin of=/dev/null bs=64 count=1 2>/dev/null &
spinner=$!
wait_for "grep -q '^=== event [0-9]*: stuck-cpu CPU $cpu pid $spinner (dd)' $KI/events"
ki_check "3 sysrq events and the spinner's ($spinner) stuck-cpu event are recorded" [ $? -eq 0 ]
wait $spinner
written=$(status_persist | sed -n 's/.*; \([0-9]*\) written.*/\1/p')
ki_check "status counts them written to the region ($written >= 4)" [ "${written:-0}" -ge 4 ]
reload
grep -q '^--- this boot, an earlier load of kintrospect, kernel .*: 4 event(s)$' "$KI/events"
ki_check "the next load shows them under \"this boot, an earlier load\"" [ $? -eq 0 ]
grep '^---' "$KI/events" | sed 's/^/# /'
[ "$(jfield 'previous[0].this_boot')" = true ] &&
	[ "$(jfield 'previous[0].events[3].kind')" = '"stuck-cpu"' ] &&
	[ "$(jfield 'previous[0].events[3].pid')" = "$spinner" ] &&
	[ "$(jfield 'previous[0].events[0].kind')" = '"sysrq"' ]
ki_check "events.json (valid) has them under previous[0], the stuck-cpu one for pid $spinner" [ $? -eq 0 ]
awk -v head="^STUCK CPU $cpu: pid $spinner [(]dd[)] " '
	$0 ~ head { inside = 1; next }
	inside && /^  kintrospect_test_spin_loop[+]/ { found = 1 }
	/^$/ { inside = 0 }
	END { exit !found }' "$KI/events"
ki_check "its stored report names the spinner in kintrospect_test_spin_loop" [ $? -eq 0 ]
grep -q '^kintrospect_previous_events{kind="sysrq"} 3$' "$KI/metrics" &&
	grep -q '^kintrospect_previous_events{kind="stuck-cpu"} 1$' "$KI/metrics"
ki_check "metrics: kintrospect_previous_events sysrq 3, stuck-cpu 1" [ $? -eq 0 ]

# --- a damaged region: each damage drops that record alone, counted
damage() {
	modprobe -r kintrospect
	insmod "$region_mod" op="$1" && rmmod ki_region
}
found() {
	status_persist | sed -n 's/.*; found \([0-9]*\) of earlier boots or loads, \([0-9]*\) bad records dropped, \([0-9]*\) of another layout.*/\1 \2 \3/p'
}
damage flip && reload
ki_check "a flipped payload bit: 3 found, 1 bad ($(found))" [ "$(found)" = "3 1 0" ]
damage tear && reload
ki_check "a torn record (magic kept, half its payload zero): 2 found, 1 bad ($(found))" [ "$(found)" = "2 1 0" ]
damage version && reload
ki_check "a newer layout's record: 1 found, 1 of another layout ($(found))" [ "$(found)" = "1 0 1" ]
[ "$(grep -c '^=== event' "$KI/events")" -eq 1 ] &&
	[ "$(jfield 'previous[0].events[0].kind')" = '"stuck-cpu"' ]
ki_check "the record left is shown whole (events.json valid)" [ $? -eq 0 ]
damage random && reload
ki_check "random bytes: nothing found, every one of the 32 slots bad ($(found))" [ "$(found)" = "0 32 0" ]
grep -q '^--- ' "$KI/events"
ki_check "nothing of it is shown" [ $? -ne 0 ]
reload
ki_check "the bad slots were cleared: the next load finds a clean region ($(found))" [ "$(found)" = "0 0 0" ]

# --- clear previous
ki_load persist=kintrospect watch_interval_ms=200
echo x > /proc/sysrq-trigger
wait_for "grep -q '^=== event [0-9]*: sysrq' $KI/events"
reload
ki_check "one more event found by the next load ($(found))" [ "$(found)" = "1 0 0" ]
echo 'clear previous' > "$KI/control" && ! grep -q '^--- ' "$KI/events" &&
	grep -q '^kintrospect_previous_events{kind="sysrq"} 0$' "$KI/metrics"
ki_check "'clear previous' forgets it: not in events, 0 in metrics" [ $? -eq 0 ]
reload
ki_check "and the next load finds nothing ($(found))" [ "$(found)" = "0 0 0" ]
ki_unload
ki_check "unloads" [ $? -eq 0 ]
ktap_finished
