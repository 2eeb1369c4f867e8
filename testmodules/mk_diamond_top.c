// SPDX-License-Identifier: GPL-2.0
/* modkit test module: top of the diamond
 * mk_diamond_top -> {mk_diamond_left, mk_diamond_right} -> mk_chain_c. */
#include <linux/module.h>
#include "mk_test.h"

static int __init mk_diamond_top_init(void)
{
	pr_info("mk_diamond_top: %d\n", mk_left_value() + mk_right_value());
	return 0;
}
static void __exit mk_diamond_top_exit(void) { }
module_init(mk_diamond_top_init);
module_exit(mk_diamond_top_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: diamond, top");
