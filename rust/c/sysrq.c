// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect's SysRq key: a binding, register, unregister, call back.
 *
 * The key's handler runs inside rcu_read_lock(), with interrupts off when
 * the keyboard pressed it: it calls the Rust side's atomic part
 * (kintrospect_ops.sysrq, which takes the CPU snapshot without sleeping or
 * allocating), then queues a work item for its process-context part
 * (kintrospect_ops.sysrq_deferred: the locks and slab reports). What to
 * capture, and what to do when a snapshot is already being taken, is the
 * Rust side's (rust/state.rs).
 */
#include <linux/hardirq.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <linux/sysrq.h>
#include <linux/workqueue.h>

#include "kintrospect.h"

static u8 sysrq_key;

static void kintrospect_sysrq_work_fn(struct work_struct *work)
{
	kintrospect_sysrq_deferred();
}

static DECLARE_WORK(kintrospect_sysrq_work, kintrospect_sysrq_work_fn);
/* "kintrospect-snapshot(x)": the help text names the configured key. */
static char sysrq_help[] = "kintrospect-snapshot(?)";

static void kintrospect_sysrq_handler(u8 key)
{
	/*
	 * kdb's "sr" calls SysRq handlers from its debug trap with the other
	 * CPUs parked in NMI: one may hold the snapshot's publication lock, and
	 * queueing work takes a lock that is not NMI-safe.
	 */
	if (in_nmi()) {
		pr_info("kintrospect: SysRq from NMI context (kdb), key ignored\n");
		return;
	}
	kintrospect_sysrq();
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
