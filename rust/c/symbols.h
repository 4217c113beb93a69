/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of code addresses (symbols.c): shared by the CPU snapshot (nmi.c)
 * and the lock walk (locks.c, lockinfo.c).
 */
#ifndef KINTROSPECT_SYMBOLS_H
#define KINTROSPECT_SYMBOLS_H

#include <linux/types.h>

/*
 * Naming: process context, or the snapshot trigger (atomic, never NMI).
 * @scratch is KSYM_SYMBOL_LEN bytes that only the caller uses meanwhile.
 */
enum kintrospect_symbol_fmt {
	KINTROSPECT_SYM_NAME,		/* %ps: "name [module]" */
	KINTROSPECT_SYM_IP,		/* %pS: an interrupted ip */
	KINTROSPECT_SYM_RETURN,		/* %pB: a return address, a call site */
};

bool kintrospect_symbol_text(char *dst, size_t len, char *scratch,
			     enum kintrospect_symbol_fmt fmt, unsigned long addr);
void kintrospect_symbol_name(char *dst, size_t len, char *scratch,
			     enum kintrospect_symbol_fmt fmt, unsigned long addr,
			     u32 *flags, u32 unresolved);
bool kintrospect_symbol_cached(char *dst, size_t len, char *scratch,
			       enum kintrospect_symbol_fmt fmt, unsigned long addr);
int kintrospect_symbol_cache_init(void);
void kintrospect_symbol_cache_exit(void);
size_t kintrospect_symbol_cache_memory(void);

#endif /* KINTROSPECT_SYMBOLS_H */
