# SPDX-License-Identifier: GPL-2.0
#
# Shared by kintrospect's selftests: KTAP helpers, paths, loading and
# unloading the module, taking and reading snapshots. Sourced.

KI_DIR="$(dirname "$(readlink -f "$0")")"
# shellcheck source=../kselftest/ktap_helpers.sh
. "$KI_DIR"/../kselftest/ktap_helpers.sh

KI=/sys/kernel/debug/kintrospect
KI_JSON="$KI_DIR/kintrospect_json"
KI_TMP=$(mktemp -d /tmp/kintrospect.XXXXXX)

# ktap_test_result without its word splitting: ki_check DESC COMMAND [ARGS...]
ki_check() {
	desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_test_fail "$desc"
	fi
}

# One skip per missing precondition, each with its reason.
ki_require() {
	[ "$(id -u)" -eq 0 ] || ki_skip "must run as root"
	[ -d /sys/kernel/debug ] && [ -n "$(ls /sys/kernel/debug 2>/dev/null)" ] ||
		ki_skip "debugfs is not mounted on /sys/kernel/debug"
	modinfo kintrospect >/dev/null 2>&1 ||
		ki_skip "kintrospect.ko is not installed (make modules_install)"
	[ -x "$KI_JSON" ] ||
		ki_skip "the kintrospect_json helper was not built"
}

# The preconditions of a test: each missing one skips the whole test, with
# its reason (make check counts a skip as a failure: its VM provides them all).
ki_skip() {
	ktap_skip_all "$1"
	exit "$KSFT_SKIP"
}

# ki_require_module NAME...: the modules are installed (the selftests' helper
# modules and lib/test_lockup.c, by make testmods_install).
ki_require_module() {
	local m
	for m in "$@"; do
		modinfo "$m" >/dev/null 2>&1 ||
			ki_skip "the $m module is not installed (make testmods_install)"
	done
}

# Lockdep is on: built in, and not turned off in this boot (by a splat, an
# oops or kintrospect_lockdep_off.sh's helper module).
ki_require_lockdep() {
	grep -q 'debug_locks: *1' /proc/lockdep_stats 2>/dev/null ||
		ki_skip "lockdep is off (or not built): held locks are not recorded"
}

# ki_require_cpus N: at least N online CPUs; leaves their number in $nr.
ki_require_cpus() {
	nr=$(ki_nr_online)
	[ "$nr" -ge "$1" ] || ki_skip "needs at least $1 online CPUs, have $nr"
}

# ki_trap_cleanup [COMMANDS]: at exit, COMMANDS (what the test has to undo
# first: its own background jobs stopped, helper modules unloaded, settings
# restored), then what every test undoes: test spins released, background
# jobs waited for, kintrospect unloaded, $KI_TMP removed.
ki_trap_cleanup() {
	KI_CLEANUP_FIRST=${1:-:}
	trap 'eval "$KI_CLEANUP_FIRST"; ki_cleanup' EXIT
}

ki_cleanup() {
	[ -e "$KI/test/release" ] && echo 1 > "$KI/test/release"
	wait
	modprobe -r kintrospect 2>/dev/null
	ki_cleanup_tmp
}

# Loads the module with the given parameters (unloading it first).
ki_load() {
	modprobe -r kintrospect 2>/dev/null
	modprobe kintrospect "$@"
}

ki_unload() {
	modprobe -r kintrospect
}

ki_loaded() {
	grep -q '^kintrospect ' /proc/modules
}

# Number of online CPUs.
ki_nr_online() {
	grep -c '^processor' /proc/cpuinfo
}

# Takes a CPU snapshot from CPU $1 (default 0).
ki_snapshot() {
	taskset -c "${1:-0}" sh -c "echo 'snapshot cpus' > $KI/control"
}

# Flattened cpus.json (one "path=value" line per field) into $KI_TMP/cpus.flat.
ki_cpus_json() {
	cat "$KI/cpus.json" > "$KI_TMP/cpus.json" &&
		"$KI_JSON" "$KI_TMP/cpus.json" > "$KI_TMP/cpus.flat"
}

# Field $2 of CPU $1 in the last ki_cpus_json, e.g. ki_cpu_field 2 pid.
ki_cpu_field() {
	sed -n "s/^\.cpus\[$1\]\.$2=//p" "$KI_TMP/cpus.flat"
}

# A top-level field of the last ki_cpus_json, e.g. ki_field seq.
ki_field() {
	sed -n "s/^\.$1=//p" "$KI_TMP/cpus.flat"
}

# Whether CPU $1's frames in the last ki_cpus_json name function $2.
ki_cpu_has_frame() {
	grep -q "^\.cpus\[$1\]\.frames\[[0-9]*\]=\"$2+" "$KI_TMP/cpus.flat"
}

# Whether the NMI of CPU $1 in the last ki_cpus_json hit function $2 itself
# (not an interrupt on top of it, which can hold locks of its own).
ki_cpu_in() {
	grep -q "^\.cpus\[$1\]\.frames\[0\]=\"$2+" "$KI_TMP/cpus.flat"
}

ki_cleanup_tmp() {
	rm -rf "$KI_TMP"
}

# Takes a locks snapshot and flattens locks.json into $KI_TMP/locks.flat.
ki_locks() {
	echo 'snapshot locks' > "$KI/control" &&
		cat "$KI/locks.json" > "$KI_TMP/locks.json" &&
		"$KI_JSON" "$KI_TMP/locks.json" > "$KI_TMP/locks.flat"
}

# Index in the last ki_locks of the thread with pid $1.
ki_lock_task() {
	sed -n "s/^\.tasks\[\([0-9]*\)\]\.pid=$1$/\1/p" "$KI_TMP/locks.flat"
}

# Field $2 (e.g. blocked_on.kind, held[0].name) of the thread with pid $1.
ki_lock_field() {
	local idx field
	idx=$(ki_lock_task "$1")
	field=$(printf '%s' "$2" | sed 's/[].[]/\\&/g')
	[ -n "$idx" ] && sed -n "s/^\.tasks\[$idx\]\.$field=//p" "$KI_TMP/locks.flat"
}

# Index of the held lock named $2 of the thread with pid $1 in the last ki_locks.
ki_lock_held() {
	local idx
	idx=$(ki_lock_task "$1")
	[ -n "$idx" ] &&
		sed -n "s/^\.tasks\[$idx\]\.held\[\([0-9]*\)\]\.name=\"$2\"$/\1/p" "$KI_TMP/locks.flat"
}

# Pid of the thread named $1 (the first one), e.g. a helper module's kthread.
ki_pid_of() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}

# Field $3 of the held lock of the thread with pid $1 whose name matches the
# basic regular expression $2 (e.g. ki_lock_held_field 42 'ki_lock \[mod\]' kind).
ki_lock_held_field() {
	local idx h
	idx=$(ki_lock_task "$1")
	[ -n "$idx" ] || return 1
	h=$(sed -n "s/^\.tasks\[$idx\]\.held\[\([0-9]*\)\]\.name=\"$2\"$/\1/p" "$KI_TMP/locks.flat" |
		head -n 1)
	[ -n "$h" ] && sed -n "s/^\.tasks\[$idx\]\.held\[$h\]\.$3=//p" "$KI_TMP/locks.flat"
}

# Field $3 of the lock named $2 (a basic regular expression) that CPU $1 held
# at the NMI, in the last ki_cpus_json (e.g. ki_cpu_held_field 3 kintrospect_test_lock kind).
ki_cpu_held_field() {
	local h
	h=$(sed -n "s/^\.cpus\[$1\]\.held\[\([0-9]*\)\]\.name=\"$2\"$/\1/p" "$KI_TMP/cpus.flat" |
		head -n 1)
	[ -n "$h" ] && sed -n "s/^\.cpus\[$1\]\.held\[$h\]\.$3=//p" "$KI_TMP/cpus.flat"
}

# Takes a report and flattens report.json into $KI_TMP/report.flat.
ki_report() {
	echo 'snapshot report' > "$KI/control" &&
		cat "$KI/report.json" > "$KI_TMP/report.json" &&
		"$KI_JSON" "$KI_TMP/report.json" > "$KI_TMP/report.flat"
}

# Index in the last ki_report's stuck_cpus of CPU $1.
ki_stuck_idx() {
	sed -n "s/^\.stuck_cpus\[\([0-9]*\)\]\.cpu=$1$/\1/p" "$KI_TMP/report.flat"
}

# Field $2 (e.g. pid, waiters[0].lock) of stuck CPU $1 in the last ki_report.
ki_stuck_field() {
	local idx field
	idx=$(ki_stuck_idx "$1")
	field=$(printf '%s' "$2" | sed 's/[].[]/\\&/g')
	[ -n "$idx" ] && sed -n "s/^\.stuck_cpus\[$idx\]\.$field=//p" "$KI_TMP/report.flat"
}

# Field $2 (e.g. blocked_ns, chain[0].owner_pid) of blocked task $1 in the last ki_report.
ki_blocked_field() {
	local idx field
	idx=$(sed -n "s/^\.blocked\[\([0-9]*\)\]\.pid=$1$/\1/p" "$KI_TMP/report.flat")
	field=$(printf '%s' "$2" | sed 's/[].[]/\\&/g')
	[ -n "$idx" ] && sed -n "s/^\.blocked\[$idx\]\.$field=//p" "$KI_TMP/report.flat"
}

# A hung task with a known chain: the kernel's own lib/test_lockup.c holds
# slab_mutex asleep for $1 seconds (its insmod's pid in $ki_lockup_pid) and
# `cat /proc/slabinfo` blocks on it uninterruptibly ($ki_blocked_pid); the
# hung-task detector reports it after 2 s (hung_task_timeout_secs, which
# the caller restores).
ki_slab_mutex_hung() {
	local addr lockup i=0
	echo 2 > /proc/sys/kernel/hung_task_timeout_secs
	addr=$(awk '$3 == "slab_mutex" { print $1; exit }' /proc/kallsyms)
	lockup=$(modinfo test_lockup | sed -n 's/^filename: *//p')
	# insmod, not modprobe: test_lockup's init ends with EAGAIN, which modprobe retries.
	insmod "$lockup" lock_mutex_ptr=0x"$addr" time_secs="$1" state=S 2>/dev/null &
	ki_lockup_pid=$!
	while [ $i -lt 50 ] && ! dmesg | grep -q 'test_lockup: lock mutex slab_mutex'; do
		sleep 0.1
		i=$((i + 1))
	done
	cat /proc/slabinfo > /dev/null &
	ki_blocked_pid=$!
}

# Waits up to $2 seconds for process $1 to end (and reaps it).
ki_wait_gone() {
	local i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $i -ge $(($2 * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	wait "$1" 2>/dev/null
	return 0
}

# Takes locks snapshots (up to 10 s) until the shell condition $1 holds.
ki_wait_locks() {
	local tries=0
	while [ $tries -lt 20 ]; do
		ki_locks && eval "$1" && return 0
		sleep 0.5
		tries=$((tries + 1))
	done
	return 1
}

# Takes CPU snapshots from CPU 0 (up to 10 s) until the shell condition $1 holds.
ki_wait_cpus() {
	local i=0
	while [ $i -lt 20 ]; do
		ki_snapshot 0 && ki_cpus_json && eval "$1" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
