// SPDX-License-Identifier: GPL-2.0
/*
 * ki_oops: a module whose init dereferences a NULL pointer - a buggy
 * driver's probe. The kernel oopses in the insmod task, kills it and goes
 * on; the module stays half loaded. kintrospect's watch must record an
 * "oops" event for the insmod task and print its report to the console once
 * (issue 9 item 4). An oops turns lockdep off for the rest of the boot, so
 * only the panic boot (scripts/guest/panic.sh) loads it, before its panic.
 */
#include <linux/compiler.h>
#include <linux/init.h>
#include <linux/module.h>

struct ki_oops_dev {
	int irq;
};

/* What a probe would read from a device that was never found. */
static struct ki_oops_dev *ki_oops_dev;

static noinline int ki_oops_probe(void)
{
	return READ_ONCE(ki_oops_dev)->irq;
}

static int __init ki_oops_init(void)
{
	return ki_oops_probe();
}

module_init(ki_oops_init);
MODULE_DESCRIPTION("kintrospect test helper: an oops in module init");
MODULE_LICENSE("GPL");
