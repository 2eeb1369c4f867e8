// SPDX-License-Identifier: GPL-2.0
/* modkit test module: a misc device owned by the module, so the module's
 * reference count is held while /dev/mk_held is open. */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>

static const struct file_operations mk_held_fops = {
	.owner = THIS_MODULE,
};
static struct miscdevice mk_held_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mk_held",
	.fops = &mk_held_fops,
};
static int __init mk_held_init(void) { return misc_register(&mk_held_dev); }
static void __exit mk_held_exit(void) { misc_deregister(&mk_held_dev); }
module_init(mk_held_init);
module_exit(mk_held_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: usage count held by an open device");
