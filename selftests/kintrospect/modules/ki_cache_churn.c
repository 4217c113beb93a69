// SPDX-License-Identifier: GPL-2.0
/*
 * ki_cache_churn: creates and destroys slab caches in a loop, so that
 * /proc/slabinfo changes while it is being read.
 *
 @threads kthreads each cycle through their share of @nr slots: an empty
 * slot gets a new cache ("ki_churn_<slot>", never merged, so that each is
 * its own slabinfo line at the head of the cache list), a full one is
 * destroyed. slabinfo is generated a page at a time and re-seeks by
 * position, so every create or destroy between two pages of a reading shifts
 * the caches after it: a reader that does not cope lists a cache twice or
 * skips one. Several threads keep slab_mutex contended, so that one of them
 * takes it whenever a reader lets it go between two pages.
 *
 * Bounded: the loop stops after @duration_ms (then the thread waits for
 * unload); unload stops it at any moment and destroys what is left.
 *
 *   modprobe ki_cache_churn nr=100 threads=4 duration_ms=60000
 */
#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#define KI_CHURN_MAX	256
#define KI_CHURN_THREADS_MAX	16

static unsigned int nr = 50;
module_param(nr, uint, 0444);
MODULE_PARM_DESC(nr, "Caches cycled through, 1-256 (default 50)");

static unsigned int duration_ms = 60000;
module_param(duration_ms, uint, 0444);
MODULE_PARM_DESC(duration_ms, "Stop churning after this many ms, 1-600000 (default 60000)");

static unsigned int threads = 4;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "Threads churning, 1-16 and at most nr (default 4)");

static atomic_long_t ki_churn_cycles;

static struct kmem_cache *ki_churn_caches[KI_CHURN_MAX];
static struct task_struct *ki_churn_threads[KI_CHURN_THREADS_MAX];

/* Caches destroyed so far, read-only. */
static int ki_churn_cycles_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&ki_churn_cycles));
}

static const struct kernel_param_ops ki_churn_cycles_ops = {
	.get = ki_churn_cycles_get,
};
module_param_cb(cycles, &ki_churn_cycles_ops, NULL, 0444);
MODULE_PARM_DESC(cycles, "Caches created and destroyed so far (read-only)");

static void ki_churn_step(unsigned int slot)
{
	char name[32];

	if (ki_churn_caches[slot]) {
		kmem_cache_destroy(ki_churn_caches[slot]);
		ki_churn_caches[slot] = NULL;
		atomic_long_inc(&ki_churn_cycles);
		return;
	}
	snprintf(name, sizeof(name), "ki_churn_%u", slot);
	ki_churn_caches[slot] = kmem_cache_create(name, 64 + 8 * slot, 0,
						  SLAB_NO_MERGE, NULL);
}

/* Thread @arg owns the slots t, t + threads, t + 2 * threads, ... */
static int ki_churn_fn(void *arg)
{
	unsigned long end = jiffies + msecs_to_jiffies(duration_ms);
	unsigned int first = (unsigned long)arg;
	unsigned int slot = first;

	while (!kthread_should_stop() && time_before(jiffies, end)) {
		ki_churn_step(slot);
		slot += threads;
		if (slot >= nr)
			slot = first;
		cond_resched();
	}
	/* Done: wait for unload (never longer than a second at a time). */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static void ki_churn_stop(void)
{
	unsigned int i;

	for (i = 0; i < KI_CHURN_THREADS_MAX; i++) {
		if (ki_churn_threads[i])
			kthread_stop(ki_churn_threads[i]);
		ki_churn_threads[i] = NULL;
	}
	for (i = 0; i < KI_CHURN_MAX; i++) {
		kmem_cache_destroy(ki_churn_caches[i]);
		ki_churn_caches[i] = NULL;
	}
}

static int __init ki_cache_churn_init(void)
{
	struct task_struct *t;
	unsigned long i;

	if (!nr || nr > KI_CHURN_MAX || !duration_ms || duration_ms > 600000 ||
	    !threads || threads > KI_CHURN_THREADS_MAX || threads > nr)
		return -EINVAL;
	for (i = 0; i < threads; i++) {
		t = kthread_run(ki_churn_fn, (void *)i, "ki_cache_churn/%lu", i);
		if (IS_ERR(t)) {
			ki_churn_stop();
			return PTR_ERR(t);
		}
		ki_churn_threads[i] = t;
	}
	return 0;
}

static void __exit ki_cache_churn_exit(void)
{
	ki_churn_stop();
}

module_init(ki_cache_churn_init);
module_exit(ki_cache_churn_exit);
MODULE_DESCRIPTION("kintrospect selftest helper: slab caches created and destroyed in a loop");
MODULE_LICENSE("GPL");
