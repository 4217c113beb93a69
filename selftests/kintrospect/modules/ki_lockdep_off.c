// SPDX-License-Identifier: GPL-2.0
/*
 * Turns lockdep off, as its first report does, and leaves behind what then
 * misleads a reader of held-lock stacks (review M1, issue 8 item 5):
 *
 * ki_lockdep_stale: takes ki_lockdep_off_stale, turns lockdep off with
 *	debug_locks_off() (which prints nothing itself), releases the mutex and
 *	sleeps: its frozen held-lock stack still lists the mutex.
 * ki_lockdep_owner: then takes ki_lockdep_off_held (lockdep does not see
 *	it) and holds it for @hold_ms or until unload.
 * ki_lockdep_waiter: waits for ki_lockdep_off_held: its blocked_on record
 *	and the mutex's owner are still true.
 *
 * Lockdep stays off for the rest of the boot: the boot plan runs a selftest
 * using this module after those that need lockdep (scripts/guest/check.sh).
 * If lockdep is already off when it loads, the stale record is simply not
 * made.
 */
#include <linux/completion.h>
#include <linux/debug_locks.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/wait.h>

static unsigned int hold_ms = 30000;
module_param(hold_ms, uint, 0444);
MODULE_PARM_DESC(hold_ms, "time ki_lockdep_off_held is held, in ms (default 30000)");

static DEFINE_MUTEX(ki_lockdep_off_stale);
static DEFINE_MUTEX(ki_lockdep_off_held);
static DECLARE_WAIT_QUEUE_HEAD(ki_lockdep_off_wq);
static DECLARE_COMPLETION(off_done);
static DECLARE_COMPLETION(held_done);
static bool ki_lockdep_off_stop;
static struct task_struct *stale, *owner, *waiter;

static void wait_stop(void)
{
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
}

static int ki_lockdep_stale_fn(void *unused)
{
	int was_on;

	mutex_lock(&ki_lockdep_off_stale);
	was_on = debug_locks;
	debug_locks_off();
	mutex_unlock(&ki_lockdep_off_stale);
	pr_info("ki_lockdep_off: lockdep %s off for the rest of the boot\n",
		was_on ? "turned" : "was already");
	complete(&off_done);
	wait_stop();
	return 0;
}

static int ki_lockdep_owner_fn(void *unused)
{
	mutex_lock(&ki_lockdep_off_held);
	complete(&held_done);
	wait_event_interruptible_timeout(ki_lockdep_off_wq, READ_ONCE(ki_lockdep_off_stop),
					 msecs_to_jiffies(hold_ms));
	mutex_unlock(&ki_lockdep_off_held);
	wait_stop();
	return 0;
}

static int ki_lockdep_waiter_fn(void *unused)
{
	/* Bounded: the owner lets go after hold_ms or at unload. */
	mutex_lock(&ki_lockdep_off_held);
	mutex_unlock(&ki_lockdep_off_held);
	wait_stop();
	return 0;
}

static int __init ki_lockdep_off_init(void)
{
	stale = kthread_run(ki_lockdep_stale_fn, NULL, "ki_lockdep_stale");
	if (IS_ERR(stale))
		return PTR_ERR(stale);
	wait_for_completion(&off_done);
	owner = kthread_run(ki_lockdep_owner_fn, NULL, "ki_lockdep_owner");
	if (IS_ERR(owner)) {
		kthread_stop(stale);
		return PTR_ERR(owner);
	}
	wait_for_completion(&held_done);
	waiter = kthread_run(ki_lockdep_waiter_fn, NULL, "ki_lockdep_waiter");
	if (IS_ERR(waiter)) {
		WRITE_ONCE(ki_lockdep_off_stop, true);
		wake_up_all(&ki_lockdep_off_wq);
		kthread_stop(owner);
		kthread_stop(stale);
		return PTR_ERR(waiter);
	}
	return 0;
}

static void __exit ki_lockdep_off_exit(void)
{
	WRITE_ONCE(ki_lockdep_off_stop, true);
	wake_up_all(&ki_lockdep_off_wq);
	kthread_stop(owner);
	kthread_stop(waiter);
	kthread_stop(stale);
}

module_init(ki_lockdep_off_init);
module_exit(ki_lockdep_off_exit);
MODULE_DESCRIPTION("kintrospect test: lockdep turned off, a stale held-lock record");
MODULE_LICENSE("GPL");
