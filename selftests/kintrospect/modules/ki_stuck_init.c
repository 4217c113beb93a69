// SPDX-License-Identifier: GPL-2.0
/*
 * ki_stuck_init: a module whose init function stays on its CPU, in kernel
 * mode, for spin_ms milliseconds and then returns 0 - an insmod that hangs
 * for a while and then succeeds. When init returns, its init code is freed;
 * when the module is removed, the rest. A CPU snapshot taken while it spun
 * must still name its frames afterwards (issue 8 item 1).
 *
 * The spin runs with preemption disabled in slices of at most
 * KI_STUCK_INIT_SLICE_MS, with cond_resched() between them, so that RCU and
 * the lockup detectors stay quiet; it is bounded by KI_STUCK_INIT_MAX_MS.
 */
#include <linux/init.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/processor.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>

#define KI_STUCK_INIT_MAX_MS	15000
#define KI_STUCK_INIT_SLICE_MS	20

static unsigned int spin_ms = 2000;
module_param(spin_ms, uint, 0444);
MODULE_PARM_DESC(spin_ms, "How long init spins, in ms (default 2000, at most 15000)");

/* Spins until @until (ktime_get_ns()); in .init.text, freed after init. */
static noinline void __init ki_stuck_init_spin(u64 until)
{
	while (ktime_get_ns() < until)
		cpu_relax();
}

static int __init ki_stuck_init_init(void)
{
	u64 end, now;

	end = ktime_get_ns() +
	      (u64)min(spin_ms, KI_STUCK_INIT_MAX_MS) * NSEC_PER_MSEC;
	while ((now = ktime_get_ns()) < end) {
		preempt_disable();
		ki_stuck_init_spin(min(end, now + KI_STUCK_INIT_SLICE_MS * NSEC_PER_MSEC));
		preempt_enable();
		cond_resched();
	}
	return 0;
}

static void __exit ki_stuck_init_exit(void)
{
}

module_init(ki_stuck_init_init);
module_exit(ki_stuck_init_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kintrospect test: an init function that spins for a bounded time");
