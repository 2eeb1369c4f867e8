// SPDX-License-Identifier: GPL-2.0
/* modkit test module: panics the kernel on demand, never at load. Writing
 * a text to the parameter `trigger`
 * (/sys/module/mk_panic/parameters/trigger) logs one line at each level
 * that names it, then calls panic("mk_panic: TEXT"), so the kernel's last
 * words are "Kernel panic - not syncing: mk_panic: TEXT". Used by the VM
 * pstore test (ramoops keeps them across a warm reboot). */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>
#include <linux/panic.h>
#include <linux/string.h>

static char mk_text[128];

static int mk_trigger_set(const char *val, const struct kernel_param *kp)
{
	size_t len;

	strscpy(mk_text, val, sizeof(mk_text));
	len = strlen(mk_text);

	while (len > 0 && mk_text[len - 1] == '\n')
		mk_text[--len] = '\0';
	if (len == 0)
		return -EINVAL;
	pr_err("mk_panic: about to panic: %s\n", mk_text);
	panic("mk_panic: %s", mk_text);
	return 0;
}

static const struct kernel_param_ops mk_trigger_ops = {
	.set = mk_trigger_set,
	.get = param_get_string,
};

static struct kparam_string mk_trigger_str = { .maxlen = sizeof(mk_text), .string = mk_text };
module_param_cb(trigger, &mk_trigger_ops, &mk_trigger_str, 0200);
MODULE_PARM_DESC(trigger, "write a text: the kernel panics with it");

static int __init mk_panic_init(void)
{
	pr_info("mk_panic: loaded; write to /sys/module/mk_panic/parameters/trigger to panic\n");
	return 0;
}

static void __exit mk_panic_exit(void)
{
}

module_init(mk_panic_init);
module_exit(mk_panic_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test module: panic() when a parameter is written");
