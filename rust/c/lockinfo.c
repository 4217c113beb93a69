// SPDX-License-Identifier: GPL-2.0
/*
 * What kintrospect can tell of one lock: see lockinfo.h.
 *
 * A lock read here may belong to another task, be freed or reused under the
 * reader: every read of it goes through copy_from_kernel_nofault(), and an
 * owner pointer is only ever compared, never dereferenced. The NMI handler
 * uses the reading functions for the interrupted task's own locks, so they
 * take no lock, allocate nothing and never sleep.
 */
#include <linux/debug_locks.h>
#include <linux/hung_task.h>
#include <linux/kallsyms.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/percpu-rwsem.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "kintrospect.h"
#include "lockinfo.h"

/* A word at @addr, or 0 when it cannot be read. */
unsigned long kintrospect_read_ulong(const void *addr)
{
	unsigned long v;

	return copy_from_kernel_nofault(&v, addr, sizeof(v)) ? 0 : v;
}

/* The name pointer of the lockdep map at @map, or NULL. */
const char *kintrospect_map_name(const struct lockdep_map *map)
{
	const char *name = NULL;

#ifdef CONFIG_LOCKDEP
	if (map && copy_from_kernel_nofault(&name, &map->name, sizeof(name)))
		name = NULL;
#endif
	return name;
}

/* The inner wait type of the lockdep map at @map (LD_WAIT_INV if unreadable). */
static u8 map_wait_type(const struct lockdep_map *map)
{
	u8 wait_type = LD_WAIT_INV;

#ifdef CONFIG_LOCKDEP
	if (map && copy_from_kernel_nofault(&wait_type, &map->wait_type_inner,
					    sizeof(wait_type)))
		wait_type = LD_WAIT_INV;
#endif
	return wait_type;
}

/* What a lockdep map is to a task, as DEBUG_SPINLOCK tells. */
enum spin_state {
	NOT_SPIN,	/* not a spinlock (or no DEBUG_SPINLOCK) */
	SPIN_HELD,	/* a spinlock the task owns */
	SPIN_WAIT,	/* a spinlock someone else owns: the task spins on it */
};

/*
 * For a lockdep map of a spinning wait type: whether it is a raw_spinlock_t
 * (spinlock_t shares the layout) that @p holds or spins on, from the owner
 * DEBUG_SPINLOCK records; fills @e's owner, CPU and magic. A live spinlock
 * has the right magic. One with a bad magic (never initialised, so its map
 * is all zeroes too: wait type LD_WAIT_INV; or corrupted) is recognised only
 * as held by @p: locked, its owner @p on a possible CPU. (Taken without
 * contention, such a lock is not even reported by DEBUG_SPINLOCK: only its
 * slow path checks the magic.) Other maps with these wait types (RCU's,
 * workqueues', an rwlock_t's: see rwlock_decide()) are not spinlocks.
 */
static enum spin_state spin_state(const struct lockdep_map *map, u8 wait_type,
				  const struct task_struct *p,
				  struct kintrospect_entry *e)
{
#if defined(CONFIG_DEBUG_SPINLOCK) && defined(CONFIG_DEBUG_LOCK_ALLOC)
	const raw_spinlock_t *rl = container_of(map, raw_spinlock_t, dep_map);
	unsigned int magic, cpu, word;
	unsigned long owner;

	if (wait_type != LD_WAIT_SPIN && wait_type != LD_WAIT_CONFIG &&
	    wait_type != LD_WAIT_INV)
		return NOT_SPIN;
	if (copy_from_kernel_nofault(&magic, &rl->magic, sizeof(magic)) ||
	    copy_from_kernel_nofault(&cpu, &rl->owner_cpu, sizeof(cpu)) ||
	    copy_from_kernel_nofault(&word, &rl->raw_lock, sizeof(word)))
		return NOT_SPIN;
	owner = kintrospect_read_ulong(&rl->owner);
	if (owner == (unsigned long)SPINLOCK_OWNER_INIT)
		owner = 0;
	if (magic == SPINLOCK_MAGIC) {
		if (wait_type == LD_WAIT_INV)
			return NOT_SPIN;
	} else if (!word || owner != (unsigned long)p || cpu >= nr_cpu_ids) {
		return NOT_SPIN;
	}
	e->lock = rl;
	e->owner = owner;
	e->owner_cpu = (s32)cpu;
	e->magic_bad = magic != SPINLOCK_MAGIC;
	return owner == (unsigned long)p ? SPIN_HELD : SPIN_WAIT;
#else
	return NOT_SPIN;
#endif
}

/* Marks @e waited for, as @kind, owned by @owner (0: unknown). */
static void __maybe_unused set_wait(struct kintrospect_entry *e, u32 kind,
				    unsigned long owner, bool hint)
{
	e->state = KINTROSPECT_ENTRY_WAIT;
	e->kind = kind;
	e->owner = owner;
	e->owner_hint = hint && owner;
}

/*
 * A mutex (DEBUG_MUTEXES: its magic is its own address) is held by the task
 * its owner word names: by @p, or @p does not hold it and waits for it -
 * spinning on a running owner, or asleep (mutex.c acquires lockdep's map
 * before it spins, and sets blocked_on only once it sleeps). Owned by @p with
 * the hand-off flags, it is @p's to pick up: held. Returns whether @map is a
 * mutex's.
 */
#if defined(CONFIG_DEBUG_MUTEXES) && defined(CONFIG_DEBUG_RWSEMS) && \
	defined(CONFIG_DEBUG_LOCK_ALLOC) && !defined(CONFIG_PREEMPT_RT)
/*
 * Both magics are the lock's own address, just before its map: read through
 * the wrong type, an rwsem's magic matches only if the maps sit at the same
 * offset.
 */
static_assert(offsetof(struct mutex, dep_map) != offsetof(struct rw_semaphore, dep_map));
#endif

static bool mutex_decide(const struct lockdep_map *map,
			 const struct task_struct *p,
			 struct kintrospect_entry *e)
{
#if defined(CONFIG_DEBUG_MUTEXES) && defined(CONFIG_DEBUG_LOCK_ALLOC)
	const struct mutex *m = container_of(map, struct mutex, dep_map);
	unsigned long owner;
	void *magic;

	if (copy_from_kernel_nofault(&magic, &m->magic, sizeof(magic)) ||
	    magic != m ||
	    copy_from_kernel_nofault(&owner, &m->owner, sizeof(owner)))
		return false;
	owner &= ~KINTROSPECT_MUTEX_OWNER_FLAGS;
	e->lock = m;
	if (owner == (unsigned long)p)
		e->state = KINTROSPECT_ENTRY_HELD;
	else
		set_wait(e, KINTROSPECT_LOCK_MUTEX, owner, false);
	return true;
#else
	return false;
#endif
}

/*
 * An rwsem (DEBUG_RWSEMS: its magic is its own address), from its count
 * (include/linux/rwsem.h: writer bit 0, readers from bit 8 up to the
 * READFAIL bit) and owner (rwsem.c: a writer, or the last reader with
 * RWSEM_READER_OWNED). Write-locked: held for write by @p iff its owner is
 * @p; anyone else waits (a reader cannot hold it beside a writer). Not
 * write-locked: a writer waits (for the readers: the owner is a reader, a
 * hint), and so does a reader when no reader holds it. A reader of a
 * reader-owned rwsem that no writer holds is a holder or a waiter (queued
 * behind a writer): MAYBE. Returns whether @map is an rwsem's.
 */
static bool rwsem_decide(const struct lockdep_map *map, u32 read,
			 const struct task_struct *p,
			 struct kintrospect_entry *e)
{
#if defined(CONFIG_DEBUG_RWSEMS) && defined(CONFIG_DEBUG_LOCK_ALLOC) && \
	!defined(CONFIG_PREEMPT_RT)
	const struct rw_semaphore *sem = container_of(map, struct rw_semaphore, dep_map);
	const unsigned long readers = GENMASK(BITS_PER_LONG - 2, 8);
	unsigned long count, owner, task;
	u32 kind = read ? KINTROSPECT_LOCK_RWSEM_READ : KINTROSPECT_LOCK_RWSEM_WRITE;
	bool by_reader;
	void *magic;

	if (copy_from_kernel_nofault(&magic, &sem->magic, sizeof(magic)) ||
	    magic != sem ||
	    copy_from_kernel_nofault(&count, &sem->count, sizeof(count)) ||
	    copy_from_kernel_nofault(&owner, &sem->owner, sizeof(owner)))
		return false;
	task = owner & ~KINTROSPECT_RWSEM_OWNER_FLAGS;
	by_reader = owner & KINTROSPECT_RWSEM_READER_OWNED;
	e->lock = sem;
	e->state = KINTROSPECT_ENTRY_MAYBE;
	if (count & RWSEM_WRITER_LOCKED) {
		if (!read && !by_reader && task == (unsigned long)p)
			e->state = KINTROSPECT_ENTRY_HELD;
		else if (read || (!by_reader && task))
			/* Its writer is recorded right after it is locked. */
			set_wait(e, kind, by_reader ? 0 : task, false);
	} else if (!read) {
		set_wait(e, kind, by_reader ? task : 0, true);
	} else if (!(count & readers)) {
		set_wait(e, kind, 0, false);
	}
	return true;
#else
	return false;
#endif
}

/*
 * An rwlock_t (DEBUG_SPINLOCK: RWLOCK_MAGIC; its layout differs from a
 * raw_spinlock_t's), from its qrwlock word (asm-generic/qrwlock.h: the
 * writer's byte, readers from bit 9) and the writer DEBUG_SPINLOCK records
 * once it has the lock (spinlock_debug.c; readers are not recorded).
 * Written by @p: held. Write-locked by another: anyone waits, for that
 * writer (a reader cannot hold it beside a writer). Not write-locked: a
 * writer waits (for the readers), and so does a reader when no reader holds
 * it. Write-locked with no writer recorded yet (it may be @p, just
 * locked), or a reader beside other readers: MAYBE. Returns whether @map is
 * an rwlock_t's.
 */
static bool rwlock_decide(const struct lockdep_map *map, u32 read,
			  const struct task_struct *p,
			  struct kintrospect_entry *e)
{
#if defined(CONFIG_DEBUG_SPINLOCK) && defined(CONFIG_DEBUG_LOCK_ALLOC) && \
	defined(CONFIG_QUEUED_RWLOCKS) && !defined(CONFIG_PREEMPT_RT)
	const rwlock_t *rw = container_of(map, rwlock_t, dep_map);
	u32 kind = read ? KINTROSPECT_LOCK_RWLOCK_READ : KINTROSPECT_LOCK_RWLOCK_WRITE;
	unsigned int magic, cpu, cnts;
	unsigned long owner;
	bool wlocked;

	if (copy_from_kernel_nofault(&magic, &rw->magic, sizeof(magic)) ||
	    magic != RWLOCK_MAGIC ||
	    copy_from_kernel_nofault(&cpu, &rw->owner_cpu, sizeof(cpu)) ||
	    copy_from_kernel_nofault(&cnts, &rw->raw_lock.cnts, sizeof(cnts)) ||
	    copy_from_kernel_nofault(&owner, &rw->owner, sizeof(owner)))
		return false;
	if (owner == (unsigned long)SPINLOCK_OWNER_INIT)
		owner = 0;
	wlocked = cnts & _QW_LOCKED;
	e->lock = rw;
	e->state = KINTROSPECT_ENTRY_MAYBE;
	if (!read && owner == (unsigned long)p) {
		e->state = KINTROSPECT_ENTRY_HELD;
	} else if (wlocked && (owner || read)) {
		set_wait(e, kind, owner, false);
		if (owner && cpu < nr_cpu_ids)
			e->owner_cpu = (s32)cpu;
	} else if (!wlocked && (!read || !(cnts >> _QR_SHIFT))) {
		set_wait(e, kind, 0, false);
	}
	return true;
#else
	return false;
#endif
}

/* kernel/rcu/sync.c: the states of an rcu_sync (private there). */
#define RCU_SYNC_GP_PASSED	2
#define RCU_SYNC_GP_REPLAY	4
/* Entries of a wait queue looked at, at most. */
#define WAIT_QUEUE_MAX		32

/* Whether @p is one of the first WAIT_QUEUE_MAX waiters queued on @wq. */
static bool __maybe_unused queued_on(const struct wait_queue_head *wq,
				     const struct task_struct *p)
{
	const struct list_head *head = &wq->head, *pos;
	struct wait_queue_entry w;
	int n;

	if (copy_from_kernel_nofault(&pos, &head->next, sizeof(pos)))
		return false;
	for (n = 0; n < WAIT_QUEUE_MAX && pos != head; n++) {
		if (copy_from_kernel_nofault(&w, list_entry(pos, struct wait_queue_entry, entry),
					     sizeof(w)))
			return false;
		if (w.private == p)
			return true;
		pos = w.entry.next;
	}
	return false;
}

/*
 * A percpu rw-semaphore (sb_writers, cpu_hotplug_lock, ...) has no owner and
 * no magic. Its lockdep map is initialised with no wait type and follows two
 * wait queues whose spinlocks carry DEBUG_SPINLOCK's magic, beside a block
 * word of 0 or 1 and an rcu_sync state: that layout identifies it. A task
 * queued on its waiters (percpu-rwsem.c percpu_rwsem_wait(): the entry's
 * private is the task until it is woken with the lock), or the writer
 * waiting for the readers to leave, waits. A reader with no writer
 * blocking holds it; a writer holds it once it blocks readers, the readers
 * have left (every CPU's count is 0) and its RCU grace period has passed.
 * Anything else is MAYBE. Returns whether @map is a percpu rw-semaphore's.
 */
static bool percpu_rwsem_decide(const struct lockdep_map *map, u32 read,
				const struct task_struct *p,
				struct kintrospect_entry *e)
{
#if defined(CONFIG_DEBUG_SPINLOCK) && defined(CONFIG_DEBUG_LOCK_ALLOC) && \
	!defined(CONFIG_PREEMPT_RT)
	const struct percpu_rw_semaphore *sem =
		container_of(map, struct percpu_rw_semaphore, dep_map);
	u32 kind = read ? KINTROSPECT_LOCK_PERCPU_RWSEM_READ :
			  KINTROSPECT_LOCK_PERCPU_RWSEM_WRITE;
	unsigned int magic_q, magic_gp, sum = 0, n;
	unsigned int __percpu *counts;
	struct task_struct *writer;
	int block, gp_state, cpu;

	if (copy_from_kernel_nofault(&magic_q, &sem->waiters.lock.rlock.magic,
				     sizeof(magic_q)) ||
	    copy_from_kernel_nofault(&magic_gp, &sem->rss.gp_wait.lock.rlock.magic,
				     sizeof(magic_gp)) ||
	    copy_from_kernel_nofault(&block, &sem->block, sizeof(block)) ||
	    copy_from_kernel_nofault(&gp_state, &sem->rss.gp_state, sizeof(gp_state)) ||
	    copy_from_kernel_nofault(&writer, &sem->writer.task, sizeof(writer)) ||
	    copy_from_kernel_nofault(&counts, &sem->read_count, sizeof(counts)))
		return false;
	if (magic_q != SPINLOCK_MAGIC || magic_gp != SPINLOCK_MAGIC ||
	    (block != 0 && block != 1) || gp_state < 0 ||
	    gp_state > RCU_SYNC_GP_REPLAY)
		return false;
	e->lock = sem;
	e->state = KINTROSPECT_ENTRY_MAYBE;
	if (queued_on(&sem->waiters, p) || (!read && writer == p)) {
		set_wait(e, kind, 0, false);
		return true;
	}
	if (read) {
		if (!block)
			e->state = KINTROSPECT_ENTRY_HELD;
		return true;
	}
	if (!block || writer || gp_state < RCU_SYNC_GP_PASSED)
		return true;
	for_each_possible_cpu(cpu) {
		if (copy_from_kernel_nofault(&n, per_cpu_ptr(counts, cpu), sizeof(n)))
			return true;
		sum += n;
	}
	if (!sum)
		e->state = KINTROSPECT_ENTRY_HELD;
	return true;
#else
	return false;
#endif
}

/**
 * kintrospect_entry_decide() - what one lockdep entry of a task is to it
 * @map: the entry's lockdep map (held_lock.instance)
 * @read: the entry's mode (held_lock.read: 0 write, else read)
 * @p: the task whose entry it is
 * @e: receives the answer
 *
 * lockdep records an acquisition before the task waits: a spinner, a mutex
 * or rwsem waiter spinning on its owner or asleep (down_*_killable(),
 * down_*_interruptible() leave no blocker record), a percpu rw-semaphore or
 * rwlock_t waiter all have the lock on their stack. The lock's own state
 * decides where its type can be identified: a spinlock or rwlock_t
 * (DEBUG_SPINLOCK), a mutex (DEBUG_MUTEXES), an rwsem (DEBUG_RWSEMS), a
 * percpu rw-semaphore (by its layout). A lock of another type (RCU's,
 * workqueues', local locks, ...) or one its state cannot decide is MAYBE:
 * acquiring or held. Every read is fault-safe; owners are only compared.
 * No lock, no allocation: NMI-safe.
 */
void kintrospect_entry_decide(const struct lockdep_map *map, u32 read,
			      const struct task_struct *p,
			      struct kintrospect_entry *e)
{
	u8 wait_type = map_wait_type(map);
	enum spin_state st;
	bool known = false;

	memset(e, 0, sizeof(*e));
	e->owner_cpu = -1;
	e->lock = map;
	/* An rwlock_t first: read as a raw_spinlock_t, its fields are garbage. */
	if (wait_type == LD_WAIT_CONFIG || wait_type == LD_WAIT_SPIN)
		known = rwlock_decide(map, read, p, e);
	if (!known) {
		st = spin_state(map, wait_type, p, e);
		if (st == SPIN_WAIT) {
			e->state = KINTROSPECT_ENTRY_WAIT;
			e->kind = KINTROSPECT_LOCK_SPIN;
			return;
		}
		if (st == SPIN_HELD) {
			e->state = KINTROSPECT_ENTRY_HELD;
			e->kind = KINTROSPECT_LOCK_SPIN;
			e->spin_held = true;
			return;
		}
	}
	if (!known && wait_type == LD_WAIT_SLEEP)
		known = mutex_decide(map, p, e) || rwsem_decide(map, read, p, e);
	if (!known && wait_type == LD_WAIT_INV)
		known = percpu_rwsem_decide(map, read, p, e);
	if (!known) {
		e->lock = map;
		e->state = KINTROSPECT_ENTRY_MAYBE;
	}
	if (e->state != KINTROSPECT_ENTRY_WAIT)
		e->kind = kintrospect_lock_kind(false, wait_type);
}

/*
 * What a held lock is (enum kintrospect_lock_kind): with DEBUG_SPINLOCK a
 * spinlock is known by its owner record (@is_spin; other maps of the
 * spinning wait types, RCU's among them, are not spinlocks); without it, by
 * lockdep's wait type alone.
 */
u32 kintrospect_lock_kind(bool is_spin, u8 wait_type)
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

/*
 * What @p is blocked on now, from its own records (task->blocked_on, a
 * mutex; else the hung-task blocker record: mutex, semaphore, rwsem reader
 * or writer): returns the enum kintrospect_lock_kind (KINTROSPECT_LOCK_NONE:
 * nothing) and puts the lock in @lock. Reads only @p's fields.
 */
u32 kintrospect_blocked_lock(struct task_struct *p, const void **lock)
{
	struct mutex *m = READ_ONCE(p->blocked_on);
	unsigned long blocker = 0;

	*lock = m;
	if (m)
		return KINTROSPECT_LOCK_MUTEX;
#ifdef CONFIG_DETECT_HUNG_TASK_BLOCKER
	blocker = READ_ONCE(p->blocker);
#endif
	if (!blocker)
		return KINTROSPECT_LOCK_NONE;
	*lock = hung_task_blocker_to_lock(blocker);
	if (!*lock)
		return KINTROSPECT_LOCK_NONE;
	switch (hung_task_get_blocker_type(blocker)) {
	case BLOCKER_TYPE_MUTEX:
		return KINTROSPECT_LOCK_MUTEX;
	case BLOCKER_TYPE_SEM:
		return KINTROSPECT_LOCK_SEMAPHORE;
	case BLOCKER_TYPE_RWSEM_READER:
		return KINTROSPECT_LOCK_RWSEM_READ;
	case BLOCKER_TYPE_RWSEM_WRITER:
		return KINTROSPECT_LOCK_RWSEM_WRITE;
	}
	*lock = NULL;
	return KINTROSPECT_LOCK_NONE;
}

/*
 * The lockdep map inside the lock @lock of kind @kind (no memory is read),
 * or NULL: a semaphore has none, nor anything without DEBUG_LOCK_ALLOC.
 */
const struct lockdep_map *kintrospect_lock_map(u32 kind, const void *lock)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	if (!lock)
		return NULL;
	switch (kind) {
	case KINTROSPECT_LOCK_SPIN:
		return &((const raw_spinlock_t *)lock)->dep_map;
	case KINTROSPECT_LOCK_MUTEX:
		return &((const struct mutex *)lock)->dep_map;
	case KINTROSPECT_LOCK_RWSEM_READ:
	case KINTROSPECT_LOCK_RWSEM_WRITE:
		return &((const struct rw_semaphore *)lock)->dep_map;
	}
#endif
	return NULL;
}

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

/*
 * Names the lock at @lock: lockdep's name when its map has one, else the
 * symbol of the lock's address ("lockname [module]"), as lockdep itself names
 * a class by its key's symbol.
 */
void kintrospect_lock_name(char *dst, size_t len, char *scratch,
			   const char *lockdep_name, const void *lock, u32 *flags)
{
	if (lockdep_name) {
		copy_name(dst, len, lockdep_name);
		return;
	}
	kintrospect_symbol_name(dst, len, scratch, KINTROSPECT_SYM_NAME,
				(unsigned long)lock, flags,
				KINTROSPECT_LOCK_F_UNRESOLVED);
	if (dst[0])
		*flags |= KINTROSPECT_LOCK_F_ADDR_NAME;
}
