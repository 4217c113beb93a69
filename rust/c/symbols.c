// SPDX-License-Identifier: GPL-2.0
/*
 * Names of code addresses, as kintrospect's reports show them: a frame's
 * return address or interrupted ip, a held lock's acquire site, a lock's
 * own symbol. kallsyms formats them (%ps, %pS, %pB); a name too long for
 * its record keeps its start and its "+off/size [module]" tail.
 *
 * A kallsyms lookup is most of a CPU snapshot's time, and most addresses
 * (idle loops, system call entry, the capture's own path and locks) are the
 * same from one snapshot to the next: names that cannot change while
 * kintrospect is loaded are kept in a small direct-mapped cache. Only the
 * capture in progress (nmi.c's capture_busy) uses the cache.
 */
#include <linux/hash.h>
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "kintrospect.h"
#include "symbols.h"

/* Entries of the symbol cache (a power of two). */
#define SYMBOL_CACHE_BITS	8

/* A name as kintrospect_symbol_cached() wrote it into a record of @len bytes. */
struct symbol_cache_entry {
	u64 addr;		/* 0: empty */
	u32 fmt;		/* enum kintrospect_symbol_fmt */
	u32 len;
	bool resolved;
	char text[KINTROSPECT_SYMBOL_LEN];
};

static_assert(KINTROSPECT_SITE_LEN <= KINTROSPECT_SYMBOL_LEN);

/* Direct-mapped by address; only the capture in progress uses it. */
static struct symbol_cache_entry *symbol_cache;

/*
 * Formats @addr as @fmt (%ps, %pS or %pB) into @dst (@len bytes),
 * through @scratch (KSYM_SYMBOL_LEN bytes: the whole text). A text too long
 * for @dst keeps its start, "..." and all of its tail ("+off/size [module]",
 * or " [module]"), so that a long Rust name is still read back (its start,
 * see demangle.rs) with its offset and module. Returns false, with @dst
 * empty, when kallsyms has no symbol for @addr: printk prints the raw
 * "0x..." then.
 */
bool kintrospect_symbol_text(char *dst, size_t len, char *scratch,
			     enum kintrospect_symbol_fmt fmt, unsigned long addr)
{
	static const char ellipsis[] = "...";
	const size_t room = len - 1, dots = sizeof(ellipsis) - 1;
	const char *from;
	size_t n, head, tail;

	switch (fmt) {
	case KINTROSPECT_SYM_NAME:
		n = scnprintf(scratch, KSYM_SYMBOL_LEN, "%ps", (void *)addr);
		break;
	case KINTROSPECT_SYM_IP:
		n = scnprintf(scratch, KSYM_SYMBOL_LEN, "%pS", (void *)addr);
		break;
	default:
		n = scnprintf(scratch, KSYM_SYMBOL_LEN, "%pB", (void *)addr);
		break;
	}
	if (!n || str_has_prefix(scratch, "0x")) {
		dst[0] = '\0';
		return false;
	}
	if (n <= room) {
		memcpy(dst, scratch, n + 1);
		return true;
	}
	from = strrchr(scratch, '+');
	if (!from)
		from = strstr(scratch, " [");
	tail = from ? n - (from - scratch) : 0;
	if (tail > room / 2)
		tail = 0;
	head = room - tail - dots;
	memcpy(dst, scratch, head);
	memcpy(dst + head, ellipsis, dots);
	memcpy(dst + head + dots, scratch + n - tail, tail);
	dst[room] = '\0';
	return true;
}

/*
 * Names @addr as kintrospect_symbol_text() does. When kallsyms has no symbol
 * for it, @dst is left empty and @unresolved is added to @flags, so that the
 * reader's kptr_restrict rights decide later whether the address may be
 * shown.
 */
void kintrospect_symbol_name(char *dst, size_t len, char *scratch,
			     enum kintrospect_symbol_fmt fmt, unsigned long addr,
			     u32 *flags, u32 unresolved)
{
	if (!kintrospect_symbol_text(dst, len, scratch, fmt, addr))
		*flags |= unresolved;
}

/*
 * Whether the name of @addr cannot change while kintrospect is loaded: it is
 * in the kernel image (whose symbols are fixed; its init code is freed
 * after boot, and nothing runs there again) or in kintrospect's own core
 * text. Other modules may unload and their addresses be reused, as may
 * BPF programs' and trampolines' (all of them above MODULES_VADDR): those
 * are named afresh every time.
 */
static bool symbol_cacheable(unsigned long addr)
{
	return (addr >= __START_KERNEL_map && addr < MODULES_VADDR) ||
	       within_module_mem_type(addr, THIS_MODULE, MOD_TEXT);
}

/**
 * kintrospect_symbol_cached() - kintrospect_symbol_text(), through the cache
 * @dst: receives the name
 * @len: size of @dst, at most KINTROSPECT_SYMBOL_LEN
 * @scratch: KSYM_SYMBOL_LEN bytes only the caller uses meanwhile
 * @fmt: how to name it
 * @addr: the address
 *
 * Only the capture in progress may call it.
 *
 * Return: whether kallsyms named @addr (else @dst is empty).
 */
bool kintrospect_symbol_cached(char *dst, size_t len, char *scratch,
			       enum kintrospect_symbol_fmt fmt, unsigned long addr)
{
	struct symbol_cache_entry *e = NULL;
	bool resolved;

	if (symbol_cache && len <= KINTROSPECT_SYMBOL_LEN && symbol_cacheable(addr)) {
		e = &symbol_cache[hash_64(addr ^ fmt ^ len, SYMBOL_CACHE_BITS)];
		if (e->addr == addr && e->fmt == fmt && e->len == len) {
			memcpy(dst, e->text, len);
			return e->resolved;
		}
	}
	resolved = kintrospect_symbol_text(dst, len, scratch, fmt, addr);
	if (e) {
		e->addr = addr;
		e->fmt = fmt;
		e->len = len;
		e->resolved = resolved;
		memcpy(e->text, dst, len);
	}
	return resolved;
}

/* Allocates the symbol cache. Process context. */
int kintrospect_symbol_cache_init(void)
{
	symbol_cache = kvcalloc(1 << SYMBOL_CACHE_BITS, sizeof(*symbol_cache), GFP_KERNEL);
	return symbol_cache ? 0 : -ENOMEM;
}

/* Frees the symbol cache (none allocated: nothing). */
void kintrospect_symbol_cache_exit(void)
{
	kvfree(symbol_cache);
	symbol_cache = NULL;
}

/* Bytes of the symbol cache. */
size_t kintrospect_symbol_cache_memory(void)
{
	return sizeof(*symbol_cache) << SYMBOL_CACHE_BITS;
}
