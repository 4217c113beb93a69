// SPDX-License-Identifier: GPL-2.0
/*
 * ki_oops_storm: an oops storm (issue 17 item 5). Every write to
 * /sys/kernel/debug/ki_oops_storm dereferences a NULL pointer in the
 * writer's context: the kernel oopses, kills the writer and goes on. Many
 * writers at once oops one after the other (the oops code serialises them)
 * within one or a few watch samples: kintrospect's watch must record each
 * as an "oops" event but print a full report to the console at most once
 * per sample and rate limit window, and one line for the others, so that
 * the kernel's own oops traces stay in the log. An oops turns lockdep off
 * for the rest of the boot: only the panic boot (scripts/guest/panic.sh)
 * loads this module. It cannot be unloaded once a writer has oopsed (the
 * debugfs file stays in use).
 */
#include <linux/compiler.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/module.h>

struct ki_oops_storm_dev {
	int irq;
};

/* What a driver would read from a device that was never found. */
static struct ki_oops_storm_dev *ki_oops_storm_dev;
static struct dentry *ki_oops_storm_file;

static ssize_t ki_oops_storm_write(struct file *file, const char __user *buf,
				   size_t len, loff_t *pos)
{
	return READ_ONCE(ki_oops_storm_dev)->irq;
}

static const struct file_operations ki_oops_storm_fops = {
	.owner = THIS_MODULE,
	.write = ki_oops_storm_write,
};

static int __init ki_oops_storm_init(void)
{
	ki_oops_storm_file = debugfs_create_file("ki_oops_storm", 0200, NULL, NULL,
						 &ki_oops_storm_fops);
	return IS_ERR(ki_oops_storm_file) ? PTR_ERR(ki_oops_storm_file) : 0;
}

static void __exit ki_oops_storm_exit(void)
{
	debugfs_remove(ki_oops_storm_file);
}

module_init(ki_oops_storm_init);
module_exit(ki_oops_storm_exit);
MODULE_DESCRIPTION("kintrospect test helper: writers that oops");
MODULE_LICENSE("GPL");
