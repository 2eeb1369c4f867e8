#!/bin/sh
# Guest-side differential tests of insmod, rmmod and lsmod beyond load.sh:
# as an unprivileged user; the load route of compressed modules (finit_module
# on the file when the kernel decompresses that format, user space and
# init_module otherwise); insmod -f on both routes (on the second, kmod
# strips __versions and the vermagic itself); -v; -s (syslog, and the
# console without a syslog daemon); lsmod --json against /proc/modules and
# sysfs. Each case runs with modkit (`/sbin/modkit TOOL`) and with kmod 34.2
# (/ref/bin) from the same state; stdout, stderr, exit code, the modules'
# state (/proc/modules with taint flags), the kernel's messages and, for -s,
# what reached the log must match.
. /vm/differential.sh

# one load and one forced load first: the kernel's once-per-boot messages
# (out-of-tree, unsigned, forced, lock debugging off) must not land in the
# first case only
$R/insmod $X/mk_chain_c.ko && $R/rmmod mk_chain_c
$R/insmod -f $T/forced/badmagic.ko && $R/rmmod mk_chain_c
kernel_messages > /dev/null

echo "== as an unprivileged user"
as=asuser
CHAIN="$R/insmod $X/mk_chain_c.ko; $R/insmod $X/mk_chain_b.ko"
UNCHAIN="$R/rmmod mk_chain_b; $R/rmmod mk_chain_c"
case_ "insmod as a user" ":" insmod "$X/mk_params.ko" "$R/rmmod mk_params" 1
case_ "insmod as a user, .ko.xz" ":" insmod "$T/xz/mk_params.ko.xz" "$R/rmmod mk_params" 1
case_ "insmod as a user, .ko.zst" ":" insmod "$T/zst/mk_params.ko.zst" "$R/rmmod mk_params" 1
case_ "insmod -f as a user, .ko.zst" ":" insmod "-f $T/forced/badmagic.ko.zst" "$R/rmmod mk_chain_c" 1
case_ "insmod as a user, file not readable" "cp $X/mk_params.ko /tmp/secret.ko; chmod 600 /tmp/secret.ko" \
    insmod "/tmp/secret.ko" "$R/rmmod mk_params" 1
case_ "rmmod as a user" "$R/insmod $X/mk_chain_c.ko" rmmod "mk_chain_c" "$R/rmmod mk_chain_c" 1
case_ "rmmod -f as a user" "$R/insmod $X/mk_chain_c.ko" rmmod "-f mk_chain_c" "$R/rmmod mk_chain_c" 1
case_ "rmmod as a user, not loaded" ":" rmmod "mk_chain_c" ":" 1
case_ "rmmod as a user, held" "$CHAIN" rmmod "mk_chain_c" "$UNCHAIN" 1
case_ "lsmod as a user" "$CHAIN" lsmod "" "$UNCHAIN" 0
as=

echo "== load routes: /sys/module/compression is '$(cat /sys/module/compression 2>&1)'"
for z in xz zst gz; do
    [ -f "$T/$z/mk_params.ko.$z" ] || bad "no $T/$z/mk_params.ko.$z"
done
case_ "insmod .ko.xz" ":" insmod "$T/xz/mk_params.ko.xz p_int=5" "$R/rmmod mk_params"
case_ "insmod .ko.zst" ":" insmod "$T/zst/mk_params.ko.zst p_int=5" "$R/rmmod mk_params"
case_ "insmod .ko.xz with a SHA-256 check" ":" insmod "$T/xz-sha256/mk_params.ko.xz" "$R/rmmod mk_params"
case_ "insmod signed dummy .ko.xz" ":" insmod "$T/forced/dummy.ko.xz" "$R/rmmod dummy"
case_ "insmod signed dummy .ko.zst" ":" insmod "$T/forced/dummy.ko.zst" "$R/rmmod dummy"
case_ "insmod truncated .ko.xz" ":" insmod "$T/bad/truncated.ko.xz" "$R/rmmod mk_chain_c"
case_ "insmod truncated .ko.zst" ":" insmod "$T/bad/truncated.ko.zst" "$R/rmmod mk_chain_c"
case_ "insmod .ko.xz holding text" ":" insmod "$T/bad/text.ko.xz" ":"
case_ "insmod .ko.zst holding text" ":" insmod "$T/bad/text.ko.zst" ":"
# the route itself: the kernel's xz decoder refuses a SHA-256 check that
# liblzma accepts, so where the kernel decompresses xz (6.12-bpo) the module
# must fail in the kernel, and elsewhere (6.1) load from user space
if /sbin/insmod $T/xz-sha256/mk_params.ko.xz 2>/tmp/e; then got=loaded; else got="failed: $(cat /tmp/e)"; fi
$R/rmmod mk_params 2>/dev/null
case $VM_KERNEL in
    6.12-bpo) want="failed: insmod: ERROR: could not insert module $T/xz-sha256/mk_params.ko.xz: Invalid parameters" ;;
    *) want=loaded ;;
esac
[ "$got" = "$want" ] && pass "xz route on $VM_KERNEL: $got" || bad "xz route on $VM_KERNEL: got '$got', want '$want'"
# gzip: trixie's kmod has no zlib (ENOSYS); modkit reads .ko.gz (on purpose)
$R/insmod $T/gz/mk_params.ko.gz 2>/tmp/e; st=$?
[ $st = 1 ] && [ "$(cat /tmp/e)" = "insmod: ERROR: could not insert module $T/gz/mk_params.ko.gz: Function not implemented" ] &&
    pass "kmod cannot load .ko.gz (built without zlib)" || { bad "kmod .ko.gz: $st $(cat /tmp/e)"; }
/sbin/modkit insmod $T/gz/mk_params.ko.gz p_int=9 && [ "$(cat /sys/module/mk_params/parameters/p_int)" = 9 ] &&
    pass "modkit loads .ko.gz" || bad "modkit .ko.gz"
$R/rmmod mk_params

echo "== insmod -f on both routes"
route() { # extension -> who decompresses: kernel (finit_module) or user
    case $1:$(cat /sys/module/compression 2>/dev/null) in
        :*|.xz:xz|.zst:zstd|.gz:gzip) echo kernel ;;
        *) echo user ;;
    esac
}
# (mk_chain_c built for the other kernel is only tried without -f: forced,
# the kernel takes it, with the wrong struct module, as a permanent module)
for ext in "" .xz .zst; do
    case_ "insmod badmagic.ko$ext" ":" insmod "$T/forced/badmagic.ko$ext" "$R/rmmod mk_chain_c" 1
    case_ "insmod -f badmagic.ko$ext" ":" insmod "-f $T/forced/badmagic.ko$ext" "$R/rmmod mk_chain_c" 0
    case_ "insmod badcrc.ko$ext" ":" insmod "$T/forced/badcrc.ko$ext" "$R/rmmod mk_chain_c" 1
    case_ "insmod -f badcrc.ko$ext" ":" insmod "-f $T/forced/badcrc.ko$ext" "$R/rmmod mk_chain_c" 0
    # without a vermagic the kernel loads the module anyway (forced,
    # CONFIG_MODULE_FORCE_LOAD); with -f on the init_module route kmod
    # fails first, having nothing to strip
    case_ "insmod novermagic.ko$ext" ":" insmod "$T/forced/novermagic.ko$ext" "$R/rmmod mk_chain_c" 0
    case_ "insmod -f novermagic.ko$ext" ":" insmod "-f $T/forced/novermagic.ko$ext" "$R/rmmod mk_chain_c"
    case_ "insmod otherkernel.ko$ext" ":" insmod "$T/forced/otherkernel.ko$ext" "$R/rmmod mk_chain_c" 1
    # signed: on the finit_module route the kernel is told to ignore the
    # versions and takes the module as unsigned; on the init_module route
    # the stripped image no longer matches its signature, which the kernel
    # refuses even without module.sig_enforce (EKEYREJECTED)
    st=1; [ "$(route "$ext")" = kernel ] && st=0
    case_ "insmod -f dummy.ko$ext (signed)" ":" insmod "-f $T/forced/dummy.ko$ext" "$R/rmmod dummy" $st
done
case_ "insmod -f .ko.xz holding text" ":" insmod "-f $T/bad/text.ko.xz" ":"
case_ "insmod -f .ko.zst holding text" ":" insmod "-f $T/bad/text.ko.zst" ":"
case_ "insmod -f truncated .ko.zst" ":" insmod "-f $T/bad/truncated.ko.zst" ":"
# modkit reads .ko.gz on the same route: -f strips there too
/sbin/modkit insmod $T/forced/badcrc.ko.gz 2>/dev/null && bad "badcrc.ko.gz loaded without -f"
/sbin/modkit insmod -f $T/forced/badcrc.ko.gz && grep -q '^mk_chain_c .*(.*F.*)' /proc/modules &&
    pass "insmod -f badcrc.ko.gz (modkit): loaded, tainted F" || { bad "insmod -f badcrc.ko.gz"; cat /proc/modules; }
$R/rmmod mk_chain_c
/sbin/modkit insmod -f $T/forced/novermagic.ko.gz 2>/tmp/e
[ "$(cat /tmp/e)" = "insmod: ERROR: Failed to strip version information: No data available
insmod: ERROR: could not insert module $T/forced/novermagic.ko.gz: No data available" ] &&
    pass "insmod -f novermagic.ko.gz (modkit): nothing to strip" || { bad "insmod -f novermagic.ko.gz"; cat /tmp/e; }

echo "== -v"
case_ "insmod -v" ":" insmod "-v $X/mk_chain_c.ko" "$R/rmmod mk_chain_c"
case_ "insmod -vv, already loaded" "$R/insmod $X/mk_chain_c.ko" insmod "-vv $X/mk_chain_c.ko" "$R/rmmod mk_chain_c"
case_ "rmmod -v" "$R/insmod $X/mk_chain_c.ko" rmmod "-v mk_chain_c" ":"
case_ "rmmod -vv, not loaded" ":" rmmod "-vv mk_chain_c" ":"
case_ "lsmod -v" "$CHAIN" lsmod "-v" "$UNCHAIN"
case_ "insmod -vvv" ":" insmod "-vvv $X/mk_chain_c.ko" "$R/rmmod mk_chain_c" 0
case_ "insmod -vvv, missing file" ":" insmod "-vvv /nonexistent.ko" ":" 1
case_ "insmod -vvv without a file" ":" insmod "-vvv" ":" 1
case_ "insmod -vvv, already loaded" "$R/insmod $X/mk_chain_c.ko" insmod "-vvv $X/mk_chain_c.ko" "$R/rmmod mk_chain_c"
case_ "rmmod -vvv, not loaded" ":" rmmod "-vvv mk_chain_c" ":" 1
case_ "rmmod -vvv" "$R/insmod $X/mk_chain_c.ko" rmmod "-vvv mk_chain_c" ":" 0
case_ "rmmod -vvv without arguments" ":" rmmod "-vvv" ":" 1
case_ "lsmod -vvv" ":" lsmod "-vvv" ":" 0
case_ "lsmod -vvv with an argument" ":" lsmod "-vvv x" ":" 1

echo "== -s with a syslog daemon"
syslogd -n -O /tmp/syslog & syslogd=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S /dev/log ] && break; usleep 100000; done
[ -S /dev/log ] && pass "syslogd listens" || bad "no /dev/log"
side=/tmp/syslog
case_ "rmmod -s, not loaded" ":" rmmod "-s mk_chain_c" ":"
case_ "rmmod -s, held" "$CHAIN" rmmod "-s mk_chain_c" "$UNCHAIN"
case_ "rmmod -s" "$R/insmod $X/mk_chain_c.ko" rmmod "-s mk_chain_c" "$R/rmmod mk_chain_c"
case_ "rmmod -s without arguments" ":" rmmod "-s" ":"
case_ "rmmod -s -f, not loaded" ":" rmmod "-s -f mk_chain_c" ":"
case_ "insmod -s, missing file" ":" insmod "-s /nonexistent.ko" ":"
case_ "insmod -s, already loaded" "$R/insmod $X/mk_chain_c.ko" insmod "-s $X/mk_chain_c.ko" "$R/rmmod mk_chain_c"
case_ "insmod -s -f novermagic.ko.zst" ":" insmod "-s -f $T/forced/novermagic.ko.zst" "$R/rmmod mk_chain_c"
case_ "insmod -s truncated .ko.zst" ":" insmod "-s $T/bad/truncated.ko.zst" ":"
case_ "lsmod -s" "$CHAIN" lsmod "-s" "$UNCHAIN"
kill $syslogd; wait $syslogd 2>/dev/null
rm -f /dev/log

echo "== -s without a syslog daemon: glibc's LOG_CONS writes to the console"
mkfifo /tmp/console-fifo
: > /tmp/console
mount -o bind /tmp/console-fifo /dev/console
# one reader holding the FIFO open read-write: it never sees an end of file
# between two writers (which would lose what the second one wrote)
cat 0<>/tmp/console-fifo >> /tmp/console & reader=$!
side=/tmp/console
case_ "rmmod -s, not loaded, no syslogd" ":" rmmod "-s mk_chain_c" ":"
case_ "insmod -s -f novermagic.ko.zst, no syslogd" ":" insmod "-s -f $T/forced/novermagic.ko.zst" "$R/rmmod mk_chain_c"
side=
kill $reader
umount /dev/console

echo "== lsmod --json with the diamond loaded"
$R/insmod $X/mk_chain_c.ko && $R/insmod $X/mk_diamond_left.ko && $R/insmod $X/mk_diamond_right.ko &&
    $R/insmod $X/mk_diamond_top.ko || bad "loading the diamond"
/sbin/lsmod --json > /tmp/json; st=$?
[ $st = 0 ] && pass "lsmod --json exit 0" || bad "lsmod --json exit $st"
: > /tmp/want
while read -r name size ref holders state rest; do
    hs=$(ls /sys/module/$name/holders | sort | tr '\n' ',' | sed 's/,$//')
    [ -n "$hs" ] || hs=-
    taint=$(cat /sys/module/$name/taint 2>/dev/null)
    echo "$name $(cat /sys/module/$name/coresize) $(cat /sys/module/$name/refcnt) $hs $(cat /sys/module/$name/initstate) $taint" >> /tmp/want
    # /proc/modules agrees with sysfs on size, refcount and holders
    ph=$(echo "$holders" | tr ',' '\n' | grep -v '^-*$' | sort | tr '\n' ',' | sed 's/,$//')
    [ -n "$ph" ] || ph=-
    [ "$ph" = "$hs" ] || bad "holders of $name: /proc/modules '$holders', sysfs '$hs'"
done < /proc/modules
awk '{ print $1 }' /proc/modules > /tmp/order
# the JSON (serde's pretty layout) as one line per module, holders sorted:
# name size refcount holders state taint
awk '
    /^      "name": / { gsub(/[",]/, "", $2); name = $2; n = 0; split("", h) }
    /^      "size": / { gsub(/,/, "", $2); size = $2 }
    /^      "refcount": / { gsub(/,/, "", $2); ref = $2 }
    /^        "/ { x = $0; gsub(/[", ]/, "", x); h[++n] = x }
    /^      "state": / { gsub(/[",]/, "", $2); state = $2 }
    /^      "taint": / { x = $0; sub(/^ *"taint": "/, "", x); sub(/"$/, "", x); taint = x
        # insertion sort of the holders
        for (i = 2; i <= n; i++) { v = h[i]; j = i - 1; while (j > 0 && h[j] > v) { h[j + 1] = h[j]; j-- } h[j + 1] = v }
        hs = ""; for (i = 1; i <= n; i++) hs = hs (i > 1 ? "," : "") h[i]
        if (hs == "") hs = "-"
        print name, size, ref, hs, state, taint }
' /tmp/json > /tmp/got
if cmp -s /tmp/got /tmp/want; then pass "lsmod --json = /proc/modules and sysfs (name, size, refcount, holders, state, taint)"; else
    bad "lsmod --json vs sysfs"; echo "--- json:"; cat /tmp/json; echo "--- want:"; cat /tmp/want; echo "--- got:"; cat /tmp/got
fi
awk '{ print $1 }' /tmp/got | cmp -s - /tmp/order && pass "lsmod --json keeps /proc/modules order" || bad "lsmod --json order"
grep -q '^mk_chain_c [0-9]* 2 mk_diamond_left,mk_diamond_right live OE$' /tmp/got &&
    grep -q '^mk_diamond_top [0-9]* 0 - live OE$' /tmp/got &&
    pass "lsmod --json: the diamond as built" || { bad "diamond in lsmod --json"; cat /tmp/got; }
asuser /sbin/lsmod --json > /tmp/json-user && cmp -s /tmp/json /tmp/json-user &&
    pass "lsmod --json as a user = as root" || { bad "lsmod --json as a user"; diff /tmp/json /tmp/json-user; }
$R/rmmod mk_diamond_top mk_diamond_left mk_diamond_right mk_chain_c
exit $fail
