// SPDX-License-Identifier: GPL-2.0
/*
 * A real bug pattern: a static spinlock_t that is never initialised (no
 * DEFINE_SPINLOCK, no spin_lock_init()), so it is all zeroes: no lockdep
 * name and, under CONFIG_DEBUG_SPINLOCK, a bad magic. A thread takes it and
 * spins with preemption off for @hold_ms (or until @release or unload), as
 * a driver would busy-wait for its hardware (issue 8 item 2).
 *
 * Taken without contention, the lock is not even reported by
 * CONFIG_DEBUG_SPINLOCK (only its slow path checks the magic), and lockdep
 * records it with no name: the held-lock report has to find its name (the
 * lock's symbol) and its bad magic itself. spin_unlock() does check the
 * magic: released while lockdep is still on, the lock is reported ("BUG:
 * spinlock bad magic on CPU#N, ki_uninit_spin/PID") and lockdep turns off.
 * kintrospect_lockdep_off.sh turns lockdep off before it releases the lock.
 */
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

static unsigned int hold_ms = 5000;
module_param(hold_ms, uint, 0444);
MODULE_PARM_DESC(hold_ms, "time the lock is held, spinning, in ms (default 5000, at most 15000)");

static int cpu = -1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "CPU the thread runs on (default -1: any)");

static bool release;
module_param(release, bool, 0644);
MODULE_PARM_DESC(release, "write 1 to release the lock (the thread stays until unload)");

/* Deliberately never initialised. */
static spinlock_t ki_uninit_spin_lock;
static bool ki_uninit_spin_stop;
static struct task_struct *thread;

/* Kept out of line so that stacks name it. */
static noinline void ki_uninit_spin_hold(unsigned long end)
{
	spin_lock(&ki_uninit_spin_lock);
	while (!READ_ONCE(ki_uninit_spin_stop) && !READ_ONCE(release) &&
	       time_before(jiffies, end))
		cpu_relax();
	spin_unlock(&ki_uninit_spin_lock);
}

static int ki_uninit_spin_fn(void *unused)
{
	ki_uninit_spin_hold(jiffies + msecs_to_jiffies(min(hold_ms, 15000U)));
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int __init ki_uninit_spin_init(void)
{
	thread = kthread_create(ki_uninit_spin_fn, NULL, "ki_uninit_spin");
	if (IS_ERR(thread))
		return PTR_ERR(thread);
	if (cpu >= 0 && cpu < nr_cpu_ids && cpu_online(cpu))
		kthread_bind(thread, cpu);
	wake_up_process(thread);
	pr_info("ki_uninit_spin: pid %d holds an uninitialised spinlock for %u ms\n",
		task_pid_nr(thread), hold_ms);
	return 0;
}

static void __exit ki_uninit_spin_exit(void)
{
	WRITE_ONCE(ki_uninit_spin_stop, true);
	kthread_stop(thread);
}

module_init(ki_uninit_spin_init);
module_exit(ki_uninit_spin_exit);
MODULE_DESCRIPTION("kintrospect test: a thread holding an uninitialised spinlock");
MODULE_LICENSE("GPL");
