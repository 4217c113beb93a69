// SPDX-License-Identifier: GPL-2.0
/*
 * The watch (the flight recorder's sampler): a periodic work item, and the
 * hooks that make it sample at once - the hung-task detector's
 * sched_process_hang tracepoint, the die notifier (an oops) - and the panic
 * notifier. What a sample does and what an event holds is the Rust side's
 * (rust/watch.rs), reached through registration.c.
 *
 * The hooks run wherever they fire: khungtaskd inside rcu_read_lock(), an
 * oops with interrupts off (maybe in NMI context). They only note what
 * happened in a fixed array, under a trylock (an NMI may interrupt the
 * reader), and kick the work through an irq_work, which is NMI-safe. The
 * panic notifier is different: nothing runs after it, so it asks the Rust
 * side to record and print the latest report there and then (no sleeping,
 * no allocation). None of the hooks exists with watch_interval_ms=0.
 *
 * sched_process_hang is not exported; like LTTng, the probe is attached by
 * finding the tracepoint with for_each_kernel_tracepoint().
 */
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kdebug.h>
#include <linux/minmax.h>
#include <linux/notifier.h>
#include <linux/panic_notifier.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>

#include "kintrospect.h"

#define WATCH_MAX_HITS	16

static struct kintrospect_watch_hit hits[WATCH_MAX_HITS];
static u32 nr_hits;
static u32 hits_dropped;
static DEFINE_RAW_SPINLOCK(hits_lock);

static void kintrospect_watch_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(watch_work, kintrospect_watch_fn);
static unsigned long watch_delay;

static void kintrospect_watch_fn(struct work_struct *work)
{
	kintrospect_watch_deferred();
	/* Unbound: a sample must not wait behind a CPU stuck with preemption off. */
	queue_delayed_work(system_dfl_long_wq, &watch_work, watch_delay);
}

/* Samples now: the hooks' way to the work, from any context. */
static void kintrospect_watch_kick_fn(struct irq_work *work)
{
	mod_delayed_work(system_dfl_long_wq, &watch_work, 0);
}

static DEFINE_IRQ_WORK(watch_kick, kintrospect_watch_kick_fn);

/* Notes that @p hit @kind and kicks the work; drops the hit when busy or full. */
static void note_hit(u32 kind, struct task_struct *p)
{
	struct kintrospect_watch_hit *h;
	unsigned long flags;

	if (!raw_spin_trylock_irqsave(&hits_lock, flags)) {
		hits_dropped++;
		return;
	}
	if (nr_hits < WATCH_MAX_HITS) {
		h = &hits[nr_hits++];
		h->taken_ns = ktime_get_mono_fast_ns();
		h->kind = kind;
		h->pid = task_pid_nr(p);
		h->cpu = raw_smp_processor_id();
		h->pad = 0;
		memcpy(h->comm, p->comm, sizeof(h->comm));
	} else {
		hits_dropped++;
	}
	raw_spin_unlock_irqrestore(&hits_lock, flags);
	irq_work_queue(&watch_kick);
}

/**
 * kintrospect_watch_take() - take the hits noted since the last call
 * @out: receives them, oldest first
 * @max: room in @out
 * @dropped: receives the number of hits lost since the last call
 *
 * Return: the number of hits in @out. Process context.
 */
u32 kintrospect_watch_take(struct kintrospect_watch_hit *out, u32 max, u32 *dropped)
{
	unsigned long flags;
	u32 n;

	raw_spin_lock_irqsave(&hits_lock, flags);
	n = min(nr_hits, max);
	memcpy(out, hits, n * sizeof(*out));
	*dropped = hits_dropped + (nr_hits - n);
	nr_hits = 0;
	hits_dropped = 0;
	raw_spin_unlock_irqrestore(&hits_lock, flags);
	return n;
}

static bool hang_attached, die_registered, panic_registered, started;

#ifdef CONFIG_TRACEPOINTS
static struct tracepoint *hang_tp;

/* The hung-task detector found @t blocked longer than hung_task_timeout_secs. */
static void kintrospect_hang_probe(void *data, struct task_struct *t)
{
	note_hit(KINTROSPECT_HIT_HUNG_TASK, t);
}

static void find_hang_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_hang"))
		*(struct tracepoint **)priv = tp;
}

/* Attaches the hung-task probe if the kernel has the tracepoint. */
static int hang_attach(void)
{
	int ret;

	for_each_kernel_tracepoint(find_hang_tp, &hang_tp);
	if (!hang_tp)
		return 0;
	ret = tracepoint_probe_register(hang_tp, (void *)kintrospect_hang_probe, NULL);
	hang_attached = !ret;
	return ret;
}

static void hang_detach(void)
{
	if (!hang_attached)
		return;
	tracepoint_probe_unregister(hang_tp, (void *)kintrospect_hang_probe, NULL);
	tracepoint_synchronize_unregister();
	hang_attached = false;
}
#else
/* No tracepoints (a kernel without CONFIG_TRACEPOINTS): no hung-task events. */
static int hang_attach(void)
{
	return 0;
}

static void hang_detach(void)
{
}
#endif

static int kintrospect_die(struct notifier_block *nb, unsigned long val, void *data)
{
	if (val == DIE_OOPS)
		note_hit(KINTROSPECT_HIT_OOPS, current);
	return NOTIFY_DONE;
}

static struct notifier_block die_nb = {
	.notifier_call = kintrospect_die,
};

static int kintrospect_panic(struct notifier_block *nb, unsigned long val, void *msg)
{
	kintrospect_watch_panic();
	return NOTIFY_DONE;
}

static struct notifier_block panic_nb = {
	.notifier_call = kintrospect_panic,
};

/**
 * kintrospect_watch_start() - start sampling every @interval_ms and attach the hooks
 * @interval_ms: the period, non-zero
 *
 * Return: 0, or an errno from attaching a hook (the others are detached
 * again). The tracepoint is optional: without it (no CONFIG_TRACEPOINTS, or
 * not found) the watch runs without hung-task events, as
 * kintrospect_watch_hooks() says. Sleeps.
 */
int kintrospect_watch_start(u32 interval_ms)
{
	int ret;

	ret = hang_attach();
	if (ret)
		goto fail;
	ret = register_die_notifier(&die_nb);
	if (ret)
		goto fail;
	die_registered = true;
	ret = atomic_notifier_chain_register(&panic_notifier_list, &panic_nb);
	if (ret)
		goto fail;
	panic_registered = true;
	watch_delay = max(msecs_to_jiffies(interval_ms), 1UL);
	queue_delayed_work(system_dfl_long_wq, &watch_work, watch_delay);
	started = true;
	return 0;
fail:
	kintrospect_watch_stop();
	return ret;
}

/*
 * Detaches the hooks, then stops the work (waiting for a sample in
 * progress): afterwards nothing calls back. Sleeps.
 */
void kintrospect_watch_stop(void)
{
	if (panic_registered)
		atomic_notifier_chain_unregister(&panic_notifier_list, &panic_nb);
	if (die_registered)
		unregister_die_notifier(&die_nb);
	hang_detach();
	panic_registered = die_registered = false;
	/* No hook can queue the irq_work now; it may still be pending. */
	irq_work_sync(&watch_kick);
	if (started)
		cancel_delayed_work_sync(&watch_work);
	started = false;
}

/* Which hooks the watch has: KINTROSPECT_HOOK_* bits. */
u32 kintrospect_watch_hooks(void)
{
	return (hang_attached ? KINTROSPECT_HOOK_HUNG_TASK : 0) |
	       (die_registered ? KINTROSPECT_HOOK_OOPS : 0) |
	       (panic_registered ? KINTROSPECT_HOOK_PANIC : 0);
}
