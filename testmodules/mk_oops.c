// SPDX-License-Identifier: GPL-2.0
/* modkit test module: kernel warnings and oopses that the kernel survives,
 * and a call trace printed with raw addresses, for klogd's decoding.
 *
 * Writes to its parameters (all write-only triggers):
 *   raw_trace  this module's own call stack, one line per frame, twice:
 *              "mk_oops: frame N [<ADDRESS>]" with the raw address (%px,
 *              as kernels before 4.x printed traces) and
 *              "mk_oops: frame N is SYMBOL" as the kernel names it (%pS);
 *   warn       WARN() from mk_oops_warn_here: a WARNING with its trace;
 *   oops       a NULL pointer write in a kernel thread (mk_oops_crash):
 *              the thread dies with an oops, the kernel goes on (unless
 *              panic_on_oops is set). */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kthread.h>
#include <linux/stacktrace.h>

static noinline void mk_oops_raw_frames(void)
{
	unsigned long entries[12];
	unsigned int n, i;

	n = stack_trace_save(entries, ARRAY_SIZE(entries), 0);
	for (i = 0; i < n; i++)
		pr_warn("mk_oops: frame %u [<%px>]\n", i, (void *)entries[i]);
	for (i = 0; i < n; i++)
		pr_warn("mk_oops: frame %u is %pS\n", i, (void *)entries[i]);
}

static noinline void mk_oops_warn_here(void)
{
	WARN(1, "mk_oops: warning requested\n");
}

static noinline int mk_oops_crash(void *unused)
{
	volatile int *nowhere = NULL;

	pr_warn("mk_oops: writing through a NULL pointer\n");
	*nowhere = 14;
	return 0;
}

static int mk_oops_set(const char *val, const struct kernel_param *kp)
{
	const char *what = kp->arg;

	if (!strcmp(what, "raw_trace"))
		mk_oops_raw_frames();
	else if (!strcmp(what, "warn"))
		mk_oops_warn_here();
	else if (IS_ERR(kthread_run(mk_oops_crash, NULL, "mk_oops_crash")))
		return -ENOMEM;
	return 0;
}

static const struct kernel_param_ops mk_oops_ops = {
	.set = mk_oops_set,
};

module_param_cb(raw_trace, &mk_oops_ops, "raw_trace", 0200);
MODULE_PARM_DESC(raw_trace, "write: print this call stack with raw addresses");
module_param_cb(warn, &mk_oops_ops, "warn", 0200);
MODULE_PARM_DESC(warn, "write: WARN()");
module_param_cb(oops, &mk_oops_ops, "oops", 0200);
MODULE_PARM_DESC(oops, "write: oops in a kernel thread");

static int __init mk_oops_init(void)
{
	pr_info("mk_oops: loaded\n");
	return 0;
}
static void __exit mk_oops_exit(void) { }
module_init(mk_oops_init);
module_exit(mk_oops_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: warnings, oopses and raw call traces");
