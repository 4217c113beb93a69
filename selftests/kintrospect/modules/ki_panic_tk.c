// SPDX-License-Identifier: GPL-2.0
/*
 * ki_panic_tk: a panic inside the timekeeper's update (issue 17 item 4).
 *
 * timekeeping_update_from_shadow() (kernel/time/timekeeping.c) holds the
 * write side of tk_core.seq - the sequence is odd - across update_vsyscall()
 * and the pvclock_gtod notifier chain (KVM and Hyper-V hook it). A notifier
 * of that chain that panics (an oops there with panic_on_oops, a hard-lockup
 * NMI on a CPU stuck in the update) leaves the sequence odd for good: every
 * panic notifier that reads the time with ktime_get*() spins forever, and
 * the panic never reaches kmsg_dump, kdump (crash_kexec_post_notifiers) or
 * the panic=N reboot. Only the NMI-safe clock (ktime_get_mono_fast_ns())
 * still answers.
 *
 * Loaded with arm=1, this module registers such a notifier and panics at
 * the next timekeeping update (the next tick); without it, it does nothing.
 * Only the panic boot's timekeeping scenario (scripts/guest/panic.sh) loads
 * it.
 */
#include <linux/atomic.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/notifier.h>
#include <linux/panic.h>
#include <linux/pvclock_gtod.h>

static bool arm;
module_param(arm, bool, 0444);
MODULE_PARM_DESC(arm, "Panic at the next timekeeping update (default 0: do nothing)");

static atomic_t ki_panic_tk_armed = ATOMIC_INIT(0);

/* Called with tk_core.lock held and, once armed, inside the write section. */
static int ki_panic_tk_update(struct notifier_block *nb, unsigned long was_set,
			      void *tk)
{
	if (atomic_xchg(&ki_panic_tk_armed, 0))
		panic("ki_panic_tk: in the timekeeper's write section");
	return NOTIFY_DONE;
}

static struct notifier_block ki_panic_tk_nb = {
	.notifier_call = ki_panic_tk_update,
};

static int __init ki_panic_tk_init(void)
{
	int ret;

	if (!arm)
		return 0;
	/* Registration calls the chain once, outside the write section. */
	ret = pvclock_gtod_register_notifier(&ki_panic_tk_nb);
	if (ret)
		return ret;
	atomic_set(&ki_panic_tk_armed, 1);
	return 0;
}

static void __exit ki_panic_tk_exit(void)
{
	if (arm)
		pvclock_gtod_unregister_notifier(&ki_panic_tk_nb);
}

module_init(ki_panic_tk_init);
module_exit(ki_panic_tk_exit);
MODULE_DESCRIPTION("kintrospect test helper: a panic inside the timekeeping update");
MODULE_LICENSE("GPL");
