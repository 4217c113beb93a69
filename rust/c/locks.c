// SPDX-License-Identifier: GPL-2.0
/*
 * Lock-holder records: who holds which lock and who waits for whom.
 *
 * Walks every thread under RCU and records, for the threads that hold or
 * wait for a lock:
 *  - lockdep's held-lock stack (CONFIG_LOCKDEP): name, read/write, acquire
 *    site, hold time (CONFIG_LOCK_STAT); once lockdep has turned itself off
 *    (debug_locks == 0) the stacks are frozen, and only the spinlocks a
 *    thread provably holds now are kept;
 *  - what the thread is blocked on: task->blocked_on (a mutex), else the
 *    hung-task blocker record (mutex, semaphore, rwsem reader or writer),
 *    with the owner the lock records, flagged as a hint where it is one (a
 *    semaphore's last holder, a reader-owned rwsem's owner);
 *  - whether each lockdep entry is held or waited for, from the lock's own
 *    owner state (lockinfo.c kintrospect_entry_decide(): lockdep records an
 *    acquisition before the wait, so a spinner, a mutex or rwsem waiter
 *    spinning or asleep killably, a percpu rw-semaphore or rwlock_t waiter
 *    is on its stack too): a waited-for entry is the thread's wait, with the
 *    lock's owner; one the lock cannot decide is flagged "acquiring or
 *    held"; a spinlock's bad magic (never initialised, or corrupted) is
 *    flagged.
 *
 * Names and acquire sites are symbolised here, when the snapshot is taken:
 * a module may unload, or init code be freed, before the report is read. A
 * lock without a lockdep name is named by the symbol of its address; what
 * has no symbol is flagged, so that the reader's kptr_restrict rights
 * decide whether its raw address is shown.
 *
 * Everything read from another thread, and every lock and name it points
 * to, is read with copy_from_kernel_nofault(): the thread may be running,
 * and the lock may be freed under us. Owner pointers are never dereferenced:
 * they are matched against the thread list, as kernel/hung_task.c does; so
 * are the threads of a candidate deadlock, whose edges are read again after
 * the walk (kintrospect_locks_confirm()). All output is bounded by the
 * caller's arrays; what does not fit is counted. What one lock is (its kind,
 * name, spinlock owner) is decided by lockinfo.c, which the NMI handler
 * shares for the running task's own locks. Process context only
 * (allocates, sorts).
 */
#include <linux/bsearch.h>
#include <linux/debug_locks.h>
#include <linux/kallsyms.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/semaphore.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/hung_task.h>

#include "kintrospect.h"
#include "lockinfo.h"

/* A symbol's whole text, before it is cut to fit a record: one walk at a time. */
static DEFINE_MUTEX(collect_mutex);
static char collect_symbol[KSYM_SYMBOL_LEN];

/* What a sleeping thread waits for, from its blocked_on and blocker records. */
struct blocked_rec {
	u32 kind;			/* enum kintrospect_lock_kind */
	bool hint;			/* @owner is a hint, not the owner */
	const void *lock;
	const struct lockdep_map *map;	/* lockdep's map of @lock, or NULL */
	unsigned long owner;		/* a task_struct, never dereferenced */
};

/* Reads what @p is blocked on now (kind NONE: nothing). */
static void read_blocked(struct task_struct *p, struct blocked_rec *r)
{
	unsigned long owner;

	memset(r, 0, sizeof(*r));
	r->kind = kintrospect_blocked_lock(p, &r->lock);
	r->map = kintrospect_lock_map(r->kind, r->lock);

	switch (r->kind) {
	case KINTROSPECT_LOCK_NONE:
		return;
	case KINTROSPECT_LOCK_MUTEX:
		owner = kintrospect_read_ulong(&((struct mutex *)r->lock)->owner);
		r->owner = owner & ~KINTROSPECT_MUTEX_OWNER_FLAGS;
		break;
	case KINTROSPECT_LOCK_SEMAPHORE:
		/*
		 * Set by every down(), cleared by up() only when the caller is
		 * that last holder: a semaphore released by another task (an
		 * event, I/O completion) keeps a stale value.
		 */
#ifdef CONFIG_DETECT_HUNG_TASK_BLOCKER
		r->owner = kintrospect_read_ulong(&((struct semaphore *)r->lock)->last_holder);
#endif
		r->hint = true;
		break;
	default:
		owner = kintrospect_read_ulong(&((struct rw_semaphore *)r->lock)->owner);
		r->owner = owner & ~KINTROSPECT_RWSEM_OWNER_FLAGS;
		/* Reader-owned: the last reader to take it, maybe gone since. */
		r->hint = owner & KINTROSPECT_RWSEM_READER_OWNED;
		break;
	}
	/*
	 * A mutex or rwsem "owned" by its waiter is in its acquire or hand-off
	 * window: it is taking the lock, not waiting for itself.
	 */
	if (r->owner == (unsigned long)p && !r->hint)
		r->owner = 0;
}

/*
 * Fills what @p is blocked on into @t; returns the lockdep map of that lock
 * (so that lockdep's record of it is not taken for a held lock), or NULL.
 */
static const struct lockdep_map *blocked_on(struct task_struct *p,
					    struct kintrospect_task *t)
{
	struct blocked_rec r;

	read_blocked(p, &r);
	if (r.kind == KINTROSPECT_LOCK_NONE)
		return NULL;
	t->blocked_kind = r.kind;
	t->blocked_lock = (unsigned long)r.lock;
	t->blocked_owner = r.owner;
	t->blocked_map = (unsigned long)r.map;
	if (r.hint)
		t->blocked_flags |= KINTROSPECT_LOCK_F_OWNER_HINT;
	kintrospect_lock_name(t->blocked_name, sizeof(t->blocked_name),
			      collect_symbol, kintrospect_map_name(r.map), r.lock,
			      &t->blocked_flags);
	return r.map;
}

#ifdef CONFIG_LOCKDEP
/*
 * How long the lockdep entry @hl has waited for its lock, or 0 (unknown):
 * lock_contended() stamps it when the wait starts (CONFIG_LOCK_STAT, with the
 * lock_stat sysctl on, its default), with the waiting CPU's local_clock().
 */
static u64 wait_ns(const struct held_lock *hl, u64 now)
{
#ifdef CONFIG_LOCK_STAT
	if (hl->waittime_stamp && now > hl->waittime_stamp)
		return now - hl->waittime_stamp;
#endif
	return 0;
}

/* Makes the lock of lockdep entry @hl, which @e says @p waits for, @t's wait. */
static void stack_wait(struct kintrospect_task *t, const struct held_lock *hl,
		       const struct lockdep_map *map,
		       const struct kintrospect_entry *e, u64 now)
{
	t->blocked_kind = e->kind;
	t->blocked_lock = (unsigned long)e->lock;
	t->blocked_owner = e->owner;
	t->blocked_owner_cpu = e->owner_cpu;
	t->blocked_map = (unsigned long)hl->instance;
	t->blocked_ns = wait_ns(hl, now);
	t->blocked_flags = 0;
	if (e->magic_bad)
		t->blocked_flags |= KINTROSPECT_LOCK_F_MAGIC_BAD;
	if (e->owner_hint)
		t->blocked_flags |= KINTROSPECT_LOCK_F_OWNER_HINT;
	t->blocked_name[0] = '\0';
	kintrospect_lock_name(t->blocked_name, sizeof(t->blocked_name),
			      collect_symbol, map->name, hl->instance,
			      &t->blocked_flags);
}
#endif

/*
 * Records @p's lockdep held-lock stack; returns the number recorded. An
 * entry is a lock being acquired or held (lockdep records it before the
 * wait): kintrospect_entry_decide() tells which from the lock itself. The
 * innermost entry @p waits for becomes @t's wait, unless @p's own records
 * (blocked_on, the blocker) named one; what the lock cannot decide is
 * recorded flagged "acquiring or held". With lockdep off (@frozen) the
 * stack is what it was when lockdep stopped: only the spinlocks whose
 * DEBUG_SPINLOCK owner is @p now are still true.
 */
static u32 held_locks(struct task_struct *p, u32 task_idx,
		      const struct lockdep_map *waited_map,
		      struct kintrospect_task *t, bool frozen,
		      struct kintrospect_held *held, u32 max_held, u32 *dropped)
{
	u32 n = 0;
#ifdef CONFIG_LOCKDEP
	int depth = READ_ONCE(p->lockdep_depth), i;
	bool records = t->blocked_kind != KINTROSPECT_LOCK_NONE;
	/*
	 * holdtime_stamp is the acquiring CPU's local_clock(): with an unstable
	 * sched_clock the hold time is off by the clocks' skew (documented).
	 */
	u64 now = local_clock();

	depth = clamp_t(int, depth, 0, MAX_LOCK_DEPTH);
	for (i = 0; i < depth; i++) {
		struct kintrospect_held *h = &held[n];
		struct kintrospect_entry e;
		struct held_lock hl;
		struct lockdep_map map;

		if (copy_from_kernel_nofault(&hl, &p->held_locks[i], sizeof(hl)) ||
		    !hl.instance ||
		    copy_from_kernel_nofault(&map, hl.instance, sizeof(map)))
			continue;
		/* Lockdep's record of the lock @p is blocked on: not held. */
		if (hl.instance == waited_map) {
			if (!frozen)
				t->blocked_ns = wait_ns(&hl, now);
			continue;
		}
		kintrospect_entry_decide(hl.instance, hl.read, p, &e);
		if (e.state == KINTROSPECT_ENTRY_WAIT) {
			/* A waiter, not a holder. */
			if (!frozen && !records)
				stack_wait(t, &hl, &map, &e, now);
			continue;
		}
		if (frozen && !e.spin_held)
			continue;
		if (n == max_held) {
			(*dropped)++;
			continue;
		}
		memset(h, 0, sizeof(*h));
		h->task = task_idx;
		h->acquire_ip = hl.acquire_ip;
		h->lock_addr = (unsigned long)hl.instance;
		h->mode = min_t(u32, hl.read, KINTROSPECT_HELD_RECURSIVE_READ);
		h->kind = e.kind;
		if (e.magic_bad)
			h->flags |= KINTROSPECT_LOCK_F_MAGIC_BAD;
		if (e.state == KINTROSPECT_ENTRY_MAYBE)
			h->flags |= KINTROSPECT_LOCK_F_MAYBE_WAITING;
#ifdef CONFIG_LOCK_STAT
		if (hl.holdtime_stamp && now > hl.holdtime_stamp)
			h->held_ns = now - hl.holdtime_stamp;
#endif
		kintrospect_lock_name(h->name, sizeof(h->name), collect_symbol,
				      map.name, hl.instance, &h->flags);
		/* Now: a module that unloads, or init code, has no name later. */
		kintrospect_symbol_name(h->site, sizeof(h->site), collect_symbol,
					KINTROSPECT_SYM_RETURN, hl.acquire_ip, &h->flags,
					KINTROSPECT_LOCK_F_SITE_UNRESOLVED);
		n++;
	}
#endif
	return n;
}

/*
 * Whether @p may hold or wait for a lock. A mutex or rwsem waiter is on
 * lockdep's stack already (it is acquired there before the wait), so with
 * lockdep only a semaphore waiter needs the blocker record.
 */
static bool holds_or_waits(struct task_struct *p)
{
#ifdef CONFIG_LOCKDEP
	if (READ_ONCE(p->lockdep_depth))
		return true;
#else
	if (READ_ONCE(p->blocked_on))
		return true;
#endif
#ifdef CONFIG_DETECT_HUNG_TASK_BLOCKER
	if (READ_ONCE(p->blocker))
		return true;
#endif
	return false;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

struct ptr_pid {
	unsigned long ptr;
	s32 pid;
};

static int cmp_ptr_pid(const void *a, const void *b)
{
	return cmp_ulong(&((const struct ptr_pid *)a)->ptr,
			 &((const struct ptr_pid *)b)->ptr);
}

/* The pid of the thread at @ptr among the @n sorted @map entries, or -1. */
static s32 lookup_pid(const struct ptr_pid *map, u32 n, unsigned long ptr)
{
	struct ptr_pid key = { .ptr = ptr };
	const struct ptr_pid *hit;

	hit = n ? bsearch(&key, map, n, sizeof(*map), cmp_ptr_pid) : NULL;
	return hit ? hit->pid : -1;
}

/*
 * Turns the owner pointers recorded in @tasks into pids, without ever
 * dereferencing them: first against the recorded threads themselves (an
 * owner usually holds locks, so it was recorded), then, for owners still
 * unknown, against a second walk of the thread list. An owner that is not
 * found (exited, or never a task) gets pid -1.
 *
 * Return: 0, or -ENOMEM: then no owner is known, and a report built on that
 * would show no edge - a deadlock as none - so the snapshot must fail.
 */
static int resolve_owners(struct kintrospect_task *tasks, u32 nr)
{
	struct task_struct *g, *p;
	struct ptr_pid *map;
	u32 i, n = 0, missing = 0;

	/* Most snapshots have no owner to look up: no map to build. */
	for (i = 0; i < nr; i++)
		tasks[i].blocked_owner_pid = -1;
	for (i = 0; i < nr && !tasks[i].blocked_owner; i++)
		;
	if (i == nr)
		return 0;
	map = kvmalloc_array(nr, sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		map[i].ptr = tasks[i].self;
		map[i].pid = tasks[i].pid;
	}
	sort(map, nr, sizeof(*map), cmp_ptr_pid, NULL);
	for (i = 0; i < nr; i++) {
		if (tasks[i].blocked_owner) {
			tasks[i].blocked_owner_pid = lookup_pid(map, nr, tasks[i].blocked_owner);
			if (tasks[i].blocked_owner_pid < 0)
				missing++;
		}
	}

	if (missing) {
		/* Reuse the map for the owners still unknown. */
		for (i = 0; i < nr; i++)
			if (tasks[i].blocked_owner && tasks[i].blocked_owner_pid < 0)
				map[n++] = (struct ptr_pid){ .ptr = tasks[i].blocked_owner, .pid = -1 };
		sort(map, n, sizeof(*map), cmp_ptr_pid, NULL);
		rcu_read_lock();
		for_each_process_thread(g, p) {
			struct ptr_pid key = { .ptr = (unsigned long)p }, *hit;

			hit = bsearch(&key, map, n, sizeof(*map), cmp_ptr_pid);
			/* Duplicates: mark every equal entry around the hit. */
			for (; hit && hit > map && hit[-1].ptr == key.ptr; hit--)
				;
			for (; hit && hit < map + n && hit->ptr == key.ptr; hit++)
				hit->pid = p->pid;
		}
		rcu_read_unlock();
		for (i = 0; i < nr; i++)
			if (tasks[i].blocked_owner && tasks[i].blocked_owner_pid < 0)
				tasks[i].blocked_owner_pid =
					lookup_pid(map, n, tasks[i].blocked_owner);
	}

	kvfree(map);
	return 0;
}

/* Where kintrospect_locks_collect() records, and how much room is left. */
struct collect_state {
	struct kintrospect_task *tasks;
	struct kintrospect_held *held;
	u32 max_tasks, max_held, nt, nh;
	bool frozen;
	struct kintrospect_locks_info *info;
};

/*
 * Records thread @p, which holds_or_waits(). Out of line: the walk itself
 * stays as tight as lockdep's own debug_show_all_locks() (its per-thread
 * cost is the cost of a snapshot with many threads), and only the few
 * threads recorded pay for their record (zeroed on the stack: auto-var
 * init).
 */
static noinline void record_thread(struct task_struct *p, struct collect_state *c)
{
	struct kintrospect_task t;
	const struct lockdep_map *waited;
	u32 dropped = 0, n;

	memset(&t, 0, sizeof(t));
	t.blocked_owner_cpu = -1;
	waited = blocked_on(p, &t);
	if (c->nt == c->max_tasks) {
		c->info->tasks_dropped++;
		return;
	}
	n = held_locks(p, c->nt, waited, &t, c->frozen, c->held + c->nh,
		       c->max_held - c->nh, &dropped);
	if (!n && t.blocked_kind == KINTROSPECT_LOCK_NONE) {
		/* A holder whose every lock was dropped is a dropped thread. */
		if (dropped) {
			c->info->tasks_dropped++;
			c->info->held_dropped += dropped;
		}
		return;
	}
	t.self = (unsigned long)p;
	t.pid = p->pid;
	t.tgid = p->tgid;
	t.cpu = task_cpu(p);
	t.state = task_state_to_char(p);
	t.nr_held = n;
	t.held_dropped = dropped;
	memcpy(t.comm, p->comm, sizeof(t.comm));
	t.comm[sizeof(t.comm) - 1] = '\0';
	c->tasks[c->nt++] = t;
	c->nh += n;
	c->info->held_dropped += dropped;
}

/**
 * kintrospect_locks_collect() - record who holds and who waits for locks
 * @tasks: room for @max_tasks thread records (threads with no lock and not
 *	blocked on one are left out)
 * @max_tasks: capacity of @tasks
 * @held: room for @max_held held-lock records, all threads together
 * @max_held: capacity of @held
 * @info: receives the counts
 *
 * A thread or lock that does not fit is counted in @info (tasks_dropped,
 * held_dropped), so that the caller can retry with more room.
 *
 * Return: 0, or -ENOMEM when the owners could not be resolved (the records
 * are then not to be reported). Process context; sleeps (allocates).
 */
int kintrospect_locks_collect(struct kintrospect_task *tasks, u32 max_tasks,
			      struct kintrospect_held *held, u32 max_held,
			      struct kintrospect_locks_info *info)
{
	struct collect_state c = {
		.tasks = tasks, .held = held,
		.max_tasks = max_tasks, .max_held = max_held, .info = info,
	};
	struct task_struct *g, *p;
	u32 nr_threads = 0;

	memset(info, 0, sizeof(*info));
	info->lockdep = IS_ENABLED(CONFIG_LOCKDEP);
	/*
	 * Once lockdep has turned itself off (its first report, a table
	 * overflow, debug_locks_off()), lock_acquire() and lock_release()
	 * return early: every held-lock stack is frozen as it was then.
	 */
	c.frozen = info->lockdep && !READ_ONCE(debug_locks);
	info->lockdep_off = c.frozen;
	info->taken_ns = ktime_get_ns();

	mutex_lock(&collect_mutex);
	rcu_read_lock();
	for_each_process_thread(g, p) {
		nr_threads++;
		/* Most threads neither hold nor wait for a lock: look no further. */
		if (unlikely(holds_or_waits(p)))
			record_thread(p, &c);
	}
	rcu_read_unlock();
	mutex_unlock(&collect_mutex);

	info->nr_threads = nr_threads;
	info->nr_tasks = c.nt;
	info->nr_held = c.nh;
	return resolve_owners(tasks, c.nt);
}

/*
 * Whether live thread @p's lockdep stack still has the entry of the map @t
 * recorded, and the lock still says @p waits for it as @t recorded (same
 * lock, same owner, not a hint).
 */
static bool stack_edge_holds(struct task_struct *p, const struct kintrospect_task *t)
{
#ifdef CONFIG_LOCKDEP
	int depth = clamp_t(int, READ_ONCE(p->lockdep_depth), 0, MAX_LOCK_DEPTH), i;
	struct kintrospect_entry e;
	struct held_lock hl;

	for (i = depth - 1; i >= 0; i--) {
		if (copy_from_kernel_nofault(&hl, &p->held_locks[i], sizeof(hl)))
			return false;
		if ((unsigned long)hl.instance != t->blocked_map)
			continue;
		kintrospect_entry_decide(hl.instance, hl.read, p, &e);
		return e.state == KINTROSPECT_ENTRY_WAIT && e.kind == t->blocked_kind &&
		       (unsigned long)e.lock == t->blocked_lock &&
		       e.owner == t->blocked_owner && !e.owner_hint;
	}
#endif
	return false;
}

/* Whether live thread @p still waits as @t recorded it. */
static bool edge_holds(struct task_struct *p, const struct kintrospect_task *t)
{
	struct blocked_rec r;

	read_blocked(p, &r);
	if (r.kind == t->blocked_kind && (unsigned long)r.lock == t->blocked_lock)
		return !r.hint && r.owner == t->blocked_owner &&
		       READ_ONCE(p->__state) != TASK_RUNNING;
	/*
	 * A wait found on the lockdep stack (kintrospect_entry_decide()): the
	 * lock must still say so; a spinner must still be on a CPU.
	 */
	switch (t->blocked_kind) {
	case KINTROSPECT_LOCK_SPIN:
	case KINTROSPECT_LOCK_RWLOCK_READ:
	case KINTROSPECT_LOCK_RWLOCK_WRITE:
		if (!READ_ONCE(p->on_cpu))
			return false;
		break;
	}
	return READ_ONCE(debug_locks) && stack_edge_holds(p, t);
}

/**
 * kintrospect_locks_confirm() - re-read the waits-for edges of some threads
 * @tasks: the records of a kintrospect_locks_collect()
 * @which: indexes into @tasks of the @nr threads to check
 * @confirmed: receives, for each of them, whether it still waits for the
 *	same lock, held by the same owner, and is still not running
 * @nr: number of threads to check
 *
 * The threads are found again by walking the thread list (a recorded thread
 * may have exited: its record is never dereferenced), then read again with
 * copy_from_kernel_nofault(). A cycle is a deadlock only if every edge of it
 * is the same after the walk: one walk of all threads is not atomic.
 *
 * Return: the number of edges confirmed. Process context.
 */
u32 kintrospect_locks_confirm(const struct kintrospect_task *tasks,
			      const u32 *which, u8 *confirmed, u32 nr)
{
	struct task_struct *g, *p;
	u32 k, n = 0;

	memset(confirmed, 0, nr);
	rcu_read_lock();
	for_each_process_thread(g, p) {
		for (k = 0; k < nr; k++) {
			const struct kintrospect_task *t = &tasks[which[k]];

			if (t->self != (unsigned long)p || confirmed[k])
				continue;
			confirmed[k] = t->blocked_owner && edge_holds(p, t);
			n += confirmed[k];
		}
	}
	rcu_read_unlock();
	return n;
}
