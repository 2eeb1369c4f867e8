/* SPDX-License-Identifier: GPL-2.0 */
/* modkit test modules: the symbols they export to each other, and what
 * differs between the kernels they are built for.
 *
 * Symbol namespaces: up to 6.12 EXPORT_SYMBOL_NS*() and MODULE_IMPORT_NS()
 * take a bare identifier and stringify it (__stringify expands macros
 * first, so MK_NS below becomes "MK_TEST_NS"); from 6.13 on they take a
 * string literal. Debian's 6.1 and 6.12 headers both still take the bare
 * identifier. */
#ifndef MK_TEST_H
#define MK_TEST_H
#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define MK_NS "MK_TEST_NS"
#else
#define MK_NS MK_TEST_NS
#endif

/* mk_chain_c: EXPORT_SYMBOL, EXPORT_SYMBOL_GPL, EXPORT_SYMBOL_NS_GPL(MK_NS) */
int mk_c_value(void);
int mk_c_gpl_value(void);
int mk_c_ns_value(void);
/* mk_chain_b: EXPORT_SYMBOL */
int mk_b_value(void);
/* mk_diamond_left: EXPORT_SYMBOL_GPL; mk_diamond_right: EXPORT_SYMBOL */
int mk_left_value(void);
int mk_right_value(void);

#endif
