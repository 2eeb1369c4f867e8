#!/bin/sh
# `modkit taint` and `modkit audit` on a live kernel (both Debian kernels):
#  1. a clean boot: taint agrees with /proc/sys/kernel/tainted, audit needs
#     no attention (exit 0); the notices it lists are the Debian kernel's
#     own settings (printed as NOTICES-CLEAN for vm_audit.rs to compare);
#  2. the unsigned out-of-tree test modules loaded: taint shows O and E and
#     names them, audit flags them (exit 1) with the kernel log's evidence;
#     with mk_params taken out of modules.dep, audit says it is not in the
#     running kernel's module tree; a forced load (F) is flagged too;
#  3. unloaded again: the taint stays, audit says no loaded module explains
#     it and quotes the kernel log line naming mk_params;
#  4. a tracefs kprobe (notice), then mk_hide, which registers a kprobe and
#     takes itself off the kernel's module list keeping its sysfs entry (as
#     rootkits do): audit reports it hidden (exit 2) with the sysfs evidence
#     and the kprobe, and not the tracefs one. mk_hide cannot be unloaded
#     once hidden: this is the last step of the run.
fail=0
pass() { echo "PASS $*"; }
bad() { echo "FAIL $*"; fail=1; }
R=/ref/bin
X=/lib/modules/$(uname -r)/extra
DEP=/lib/modules/$(uname -r)/modules.dep
T=/sys/kernel/tracing
# run NAME ARGS...: modkit NAME ARGS > /tmp/o (stdout), /tmp/e, status in $rc
run() { /sbin/modkit "$@" > /tmp/o 2> /tmp/e; rc=$?; }
has() { grep -qF -- "$1" /tmp/o; }
show() { echo "--- modkit $* (exit $rc):"; cat /tmp/o; [ -s /tmp/e ] && { echo "--- stderr:"; cat /tmp/e; }; echo "---"; }

# --- 1. a clean boot -------------------------------------------------------
value=$(cat /proc/sys/kernel/tainted)
run taint
show taint
if [ "$value" = 0 ]; then
    [ $rc = 0 ] && has "tainted: 0 (not tainted)" && pass "clean: taint says not tainted" ||
        bad "clean: taint (exit $rc)"
else
    [ $rc = 0 ] && has "tainted: $value " && pass "clean: taint decodes $value" || bad "clean: taint of $value"
fi
run taint --json
grep -q "\"value\": $value," /tmp/o && pass "clean: taint --json value $value" || bad "clean: taint --json value"
run audit
show audit
[ $rc = 0 ] && pass "clean boot: audit needs no attention (exit 0)" || bad "clean boot: audit exit $rc"
grep -Eq '^(ALERT|WARNING) ' /tmp/o && bad "clean boot: alerts or warnings" || pass "clean boot: no alert, no warning"
echo "NOTICES-CLEAN $(awk '$1 == "NOTICE" { printf "%s%s", sep, $2; sep = " " }' /tmp/o)"
run audit --json
[ $rc = 0 ] && grep -q '"status": 0,' /tmp/o && grep -q '"alert": 0,' /tmp/o && pass "clean boot: audit --json status 0" ||
    bad "clean boot: audit --json (exit $rc)"

# --- 2. unsigned out-of-tree modules ---------------------------------------
$R/insmod $X/mk_params.ko && $R/insmod $X/mk_printk.ko || bad "reference insmod mk_params, mk_printk"
value=$(cat /proc/sys/kernel/tainted)
echo "INFO tainted=$value after loading mk_params, mk_printk"
[ $((value >> 12 & 3)) = 3 ] && pass "kernel tainted O and E ($value)" || bad "kernel taint $value lacks O or E"
run taint
show taint
[ $rc = 0 ] && has "tainted: $value " && pass "taint decodes $value" || bad "taint: value"
grep -Eq '^  O  bit 12  OOT_MODULE +an externally-built' /tmp/o && grep -Eq '^  E  bit 13  UNSIGNED_MODULE +an unsigned module' /tmp/o &&
    pass "taint shows O and E with their meaning" || bad "taint: O and E lines"
[ "$(grep -c 'modules: mk_printk, mk_params$' /tmp/o)" = 2 ] && pass "taint names mk_printk, mk_params for O and for E" ||
    bad "taint: modules for O and E"
grep -Eq '^  mk_params +OE$' /tmp/o && grep -Eq '^  mk_printk +OE$' /tmp/o && pass "taint lists each module's own taint OE" ||
    bad "taint: module list"
run taint --json
tr -d ' \n' < /tmp/o | grep -q '"letter":"O","name":"OOT_MODULE",[^}]*"modules":\["mk_printk","mk_params"\]' &&
    pass "taint --json names the modules of O" || bad "taint --json: modules of O"
run audit
show audit
[ $rc = 1 ] && pass "audit with tainting modules: exit 1 (warnings)" || bad "audit exit $rc, want 1"
grep -q '^WARNING  module.tainting  *mk_params: module mk_params taints the kernel: out-of-tree, unsigned$' /tmp/o &&
grep -q '^WARNING  module.tainting  *mk_printk: module mk_printk taints the kernel: out-of-tree, unsigned$' /tmp/o &&
    pass "audit flags mk_params and mk_printk: out-of-tree, unsigned" || bad "audit: module.tainting findings"
grep -q '^ *kernel log: \[ *[0-9.]*\] mk_params: loading out-of-tree module taints kernel\.$' /tmp/o &&
grep -q '^ *kernel log: \[ *[0-9.]*\] mk_params: module verification failed: signature' /tmp/o &&
    pass "audit quotes the kernel log lines that tainted the kernel" || bad "audit: kernel log evidence"
grep -q '^ */sys/module/mk_params/taint: OE$' /tmp/o && pass "audit quotes /sys/module/mk_params/taint" || bad "audit: sysfs evidence"
cp $DEP /tmp/modules.dep
grep -v '^extra/mk_params.ko:' /tmp/modules.dep > $DEP
run audit
grep -q '^WARNING  module.not-in-tree  *mk_params: module mk_params is loaded but not in the module tree of the running kernel$' /tmp/o &&
    ! grep -q 'module.not-in-tree  *mk_printk' /tmp/o &&
    pass "audit: mk_params not in the running kernel's module tree (modules.dep without it)" ||
    { show audit; bad "audit: not-in-tree"; }
cp /tmp/modules.dep $DEP
# a forced load (a wrong vermagic, insmod -f): F; the kernel logs the first
# check it forced ("mk_chain_c: module_layout: kernel tainted." on 6.1)
$R/insmod -f /test/forced/badmagic.ko || bad "reference insmod -f badmagic.ko (mk_chain_c)"
run taint
show taint
grep -q '^  F  bit 1 ' /tmp/o && grep -A1 '^  F  bit 1 ' /tmp/o | grep -q 'modules: mk_chain_c$' &&
    pass "taint: F, carried by the force-loaded mk_chain_c" || bad "taint: F"
run audit
grep -q '^WARNING  module.tainting  *mk_chain_c: module mk_chain_c taints the kernel: force-loaded, out-of-tree, unsigned$' /tmp/o &&
    grep -q '^ *kernel log: \[ *[0-9.]*\] mk_chain_c: .*: kernel tainted\.$' /tmp/o &&
    pass "audit flags mk_chain_c force-loaded, with the kernel log line" || { show audit; bad "audit: force-loaded"; }

# --- 3. unloaded: the taint stays, no module explains it ------------------
$R/rmmod mk_chain_c mk_printk mk_params || bad "reference rmmod"
run taint
show taint
[ "$(grep -c 'no loaded module carries it' /tmp/o)" = 3 ] && pass "taint: F, O and E carried by no loaded module" ||
    bad "taint after unloading"
run audit
show audit
[ $rc = 1 ] && grep -q '^WARNING  taint.unexplained  *O: taint O (.*) is set but no listed module carries it$' /tmp/o &&
    grep -q '^WARNING  taint.unexplained  *E: ' /tmp/o &&
    pass "audit: taint O and E unexplained (exit 1)" || bad "audit: unexplained taint (exit $rc)"
grep -q 'kernel log: .*mk_params: loading out-of-tree module taints kernel. (mk_params no longer listed: unloaded or hidden)' /tmp/o &&
    pass "audit names mk_params from the kernel log as the module that set O" || bad "audit: log evidence for O"
grep -q 'kernel log: .*mk_chain_c: .*: kernel tainted\. (mk_chain_c no longer listed: unloaded or hidden)' /tmp/o &&
    pass "audit names mk_chain_c from the kernel log as the module that set F" || bad "audit: log evidence for F"

# --- 4. a tracefs kprobe, then a module that hides itself -------------------
echo 'p:kprobes/mk_audit vfs_read' > $T/kprobe_events && pass "tracefs kprobe on vfs_read" || bad "tracefs kprobe"
$R/insmod $X/mk_hide.ko probe=__x64_sys_sync || bad "reference insmod mk_hide"
sync
grep -q '^mk_hide ' /proc/modules && bad "mk_hide still in /proc/modules" || pass "mk_hide is not in /proc/modules"
[ "$(cat /sys/module/mk_hide/initstate 2>&1)" = live ] && pass "mk_hide keeps /sys/module/mk_hide (initstate live)" ||
    bad "mk_hide's sysfs entry"
hits=$(cat /sys/module/mk_hide/parameters/hits)
[ "$hits" -ge 1 ] && pass "mk_hide's kprobe fires while hidden ($hits hits)" || bad "mk_hide's kprobe: $hits hits"
echo "--- /sys/kernel/debug/kprobes/list:"; cat /sys/kernel/debug/kprobes/list; echo "---"
run audit
show audit
[ $rc = 2 ] && pass "audit with a hidden module: exit 2 (alert)" || bad "audit exit $rc, want 2"
grep -q '^ALERT    module.hidden  *mk_hide: module mk_hide is in the kernel but /proc/modules does not list it$' /tmp/o &&
    pass "audit reports mk_hide hidden" || bad "audit: mk_hide not reported hidden"
n=$(grep -c '^ALERT ' /tmp/o)
[ "$n" = 1 ] && pass "audit: mk_hide is the only alert (not ftrace's or kprobes' trampolines)" || bad "audit: $n alerts, want 1"
grep -q '^ */sys/module/mk_hide: initstate=live, refcnt=0, coresize=[0-9]*, sections/: [0-9]* entries, taint=OE$' /tmp/o &&
    pass "audit's evidence: mk_hide's sysfs entry" || bad "audit: sysfs evidence of mk_hide"
# (kprobes/list names the probed address by kallsyms, __do_sys_sync; +0x4 past
# endbr64 on 6.12's IBT kernel)
grep -q '^ *kprobes/list: [0-9a-f]*  k  [_a-z0-9]*sys_sync+0x[04] .*(not made through tracefs; may be this module.s)$' /tmp/o &&
    pass "audit's evidence: the kprobe on sync(2)" || bad "audit: kprobe evidence for mk_hide"
awk '/^ALERT +module.hidden +mk_hide/ { h = 1; next } /^[A-Z]/ { h = 0 } h' /tmp/o | grep -q vfs_read &&
    bad "audit: the tracefs kprobe given as mk_hide's" || pass "audit: the tracefs kprobe is not mk_hide's"
grep -q '^NOTICE   hook.kprobe  *vfs_read+0x[04]: a kprobe on vfs_read+0x[04] made through tracefs$' /tmp/o &&
    grep -q '^WARNING  hook.kprobe  *[_a-z0-9]*sys_sync+0x[04]: a kprobe on [_a-z0-9]*sys_sync+0x[04] registered by kernel code' /tmp/o &&
    pass "audit: tracefs kprobe a notice, the module's a warning" || bad "audit: kprobe findings"
grep -q '^NOTICE   hook.dynamic-event  *p:kprobes/mk_audit: ' /tmp/o && pass "audit: the dynamic event" || bad "audit: dynamic event"
run audit --json
[ $rc = 2 ] && tr -d ' \n' < /tmp/o | grep -q '"severity":"alert","check":"module.hidden","subject":"mk_hide"' &&
    pass "audit --json: the hidden module" || bad "audit --json: hidden module"
$R/rmmod mk_hide 2>/dev/null && bad "rmmod mk_hide worked" || pass "rmmod cannot find the hidden mk_hide"
echo '-:kprobes/mk_audit' >> $T/kprobe_events
run taint
show taint
[ "$(grep -c 'not listed in /proc/modules, only in /sys/module (hidden?): mk_hide$' /tmp/o)" = 2 ] &&
    grep -Eq '^  mk_hide +OE$' /tmp/o && pass "taint: O and E carried by mk_hide, which /proc/modules does not list" ||
    bad "taint: mk_hide's taint"
pass "audit: hidden module reported with its kprobe; last check"
exit $fail
