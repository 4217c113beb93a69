// SPDX-License-Identifier: GPL-2.0
/*
 * ki_slab_stall: a slab cache whose destruction waits for one CPU.
 *
 * At load, creates the cache "ki_slab_stall" and allocates and frees one
 * object on CPU @cpu, so that the object's slab stays cached on that CPU.
 * At unload, kmem_cache_destroy() then flushes that CPU's cached objects
 * with a work item queued on it, holding slab_mutex: while no kworker can
 * run on @cpu (a runaway real-time task monopolises it), the unload and
 * every reader of /proc/slabinfo wait - what any module unload or device
 * removal does on such a machine. Used by kintrospect_stall.sh; the wait
 * ends when the CPU is free again.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

static int cpu = 1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "CPU on which the cache keeps a slab (default 1)");

static struct kmem_cache *ki_cache;

static long ki_slab_stall_touch(void *unused)
{
	void *obj = kmem_cache_alloc(ki_cache, GFP_KERNEL);

	if (!obj)
		return -ENOMEM;
	kmem_cache_free(ki_cache, obj);
	return 0;
}

static int __init ki_slab_stall_init(void)
{
	long ret;

	if (cpu < 0 || cpu >= nr_cpu_ids || !cpu_online(cpu))
		return -EINVAL;
	ki_cache = kmem_cache_create("ki_slab_stall", 128, 0, SLAB_NO_MERGE, NULL);
	if (!ki_cache)
		return -ENOMEM;
	ret = work_on_cpu(cpu, ki_slab_stall_touch, NULL);
	if (ret) {
		kmem_cache_destroy(ki_cache);
		return ret;
	}
	return 0;
}

static void __exit ki_slab_stall_exit(void)
{
	kmem_cache_destroy(ki_cache);
}

module_init(ki_slab_stall_init);
module_exit(ki_slab_stall_exit);
MODULE_DESCRIPTION("kintrospect selftest helper: a slab cache destroyed across a stuck CPU");
MODULE_LICENSE("GPL");
