// SPDX-License-Identifier: GPL-2.0
/*
 * What kintrospect was loaded with and on: the module parameters, the kernel
 * debug features it can use as this kernel was built, and the kernel
 * release. Reported in the status file so that a user sees at once what the
 * lock and slab reports can and cannot tell on this machine.
 *
 * The parameters are declared in C rather than in the Rust module! block so
 * that they are visible read-only under /sys/module/kintrospect/parameters/
 * and so that the SysRq key can be given as a character (sysrq_key=x). They
 * are read once, into struct kintrospect_params, and checked on the Rust
 * side (rust/bridge/config.rs).
 */
#include <linux/kconfig.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/utsname.h>

#include "kintrospect.h"

static unsigned int nmi_timeout_ms = 100;
module_param(nmi_timeout_ms, uint, 0444);
MODULE_PARM_DESC(nmi_timeout_ms,
		 "How long a CPU snapshot waits for the other CPUs' NMIs, 1-10000 ms (default 100)");

static char sysrq_key[2] = "x";
module_param_string(sysrq_key, sysrq_key, sizeof(sysrq_key), 0444);
MODULE_PARM_DESC(sysrq_key, "SysRq key that takes a snapshot (default x)");

static bool test_paths;
module_param(test_paths, bool, 0444);
MODULE_PARM_DESC(test_paths, "Create the test/ directory with the spin-forever test path (default 0)");

static unsigned int spin_timeout_ms = 5000;
module_param(spin_timeout_ms, uint, 0444);
MODULE_PARM_DESC(spin_timeout_ms,
		 "A test spin ends by itself after this long, 1-15000 ms, with irqs off at most 8000 (default 5000)");

static unsigned int slab_interval_ms;
module_param(slab_interval_ms, uint, 0444);
MODULE_PARM_DESC(slab_interval_ms,
		 "Take a slab sample every this many ms for the trend, 0 = off, else 100-3600000 (default 0)");

static unsigned int slab_trend_samples = 10;
module_param(slab_trend_samples, uint, 0444);
MODULE_PARM_DESC(slab_trend_samples,
		 "K: slab sample intervals kept per cache for the trend, 2-64 (default 10)");

static unsigned int slab_trend_min_growth = 8;
module_param(slab_trend_min_growth, uint, 0444);
MODULE_PARM_DESC(slab_trend_min_growth,
		 "M: a cache that grew in at least M of the last K intervals is a suspect, 1-K (default 8)");

static unsigned int stuck_ms = 1000;
module_param(stuck_ms, uint, 0444);
MODULE_PARM_DESC(stuck_ms,
		 "The report calls a CPU stuck after this long on one task in kernel mode, 1-3600000 ms (default 1000)");

static unsigned int watch_interval_ms;
module_param(watch_interval_ms, uint, 0444);
MODULE_PARM_DESC(watch_interval_ms,
		 "The watch (flight recorder) samples every this many ms, 0 = off, else 100-3600000 (default 0)");

static unsigned int watch_events = 16;
module_param(watch_events, uint, 0444);
MODULE_PARM_DESC(watch_events,
		 "Events the watch keeps; the oldest is dropped, 2-64 (default 16)");

static char persist[KINTROSPECT_PERSIST_NAME_LEN];
module_param_string(persist, persist, sizeof(persist), 0444);
MODULE_PARM_DESC(persist,
		 "Keep the watch's events in the reserve_mem region of this name, to be read after a reboot (default none)");

/* Reads every module parameter into @p. */
void kintrospect_params_read(struct kintrospect_params *p)
{
	p->nmi_timeout_ms = nmi_timeout_ms;
	p->spin_timeout_ms = spin_timeout_ms;
	p->slab_interval_ms = slab_interval_ms;
	p->slab_trend_samples = slab_trend_samples;
	p->slab_trend_min_growth = slab_trend_min_growth;
	p->stuck_ms = stuck_ms;
	p->watch_interval_ms = watch_interval_ms;
	p->watch_events = watch_events;
	p->sysrq_key = sysrq_key[0];
	p->test_paths = test_paths;
	strscpy(p->persist, persist);
}

/* The kernel debug features kintrospect can use, in the order status shows them. */
#define FEATURE(name, cfg) { name, IS_ENABLED(cfg) }

static const struct kintrospect_feature kintrospect_feature_table[] = {
	FEATURE("lockdep", CONFIG_LOCKDEP),
	FEATURE("prove_locking", CONFIG_PROVE_LOCKING),
	FEATURE("lock_stat", CONFIG_LOCK_STAT),
	FEATURE("debug_spinlock", CONFIG_DEBUG_SPINLOCK),
	FEATURE("debug_mutexes", CONFIG_DEBUG_MUTEXES),
	FEATURE("kmemleak", CONFIG_DEBUG_KMEMLEAK),
	FEATURE("slub_debug", CONFIG_SLUB_DEBUG),
	FEATURE("hung_task", CONFIG_DETECT_HUNG_TASK),
	FEATURE("hung_task_blocker", CONFIG_DETECT_HUNG_TASK_BLOCKER),
	FEATURE("softlockup_detector", CONFIG_SOFTLOCKUP_DETECTOR),
	FEATURE("hardlockup_detector", CONFIG_HARDLOCKUP_DETECTOR),
	FEATURE("unwinder_orc", CONFIG_UNWINDER_ORC),
	FEATURE("kallsyms_all", CONFIG_KALLSYMS_ALL),
	FEATURE("magic_sysrq", CONFIG_MAGIC_SYSRQ),
	FEATURE("tracepoints", CONFIG_TRACEPOINTS),
	FEATURE("kunit", CONFIG_KUNIT),
};

/**
 * kintrospect_features() - the kernel debug features table
 * @nr: receives the number of entries
 *
 * Return: the table, static.
 */
const struct kintrospect_feature *kintrospect_features(u32 *nr)
{
	*nr = ARRAY_SIZE(kintrospect_feature_table);
	return kintrospect_feature_table;
}

/* The running kernel's release (uname -r). */
const char *kintrospect_kernel_release(void)
{
	return utsname()->release;
}
