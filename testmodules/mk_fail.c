// SPDX-License-Identifier: GPL-2.0
/* modkit test module: init fails with -ENODEV. */
#include <linux/module.h>

static int __init mk_fail_init(void) { return -ENODEV; }
module_init(mk_fail_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: failing init");
