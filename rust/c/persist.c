// SPDX-License-Identifier: GPL-2.0
/*
 * The black box's memory: a region of RAM that survives a warm reboot,
 * reserved on the kernel command line with reserve_mem=SIZE:ALIGN:NAME and
 * found by its name. kintrospect keeps the watch's events there
 * (rust/persist.rs: the layout, the records and their checks); this file
 * only maps the region and gives what the records need from the kernel: a
 * checksum, the boot's identity and clocks that can be read in a panic.
 *
 * The region is RAM the kernel never uses (memblock keeps it reserved), in
 * the direct map: memremap(MEMREMAP_WB) hands back that address. A record
 * is written through the cache; after each one its lines are written back
 * (x86: clflush), since a reset does not write back what a cache holds.
 *
 * The boot's identity is the kernel's own boot_id, the UUID that
 * /proc/sys/kernel/random/boot_id shows and journalctl --list-boots lists:
 * it is made on its first read and not exported, so it is read as a user
 * would, once, at load (process context).
 */
#include <linux/crc32.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/timekeeping.h>
#include <linux/uuid.h>

#ifdef CONFIG_X86
#include <asm/cacheflush.h>
#endif

#include "kintrospect.h"

/**
 * kintrospect_persist_map() - map the reserve_mem region @name
 * @name: the region's name on the command line (reserve_mem=SIZE:ALIGN:NAME)
 * @base: receives its kernel address
 * @phys: receives its physical address
 * @size: receives its size in bytes
 *
 * Return: 0, -ENOENT when no region has that name, -ENOMEM when it cannot
 * be mapped. Process context.
 */
int kintrospect_persist_map(const char *name, void **base, u64 *phys, u64 *size)
{
	phys_addr_t start, len;
	void *addr;

	if (!reserve_mem_find_by_name(name, &start, &len))
		return -ENOENT;
	addr = memremap(start, len, MEMREMAP_WB);
	if (!addr)
		return -ENOMEM;
	*base = addr;
	*phys = start;
	*size = len;
	return 0;
}

/* Undoes kintrospect_persist_map(). */
void kintrospect_persist_unmap(void *base)
{
	memunmap(base);
}

/* Writes back the cache lines of [@addr, @addr + @len) to memory. Any context. */
void kintrospect_persist_flush(void *addr, u64 len)
{
#ifdef CONFIG_X86
	clflush_cache_range(addr, len);
#endif
}

/*
 * The CRC-32 of zlib (and of Python's zlib.crc32()) of @len bytes at @p,
 * continuing @crc (0 to start): the checksum the record layout documents.
 */
u32 kintrospect_crc32(u32 crc, const void *p, u64 len)
{
	return ~crc32_le(~crc, p, len);
}

/**
 * kintrospect_boot_id() - the kernel's boot_id
 * @id: receives the 16 bytes of the UUID
 *
 * Return: 0 or a negative error (no procfs at /proc in this mount namespace).
 * Process context.
 */
int kintrospect_boot_id(u8 *id)
{
	char text[UUID_STRING_LEN + 1] = {};
	struct file *file;
	loff_t pos = 0;
	uuid_t uuid;
	ssize_t n;

	file = filp_open("/proc/sys/kernel/random/boot_id", O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	n = kernel_read(file, text, UUID_STRING_LEN, &pos);
	filp_close(file, NULL);
	if (n != UUID_STRING_LEN)
		return n < 0 ? n : -EIO;
	if (uuid_parse(text, &uuid))
		return -EINVAL;
	memcpy(id, uuid.b, sizeof(uuid.b));
	return 0;
}

/* A random number that tells one load of the module from another. */
u64 kintrospect_random_u64(void)
{
	return get_random_u64();
}

/* Wall-clock time in ns (CLOCK_REALTIME); NMI-safe, also in a panic. */
u64 kintrospect_real_ns(void)
{
	return ktime_get_real_fast_ns();
}

/* Time since boot in ns (CLOCK_BOOTTIME); NMI-safe, also in a panic. */
u64 kintrospect_boottime_ns(void)
{
	return ktime_get_boot_fast_ns();
}
