// SPDX-License-Identifier: GPL-2.0
/*
 * Waiters that lockdep lists as holders (issue 17 item 3): lockdep records an
 * acquisition before the task waits, and none of these waits leaves a
 * blocked_on or hung-task blocker record. Each scenario makes a holder A and
 * a waiter B, kernel threads bound to chosen CPUs:
 *
 *   mutex	A: mutex_lock(), preemption off, busy for @hold_ms on @hold_cpu;
 *		B: mutex_lock() on @wait_cpu - it spins on the running owner
 *		(under TCG vcpu_is_preempted() is false).
 *   rwsem_read, rwsem_write
 *		A: down_write(), asleep for @hold_ms; B: down_read_killable() or
 *		down_write_killable(): asleep with no blocker record.
 *   abba	A: mutex_lock(M), then down_write_killable(S); B: down_write(S),
 *		then mutex_lock(M): a real deadlock, ended after @hold_ms (or by
 *		"stop") by a SIGKILL to A, whose killable wait then fails.
 *   percpu	A: percpu_down_write(), asleep for @hold_ms; B: percpu_down_read().
 *   rwlock	A: write_lock(), busy for @hold_ms (at most 8000) on @hold_cpu;
 *		B: write_lock() on @wait_cpu, spinning.
 *   rwlock_hold
 *		A only, as in rwlock: the waiter is another module's (the
 *		kernel's lib/test_lockup.c with lock_rwlock_ptr=&ki_lt_rwlock).
 *
 * Driven by module parameters: "echo SCENARIO > .../parameters/start" starts
 * one (-EBUSY while another runs), "echo stop > .../parameters/start" or
 * unloading ends it at once. Every hold is bounded by @hold_ms; the locks
 * are of lockdep's "no validate" class, so the ABBA is no lockdep report.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu-rwsem.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>

/*
 * A spinning rwlock's bound: as kintrospect's own spin test path, well below
 * the soft-lockup threshold (interrupts stay on).
 */
#define KI_LT_RWLOCK_MAX_MS	8000
/* How long B waits for A to take its lock, at most. */
#define KI_LT_START_MS		5000

static int hold_cpu = 1;
module_param(hold_cpu, int, 0644);
MODULE_PARM_DESC(hold_cpu, "CPU of the holder A (default 1)");

static int wait_cpu = 2;
module_param(wait_cpu, int, 0644);
MODULE_PARM_DESC(wait_cpu, "CPU of the waiter B (default 2)");

static unsigned int hold_ms = 6000;
module_param(hold_ms, uint, 0644);
MODULE_PARM_DESC(hold_ms, "how long A holds its lock, in ms (default 6000)");

/* The running scenario's threads, for a shell that must not fork to find them. */
static int a_pid = -1, b_pid = -1;
module_param(a_pid, int, 0444);
MODULE_PARM_DESC(a_pid, "pid of the holder A of the running scenario, or -1");
module_param(b_pid, int, 0444);
MODULE_PARM_DESC(b_pid, "pid of the waiter B of the running scenario, or -1");

static DEFINE_MUTEX(ki_lt_mutex);
static DECLARE_RWSEM(ki_lt_rwsem);
DEFINE_STATIC_PERCPU_RWSEM(ki_lt_percpu);
static DEFINE_RWLOCK(ki_lt_rwlock);

static DEFINE_MUTEX(ki_lt_control);
static DECLARE_WAIT_QUEUE_HEAD(ki_lt_wq);
static struct task_struct *thread_a, *thread_b;
static bool ki_lt_stop;
static int ki_lt_scenario;
/* Bit 0: A holds its (first) lock; bit 1: B holds its first lock (abba). */
static unsigned long ki_lt_holding;

enum {
	KI_LT_STOP,
	KI_LT_MUTEX,
	KI_LT_RWSEM_READ,
	KI_LT_RWSEM_WRITE,
	KI_LT_ABBA,
	KI_LT_PERCPU,
	KI_LT_RWLOCK,
	KI_LT_RWLOCK_HOLD,
};

static const char *const ki_lt_names[] = {
	[KI_LT_STOP] = "stop",
	[KI_LT_MUTEX] = "mutex",
	[KI_LT_RWSEM_READ] = "rwsem_read",
	[KI_LT_RWSEM_WRITE] = "rwsem_write",
	[KI_LT_ABBA] = "abba",
	[KI_LT_PERCPU] = "percpu",
	[KI_LT_RWLOCK] = "rwlock",
	[KI_LT_RWLOCK_HOLD] = "rwlock_hold",
};

static bool ki_lt_stopped(void)
{
	return READ_ONCE(ki_lt_stop);
}

/* Busy, preemption as the caller left it, for @ms or until "stop". */
static void ki_lt_busy(unsigned int ms)
{
	u64 end = ktime_get_ns() + (u64)ms * NSEC_PER_MSEC;

	while (ktime_get_ns() < end && !ki_lt_stopped())
		cpu_relax();
}

/* Asleep for @ms or until "stop". */
static void ki_lt_sleep(unsigned int ms)
{
	wait_event_interruptible_timeout(ki_lt_wq, ki_lt_stopped(),
					 msecs_to_jiffies(ms));
}

/* Marks @bit held and waits (bounded) for @partner's bit. */
static bool ki_lt_meet(int bit, int partner)
{
	set_bit(bit, &ki_lt_holding);
	wake_up_all(&ki_lt_wq);
	if (partner < 0)
		return true;
	return wait_event_interruptible_timeout(ki_lt_wq,
			test_bit(partner, &ki_lt_holding) || ki_lt_stopped(),
			msecs_to_jiffies(KI_LT_START_MS)) > 0 && !ki_lt_stopped();
}

/* Waits until kthread_stop(): a thread's end is its controller's to pick. */
static int ki_lt_park(void)
{
	flush_signals(current);
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
		flush_signals(current);
	}
	return 0;
}

static int ki_lt_a(void *unused)
{
	switch (ki_lt_scenario) {
	case KI_LT_MUTEX:
		mutex_lock(&ki_lt_mutex);
		ki_lt_meet(0, -1);
		preempt_disable();
		ki_lt_busy(hold_ms);
		preempt_enable();
		mutex_unlock(&ki_lt_mutex);
		break;
	case KI_LT_RWSEM_READ:
	case KI_LT_RWSEM_WRITE:
		down_write(&ki_lt_rwsem);
		ki_lt_meet(0, -1);
		ki_lt_sleep(hold_ms);
		up_write(&ki_lt_rwsem);
		break;
	case KI_LT_ABBA:
		/* SIGKILL ends the killable wait: see ki_lt_end(). */
		allow_signal(SIGKILL);
		mutex_lock(&ki_lt_mutex);
		if (ki_lt_meet(0, 1) && !down_write_killable(&ki_lt_rwsem))
			up_write(&ki_lt_rwsem);
		mutex_unlock(&ki_lt_mutex);
		break;
	case KI_LT_PERCPU:
		percpu_down_write(&ki_lt_percpu);
		ki_lt_meet(0, -1);
		ki_lt_sleep(hold_ms);
		percpu_up_write(&ki_lt_percpu);
		break;
	case KI_LT_RWLOCK:
	case KI_LT_RWLOCK_HOLD:
		write_lock(&ki_lt_rwlock);
		ki_lt_meet(0, -1);
		ki_lt_busy(min(hold_ms, KI_LT_RWLOCK_MAX_MS));
		write_unlock(&ki_lt_rwlock);
		break;
	}
	return ki_lt_park();
}

static int ki_lt_b(void *unused)
{
	int scenario = ki_lt_scenario;

	/* Wait for A's lock first (the ABBA's B takes its own first). */
	if (scenario != KI_LT_ABBA &&
	    wait_event_interruptible_timeout(ki_lt_wq,
			test_bit(0, &ki_lt_holding) || ki_lt_stopped(),
			msecs_to_jiffies(KI_LT_START_MS)) <= 0)
		return ki_lt_park();
	switch (scenario) {
	case KI_LT_MUTEX:
		mutex_lock(&ki_lt_mutex);
		mutex_unlock(&ki_lt_mutex);
		break;
	case KI_LT_RWSEM_READ:
		if (!down_read_killable(&ki_lt_rwsem))
			up_read(&ki_lt_rwsem);
		break;
	case KI_LT_RWSEM_WRITE:
		if (!down_write_killable(&ki_lt_rwsem))
			up_write(&ki_lt_rwsem);
		break;
	case KI_LT_ABBA:
		down_write(&ki_lt_rwsem);
		if (ki_lt_meet(1, 0)) {
			mutex_lock(&ki_lt_mutex);
			mutex_unlock(&ki_lt_mutex);
		}
		up_write(&ki_lt_rwsem);
		break;
	case KI_LT_PERCPU:
		percpu_down_read(&ki_lt_percpu);
		percpu_up_read(&ki_lt_percpu);
		break;
	case KI_LT_RWLOCK:
		write_lock(&ki_lt_rwlock);
		write_unlock(&ki_lt_rwlock);
		break;
	}
	return ki_lt_park();
}

/* A kernel thread running @fn bound to @cpu, named @name. */
static struct task_struct *ki_lt_thread(int (*fn)(void *), int cpu, const char *name)
{
	struct task_struct *t;

	if (cpu < 0 || cpu >= nr_cpu_ids || !cpu_online(cpu))
		return ERR_PTR(-EINVAL);
	t = kthread_create(fn, NULL, "%s", name);
	if (IS_ERR(t))
		return t;
	kthread_bind(t, cpu);
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

/* Ends the running scenario: releases every hold, then the threads. */
static void ki_lt_end(void)
{
	WRITE_ONCE(ki_lt_stop, true);
	wake_up_all(&ki_lt_wq);
	/* The ABBA: A's killable wait fails, it releases M, B goes on. */
	if (thread_a && ki_lt_scenario == KI_LT_ABBA)
		send_sig(SIGKILL, thread_a, 1);
	if (thread_a) {
		kthread_stop(thread_a);
		put_task_struct(thread_a);
		thread_a = NULL;
	}
	if (thread_b) {
		kthread_stop(thread_b);
		put_task_struct(thread_b);
		thread_b = NULL;
	}
	ki_lt_scenario = 0;
	a_pid = -1;
	b_pid = -1;
}

/* The ABBA's bound: A is killed @hold_ms after the start. */
static void ki_lt_referee(struct work_struct *work)
{
	mutex_lock(&ki_lt_control);
	if (thread_a && ki_lt_scenario == KI_LT_ABBA)
		send_sig(SIGKILL, thread_a, 1);
	mutex_unlock(&ki_lt_control);
}

static DECLARE_DELAYED_WORK(ki_lt_referee_work, ki_lt_referee);

static int ki_lt_start(const char *val, const struct kernel_param *kp)
{
	int scenario = sysfs_match_string(ki_lt_names, val), ret = 0;

	if (scenario < 0)
		return scenario;
	if (scenario == KI_LT_STOP) {
		cancel_delayed_work_sync(&ki_lt_referee_work);
		mutex_lock(&ki_lt_control);
		ki_lt_end();
		mutex_unlock(&ki_lt_control);
		return 0;
	}

	mutex_lock(&ki_lt_control);
	if (ki_lt_scenario) {
		ret = -EBUSY;
		goto out;
	}
	WRITE_ONCE(ki_lt_stop, false);
	ki_lt_holding = 0;
	ki_lt_scenario = scenario;
	thread_a = ki_lt_thread(ki_lt_a, hold_cpu, "ki_lt_a");
	if (IS_ERR(thread_a)) {
		ret = PTR_ERR(thread_a);
		thread_a = NULL;
		ki_lt_end();
		goto out;
	}
	if (scenario != KI_LT_RWLOCK_HOLD) {
		thread_b = ki_lt_thread(ki_lt_b, wait_cpu, "ki_lt_b");
		if (IS_ERR(thread_b)) {
			ret = PTR_ERR(thread_b);
			thread_b = NULL;
			ki_lt_end();
			goto out;
		}
	}
	a_pid = task_pid_nr(thread_a);
	b_pid = thread_b ? task_pid_nr(thread_b) : -1;
	if (scenario == KI_LT_ABBA)
		schedule_delayed_work(&ki_lt_referee_work, msecs_to_jiffies(hold_ms));
	pr_info("ki_locktypes: %s: A %d on CPU %d, B %d on CPU %d, %u ms\n",
		ki_lt_names[scenario], a_pid, hold_cpu, b_pid, wait_cpu, hold_ms);
out:
	mutex_unlock(&ki_lt_control);
	return ret;
}

static const struct kernel_param_ops ki_lt_start_ops = {
	.set = ki_lt_start,
};
module_param_cb(start, &ki_lt_start_ops, NULL, 0200);
MODULE_PARM_DESC(start, "start a scenario (mutex, rwsem_read, rwsem_write, abba, percpu, rwlock, rwlock_hold) or end it (stop)");

static int __init ki_lt_init(void)
{
#ifdef CONFIG_LOCKDEP
	/* Deadlocks on purpose: no dependency of these locks is validated. */
	lockdep_set_class_and_name(&ki_lt_mutex, &__lockdep_no_validate__, "ki_lt_mutex");
	lockdep_set_class_and_name(&ki_lt_rwsem, &__lockdep_no_validate__, "ki_lt_rwsem");
#endif
	return 0;
}

static void __exit ki_lt_exit(void)
{
	cancel_delayed_work_sync(&ki_lt_referee_work);
	mutex_lock(&ki_lt_control);
	ki_lt_end();
	mutex_unlock(&ki_lt_control);
}

module_init(ki_lt_init);
module_exit(ki_lt_exit);
MODULE_DESCRIPTION("kintrospect test: lock waiters that lockdep lists as holders");
MODULE_LICENSE("GPL");
