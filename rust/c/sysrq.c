// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect's SysRq key: takes a CPU snapshot from the SysRq handler.
 *
 * The handler runs inside rcu_read_lock(), from the keyboard with interrupts
 * off: kintrospect_cpus_capture() never sleeps and never allocates. It logs
 * one summary line and queues a work item for what needs process context
 * (the locks report); the snapshots are read from debugfs.
 *
 * A key pressed while another CPU snapshot is being taken (a control write,
 * a watch sample) is not lost: the handler cannot wait, so the work item
 * takes the key's snapshot, waiting for the one in progress.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/hardirq.h>
#include <linux/jiffies.h>
#include <linux/printk.h>
#include <linux/workqueue.h>
#include <linux/string.h>
#include <linux/sysrq.h>
#include <linux/time64.h>

#include "kintrospect.h"

/*
 * How long the work item waits for the snapshots in progress: more than one
 * snapshot can take (nmi_timeout_ms is at most 10000).
 */
#define SYSRQ_CAPTURE_WAIT_MS	12000

static u8 sysrq_key;
/* The handler found a snapshot in progress: the work item takes the key's. */
static atomic_t sysrq_capture_pending = ATOMIC_INIT(0);

static void log_snapshot(void)
{
	struct kintrospect_cpus_info info;

	kintrospect_cpus_header(&info);
	pr_info("kintrospect: snapshot %llu of %u CPUs (%u no-response) taken by sysrq in %llu us, see /sys/kernel/debug/kintrospect/cpus\n",
		info.seq, info.nr_cpus, info.nr_no_response,
		info.duration_ns / NSEC_PER_USEC);
}

/* The key's snapshot, from the work item: sleeps while another is taken. */
static void capture_deferred(void)
{
	unsigned long end = jiffies + msecs_to_jiffies(SYSRQ_CAPTURE_WAIT_MS);
	int ret;

	while ((ret = kintrospect_cpus_capture(KINTROSPECT_SOURCE_SYSRQ)) == -EBUSY &&
	       time_before(jiffies, end))
		usleep_range(500, 1000);
	if (ret) {
		pr_info("kintrospect: snapshot by sysrq skipped: snapshots kept being taken for %u ms\n",
			SYSRQ_CAPTURE_WAIT_MS);
		return;
	}
	log_snapshot();
}

/* The parts of a SysRq snapshot that must sleep: locks (and slab) reports. */
static void kintrospect_sysrq_work_fn(struct work_struct *work)
{
	if (atomic_xchg(&sysrq_capture_pending, 0))
		capture_deferred();
	kintrospect_sysrq_deferred();
}

static DECLARE_WORK(kintrospect_sysrq_work, kintrospect_sysrq_work_fn);
/* "kintrospect-snapshot(x)": the help text names the configured key. */
static char sysrq_help[] = "kintrospect-snapshot(?)";

static void kintrospect_sysrq_handler(u8 key)
{
	int ret;

	/*
	 * kdb's "sr" calls SysRq handlers from its debug trap with the other
	 * CPUs parked in NMI: one may hold the snapshot's publication lock, and
	 * queueing work takes a lock that is not NMI-safe.
	 */
	if (in_nmi()) {
		pr_info("kintrospect: SysRq from NMI context (kdb), key ignored\n");
		return;
	}
	ret = kintrospect_cpus_capture(KINTROSPECT_SOURCE_SYSRQ);
	if (ret) {
		pr_info("kintrospect: a snapshot is being taken: the key's follows from a work item\n");
		atomic_set(&sysrq_capture_pending, 1);
	} else {
		log_snapshot();
	}
	/* Unbound: not behind a CPU that is stuck with preemption off. */
	queue_work(system_dfl_wq, &kintrospect_sysrq_work);
}

static const struct sysrq_key_op kintrospect_sysrq_op = {
	.handler = kintrospect_sysrq_handler,
	.help_msg = sysrq_help,
	.action_msg = "kintrospect CPU snapshot",
	.enable_mask = SYSRQ_ENABLE_DUMP,
};

/**
 * kintrospect_sysrq_register() - register the SysRq key
 * @key: the key, e.g. 'x'
 *
 * Return: 0, -EINVAL for a key SysRq cannot use, -EBUSY when the key is
 * taken. Sleeps (synchronize_rcu()).
 */
int kintrospect_sysrq_register(u8 key)
{
	char *mark = strchr(sysrq_help, '?');

	if (!((key >= 'a' && key <= 'z') || (key >= 'A' && key <= 'Z') ||
	      (key >= '0' && key <= '9')))
		return -EINVAL;
	if (mark)
		*mark = key;
	if (register_sysrq_key(key, &kintrospect_sysrq_op))
		return -EBUSY;
	sysrq_key = key;
	return 0;
}

void kintrospect_sysrq_unregister(void)
{
	if (sysrq_key)
		unregister_sysrq_key(sysrq_key, &kintrospect_sysrq_op);
	sysrq_key = 0;
	/* No handler runs any more (unregister waited): flush its work. */
	cancel_work_sync(&kintrospect_sysrq_work);
}
