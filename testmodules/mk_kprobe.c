// SPDX-License-Identifier: GPL-2.0
/* modkit test module: a kprobe and a kretprobe on a function the guest can
 * trigger (default: the sync(2) system call's entry, __x64_sys_sync, which
 * busybox's `sync` calls once), with the hit counts as read-only
 * parameters. */
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>

static char *symbol = "__x64_sys_sync";
module_param(symbol, charp, 0444);
MODULE_PARM_DESC(symbol, "function to probe");
static unsigned long kprobe_hits;
module_param(kprobe_hits, ulong, 0444);
MODULE_PARM_DESC(kprobe_hits, "times the kprobe fired");
static unsigned long kretprobe_hits;
module_param(kretprobe_hits, ulong, 0444);
MODULE_PARM_DESC(kretprobe_hits, "times the kretprobe fired");
static long kretprobe_retval = -1;
module_param(kretprobe_retval, long, 0444);
MODULE_PARM_DESC(kretprobe_retval, "return value the kretprobe saw last");

static int mk_pre(struct kprobe *p, struct pt_regs *regs)
{
	WRITE_ONCE(kprobe_hits, kprobe_hits + 1);
	return 0;
}

static int mk_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	WRITE_ONCE(kretprobe_retval, (long)regs_return_value(regs));
	WRITE_ONCE(kretprobe_hits, kretprobe_hits + 1);
	return 0;
}

static struct kprobe mk_kp = { .pre_handler = mk_pre };
static struct kretprobe mk_krp = { .handler = mk_ret, .maxactive = 8 };

static int __init mk_kprobe_init(void)
{
	int err;

	mk_kp.symbol_name = symbol;
	mk_krp.kp.symbol_name = symbol;
	err = register_kprobe(&mk_kp);
	if (err) {
		pr_err("mk_kprobe: register_kprobe(%s): %d\n", symbol, err);
		return err;
	}
	err = register_kretprobe(&mk_krp);
	if (err) {
		pr_err("mk_kprobe: register_kretprobe(%s): %d\n", symbol, err);
		unregister_kprobe(&mk_kp);
		return err;
	}
	pr_info("mk_kprobe: probing %s at %pS\n", symbol, mk_kp.addr);
	return 0;
}

static void __exit mk_kprobe_exit(void)
{
	unregister_kretprobe(&mk_krp);
	unregister_kprobe(&mk_kp);
	pr_info("mk_kprobe: %lu kprobe hits, %lu kretprobe hits, %d missed\n",
		kprobe_hits, kretprobe_hits, mk_krp.nmissed);
}

module_init(mk_kprobe_init);
module_exit(mk_kprobe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: kprobe and kretprobe with hit counts");
