// SPDX-License-Identifier: GPL-2.0
/*
 * ki_region: damages kintrospect's black box the way a reset, a bad DIMM or
 * another kernel would, so that the selftests can check that a damaged
 * region is read cleanly. Loading it with region=NAME op=OP changes the
 * reserve_mem region NAME once, then the module stays loaded doing nothing:
 *
 *   random   every byte random (garbage, or a region another user wrote)
 *   flip     one payload byte of the first record flipped (a bit error)
 *   tear     the second half of the first record's payload zeroed, its
 *            magic kept (a reset while the record's lines were being
 *            written back in another order than they were written)
 *   version  the first record's version set to 2 with its checksum made
 *            right again (a newer kintrospect's layout)
 *
 * It knows the documented layout (Documentation/kintrospect/formats.rst, "The
 * region's layout"), not kintrospect's code: 64 KiB slots, a record starting
 * "KIEV" with its version at 4, its length at 8, its CRC-32 at 12 and a
 * 144-byte header. The slot it changed is in
 * /sys/module/ki_region/parameters/slot.
 */
#include <linux/crc32.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#define KI_SLOT		(64 * 1024)
#define KI_HEADER_LEN	144

static char region[16] = "kintrospect";
module_param_string(region, region, sizeof(region), 0444);
MODULE_PARM_DESC(region, "The reserve_mem region to damage (default kintrospect)");

static char op[16];
module_param_string(op, op, sizeof(op), 0444);
MODULE_PARM_DESC(op, "random, flip, tear or version");

static int slot = -1;
module_param(slot, int, 0444);
MODULE_PARM_DESC(slot, "The slot changed (output; -1: none)");

/* The first slot that holds a record, or -1. */
static int ki_region_first(u8 *base, phys_addr_t size)
{
	phys_addr_t off;

	for (off = 0; off + KI_SLOT <= size; off += KI_SLOT)
		if (!memcmp(base + off, "KIEV", 4))
			return off / KI_SLOT;
	return -1;
}

static int __init ki_region_init(void)
{
	phys_addr_t start, size;
	u8 *base, *rec;
	u32 len, crc;
	int ret = 0;

	if (!reserve_mem_find_by_name(region, &start, &size)) {
		pr_err("ki_region: no reserve_mem region %s\n", region);
		return -ENOENT;
	}
	base = memremap(start, size, MEMREMAP_WB);
	if (!base)
		return -ENOMEM;
	if (!strcmp(op, "random")) {
		get_random_bytes(base, size);
		slot = 0;
		goto out;
	}
	slot = ki_region_first(base, size);
	if (slot < 0) {
		pr_err("ki_region: no record in %s\n", region);
		ret = -ENODATA;
		goto out;
	}
	rec = base + (phys_addr_t)slot * KI_SLOT;
	len = get_unaligned_le32(rec + 8);
	if (len < KI_HEADER_LEN + 2 || len > KI_SLOT) {
		ret = -EINVAL;
		goto out;
	}
	if (!strcmp(op, "flip")) {
		rec[KI_HEADER_LEN + (len - KI_HEADER_LEN) / 2] ^= 0x01;
	} else if (!strcmp(op, "tear")) {
		memset(rec + KI_HEADER_LEN + (len - KI_HEADER_LEN) / 2, 0,
		       len - KI_HEADER_LEN - (len - KI_HEADER_LEN) / 2);
	} else if (!strcmp(op, "version")) {
		put_unaligned_le16(2, rec + 4);
		put_unaligned_le32(0, rec + 12);
		/* zlib's CRC-32 of the payload, then of the header. */
		crc = ~crc32_le(~0U, rec + KI_HEADER_LEN, len - KI_HEADER_LEN);
		crc = ~crc32_le(~crc, rec, KI_HEADER_LEN);
		put_unaligned_le32(crc, rec + 12);
	} else {
		pr_err("ki_region: unknown op '%s'\n", op);
		ret = -EINVAL;
		goto out;
	}
	pr_info("ki_region: %s on slot %d of %s\n", op, slot, region);
out:
	memunmap(base);
	return ret;
}

static void __exit ki_region_exit(void)
{
}

module_init(ki_region_init);
module_exit(ki_region_exit);
MODULE_DESCRIPTION("Damages kintrospect's black box region, for its selftests");
MODULE_LICENSE("GPL");
