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
#include <linux/spinlock.h>
#include <linux/time64.h>

#include "kintrospect.h"

/* Known to lockdep by this name. */
static DEFINE_SPINLOCK(kintrospect_test_lock);
/* Bumped by every release: a spin ends when it changes. */
static atomic_t release_gen = ATOMIC_INIT(0);

/* Kept out of line so that snapshots name it. */
static noinline int kintrospect_test_spin_loop(int gen, u64 deadline)
{
	while (atomic_read(&release_gen) == gen) {
		if (local_clock() >= deadline)
			return -ETIMEDOUT;
		cpu_relax();
	}
	return 0;
}

/**
 * kintrospect_test_spin() - spin with kintrospect_test_lock held
 * @irqoff: also disable interrupts
 * @timeout_ms: the spin ends by itself after this long
 *
 * A second caller spins on the lock itself until the first one is done.
 *
 * Return: 0 when released, -ETIMEDOUT when the timeout ended it.
 */
int kintrospect_test_spin(bool irqoff, u32 timeout_ms)
{
	int gen = atomic_read(&release_gen);
	u64 deadline = local_clock() + (u64)timeout_ms * NSEC_PER_MSEC;
	unsigned long flags;
	int ret;

	if (irqoff) {
		spin_lock_irqsave(&kintrospect_test_lock, flags);
		ret = kintrospect_test_spin_loop(gen, deadline);
		spin_unlock_irqrestore(&kintrospect_test_lock, flags);
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

