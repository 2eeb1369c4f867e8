// SPDX-License-Identifier: GPL-2.0
/* modkit test module: left side of the diamond
 * mk_diamond_top -> {mk_diamond_left, mk_diamond_right} -> mk_chain_c:
 * uses mk_chain_c's plain export, exports a GPL-only symbol. */
#include <linux/module.h>
#include "mk_test.h"

int mk_left_value(void) { return mk_c_value() * 2; }
EXPORT_SYMBOL_GPL(mk_left_value);

static int __init mk_diamond_left_init(void) { return 0; }
static void __exit mk_diamond_left_exit(void) { }
module_init(mk_diamond_left_init);
module_exit(mk_diamond_left_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: diamond, left side");
