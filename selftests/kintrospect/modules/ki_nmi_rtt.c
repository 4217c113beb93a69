// SPDX-License-Identifier: GPL-2.0
/*
 * ki_nmi_rtt: the bare NMI round trip, the physical limit of a CPU
 * snapshot, for `make bench` (issue 21). At load it sends, `rounds` times,
 * an NMI to every other online CPU (one IPI to their mask, as the kernel's
 * nmi_trigger_cpumask_backtrace() does) and waits, bounded, until each
 * CPU's handler has acknowledged it; the handler does nothing else. The
 * round trips' median, minimum and maximum (ns, local_clock()) and the
 * rounds that timed out are left in /sys/module/ki_nmi_rtt/parameters/.
 * With `gap_us`, it sleeps that long between rounds, so that the other CPUs
 * go idle between rounds as they do between snapshots: back to back, an NMI
 * finds a CPU that has just returned from the last one (under TCG, a vCPU
 * thread still running rather than one the host must wake).
 *
 * Which NMIs are ours is counted per CPU the way kintrospect's nmi.c does
 * it: sent (the trigger increments it before the IPI) and got (the handler
 * claims an NMI iff it can increment got while got != sent), so the
 * handler never claims an NMI that is not its own, except one that arrives
 * between the count and the IPI; a handler that claimed waits for the IPI
 * to be written (sending), so that the kernel swallows our NMI that then
 * comes back to back instead of calling it unknown. A round that times out
 * waits up to a second for its NMIs; one that never arrives pins the module,
 * so that the handler is never unregistered under it.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <asm/apic.h>
#include <asm/nmi.h>

#define WAIT_NS		(100 * NSEC_PER_MSEC)	/* per round, at most */
#define SEND_WAIT_NS	(10 * NSEC_PER_MSEC)	/* a handler waits for the IPI write */

static unsigned int rounds = 200;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Round trips to measure at load (1-100000)");

static unsigned int gap_us;
module_param(gap_us, uint, 0444);
MODULE_PARM_DESC(gap_us, "Sleep between rounds in us (0-100000), so that the other CPUs go idle");

static unsigned long long median_ns, min_ns, max_ns;
static unsigned int cpus, timeouts;
module_param(median_ns, ullong, 0444);
module_param(min_ns, ullong, 0444);
module_param(max_ns, ullong, 0444);
module_param(cpus, uint, 0444);
module_param(timeouts, uint, 0444);

struct rtt_slot {
	atomic_t sent;
	atomic_t got;
	u32 sending;
} ____cacheline_aligned;

static struct rtt_slot *slots;

static int ki_nmi_rtt_handler(unsigned int type, struct pt_regs *regs)
{
	struct rtt_slot *s = &slots[raw_smp_processor_id()];
	int got = atomic_read(&s->got);
	u64 start;

	do {
		if (got == atomic_read(&s->sent))
			return NMI_DONE;
	} while (!atomic_try_cmpxchg(&s->got, &got, got + 1));
	if (READ_ONCE(s->sending)) {
		start = local_clock();
		while (READ_ONCE(s->sending) && local_clock() - start < SEND_WAIT_NS)
			cpu_relax();
	}
	return NMI_HANDLED;
}

static bool all_acked(const struct cpumask *mask)
{
	int cpu;

	for_each_cpu(cpu, mask)
		if (atomic_read(&slots[cpu].got) != atomic_read(&slots[cpu].sent))
			return false;
	return true;
}

/* One round trip to every CPU in @mask; its time in ns, or 0 on timeout. */
static u64 round_trip(const struct cpumask *mask)
{
	unsigned long flags;
	u64 start, now;
	int cpu;

	start = local_clock();
	local_irq_save(flags);
	for_each_cpu(cpu, mask) {
		WRITE_ONCE(slots[cpu].sending, 1);
		smp_mb__before_atomic();
		atomic_inc(&slots[cpu].sent);
	}
	smp_mb__after_atomic();
	__apic_send_IPI_mask(mask, NMI_VECTOR);
	for_each_cpu(cpu, mask)
		smp_store_release(&slots[cpu].sending, 0);
	local_irq_restore(flags);
	do {
		if (all_acked(mask))
			return max(local_clock() - start, 1ULL);
		cpu_relax();
		now = local_clock();
	} while (now - start < WAIT_NS);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static cpumask_var_t others;

static int __init ki_nmi_rtt_init(void)
{
	u64 *t;
	unsigned int i, w, n = 0;
	int ret;

	if (!rounds || rounds > 100000 || gap_us > 100000)
		return -EINVAL;
	slots = kcalloc(nr_cpu_ids, sizeof(*slots), GFP_KERNEL);
	t = kcalloc(rounds, sizeof(*t), GFP_KERNEL);
	if (!slots || !t || !zalloc_cpumask_var(&others, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto err;
	}
	ret = register_nmi_handler(NMI_LOCAL, ki_nmi_rtt_handler, 0, "ki_nmi_rtt");
	if (ret)
		goto err;
	for (i = 0; i < rounds; i++) {
		u64 d;

		preempt_disable();
		cpumask_copy(others, cpu_online_mask);
		cpumask_clear_cpu(smp_processor_id(), others);
		cpus = cpumask_weight(others);
		d = cpus ? round_trip(others) : 0;
		preempt_enable();
		if (!cpus)
			break;
		if (!d) {
			timeouts++;
			/* Our NMIs still out would answer the next round: wait for them. */
			for (w = 0; w < 1000 && !all_acked(cpu_possible_mask); w++)
				msleep(1);
			if (!all_acked(cpu_possible_mask)) {
				/* Never unregister the handler under one still on its way. */
				__module_get(THIS_MODULE);
				break;
			}
			continue;
		}
		t[n++] = d;
		if (gap_us)
			fsleep(gap_us);
		else
			cond_resched();
	}
	if (n) {
		sort(t, n, sizeof(*t), cmp_u64, NULL);
		median_ns = t[n / 2];
		min_ns = t[0];
		max_ns = t[n - 1];
	}
	pr_info("ki_nmi_rtt: %u rounds to %u CPUs: median %llu ns, min %llu, max %llu, %u timed out\n",
		n, cpus, median_ns, min_ns, max_ns, timeouts);
	kfree(t);
	return 0;
err:
	free_cpumask_var(others);
	kfree(t);
	kfree(slots);
	return ret;
}

static void __exit ki_nmi_rtt_exit(void)
{
	/* Every NMI of ours was claimed (init waited for them). */
	unregister_nmi_handler(NMI_LOCAL, "ki_nmi_rtt");
	free_cpumask_var(others);
	kfree(slots);
}

module_init(ki_nmi_rtt_init);
module_exit(ki_nmi_rtt_exit);
MODULE_DESCRIPTION("kintrospect bench helper: the bare NMI round trip to every other CPU");
MODULE_LICENSE("GPL");
