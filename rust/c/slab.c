// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect's slab part: reading the kernel's own slab reports, periodic
 * sampling, and the leak test path.
 *
 * Only exported interfaces: /proc/slabinfo, the SLUB debugfs alloc_traces
 * files and /proc/allocinfo are opened with file_open_root() and read through
 * their seq_file (seq_read_iter()), the same text userspace sees; struct kmem_cache and slab_caches (mm/slab.h)
 * are never touched. What the text means is the Rust side's (rust/slab.rs).
 */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/magic.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <linux/workqueue.h>

#include "kintrospect.h"

/*
 * Reads from a seq_file-backed file through the exported seq_read_iter()
 * with a kernel buffer. kernel_read() cannot be used: /proc/slabinfo and the
 * SLUB debugfs files implement ->read (seq_read) and no ->read_iter, and
 * __kernel_read() refuses those. procfs itself calls the seq_file directly
 * for a PROC_ENTRY_PERMANENT entry such as slabinfo; alloc_traces keeps all
 * it shows in the seq_file's private data, filled at open.
 */
static ssize_t kintrospect_seq_read(struct file *file, char *buf, size_t len,
				    loff_t *pos)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;
	struct kiocb kiocb;
	ssize_t n;

	init_sync_kiocb(&kiocb, file);
	kiocb.ki_pos = *pos;
	iov_iter_kvec(&iter, ITER_DEST, &iov, 1, len);
	n = seq_read_iter(&kiocb, &iter);
	if (n > 0)
		*pos = kiocb.ki_pos;
	return n;
}

/*
 * The directories the reports are opened from, looked up once at load in
 * the loading task's context. The periodic sampler runs in a kworker, whose
 * root is the initial rootfs, where /proc need not be mounted at all: it
 * opens relative to these instead (file_open_root()).
 */
static struct path kintrospect_proc_dir;
static struct path kintrospect_slab_dir;
static bool kintrospect_have_proc, kintrospect_have_slab_dir;

/**
 * kintrospect_slab_files_init() - find /proc and /sys/kernel/debug/slab
 *
 * Holds a reference to each (so neither can be unmounted while kintrospect
 * is loaded) until kintrospect_slab_files_exit(). Process context.
 *
 * Return: 0, or the error of looking up /proc; a missing SLUB debugfs
 * directory only means that allocation sites are not available.
 */
int kintrospect_slab_files_init(void)
{
	int ret;

	ret = kern_path("/proc", LOOKUP_FOLLOW | LOOKUP_DIRECTORY,
			&kintrospect_proc_dir);
	if (ret)
		return ret;
	kintrospect_have_proc = true;
	kintrospect_have_slab_dir =
		!kern_path("/sys/kernel/debug/slab",
			   LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &kintrospect_slab_dir);
	return 0;
}

/* Drops the references kintrospect_slab_files_init() took. */
void kintrospect_slab_files_exit(void)
{
	if (kintrospect_have_slab_dir)
		path_put(&kintrospect_slab_dir);
	if (kintrospect_have_proc)
		path_put(&kintrospect_proc_dir);
	kintrospect_have_slab_dir = false;
	kintrospect_have_proc = false;
}

/* Opens report @which (@cache's, for alloc_traces); checks its file system. */
static struct file *kintrospect_slab_open(u32 which, const char *cache)
{
	char name[KINTROSPECT_SLAB_PATH_MAX];
	const struct path *dir;
	unsigned long magic;
	struct file *file;

	switch (which) {
	case KINTROSPECT_SLAB_FILE_SLABINFO:
	case KINTROSPECT_SLAB_FILE_ALLOCINFO:
		if (!kintrospect_have_proc)
			return ERR_PTR(-ENOENT);
		dir = &kintrospect_proc_dir;
		magic = PROC_SUPER_MAGIC;
		strscpy(name, which == KINTROSPECT_SLAB_FILE_SLABINFO ?
			"slabinfo" : "allocinfo", sizeof(name));
		break;
	case KINTROSPECT_SLAB_FILE_ALLOC_TRACES:
		if (!kintrospect_have_slab_dir)
			return ERR_PTR(-ENOENT);
		/* A cache name is one path component. */
		if (!cache || !*cache || strchr(cache, '/') ||
		    !strcmp(cache, ".") || !strcmp(cache, ".."))
			return ERR_PTR(-EINVAL);
		dir = &kintrospect_slab_dir;
		magic = DEBUGFS_MAGIC;
		if (snprintf(name, sizeof(name), "%s/alloc_traces", cache) >=
		    sizeof(name))
			return ERR_PTR(-ENAMETOOLONG);
		break;
	default:
		return ERR_PTR(-EINVAL);
	}
	file = file_open_root(dir, name, O_RDONLY, 0);
	if (!IS_ERR(file) && file_inode(file)->i_sb->s_magic != magic) {
		filp_close(file, NULL);
		return ERR_PTR(-EXDEV);
	}
	return file;
}

/**
 * kintrospect_read_slab_file() - read one of the kernel's slab reports
 * @which: enum kintrospect_slab_file
 * @cache: the cache, for KINTROSPECT_SLAB_FILE_ALLOC_TRACES (else NULL)
 * @buf: where to put the content
 * @len: size of @buf
 * @out: set to the number of bytes read
 *
 * Every file read here is a seq_file of procfs or debugfs, which is checked
 * (the file system) before its seq_file is read.
 *
 * Return: 0 when the whole file fit, -EFBIG when @buf filled up first (the
 * first @len bytes are in @buf), or the negative errno of the open or read.
 */
int kintrospect_read_slab_file(u32 which, const char *cache, char *buf,
			       size_t len, size_t *out)
{
	struct file *file;
	loff_t pos = 0;
	int ret = 0;
	ssize_t n;

	*out = 0;
	file = kintrospect_slab_open(which, cache);
	if (IS_ERR(file))
		return PTR_ERR(file);
	while (*out < len) {
		n = kintrospect_seq_read(file, buf + *out, len - *out, &pos);
		if (n < 0) {
			ret = n;
			goto out;
		}
		if (!n)
			goto out;
		*out += n;
	}
	/* Full: see whether anything is left. */
	{
		char c;

		n = kintrospect_seq_read(file, &c, 1, &pos);
		ret = n > 0 ? -EFBIG : n < 0 ? n : 0;
	}
out:
	filp_close(file, NULL);
	return ret;
}

/* The current time on the clock the CPU snapshots use, in ns. */
u64 kintrospect_now_ns(void)
{
	return ktime_get_ns();
}

/*
 * The leak test path: objects from a module-owned cache, kept on purpose
 * until "free" or unload. The cache is never merged (SLAB_NO_MERGE), so
 * /proc/slabinfo lists it under its own name. (Not SLAB_NOLEAKTRACE: that
 * would also turn off slab_debug=U user tracking for the cache.) The objects
 * are chained through their first bytes: no bookkeeping is allocated, and
 * kmemleak sees every object referenced.
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
				  0, SLAB_NO_MERGE, NULL);
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
