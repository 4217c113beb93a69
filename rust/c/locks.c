// SPDX-License-Identifier: GPL-2.0
/*
 * Lock-holder records: who holds which lock and who waits for whom.
 *
 * Walks every thread under RCU and records, for the threads that hold or
 * wait for a lock:
 *  - lockdep's held-lock stack (CONFIG_LOCKDEP): name, read/write, acquire
 *    site, hold time (CONFIG_LOCK_STAT);
 *  - what the thread is blocked on: task->blocked_on (a mutex), else the
 *    hung-task blocker record (mutex, semaphore, rwsem reader or writer);
 *  - for spinlocks, the owner recorded by CONFIG_DEBUG_SPINLOCK, which tells
 *    the holder from the threads spinning on the lock (lockdep lists a
 *    spinner, and a mutex waiter, as holding the lock before it waits).
 *
 * Everything read from another thread, and every lock and name it points
 * to, is read with copy_from_kernel_nofault(): the thread may be running,
 * and the lock may be freed under us. Owner pointers are never dereferenced:
 * they are matched against the thread list in a second walk, as
 * kernel/hung_task.c does. All output is bounded by the caller's arrays;
 * what does not fit is counted. Process context only (allocates, sorts).
 */
#include <linux/bsearch.h>
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

/* Owner flag bits: kernel/locking/mutex.h MUTEX_FLAGS, rwsem.c RWSEM_OWNER_FLAGS_MASK. */
#define MUTEX_OWNER_FLAGS	0x07UL
#define RWSEM_OWNER_FLAGS	0x03UL

/* Copies a NUL-terminated name from possibly freed memory; "?" on a fault. */
static void copy_name(char *dst, size_t len, const char *src)
{
	size_t i;

	if (!src || copy_from_kernel_nofault(dst, src, len)) {
		/* Maybe the name ends right before an unmapped page. */
		for (i = 0; src && i < len; i++) {
			if (copy_from_kernel_nofault(&dst[i], src + i, 1))
				break;
			if (!dst[i])
				return;
		}
		if (!src || i == 0) {
			strscpy(dst, "?", len);
			return;
		}
	}
	dst[len - 1] = '\0';
}

/* The lockdep name of the lock whose map is at @map. */
static void map_name(char *dst, size_t len, const struct lockdep_map *map)
{
#ifdef CONFIG_LOCKDEP
	const char *name = NULL;

	if (map && copy_from_kernel_nofault(&name, &map->name, sizeof(name)))
		name = NULL;
	if (name) {
		copy_name(dst, len, name);
		return;
	}
#endif
	dst[0] = '\0';
}

static unsigned long read_ulong(const void *addr)
{
	unsigned long v;

	return copy_from_kernel_nofault(&v, addr, sizeof(v)) ? 0 : v;
}

/*
 * Fills what @p is blocked on into @t; returns the lockdep map of that lock
 * (so that lockdep's record of it is not taken for a held lock), or NULL.
 */
static const struct lockdep_map *blocked_on(struct task_struct *p,
					    struct kintrospect_task *t)
{
	const struct lockdep_map *map = NULL;
	unsigned long blocker = 0, owner = 0;
	struct mutex *m = READ_ONCE(p->blocked_on);
	u32 kind = KINTROSPECT_LOCK_NONE;
	void *lock = m;

#ifdef CONFIG_DETECT_HUNG_TASK_BLOCKER
	blocker = READ_ONCE(p->blocker);
#endif
	if (m) {
		kind = KINTROSPECT_LOCK_MUTEX;
	} else if (blocker) {
		lock = hung_task_blocker_to_lock(blocker);
		switch (hung_task_get_blocker_type(blocker)) {
		case BLOCKER_TYPE_MUTEX:
			kind = KINTROSPECT_LOCK_MUTEX;
			break;
		case BLOCKER_TYPE_SEM:
			kind = KINTROSPECT_LOCK_SEMAPHORE;
			break;
		case BLOCKER_TYPE_RWSEM_READER:
			kind = KINTROSPECT_LOCK_RWSEM_READ;
			break;
		case BLOCKER_TYPE_RWSEM_WRITER:
			kind = KINTROSPECT_LOCK_RWSEM_WRITE;
			break;
		}
	}
	if (!lock || kind == KINTROSPECT_LOCK_NONE)
		return NULL;

	switch (kind) {
	case KINTROSPECT_LOCK_MUTEX:
		m = lock;
		owner = read_ulong(&m->owner) & ~MUTEX_OWNER_FLAGS;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
		map = &m->dep_map;
#endif
		break;
	case KINTROSPECT_LOCK_SEMAPHORE:
#ifdef CONFIG_DETECT_HUNG_TASK_BLOCKER
		owner = read_ulong(&((struct semaphore *)lock)->last_holder);
#endif
		break;
	default:
		owner = read_ulong(&((struct rw_semaphore *)lock)->owner) &
			~RWSEM_OWNER_FLAGS;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
		map = &((struct rw_semaphore *)lock)->dep_map;
#endif
		break;
	}
	t->blocked_kind = kind;
	t->blocked_owner = owner;
	map_name(t->blocked_name, sizeof(t->blocked_name), map);
	return map;
}

/*
 * For a spinlock: its DEBUG_SPINLOCK owner and owner CPU. Returns false when
 * @map is not the map of a live raw_spinlock_t (spinlock_t shares the layout).
 */
static bool spin_owner(const struct lockdep_map *map, u32 wait_type,
		       unsigned long *owner, s32 *owner_cpu)
{
#if defined(CONFIG_DEBUG_SPINLOCK) && defined(CONFIG_DEBUG_LOCK_ALLOC)
	const raw_spinlock_t *rl = container_of(map, raw_spinlock_t, dep_map);
	unsigned int magic, cpu;

	if (wait_type != LD_WAIT_SPIN && wait_type != LD_WAIT_CONFIG)
		return false;
	if (copy_from_kernel_nofault(&magic, &rl->magic, sizeof(magic)) ||
	    magic != SPINLOCK_MAGIC ||
	    copy_from_kernel_nofault(&cpu, &rl->owner_cpu, sizeof(cpu)))
		return false;
	*owner = read_ulong(&rl->owner);
	*owner_cpu = (s32)cpu;
	return true;
#else
	return false;
#endif
}

/*
 * What a held lock is: with DEBUG_SPINLOCK a spinlock is known by its magic
 * (other maps of the spinning wait types, RCU's among them, are not
 * spinlocks); without it, by lockdep's wait type alone.
 */
static u32 lock_kind(bool is_spin, u8 wait_type)
{
	if (is_spin)
		return KINTROSPECT_LOCK_SPIN;
	if (wait_type == LD_WAIT_SLEEP)
		return KINTROSPECT_LOCK_SLEEPING;
	if (!IS_ENABLED(CONFIG_DEBUG_SPINLOCK) &&
	    (wait_type == LD_WAIT_SPIN || wait_type == LD_WAIT_CONFIG))
		return KINTROSPECT_LOCK_SPIN;
	return KINTROSPECT_LOCK_OTHER;
}

/* Records @p's lockdep held-lock stack; returns the number recorded. */
static u32 held_locks(struct task_struct *p, u32 task_idx,
		      const struct lockdep_map *waited_map,
		      struct kintrospect_task *t,
		      struct kintrospect_held *held, u32 max_held, u32 *dropped)
{
	u32 n = 0;
#ifdef CONFIG_LOCKDEP
	int depth = READ_ONCE(p->lockdep_depth), i;
	u64 now = local_clock();

	depth = clamp_t(int, depth, 0, MAX_LOCK_DEPTH);
	for (i = 0; i < depth; i++) {
		struct kintrospect_held *h = &held[n];
		struct held_lock hl;
		struct lockdep_map map;
		unsigned long owner;
		s32 owner_cpu;
		bool is_spin;

		if (copy_from_kernel_nofault(&hl, &p->held_locks[i], sizeof(hl)) ||
		    !hl.instance ||
		    copy_from_kernel_nofault(&map, hl.instance, sizeof(map)))
			continue;
		/* Lockdep's record of the lock @p is blocked on: not held. */
		if (hl.instance == waited_map)
			continue;
		is_spin = spin_owner(hl.instance, map.wait_type_inner, &owner, &owner_cpu);
		if (is_spin && owner != (unsigned long)p) {
			/* Spinning on it: a waiter, not a holder. */
			if (t->blocked_kind == KINTROSPECT_LOCK_NONE) {
				t->blocked_kind = KINTROSPECT_LOCK_SPIN;
				t->blocked_owner = owner == (unsigned long)SPINLOCK_OWNER_INIT ? 0 : owner;
				t->blocked_owner_cpu = owner_cpu;
				copy_name(t->blocked_name, sizeof(t->blocked_name), map.name);
			}
			continue;
		}
		if (n == max_held) {
			(*dropped)++;
			continue;
		}
		memset(h, 0, sizeof(*h));
		h->task = task_idx;
		h->acquire_ip = hl.acquire_ip;
		h->mode = hl.read;
		h->kind = lock_kind(is_spin, map.wait_type_inner);
#ifdef CONFIG_LOCK_STAT
		if (hl.holdtime_stamp && now > hl.holdtime_stamp)
			h->held_ns = now - hl.holdtime_stamp;
#endif
		copy_name(h->name, sizeof(h->name), map.name);
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
 */
static void resolve_owners(struct kintrospect_task *tasks, u32 nr)
{
	struct ptr_pid *map = kvmalloc_array(max(nr, 1U), sizeof(*map), GFP_KERNEL);
	struct task_struct *g, *p;
	u32 i, n = 0, missing = 0;

	for (i = 0; map && i < nr; i++) {
		map[i].ptr = tasks[i].self;
		map[i].pid = tasks[i].pid;
	}
	if (map)
		sort(map, nr, sizeof(*map), cmp_ptr_pid, NULL);
	for (i = 0; i < nr; i++) {
		tasks[i].blocked_owner_pid = -1;
		if (map && tasks[i].blocked_owner) {
			tasks[i].blocked_owner_pid = lookup_pid(map, nr, tasks[i].blocked_owner);
			if (tasks[i].blocked_owner_pid < 0)
				missing++;
		}
	}

	if (missing && map) {
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

	/* The pointers have served their purpose; they are never shown. */
	for (i = 0; i < nr; i++) {
		tasks[i].self = 0;
		tasks[i].blocked_owner = 0;
	}
	kvfree(map);
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
 * Return: 0. Process context; sleeps (allocates).
 */
int kintrospect_locks_collect(struct kintrospect_task *tasks, u32 max_tasks,
			      struct kintrospect_held *held, u32 max_held,
			      struct kintrospect_locks_info *info)
{
	struct task_struct *g, *p;
	u32 nt = 0, nh = 0;

	memset(info, 0, sizeof(*info));
	info->lockdep = IS_ENABLED(CONFIG_LOCKDEP);
	info->taken_ns = ktime_get_ns();

	rcu_read_lock();
	for_each_process_thread(g, p) {
		struct kintrospect_task t;
		const struct lockdep_map *waited;
		u32 dropped = 0, n;

		info->nr_threads++;
		/* Most threads neither hold nor wait for a lock: look no further. */
		if (!holds_or_waits(p))
			continue;
		memset(&t, 0, sizeof(t));
		waited = blocked_on(p, &t);
		if (nt == max_tasks) {
			info->tasks_dropped++;
			continue;
		}
		n = held_locks(p, nt, waited, &t, held + nh, max_held - nh, &dropped);
		if (!n && t.blocked_kind == KINTROSPECT_LOCK_NONE)
			continue;
		t.self = (unsigned long)p;
		t.pid = p->pid;
		t.tgid = p->tgid;
		t.cpu = task_cpu(p);
		t.state = task_state_to_char(p);
		t.nr_held = n;
		t.held_dropped = dropped;
		if (t.blocked_kind != KINTROSPECT_LOCK_SPIN)
			t.blocked_owner_cpu = -1;
		memcpy(t.comm, p->comm, sizeof(t.comm));
		t.comm[sizeof(t.comm) - 1] = '\0';
		tasks[nt++] = t;
		nh += n;
		info->held_dropped += dropped;
	}
	rcu_read_unlock();

	resolve_owners(tasks, nt);
	info->nr_tasks = nt;
	info->nr_held = nh;
	return 0;
}
