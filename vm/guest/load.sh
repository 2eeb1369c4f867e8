#!/bin/sh
# Guest-side differential test of insmod and rmmod: each case runs with
# modkit (`/sbin/modkit TOOL`, so that messages name the tool as the
# reference's do) and with the reference kmod 34.2 (/ref/bin) from the same
# kernel state; stdout, stderr and exit code must match, and so must the
# kernel state after (/proc/modules).
fail=0
ver=$(uname -r)
md=/lib/modules/$ver
mod() { find "$md" -name "$1.ko*" | head -n1; }
DUMMY=$(mod dummy); BTRFS=$(mod btrfs); LIBCRC=$(mod libcrc32c); XOR=$(mod xor)
printf 'not a module\n' > /tmp/text.ko
printf 'ab' > /tmp/short.ko
BUILTIN=$(sed -n '1s|.*/||; 1s|\.ko$||p' "$md/modules.builtin")

run() { # program, args...
    prog=$1; shift
    "$prog" "$@" > /tmp/out 2> /tmp/err; echo "exit=$?" >> /tmp/out
    cat /proc/modules | cut -d' ' -f1-3 | sort >> /tmp/out
}
# case NAME SETUP TOOL ARGS CLEANUP
case_() {
    name=$1 setup=$2 tool=$3 args=$4 cleanup=$5
    eval "$setup" >/dev/null 2>&1
    eval "run /sbin/modkit $tool $args"; mv /tmp/out /tmp/o1; mv /tmp/err /tmp/e1
    eval "$cleanup" >/dev/null 2>&1
    eval "$setup" >/dev/null 2>&1
    eval "run /ref/bin/$tool $args"; mv /tmp/out /tmp/o2; mv /tmp/err /tmp/e2
    eval "$cleanup" >/dev/null 2>&1
    if cmp -s /tmp/o1 /tmp/o2 && cmp -s /tmp/e1 /tmp/e2; then
        echo "PASS $name"
    else
        echo "FAIL $name"
        echo "--- modkit:"; cat /tmp/o1 /tmp/e1; echo "--- kmod:"; cat /tmp/o2 /tmp/e2
        fail=1
    fi
}
R=/ref/bin
case_ "insmod without arguments" ":" insmod "" ":"
case_ "insmod from stdin" ":" insmod "-" ":"
case_ "insmod missing file" ":" insmod "/nonexistent.ko" ":"
case_ "insmod not a module" ":" insmod "/tmp/text.ko" ":"
case_ "insmod short file" ":" insmod "/tmp/short.ko" ":"
case_ "insmod with parameters" ":" insmod "$DUMMY numdummies=2" "$R/rmmod dummy"
case_ "insmod unknown parameter" ":" insmod "$DUMMY bogus=1" "$R/rmmod dummy"
case_ "insmod bad parameter value" ":" insmod "$DUMMY numdummies=abc" "$R/rmmod dummy"
case_ "insmod already loaded" "$R/insmod $DUMMY" insmod "$DUMMY" "$R/rmmod dummy"
case_ "insmod unknown symbol (dependency missing)" ":" insmod "$BTRFS" ":"
case_ "insmod -f" ":" insmod "-f $XOR" "$R/rmmod xor"
case_ "insmod unknown option" ":" insmod "--bogus $XOR" ":"
case_ "rmmod without arguments" ":" rmmod "" ":"
case_ "rmmod not loaded" ":" rmmod "dummy" ":"
case_ "rmmod loaded" "$R/insmod $DUMMY" rmmod "dummy" "$R/rmmod dummy"
case_ "rmmod by path" "$R/insmod $DUMMY" rmmod "$DUMMY" "$R/rmmod dummy"
case_ "rmmod held by another module" "$R/modprobe btrfs" rmmod "libcrc32c" "$R/modprobe -r btrfs"
case_ "rmmod several, one missing" "$R/insmod $DUMMY" rmmod "nosuch dummy" "$R/rmmod dummy"
case_ "rmmod built-in" ":" rmmod "$BUILTIN" ":"
case_ "rmmod -f" "$R/insmod $DUMMY" rmmod "-f dummy" "$R/rmmod dummy"
# effects through the kernel
/sbin/insmod "$DUMMY" numdummies=3 && [ -d /sys/module/dummy ] && echo "PASS dummy loaded by modkit" || { echo "FAIL dummy load"; fail=1; }
ls /sys/class/net | grep -c '^dummy' | grep -qx 3 && echo "PASS numdummies=3 reached the kernel" || { echo "FAIL numdummies"; ls /sys/class/net; fail=1; }
/sbin/rmmod dummy && [ ! -d /sys/module/dummy ] && echo "PASS dummy removed by modkit" || { echo "FAIL dummy remove"; fail=1; }
exit $fail
