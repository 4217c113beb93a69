/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel build options kintrospect uses, in the order status shows them,
 * written once:
 *
 *   X(name in status, Kconfig option, level, what is lost without it)
 *
 * level: need (without it kintrospect cannot load), want (a report loses
 * what the text says), extra (the same, but the selftests do not exercise
 * it: the debug kernel leaves it out). config.c builds status's feature
 * table from this list; scripts/doctor reads it (one entry per line, the
 * text in one string without quotes or backslashes) to say what a kernel
 * build lacks; scripts/host-tests checks that selftests/kintrospect/config
 * and the debug kernel have every need and want option.
 */
#ifndef KINTROSPECT_FEATURES_H
#define KINTROSPECT_FEATURES_H

#define KINTROSPECT_FEATURES(X) \
	X(lockdep, LOCKDEP, want, "locks: no held locks and no lockdep class names (a lock is named by its symbol), 'lockdep no' in locks and lockdep: false in locks.json; deadlocks are still found among mutexes, semaphores and rwsems by their owners") \
	X(prove_locking, PROVE_LOCKING, want, "locks: lockdep's held-lock stacks are not kept (PROVE_LOCKING selects LOCKDEP)") \
	X(lock_stat, LOCK_STAT, want, "locks: held locks show no hold time (held_ns null)") \
	X(debug_spinlock, DEBUG_SPINLOCK, want, "locks: a spinlock's owner task and CPU are unknown, so a spinning waiter is not tied to its holder") \
	X(debug_mutexes, DEBUG_MUTEXES, want, "locks: no debug checks on mutexes (blocked_on still names the mutex a task waits for)") \
	X(kmemleak, DEBUG_KMEMLEAK, want, "status shows kmemleak no; kintrospect's leak deltas do not need it, but you cannot cross-check them with kmemleak") \
	X(slub_debug, SLUB_DEBUG, want, "slab: no allocation sites, even when booted with slab_debug=U") \
	X(hung_task, DETECT_HUNG_TASK, want, "the watch records no hung-task events: the kernel's hung-task detector finds them") \
	X(hung_task_blocker, DETECT_HUNG_TASK_BLOCKER, want, "locks: a task blocked on a semaphore or rwsem is not seen as blocked, and a semaphore has no owner") \
	X(softlockup_detector, SOFTLOCKUP_DETECTOR, want, "status shows it off: no soft-lockup reports to cross-check a spinning CPU with") \
	X(hardlockup_detector, HARDLOCKUP_DETECTOR, want, "status shows it off: no hard-lockup reports to cross-check a CPU with interrupts off") \
	X(unwinder_orc, UNWINDER_ORC, want, "cpus frames come from another unwinder (frame pointers or a guess) and can be wrong") \
	X(kallsyms_all, KALLSYMS_ALL, want, "data symbols are not named: a lock without a lockdep name (every lock on a kernel without lockdep) has no name") \
	X(magic_sysrq, MAGIC_SYSRQ, need, "loading fails (EBUSY) when kintrospect registers its SysRq key") \
	X(tracepoints, TRACEPOINTS, want, "the watch records no hung-task events: it hooks the detector's sched_process_hang tracepoint") \
	X(kunit, KUNIT, want, "the KUnit test build (make kunit-module) cannot load; the module itself is not affected") \
	X(mem_alloc_profiling, MEM_ALLOC_PROFILING, extra, "slab: no /proc/allocinfo sites")

#endif /* KINTROSPECT_FEATURES_H */
