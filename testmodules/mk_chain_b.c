// SPDX-License-Identifier: GPL-2.0
/* modkit test module: middle of the chain (uses mk_chain_c, exports). */
#include <linux/module.h>
#include "mk_test.h"

int mk_b_value(void) { return mk_c_value() + mk_c_gpl_value(); }
EXPORT_SYMBOL(mk_b_value);

static int __init mk_chain_b_init(void) { return mk_b_value() == 33 ? 0 : -EINVAL; }
static void __exit mk_chain_b_exit(void) { }
module_init(mk_chain_b_init);
module_exit(mk_chain_b_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: chain middle");
