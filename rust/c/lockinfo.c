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
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

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
u8 kintrospect_map_wait_type(const struct lockdep_map *map)
{
	u8 wait_type = LD_WAIT_INV;

#ifdef CONFIG_LOCKDEP
	if (map && copy_from_kernel_nofault(&wait_type, &map->wait_type_inner,
					    sizeof(wait_type)))
		wait_type = LD_WAIT_INV;
#endif
	return wait_type;
}

/*
 * For a lockdep map of a spinning wait type: whether it is a raw_spinlock_t
 * (spinlock_t shares the layout) that @p holds or spins on, from the owner
 * DEBUG_SPINLOCK records. A live spinlock has the right magic. One with a
 * bad magic (never initialised, so its map is all zeroes too: wait type
 * LD_WAIT_INV; or corrupted) is recognised only as held by @p: locked, its
 * owner @p on a possible CPU. (Taken without contention, such a lock is not
 * even reported by DEBUG_SPINLOCK: only its slow path checks the magic.)
 * Other maps with these wait types (RCU's, workqueues') are not spinlocks.
 */
enum kintrospect_spin_state kintrospect_spin_state(const struct lockdep_map *map,
						   u8 wait_type,
						   const struct task_struct *p,
						   struct kintrospect_spin_rec *s)
{
#if defined(CONFIG_DEBUG_SPINLOCK) && defined(CONFIG_DEBUG_LOCK_ALLOC)
	const raw_spinlock_t *rl = container_of(map, raw_spinlock_t, dep_map);
	unsigned int magic, cpu, word;
	unsigned long owner;

	if (wait_type != LD_WAIT_SPIN && wait_type != LD_WAIT_CONFIG &&
	    wait_type != LD_WAIT_INV)
		return KINTROSPECT_NOT_SPIN;
	if (copy_from_kernel_nofault(&magic, &rl->magic, sizeof(magic)) ||
	    copy_from_kernel_nofault(&cpu, &rl->owner_cpu, sizeof(cpu)) ||
	    copy_from_kernel_nofault(&word, &rl->raw_lock, sizeof(word)))
		return KINTROSPECT_NOT_SPIN;
	owner = kintrospect_read_ulong(&rl->owner);
	if (owner == (unsigned long)SPINLOCK_OWNER_INIT)
		owner = 0;
	if (magic == SPINLOCK_MAGIC) {
		if (wait_type == LD_WAIT_INV)
			return KINTROSPECT_NOT_SPIN;
	} else if (magic == RWLOCK_MAGIC || !word || owner != (unsigned long)p ||
		   cpu >= nr_cpu_ids) {
		/* An rwlock_t has the same layout and its own magic. */
		return KINTROSPECT_NOT_SPIN;
	}
	s->lock = rl;
	s->owner = owner;
	s->owner_cpu = (s32)cpu;
	s->magic_bad = magic != SPINLOCK_MAGIC;
	return owner == (unsigned long)p ? KINTROSPECT_SPIN_HELD : KINTROSPECT_SPIN_WAIT;
#else
	return KINTROSPECT_NOT_SPIN;
#endif
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
 * Formats @addr as @fmt (%ps, %pS or %pB) into @dst (@len bytes),
 * through @scratch (KSYM_SYMBOL_LEN bytes: the whole text). A text too long
 * for @dst keeps its start, "..." and all of its tail ("+off/size [module]",
 * or " [module]"), so that a long Rust name is still read back (its start,
 * see demangle.rs) with its offset and module. Returns false, with @dst
 * empty, when kallsyms has no symbol for @addr: printk prints the raw
 * "0x..." then.
 */
bool kintrospect_symbol_text(char *dst, size_t len, char *scratch,
			     enum kintrospect_symbol_fmt fmt, unsigned long addr)
{
	static const char ellipsis[] = "...";
	const size_t room = len - 1, dots = sizeof(ellipsis) - 1;
	const char *from;
	size_t n, head, tail;

	switch (fmt) {
	case KINTROSPECT_SYM_NAME:
		n = scnprintf(scratch, KSYM_SYMBOL_LEN, "%ps", (void *)addr);
		break;
	case KINTROSPECT_SYM_IP:
		n = scnprintf(scratch, KSYM_SYMBOL_LEN, "%pS", (void *)addr);
		break;
	default:
		n = scnprintf(scratch, KSYM_SYMBOL_LEN, "%pB", (void *)addr);
		break;
	}
	if (!n || str_has_prefix(scratch, "0x")) {
		dst[0] = '\0';
		return false;
	}
	if (n <= room) {
		memcpy(dst, scratch, n + 1);
		return true;
	}
	from = strrchr(scratch, '+');
	if (!from)
		from = strstr(scratch, " [");
	tail = from ? n - (from - scratch) : 0;
	if (tail > room / 2)
		tail = 0;
	head = room - tail - dots;
	memcpy(dst, scratch, head);
	memcpy(dst + head, ellipsis, dots);
	memcpy(dst + head + dots, scratch + n - tail, tail);
	dst[room] = '\0';
	return true;
}

/*
 * Names @addr as kintrospect_symbol_text() does. When kallsyms has no symbol
 * for it, @dst is left empty and @unresolved is added to @flags, so that the
 * reader's kptr_restrict rights decide later whether the address may be
 * shown.
 */
void kintrospect_symbol_name(char *dst, size_t len, char *scratch,
			     enum kintrospect_symbol_fmt fmt, unsigned long addr,
			     u32 *flags, u32 unresolved)
{
	if (!kintrospect_symbol_text(dst, len, scratch, fmt, addr))
		*flags |= unresolved;
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
