// SPDX-License-Identifier: GPL-2.0
/* modkit test module: a target for kprobes set from user space (modkit
 * kprobe). Writing V to the `call` parameter calls mk_kptarget_fn(V, i,
 * "modkit probe arg") `loops` times (i = 0..loops-1), which returns
 * V * 10 + i; the calls made so far are counted in `calls` and the sum of
 * the return values in `total`. Known arguments, a known return value and
 * an exact number of hits, as the VM test needs. */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>

static unsigned long loops = 1;
module_param(loops, ulong, 0644);
MODULE_PARM_DESC(loops, "calls of mk_kptarget_fn per write to call");
static unsigned long calls;
module_param(calls, ulong, 0444);
MODULE_PARM_DESC(calls, "calls of mk_kptarget_fn so far");
static long total;
module_param(total, long, 0444);
MODULE_PARM_DESC(total, "sum of mk_kptarget_fn's return values");

/* Not static, not inlined: the symbol keeps its name and is called for real. */
noinline long mk_kptarget_fn(int value, long index, const char *tag)
{
	WRITE_ONCE(calls, calls + 1);
	barrier();
	return (long)value * 10 + index + (tag[0] == 0);
}

static int mk_kptarget_call(const char *val, const struct kernel_param *kp)
{
	unsigned long i;
	int value, err;

	err = kstrtoint(val, 0, &value);
	if (err)
		return err;
	for (i = 0; i < READ_ONCE(loops); i++)
		WRITE_ONCE(total, total + mk_kptarget_fn(value, i, "modkit probe arg"));
	return 0;
}

static const struct kernel_param_ops mk_kptarget_call_ops = {
	.set = mk_kptarget_call,
	.get = param_get_int,
};
static int last;
module_param_cb(call, &mk_kptarget_call_ops, &last, 0644);
MODULE_PARM_DESC(call, "write V: call mk_kptarget_fn(V, i, tag) loops times");

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modkit test: a kprobe target with known arguments and return value");
