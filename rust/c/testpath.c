// SPDX-License-Identifier: GPL-2.0
/*
 * The spin-forever test path: a debugfs read that takes a named spinlock and
 * spins in kernel mode with preemption (and optionally interrupts) disabled,
 * the situation where /proc/PID/stack shows nothing and only an NMI can see
 * the CPU. Bounded and releasable, like lib/test_lockup.c: every spin ends on
 * kintrospect_test_release(), on its timeout, or at module unload.
 */
#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/sched/clock.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/time64.h>
#include <linux/wait.h>

#include "kintrospect.h"

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

/**
 * kintrospect_test_spin_limit() - how long a spin may last
 * @irqoff: the spin keeps interrupts off
 * @timeout_ms: the spin_timeout_ms parameter
 *
 * With interrupts off, at most KINTROSPECT_SPIN_IRQOFF_MAX_MS: below the
 * hard-lockup detector's threshold (watchdog_thresh, 10 s by default), so
 * that a forgotten test spin never panics a hardlockup_panic=1 machine.
 *
 * Return: the bound in ms.
 */
u32 kintrospect_test_spin_limit(bool irqoff, u32 timeout_ms)
{
	return irqoff ? min(timeout_ms, KINTROSPECT_SPIN_IRQOFF_MAX_MS) : timeout_ms;
}

/**
 * kintrospect_test_spin() - spin with kintrospect_test_lock held
 * @irqoff: also disable interrupts
 * @timeout_ms: the spin ends by itself after this long (with @irqoff, at
 *	most KINTROSPECT_SPIN_IRQOFF_MAX_MS)
 * @irqoff_ns: with @irqoff, how long interrupts were off (waiting for the
 *	lock and spinning); else 0
 *
 * A second caller spins on the lock itself until the first one is done. One
 * waiting with interrupts off ends the holder's spin by its own bound, so
 * that its interrupts too are off at most KINTROSPECT_SPIN_IRQOFF_MAX_MS.
 *
 * Return: 0 when released, -ETIMEDOUT when the timeout ended it, -EBUSY when
 * a reader waiting with interrupts off did.
 */
int kintrospect_test_spin(bool irqoff, u32 timeout_ms, u64 *irqoff_ns)
{
	int gen = atomic_read(&release_gen);
	u64 start = local_clock();
	u64 deadline = start +
		       (u64)kintrospect_test_spin_limit(irqoff, timeout_ms) * NSEC_PER_MSEC;
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

/* Ends every spin that is running now. */
void kintrospect_test_release(void)
{
	atomic_inc(&release_gen);
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

/**
 * kintrospect_test_abba() - deadlock with the partner reader
 * @b_first: take B then A (test/abba_b); else A then B
 * @timeout_ms: how long to wait for the partner to arrive
 *
 * Return: -EINTR when killed while deadlocked, -ETIMEDOUT when the partner
 * never came, another negative errno when killed while waiting for it.
 */
int kintrospect_test_abba(bool b_first, u32 timeout_ms)
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
					   msecs_to_jiffies(timeout_ms));
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

void kintrospect_test_init(void)
{
	/* Without lockdep there is no class to set (and no such key). */
#ifdef CONFIG_LOCKDEP
	lockdep_set_class_and_name(&kintrospect_abba_a, &__lockdep_no_validate__,
				   "kintrospect_abba_a");
	lockdep_set_class_and_name(&kintrospect_abba_b, &__lockdep_no_validate__,
				   "kintrospect_abba_b");
#endif
}
