// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU NMI backtrace snapshots.
 *
 * A snapshot sends an NMI to every other online CPU and captures the calling
 * CPU directly. Each CPU's NMI handler writes only into that CPU's own
 * preallocated slot: no locks, no allocation, nothing that can fail. The
 * trigger waits for the answers with a bound and reports the CPUs that did
 * not answer as "no-response". The finished snapshot is published by a
 * pointer swap under a raw spinlock, so readers never see a torn one.
 *
 * Slot protocol (slot->claim), per remote CPU:
 *   IDLE -> PENDING      the trigger arms the slot, then sends the NMI
 *   PENDING -> WRITING   the NMI handler claims it (only then is it ours)
 *   WRITING -> DONE      the handler has filled it
 *   DONE -> IDLE         the trigger has copied it into the snapshot
 *   PENDING -> LATE      the trigger gave up waiting; a late NMI is then
 *                        swallowed (LATE -> IDLE) instead of being reported
 *                        as an unknown NMI.
 *
 * The model is the kernel's own nmi_cpu_backtrace() (lib/nmi_backtrace.c),
 * with the output going into memory instead of the console.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <asm/apic.h>
#include <asm/nmi.h>
#include <asm/unwind.h>

#include "kintrospect.h"

#define KINTROSPECT_NMI_NAME "kintrospect"

enum slot_claim {
	SLOT_IDLE,
	SLOT_PENDING,
	SLOT_WRITING,
	SLOT_DONE,
	SLOT_LATE,
};

struct nmi_slot {
	atomic_t claim;
	struct kintrospect_cpu cpu;
} ____cacheline_aligned;

static struct nmi_slot *slots;
static struct kintrospect_cpu *snap_work;
static struct kintrospect_cpu *snap_pub;
static struct kintrospect_cpus_info info_pub;
static DEFINE_RAW_SPINLOCK(pub_lock);
static atomic_t capture_busy = ATOMIC_INIT(0);
static cpumask_t capture_mask;
static u32 capture_timeout_ms;
static u32 nr_slots;
static u64 capture_seq;

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

/* Fills @c from the current CPU; @regs is the interrupted context or NULL. */
static void fill_cpu(struct kintrospect_cpu *c, struct pt_regs *regs)
{
	struct task_struct *p = current;
	struct unwind_state state;
	unsigned long addr;
	u32 n = 0;

	c->taken_ns = ktime_get_mono_fast_ns();
	c->cpu = raw_smp_processor_id();
	c->pid = p->pid;
	c->tgid = p->tgid;
	memcpy(c->comm, p->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';

	if (regs) {
		c->ip = regs->ip;
		c->sp = regs->sp;
		c->flags = regs->flags;
		c->irqs_disabled = !(regs->flags & X86_EFLAGS_IF);
		c->preempt_count = interrupted_preempt_count();
	} else {
		c->ip = _THIS_IP_;
		c->sp = current_stack_pointer;
		c->flags = native_save_fl();
		c->irqs_disabled = irqs_disabled();
		c->preempt_count = preempt_count();
	}

	/* The idle task in an interrupt is a busy CPU, not an idle one. */
	if (is_idle_task(p) &&
	    !(c->preempt_count & (HARDIRQ_MASK | SOFTIRQ_OFFSET | NMI_MASK))) {
		c->state = KINTROSPECT_CPU_IDLE;
		c->mode = KINTROSPECT_MODE_IDLE;
	} else {
		c->state = KINTROSPECT_CPU_RUNNING;
		c->mode = regs && user_mode(regs) ? KINTROSPECT_MODE_USER :
						    KINTROSPECT_MODE_KERNEL;
	}

	c->nr_frames = 0;
	if (regs && user_mode(regs))
		return;

	/*
	 * As arch_stack_walk(): the ip first (frames[0] is never a return
	 * address), then the unwound return addresses.
	 */
	c->frames[n++] = c->ip;
	for (unwind_start(&state, p, regs, NULL);
	     !unwind_done(&state) && n < KINTROSPECT_MAX_FRAMES;
	     unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		if (n == 1 && addr == c->ip)
			continue;
		c->frames[n++] = addr;
	}
	c->nr_frames = n;
}

static int kintrospect_nmi_handler(unsigned int type, struct pt_regs *regs)
{
	struct nmi_slot *s = &slots[raw_smp_processor_id()];
	u64 start;

	/* Our own NMI that arrived after the trigger gave up: swallow it. */
	if (atomic_cmpxchg(&s->claim, SLOT_LATE, SLOT_IDLE) == SLOT_LATE)
		return NMI_HANDLED;
	/* Not requested by kintrospect: leave it to the other handlers. */
	if (atomic_cmpxchg(&s->claim, SLOT_PENDING, SLOT_WRITING) != SLOT_PENDING)
		return NMI_DONE;

	start = local_clock();
	fill_cpu(&s->cpu, regs);
	s->cpu.handler_ns = local_clock() - start;
	atomic_set_release(&s->claim, SLOT_DONE);
	return NMI_HANDLED;
}

/* Arms the slot of @cpu; false when its handler is still busy since a previous round. */
static bool arm_slot(int cpu)
{
	atomic_t *claim = &slots[cpu].claim;

	atomic_cmpxchg(claim, SLOT_DONE, SLOT_IDLE);
	atomic_cmpxchg(claim, SLOT_LATE, SLOT_IDLE);
	return atomic_cmpxchg(claim, SLOT_IDLE, SLOT_PENDING) == SLOT_IDLE;
}

static u32 count_pending(void)
{
	u32 pending = 0;
	int cpu;

	for_each_cpu(cpu, &capture_mask)
		if (atomic_read_acquire(&slots[cpu].claim) != SLOT_DONE)
			pending++;
	return pending;
}

/**
 * kintrospect_cpus_capture() - take a snapshot of every CPU
 * @source: enum kintrospect_source, recorded in the snapshot
 *
 * Callable from process context and from a SysRq handler (atomic, maybe
 * with interrupts off): it never sleeps and never allocates. Waits at most
 * the configured timeout for the other CPUs.
 *
 * Return: 0, or -EBUSY when another snapshot is being taken.
 */
int kintrospect_cpus_capture(u32 source)
{
	struct kintrospect_cpu *c;
	unsigned long flags;
	u32 no_response = 0;
	u64 taken, start, deadline;
	int cpu, self;

	if (atomic_cmpxchg_acquire(&capture_busy, 0, 1))
		return -EBUSY;

	preempt_disable();
	self = smp_processor_id();
	taken = ktime_get_mono_fast_ns();
	cpumask_clear(&capture_mask);
	for (cpu = 0; cpu < nr_slots; cpu++) {
		c = &snap_work[cpu];
		memset(c, 0, sizeof(*c));
		c->cpu = cpu;
		c->pid = -1;
		c->tgid = -1;
		c->state = KINTROSPECT_CPU_OFFLINE;
		if (cpu == self || !cpu_online(cpu))
			continue;
		if (arm_slot(cpu)) {
			__cpumask_set_cpu(cpu, &capture_mask);
		} else {
			c->state = KINTROSPECT_CPU_NO_RESPONSE;
			no_response++;
		}
	}

	/* Orders the armed slots before the IPI, like nmi_trigger_cpumask_backtrace(). */
	smp_mb();
	if (!cpumask_empty(&capture_mask))
		__apic_send_IPI_mask(&capture_mask, NMI_VECTOR);

	start = local_clock();
	fill_cpu(&snap_work[self], NULL);
	snap_work[self].handler_ns = local_clock() - start;

	deadline = start + (u64)capture_timeout_ms * NSEC_PER_MSEC;
	while (count_pending() && local_clock() < deadline)
		udelay(2);

	for_each_cpu(cpu, &capture_mask) {
		struct nmi_slot *s = &slots[cpu];

		if (atomic_cmpxchg(&s->claim, SLOT_PENDING, SLOT_LATE) == SLOT_PENDING ||
		    atomic_read_acquire(&s->claim) != SLOT_DONE) {
			/* Never answered, or still writing: not waited on. */
			snap_work[cpu].state = KINTROSPECT_CPU_NO_RESPONSE;
			no_response++;
			continue;
		}
		snap_work[cpu] = s->cpu;
		atomic_set(&s->claim, SLOT_IDLE);
	}

	raw_spin_lock_irqsave(&pub_lock, flags);
	swap(snap_work, snap_pub);
	info_pub.seq = ++capture_seq;
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
 * Return: 0, or -EINVAL when @cpus is too small.
 */
int kintrospect_cpus_copy(struct kintrospect_cpus_info *info,
			  struct kintrospect_cpu *cpus, u32 nr)
{
	unsigned long flags;

	if (nr < nr_slots)
		return -EINVAL;
	raw_spin_lock_irqsave(&pub_lock, flags);
	*info = info_pub;
	memcpy(cpus, snap_pub, nr_slots * sizeof(*cpus));
	raw_spin_unlock_irqrestore(&pub_lock, flags);
	return 0;
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

/* Bytes preallocated for snapshots: NMI slots plus two snapshot buffers. */
size_t kintrospect_cpus_memory(void)
{
	return nr_slots * (sizeof(struct nmi_slot) + 2 * sizeof(struct kintrospect_cpu));
}

/**
 * kintrospect_format_symbol() - symbolise a code address
 * @addr: the address
 * @return_address: @addr is a return address (printed as %pB, looked up at
 *	@addr - 1, so that calls to noreturn functions resolve to the caller)
 * @buf: output, NUL-terminated
 * @len: size of @buf
 *
 * Return: the length of the formatted string, as snprintf().
 */
int kintrospect_format_symbol(u64 addr, bool return_address, char *buf,
			      size_t len)
{
	void *p = (void *)(unsigned long)addr;

	return snprintf(buf, len, return_address ? "%pB" : "%pS", p);
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

int kintrospect_cpus_init(u32 timeout_ms)
{
	struct kintrospect_cpu *a, *b;
	int ret;

	nr_slots = nr_cpu_ids;
	capture_timeout_ms = clamp(timeout_ms, 1U, 10000U);
	slots = kcalloc(nr_slots, sizeof(*slots), GFP_KERNEL);
	a = kcalloc(nr_slots, sizeof(*a), GFP_KERNEL);
	b = kcalloc(nr_slots, sizeof(*b), GFP_KERNEL);
	if (!slots || !a || !b) {
		ret = -ENOMEM;
		goto err;
	}
	snap_work = a;
	snap_pub = b;
	ret = register_nmi_handler(NMI_LOCAL, kintrospect_nmi_handler, 0,
				   KINTROSPECT_NMI_NAME);
	if (ret)
		goto err;
	return 0;
err:
	kfree(a);
	kfree(b);
	kfree(slots);
	snap_work = NULL;
	snap_pub = NULL;
	slots = NULL;
	return ret;
}

void kintrospect_cpus_exit(void)
{
	/* Waits for running handlers (synchronize_rcu()). */
	unregister_nmi_handler(NMI_LOCAL, KINTROSPECT_NMI_NAME);
	kfree(snap_work);
	kfree(snap_pub);
	kfree(slots);
	snap_work = NULL;
	snap_pub = NULL;
	slots = NULL;
}
