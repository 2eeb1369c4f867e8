// SPDX-License-Identifier: GPL-2.0
/* modkit test module for `modkit check`: uses mk_chain_c's plain, GPL-only
 * and namespaced exports (importing the namespace), under a GPL-compatible
 * licence; vm/build-initramfs derives the failing cases from it with
 * testmodules/mangle.py (a changed CRC, a renamed symbol nobody exports,
 * a proprietary licence, the import removed). On load it prints an address
 * inside mk_c_value with %px and %pS, for `modkit kallsyms ADDR`. */
#include <linux/module.h>
#include "mk_test.h"

MODULE_IMPORT_NS(MK_NS);

static int __init mk_sym_user_init(void)
{
	char *inside = (char *)mk_c_value + 4;

	pr_info("mk_sym_user: values %d %d %d at %px %pS\n", mk_c_value(), mk_c_gpl_value(),
		mk_c_ns_value(), inside, inside);
	return 0;
}

static void __exit mk_sym_user_exit(void) { }
module_init(mk_sym_user_init);
module_exit(mk_sym_user_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("modkit test: a user of plain, GPL-only and namespaced symbols");
