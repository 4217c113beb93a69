// SPDX-License-Identifier: GPL-2.0
/*
 * A semaphore used as an event, as drivers and XFS buffer locks use one: a
 * consumer thread takes it and then waits on it again for an up() from
 * another thread. The semaphore's last_holder is then the waiter itself: a
 * hint, not an owner, and no deadlock (review H4).
 *
 * ki_semevent_a: down(&ki_semevent_sem) twice.
 * ki_semevent_b: up() at once, then up() again after @delay_ms or at unload,
 *	whichever comes first.
 *
 * Every wait is bounded by @delay_ms; unloading at any moment releases A.
 */
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/semaphore.h>
#include <linux/wait.h>

static unsigned int delay_ms = 30000;
module_param(delay_ms, uint, 0444);
MODULE_PARM_DESC(delay_ms, "time before the second up(), in ms (default 30000)");

static struct semaphore ki_semevent_sem;
static DECLARE_WAIT_QUEUE_HEAD(ki_semevent_wq);
static bool ki_semevent_stop;
static struct task_struct *thread_a, *thread_b;
static DECLARE_COMPLETION(a_done);

static int ki_semevent_a(void *unused)
{
	down(&ki_semevent_sem);
	/* The event: woken by B's second up(), at most delay_ms from now. */
	down(&ki_semevent_sem);
	complete(&a_done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int ki_semevent_b(void *unused)
{
	up(&ki_semevent_sem);
	wait_event_interruptible_timeout(ki_semevent_wq, READ_ONCE(ki_semevent_stop),
					 msecs_to_jiffies(delay_ms));
	up(&ki_semevent_sem);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int __init ki_semevent_init(void)
{
	sema_init(&ki_semevent_sem, 0);
	thread_a = kthread_run(ki_semevent_a, NULL, "ki_semevent_a");
	if (IS_ERR(thread_a))
		return PTR_ERR(thread_a);
	thread_b = kthread_run(ki_semevent_b, NULL, "ki_semevent_b");
	if (IS_ERR(thread_b)) {
		/* A waits for an up() nobody will do: do it here. */
		up(&ki_semevent_sem);
		up(&ki_semevent_sem);
		kthread_stop(thread_a);
		return PTR_ERR(thread_b);
	}
	pr_info("ki_semevent: A pid %d waits on ki_semevent_sem for %u ms\n",
		task_pid_nr(thread_a), delay_ms);
	return 0;
}

static void __exit ki_semevent_exit(void)
{
	WRITE_ONCE(ki_semevent_stop, true);
	wake_up_all(&ki_semevent_wq);
	kthread_stop(thread_b);
	/* B has done both up()s: A is done or about to be. */
	wait_for_completion(&a_done);
	kthread_stop(thread_a);
}

module_init(ki_semevent_init);
module_exit(ki_semevent_exit);
MODULE_DESCRIPTION("kintrospect test: a semaphore used as an event (not a deadlock)");
MODULE_LICENSE("GPL");
