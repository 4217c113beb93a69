// SPDX-License-Identifier: GPL-2.0
/*
 * The watch (the flight recorder's sampler): a work item run every
 * interval by timers, and the hooks that make it sample at once - the
 * hung-task detector's sched_process_hang tracepoint, the die notifier (an
 * oops) - and the panic notifier. What a sample does and what an event holds is the Rust side's
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
 * finding the tracepoint with for_each_kernel_tracepoint(). How the work
 * keeps its cadence is the DOC: comment below.
 */

/**
 * DOC: The watch's cadence
 *
 * The watch must go on sampling through the incident it records, whatever
 * set of CPUs is wedged. A timer fires only on the CPU it was queued on, and
 * a CPU spinning with interrupts off runs none of its timers: a delayed work
 * (whose timer stays on the CPU that queued it) stops for good when that CPU
 * locks up - and the hard lockup never becomes an event. So each sample ends
 * by arming one timer per online CPU (add_timer_on()): its own CPU's (the
 * primary) for the interval, every other CPU's (the backups) for the
 * interval and half as much again. Whichever fires first queues the sample
 * on an unbound workqueue; a backup that finds a sample started since it was
 * armed does nothing.
 *
 * Healthy, each sample re-arms them all before any backup expires: a timer
 * re-queue per CPU per sample (under nohz, an idle CPU may wake once per
 * interval for it), and no backup ever runs. When a CPU runs no timers, the
 * next sample is late by half an interval at most and is counted as
 * *rescued*; a sample that starts late for any reason (the work could not
 * run at once) is counted as *late* (kintrospect_watch_cadence());
 * ``status`` and ``metrics`` show both, the longest gap and the age of the
 * latest sample, so a watch that fell behind says so.
 *
 * Nothing in a sample waits for every CPU: the NMI round waits for each CPU
 * at most ``nmi_timeout_ms`` (and not again for one that did not answer),
 * the locks walk reads under RCU, and nothing is vfree()d or flushed on
 * other CPUs. Tested by kintrospect_watch_cadence.sh: every CPU but one
 * spinning with interrupts off (ki_wedge), three times for 3 s; the watch
 * goes on sampling and records each wedged CPU as a ``stuck-cpu`` event.
 */
#include <linux/cpu.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kdebug.h>
#include <linux/slab.h>
#include <linux/minmax.h>
#include <linux/notifier.h>
#include <linux/panic_notifier.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/timer.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>

#include "kintrospect.h"

#define WATCH_MAX_HITS	16

static struct kintrospect_watch_hit hits[WATCH_MAX_HITS];
static u32 nr_hits;
/*
 * The hits the sample in progress took, until it has recorded them: a panic
 * that stops it in the middle (a hung task's report panics the kernel while
 * the sample its hook kicked runs) must still find them.
 */
static struct kintrospect_watch_hit taken[WATCH_MAX_HITS];
static u32 nr_taken;
/* Hits lost: the array was busy (maybe in NMI) or full. */
static atomic_t hits_dropped = ATOMIC_INIT(0);
static DEFINE_RAW_SPINLOCK(hits_lock);

static void kintrospect_watch_fn(struct work_struct *work);
static DECLARE_WORK(watch_work, kintrospect_watch_fn);

/* One timer per possible CPU (see the top of the file). */
static struct timer_list *watch_timers;
static unsigned long watch_delay, watch_slack;
static u64 watch_late_ns;
/* The CPU of the primary timer; the timers' generation and the started one. */
static int watch_primary = -1;
static unsigned long watch_armed_gen, watch_started_gen;
/* A backup timer queued the sample. */
static atomic_t watch_rescue = ATOMIC_INIT(0);
/* Written by the work only (it never runs twice at once); read anywhere. */
static struct kintrospect_watch_cadence cadence;

static void kintrospect_watch_timer_fn(struct timer_list *t)
{
	int cpu = t - watch_timers;

	if (cpu == READ_ONCE(watch_primary)) {
		queue_work(system_dfl_long_wq, &watch_work);
		return;
	}
	/* A backup: only when no sample started since it was armed. */
	if (READ_ONCE(watch_started_gen) == READ_ONCE(watch_armed_gen))
		return;
	if (queue_work(system_dfl_long_wq, &watch_work))
		atomic_set(&watch_rescue, 1);
}

/*
 * Arms every online CPU's timer: the calling CPU's for the interval, the
 * others' for the interval and the slack. A timer is only ever re-queued
 * on its own CPU (add_timer_on()); one whose CPU went offline after the
 * check stays unused there, the others do the work. Needs no lock: the
 * work is the only caller once started.
 */
static void arm_timers(void)
{
	unsigned long now = jiffies;
	int self = raw_smp_processor_id(), cpu;

	WRITE_ONCE(watch_primary, self);
	WRITE_ONCE(watch_armed_gen, watch_armed_gen + 1);
	for_each_online_cpu(cpu) {
		struct timer_list *t = &watch_timers[cpu];

		timer_delete(t);
		t->expires = now + watch_delay + (cpu == self ? 0 : watch_slack);
		add_timer_on(t, cpu);
	}
}

static void kintrospect_watch_fn(struct work_struct *work)
{
	u64 start = ktime_get_mono_fast_ns(), last = READ_ONCE(cadence.last_ns);

	WRITE_ONCE(watch_started_gen, READ_ONCE(watch_armed_gen));
	if (last && start > last) {
		if (start - last > READ_ONCE(cadence.longest_gap_ns))
			WRITE_ONCE(cadence.longest_gap_ns, start - last);
		if (start - last > watch_late_ns)
			WRITE_ONCE(cadence.late, cadence.late + 1);
	}
	if (atomic_xchg(&watch_rescue, 0))
		WRITE_ONCE(cadence.rescued, cadence.rescued + 1);
	kintrospect_watch_deferred();
	WRITE_ONCE(cadence.last_ns, ktime_get_mono_fast_ns());
	/* After a shutdown (unload), add_timer_on() leaves the timers alone. */
	arm_timers();
}

/**
 * kintrospect_watch_cadence() - how the watch kept its cadence
 * @out: receives the counts
 */
void kintrospect_watch_cadence(struct kintrospect_watch_cadence *out)
{
	out->last_ns = READ_ONCE(cadence.last_ns);
	out->longest_gap_ns = READ_ONCE(cadence.longest_gap_ns);
	out->late = READ_ONCE(cadence.late);
	out->rescued = READ_ONCE(cadence.rescued);
	out->late_after_ns = watch_late_ns;
}

/* Samples now: the hooks' way to the work, from any context. */
static void kintrospect_watch_kick_fn(struct irq_work *work)
{
	queue_work(system_dfl_long_wq, &watch_work);
}

static DEFINE_IRQ_WORK(watch_kick, kintrospect_watch_kick_fn);

/* Notes that @p hit @kind and kicks the work; drops the hit when busy or full. */
static void note_hit(u32 kind, struct task_struct *p)
{
	struct kintrospect_watch_hit *h;
	unsigned long flags;

	if (!raw_spin_trylock_irqsave(&hits_lock, flags)) {
		atomic_inc(&hits_dropped);
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
		atomic_inc(&hits_dropped);
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
	memcpy(taken, hits, n * sizeof(*out));
	nr_taken = n;
	*dropped = atomic_xchg(&hits_dropped, 0) + (nr_hits - n);
	nr_hits = 0;
	raw_spin_unlock_irqrestore(&hits_lock, flags);
	return n;
}

/* The sample has recorded the hits it took. Process context. */
void kintrospect_watch_recorded(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&hits_lock, flags);
	nr_taken = 0;
	raw_spin_unlock_irqrestore(&hits_lock, flags);
}

/**
 * kintrospect_watch_peek_panic() - the hits no sample has recorded, in a panic
 * @out: receives them, oldest first
 * @max: room in @out
 *
 * For the panic notifier: a hung task whose report made the kernel panic
 * (hung_task_panic=1) was noted, but no sample will record it - none will
 * run, or the one that took it was stopped. Only tries the lock (a stopped
 * CPU may hold it) and leaves the hits in place.
 *
 * Return: the number of hits in @out; 0 when the lock was held. Any context.
 */
u32 kintrospect_watch_peek_panic(struct kintrospect_watch_hit *out, u32 max)
{
	unsigned long flags;
	u32 n, m;

	if (!raw_spin_trylock_irqsave(&hits_lock, flags))
		return 0;
	n = min(nr_taken, max);
	memcpy(out, taken, n * sizeof(*out));
	m = min(nr_hits, max - n);
	memcpy(out + n, hits, m * sizeof(*out));
	raw_spin_unlock_irqrestore(&hits_lock, flags);
	return n + m;
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
	int ret, cpu;

	watch_timers = kcalloc(nr_cpu_ids, sizeof(*watch_timers), GFP_KERNEL);
	if (!watch_timers)
		return -ENOMEM;
	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		timer_setup(&watch_timers[cpu], kintrospect_watch_timer_fn, 0);
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
	watch_slack = max(watch_delay / 2, 2UL);
	/* A sample is late when the primary timer did not start it. */
	watch_late_ns = jiffies_to_nsecs(watch_delay + watch_slack);
	started = true;
	cpus_read_lock();
	arm_timers();
	cpus_read_unlock();
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
	if (started) {
		int cpu;

		/* No timer runs or can be armed again (a sample in progress). */
		for (cpu = 0; cpu < nr_cpu_ids; cpu++)
			timer_shutdown_sync(&watch_timers[cpu]);
		cancel_work_sync(&watch_work);
	}
	kfree(watch_timers);
	watch_timers = NULL;
	started = false;
}

/* Which hooks the watch has: KINTROSPECT_HOOK_* bits. */
u32 kintrospect_watch_hooks(void)
{
	return (hang_attached ? KINTROSPECT_HOOK_HUNG_TASK : 0) |
	       (die_registered ? KINTROSPECT_HOOK_OOPS : 0) |
	       (panic_registered ? KINTROSPECT_HOOK_PANIC : 0);
}
