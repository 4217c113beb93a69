// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel debug features kintrospect can use, as this kernel was built.
 * Reported in the status file so that a user sees at once what the lock and
 * slab reports can and cannot tell on this machine.
 */
#include <linux/kconfig.h>
#include <linux/utsname.h>

#include "kintrospect.h"

#define FEAT(cfg, bit) (IS_ENABLED(cfg) ? (bit) : 0)

u32 kintrospect_features(void)
{
	return FEAT(CONFIG_LOCKDEP, KINTROSPECT_FEAT_LOCKDEP) |
	       FEAT(CONFIG_PROVE_LOCKING, KINTROSPECT_FEAT_PROVE_LOCKING) |
	       FEAT(CONFIG_LOCK_STAT, KINTROSPECT_FEAT_LOCK_STAT) |
	       FEAT(CONFIG_DEBUG_SPINLOCK, KINTROSPECT_FEAT_DEBUG_SPINLOCK) |
	       FEAT(CONFIG_DEBUG_MUTEXES, KINTROSPECT_FEAT_DEBUG_MUTEXES) |
	       FEAT(CONFIG_DEBUG_KMEMLEAK, KINTROSPECT_FEAT_KMEMLEAK) |
	       FEAT(CONFIG_SLUB_DEBUG, KINTROSPECT_FEAT_SLUB_DEBUG) |
	       FEAT(CONFIG_DETECT_HUNG_TASK, KINTROSPECT_FEAT_HUNG_TASK) |
	       FEAT(CONFIG_DETECT_HUNG_TASK_BLOCKER, KINTROSPECT_FEAT_HUNG_TASK_BLOCKER) |
	       FEAT(CONFIG_SOFTLOCKUP_DETECTOR, KINTROSPECT_FEAT_SOFTLOCKUP) |
	       FEAT(CONFIG_HARDLOCKUP_DETECTOR, KINTROSPECT_FEAT_HARDLOCKUP) |
	       FEAT(CONFIG_UNWINDER_ORC, KINTROSPECT_FEAT_UNWINDER_ORC) |
	       FEAT(CONFIG_KALLSYMS_ALL, KINTROSPECT_FEAT_KALLSYMS_ALL) |
	       FEAT(CONFIG_MAGIC_SYSRQ, KINTROSPECT_FEAT_MAGIC_SYSRQ) |
	       FEAT(CONFIG_KUNIT, KINTROSPECT_FEAT_KUNIT);
}

/* The running kernel's release (uname -r). */
const char *kintrospect_kernel_release(void)
{
	return utsname()->release;
}
