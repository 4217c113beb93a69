// SPDX-License-Identifier: GPL-2.0
/*
 * What kintrospect was loaded with and on: the module parameters, the kernel
 * debug features it can use as this kernel was built, and the kernel
 * release. Reported in the status file so that a user sees at once what the
 * lock and slab reports can and cannot tell on this machine.
 *
 * The parameters are declared in C rather than in the Rust module! block so
 * that they are visible read-only under /sys/module/kintrospect/parameters/
 * and so that the SysRq key can be given as a character (sysrq_key=x). The
 * unsigned ones are declared once, in KINTROSPECT_UINT_PARAMS (kintrospect.h),
 * from which their fields, defaults, ranges, checks and descriptions follow;
 * a value out of range refuses the load. They are read once, at init, into
 * struct kintrospect_params.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kconfig.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/utsname.h>

#include "features.h"
#include "kintrospect.h"

/* The parameters' values: the table's defaults until the load sets them. */
#define KINTROSPECT_PARAM_DEFAULT(name, def, ...)	.name = def,

static struct kintrospect_params params = {
	KINTROSPECT_UINT_PARAMS(KINTROSPECT_PARAM_DEFAULT)
};

/*
 * Sets an unsigned parameter at load, refusing a value out of its range with
 * a message naming the parameter and the range. param_set_uint_minmax() would
 * refuse it silently and cannot allow 0 = off beside a range.
 */
static int kintrospect_param_set(const char *val, const struct kernel_param *kp,
				 bool off, u32 min, u32 max)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (!(off && v == 0) && (v < min || v > max)) {
		pr_err("%s=%u is out of range: %u-%u\n", kp->name, v, min, max);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = v;
	return 0;
}

/* What a description says before the range: whether 0 = off is allowed. */
#define KINTROSPECT_PARAM_OFF_false	", "
#define KINTROSPECT_PARAM_OFF_true	", 0 = off, else "

/* Each unsigned parameter: its set function, its ops, the parameter, its description. */
#define KINTROSPECT_PARAM(name, def, off, min, max, desc)			\
	static int kintrospect_set_##name(const char *val,			\
					  const struct kernel_param *kp)	\
	{									\
		return kintrospect_param_set(val, kp, off, min, max);		\
	}									\
	static const struct kernel_param_ops kintrospect_ops_##name = {		\
		.set = kintrospect_set_##name,					\
		.get = param_get_uint,						\
	};									\
	module_param_cb(name, &kintrospect_ops_##name, &params.name, 0444);	\
	__MODULE_PARM_TYPE(name, "uint");					\
	MODULE_PARM_DESC(name, desc KINTROSPECT_PARAM_OFF_##off			\
			 __stringify(min) "-" __stringify(max)			\
			 " (default " __stringify(def) ")");

KINTROSPECT_UINT_PARAMS(KINTROSPECT_PARAM)

static char sysrq_key[2] = "x";
module_param_string(sysrq_key, sysrq_key, sizeof(sysrq_key), 0444);
MODULE_PARM_DESC(sysrq_key, "SysRq key that takes a snapshot (default x)");

module_param_named(test_paths, params.test_paths, bool, 0444);
MODULE_PARM_DESC(test_paths, "Create the test/ directory with the spin-forever test path (default 0)");

module_param_string(persist, params.persist, sizeof(params.persist), 0444);
MODULE_PARM_DESC(persist,
		 "Keep the watch's events in the reserve_mem region of this name, to be read after a reboot (default none)");

/**
 * kintrospect_params_read() - the module parameters, checked
 * @p: receives them
 *
 * Each value was checked against its range when the load set it; what is
 * left is the one range that depends on another parameter.
 *
 * Return: 0, or -EINVAL (with a message) when slab_trend_min_growth is
 * larger than slab_trend_samples.
 */
int kintrospect_params_read(struct kintrospect_params *p)
{
	*p = params;
	p->sysrq_key = sysrq_key[0];
	if (p->slab_trend_min_growth > p->slab_trend_samples) {
		pr_err("slab_trend_min_growth=%u is out of range: 1-%u\n",
		       p->slab_trend_min_growth, p->slab_trend_samples);
		return -EINVAL;
	}
	return 0;
}

/* Each unsigned parameter's name and place in struct kintrospect_params. */
#define KINTROSPECT_PARAM_PLACE(name, ...)				\
	{ #name, offsetof(struct kintrospect_params, name) },

static const struct {
	const char *name;
	size_t offset;
} kintrospect_uint_param_table[] = {
	KINTROSPECT_UINT_PARAMS(KINTROSPECT_PARAM_PLACE)
};

/**
 * kintrospect_uint_param() - an unsigned parameter, by its place in the table
 * @p: the parameters, as kintrospect_params_read() gave them
 * @i: the index in KINTROSPECT_UINT_PARAMS, from 0
 * @value: receives the parameter's value in @p
 *
 * Return: the parameter's name (static), or NULL when @i is past the table.
 */
const char *kintrospect_uint_param(const struct kintrospect_params *p, u32 i,
				   u32 *value)
{
	if (i >= ARRAY_SIZE(kintrospect_uint_param_table))
		return NULL;
	*value = *(const u32 *)((const char *)p + kintrospect_uint_param_table[i].offset);
	return kintrospect_uint_param_table[i].name;
}

/* The kernel debug features kintrospect can use, in the order status shows them. */
#define KINTROSPECT_FEATURE_ENTRY(name, opt, level, lost) \
	{ #name, IS_ENABLED(CONFIG_##opt) },

static const struct kintrospect_feature kintrospect_feature_table[] = {
	KINTROSPECT_FEATURES(KINTROSPECT_FEATURE_ENTRY)
};

/**
 * kintrospect_features() - the kernel debug features table
 * @nr: receives the number of entries
 *
 * Return: the table, static.
 */
const struct kintrospect_feature *kintrospect_features(u32 *nr)
{
	*nr = ARRAY_SIZE(kintrospect_feature_table);
	return kintrospect_feature_table;
}

/* The running kernel's release (uname -r). */
const char *kintrospect_kernel_release(void)
{
	return utsname()->release;
}
