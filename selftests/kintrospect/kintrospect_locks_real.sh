#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Lock-holder reports on locks kintrospect did not write (issue 8 items 1
# and 4, review H4):
# - a semaphore used as an event (helper module ki_semevent): the waiter is
#   the semaphore's last holder, which is a hint and no deadlock;
# - the kernel's own lib/test_lockup.c holds a real inode lock (i_rwsem) in
#   its init function, in D state: the report names the holder, the lock, the
#   site in test_lockup, and a writer blocked on the same inode with its
#   owner; the site stays named after test_lockup's init has failed and the
#   module is gone (symbolised when the snapshot was taken).

. "$(dirname "$(readlink -f "$0")")"/kintrospect_lib.sh

ki_require
ktap_print_header
ktap_set_plan 12
cleanup() {
	modprobe -r ki_semevent 2>/dev/null
	[ -n "${lockup:-}" ] && wait "$lockup" 2>/dev/null
	[ -n "${writer:-}" ] && wait "$writer" 2>/dev/null
}
ki_trap_cleanup cleanup

ki_require_module ki_semevent test_lockup
ki_require_lockdep
ki_load || ktap_exit_fail_msg "cannot load kintrospect"

# --- A semaphore used as an event.
modprobe ki_semevent delay_ms=20000 || ktap_exit_fail_msg "cannot load ki_semevent"
a=$(ki_pid_of ki_semevent_a)
ki_wait_locks '[ "$(ki_lock_field $a blocked_on.kind)" = "\"semaphore\"" ]'
ki_check "H4: ki_semevent_a ($a) is reported waiting on a semaphore" [ $? -eq 0 ]
grep "^\.tasks\[$(ki_lock_task $a)\]\." "$KI_TMP/locks.flat" | sed 's/^/# /'
ki_check "issue 8 item 2: the semaphore is named by its symbol: ki_semevent_sem [ki_semevent]" \
	[ "$(ki_lock_field $a blocked_on.name)" = '"ki_semevent_sem [ki_semevent]"' ]
ki_check "H4: its last holder is shown as a hint (hint_pid $a), not as an owner (owner_pid null)" \
	[ "$(ki_lock_field $a blocked_on.hint_pid)" = "$a" -a \
	  "$(ki_lock_field $a blocked_on.owner_pid)" = null ]
ki_check "H4: a semaphore used as an event is not a deadlock: no cycle, no possible cycle" \
	[ "$(sed -n 's/^\.cycles=//p' "$KI_TMP/locks.flat")" = "[]" -a \
	  "$(sed -n 's/^\.possible_cycles=//p' "$KI_TMP/locks.flat")" = "[]" ]
cat "$KI/locks" > "$KI_TMP/locks.txt"
sed 's/^/# /' "$KI_TMP/locks.txt"
grep -q "^  pid $a (ki_semevent_a) state D cpu [0-9]* waits for semaphore ki_semevent_sem \[ki_semevent\] -> last holder (hint) itself$" \
	"$KI_TMP/locks.txt" && ! grep -q DEADLOCK "$KI_TMP/locks.txt"
ki_check "H4: the text says 'last holder (hint) itself' and no DEADLOCK" [ $? -eq 0 ]
modprobe -r ki_semevent
ki_check "ki_semevent unloads (its waiter released)" [ $? -eq 0 ]

# --- lib/test_lockup.c holds an inode's i_rwsem in its init, in D state.
f="$KI_TMP/lockup_file"
: > "$f"
modprobe test_lockup file_path="$f" lock_inode=1 state=D time_secs=12 2>/dev/null &
lockup=$!
holds() {
	[ "$(ki_lock_held_field $lockup '[^"]*i_mutex_key[^"]*' kind)" = '"sleeping"' ]
}
ki_wait_locks holds
ki_check "test_lockup's modprobe ($lockup) is listed holding the inode's i_rwsem" [ $? -eq 0 ]
( echo x >> "$f" ) &
writer=$!
# Until it waits for the file's i_rwsem: the forked shell may be caught
# waiting briefly on another lock before it opens the file.
ki_wait_locks '[ "$(ki_lock_field $writer blocked_on.kind)" = "\"rwsem-write\"" ] &&
	ki_lock_field $writer blocked_on.name | grep -q i_mutex_key'
ki_check "a writer ($writer) to the file is reported waiting for it (rwsem-write)" [ $? -eq 0 ]
grep "^\.tasks\[$(ki_lock_task $lockup)\]\.\|^\.tasks\[$(ki_lock_task $writer)\]\." \
	"$KI_TMP/locks.flat" | sed 's/^/# /'
site=$(ki_lock_held_field $lockup '[^"]*i_mutex_key[^"]*' acquired_at)
site_ok() {
	echo "$site" | grep -q '^"test_lock+0x[0-9a-f]*/0x[0-9a-f]* \[test_lockup\]"$' &&
		[ "$(ki_lock_held_field $lockup '[^"]*i_mutex_key[^"]*' mode)" = '"write"' ]
}
ki_check "held in write mode, acquired in test_lock [test_lockup] ($site)" site_ok
owner_ok() {
	ki_lock_field $writer blocked_on.name | grep -q 'i_mutex_key' &&
		[ "$(ki_lock_field $writer blocked_on.owner_pid)" = "$lockup" ] &&
		[ "$(ki_lock_field $writer blocked_on.hint_pid)" = null ] &&
		[ "$(sed -n 's/^\.cycles=//p' "$KI_TMP/locks.flat")" = "[]" ]
}
ki_check "the writer's lock is the same i_rwsem, owned by $lockup (not a hint), no cycle" owner_ok
cat "$KI/locks" > "$KI_TMP/lockup.txt"
sed 's/^/# /' "$KI_TMP/lockup.txt"

# test_lockup's init returns -EAGAIN after time_secs: the module is freed.
wait $lockup
lockup=
wait $writer
writer=
grep -q '^test_lockup ' /proc/modules && gone=0 || gone=1
cat "$KI/locks.json" > "$KI_TMP/after.json" && "$KI_JSON" "$KI_TMP/after.json" > "$KI_TMP/locks.flat"
ki_check "issue 8 item 1: after test_lockup is gone the site is still test_lock+... [test_lockup]" \
	[ $gone -eq 1 -a "$(grep -c '"test_lock+0x[0-9a-f]*/0x[0-9a-f]* \[test_lockup\]"' "$KI_TMP/locks.flat")" -ge 1 ]
cat "$KI/locks" > "$KI_TMP/after.txt"
ki_check "issue 8 item 1: and no raw address in the text report" \
	[ "$(grep -c 'acquired at 0x' "$KI_TMP/after.txt")" -eq 0 ]

ktap_finished
