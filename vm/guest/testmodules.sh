#!/bin/sh
# Guest-side tests with the test modules (testmodules/): parameters of every
# type reaching /sys/module, a dependency chain with holders, a failing init,
# a module held by an open device, printk levels in /dev/kmsg, and a module
# built for the other kernel. Differential cases run with modkit
# (`/sbin/modkit TOOL`) and with kmod 34.2 (/ref/bin) from the same state.
fail=0
ver=$(uname -r)
X=/lib/modules/$ver/extra
R=/ref/bin
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fail=1; }
run() {
    prog=$1; shift
    "$prog" "$@" > /tmp/out 2> /tmp/err; echo "exit=$?" >> /tmp/out
    cut -d' ' -f1-4 /proc/modules | sort >> /tmp/out
}
case_() { # name setup tool args cleanup
    name=$1 setup=$2 tool=$3 args=$4 cleanup=$5
    eval "$setup" >/dev/null 2>&1
    eval "run /sbin/modkit $tool $args"; mv /tmp/out /tmp/o1; mv /tmp/err /tmp/e1
    eval "$cleanup" >/dev/null 2>&1
    eval "$setup" >/dev/null 2>&1
    eval "run $R/$tool $args"; mv /tmp/out /tmp/o2; mv /tmp/err /tmp/e2
    eval "$cleanup" >/dev/null 2>&1
    if cmp -s /tmp/o1 /tmp/o2 && cmp -s /tmp/e1 /tmp/e2; then pass "$name"; else
        bad "$name"; echo "--- modkit:"; cat /tmp/o1 /tmp/e1; echo "--- kmod:"; cat /tmp/o2 /tmp/e2
    fi
}
param() { # name expected
    got=$(cat /sys/module/mk_params/parameters/$1 2>&1)
    [ "$got" = "$2" ] && pass "parameter $1 = $2" || bad "parameter $1: got '$got', want '$2'"
}

case_ "modinfo of the test modules" ":" modinfo "$X/mk_params.ko $X/mk_chain_a.ko mk_chain_b mk-params-alias" ":"
case_ "modinfo -p of every parameter type" ":" modinfo "-p mk_params" ":"

# parameters of every type, quoting and arrays, as the kernel parses them
/sbin/insmod $X/mk_params.ko p_byte=200 p_short=-7 p_ushort=65535 p_int=-5 p_uint=4000000000 \
    p_long=-9000000000 p_ulong=18000000000 'p_charp=two words' p_bool=Y p_invbool=1 \
    p_string=abc p_array=9,8,7 p_hidden=1 || bad "insmod mk_params with parameters"
param p_byte 200; param p_short -7; param p_ushort 65535; param p_int -5; param p_uint 4000000000
param p_long -9000000000; param p_ulong 18000000000; param p_charp "two words"; param p_bool Y
param p_invbool Y; param p_string abc; param p_array 9,8,7
[ -e /sys/module/mk_params/parameters/p_hidden ] && bad "p_hidden (perm 0) is in sysfs" || pass "parameter with permission 0 is not in sysfs"
echo 77 > /sys/module/mk_params/parameters/p_int && param p_int 77
echo 1 > /sys/module/mk_params/parameters/p_ushort 2>/dev/null && bad "0444 parameter was writable" || pass "0444 parameter is read-only"
/sbin/rmmod mk_params || bad "rmmod mk_params"
dmesg | grep -q "mk_params: loaded on $ver" && pass "load message with UTS_RELEASE" || bad "no load message"
dmesg | grep -q "mk_params: unloaded int=77" && pass "parameter written at run time seen by the module" || bad "no unload message"

case_ "insmod bad parameter value" ":" insmod "$X/mk_params.ko p_int=abc" "$R/rmmod mk_params"
case_ "insmod array too long" ":" insmod "$X/mk_params.ko p_array=1,2,3,4,5" "$R/rmmod mk_params"
case_ "insmod unknown parameter" ":" insmod "$X/mk_params.ko nosuch=1" "$R/rmmod mk_params"
case_ "insmod without its dependency" ":" insmod "$X/mk_chain_b.ko" "$R/rmmod mk_chain_b"
case_ "insmod init failing with ENODEV" ":" insmod "$X/mk_fail.ko" ":"
case_ "insmod wrong vermagic" ":" insmod "/test/wrong-vermagic.ko" "$R/rmmod wrong_vermagic mk_chain_c"
case_ "lsmod with a chain and a diamond" "$R/insmod $X/mk_chain_c.ko; $R/insmod $X/mk_chain_b.ko; $R/insmod $X/mk_chain_a.ko" lsmod "" "$R/rmmod mk_chain_a mk_chain_b mk_chain_c"
case_ "rmmod the bottom of a chain" "$R/insmod $X/mk_chain_c.ko; $R/insmod $X/mk_chain_b.ko; $R/insmod $X/mk_chain_a.ko" rmmod "mk_chain_c" "$R/rmmod mk_chain_a mk_chain_b mk_chain_c"
case_ "rmmod a chain top to bottom" "$R/insmod $X/mk_chain_c.ko; $R/insmod $X/mk_chain_b.ko; $R/insmod $X/mk_chain_a.ko" rmmod "mk_chain_a mk_chain_b mk_chain_c" ":"

# a module whose usage count is held by an open device
$R/insmod $X/mk_held.ko
sleep 30 < /dev/mk_held & holder=$!
sleep 1
[ "$(cat /sys/module/mk_held/refcnt)" = 1 ] && pass "refcnt held by the open device" || bad "refcnt $(cat /sys/module/mk_held/refcnt)"
case_ "rmmod in use" ":" rmmod "mk_held" ":"
case_ "lsmod with a held module" ":" lsmod "" ":"
kill $holder; wait $holder 2>/dev/null
/sbin/rmmod mk_held && pass "rmmod after the device is closed" || bad "rmmod mk_held"

# printk at every level, and continuation lines, as /dev/kmsg records
/sbin/insmod $X/mk_printk.ko || bad "insmod mk_printk"
timeout 2 cat /dev/kmsg > /tmp/kmsg 2>/dev/null
for l in "0 emerg" "1 alert" "2 crit" "3 err" "4 warning" "5 notice" "6 info" "7 debug"; do
    n=${l%% *}
    grep -q "^$n,[0-9]*,[0-9]*,[-c];mk_printk: level $l\$" /tmp/kmsg \
        && pass "printk level $l" || bad "printk level $l"
done
grep -q "^6,.*;mk_printk: continued line ends\$" /tmp/kmsg \
    && pass "continuation lines joined" || bad "continuation line"
/sbin/rmmod mk_printk
exit $fail
