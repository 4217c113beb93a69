/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kintrospect can tell of one lock from memory that may be freed or
 * changing under it: its name, its acquire site, whether it is a spinlock
 * and who owns it (DEBUG_SPINLOCK), what a task is blocked on. Shared by the
 * locks walk (locks.c) and the NMI handler (nmi.c); C only, the Rust side
 * never calls these. Everything here is fault-safe (copy_from_kernel_nofault)
 * and, except the naming functions, callable in NMI context.
 */
#ifndef KINTROSPECT_LOCKINFO_H
#define KINTROSPECT_LOCKINFO_H

#include <linux/types.h>

struct lockdep_map;
struct task_struct;

/* What a lockdep map is to a task, as DEBUG_SPINLOCK tells. */
enum kintrospect_spin_state {
	KINTROSPECT_NOT_SPIN,	/* not a spinlock (or no DEBUG_SPINLOCK) */
	KINTROSPECT_SPIN_HELD,	/* a spinlock the task owns */
	KINTROSPECT_SPIN_WAIT,	/* a spinlock someone else owns: the task spins on it */
};

/* A spinlock's DEBUG_SPINLOCK state. */
struct kintrospect_spin_rec {
	const void *lock;	/* the raw_spinlock_t */
	unsigned long owner;	/* a task_struct, never dereferenced */
	s32 owner_cpu;
	bool magic_bad;
};

unsigned long kintrospect_read_ulong(const void *addr);
const char *kintrospect_map_name(const struct lockdep_map *map);
u8 kintrospect_map_wait_type(const struct lockdep_map *map);
enum kintrospect_spin_state kintrospect_spin_state(const struct lockdep_map *map,
						   u8 wait_type,
						   const struct task_struct *p,
						   struct kintrospect_spin_rec *s);
u32 kintrospect_lock_kind(bool is_spin, u8 wait_type);
u32 kintrospect_blocked_lock(struct task_struct *p, const void **lock);
const struct lockdep_map *kintrospect_lock_map(u32 kind, const void *lock);

/*
 * Naming: process context, or the snapshot trigger (atomic, never NMI).
 * @scratch is KSYM_SYMBOL_LEN bytes that only the caller uses meanwhile.
 */
enum kintrospect_symbol_fmt {
	KINTROSPECT_SYM_NAME,		/* %ps: "name [module]" */
	KINTROSPECT_SYM_IP,		/* %pS: an interrupted ip */
	KINTROSPECT_SYM_RETURN,		/* %pB: a return address, a call site */
};

bool kintrospect_symbol_text(char *dst, size_t len, char *scratch,
			     enum kintrospect_symbol_fmt fmt, unsigned long addr);
void kintrospect_symbol_name(char *dst, size_t len, char *scratch,
			     enum kintrospect_symbol_fmt fmt, unsigned long addr,
			     u32 *flags, u32 unresolved);
void kintrospect_lock_name(char *dst, size_t len, char *scratch,
			   const char *lockdep_name, const void *lock, u32 *flags);

#endif /* KINTROSPECT_LOCKINFO_H */
