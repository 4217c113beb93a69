// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect's slab part: reading the kernel's own slab reports and making
 * their counts precise (the periodic tick that samples is registration.c's;
 * the leak test path is testpath.c's).
 *
 * Only exported interfaces: /proc/slabinfo, the SLUB debugfs alloc_traces
 * files, the SLUB sysfs files of each cache and /proc/allocinfo are opened
 * with file_open_root() and read (or written) as userspace would; struct
 * kmem_cache and slab_caches (mm/slab.h) are never touched. What the text
 * means is the Rust side's (rust/slab.rs).
 *
 * Precise counts. SLUB (7.3) keeps freed and prefetched objects in per-CPU
 * "sheaves" and per-node "barns"; slabinfo counts those objects as active,
 * so on a default boot its active_objs is an over-count by up to a few
 * sheaves per CPU (caches with debug flags, e.g. slab_debug=U, have no
 * sheaves and are exact). Writing 1 to /sys/kernel/slab/<cache>/shrink
 * (kmem_cache_shrink()) empties them: flush_all() queues a work item on
 * every CPU whose sheaves hold objects and waits for each with flush_work(),
 * under cpus_read_lock() and SLUB's global flush_lock. A CPU spinning with
 * preemption off never runs that work, so that write can block forever -
 * exactly when kintrospect is needed. So kintrospect_slab_flush():
 *  - first checks that every online CPU runs a work item of kintrospect's
 *    own within KINTROSPECT_SLAB_PROBE_TIMEOUT_MS, and does not flush at
 *    all if one does not (-EAGAIN, with the CPU);
 *  - then writes the shrink files from a work item on an unbound workqueue
 *    and waits for it at most KINTROSPECT_SLAB_FLUSH_TIMEOUT_MS (-ETIMEDOUT;
 *    the work item stops after the cache it is at, and no other flush
 *    starts until it has returned: -EBUSY).
 * The caller reports the counts as approximate, with the reason, whenever
 * the flush did not complete.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/nodemask.h>
#include <linux/path.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <linux/wait.h>
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
static struct path kintrospect_sysfs_slab_dir;
static bool kintrospect_have_proc, kintrospect_have_slab_dir;
static bool kintrospect_have_sysfs_slab;

static void kintrospect_slab_flush_exit(void);

/**
 * kintrospect_slab_files_init() - find /proc and the SLUB directories
 *
 * Holds a reference to each (so none can be unmounted while kintrospect is
 * loaded) until kintrospect_slab_files_exit(). Process context.
 *
 * Return: 0, or the error of looking up /proc; a missing SLUB debugfs
 * directory only means that allocation sites are not available, a missing
 * /sys/kernel/slab that counts cannot be made precise.
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
	kintrospect_have_sysfs_slab =
		!kern_path("/sys/kernel/slab", LOOKUP_FOLLOW | LOOKUP_DIRECTORY,
			   &kintrospect_sysfs_slab_dir);
	return 0;
}

/*
 * Waits for a flush still in progress, then drops the references
 * kintrospect_slab_files_init() took.
 */
void kintrospect_slab_files_exit(void)
{
	kintrospect_slab_flush_exit();
	if (kintrospect_have_sysfs_slab)
		path_put(&kintrospect_sysfs_slab_dir);
	if (kintrospect_have_slab_dir)
		path_put(&kintrospect_slab_dir);
	if (kintrospect_have_proc)
		path_put(&kintrospect_proc_dir);
	kintrospect_have_sysfs_slab = false;
	kintrospect_have_slab_dir = false;
	kintrospect_have_proc = false;
}

/* Whether @cache can be one path component. */
static bool kintrospect_cache_name_ok(const char *cache)
{
	return cache && *cache && !strchr(cache, '/') && strcmp(cache, ".") &&
	       strcmp(cache, "..");
}

/* Opens @cache's file @attr of SLUB's sysfs directory with @flags. */
static struct file *kintrospect_sysfs_slab_open(const char *cache,
						const char *attr, int flags)
{
	char name[KINTROSPECT_SLAB_PATH_MAX];
	struct file *file;

	if (!kintrospect_have_sysfs_slab)
		return ERR_PTR(-ENOENT);
	if (!kintrospect_cache_name_ok(cache))
		return ERR_PTR(-EINVAL);
	if (snprintf(name, sizeof(name), "%s/%s", cache, attr) >= sizeof(name))
		return ERR_PTR(-ENAMETOOLONG);
	file = file_open_root(&kintrospect_sysfs_slab_dir, name, flags, 0);
	if (!IS_ERR(file) && file_inode(file)->i_sb->s_magic != SYSFS_MAGIC) {
		filp_close(file, NULL);
		return ERR_PTR(-EXDEV);
	}
	return file;
}

/* Opens report @which (@cache's, for the per-cache ones); checks its file system. */
static struct file *kintrospect_slab_open(enum kintrospect_slab_file which,
					  const char *cache)
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
		if (!kintrospect_cache_name_ok(cache))
			return ERR_PTR(-EINVAL);
		dir = &kintrospect_slab_dir;
		magic = DEBUGFS_MAGIC;
		if (snprintf(name, sizeof(name), "%s/alloc_traces", cache) >=
		    sizeof(name))
			return ERR_PTR(-ENAMETOOLONG);
		break;
	case KINTROSPECT_SLAB_FILE_SHEAF_CAPACITY:
		return kintrospect_sysfs_slab_open(cache, "sheaf_capacity",
						   O_RDONLY);
	case KINTROSPECT_SLAB_FILE_PARTIAL:
		return kintrospect_sysfs_slab_open(cache, "partial", O_RDONLY);
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

/* One read of @file: sysfs files have ->read_iter, the others are seq_files. */
static ssize_t kintrospect_slab_read(struct file *file, char *buf, size_t len,
				     loff_t *pos)
{
	if (file_inode(file)->i_sb->s_magic == SYSFS_MAGIC)
		return kernel_read(file, buf, len, pos);
	return kintrospect_seq_read(file, buf, len, pos);
}

/**
 * kintrospect_read_slab_file() - read one of the kernel's slab reports
 * @which: enum kintrospect_slab_file
 * @cache: the cache, for the per-cache files (else NULL)
 * @buf: where to put the content
 * @len: size of @buf
 * @out: set to the number of bytes read
 *
 * Every file read here is a seq_file of procfs or debugfs or a sysfs
 * attribute, which is checked (the file system) before it is read.
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
		n = kintrospect_slab_read(file, buf + *out, len - *out, &pos);
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

		n = kintrospect_slab_read(file, &c, 1, &pos);
		ret = n > 0 ? -EFBIG : n < 0 ? n : 0;
	}
out:
	filp_close(file, NULL);
	return ret;
}

/*
 * The probe: one work item per CPU on a per-CPU workqueue, each of which
 * records the probe generation it ran for. A CPU that has not run its work
 * item by the deadline would not run SLUB's flush work either. A work item
 * still pending from an earlier probe is not queued again (the CPU is still
 * stuck, and says so by not acknowledging).
 */
struct kintrospect_probe {
	struct work_struct work;
	unsigned int cpu;
};

static DEFINE_PER_CPU(struct kintrospect_probe, kintrospect_probes);
static DEFINE_PER_CPU(unsigned long, kintrospect_probe_ack);
static DECLARE_WAIT_QUEUE_HEAD(kintrospect_probe_wq);
static unsigned long kintrospect_probe_gen;
static bool kintrospect_probes_ready;

static void kintrospect_probe_fn(struct work_struct *work)
{
	struct kintrospect_probe *p =
		container_of(work, struct kintrospect_probe, work);

	WRITE_ONCE(per_cpu(kintrospect_probe_ack, p->cpu),
		   READ_ONCE(kintrospect_probe_gen));
	wake_up(&kintrospect_probe_wq);
}

/* Whether every CPU of @mask acknowledged generation @gen. */
static bool kintrospect_probe_acked(const struct cpumask *mask,
				    unsigned long gen, unsigned int *cpu,
				    u32 *nr)
{
	unsigned int c;

	*nr = 0;
	for_each_cpu(c, mask) {
		if (READ_ONCE(per_cpu(kintrospect_probe_ack, c)) == gen)
			continue;
		if (!*nr)
			*cpu = c;
		(*nr)++;
	}
	return !*nr;
}

/*
 * Checks that every online CPU runs a work item within the probe timeout.
 * Serialised by the slab io lock. Return: 0, -EAGAIN (@info says which CPU)
 * or -EBUSY when CPU hotplug is in progress.
 */
static int kintrospect_slab_probe(struct kintrospect_slab_flush_info *info)
{
	static struct cpumask mask;
	unsigned long gen;
	unsigned int cpu;

	if (!kintrospect_probes_ready) {
		for_each_possible_cpu(cpu) {
			struct kintrospect_probe *p =
				per_cpu_ptr(&kintrospect_probes, cpu);

			INIT_WORK(&p->work, kintrospect_probe_fn);
			p->cpu = cpu;
		}
		kintrospect_probes_ready = true;
	}
	gen = ++kintrospect_probe_gen;
	/* Never wait for a CPU hotplug operation: it may wait for a stuck CPU. */
	if (!cpus_read_trylock())
		return -EBUSY;
	cpumask_copy(&mask, cpu_online_mask);
	for_each_cpu(cpu, &mask)
		queue_work_on(cpu, system_highpri_wq,
			      &per_cpu_ptr(&kintrospect_probes, cpu)->work);
	cpus_read_unlock();
	wait_event_timeout(kintrospect_probe_wq,
			   kintrospect_probe_acked(&mask, gen, &info->cpu,
						   &info->nr_stuck),
			   msecs_to_jiffies(KINTROSPECT_SLAB_PROBE_TIMEOUT_MS));
	return kintrospect_probe_acked(&mask, gen, &info->cpu,
				       &info->nr_stuck) ? 0 : -EAGAIN;
}

static void kintrospect_slab_flush_fn(struct work_struct *work);

/* Longest cache name whose shrink file is kept open (rust/slab/parse.rs NAME_LEN). */
#define KINTROSPECT_SHRINK_NAME_MAX	64

/*
 * A cache's shrink file, kept open from one flush to the next: opening a
 * sysfs file (path walk, kernfs open) costs more than the write itself, and
 * a sample writes one per cache. An open file pins no cache: the kernfs node
 * of a destroyed cache fails the write with -ENODEV, and the file is opened
 * again by name (a new cache may have it by then).
 */
struct kintrospect_shrink_file {
	char name[KINTROSPECT_SHRINK_NAME_MAX + 1];
	struct file *file;
};

/*
 * The flusher: one work item on an unbound workqueue that writes the shrink
 * file of each cache named in its own copy of the list. Its buffers belong
 * to it while it runs ("running"), which outlasts a caller that timed out.
 * "running" only decides whether a new flush may start: the function still
 * runs for a moment after clearing it, so unload waits for the work item
 * itself (cancel_work_sync()). The work item is initialised once, here: a
 * new flush never re-initialises it while the previous one may still be
 * returning, and unload may wait for it whether or not a flush ever ran.
 * The shrink files of the last flush's caches stay open in "files" (and
 * "next" is where a flush puts those it keeps), until the next flush or
 * unload closes them.
 */
static struct {
	struct work_struct work;
	struct completion done;
	char *names;
	size_t names_size;
	u8 *status;
	u32 status_size;
	u32 nr;
	atomic_t stop;
	atomic_t running;
	struct kintrospect_shrink_file *files;
	struct kintrospect_shrink_file *next;
	u32 nr_files;
	u32 files_size;
} kintrospect_flusher = {
	.work = __WORK_INITIALIZER(kintrospect_flusher.work, kintrospect_slab_flush_fn),
};

/*
 * Takes @cache's open shrink file out of the flusher's files, looking from
 * *@hint on (the names come in the same order every time), or NULL.
 */
static struct file *kintrospect_shrink_file_take(const char *cache, u32 *hint)
{
	u32 nr = kintrospect_flusher.nr_files;
	struct kintrospect_shrink_file *f;
	struct file *file;
	u32 k;

	for (k = 0; k < nr; k++) {
		f = &kintrospect_flusher.files[(*hint + k) % nr];
		if (f->file && !strcmp(f->name, cache)) {
			file = f->file;
			f->file = NULL;
			*hint = (*hint + k + 1) % nr;
			return file;
		}
	}
	return NULL;
}

/*
 * Writes "1" to @cache's shrink file (kmem_cache_shrink()): *@filep if open,
 * else (or if its write fails: the cache may have been destroyed meanwhile)
 * a newly opened one, left in *@filep (NULL if none could be opened).
 */
static int kintrospect_slab_shrink(const char *cache, struct file **filep)
{
	bool fresh = false;
	struct file *file;
	loff_t pos;
	ssize_t n;

	for (;;) {
		file = *filep;
		if (!file) {
			file = kintrospect_sysfs_slab_open(cache, "shrink", O_WRONLY);
			if (IS_ERR(file))
				return PTR_ERR(file);
			*filep = file;
			fresh = true;
		}
		pos = 0;
		n = kernel_write(file, "1", 1, &pos);
		if (n == 1)
			return 0;
		filp_close(file, NULL);
		*filep = NULL;
		if (fresh)
			return n < 0 ? n : -EIO;
	}
}

static void kintrospect_slab_flush_fn(struct work_struct *work)
{
	const char *name = kintrospect_flusher.names;
	struct kintrospect_shrink_file *next = kintrospect_flusher.next;
	struct file *file;
	u32 i, kept = 0, hint = 0;

	for (i = 0; i < kintrospect_flusher.nr; i++) {
		if (atomic_read(&kintrospect_flusher.stop))
			break;
		file = kintrospect_shrink_file_take(name, &hint);
		kintrospect_flusher.status[i] = kintrospect_slab_shrink(name, &file) ?
			KINTROSPECT_SLAB_FLUSH_FAILED : KINTROSPECT_SLAB_FLUSH_DONE;
		if (file && strscpy(next[kept].name, name, sizeof(next[kept].name)) > 0)
			next[kept++].file = file;
		else if (file)
			filp_close(file, NULL);
		name += strlen(name) + 1;
		cond_resched();
	}
	/* The files of caches this flush did not write are closed. */
	for (i = 0; i < kintrospect_flusher.nr_files; i++)
		if (kintrospect_flusher.files[i].file)
			filp_close(kintrospect_flusher.files[i].file, NULL);
	kintrospect_flusher.next = kintrospect_flusher.files;
	kintrospect_flusher.files = next;
	kintrospect_flusher.nr_files = kept;
	complete(&kintrospect_flusher.done);
	/* Last access to the buffers: a new flush may take them now. */
	atomic_set_release(&kintrospect_flusher.running, 0);
}

/*
 * Makes the flusher's buffers hold @len bytes of names, @nr statuses and @nr
 * shrink files (those open are moved).
 */
static int kintrospect_flusher_reserve(size_t len, u32 nr)
{
	if (len > kintrospect_flusher.names_size) {
		char *names = kvmalloc(len, GFP_KERNEL);

		if (!names)
			return -ENOMEM;
		kvfree(kintrospect_flusher.names);
		kintrospect_flusher.names = names;
		kintrospect_flusher.names_size = len;
	}
	if (nr > kintrospect_flusher.status_size) {
		u8 *status = kvmalloc(nr, GFP_KERNEL);

		if (!status)
			return -ENOMEM;
		kvfree(kintrospect_flusher.status);
		kintrospect_flusher.status = status;
		kintrospect_flusher.status_size = nr;
	}
	if (nr > kintrospect_flusher.files_size) {
		struct kintrospect_shrink_file *files, *next;

		files = kvcalloc(nr, sizeof(*files), GFP_KERNEL);
		next = kvcalloc(nr, sizeof(*next), GFP_KERNEL);
		if (!files || !next) {
			kvfree(files);
			kvfree(next);
			return -ENOMEM;
		}
		if (kintrospect_flusher.nr_files)
			memcpy(files, kintrospect_flusher.files,
			       kintrospect_flusher.nr_files * sizeof(*files));
		kvfree(kintrospect_flusher.files);
		kvfree(kintrospect_flusher.next);
		kintrospect_flusher.files = files;
		kintrospect_flusher.next = next;
		kintrospect_flusher.files_size = nr;
	}
	return 0;
}

/**
 * kintrospect_slab_flush() - empty the per-CPU caches of some slab caches
 * @names: @nr cache names, each NUL-terminated, one after the other
 * @len: bytes of @names
 * @nr: number of names
 * @status: set to an enum kintrospect_slab_flush_status per name
 * @info: set to what happened
 *
 * Bounded: waits at most KINTROSPECT_SLAB_PROBE_TIMEOUT_MS plus
 * KINTROSPECT_SLAB_FLUSH_TIMEOUT_MS, less if killed. Process context,
 * serialised by the slab io lock.
 *
 * Return: 0 when the flush ran to the end (@status says which caches it
 * flushed), else -EAGAIN (a CPU runs no work item: nothing flushed), -EBUSY
 * (CPU hotplug in progress, or an earlier flush has still not returned),
 * -ETIMEDOUT (the flush did not end in time), -EINTR (killed), -EINVAL or
 * -ENOMEM; @status is all KINTROSPECT_SLAB_FLUSH_NOT_DONE then.
 */
int kintrospect_slab_flush(const char *names, size_t len, u32 nr, u8 *status,
			   struct kintrospect_slab_flush_info *info)
{
	u64 start = ktime_get_ns();
	long left;
	int ret;
	u32 i;

	memset(info, 0, sizeof(*info));
	memset(status, KINTROSPECT_SLAB_FLUSH_NOT_DONE, nr);
	if (!nr)
		return 0;
	if (!len || names[len - 1])
		return -EINVAL;
	ret = -EBUSY;
	if (atomic_read_acquire(&kintrospect_flusher.running))
		goto out;
	ret = kintrospect_slab_probe(info);
	if (ret)
		goto out;
	ret = kintrospect_flusher_reserve(len, nr);
	if (ret)
		goto out;
	memcpy(kintrospect_flusher.names, names, len);
	memset(kintrospect_flusher.status, KINTROSPECT_SLAB_FLUSH_NOT_DONE, nr);
	kintrospect_flusher.nr = nr;
	atomic_set(&kintrospect_flusher.stop, 0);
	init_completion(&kintrospect_flusher.done);
	atomic_set(&kintrospect_flusher.running, 1);
	queue_work(system_dfl_long_wq, &kintrospect_flusher.work);
	left = wait_for_completion_killable_timeout(&kintrospect_flusher.done,
			msecs_to_jiffies(KINTROSPECT_SLAB_FLUSH_TIMEOUT_MS));
	if (left <= 0) {
		atomic_set(&kintrospect_flusher.stop, 1);
		ret = left ? -EINTR : -ETIMEDOUT;
		goto out;
	}
	memcpy(status, kintrospect_flusher.status, nr);
	for (i = 0; i < nr; i++)
		info->flushed += status[i] == KINTROSPECT_SLAB_FLUSH_DONE;
out:
	info->error = ret;
	info->duration_ns = ktime_get_ns() - start;
	return ret;
}

/*
 * Stops the flusher and the probes (unload); waits for a flush in progress,
 * to its function's return: "running" is cleared before that, and module
 * text must not be freed under a kworker still in it. Then closes the shrink
 * files kept open.
 */
static void kintrospect_slab_flush_exit(void)
{
	unsigned int cpu;
	u32 i;

	atomic_set(&kintrospect_flusher.stop, 1);
	cancel_work_sync(&kintrospect_flusher.work);
	if (kintrospect_probes_ready)
		for_each_possible_cpu(cpu)
			cancel_work_sync(&per_cpu_ptr(&kintrospect_probes, cpu)->work);
	kintrospect_probes_ready = false;
	for (i = 0; i < kintrospect_flusher.nr_files; i++)
		if (kintrospect_flusher.files[i].file)
			filp_close(kintrospect_flusher.files[i].file, NULL);
	kvfree(kintrospect_flusher.names);
	kvfree(kintrospect_flusher.status);
	kvfree(kintrospect_flusher.files);
	kvfree(kintrospect_flusher.next);
	kintrospect_flusher.names = NULL;
	kintrospect_flusher.status = NULL;
	kintrospect_flusher.files = NULL;
	kintrospect_flusher.next = NULL;
	kintrospect_flusher.names_size = 0;
	kintrospect_flusher.status_size = 0;
	kintrospect_flusher.nr_files = 0;
	kintrospect_flusher.files_size = 0;
}

/*
 * The possible CPUs and NUMA nodes: each CPU has a main and a spare sheaf of
 * every cache with sheaves, each node a barn (rust/slab/sheaves.rs).
 */
void kintrospect_slab_cpus_nodes(u32 *cpus, u32 *nodes)
{
	*cpus = num_possible_cpus();
	*nodes = num_possible_nodes();
}

/*
 * The slab io lock: serialises samples (they own the read buffers and the
 * flusher). A control write waits for it killably; the periodic sampler and
 * the SysRq work only try it and skip their sample when it is taken, so a
 * sample stuck in the kernel (slab_mutex held by a stuck cache destroy)
 * holds up nothing but other slab samples.
 */
static DEFINE_MUTEX(kintrospect_slab_io_mutex);

/* Takes the slab io lock: waits (killably) if @wait. Return: 0, -EBUSY or -EINTR. */
int kintrospect_slab_io_lock(bool wait)
{
	if (!wait)
		return mutex_trylock(&kintrospect_slab_io_mutex) ? 0 : -EBUSY;
	return mutex_lock_killable(&kintrospect_slab_io_mutex) ? -EINTR : 0;
}

void kintrospect_slab_io_unlock(void)
{
	mutex_unlock(&kintrospect_slab_io_mutex);
}

/*
 * The current time on the clock the CPU snapshots and the watch's hooks use
 * (CLOCK_MONOTONIC), in ns. ktime_get_mono_fast_ns() is NMI-safe and never
 * waits: ktime_get_ns() retries while the timekeeper's sequence is odd, and
 * spins forever when the caller interrupted (or panicked in) the CPU inside
 * the timekeeping update - the panic notifier reads this clock.
 */
u64 kintrospect_now_ns(void)
{
	return ktime_get_mono_fast_ns();
}
