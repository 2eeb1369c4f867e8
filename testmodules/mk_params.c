// SPDX-License-Identifier: GPL-2.0
/* modkit test module: parameters of every type, with several permissions. */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/version.h>
#include <generated/utsrelease.h>

static unsigned char p_byte = 7;
static short p_short = -3;
static unsigned short p_ushort = 3;
static int p_int = -42;
static unsigned int p_uint = 42;
static long p_long = -100000;
static unsigned long p_ulong = 100000;
static char *p_charp = "hello";
static bool p_bool;
static bool p_invbool = true;
static char p_string[16] = "fixed";
static int p_array[4] = { 1, 2, 3, 4 };
static int p_array_count;
static int p_hidden = 5;

module_param(p_byte, byte, 0644);
MODULE_PARM_DESC(p_byte, "a byte");
module_param(p_short, short, 0644);
MODULE_PARM_DESC(p_short, "a short");
module_param(p_ushort, ushort, 0444);
MODULE_PARM_DESC(p_ushort, "an unsigned short");
module_param(p_int, int, 0644);
MODULE_PARM_DESC(p_int, "an int");
module_param(p_uint, uint, 0444);
module_param(p_long, long, 0644);
MODULE_PARM_DESC(p_long, "a long");
module_param(p_ulong, ulong, 0644);
module_param(p_charp, charp, 0644);
MODULE_PARM_DESC(p_charp, "a string pointer");
module_param(p_bool, bool, 0644);
MODULE_PARM_DESC(p_bool, "a bool");
module_param(p_invbool, invbool, 0444);
MODULE_PARM_DESC(p_invbool, "an inverted bool");
module_param_string(p_string, p_string, sizeof(p_string), 0644);
MODULE_PARM_DESC(p_string, "a fixed-size string");
module_param_array(p_array, int, &p_array_count, 0644);
MODULE_PARM_DESC(p_array, "an array of up to 4 ints");
module_param(p_hidden, int, 0);
MODULE_PARM_DESC(p_hidden, "not in sysfs");

static int __init mk_params_init(void)
{
	pr_info("mk_params: loaded on %s (version code %u): int=%d charp=%s array_count=%d\n",
		UTS_RELEASE, LINUX_VERSION_CODE, p_int, p_charp, p_array_count);
	return 0;
}

static void __exit mk_params_exit(void)
{
	pr_info("mk_params: unloaded int=%d array=%d,%d,%d,%d array_count=%d\n", p_int,
		p_array[0], p_array[1], p_array[2], p_array[3], p_array_count);
}

module_init(mk_params_init);
module_exit(mk_params_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: parameters");
MODULE_AUTHOR("modkit");
MODULE_ALIAS("mk-params-alias");
MODULE_SOFTDEP("pre: mk_chain_c");
