// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect's slab part: reading the kernel's own slab reports, periodic
 * sampling, and the leak test path.
 *
 * Only exported interfaces: /proc/slabinfo, the SLUB debugfs alloc_traces
 * files and /proc/allocinfo are read with filp_open() + kernel_read(), the
 * same text userspace sees; struct kmem_cache and slab_caches (mm/slab.h)
 * are never touched. What the text means is the Rust side's (rust/slab.rs).
 */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "kintrospect.h"

/**
 * kintrospect_read_file() - read a whole (proc, debugfs) text file
 * @path: absolute path
 * @buf: where to put the content
 * @len: size of @buf
 * @out: set to the number of bytes read
 *
 * Return: 0 when the whole file fit, -EFBIG when @buf filled up first (the
 * first @len bytes are in @buf), or the negative errno of the open or read.
 */
int kintrospect_read_file(const char *path, char *buf, size_t len,
			  size_t *out)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t n;
	int ret = 0;

	*out = 0;
	file = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	while (*out < len) {
		n = kernel_read(file, buf + *out, len - *out, &pos);
		if (n < 0) {
			ret = n;
			break;
		}
		if (!n)
			break;
		*out += n;
	}
	if (!ret && *out == len) {
		char c;

		/* Full: see whether anything is left. */
		n = kernel_read(file, &c, 1, &pos);
		if (n > 0)
			ret = -EFBIG;
		else if (n < 0)
			ret = n;
	}
	filp_close(file, NULL);
	return ret;
}

/* The current time on the clock the CPU snapshots use, in ns. */
u64 kintrospect_now_ns(void)
{
	return ktime_get_ns();
}

/*
 * Periodic sampling: a self-rearming delayed work that calls the Rust side
 * (kintrospect_slab_tick()) in process context. cancel_delayed_work_sync()
 * stops a self-rearming work for good.
 */
static void kintrospect_slab_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(kintrospect_slab_work, kintrospect_slab_work_fn);
static const void *kintrospect_slab_data;
static unsigned long kintrospect_slab_delay;

static void kintrospect_slab_work_fn(struct work_struct *work)
{
	kintrospect_slab_tick(kintrospect_slab_data);
	schedule_delayed_work(&kintrospect_slab_work, kintrospect_slab_delay);
}

/**
 * kintrospect_slab_sampler_start() - sample every @interval_ms
 * @data: passed to kintrospect_slab_tick(); must stay valid until
 *	kintrospect_slab_sampler_stop() has returned
 * @interval_ms: the period, non-zero
 */
void kintrospect_slab_sampler_start(const void *data, u32 interval_ms)
{
	kintrospect_slab_data = data;
	kintrospect_slab_delay = max(msecs_to_jiffies(interval_ms), 1UL);
	schedule_delayed_work(&kintrospect_slab_work, kintrospect_slab_delay);
}

/* Stops the sampling; waits for a tick in progress. Sleeps. */
void kintrospect_slab_sampler_stop(void)
{
	cancel_delayed_work_sync(&kintrospect_slab_work);
	kintrospect_slab_data = NULL;
}

/*
 * The leak test path: objects from a module-owned cache, kept on purpose
 * until "free" or unload. The cache is never merged (SLAB_NO_MERGE), so
 * /proc/slabinfo lists it under its own name. SLAB_NOLEAKTRACE: the objects
 * stay referenced, so kmemleak could only add its own per-object
 * bookkeeping, a larger grower than the test leak itself. The objects are
 * chained through their first bytes: no bookkeeping is allocated.
 */
struct kintrospect_leak_obj {
	struct kintrospect_leak_obj *next;
	u8 payload[KINTROSPECT_LEAK_OBJ_SIZE - sizeof(void *)];
};

static_assert(sizeof(struct kintrospect_leak_obj) == KINTROSPECT_LEAK_OBJ_SIZE);

static struct kmem_cache *kintrospect_leak_cache;
static DEFINE_MUTEX(kintrospect_leak_lock);
static struct kintrospect_leak_obj *kintrospect_leak_head;
static u64 kintrospect_leak_nr;

/* Creates the kintrospect_leak cache. */
int kintrospect_leak_init(void)
{
	kintrospect_leak_cache =
		kmem_cache_create("kintrospect_leak", KINTROSPECT_LEAK_OBJ_SIZE,
				  0, SLAB_NO_MERGE | SLAB_NOLEAKTRACE, NULL);
	return kintrospect_leak_cache ? 0 : -ENOMEM;
}

/*
 * Kept out of line and named so that SLUB's alloc_traces (slab_debug=U)
 * shows this function as the allocation site. Called with the lock held.
 */
static noinline int kintrospect_test_leak_alloc(u32 nr)
{
	struct kintrospect_leak_obj *obj;
	u32 i;

	for (i = 0; i < nr; i++) {
		obj = kmem_cache_alloc(kintrospect_leak_cache, GFP_KERNEL);
		if (!obj)
			return -ENOMEM;
		obj->next = kintrospect_leak_head;
		kintrospect_leak_head = obj;
		kintrospect_leak_nr++;
		if (!(i % 1024))
			cond_resched();
	}
	return 0;
}

/**
 * kintrospect_leak_alloc() - allocate and keep @nr objects
 * @nr: how many, 1..KINTROSPECT_LEAK_MAX
 *
 * Return: 0, -EINVAL for a bad @nr, or -ENOMEM when an allocation failed;
 * the objects allocated before the failure are kept (and counted).
 */
int kintrospect_leak_alloc(u32 nr)
{
	int ret;

	if (!nr || nr > KINTROSPECT_LEAK_MAX)
		return -EINVAL;
	mutex_lock(&kintrospect_leak_lock);
	ret = kintrospect_test_leak_alloc(nr);
	mutex_unlock(&kintrospect_leak_lock);
	return ret;
}

/* Frees every kept object. */
void kintrospect_leak_free(void)
{
	struct kintrospect_leak_obj *obj;
	u64 i = 0;

	mutex_lock(&kintrospect_leak_lock);
	while ((obj = kintrospect_leak_head)) {
		kintrospect_leak_head = obj->next;
		kmem_cache_free(kintrospect_leak_cache, obj);
		if (!(++i % 1024))
			cond_resched();
	}
	kintrospect_leak_nr = 0;
	mutex_unlock(&kintrospect_leak_lock);
}

/* Number of objects kept. */
u64 kintrospect_leak_count(void)
{
	u64 nr;

	mutex_lock(&kintrospect_leak_lock);
	nr = kintrospect_leak_nr;
	mutex_unlock(&kintrospect_leak_lock);
	return nr;
}

/* Frees every kept object and destroys the cache (unload). */
void kintrospect_leak_exit(void)
{
	kintrospect_leak_free();
	kmem_cache_destroy(kintrospect_leak_cache);
	kintrospect_leak_cache = NULL;
}
