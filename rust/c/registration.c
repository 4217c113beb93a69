// SPDX-License-Identifier: GPL-2.0
/*
 * The one pointer kintrospect's C part keeps: the Rust side's module state,
 * with the callbacks that receive it back (struct kintrospect_ops). The
 * debugfs files, the SysRq key's deferred work, the periodic tick and the
 * watch all reach the Rust side through here, and nothing else in the C
 * part keeps a copy of the pointer.
 *
 * The Rust side (rust/bridge/registration.rs) sets the pointer before it
 * registers anything that can call back, and clears it only after every
 * such thing is gone, so a callback never sees NULL.
 *
 * Also here, as both of them use it: the clock the periodic tick and the
 * watch measure their own CPU time with (kintrospect_task_runtime_ns()).
 */
#include <linux/irqflags.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/workqueue.h>

#include "kintrospect.h"

static const void *kintrospect_data;
static const struct kintrospect_ops *kintrospect_ops;

/**
 * kintrospect_register() - set the state and callbacks for the C part
 * @data: the Rust side's state; must stay valid until kintrospect_unregister()
 * @ops: the callbacks that receive @data
 */
void kintrospect_register(const void *data, const struct kintrospect_ops *ops)
{
	kintrospect_data = data;
	kintrospect_ops = ops;
}

/* Forgets the state: every file, key and work that called back is gone. */
void kintrospect_unregister(void)
{
	kintrospect_ops = NULL;
	kintrospect_data = NULL;
}

int kintrospect_file_show(u32 id, struct seq_file *m)
{
	return kintrospect_ops->show(kintrospect_data, id, m);
}

int kintrospect_file_write(u32 id, const char *buf, size_t copied, size_t len)
{
	return kintrospect_ops->write(kintrospect_data, id, buf, copied, len);
}

void kintrospect_sysrq(void)
{
	kintrospect_ops->sysrq(kintrospect_data);
}

void kintrospect_sysrq_deferred(void)
{
	kintrospect_ops->sysrq_deferred(kintrospect_data);
}

void kintrospect_watch_deferred(void)
{
	kintrospect_ops->watch(kintrospect_data);
}

void kintrospect_watch_panic(void)
{
	kintrospect_ops->panic(kintrospect_data);
}

/*
 * The periodic tick: a self-rearming delayed work on the unbound workqueue
 * for long work items (a slab sample waits for slab_mutex and for a flush:
 * it must neither hold up the per-CPU system workqueue nor depend on one
 * CPU, which may be stuck with preemption off). cancel_delayed_work_sync() stops a
 * self-rearming work for good. The watch does not use this: its cadence must
 * survive a CPU spinning with interrupts off, which a delayed work's one
 * timer does not (see the top of watch.c).
 */
static void kintrospect_tick_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(kintrospect_tick_work, kintrospect_tick_fn);
static unsigned long kintrospect_tick_delay;

static void kintrospect_tick_fn(struct work_struct *work)
{
	kintrospect_ops->tick(kintrospect_data);
	queue_delayed_work(system_dfl_long_wq, &kintrospect_tick_work,
			   kintrospect_tick_delay);
}

/**
 * kintrospect_tick_start() - call the tick callback every @interval_ms
 * @interval_ms: the period, non-zero
 */
void kintrospect_tick_start(u32 interval_ms)
{
	kintrospect_tick_delay = max(msecs_to_jiffies(interval_ms), 1UL);
	queue_delayed_work(system_dfl_long_wq, &kintrospect_tick_work,
			   kintrospect_tick_delay);
}

/* Stops the tick; waits for one in progress. Sleeps. */
void kintrospect_tick_stop(void)
{
	cancel_delayed_work_sync(&kintrospect_tick_work);
}

/**
 * kintrospect_task_runtime_ns() - the calling task's CPU time, as the scheduler accounts it
 *
 * The scheduler adds a running task's time to se.sum_exec_runtime only at
 * a tick or a switch (update_curr(), from se.exec_start on this CPU's
 * clock); task_sched_runtime(), which brings it up to date, is not
 * exported. So this reads both with interrupts off (no tick can update
 * them in between) and adds what has run since, on the same clock
 * (local_clock(), what the runqueue clock reads; without
 * CONFIG_IRQ_TIME_ACCOUNTING the task's clock is that one). The watch and
 * the slab tick measure their own cost with it: the time their work items
 * take of the kworker that runs them, interrupts included.
 *
 * Return: the calling task's CPU time in ns. Process context.
 */
u64 kintrospect_task_runtime_ns(void)
{
	const struct sched_entity *se = &current->se;
	unsigned long flags;
	u64 sum, start, now;

	local_irq_save(flags);
	sum = READ_ONCE(se->sum_exec_runtime);
	start = READ_ONCE(se->exec_start);
	now = local_clock();
	local_irq_restore(flags);
	return sum + (now > start ? now - start : 0);
}
