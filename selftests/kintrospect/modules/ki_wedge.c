// SPDX-License-Identifier: GPL-2.0
/*
 * ki_wedge: wedges chosen CPUs with interrupts off for a bounded time, as a
 * driver or a kernel thread spinning with interrupts off does before the
 * hard-lockup detector fires. Writing "CPULIST MS" to
 * /sys/kernel/debug/ki_wedge (e.g. "1-3 3000") starts one kernel thread
 * bound to each online CPU of the list but the writer's, which disables
 * interrupts there and spins for MS milliseconds (at most
 * KI_WEDGE_MAX_MS, below the hard-lockup threshold), then exits. The write
 * returns once every thread has started spinning. A CPU wedged so runs no
 * timer queued on it, answers no IPI and runs no other task; it still takes
 * NMIs.
 *
 * Writing "nmi CPU MS" sends CPU an NMI of ki_wedge's own, whose handler
 * spins for MS ms: the CPU then has NMIs blocked, as one stuck in another
 * NMI handler has, and an NMI sent to it meanwhile waits until the spin
 * ends. The write returns once the spin has started. Unload waits for the
 * spins to end.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apic.h>
#include <asm/nmi.h>

/* Below the hard-lockup threshold (watchdog_thresh, 10 s by default). */
#define KI_WEDGE_MAX_MS	5000

static struct dentry *ki_wedge_file;
/* Threads started; each completes ki_wedge_done as it exits, unload waits for all. */
static atomic_t ki_wedge_threads = ATOMIC_INIT(0);
static DECLARE_COMPLETION(ki_wedge_done);

struct ki_wedge_job {
	u64 ns;
	atomic_t *started;
	struct completion *all_started;
};

static noinline void ki_wedge_spin(u64 until)
{
	while (local_clock() < until)
		cpu_relax();
}

/* The NMI spin: armed per CPU by the writer, claimed by the handler there. */
static atomic_t ki_wedge_nmi_armed[NR_CPUS];
static atomic_t ki_wedge_nmi_spinning = ATOMIC_INIT(0);
static u64 ki_wedge_nmi_ns;

static int ki_wedge_nmi(unsigned int type, struct pt_regs *regs)
{
	int cpu = raw_smp_processor_id();

	if (!atomic_xchg(&ki_wedge_nmi_armed[cpu], 0))
		return NMI_DONE;
	atomic_inc(&ki_wedge_nmi_spinning);
	ki_wedge_spin(local_clock() + READ_ONCE(ki_wedge_nmi_ns));
	atomic_dec(&ki_wedge_nmi_spinning);
	return NMI_HANDLED;
}

/* "nmi CPU MS": a ki_wedge NMI to CPU that spins MS ms; waits (1 s at most) for the spin. */
static int ki_wedge_nmi_write(char *args)
{
	unsigned int cpu, ms, waited;
	char *sp = strchr(args, ' ');

	if (!sp)
		return -EINVAL;
	*sp++ = '\0';
	if (kstrtouint(args, 10, &cpu) || kstrtouint(strim(sp), 10, &ms) || !ms ||
	    ms > KI_WEDGE_MAX_MS || cpu >= nr_cpu_ids || !cpu_online(cpu) ||
	    cpu == raw_smp_processor_id())
		return -EINVAL;
	if (atomic_read(&ki_wedge_nmi_spinning))
		return -EBUSY;
	WRITE_ONCE(ki_wedge_nmi_ns, (u64)ms * NSEC_PER_MSEC);
	atomic_set(&ki_wedge_nmi_armed[cpu], 1);
	/* Orders the arming before the NMI, as nmi_trigger_cpumask_backtrace() does. */
	smp_mb();
	__apic_send_IPI_mask(cpumask_of(cpu), NMI_VECTOR);
	for (waited = 0; !atomic_read(&ki_wedge_nmi_spinning) && waited < 1000; waited++)
		msleep(1);
	return atomic_read(&ki_wedge_nmi_spinning) ? 0 : -ETIMEDOUT;
}

static int ki_wedge_fn(void *data)
{
	struct ki_wedge_job job = *(struct ki_wedge_job *)data;
	unsigned long flags;

	kfree(data);
	local_irq_save(flags);
	if (atomic_dec_and_test(job.started))
		complete(job.all_started);
	ki_wedge_spin(local_clock() + job.ns);
	local_irq_restore(flags);
	/* Never returns to this module's text: unload may free it at once. */
	kthread_complete_and_exit(&ki_wedge_done, 0);
}

static ssize_t ki_wedge_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	DECLARE_COMPLETION_ONSTACK(all_started);
	atomic_t started = ATOMIC_INIT(1);
	cpumask_var_t mask;
	char buf[64], *sp;
	unsigned int ms;
	int cpu, self, ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (!strncmp(buf, "nmi ", 4)) {
		ret = ki_wedge_nmi_write(buf + 4);
		return ret ? ret : len;
	}
	sp = strchr(buf, ' ');
	if (!sp)
		return -EINVAL;
	*sp++ = '\0';
	if (kstrtouint(strim(sp), 10, &ms) || !ms || ms > KI_WEDGE_MAX_MS)
		return -EINVAL;
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	ret = cpulist_parse(buf, mask);
	if (ret)
		goto out;

	cpus_read_lock();
	self = get_cpu();
	put_cpu();
	for_each_cpu_and(cpu, mask, cpu_online_mask) {
		struct ki_wedge_job *job;
		struct task_struct *t;

		if (cpu == self)
			continue;
		job = kmalloc(sizeof(*job), GFP_KERNEL);
		if (!job)
			break;
		job->ns = (u64)ms * NSEC_PER_MSEC;
		job->started = &started;
		job->all_started = &all_started;
		t = kthread_create_on_cpu(ki_wedge_fn, job, cpu, "ki_wedge/%u");
		if (IS_ERR(t)) {
			kfree(job);
			break;
		}
		atomic_inc(&started);
		atomic_inc(&ki_wedge_threads);
		wake_up_process(t);
	}
	cpus_read_unlock();
	/* The writer's own count: done once every thread has disabled interrupts. */
	if (!atomic_dec_and_test(&started))
		wait_for_completion(&all_started);
	ret = len;
out:
	free_cpumask_var(mask);
	return ret;
}

static const struct file_operations ki_wedge_fops = {
	.owner = THIS_MODULE,
	.write = ki_wedge_write,
};

static int __init ki_wedge_init(void)
{
	int ret = register_nmi_handler(NMI_LOCAL, ki_wedge_nmi, 0, "ki_wedge");

	if (ret)
		return ret;
	ki_wedge_file = debugfs_create_file("ki_wedge", 0200, NULL, NULL, &ki_wedge_fops);
	return 0;
}

static void __exit ki_wedge_exit(void)
{
	int n;

	debugfs_remove(ki_wedge_file);
	for (n = atomic_read(&ki_wedge_threads); n > 0; n--)
		wait_for_completion(&ki_wedge_done);
	/* Waits for a handler in progress (synchronize_rcu()). */
	unregister_nmi_handler(NMI_LOCAL, "ki_wedge");
}

module_init(ki_wedge_init);
module_exit(ki_wedge_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kintrospect test: wedge CPUs with interrupts off for a bounded time");
