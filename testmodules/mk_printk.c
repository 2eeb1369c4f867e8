// SPDX-License-Identifier: GPL-2.0
/* modkit test module: printk at all eight levels, and continuation lines
 * (KERN_CONT, pr_cont) joined into one record. */
#include <linux/module.h>
#include <linux/printk.h>

static int __init mk_printk_init(void)
{
	printk(KERN_EMERG "mk_printk: level 0 emerg\n");
	printk(KERN_ALERT "mk_printk: level 1 alert\n");
	printk(KERN_CRIT "mk_printk: level 2 crit\n");
	printk(KERN_ERR "mk_printk: level 3 err\n");
	printk(KERN_WARNING "mk_printk: level 4 warning\n");
	printk(KERN_NOTICE "mk_printk: level 5 notice\n");
	printk(KERN_INFO "mk_printk: level 6 info\n");
	printk(KERN_DEBUG "mk_printk: level 7 debug\n");
	printk(KERN_INFO "mk_printk: continued");
	printk(KERN_CONT " line");
	pr_cont(" ends\n");
	return 0;
}
static void __exit mk_printk_exit(void) { }
module_init(mk_printk_init);
module_exit(mk_printk_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: printk levels");
