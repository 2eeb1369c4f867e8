// SPDX-License-Identifier: GPL-2.0
/* modkit test module: bottom of a dependency chain; exports plain, GPL and
 * namespaced symbols. */
#include <linux/module.h>
#include "mk_test.h"

int mk_c_value(void) { return 3; }
EXPORT_SYMBOL(mk_c_value);
int mk_c_gpl_value(void) { return 30; }
EXPORT_SYMBOL_GPL(mk_c_gpl_value);
int mk_c_ns_value(void) { return 300; }
EXPORT_SYMBOL_NS_GPL(mk_c_ns_value, MK_NS);

static int __init mk_chain_c_init(void) { return 0; }
static void __exit mk_chain_c_exit(void) { }
module_init(mk_chain_c_init);
module_exit(mk_chain_c_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: chain bottom");
