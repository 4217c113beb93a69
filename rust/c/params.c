// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect's module parameters. Declared in C rather than in the Rust
 * module! block so that they are visible read-only under
 * /sys/module/kintrospect/parameters/ and so that the SysRq key can be given
 * as a character (sysrq_key=x).
 */
#include <linux/moduleparam.h>

#include "kintrospect.h"

static unsigned int nmi_timeout_ms = 100;
module_param(nmi_timeout_ms, uint, 0444);
MODULE_PARM_DESC(nmi_timeout_ms,
		 "How long a CPU snapshot waits for the other CPUs' NMIs, 1-10000 ms (default 100)");

static char sysrq_key[2] = "x";
module_param_string(sysrq_key, sysrq_key, sizeof(sysrq_key), 0444);
MODULE_PARM_DESC(sysrq_key, "SysRq key that takes a snapshot (default x)");

static bool test_paths;
module_param(test_paths, bool, 0444);
MODULE_PARM_DESC(test_paths, "Create the test/ directory with the spin-forever test path (default 0)");

static unsigned int spin_timeout_ms = 5000;
module_param(spin_timeout_ms, uint, 0444);
MODULE_PARM_DESC(spin_timeout_ms,
		 "A test spin ends by itself after this long, 1-15000 ms, with irqs off at most 8000 (default 5000)");

static unsigned int slab_interval_ms;
module_param(slab_interval_ms, uint, 0444);
MODULE_PARM_DESC(slab_interval_ms,
		 "Take a slab sample every this many ms for the trend, 0 = off, else 100-3600000 (default 0)");

static unsigned int slab_trend_samples = 10;
module_param(slab_trend_samples, uint, 0444);
MODULE_PARM_DESC(slab_trend_samples,
		 "K: slab sample intervals kept per cache for the trend, 2-64 (default 10)");

static unsigned int slab_trend_min_growth = 8;
module_param(slab_trend_min_growth, uint, 0444);
MODULE_PARM_DESC(slab_trend_min_growth,
		 "M: a cache that grew in at least M of the last K intervals is a suspect, 1-K (default 8)");

u32 kintrospect_param_nmi_timeout_ms(void)
{
	return nmi_timeout_ms;
}

u8 kintrospect_param_sysrq_key(void)
{
	return sysrq_key[0];
}

bool kintrospect_param_test_paths(void)
{
	return test_paths;
}

u32 kintrospect_param_spin_timeout_ms(void)
{
	return spin_timeout_ms;
}

u32 kintrospect_param_slab_interval_ms(void)
{
	return slab_interval_ms;
}

u32 kintrospect_param_slab_trend_samples(void)
{
	return slab_trend_samples;
}

u32 kintrospect_param_slab_trend_min_growth(void)
{
	return slab_trend_min_growth;
}
