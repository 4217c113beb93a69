// SPDX-License-Identifier: GPL-2.0
/*
 * ki_cache_churn: creates and destroys slab caches in a loop, so that
 * /proc/slabinfo changes while it is being read.
 *
 * A kthread cycles through @nr slots: an empty slot gets a new cache
 * ("ki_churn_<slot>", never merged, so that each is its own slabinfo line
 * at the head of the cache list), a full one is destroyed. slabinfo is
 * generated a page at a time and re-seeks by position, so every create or
 * destroy between two pages of a reading shifts the caches after it: a
 * reader that does not cope lists a cache twice or skips one.
 *
 * Bounded: the loop stops after @duration_ms (then the thread waits for
 * unload); unload stops it at any moment and destroys what is left.
 *
 *   modprobe ki_cache_churn nr=50 duration_ms=60000
 */
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

#define KI_CHURN_MAX	256

static unsigned int nr = 50;
module_param(nr, uint, 0444);
MODULE_PARM_DESC(nr, "Caches cycled through, 1-256 (default 50)");

static unsigned int duration_ms = 60000;
module_param(duration_ms, uint, 0444);
MODULE_PARM_DESC(duration_ms, "Stop churning after this many ms, 1-600000 (default 60000)");

static unsigned long cycles;
module_param(cycles, ulong, 0444);
MODULE_PARM_DESC(cycles, "Caches created and destroyed so far (read-only)");

static struct kmem_cache *ki_churn_caches[KI_CHURN_MAX];
static struct task_struct *ki_churn_thread;

static void ki_churn_step(unsigned int slot)
{
	char name[32];

	if (ki_churn_caches[slot]) {
		kmem_cache_destroy(ki_churn_caches[slot]);
		ki_churn_caches[slot] = NULL;
		cycles++;
		return;
	}
	snprintf(name, sizeof(name), "ki_churn_%u", slot);
	ki_churn_caches[slot] = kmem_cache_create(name, 64 + 8 * slot, 0,
						  SLAB_NO_MERGE, NULL);
}

static int ki_churn_fn(void *unused)
{
	unsigned long end = jiffies + msecs_to_jiffies(duration_ms);
	unsigned int slot = 0;

	while (!kthread_should_stop() && time_before(jiffies, end)) {
		ki_churn_step(slot);
		slot = (slot + 1) % nr;
		cond_resched();
	}
	/* Done: wait for unload (never longer than a second at a time). */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int __init ki_cache_churn_init(void)
{
	if (!nr || nr > KI_CHURN_MAX || !duration_ms || duration_ms > 600000)
		return -EINVAL;
	ki_churn_thread = kthread_run(ki_churn_fn, NULL, "ki_cache_churn");
	return PTR_ERR_OR_ZERO(ki_churn_thread);
}

static void __exit ki_cache_churn_exit(void)
{
	unsigned int i;

	kthread_stop(ki_churn_thread);
	for (i = 0; i < KI_CHURN_MAX; i++)
		kmem_cache_destroy(ki_churn_caches[i]);
}

module_init(ki_cache_churn_init);
module_exit(ki_cache_churn_exit);
MODULE_DESCRIPTION("kintrospect selftest helper: slab caches created and destroyed in a loop");
MODULE_LICENSE("GPL");
