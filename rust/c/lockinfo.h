/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kintrospect can tell of one lock from memory that may be freed or
 * changing under it: its name, its acquire site, its type and whether a task
 * holds it or waits for it (from the lock's own owner state), what a task is
 * blocked on. Shared by the
 * locks walk (locks.c) and the NMI handler (nmi.c); C only, the Rust side
 * never calls these. Everything here is fault-safe (copy_from_kernel_nofault)
 * and, except the naming functions, callable in NMI context.
 */
#ifndef KINTROSPECT_LOCKINFO_H
#define KINTROSPECT_LOCKINFO_H

#include "symbols.h"

#include <linux/types.h>

struct lockdep_map;
struct task_struct;

/* Owner flag bits: kernel/locking/mutex.h MUTEX_FLAGS, rwsem.c RWSEM_OWNER_FLAGS_MASK. */
#define KINTROSPECT_MUTEX_OWNER_FLAGS	0x07UL
#define KINTROSPECT_RWSEM_OWNER_FLAGS	0x03UL
/* kernel/locking/rwsem.c: the owner is (was) a reader; "just a hint". */
#define KINTROSPECT_RWSEM_READER_OWNED	(1UL << 0)

/*
 * What one entry of a task's lockdep held-lock stack is to the task. lockdep
 * records an acquisition before the task waits for the lock, so an entry is
 * only a lock being acquired or held; the lock's own owner state tells which,
 * where kintrospect can identify the lock's type.
 */
enum kintrospect_entry_state {
	KINTROSPECT_ENTRY_HELD,		/* the lock says the task holds it */
	KINTROSPECT_ENTRY_WAIT,		/* the lock says the task does not hold it: it waits */
	KINTROSPECT_ENTRY_MAYBE,	/* acquiring or held: the lock cannot tell */
};

/* One lockdep entry of a task, as kintrospect_entry_decide() found it. */
struct kintrospect_entry {
	u32 state;		/* enum kintrospect_entry_state */
	/*
	 * enum kintrospect_lock_kind: for HELD and MAYBE what lockdep's wait
	 * type tells (kintrospect_lock_kind()); for WAIT the lock's own type
	 * and the mode asked for (mutex, rwsem-write, rwlock-read, ...).
	 */
	u32 kind;
	const void *lock;	/* the lock (the map's container), or the map */
	unsigned long owner;	/* WAIT: its owner task, 0 unknown; never dereferenced */
	s32 owner_cpu;		/* WAIT on a spinlock or rwlock: its owner's CPU, else -1 */
	bool owner_hint;	/* @owner is a reader of an rwsem: a hint, not the owner */
	bool magic_bad;		/* a spinlock whose DEBUG_SPINLOCK magic is wrong */
	bool spin_held;		/* HELD by DEBUG_SPINLOCK's owner: true even with lockdep off */
};

unsigned long kintrospect_read_ulong(const void *addr);
const char *kintrospect_map_name(const struct lockdep_map *map);
void kintrospect_entry_decide(const struct lockdep_map *map, u32 read,
			      const struct task_struct *p,
			      struct kintrospect_entry *e);
u32 kintrospect_lock_kind(bool is_spin, u8 wait_type);
u32 kintrospect_blocked_lock(struct task_struct *p, const void **lock);
const struct lockdep_map *kintrospect_lock_map(u32 kind, const void *lock);

/*
 * Naming: process context, or the snapshot trigger (atomic, never NMI).
 * @scratch is KSYM_SYMBOL_LEN bytes that only the caller uses meanwhile.
 */
void kintrospect_lock_name(char *dst, size_t len, char *scratch,
			   const char *lockdep_name, const void *lock, u32 *flags);

#endif /* KINTROSPECT_LOCKINFO_H */
