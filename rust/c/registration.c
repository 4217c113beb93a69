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
 */
#include <linux/jiffies.h>
#include <linux/minmax.h>
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
