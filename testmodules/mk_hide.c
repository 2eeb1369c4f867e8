// SPDX-License-Identifier: GPL-2.0
/* modkit test module: hides itself the way known rootkits do (Diamorphine,
 * Reptile...): in its init function it takes its own struct module off the
 * kernel's module list, so /proc/modules, /proc/kallsyms and rmmod no
 * longer see it, while its sysfs directory (/sys/module/mk_hide: initstate,
 * refcnt, sections, taint) stays. With probe=SYMBOL it also registers a
 * kprobe there first, counting hits in the read-only parameter hits.
 *
 * It cannot be removed once hidden (rmmod finds no such module): load it
 * last in a VM run. It stays harmless: it only counts kprobe hits. The
 * kernel's module_mutex is not exported, so the list is changed as the
 * rootkits change it, without it, but with RCU's rules for its lock-free
 * readers (kallsyms), and the entry is left pointing at itself so that any
 * later list operation on it is a no-op. */
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/rculist.h>

static char *probe;
module_param(probe, charp, 0444);
MODULE_PARM_DESC(probe, "function to put a kprobe on before hiding (none by default)");
static unsigned long hits;
module_param(hits, ulong, 0444);
MODULE_PARM_DESC(hits, "times the kprobe fired");

static int mk_hide_pre(struct kprobe *p, struct pt_regs *regs)
{
	WRITE_ONCE(hits, hits + 1);
	return 0;
}

static struct kprobe mk_hide_kp = { .pre_handler = mk_hide_pre };
static bool probing;

static int __init mk_hide_init(void)
{
	if (probe && *probe) {
		int err;

		mk_hide_kp.symbol_name = probe;
		err = register_kprobe(&mk_hide_kp);
		if (err) {
			pr_err("mk_hide: register_kprobe(%s): %d\n", probe, err);
			return err;
		}
		probing = true;
	}
	pr_info("mk_hide: hiding from the module list%s%s\n",
		probing ? ", kprobe on " : "", probing ? probe : "");
	list_del_rcu(&THIS_MODULE->list);
	synchronize_rcu();
	INIT_LIST_HEAD(&THIS_MODULE->list);
	return 0;
}

static void __exit mk_hide_exit(void)
{
	if (probing)
		unregister_kprobe(&mk_hide_kp);
}

module_init(mk_hide_init);
module_exit(mk_hide_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: a module that hides itself from the module list");
