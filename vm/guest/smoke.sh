#!/bin/sh
# The VM test bed's own smoke test: proves that the guest is what vm/run
# promises (the right kernel, the mounts, the reference kmod 34.2, the module
# tree and its indexes, the test modules) and that the test modules behave
# as designed on this kernel. Modules are loaded and removed with the
# REFERENCE kmod (/ref/bin), so a failure here is the bed's or the kernel's,
# not modkit's; modkit itself only runs `modinfo`, compared with kmod's.
# Each check prints PASS/FAIL (INFO lines record kernel facts); the script
# exits 1 if any check failed.
fail=0
pass() { echo "PASS $*"; }
bad() { echo "FAIL $*"; fail=1; }
info() { echo "INFO $*"; }
R=/ref/bin
ver=$(uname -r)
X=/lib/modules/$ver/extra
SYS=/sys/module

# --- the bed ---------------------------------------------------------------
[ "$ver" = "$VM_VERSION" ] && pass "running the requested kernel $VM_KERNEL ($ver)" ||
    bad "running $ver, asked for $VM_KERNEL ($VM_VERSION)"
missing=
for f in /proc/modules /sys/module /dev/kmsg /dev/null /tmp /sys/kernel/tracing/kprobe_events \
         /sys/kernel/debug/kprobes /sys/kernel/security/lockdown; do
    [ -e "$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass "proc, sysfs, devtmpfs, tmpfs, tracefs, debugfs, securityfs mounted" ||
    bad "missing (mounts):$missing"
[ "$($R/kmod --version | head -n1)" = "kmod version 34.2" ] && pass "reference kmod 34.2 runs" || bad "reference kmod"
/sbin/modkit --version >/dev/null && pass "modkit runs" || bad "modkit --version"
n=$(find /lib/modules/$ver/kernel -name '*.ko*' | wc -l)
[ "$n" -ge 10 ] && pass "module tree subset: $n modules" || bad "only $n modules in the tree"
[ -s /lib/modules/$ver/modules.dep.bin ] && grep -q '^extra/mk_chain_a.ko: extra/mk_chain_b.ko extra/mk_chain_c.ko$' /lib/modules/$ver/modules.dep &&
    pass "modules.dep indexes the test modules" || bad "modules.dep"

# --- kernel facts: signatures, lockdown, in-kernel decompression ------------
lockdown=$(cat /sys/kernel/security/lockdown)
info "lockdown: $lockdown; module.sig_enforce=$(cat $SYS/module/parameters/sig_enforce)"
[ "$lockdown" = "[none] integrity confidentiality" ] && pass "no lockdown: unsigned modules may load" || bad "lockdown is $lockdown"
if [ -e $SYS/compression ]; then comp=$(cat $SYS/compression); else comp=none; fi
info "/sys/module/compression: $comp"
case $VM_KERNEL:$comp in
    6.1:none) pass "6.1: no in-kernel module decompression (kmod decompresses)" ;;
    6.12-bpo:xz) pass "6.12: in-kernel xz decompression (finit_module MODULE_INIT_COMPRESSED_FILE)" ;;
    *) bad "unexpected module compression support '$comp' on $VM_KERNEL" ;;
esac

# --- parameters of every type ----------------------------------------------
param() { # name expected
    got=$(cat $SYS/mk_params/parameters/$1 2>&1)
    [ "$got" = "$2" ] && pass "parameter $1 = $2" || bad "parameter $1: got '$got', want '$2'"
}
perm() { # name mode
    got=$(stat -c %a $SYS/mk_params/parameters/$1 2>&1)
    [ "$got" = "$2" ] && pass "parameter $1 has mode $2" || bad "parameter $1: mode '$got', want '$2'"
}
$R/insmod $X/mk_params.ko p_byte=200 p_short=-7 p_ushort=65535 p_int=-5 p_uint=4000000000 \
    p_long=-9000000000 p_ulong=18000000000 'p_charp=two words' p_bool=Y p_invbool=1 \
    p_string=abc p_array=9,8,7 p_hidden=1 && pass "reference insmod mk_params with parameters" ||
    bad "reference insmod mk_params"
param p_byte 200; param p_short -7; param p_ushort 65535; param p_int -5; param p_uint 4000000000
param p_long -9000000000; param p_ulong 18000000000; param p_charp "two words"; param p_bool Y
param p_invbool Y; param p_string abc; param p_array 9,8,7
perm p_int 644; perm p_ushort 444; perm p_array 644
[ -e $SYS/mk_params/parameters/p_hidden ] && bad "p_hidden (mode 0) is in sysfs" || pass "parameter with mode 0 is not in sysfs"
echo 77 > $SYS/mk_params/parameters/p_int && param p_int 77
taint=$(cat $SYS/mk_params/taint)
[ "$taint" = OE ] && pass "unsigned out-of-tree module loads, tainted OE" || bad "mk_params taint '$taint'"
$R/rmmod mk_params && [ ! -e $SYS/mk_params ] && pass "reference rmmod mk_params" || bad "reference rmmod mk_params"
$R/insmod $X/mk_params.ko p_int=abc 2>/tmp/err; st=$?
[ $st = 1 ] && grep -q "mk_params.ko: Invalid parameters$" /tmp/err && pass "bad parameter value refused (EINVAL)" ||
    { bad "bad parameter value: exit $st"; cat /tmp/err; }

# --- printk levels (read from /dev/kmsg below) ------------------------------
$R/insmod $X/mk_printk.ko && $R/rmmod mk_printk || bad "mk_printk"

# --- a chain a -> b -> c (by modprobe, through modules.dep) and a diamond ---
field() { awk -v m="$1" -v f="$2" '$1 == m { print $f }' /proc/modules; }
holders() { field "$1" 4 | tr ',' '\n' | grep -v '^-*$' | sort | tr '\n' ' '; }
expect() { # module refcnt "holders sorted, space-terminated"
    r=$(field "$1" 3); h=$(holders "$1")
    [ "$r" = "$2" ] && [ "$h" = "$3" ] && pass "$1: refcnt $2, held by ${3:-nothing}" ||
        bad "$1: refcnt '$r' holders '$h', want $2 '$3'"
}
$R/modprobe mk_chain_a && pass "reference modprobe mk_chain_a (loads c, b, a)" || bad "modprobe mk_chain_a"
expect mk_chain_c 2 "mk_chain_a mk_chain_b "
expect mk_chain_b 1 "mk_chain_a "
expect mk_chain_a 0 ""
$R/insmod $X/mk_diamond_left.ko && $R/insmod $X/mk_diamond_right.ko && $R/insmod $X/mk_diamond_top.ko &&
    pass "diamond loaded" || bad "diamond"
expect mk_chain_c 4 "mk_chain_a mk_chain_b mk_diamond_left mk_diamond_right "
expect mk_diamond_left 1 "mk_diamond_top "
expect mk_diamond_right 1 "mk_diamond_top "
[ "$(ls $SYS/mk_chain_c/holders | tr '\n' ' ')" = "mk_chain_a mk_chain_b mk_diamond_left mk_diamond_right " ] &&
    pass "/sys/module/mk_chain_c/holders" || bad "holders dir: $(ls $SYS/mk_chain_c/holders)"
$R/rmmod mk_chain_c 2>/tmp/err; st=$?
[ $st = 1 ] && grep -q "Module mk_chain_c is in use by: " /tmp/err && pass "rmmod of a module with holders refused" ||
    { bad "rmmod mk_chain_c: exit $st"; cat /tmp/err; }
$R/lsmod | grep -q '^mk_chain_c .* 4 mk_' && pass "reference lsmod shows the holders" || bad "lsmod"
$R/rmmod mk_diamond_top mk_diamond_left mk_diamond_right mk_chain_a mk_chain_b mk_chain_c &&
    ! grep -q '^mk_' /proc/modules && pass "chain and diamond removed" || { bad "removal"; cat /proc/modules; }

# --- a module held by an open device ----------------------------------------
$R/insmod $X/mk_held.ko || bad "insmod mk_held"
exec 3</dev/mk_held
[ "$(cat $SYS/mk_held/refcnt)" = 1 ] && pass "open /dev/mk_held holds the module" || bad "refcnt $(cat $SYS/mk_held/refcnt)"
$R/rmmod mk_held 2>/tmp/err; st=$?
[ $st = 1 ] && grep -qx "rmmod: ERROR: Module mk_held is in use" /tmp/err && pass "rmmod of a held module refused: in use" ||
    { bad "rmmod mk_held while open: exit $st"; cat /tmp/err; }
exec 3<&-
$R/rmmod mk_held && pass "rmmod after the device is closed" || bad "rmmod mk_held"

# --- failures: init returning -ENODEV, a module built for the other kernel ---
$R/insmod $X/mk_fail.ko 2>/tmp/err; st=$?
[ $st = 1 ] && grep -q "could not insert module .*mk_fail.ko: No such device" /tmp/err && [ ! -e $SYS/mk_fail ] &&
    pass "init failing with ENODEV" || { bad "mk_fail: exit $st"; cat /tmp/err; }
$R/insmod /test/wrong-vermagic.ko 2>/tmp/err; st=$?
[ $st = 1 ] && grep -q "Invalid module format" /tmp/err && pass "module of the other kernel refused (ENOEXEC)" ||
    { bad "wrong vermagic: exit $st"; cat /tmp/err; }

# --- device tables: alias lookup and a probe --------------------------------
$R/modprobe platform:mk_dev && [ -e $SYS/mk_devtable ] && pass "modprobe by device alias platform:mk_dev" || bad "modprobe platform:mk_dev"
$R/rmmod mk_devtable
$R/insmod $X/mk_devtable.ko add_device=1 || bad "insmod mk_devtable add_device=1"
[ "$(cat $SYS/mk_devtable/parameters/probes)" = 1 ] && [ -e /sys/bus/platform/drivers/mk_devtable/mk_dev ] &&
    [ "$(cat /sys/bus/platform/devices/mk_dev/modalias)" = platform:mk_dev ] &&
    pass "platform device probed by the module's driver" || bad "mk_devtable probe"
$R/rmmod mk_devtable || bad "rmmod mk_devtable"

# --- kprobe and kretprobe ----------------------------------------------------
K=$SYS/mk_kprobe/parameters
if $R/insmod $X/mk_kprobe.ko; then
    k0=$(cat $K/kprobe_hits); r0=$(cat $K/kretprobe_hits)
    sync; sync; sync
    k1=$(cat $K/kprobe_hits); r1=$(cat $K/kretprobe_hits)
    [ $((k1 - k0)) = 3 ] && [ $((r1 - r0)) = 3 ] && [ "$(cat $K/kretprobe_retval)" = 0 ] &&
        pass "kprobe and kretprobe on $(cat $K/symbol) fired 3 times for 3 sync(2)" ||
        bad "kprobe hits $k0 -> $k1, kretprobe hits $r0 -> $r1, retval $(cat $K/kretprobe_retval)"
    grep -q "sys_sync+0x" /sys/kernel/debug/kprobes/list && pass "listed in debugfs kprobes/list: $(grep -m1 sys_sync /sys/kernel/debug/kprobes/list | tr -s " " | cut -d" " -f3,4)" ||
        { bad "kprobes/list"; cat /sys/kernel/debug/kprobes/list; }
    $R/rmmod mk_kprobe || bad "rmmod mk_kprobe"
else
    bad "insmod mk_kprobe"
fi

# --- compressed modules: the kernel's tree and an xz'd test module -----------
$R/modprobe dummy numdummies=2 && [ -e /sys/class/net/dummy1 ] && pass "modprobe dummy numdummies=2 ($($R/modinfo -F filename dummy | sed 's|.*/||'))" ||
    bad "modprobe dummy"
$R/modprobe -r dummy
$R/insmod /test/xz/mk_chain_c.ko.xz && [ -e $SYS/mk_chain_c ] && pass "insmod of an xz-compressed test module" || bad "insmod .ko.xz"
$R/rmmod mk_chain_c
# How the reference insmod loads a .ko.xz, seen by kprobes: where the kernel
# can decompress (/sys/module/compression), finit_module() with
# MODULE_INIT_COMPRESSED_FILE and the kernel's module_decompress(); where it
# can't, kmod decompresses and calls init_module().
hits() { # symbol, command...: how many times SYMBOL ran during the command
    sym=$1; shift
    $R/insmod $X/mk_kprobe.ko symbol=$sym 2>/dev/null || { echo none; return; }
    "$@" >/dev/null 2>&1
    cat $K/kprobe_hits
    $R/rmmod mk_kprobe
}
xzload() { $R/insmod /test/xz/mk_chain_c.ko.xz && $R/rmmod mk_chain_c; }
f=$(hits __x64_sys_finit_module xzload); i=$(hits __x64_sys_init_module xzload); d=$(hits module_decompress xzload)
info ".ko.xz by the reference insmod: finit_module $f, init_module $i, module_decompress $d"
case $VM_KERNEL:$f:$i:$d in
    6.1:0:1:none) pass "6.1: kmod decompressed the .ko.xz itself and called init_module" ;;
    6.12-bpo:1:0:1) pass "6.12: the kernel decompressed the .ko.xz (finit_module, module_decompress)" ;;
    *) bad "unexpected .ko.xz load path on $VM_KERNEL" ;;
esac

# --- signature enforcement, switched on at run time (it can't be switched
# off again; module.sig_enforce=1 on the command line does the same) -------
echo 1 > $SYS/module/parameters/sig_enforce
$R/insmod $X/mk_chain_c.ko 2>/tmp/err; st=$?
[ $st = 1 ] && grep -q "mk_chain_c.ko: Key was rejected by service$" /tmp/err &&
    pass "with sig_enforce=1 an unsigned module is refused (EKEYREJECTED)" || { bad "sig_enforce: exit $st"; cat /tmp/err; }
$R/modprobe veth && [ -e $SYS/veth ] && pass "a Debian-signed module still loads ($($R/modinfo -F signer veth))" ||
    bad "signed veth with sig_enforce=1"
$R/modprobe -r veth

# --- modkit's modinfo on the test modules, against kmod's --------------------
same() { # name, args
    /sbin/modinfo $2 > /tmp/ours 2>&1; echo "exit=$?" >> /tmp/ours
    $R/modinfo $2 > /tmp/theirs 2>&1; echo "exit=$?" >> /tmp/theirs
    if cmp -s /tmp/ours /tmp/theirs; then pass "$1"; else
        bad "$1"; echo "--- modkit"; cat /tmp/ours; echo "--- kmod"; cat /tmp/theirs
    fi
}
same "modkit modinfo mk_params.ko = kmod's" "$X/mk_params.ko"
same "modkit modinfo by name, alias, device alias = kmod's" "mk_chain_a mk-params-alias platform:mk_dev2 mk_kprobe"
same "modkit modinfo of an xz test module = kmod's" "/test/xz/mk_diamond_right.ko.xz"
[ "$(type modinfo)" = "modinfo is a function" ] && [ "$(modinfo -F softdep mk_params)" = "pre: mk_chain_c" ] &&
    pass "bare 'modinfo' in guest scripts is modkit's (/vm/lib.sh)" || bad "bare modinfo: $(type modinfo)"

# --- the kernel log ----------------------------------------------------------
timeout 1 cat /dev/kmsg > /tmp/kmsg 2>/dev/null
for l in "0 emerg" "1 alert" "2 crit" "3 err" "4 warning" "5 notice" "6 info" "7 debug"; do
    n=${l%% *}
    grep -q "^$n,[0-9]*,[0-9]*,-;mk_printk: level $l\$" /tmp/kmsg && pass "printk level $l in /dev/kmsg" ||
        bad "printk level $l"
done
grep -q "^6,[0-9]*,[0-9]*,-;mk_printk: continued line ends\$" /tmp/kmsg && pass "KERN_CONT/pr_cont lines joined" ||
    bad "continuation line"
code=$(sed -n 's/.*;mk_params: loaded on \([^ ]*\) (version code \([0-9]*\)).*/\1 \2/p' /tmp/kmsg | head -n1)
# Debian's LINUX_VERSION_CODE is KERNEL_VERSION(upstream x.y.z), z capped at 255
up=$(sed -n 's/.* Debian \([0-9]*\)\.\([0-9]*\)\.\([0-9]*\).*/\1 \2 \3/p' /proc/version)
set -- $up
want="$ver $(( ($1 << 16) + ($2 << 8) + ($3 > 255 ? 255 : $3) ))"
[ "$code" = "$want" ] && pass "UTS_RELEASE and LINUX_VERSION_CODE at load: $code (Debian $1.$2.$3)" ||
    bad "load message '$code', want '$want'"
grep -q ";mk_params: unloaded int=77 array=" /tmp/kmsg && pass "parameter written at run time seen by the module" || bad "unload message"
grep -q ";mk_params: module verification failed: signature and/or required key missing - tainting kernel$" /tmp/kmsg &&
    pass "kernel logged the missing signature" || bad "no signature message"
grep -q ";mk_kprobe: 3 kprobe hits, 3 kretprobe hits, 0 missed$" /tmp/kmsg && pass "kprobe module's unload report" || bad "kprobe report"
t=$(cat /proc/sys/kernel/tainted)
[ $((t & 4096)) != 0 ] && [ $((t & 8192)) != 0 ] && [ $((t & 128)) = 0 ] &&
    pass "kernel tainted O and E, no oops (tainted=$t)" || bad "tainted=$t"
exit $fail
