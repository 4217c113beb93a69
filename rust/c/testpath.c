// SPDX-License-Identifier: GPL-2.0
/*
 * The test paths (test_paths=1): the files of test/, each one entry of
 * kintrospect_tests[] below, served here in C (the Rust side knows none of
 * them). Adding a test path is one show or write function and one line of
 * that table.
 *
 * - spin, spin_irqoff: a read takes a named spinlock and spins in kernel
 *   mode with preemption (and interrupts) disabled, the situation where
 *   /proc/PID/stack shows nothing and only an NMI can see the CPU;
 * - release: any write ends every spin;
 * - abba_a, abba_b: two readers deadlock on a pair of mutexes until killed;
 * - leak: a write of a count allocates and keeps that many objects from a
 *   module-owned cache, "free" frees them.
 *
 * Bounded and releasable, like lib/test_lockup.c: every spin ends on a
 * write to release or on its timeout, and an open file pins the module, so
 * no test outlives it.
 */
#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/ctype.h>
#include <linux/errname.h>
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/time64.h>
#include <linux/wait.h>

#include "kintrospect.h"

/* The spin_timeout_ms parameter, read when the files are created. */
static u32 test_timeout_ms;

/* Known to lockdep by this name. */
static DEFINE_SPINLOCK(kintrospect_test_lock);
/* Bumped by every release: a spin ends when it changes. */
static atomic_t release_gen = ATOMIC_INIT(0);

/*
 * A reader waiting for the lock with interrupts off waits as long as the
 * holder spins: the earliest end such a waiter allows (its own bound) ends
 * any holder's spin then, so that interrupts stay off at most
 * KINTROSPECT_SPIN_IRQOFF_MAX_MS on the waiter's CPU too. U64_MAX while no
 * reader waits with interrupts off.
 */
static DEFINE_RAW_SPINLOCK(irqoff_wait_lock);
static unsigned int irqoff_waiters;
static u64 irqoff_wait_until = U64_MAX;

static void irqoff_wait_begin(u64 until)
{
	raw_spin_lock(&irqoff_wait_lock);
	irqoff_waiters++;
	WRITE_ONCE(irqoff_wait_until, min(irqoff_wait_until, until));
	raw_spin_unlock(&irqoff_wait_lock);
}

static void irqoff_wait_end(void)
{
	raw_spin_lock(&irqoff_wait_lock);
	if (!--irqoff_waiters)
		WRITE_ONCE(irqoff_wait_until, U64_MAX);
	raw_spin_unlock(&irqoff_wait_lock);
}

/*
 * Kept out of line so that snapshots name it. Returns 0 when released,
 * -ETIMEDOUT at @deadline, -EBUSY when a reader waiting with interrupts off
 * ended it first.
 */
static noinline int kintrospect_test_spin_loop(int gen, u64 deadline)
{
	unsigned int i = 0;
	u64 now;

	while (atomic_read(&release_gen) == gen) {
		/*
		 * Reading the clock disables preemption for a moment
		 * (sched_clock()); doing it rarely means a snapshot nearly
		 * always finds the loop itself, at preempt_count 1.
		 */
		if (!(++i % 1024)) {
			now = local_clock();
			if (now >= deadline)
				return -ETIMEDOUT;
			if (now >= READ_ONCE(irqoff_wait_until))
				return -EBUSY;
		}
		cpu_relax();
	}
	return 0;
}

/*
 * How long a spin may last, in ms: with interrupts off, at most
 * KINTROSPECT_SPIN_IRQOFF_MAX_MS, so that a forgotten test spin never panics
 * a hardlockup_panic=1 machine (watchdog_thresh is 10 s by default).
 */
static u32 kintrospect_test_spin_limit(bool irqoff)
{
	return irqoff ? min(test_timeout_ms, KINTROSPECT_SPIN_IRQOFF_MAX_MS) :
			test_timeout_ms;
}

/*
 * Spins with kintrospect_test_lock held (and interrupts off with @irqoff)
 * until released or for at most kintrospect_test_spin_limit(); @irqoff_ns
 * gets how long interrupts were off (waiting for the lock and spinning), 0
 * with them on. Kept out of line: lockdep names it as the lock's acquire
 * site.
 *
 * A second caller spins on the lock itself until the first one is done. One
 * waiting with interrupts off ends the holder's spin by its own bound, so
 * that its interrupts too are off at most KINTROSPECT_SPIN_IRQOFF_MAX_MS.
 *
 * Return: 0 when released, -ETIMEDOUT when the timeout ended it, -EBUSY when
 * a reader waiting with interrupts off did.
 */
static noinline int kintrospect_test_spin(bool irqoff, u64 *irqoff_ns)
{
	int gen = atomic_read(&release_gen);
	u64 start = local_clock();
	u64 deadline = start +
		       (u64)kintrospect_test_spin_limit(irqoff) * NSEC_PER_MSEC;
	unsigned long flags;
	int ret;

	*irqoff_ns = 0;
	if (irqoff) {
		irqoff_wait_begin(deadline);
		spin_lock_irqsave(&kintrospect_test_lock, flags);
		irqoff_wait_end();
		ret = kintrospect_test_spin_loop(gen, deadline);
		spin_unlock_irqrestore(&kintrospect_test_lock, flags);
		*irqoff_ns = local_clock() - start;
	} else {
		spin_lock(&kintrospect_test_lock);
		ret = kintrospect_test_spin_loop(gen, deadline);
		spin_unlock(&kintrospect_test_lock);
	}
	return ret;
}

/* A read of spin or spin_irqoff: spins, then says how it ended. */
static int test_spin_show_how(struct seq_file *m, bool irqoff)
{
	u64 irqoff_ns;
	int ret = kintrospect_test_spin(irqoff, &irqoff_ns);

	if (!ret)
		seq_puts(m, "released\n");
	else if (ret == -EBUSY)
		seq_printf(m, "ended early: an irqs-off waiter allows at most %u ms\n",
			   KINTROSPECT_SPIN_IRQOFF_MAX_MS);
	else
		seq_printf(m, "timed out after %u ms\n",
			   kintrospect_test_spin_limit(irqoff));
	if (irqoff)
		seq_printf(m, "interrupts off for %llu ms\n",
			   div_u64(irqoff_ns, NSEC_PER_MSEC));
	return 0;
}

static int test_spin_show(struct seq_file *m)
{
	return test_spin_show_how(m, false);
}

static int test_spin_irqoff_show(struct seq_file *m)
{
	return test_spin_show_how(m, true);
}

/* A write to release: ends every spin running now; the content is not read. */
static int test_release_write(const char *buf, size_t copied, size_t len)
{
	atomic_inc(&release_gen);
	return 0;
}

/*
 * The ABBA pair: test/abba_a takes A then B, test/abba_b takes B then A,
 * each waiting for the other to hold its first mutex before it takes the
 * second, so that the two always deadlock. The waits are killable: killing
 * both readers ends it. Lockdep knows the mutexes by name but does not
 * validate them (no circular-dependency splat: the deadlock is the point).
 */
static DEFINE_MUTEX(kintrospect_abba_a);
static DEFINE_MUTEX(kintrospect_abba_b);
static DECLARE_WAIT_QUEUE_HEAD(abba_wq);
/* Bit 0: A's reader holds its first mutex; bit 1: B's reader does. */
static atomic_t abba_holding = ATOMIC_INIT(0);

/*
 * Takes the ABBA pair's mutexes (B first with @b_first) and deadlocks with
 * the partner reader. Kept out of line, like the spin, for the reports.
 *
 * Return: -EINTR when killed while deadlocked, -ETIMEDOUT when the partner
 * never came (within spin_timeout_ms), another negative errno when killed
 * while waiting for it.
 */
static noinline int kintrospect_test_abba(bool b_first)
{
	struct mutex *first = b_first ? &kintrospect_abba_b : &kintrospect_abba_a;
	struct mutex *second = b_first ? &kintrospect_abba_a : &kintrospect_abba_b;
	int me = b_first ? 2 : 1, partner = b_first ? 1 : 2;
	long left;
	int ret;

	ret = mutex_lock_killable(first);
	if (ret)
		return ret;
	atomic_or(me, &abba_holding);
	wake_up_all(&abba_wq);
	left = wait_event_killable_timeout(abba_wq,
					   atomic_read(&abba_holding) & partner,
					   msecs_to_jiffies(test_timeout_ms));
	if (left <= 0) {
		ret = left ? left : -ETIMEDOUT;
		goto out;
	}
	/* The partner holds @second and waits for @first: this never returns 0. */
	ret = mutex_lock_killable(second);
	if (!ret)
		mutex_unlock(second);
out:
	atomic_andnot(me, &abba_holding);
	mutex_unlock(first);
	return ret;
}

/* A read of abba_a or abba_b: deadlocks until killed, then says how it ended. */
static int test_abba_show_how(struct seq_file *m, bool b_first)
{
	int ret = kintrospect_test_abba(b_first);
	const char *name;

	if (!ret) {
		seq_puts(m, "no deadlock\n");
	} else if (ret == -ETIMEDOUT) {
		seq_puts(m, "the partner reader did not come\n");
	} else {
		/* As the Rust side's Error prints it, for the same text. */
		name = errname(-ret);
		if (name)
			seq_printf(m, "ended: %s\n", name);
		else
			seq_printf(m, "ended: Error(%d)\n", -ret);
	}
	return 0;
}

static int test_abba_a_show(struct seq_file *m)
{
	return test_abba_show_how(m, false);
}

static int test_abba_b_show(struct seq_file *m)
{
	return test_abba_show_how(m, true);
}

/*
 * The leak test path: objects from a module-owned cache, kept on purpose
 * until "free" or unload. The cache is never merged (SLAB_NO_MERGE), so
 * /proc/slabinfo lists it under its own name. (Not SLAB_NOLEAKTRACE: that
 * would also turn off slab_debug=U user tracking for the cache.) The objects
 * are chained through their first bytes: no bookkeeping is allocated, and
 * kmemleak sees every object referenced.
 */
#define KINTROSPECT_LEAK_OBJ_SIZE	256
/* Most objects one write allocates. */
#define KINTROSPECT_LEAK_MAX		1000000

struct kintrospect_leak_obj {
	struct kintrospect_leak_obj *next;
	u8 payload[KINTROSPECT_LEAK_OBJ_SIZE - sizeof(void *)];
};

static_assert(sizeof(struct kintrospect_leak_obj) == KINTROSPECT_LEAK_OBJ_SIZE);

static struct kmem_cache *kintrospect_leak_cache;
static DEFINE_MUTEX(kintrospect_leak_lock);
static struct kintrospect_leak_obj *kintrospect_leak_head;
static u64 kintrospect_leak_nr;

/*
 * Kept out of line and named so that SLUB's alloc_traces (slab_debug=U)
 * shows this function as the allocation site. Called with the lock held.
 * On -ENOMEM the objects allocated before the failure are kept (and
 * counted).
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

/* Frees every kept object. */
static void kintrospect_leak_free(void)
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

static bool test_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * A write to leak: one word, a decimal count (1..KINTROSPECT_LEAK_MAX) to
 * allocate and keep, or "free"; blanks (spaces, tabs) around it and one
 * trailing newline allowed, anything else -EINVAL before anything is done.
 */
static int test_leak_write(const char *buf, size_t copied, size_t len)
{
	size_t i = 0, start, n;
	char word[8];
	u32 nr;
	int ret;

	if (len > KINTROSPECT_MAX_WRITE)
		return -EINVAL;
	if (copied && buf[copied - 1] == '\n')
		copied--;
	while (i < copied && test_blank(buf[i]))
		i++;
	for (start = i; i < copied && !test_blank(buf[i]); i++)
		;
	n = i - start;
	while (i < copied && test_blank(buf[i]))
		i++;
	/* No second word; a count has at most 7 digits. */
	if (i < copied || !n || n >= sizeof(word))
		return -EINVAL;
	memcpy(word, buf + start, n);
	word[n] = '\0';
	if (n == 4 && !memcmp(word, "free", 4)) {
		kintrospect_leak_free();
		return 0;
	}
	/* Digits only: kstrtou32() would also take a sign and a newline. */
	for (i = 0; i < n; i++)
		if (!isdigit(word[i]))
			return -EINVAL;
	if (kstrtou32(word, 10, &nr) || !nr || nr > KINTROSPECT_LEAK_MAX)
		return -EINVAL;
	mutex_lock(&kintrospect_leak_lock);
	ret = kintrospect_test_leak_alloc(nr);
	mutex_unlock(&kintrospect_leak_lock);
	return ret;
}

/*
 * The test paths: the files of test/, in creation order. A read of a file
 * with a show function runs it (mode 0400); a write, its write function
 * (mode 0200).
 */
static const struct kintrospect_c_file kintrospect_tests[] = {
	{ .name = "spin",	 .show = test_spin_show },
	{ .name = "spin_irqoff", .show = test_spin_irqoff_show },
	{ .name = "release",	 .write = test_release_write },
	{ .name = "abba_a",	 .show = test_abba_a_show },
	{ .name = "abba_b",	 .show = test_abba_b_show },
	{ .name = "leak",	 .write = test_leak_write },
};

/**
 * kintrospect_test_create() - create test/ with test_paths=1
 *
 * Called by kintrospect_debugfs_create(), after the other files; what it
 * leaves on failure, kintrospect_test_remove() frees.
 *
 * Return: 0 (also with test_paths=0) or a negative errno.
 */
int kintrospect_test_create(void)
{
	struct kintrospect_params p;
	int ret;

	ret = kintrospect_params_read(&p);
	if (ret || !p.test_paths)
		return ret;
	test_timeout_ms = p.spin_timeout_ms;
	/* Without lockdep there is no class to set (and no such key). */
#ifdef CONFIG_LOCKDEP
	lockdep_set_class_and_name(&kintrospect_abba_a, &__lockdep_no_validate__,
				   "kintrospect_abba_a");
	lockdep_set_class_and_name(&kintrospect_abba_b, &__lockdep_no_validate__,
				   "kintrospect_abba_b");
#endif
	kintrospect_leak_cache =
		kmem_cache_create("kintrospect_leak", KINTROSPECT_LEAK_OBJ_SIZE,
				  0, SLAB_NO_MERGE, NULL);
	if (!kintrospect_leak_cache)
		return -ENOMEM;
	return kintrospect_debugfs_c_dir("test", kintrospect_tests,
					 ARRAY_SIZE(kintrospect_tests));
}

/*
 * Frees what the test paths kept, once no file of test/ exists (also after
 * a failed or skipped kintrospect_test_create()).
 */
void kintrospect_test_remove(void)
{
	if (!kintrospect_leak_cache)
		return;
	kintrospect_leak_free();
	kmem_cache_destroy(kintrospect_leak_cache);
	kintrospect_leak_cache = NULL;
}

/**
 * kintrospect_test_status() - the test paths' lines of the status file
 * @buf: where to write them, NUL-terminated
 * @size: room in @buf
 *
 * Return: the length written; 0 with test_paths=0.
 */
size_t kintrospect_test_status(char *buf, size_t size)
{
	u64 nr;

	if (!kintrospect_leak_cache)
		return 0;
	mutex_lock(&kintrospect_leak_lock);
	nr = kintrospect_leak_nr;
	mutex_unlock(&kintrospect_leak_lock);
	return scnprintf(buf, size, "test_leak_objects: %llu\n", nr);
}
