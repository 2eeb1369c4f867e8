#!/bin/sh
# Guest-side differential tests of insmod and rmmod on a kernel that only
# takes signed modules: booted with `module.sig_enforce=1` (unsigned or
# altered modules: EKEYREJECTED, "Key was rejected by service") or with
# `lockdown=integrity` (EPERM). The test modules are unsigned; Debian's own
# dummy module is signed (and stays so through compression, not through
# insmod -f, which alters it or asks the kernel to ignore its versions).
# Both load routes are covered: finit_module on the file, and user-space
# decompression with init_module. See vm/guest/differential.sh.
. /vm/differential.sh

mode=
case " $(cat /proc/cmdline) " in
    *" module.sig_enforce=1 "*)
        mode=sig_enforce
        [ "$(cat /sys/module/module/parameters/sig_enforce)" = Y ] &&
            pass "module.sig_enforce is on" || bad "sig_enforce is $(cat /sys/module/module/parameters/sig_enforce)" ;;
    *" lockdown=integrity "*)
        mode=lockdown
        grep -q '\[integrity\]' /sys/kernel/security/lockdown &&
            pass "locked down: $(cat /sys/kernel/security/lockdown)" || bad "lockdown: $(cat /sys/kernel/security/lockdown)" ;;
    *) bad "boot with module.sig_enforce=1 or lockdown=integrity"; exit 1 ;;
esac
echo "== $mode on $VM_KERNEL; /sys/module/compression: $(cat /sys/module/compression 2>&1)"

# the kernel's once-per-boot messages out of the way
$R/insmod $T/forced/dummy.ko && $R/rmmod dummy
kernel_messages > /dev/null

for ext in "" .xz .zst; do
    params=$X/mk_params.ko; [ -n "$ext" ] && params=$T/${ext#.}/mk_params.ko$ext
    case_ "insmod unsigned mk_params.ko$ext" ":" insmod "$params" "$R/rmmod mk_params" 1
    case_ "insmod -f unsigned badmagic.ko$ext" ":" insmod "-f $T/forced/badmagic.ko$ext" "$R/rmmod mk_chain_c" 1
    case_ "insmod signed dummy.ko$ext" ":" insmod "$T/forced/dummy.ko$ext numdummies=2" "$R/rmmod dummy" 0
    case_ "insmod -f signed dummy.ko$ext" ":" insmod "-f $T/forced/dummy.ko$ext" "$R/rmmod dummy" 1
done
case_ "insmod signed dummy.ko.zst, already loaded" "$R/insmod $T/forced/dummy.ko" insmod "$T/forced/dummy.ko.zst" "$R/rmmod dummy" 1
case_ "rmmod signed dummy" "$R/insmod $T/forced/dummy.ko" rmmod "dummy" "$R/rmmod dummy" 0
case_ "rmmod -f signed dummy" "$R/insmod $T/forced/dummy.ko" rmmod "-f dummy" "$R/rmmod dummy" 0
as=asuser
case_ "insmod signed dummy.ko as a user" ":" insmod "$T/forced/dummy.ko" "$R/rmmod dummy" 1
case_ "insmod unsigned mk_params.ko.zst as a user" ":" insmod "$T/zst/mk_params.ko.zst" "$R/rmmod mk_params" 1
as=

# the errno itself, as the kernel gives it to both
/sbin/insmod $X/mk_params.ko 2>/tmp/e
case $mode in
    sig_enforce) want="insmod: ERROR: could not insert module $X/mk_params.ko: Key was rejected by service" ;;
    lockdown) want="insmod: ERROR: could not insert module $X/mk_params.ko: Operation not permitted" ;;
esac
[ "$(cat /tmp/e)" = "$want" ] && pass "unsigned module refused: $want" || bad "unsigned: got '$(cat /tmp/e)', want '$want'"
exit $fail
