#!/bin/sh
# Guest-side tests of modkit check, kallsyms, symbols and param against the
# kernel's own answers. For each module of /test/symbols (mk_sym_user as
# built and with one thing broken) and the other broken modules of /test,
# `check`'s verdict and reason must agree with what insmod then does and
# what the kernel logs. kallsyms must find mk_chain_c's exports with
# [mk_chain_c], and resolve an address inside mk_c_value exactly as the
# kernel's %pS printed it. param sets a 0644 parameter and an array that
# mk_params then prints, refuses a 0444 one and out-of-range values without
# writing, and accepts exactly the values the kernel accepts.
# With SIG_ENFORCE=1 in the kernel command line (module.sig_enforce=1) only
# the signature cases run.
fail=0
ver=$(uname -r)
X=/lib/modules/$ver/extra
S=/test/symbols
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fail=1; }
show() { echo "--- check:"; cat /tmp/check; echo "--- insmod:"; cat /tmp/insmod; echo "--- kernel:"; cat /tmp/klog; }

# agree NAME FILE KIND LOGTEXT: check refuses FILE with an error of KIND
# (a line containing LOGTEXT when given as a detail), insmod fails, and the
# kernel's log says LOGTEXT. KIND "loads": check says loads, insmod works.
agree() {
    name=$1 file=$2 kind=$3 text=$4
    /sbin/modkit check "$file" > /tmp/check 2>&1; c=$?
    dmesg -C
    /sbin/insmod "$file" > /tmp/insmod 2>&1; i=$?
    dmesg > /tmp/klog
    if [ "$kind" = loads ]; then
        if [ $c = 0 ] && [ $i = 0 ] && grep -q ": loads$" /tmp/check && ! grep -q " error " /tmp/check; then
            pass "check $name: loads, and insmod loads it"
        else
            bad "check $name: check=$c insmod=$i"; show
        fi
        return
    fi
    if [ $c = 1 ] && [ $i != 0 ] && grep -q ": error $kind: " /tmp/check && { [ -z "$text" ] || grep -qF -- "$text" /tmp/klog; }; then
        pass "check $name: refused for $kind, and insmod fails with the kernel saying '$text'"
    else
        bad "check $name: check=$c insmod=$i (want error $kind, kernel log '$text')"; show
    fi
}

if grep -q "module.sig_enforce=1" /proc/cmdline; then
    agree "unsigned under sig_enforce" $X/mk_chain_c.ko signature "Loading of unsigned module is rejected"
    grep -q "Key was rejected by service" /tmp/insmod && pass "insmod's error is the one check names" || { bad "insmod error under sig_enforce"; show; }
    agree "signed Debian module under sig_enforce" /test/forced/dummy.ko loads ""
    /sbin/rmmod dummy
    echo "PASS symbols sig_enforce done"
    exit $fail
fi

# The provider of everything mk_sym_user needs.
/sbin/insmod $X/mk_chain_c.ko || bad "insmod mk_chain_c"
agree "proprietary module using a GPL-only symbol" $S/proprietary.ko gpl-only "Unknown symbol mk_c_gpl_value"
agree "one CRC changed" $S/badcrc.ko crc "disagrees about version of symbol mk_c_value"
agree "a symbol nobody exports" $S/ghost.ko unresolved "Unknown symbol mk_c_ghost"
# 6.1 says "module mk_sym_user uses symbol mk_c_ns_value from namespace...",
# 6.12 "mk_sym_user: module uses symbol (mk_c_ns_value) from namespace..."
agree "a namespace not imported" $S/noimport.ko namespace "from namespace MK_TEST_NS, but does not import it"
agree "wrong vermagic" /test/forced/badmagic.ko vermagic "version magic '"
# the kernel prints exactly check's sentence for a bad vermagic
want=$(sed -n 's/^mk_chain_c: error vermagic: //p' /tmp/check)
[ -n "$want" ] && grep -qF -- "$want" /tmp/klog && pass "check's vermagic sentence is the kernel's" || { bad "vermagic sentence"; show; }
# 6.12 checks the size of struct module first, 6.1 module_layout's CRC;
# check reports both
if [ "$VM_KERNEL" = 6.1 ]; then
    agree "module of the other kernel" /test/wrong-vermagic.ko crc "disagrees about version of symbol module_layout"
else
    agree "module of the other kernel" /test/wrong-vermagic.ko layout "section size must match the kernel's built struct module size"
fi
grep -q ": error layout: its struct module is " /tmp/check && pass "other kernel's module: struct module's size named" || { bad "other kernel: no layout finding"; show; }
grep -q ": warning vermagic: built for " /tmp/check && grep -q ": error crc: module_layout: " /tmp/check \
    && pass "other kernel's module: the release difference and module_layout's CRC are named too" || { bad "other kernel: findings"; show; }
agree "already loaded" $X/mk_chain_c.ko loaded ""
grep -q "File exists" /tmp/insmod && pass "already loaded: insmod says File exists" || { bad "already loaded insmod"; show; }
agree "good" $S/good.ko loads ""
grep -q "taints the kernel: O (out-of-tree), E (unsigned)" /tmp/check && [ "$(cat /sys/module/mk_sym_user/taint)" = OE ] \
    && pass "check's taint letters are the kernel's (OE)" || { bad "taint"; show; cat /sys/module/mk_sym_user/taint; }

# kallsyms: the exports of a loaded module, with [module]
/sbin/modkit kallsyms mk_c_value mk_c_gpl_value mk_c_ns_value 2>&1 | sort > /tmp/k
grep -E " (mk_c_value|mk_c_gpl_value|mk_c_ns_value)	\[mk_chain_c\]$" /proc/kallsyms | sort > /tmp/g
[ -s /tmp/g ] && cmp -s /tmp/k /tmp/g && [ "$(grep -c '\[mk_chain_c\]' /tmp/k)" = 3 ] \
    && pass "kallsyms finds mk_chain_c's exports with [mk_chain_c], as grep does" || { bad "kallsyms exports"; cat /tmp/k /tmp/g; }
/sbin/modkit kallsyms --module mk_chain_c -t T > /tmp/k
grep -E '^[0-9a-f]+ T .*	\[mk_chain_c\]$' /proc/kallsyms > /tmp/g
cmp -s /tmp/k /tmp/g && pass "kallsyms --module --type as grep" || { bad "kallsyms --module"; diff /tmp/k /tmp/g | head; }
# an address inside mk_c_value, named by the kernel's %pS when mk_sym_user loaded
line=$(dmesg | grep "mk_sym_user: values 3 30 300 at " | tail -n1)
addr=$(echo "$line" | sed 's/.* at \([0-9a-f]*\) .*/\1/')
kern=$(echo "$line" | sed 's/.* at [0-9a-f]* //')
ours=$(/sbin/modkit kallsyms "0x$addr" | cut -d' ' -f2-)
[ -n "$addr" ] && [ "$ours" = "$kern" ] && case $kern in mk_c_value+0x4/*" [mk_chain_c]") true ;; *) false ;; esac \
    && pass "kallsyms 0x$addr = the kernel's %pS: $kern" || bad "kallsyms address: ours '$ours', kernel '$kern' ($line)"
/sbin/rmmod mk_sym_user
# the provider not loaded: the kernel cannot resolve it either
/sbin/rmmod mk_chain_c
agree "provider not loaded" $S/good.ko unresolved "Unknown symbol mk_c_value"
grep -q "provided by mk_chain_c, which is not loaded" /tmp/check && pass "check names the provider" || { bad "provider not named"; show; }

# symbols: the tree's exports and who needs them
/sbin/modkit symbols 'mk_c_*' > /tmp/s
grep -q "^mk_c_gpl_value	mk_chain_c	0x[0-9a-f]*	EXPORT_SYMBOL_GPL	$" /tmp/s \
    && grep -q "^mk_c_ns_value	mk_chain_c	0x[0-9a-f]*	EXPORT_SYMBOL_GPL	MK_TEST_NS$" /tmp/s \
    && grep -q "^mk_c_value	mk_chain_c	0x[0-9a-f]*	EXPORT_SYMBOL	$" /tmp/s \
    && pass "symbols: mk_chain_c's exports with type and namespace" || { bad "symbols"; cat /tmp/s; }
/sbin/modkit symbols --users mk_c_value > /tmp/s
grep -qx mk_chain_b /tmp/s && grep -qx mk_sym_user /tmp/s && pass "symbols --users mk_c_value" || { bad "symbols --users"; cat /tmp/s; }
/sbin/modkit symbols --needed-by $S/ghost.ko > /tmp/s; st=$?
[ $st = 1 ] && grep -q "^mk_c_ghost	nobody" /tmp/s && grep -q "^_printk	vmlinux" /tmp/s \
    && pass "symbols --needed-by: nobody for the ghost, vmlinux for printk" || { bad "needed-by ($st)"; cat /tmp/s; }

# param: set, refuse, and agree with the kernel on what it accepts
P=/sys/module/mk_params/parameters
/sbin/insmod $X/mk_params.ko || bad "insmod mk_params"
/sbin/modkit param mk_params p_int=123 p_array=5,6 > /tmp/p 2>&1 && [ "$(cat $P/p_int)" = 123 ] && [ "$(cat $P/p_array)" = 5,6 ] \
    && pass "param sets a 0644 int and an array" || { bad "param set"; cat /tmp/p; }
/sbin/modkit param mk_params p_ushort=1 > /tmp/p 2>&1; st=$?
[ $st = 1 ] && [ "$(cat $P/p_ushort)" = 3 ] && grep -q "read-only (mode 0444); nothing written" /tmp/p \
    && pass "param refuses a 0444 parameter" || { bad "param 0444 ($st)"; cat /tmp/p; }
/sbin/modkit param mk_params p_int=9 p_byte=256 > /tmp/p 2>&1; st=$?
[ $st = 1 ] && [ "$(cat $P/p_byte)" = 7 ] && [ "$(cat $P/p_int)" = 123 ] && grep -q "out of range" /tmp/p \
    && pass "param refuses an out-of-range byte and writes nothing" || { bad "param range ($st)"; cat /tmp/p; }
# what the kernel accepts, value by value: check's answer must be the kernel's
agreed=0
for case in p_bool:y p_bool:N p_bool:1 p_bool:0 p_bool:on p_bool:OFF p_bool:t p_bool:false p_bool:2 p_bool:x p_bool:o \
    p_byte:255 p_byte:256 p_byte:0x10 p_byte:-1 p_byte:010 p_byte:08 p_short:-32768 p_short:32768 p_short:+5 \
    p_int:2147483647 p_int:-2147483649 p_int:0x7fffffff p_int:abc p_int:- p_int:0x p_long:-9223372036854775808 \
    p_long:9223372036854775808 p_ulong:18446744073709551615 p_ulong:18446744073709551616 p_ulong:-0 \
    p_array:1,2,3,4 p_array:1,2,3,4,5 p_array:1,x p_array:1,,2 p_charp:hello; do
    n=${case%%:*} v=${case#*:}
    /sbin/modkit param mk_params "$n=$v" > /dev/null 2>&1; ours=$?
    # the kernel's own answer, whatever ours was
    printf '%s' "$v" > $P/$n 2>/dev/null; kern=$?
    [ $kern != 0 ] && kern=1
    if [ $ours = $kern ]; then agreed=$((agreed + 1)); else bad "param $n=$v: modkit $ours, kernel $kern"; fi
done
[ $agreed = 36 ] && pass "param agrees with the kernel on 36 values (array capacity from the module file)"
/sbin/modkit param mk_params p_int=77 p_array=9,8,7 || bad "param set before unload"
/sbin/modkit param --json mk_params > /tmp/p && grep -q '"name": "p_array"' /tmp/p && grep -q '"type": "array of int"' /tmp/p \
    && pass "param --json" || { bad "param --json"; cat /tmp/p; }
/sbin/rmmod mk_params
dmesg | grep -q "mk_params: unloaded int=77 array=9,8,7,4 array_count=3" && pass "mk_params prints the int and the array param set" \
    || { bad "mk_params exit message"; dmesg | grep mk_params; }
echo "PASS symbols done"
exit $fail
