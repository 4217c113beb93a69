// SPDX-License-Identifier: GPL-2.0
/**
 * DOC: CPU snapshots
 *
 * A snapshot is a *round*: it asks every other online CPU for the round and
 * sends it an NMI (__apic_send_IPI_mask() with NMI_VECTOR, as
 * nmi_trigger_cpumask_backtrace() does), captures the calling CPU directly,
 * then waits at most ``nmi_timeout_ms`` for the answers; a CPU that did not
 * answer is ``no-response``. At load, one NMI slot per possible CPU and two
 * snapshot buffers (the one being taken and the published one) are
 * preallocated, and an NMI_LOCAL handler is registered.
 *
 * Each CPU's handler writes only its own slot: no locks, no allocation,
 * nothing that can fail and no symbol lookup. Its work is bounded by one ORC
 * unwind of at most KINTROSPECT_MAX_FRAMES (64) frames and a read of at most
 * KINTROSPECT_CPU_MAX_HELD (8) entries of the interrupted task's lockdep
 * held-lock stack (fill_held(): the one moment a running task's locks can be
 * read reliably). It records the CPU, a CLOCK_MONOTONIC timestamp, pid,
 * tgid, comm, whether it interrupted user mode, kernel mode or the idle
 * task, the interrupt state and preempt count of the interrupted context,
 * ip/sp/flags and the frames unwound from the interrupted registers, marking
 * those that follow an interrupt or exception entry
 * (unwind_get_entry_regs()): they are interrupted ips, not return addresses.
 *
 * The model is the kernel's own nmi_cpu_backtrace() (lib/nmi_backtrace.c),
 * with the output going into memory instead of the console.
 */

/**
 * DOC: Which NMIs are kintrospect's
 *
 * NMIs carry no sender, so it is decided by counting, per CPU: ``sent``
 * counts the NMIs kintrospect sent to the CPU (only the trigger increments
 * it), ``got`` those its handler claimed. The handler claims an NMI only if
 * it can increment ``got`` while ``got != sent`` (a cmpxchg loop), and
 * returns NMI_DONE for every other NMI. So each NMI kintrospect sent is
 * claimed exactly once, however late it comes, and no NMI it did not send is
 * claimed while none of its own is on the way.
 *
 * While one is on its way, a foreign NMI (a perf interrupt, SysRq-l's
 * backtrace NMI, an external NMI) that reaches the CPU first is claimed in
 * its place, and kintrospect's own, coming later, would reach the kernel as
 * an unknown NMI ("Uhhuh. NMI received for unknown reason"; a panic with
 * ``unknown_nmi_panic``). So each CPU's NMI is sent right after its count,
 * one CPU at a time (request_round()), and a handler that claimed an NMI
 * waits, at most SEND_WAIT_NS (10 ms), until the trigger has written the IPI
 * it counted (wait_for_send()): kintrospect's own NMI then arrives while the
 * claimed one is being handled, is latched by the CPU and taken right after
 * it, back to back - and since the foreign NMI's owner claimed it too, the
 * kernel counts two handlers and swallows that back-to-back NMI
 * (``swallow_nmi`` in default_do_nmi()), as it does for perf. A genuinely
 * unknown NMI claimed so is still reported once, by the NMI that follows it.
 *
 * What is left is a foreign NMI arriving between the IPI's write and its
 * delivery, and, in a VM, a trigger whose vCPU the host deschedules inside
 * the send for longer than the handler waits (the send itself runs with
 * interrupts off). The kernel's own nmi_cpu_backtrace() claims by a flag,
 * with the same window. kintrospect_nmi_blocked.sh measures it with SysRq-l
 * pressed beside snapshots: under TCG, 2 unknown NMIs in one run of 20
 * presses beside 300 snapshots before the wait; 1 in three runs with a 1 ms
 * wait; none in three runs of 5 presses beside 100 snapshots with the 10 ms
 * wait and the send's interrupts off.
 *
 * A CPU that still has one of kintrospect's NMIs on its way is not sent
 * another: that NMI answers the new round when it arrives, and the round
 * does not wait for it (a CPU with NMIs blocked, stuck in an NMI handler,
 * costs the full ``nmi_timeout_ms`` once, not every round). At most one is
 * in flight per CPU, so two of kintrospect's NMIs are never merged into one
 * delivery (which would leave ``got`` behind ``sent``). An NMI a round gave
 * up on pins the module until the handler claims it: rmmod fails with
 * EBUSY rather than unregister the handler while it can still arrive.
 */

/**
 * DOC: Rounds
 *
 * The trigger writes the round number into the slot before it increments
 * ``sent``; the handler reads it after claiming and tags its data with it.
 * The snapshot uses only data tagged with its own round, which was
 * therefore captured after the round started; anything else (a late answer
 * to an earlier round) is ignored. The handler writes its data under a
 * sequence count (it is the slot's only writer: NMIs do not nest on a CPU)
 * and the trigger reads it with a check, so a late handler rewriting the
 * slot is never read torn.
 *
 * A CPU whose data for the round has not arrived when the wait ends is
 * ``no-response``: it may be spinning with NMIs blocked, or only slow to
 * take the NMI (a busy host, a descheduled vCPU). Its NMI, when it comes, is
 * still claimed; its data then serves the next round or nobody, never the
 * round that gave up on it. An offline CPU drops NMIs before any handler
 * runs: what it had not taken is written off when a round finds it offline.
 *
 * At unload (no NMI a round gave up on can be on its way then: each pins
 * the module), the handler is unregistered once every NMI kintrospect sent
 * has been claimed, or after EXIT_SETTLE_MS (one second), with a warning
 * that the NMIs still on their way may be reported as unknown NMIs.
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/debug_locks.h>
#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/nmi.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <asm/apic.h>
#include <asm/irq_regs.h>
#include <asm/nmi.h>
#include <asm/unwind.h>

#include "kintrospect.h"
#include "lockinfo.h"

#define KINTROSPECT_NMI_NAME "kintrospect"

/* How long unload waits for NMIs still on their way. */
#define EXIT_SETTLE_MS	1000
#define EXIT_POLL_MS	10

/* How long a handler waits for the trigger to write the IPI it claimed for. */
#define SEND_WAIT_NS	(10 * NSEC_PER_MSEC)

/* Readers start again this often when newer snapshots keep coming. */
#define COPY_TRIES	8

/* One entry of the interrupted task's lockdep held-lock stack. */
struct nmi_held {
	u64 instance;		/* the lockdep map */
	u64 acquire_ip;
	u64 held_ns;		/* CONFIG_LOCK_STAT, else 0 */
	u32 read;		/* enum kintrospect_held_mode */
	u32 kind;		/* enum kintrospect_lock_kind */
	u32 flags;		/* KINTROSPECT_LOCK_F_MAGIC_BAD, _WAITING, _MAYBE_WAITING */
	u32 pad;
};

/* What a CPU records of itself: in its NMI handler, or the trigger's own. */
struct nmi_sample {
	u64 round;		/* the round this capture answers */
	u64 taken_ns;
	u64 handler_ns;
	u64 ip;
	u64 sp;
	u64 flags;
	u64 frames[KINTROSPECT_MAX_FRAMES];
	u64 interrupted;	/* bit i: frames[i] is an interrupted ip */
	s32 pid;
	s32 tgid;
	u32 state;
	u32 mode;
	u32 context;
	u32 irqs_disabled;
	u32 preempt_count;
	u32 nr_frames;
	char comm[KINTROSPECT_COMM_LEN];
	u64 nr_switches;
	u64 start_time;
	u64 utime;
	u32 lockdep;		/* enum kintrospect_cpu_lockdep */
	u32 nr_held;
	u32 held_dropped;
	struct nmi_held held[KINTROSPECT_CPU_MAX_HELD];
};

struct nmi_slot {
	atomic_t sent;		/* NMIs kintrospect sent to this CPU */
	atomic_t got;		/* NMIs this CPU's handler claimed */
	u64 round;		/* the latest round asked of this CPU */
	seqcount_t seq;		/* odd while the handler writes sample */
	u32 sending;		/* 1 from before sent++ until the IPI is written */
	atomic_t pinned;	/* 1: a round gave up on our NMI, which pins the module */
	u64 handler_total_ns;	/* time in the handler for the NMIs it claimed; this CPU writes */
	struct nmi_sample sample;
} ____cacheline_aligned;

static struct nmi_slot *slots;
static struct kintrospect_cpu *snap_work;
static struct kintrospect_cpu *snap_pub;
/* One no-op work item per CPU, to see whether it can schedule (probe_held()). */
static struct work_struct *probes;

/*
 * What the latest snapshot that had an answer from a CPU found there, for
 * carry_on_cpu(): a round the CPU did not answer (a vCPU descheduled past
 * nmi_timeout_ms) does not break a run. Only the capture in progress
 * (capture_busy) uses it.
 */
struct carry {
	u64 since_ns;
	u64 start_time;
	u64 nr_switches;
	u64 utime;
	s32 pid;
	bool held;
};

static struct carry *carries;
static struct kintrospect_cpus_info info_pub;
static DEFINE_RAW_SPINLOCK(pub_lock);
static atomic_t capture_busy = ATOMIC_INIT(0);
static u32 capture_timeout_ms;
static u32 nr_slots;
static u64 capture_round;

/* Only the capture in progress (capture_busy) uses these. */
static cpumask_t capture_waiting;	/* CPUs sent an NMI this round, not answered yet */
static cpumask_t capture_stale;		/* CPUs whose NMI of an earlier round is still out */
static struct nmi_sample capture_sample;
static char capture_symbol[KSYM_SYMBOL_LEN];

/*
 * The preempt count of the context the NMI interrupted: nmi_enter() added
 * HARDIRQ_OFFSET and NMI bits (one count, or the whole mask where NMI
 * nesting is counted per CPU), and nmi_handle() calls handlers inside
 * rcu_read_lock(), a preempt_disable() unless RCU is preemptible.
 */
static u32 interrupted_preempt_count(void)
{
	u32 pc = (preempt_count() & ~NMI_MASK) - HARDIRQ_OFFSET;

	if (IS_ENABLED(CONFIG_PREEMPT_COUNT) && !IS_ENABLED(CONFIG_PREEMPT_RCU))
		pc -= PREEMPT_OFFSET;
	return pc;
}

/* The interrupt level of a context with preempt count @pc. */
static u32 context_of(u32 pc)
{
	if (pc & NMI_MASK)
		return KINTROSPECT_CONTEXT_NMI;
	if (pc & HARDIRQ_MASK)
		return KINTROSPECT_CONTEXT_IRQ;
	if (pc & SOFTIRQ_OFFSET)
		return KINTROSPECT_CONTEXT_SOFTIRQ;
	return KINTROSPECT_CONTEXT_TASK;
}

/*
 * Records the lockdep held-lock stack of @p, the current task, into @s: its
 * innermost KINTROSPECT_CPU_MAX_HELD entries, the others counted. Only @p
 * changes its own stack, and it is interrupted: the stack cannot change
 * under this read (lock_acquire() fills an entry before it counts it), which
 * is what makes a running task's locks reliable here and nowhere else. An
 * entry is a lock being acquired or held (lockdep records an acquisition
 * before the wait): kintrospect_entry_decide() tells which from the lock's
 * own owner state, as locks.c does, and the lock @p is blocked on
 * (blocked_on, blocker) is waited for. A waited-for entry is marked
 * WAITING, one the lock cannot decide MAYBE_WAITING. Once lockdep has
 * turned itself off (debug_locks == 0) the stacks are frozen as they were
 * then: nothing is read. Names and sites are left to the trigger; every
 * read of a lock is fault-safe, nothing is locked or allocated.
 */
static void fill_held(struct nmi_sample *s, struct task_struct *p)
{
#ifdef CONFIG_LOCKDEP
	const struct lockdep_map *waited;
	const void *blocked;
	int depth, first, i;
#ifdef CONFIG_LOCK_STAT
	u64 now = local_clock();
#endif

	s->lockdep = KINTROSPECT_CPU_LOCKDEP_OFF;
	if (!READ_ONCE(debug_locks))
		return;
	s->lockdep = KINTROSPECT_CPU_LOCKDEP_ON;
	depth = clamp_t(int, READ_ONCE(p->lockdep_depth), 0, MAX_LOCK_DEPTH);
	first = max(depth - KINTROSPECT_CPU_MAX_HELD, 0);
	s->held_dropped = first;
	waited = kintrospect_lock_map(kintrospect_blocked_lock(p, &blocked), blocked);
	for (i = first; i < depth; i++) {
		const struct held_lock *hl = &p->held_locks[i];
		struct nmi_held *h = &s->held[s->nr_held];
		struct kintrospect_entry e;

		if (!hl->instance)
			continue;
		kintrospect_entry_decide(hl->instance, hl->read, p, &e);
		h->instance = (unsigned long)hl->instance;
		h->acquire_ip = hl->acquire_ip;
		h->read = min_t(u32, hl->read, KINTROSPECT_HELD_RECURSIVE_READ);
		h->kind = e.kind;
		h->flags = e.magic_bad ? KINTROSPECT_LOCK_F_MAGIC_BAD : 0;
		if (e.state == KINTROSPECT_ENTRY_WAIT || hl->instance == waited)
			h->flags |= KINTROSPECT_LOCK_F_WAITING;
		else if (e.state == KINTROSPECT_ENTRY_MAYBE)
			h->flags |= KINTROSPECT_LOCK_F_MAYBE_WAITING;
		h->held_ns = 0;
#ifdef CONFIG_LOCK_STAT
		if (hl->holdtime_stamp && now > hl->holdtime_stamp)
			h->held_ns = now - hl->holdtime_stamp;
#endif
		s->nr_held++;
	}
#endif
}

/*
 * Fills @s from the current CPU: @regs is the interrupted context and @pc
 * its preempt count, or NULL and the caller's own. Cheap enough for NMI
 * context: registers, the task, its held locks (a bounded read) and one
 * bounded unwind.
 *
 * The mode is the task's, under any interrupt the NMI interrupted: user
 * when @regs are user mode, or when the NMI interrupted an interrupt (hard
 * or soft) that interrupted user mode - a user loop caught in the timer
 * interrupt is still in user mode. The unwind tells: it crosses the entry
 * registers of that interrupt, user mode with orig_ax -1 (every entry but
 * a system call's sets it so; a system call's is its number, and a task in
 * one is in the kernel). The idle task is idle, in an interrupt or not (its
 * CPU is busy then: RUNNING). The context says which interrupt level the
 * NMI interrupted.
 */
static void fill_cpu(struct nmi_sample *s, struct pt_regs *regs, u32 pc)
{
	struct task_struct *p = current;
	bool user = regs && user_mode(regs);
	bool in_intr = pc & (HARDIRQ_MASK | SOFTIRQ_OFFSET);
	struct unwind_state state;
	unsigned long addr;
	u32 n = 0;

	s->taken_ns = ktime_get_mono_fast_ns();
	s->pid = p->pid;
	s->tgid = p->tgid;
	memcpy(s->comm, p->comm, sizeof(s->comm));
	s->comm[sizeof(s->comm) - 1] = '\0';
	s->nr_switches = READ_ONCE(p->nvcsw) + READ_ONCE(p->nivcsw);
	s->start_time = p->start_time;
	s->utime = READ_ONCE(p->utime);
	s->lockdep = KINTROSPECT_CPU_LOCKDEP_NONE;
	s->nr_held = 0;
	s->held_dropped = 0;
	fill_held(s, p);

	if (regs) {
		s->ip = regs->ip;
		s->sp = regs->sp;
		s->flags = regs->flags;
		s->irqs_disabled = !(regs->flags & X86_EFLAGS_IF);
	} else {
		s->ip = _THIS_IP_;
		s->sp = current_stack_pointer;
		s->flags = native_save_fl();
		s->irqs_disabled = irqs_disabled();
	}
	s->preempt_count = pc;
	s->context = context_of(pc);
	/* The idle task in an interrupt is a busy CPU, not an idle one. */
	s->state = is_idle_task(p) && s->context == KINTROSPECT_CONTEXT_TASK ?
		   KINTROSPECT_CPU_IDLE : KINTROSPECT_CPU_RUNNING;

	s->nr_frames = 0;
	s->interrupted = 0;
	if (user)
		goto mode;

	/*
	 * As arch_stack_walk(): the ip first (frames[0] is never a return
	 * address), then the unwound return addresses - except where the
	 * unwinder crossed a pt_regs frame (an interrupt or exception entry):
	 * the address there is the interrupted ip.
	 */
	s->interrupted = BIT_ULL(0);
	s->frames[n++] = s->ip;
	for (unwind_start(&state, p, regs, NULL);
	     !unwind_done(&state) && n < KINTROSPECT_MAX_FRAMES;
	     unwind_next_frame(&state)) {
		struct pt_regs *entry = unwind_get_entry_regs(&state, NULL);

		/* The end of the kernel stack: user mode below. */
		if (entry && user_mode(entry)) {
			user = in_intr && (long)entry->orig_ax == -1;
			break;
		}
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		if (n == 1 && addr == s->ip)
			continue;
		if (entry)
			s->interrupted |= BIT_ULL(n);
		s->frames[n++] = addr;
	}
	s->nr_frames = n;
mode:
	if (is_idle_task(p))
		s->mode = KINTROSPECT_MODE_IDLE;
	else
		s->mode = user ? KINTROSPECT_MODE_USER : KINTROSPECT_MODE_KERNEL;
}

/*
 * The calling CPU's own record: in a hard interrupt (the SysRq key from the
 * keyboard), the context that interrupt interrupted, from its registers
 * (get_irq_regs()): its mode, ip and frames, and the interrupt bits of its
 * preempt count (its preempt-disable depth cannot be told from here: 0).
 * Otherwise (a write to control, the watch's work) the caller itself.
 */
static void fill_self(struct nmi_sample *s)
{
	struct pt_regs *regs = in_hardirq() ? get_irq_regs() : NULL;

	if (regs)
		fill_cpu(s, regs, (preempt_count() & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)) -
			 HARDIRQ_OFFSET);
	else
		fill_cpu(s, NULL, preempt_count());
}

/*
 * After a claim: waits (at most SEND_WAIT_NS: the trigger sends with
 * interrupts off, but a vCPU can be descheduled anywhere) until the trigger
 * has written the IPI it counted. If the NMI just claimed was a foreign one that came
 * first (SysRq-l's backtrace NMI, a perf interrupt), the IPI's own NMI then
 * arrives while this one is being handled: the CPU latches it and takes it
 * right after this one, back to back. Its owner claimed the first NMI too,
 * so the kernel counted two handlers and swallows that back-to-back NMI
 * (default_do_nmi()'s swallow_nmi) instead of reporting it unknown. What is
 * left is a foreign NMI that arrives after the IPI is written and before
 * its NMI is delivered (a delivery's latency), and a trigger whose vCPU the
 * host deschedules for longer than the wait.
 */
static void wait_for_send(struct nmi_slot *s)
{
	u64 start;

	if (!READ_ONCE(s->sending))
		return;
	start = local_clock();
	while (READ_ONCE(s->sending) && local_clock() - start < SEND_WAIT_NS)
		cpu_relax();
}

static int kintrospect_nmi_handler(unsigned int type, struct pt_regs *regs)
{
	struct nmi_slot *s = &slots[raw_smp_processor_id()];
	int got = atomic_read(&s->got);
	u64 start;

	/* Ours iff one of the NMIs kintrospect sent here is still unclaimed. */
	do {
		if (got == atomic_read(&s->sent))
			return NMI_DONE;
	} while (!atomic_try_cmpxchg(&s->got, &got, got + 1));

	start = local_clock();
	/* raw_: no lockdep in NMI; the only writer of this CPU's slot. */
	raw_write_seqcount_begin(&s->seq);
	/* Ordered after the claim, which saw the sent written after round. */
	s->sample.round = READ_ONCE(s->round);
	fill_cpu(&s->sample, regs, interrupted_preempt_count());
	s->sample.handler_ns = local_clock() - start;
	raw_write_seqcount_end(&s->seq);
	wait_for_send(s);
	/*
	 * The pin of an NMI a round gave up on (pin_late()): unload's
	 * synchronize_rcu() in unregister_nmi_handler() waits for the rest of
	 * this handler.
	 */
	if (atomic_xchg(&s->pinned, 0))
		module_put(THIS_MODULE);
	/* Only this CPU writes it, and NMIs do not nest: no lock, no atomic. */
	WRITE_ONCE(s->handler_total_ns, s->handler_total_ns + local_clock() - start);
	return NMI_HANDLED;
}

/*
 * Asks @cpu for round @round and sends it an NMI, right after counting it
 * sent: from that count until the NMI arrives, a foreign NMI on @cpu would
 * be claimed as ours (and ours then be unknown to the kernel), so the
 * window is kept to one IPI. Returns false, sending nothing, when one of
 * ours is still on its way to @cpu since an earlier round: that one
 * answers this round, if it ever arrives.
 */
static bool request_round(int cpu, u64 round)
{
	struct nmi_slot *s = &slots[cpu];
	unsigned long flags;

	WRITE_ONCE(s->round, round);
	/*
	 * Pairs with the handler's claim: either the check below sees its
	 * claim, or the handler sees this round.
	 */
	smp_mb();
	if (atomic_read(&s->got) != atomic_read(&s->sent))
		return false;
	/* No interrupt between the count and the IPI: the window stays this wide. */
	local_irq_save(flags);
	/* Seen by a handler that sees the count (wait_for_send()). */
	WRITE_ONCE(s->sending, 1);
	smp_mb__before_atomic();
	atomic_inc(&s->sent);
	/* Orders sent before the IPI, like nmi_trigger_cpumask_backtrace(). */
	smp_mb__after_atomic();
	__apic_send_IPI_mask(cpumask_of(cpu), NMI_VECTOR);
	smp_store_release(&s->sending, 0);
	local_irq_restore(flags);
	return true;
}

/*
 * An offline CPU drops every NMI before any handler runs (exc_nmi()), so an
 * NMI of ours it had not taken when it went offline will never be claimed:
 * it is written off, and its pin dropped.
 */
static void forget_dropped(int cpu)
{
	struct nmi_slot *s = &slots[cpu];

	atomic_set(&s->got, atomic_read(&s->sent));
	if (atomic_xchg(&s->pinned, 0))
		module_put(THIS_MODULE);
}

/*
 * A round gave up on @cpu's NMI, which is still on its way: it pins the
 * module until the handler claims it, so that rmmod refuses (EBUSY) rather
 * than unregister the handler under it (the NMI would be unknown). Pairs
 * with the handler: either the check below sees its claim, or the handler
 * sees the pin.
 */
static void pin_late(int cpu)
{
	struct nmi_slot *s = &slots[cpu];

	if (atomic_xchg(&s->pinned, 1))
		return;
	__module_get(THIS_MODULE);
	if (atomic_read(&s->got) == atomic_read(&s->sent) && atomic_xchg(&s->pinned, 0))
		module_put(THIS_MODULE);
}

/* Copies @cpu's answer to @round into @out; false if it is not there (yet). */
static bool take_answer(int cpu, u64 round, struct nmi_sample *out)
{
	struct nmi_slot *s = &slots[cpu];
	/* Never waits: an NMI may be writing, the caller retries. */
	unsigned int seq = raw_read_seqcount(&s->seq);

	if ((seq & 1) || READ_ONCE(s->sample.round) != round)
		return false;
	memcpy(out, &s->sample, sizeof(*out));
	return !read_seqcount_retry(&s->seq, seq) && out->round == round;
}

/* Starts @c as a CPU that has no data: offline until found otherwise. */
static void clear_cpu(struct kintrospect_cpu *c, u32 cpu)
{
	c->taken_ns = 0;
	c->handler_ns = 0;
	c->ip = 0;
	c->sp = 0;
	c->flags = 0;
	c->interrupted = 0;
	c->unresolved = 0;
	c->pid = -1;
	c->tgid = -1;
	c->cpu = cpu;
	c->state = KINTROSPECT_CPU_OFFLINE;
	c->mode = KINTROSPECT_MODE_KERNEL;
	c->context = KINTROSPECT_CONTEXT_TASK;
	c->irqs_disabled = 0;
	c->preempt_count = 0;
	c->nr_frames = 0;
	memset(c->comm, 0, sizeof(c->comm));
	c->nr_switches = 0;
	c->start_time = 0;
	c->on_cpu_since_ns = 0;
	c->utime = 0;
	c->lockdep = KINTROSPECT_CPU_LOCKDEP_NONE;
	c->nr_held = 0;
	c->held_dropped = 0;
}

/* Copies what a CPU recorded into its snapshot record (frames not named yet). */
static void put_sample(struct kintrospect_cpu *c, const struct nmi_sample *s)
{
	u32 i;

	c->taken_ns = s->taken_ns;
	c->handler_ns = s->handler_ns;
	c->ip = s->ip;
	c->sp = s->sp;
	c->flags = s->flags;
	c->nr_frames = min_t(u32, s->nr_frames, KINTROSPECT_MAX_FRAMES);
	memcpy(c->frames, s->frames, c->nr_frames * sizeof(c->frames[0]));
	c->interrupted = s->interrupted;
	c->pid = s->pid;
	c->tgid = s->tgid;
	c->state = s->state;
	c->mode = s->mode;
	c->context = s->context;
	c->irqs_disabled = s->irqs_disabled;
	c->preempt_count = s->preempt_count;
	memcpy(c->comm, s->comm, sizeof(c->comm));
	c->nr_switches = s->nr_switches;
	c->start_time = s->start_time;
	c->utime = s->utime;
	c->lockdep = s->lockdep;
	c->nr_held = min_t(u32, s->nr_held, KINTROSPECT_CPU_MAX_HELD);
	c->held_dropped = s->held_dropped;
	for (i = 0; i < c->nr_held; i++) {
		struct kintrospect_held *h = &c->held[i];

		memset(h, 0, sizeof(*h));
		h->lock_addr = s->held[i].instance;
		h->acquire_ip = s->held[i].acquire_ip;
		h->held_ns = s->held[i].held_ns;
		h->mode = s->held[i].read;
		h->kind = s->held[i].kind;
		h->flags = s->held[i].flags;
	}
}

/*
 * Names frame @i of @c into c->symbols[i]: an interrupted ip as %pS, a
 * return address as %pB (looked up one byte earlier, so that a call to a
 * noreturn function names its caller), from the symbol cache when it has
 * the address. A frame that cannot be named is marked unresolved by the
 * caller, with no text: whether its address may be shown depends on the
 * reader (kptr_restrict).
 */
static bool symbolise_frame(struct kintrospect_cpu *c, u32 i, bool ip)
{
	return kintrospect_symbol_cached(c->symbols[i], KINTROSPECT_SYMBOL_LEN, capture_symbol,
					 ip ? KINTROSPECT_SYM_IP : KINTROSPECT_SYM_RETURN,
					 c->frames[i]);
}

/* Names the acquire site of @h as %pB, from the symbol cache when it has it. */
static void symbolise_site(struct kintrospect_held *h)
{
	if (!kintrospect_symbol_cached(h->site, sizeof(h->site), capture_symbol,
				       KINTROSPECT_SYM_RETURN, h->acquire_ip))
		h->flags |= KINTROSPECT_LOCK_F_SITE_UNRESOLVED;
}

/*
 * Names every frame of @c, and its held locks: the name lockdep's map has
 * now (read fault-safe: the lock was held at the NMI, moments ago), else the
 * lock's symbol; the acquire site as %pB. What has no symbol is flagged, as
 * for frames.
 */
static void symbolise(struct kintrospect_cpu *c)
{
	struct kintrospect_held *h;
	u32 i;

	c->unresolved = 0;
	for (i = 0; i < c->nr_frames; i++)
		if (!symbolise_frame(c, i, c->interrupted & BIT_ULL(i)))
			c->unresolved |= BIT_ULL(i);
	for (i = 0; i < c->nr_held; i++) {
		h = &c->held[i];
		kintrospect_lock_name(h->name, sizeof(h->name), capture_symbol,
				      kintrospect_map_name((void *)(unsigned long)h->lock_addr),
				      (void *)(unsigned long)h->lock_addr, &h->flags);
		symbolise_site(h);
	}
}

/*
 * Whether @c's task could have been switched out at the NMI: the kernel
 * preempts kernel code (preempt=full, lazy or RT) and the task was in none
 * of preempt-disabled, bottom-half-disabled, interrupt or interrupts-off
 * code. Under preempt=none or voluntary no kernel code is preemptible.
 */
static bool could_schedule(const struct kintrospect_cpu *c)
{
	return preempt_model_preemptible() && !c->irqs_disabled &&
	       !(c->preempt_count & (PREEMPT_MASK | SOFTIRQ_MASK | HARDIRQ_MASK | NMI_MASK));
}

/* Whether @c's task was in the kernel, where the CPU could not schedule. */
static bool held_in_kernel(const struct kintrospect_cpu *c)
{
	return c->state == KINTROSPECT_CPU_RUNNING && c->mode == KINTROSPECT_MODE_KERNEL &&
	       !could_schedule(c);
}

/*
 * How long @c's task has been held in the kernel on its CPU, carried over
 * from @prev, the latest snapshot that had an answer from that CPU (and
 * @prev becomes @c's) - stuck as the soft-lockup detector means it: the
 * CPU did not schedule, and could not.
 * Both snapshots found the same task (pid and start time) in kernel mode
 * where it could not be switched out (could_schedule()), with the same
 * number of context switches (a switch to another task and back counts
 * one) and the same user time (it grows by the tick, and by guest time for
 * a vCPU thread, whenever the task runs in user mode or a guest). So the
 * task has been held there since at least the first snapshot of the run: a
 * lower bound, as precise as the snapshots are frequent. The first snapshot
 * to see it so leaves since == taken: unknown. The idle task, a task in user
 * mode and a task that could have been preempted are never carried: a busy
 * CPU that simply has nothing else to run is not stuck.
 */
static void carry_on_cpu(struct kintrospect_cpu *c, struct carry *prev)
{
	bool held = held_in_kernel(c);

	c->on_cpu_since_ns = c->taken_ns;
	if (held && prev->held && prev->pid == c->pid &&
	    prev->start_time == c->start_time && prev->nr_switches == c->nr_switches &&
	    prev->utime == c->utime && prev->since_ns <= c->taken_ns)
		c->on_cpu_since_ns = prev->since_ns;
	prev->since_ns = c->on_cpu_since_ns;
	prev->start_time = c->start_time;
	prev->nr_switches = c->nr_switches;
	prev->utime = c->utime;
	prev->pid = c->pid;
	prev->held = held;
}

/*
 * Turns @cpu's answer @s into its record of the snapshot being taken, and
 * names its frames and locks now: the code may be gone when the snapshot is
 * read. A CPU without an answer (offline, no response) keeps what
 * clear_cpu() gave it: nothing to carry over or to name.
 */
static void finish_cpu(int cpu, const struct nmi_sample *s)
{
	struct kintrospect_cpu *c = &snap_work[cpu];

	put_sample(c, s);
	carry_on_cpu(c, &carries[cpu]);
	if (c->state == KINTROSPECT_CPU_RUNNING || c->state == KINTROSPECT_CPU_IDLE)
		symbolise(c);
	touch_nmi_watchdog();
}

/* Runs on a probed CPU: that it ran at all is the point (probe_held()). */
static void kintrospect_probe_fn(struct work_struct *work)
{
}

/*
 * Gives every CPU whose task this snapshot found held in the kernel
 * (held_in_kernel()) a reason to schedule, as the soft-lockup detector's
 * stopper does: a no-op work item of high priority bound to it. A CPU that
 * can schedule runs it, switching its task out, so the next snapshot finds
 * a new switch count and does not carry the time over: a busy task that
 * merely has the CPU to itself (a process doing system calls back to back)
 * is not stuck. A stuck CPU cannot run it: the item waits, queued once.
 * Idle CPUs and tasks in user mode are never probed; the caller's own CPU
 * neither.
 */
static void probe_held(int self)
{
	int cpu;

	for (cpu = 0; cpu < nr_slots; cpu++)
		if (cpu != self && held_in_kernel(&snap_work[cpu]))
			queue_work_on(cpu, system_highpri_wq, &probes[cpu]);
}

/* Finishes the CPUs of @mask whose answer to @round is there, and clears them. */
static void take_answers(struct cpumask *mask, u64 round)
{
	int cpu;

	for_each_cpu(cpu, mask) {
		if (!take_answer(cpu, round, &capture_sample))
			continue;
		finish_cpu(cpu, &capture_sample);
		__cpumask_clear_cpu(cpu, mask);
	}
}

/**
 * kintrospect_cpus_capture() - take a snapshot of every CPU
 * @source: enum kintrospect_source, recorded in the snapshot
 *
 * Callable from process context and from a SysRq handler (atomic, maybe
 * with interrupts off): it never sleeps and never allocates. Waits at most
 * the configured timeout for the CPUs it sent an NMI, symbolising each as
 * its answer arrives.
 *
 * Return: 0, or -EBUSY when another snapshot is being taken.
 */
int kintrospect_cpus_capture(u32 source)
{
	unsigned long flags;
	u32 no_response = 0;
	u64 round, taken, start, deadline;
	int cpu, self;

	if (atomic_cmpxchg_acquire(&capture_busy, 0, 1))
		return -EBUSY;

	preempt_disable();
	self = smp_processor_id();
	round = ++capture_round;
	taken = ktime_get_mono_fast_ns();
	cpumask_clear(&capture_waiting);
	cpumask_clear(&capture_stale);
	for (cpu = 0; cpu < nr_slots; cpu++) {
		clear_cpu(&snap_work[cpu], cpu);
		if (cpu == self)
			continue;
		if (!cpu_online(cpu)) {
			forget_dropped(cpu);
			continue;
		}
		if (request_round(cpu, round))
			__cpumask_set_cpu(cpu, &capture_waiting);
		else
			__cpumask_set_cpu(cpu, &capture_stale);
	}

	/* Each CPU is finished while the others' NMIs are still on their way. */
	start = local_clock();
	fill_self(&capture_sample);
	capture_sample.handler_ns = local_clock() - start;
	finish_cpu(self, &capture_sample);

	/*
	 * Only the CPUs sent an NMI now are waited for. One that has not taken
	 * an earlier one (NMIs blocked: stuck in an NMI handler, say) was
	 * waited for then: its answer is taken if it comes meanwhile, but it
	 * does not make every later round wait the whole timeout.
	 */
	deadline = start + (u64)capture_timeout_ms * NSEC_PER_MSEC;
	for (;;) {
		take_answers(&capture_waiting, round);
		take_answers(&capture_stale, round);
		if (cpumask_empty(&capture_waiting) || local_clock() >= deadline)
			break;
		udelay(2);
	}
	for_each_cpu_or(cpu, &capture_waiting, &capture_stale) {
		snap_work[cpu].state = KINTROSPECT_CPU_NO_RESPONSE;
		no_response++;
		pin_late(cpu);
	}
	probe_held(self);

	raw_spin_lock_irqsave(&pub_lock, flags);
	swap(snap_work, snap_pub);
	info_pub.seq = round;
	info_pub.source = source;
	info_pub.taken_ns = taken;
	info_pub.duration_ns = ktime_get_mono_fast_ns() - taken;
	info_pub.nr_cpus = nr_slots;
	info_pub.nr_no_response = no_response;
	raw_spin_unlock_irqrestore(&pub_lock, flags);

	preempt_enable();
	atomic_set_release(&capture_busy, 0);
	return 0;
}

/**
 * kintrospect_cpus_copy() - copy the latest snapshot
 * @info: receives the header
 * @cpus: receives kintrospect_cpus_nr_slots() CPU records
 * @nr: room in @cpus
 *
 * Copies one CPU at a time under the publication lock, so that interrupts
 * are off for one record only, and starts again when a newer snapshot was
 * published meanwhile: the records are all from the snapshot in @info.
 *
 * Return: 0, -EINVAL when @cpus is too small, -EAGAIN when newer snapshots
 * kept coming.
 */
int kintrospect_cpus_copy(struct kintrospect_cpus_info *info,
			  struct kintrospect_cpu *cpus, u32 nr)
{
	unsigned long flags;
	u32 cpu, tries;

	if (nr < nr_slots)
		return -EINVAL;
	for (tries = 0; tries < COPY_TRIES; tries++) {
		kintrospect_cpus_header(info);
		for (cpu = 0; cpu < nr_slots; cpu++) {
			raw_spin_lock_irqsave(&pub_lock, flags);
			if (info_pub.seq != info->seq) {
				raw_spin_unlock_irqrestore(&pub_lock, flags);
				break;
			}
			memcpy(&cpus[cpu], &snap_pub[cpu], sizeof(*cpus));
			raw_spin_unlock_irqrestore(&pub_lock, flags);
		}
		if (cpu == nr_slots)
			return 0;
	}
	return -EAGAIN;
}

/* Copies the latest snapshot's header only. */
void kintrospect_cpus_header(struct kintrospect_cpus_info *info)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&pub_lock, flags);
	*info = info_pub;
	raw_spin_unlock_irqrestore(&pub_lock, flags);
}

u32 kintrospect_cpus_nr_slots(void)
{
	return nr_slots;
}

/**
 * kintrospect_nmi_cost() - what kintrospect's NMI handler spent on a CPU
 * @cpu: the CPU, below kintrospect_cpus_nr_slots()
 * @ns: receives the handler's time for the NMIs it claimed there, in ns
 *      (local_clock(), from the claim to the return), since load
 * @count: receives the NMIs it claimed there since load
 *
 * Reads what the handler sums without a lock: a value may be one NMI old.
 */
void kintrospect_nmi_cost(u32 cpu, u64 *ns, u64 *count)
{
	*ns = cpu < nr_slots ? READ_ONCE(slots[cpu].handler_total_ns) : 0;
	*count = cpu < nr_slots ? (u32)atomic_read(&slots[cpu].got) : 0;
}

/*
 * Bytes allocated for snapshots: NMI slots, two snapshot buffers, the probes
 * and what is carried over per CPU, the symbol cache.
 */
size_t kintrospect_cpus_memory(void)
{
	return nr_slots * (sizeof(struct nmi_slot) + 2 * sizeof(struct kintrospect_cpu) +
			   sizeof(*probes) + sizeof(*carries)) +
	       kintrospect_symbol_cache_memory();
}

/*
 * Whether the reader may see raw kernel addresses: exactly when %pK would
 * print one (kptr_restrict, CAP_SYSLOG, no_hash_pointers), which is found by
 * comparing it with %px on a known address.
 */
bool kintrospect_raw_addresses(void)
{
	void *p = (void *)kintrospect_raw_addresses;
	char restricted[24], raw[24];

	snprintf(restricted, sizeof(restricted), "%pK", p);
	snprintf(raw, sizeof(raw), "%px", p);
	return !strcmp(restricted, raw);
}

static void free_buffers(void)
{
	kvfree(probes);
	probes = NULL;
	kvfree(carries);
	carries = NULL;
	kvfree(snap_work);
	kvfree(snap_pub);
	kvfree(slots);
	kintrospect_symbol_cache_exit();
	snap_work = NULL;
	snap_pub = NULL;
	slots = NULL;
}

int kintrospect_cpus_init(u32 timeout_ms)
{
	int ret, cpu;

	nr_slots = nr_cpu_ids;
	capture_timeout_ms = clamp(timeout_ms, 1U, 10000U);
	slots = kvcalloc(nr_slots, sizeof(*slots), GFP_KERNEL);
	snap_work = kvcalloc(nr_slots, sizeof(*snap_work), GFP_KERNEL);
	snap_pub = kvcalloc(nr_slots, sizeof(*snap_pub), GFP_KERNEL);
	probes = kvcalloc(nr_slots, sizeof(*probes), GFP_KERNEL);
	carries = kvcalloc(nr_slots, sizeof(*carries), GFP_KERNEL);
	if (!slots || !snap_work || !snap_pub || !probes || !carries) {
		ret = -ENOMEM;
		goto err;
	}
	ret = kintrospect_symbol_cache_init();
	if (ret)
		goto err;
	for (cpu = 0; cpu < nr_slots; cpu++) {
		seqcount_init(&slots[cpu].seq);
		INIT_WORK(&probes[cpu], kintrospect_probe_fn);
	}
	ret = register_nmi_handler(NMI_LOCAL, kintrospect_nmi_handler, 0,
				   KINTROSPECT_NMI_NAME);
	if (ret)
		goto err;
	return 0;
err:
	free_buffers();
	return ret;
}

/* Online CPUs that still have an NMI of kintrospect's on its way. */
static u32 nr_unsettled(void)
{
	u32 n = 0;
	int cpu;

	for_each_online_cpu(cpu)
		if (atomic_read(&slots[cpu].got) != atomic_read(&slots[cpu].sent))
			n++;
	return n;
}

void kintrospect_cpus_exit(void)
{
	u32 waited = 0, unsettled;
	int cpu;

	/*
	 * No capture runs any more: an NMI that arrived with no handler
	 * would be an unknown NMI, so wait for the ones still on their way.
	 */
	while ((unsettled = nr_unsettled()) && waited < EXIT_SETTLE_MS) {
		msleep(EXIT_POLL_MS);
		waited += EXIT_POLL_MS;
	}
	if (unsettled)
		pr_warn("kintrospect: %u CPU(s) have not taken kintrospect's NMI after %u ms; unloading anyway, it may be reported as an unknown NMI\n",
			unsettled, EXIT_SETTLE_MS);
	/* Waits for running handlers (synchronize_rcu()). */
	unregister_nmi_handler(NMI_LOCAL, KINTROSPECT_NMI_NAME);
	/* A probe still queued on a stuck CPU is taken off its queue. */
	for (cpu = 0; cpu < nr_slots; cpu++)
		cancel_work_sync(&probes[cpu]);
	free_buffers();
}
