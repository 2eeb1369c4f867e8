// SPDX-License-Identifier: GPL-2.0
/* modkit test module: top of the chain a -> b -> c: uses mk_chain_b
 * and, directly, mk_chain_c's namespaced export. */
#include <linux/module.h>
#include "mk_test.h"

static int __init mk_chain_a_init(void)
{
	pr_info("mk_chain_a: %d\n", mk_b_value() + mk_c_ns_value());
	return 0;
}
static void __exit mk_chain_a_exit(void) { }
module_init(mk_chain_a_init);
module_exit(mk_chain_a_exit);
MODULE_IMPORT_NS(MK_NS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: chain top");
