// SPDX-License-Identifier: GPL-2.0
/* modkit test module: right side of the diamond
 * mk_diamond_top -> {mk_diamond_left, mk_diamond_right} -> mk_chain_c:
 * uses mk_chain_c's namespaced export, exports a plain symbol. */
#include <linux/module.h>
#include "mk_test.h"

int mk_right_value(void) { return mk_c_ns_value() * 2; }
EXPORT_SYMBOL(mk_right_value);

static int __init mk_diamond_right_init(void) { return 0; }
static void __exit mk_diamond_right_exit(void) { }
module_init(mk_diamond_right_init);
module_exit(mk_diamond_right_exit);
MODULE_IMPORT_NS(MK_NS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: diamond, right side");
