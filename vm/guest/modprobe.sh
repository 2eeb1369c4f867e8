#!/bin/sh
# Guest-side differential test of modprobe on a live kernel: each case runs
# with modkit (`/sbin/modkit modprobe`) and with kmod 34.2's modprobe
# (/ref/bin) from the same kernel state (vm/guest/differential.sh); stdout,
# stderr, exit code, the kernel's messages and the kernel state after
# (/proc/modules with usage counts and taint, mk_params's parameters in
# /sys/module) must match. Boot with
#   --append 'mk_params.p_ushort=7 mk_params.p_string=from_cmdline modprobe.blacklist=mk_held'
# so that options and the blacklist from the kernel command line are used.
. /vm/differential.sh
md=/lib/modules/$ver

mkdir -p /etc/modprobe.d
cat > /etc/modprobe.d/modkit-test.conf <<'EOF'
# every directive, on the test modules
alias mkalias mk_params
alias mk-star-* mk_chain_a
options mk_params p_int=42 p_charp=from_config
options mkalias p_short=3
install mk_fail /bin/echo "install ran for $MODPROBE_MODULE with '$CMDLINE_OPTS'"
remove mk_fail /bin/echo "remove ran for $MODPROBE_MODULE"
install mk_kprobe /bin/false
blacklist mk_devtable
softdep mk_chain_a post: mk_diamond_top
softdep mk_diamond_left pre: no_such_softdep
weakdep mk_chain_b mk_diamond_right
EOF
cat > /etc/failing-dep.conf <<'EOF'
options mk_chain_c no_such_parameter=1
EOF

unload_all() {
    for i in 1 2 3 4 5; do
        for m in $(cut -d' ' -f1 /proc/modules); do $R/rmmod "$m" 2>/dev/null; done
    done
}
extra_state() { # mk_params's parameters, when loaded
    if [ -d /sys/module/mk_params ]; then
        for p in p_int p_short p_ushort p_charp p_string; do
            echo "mk_params.$p=$(cat /sys/module/mk_params/parameters/$p)"
        done
    fi
}
# case NAME SETUP ARGS [CLEANUP]: modprobe ARGS from the state SETUP makes
mp_case() { case_ "$1" "$2" modprobe "$3" "${4:-unload_all}"; }
# once-per-boot kernel messages (the taint of the first out-of-tree module,
# of the first forced load)
$R/insmod $md/extra/mk_chain_c.ko; $R/modprobe -f dummy; unload_all; kernel_messages > /dev/null

BUILTIN=$(sed -n '1s|.*/||; 1s|\.ko$||p' "$md/modules.builtin")
DEVALIAS=$(awk '$3 == "mk_devtable" && $2 ~ /^platform:/ { print $2; exit }' "$md/modules.alias")
[ -n "$DEVALIAS" ] && pass "mk_devtable has a platform alias ($DEVALIAS)" || bad "no platform alias for mk_devtable"
grep -q "mk_params.p_ushort=7" /proc/cmdline && pass "kernel command line has module options" ||
    bad "boot with --append 'mk_params.p_ushort=7 ...'"

mp_case "load by name" ":" "dummy"
mp_case "load by name with options from config, kernel command line and arguments" ":" \
    "mk_params p_int=5 'p_charp=two words'"
mp_case "load with a softdep (pre: mk_chain_c from MODULE_SOFTDEP)" ":" "-v mk_params"
mp_case "load by a module's own alias" ":" "mk-params-alias"
mp_case "load by a configured alias (its options apply)" ":" "mkalias"
mp_case "load by a wildcard configured alias" ":" "mk-star-anything"
mp_case "load by symbol" ":" "symbol:mk_c_ns_value"
mp_case "dependency chain and post softdep, verbose" ":" "-v mk_chain_a"
mp_case "diamond with a softdep that is not found" ":" "mk_diamond_left"
mp_case "real module chain (btrfs)" ":" "-v btrfs"
mp_case "real module by alias (fs-btrfs)" ":" "fs-btrfs"
mp_case "blacklisted module by name loads" ":" "mk_devtable"
mp_case "blacklisted module by name with -b" ":" "-b mk_devtable"
mp_case "blacklisted module by alias is skipped" ":" "'$DEVALIAS'"
mp_case "blacklist from the kernel command line, -b" ":" "-b mk_held"
mp_case "blacklist from the kernel command line, by name" ":" "mk_held"
mp_case "install command with \$CMDLINE_OPTS" ":" "mk_fail a=1 b=2"
mp_case "install command ignored (-i): init fails" ":" "-i mk_fail"
mp_case "install command failing" ":" "mk_kprobe"
mp_case "remove command" ":" "-r mk_fail"
mp_case "remove command ignored, not loaded" ":" "-r -i mk_fail"
mp_case "missing module" ":" "no_such_module"
mp_case "missing module, quiet" ":" "-q no_such_module"
mp_case "missing modules with -a" ":" "-a no_such_a dummy no_such_b"
mp_case "dependency fails to load" ":" "-C /etc/failing-dep.conf mk_chain_a"
mp_case "already loaded" "$R/modprobe dummy" "dummy"
mp_case "already loaded, --first-time" "$R/modprobe dummy" "--first-time dummy"
mp_case "built-in module" ":" "$BUILTIN"
mp_case "built-in module, --first-time" ":" "--first-time $BUILTIN"
mp_case "dry run, verbose" ":" "-n -v mk_chain_a"
mp_case "show depends of a loaded chain" "$R/modprobe mk_chain_a" "-D mk_chain_a"
mp_case "force flags" ":" "-f --force-vermagic --force-modversion dummy"
mp_case "several with -a" ":" "-a dummy loop mk_chain_b"
mp_case "remove with dependencies" "$R/modprobe mk_chain_a" "-r mk_chain_a"
mp_case "remove, verbose" "$R/modprobe btrfs" "-r -v btrfs"
mp_case "remove held by another module" "$R/modprobe mk_chain_a" "-r mk_chain_c"
mp_case "remove with --remove-holders" "$R/modprobe mk_chain_a" "-r --remove-holders -v mk_chain_c"
mp_case "remove several with -a" "$R/modprobe -a dummy loop" "-r -a dummy loop no_such"
mp_case "remove not loaded" ":" "-r dummy"
mp_case "remove not loaded, --first-time" ":" "-r --first-time dummy"
mp_case "remove built-in" ":" "-r $BUILTIN"
mp_case "remove by alias" "$R/modprobe mk_params" "-r mkalias"
mp_case "remove dry run" "$R/modprobe mk_chain_a" "-r -n -v mk_chain_a"
mp_case "remove in use by an open device" "$R/insmod $md/extra/mk_held.ko; (sleep 4 < /dev/mk_held &) ; sleep 1" \
    "-r mk_held" "sleep 4; unload_all"
ref_timeout="timeout -s KILL 20"
mp_case "remove in use, --wait gives up" "$R/insmod $md/extra/mk_held.ko; (sleep 4 < /dev/mk_held &) ; sleep 1" \
    "-r -w 300 mk_held" "sleep 4; unload_all"
mp_case "remove with --wait once unused" "$R/insmod $md/extra/mk_held.ko; (sleep 1 < /dev/mk_held &) ; sleep 0.3" \
    "-r -w 3000 mk_held" "sleep 2; unload_all"
ref_timeout=
mp_case "show config" ":" "-c"
export MODPROBE_OPTIONS="-v -C /etc/modprobe.d"
mp_case "MODPROBE_OPTIONS from the environment" ":" "mk_chain_b"
unset MODPROBE_OPTIONS

# -s: messages go to syslog (busybox syslogd here) instead of stderr
syslogd -n -O /tmp/syslog.log & slpid=$!
sleep 1
for t in modkit kmod; do
    [ $t = modkit ] && tool="/sbin/modkit modprobe" || tool=$R/modprobe
    before=$(wc -l < /tmp/syslog.log 2>/dev/null || echo 0)
    $tool -s -a no_such_module dummy > /tmp/s.out.$t 2> /tmp/s.err.$t; echo "exit=$?" >> /tmp/s.out.$t
    $tool -s --first-time dummy >> /tmp/s.out.$t 2>> /tmp/s.err.$t; echo "exit=$?" >> /tmp/s.out.$t
    sleep 1
    tail -n +$((before + 1)) /tmp/syslog.log | sed -n 's/^.* \(daemon\.[a-z]* modprobe: .*\)$/\1/p' > /tmp/s.log.$t
    unload_all
done
kill $slpid
if [ -s /tmp/s.log.kmod ] && cmp -s /tmp/s.log.modkit /tmp/s.log.kmod && cmp -s /tmp/s.out.modkit /tmp/s.out.kmod &&
    [ ! -s /tmp/s.err.modkit ] && [ ! -s /tmp/s.err.kmod ]; then
    pass "modprobe -s logs to syslog like kmod ($(wc -l < /tmp/s.log.kmod) lines)"
else
    bad "modprobe -s"; for f in /tmp/s.*; do echo "--- $f"; cat $f; done
fi

# two modprobes of the same module at once both succeed
for tool in "/sbin/modkit modprobe" "$R/modprobe"; do
    unload_all
    $tool mk_chain_a & a=$!
    $tool mk_chain_a & b=$!
    wait $a; ra=$?; wait $b; rb=$?
    if [ $ra = 0 ] && [ $rb = 0 ] && grep -q '^mk_chain_a ' /proc/modules; then
        pass "concurrent modprobe ($tool): both exit 0"
    else
        bad "concurrent modprobe ($tool): exits $ra $rb"; cat /proc/modules
    fi
done
unload_all
/sbin/modkit modprobe btrfs & a=$!
$R/modprobe btrfs & b=$!
wait $a; ra=$?; wait $b; rb=$?
[ $ra = 0 ] && [ $rb = 0 ] && pass "concurrent modkit and kmod modprobe both exit 0" ||
    bad "concurrent modkit and kmod: exits $ra $rb"
unload_all

# options from every source reach the module's parameters, in kmod's order
/sbin/modkit modprobe mk_params p_int=5 && pass "modprobe mk_params with options" || bad "modprobe mk_params"
p() { cat /sys/module/mk_params/parameters/$1; }
[ "$(p p_int)" = 5 ] && [ "$(p p_charp)" = from_config ] && [ "$(p p_ushort)" = 7 ] &&
    [ "$(p p_string)" = from_cmdline ] && pass "options from config, cmdline and arguments reach /sys/module" ||
    bad "parameters: p_int=$(p p_int) p_charp=$(p p_charp) p_ushort=$(p p_ushort) p_string=$(p p_string)"
unload_all

# lsmod --tree: who uses whom, as the kernel's holders say (mk_chain_a
# uses symbols of both mk_chain_b and mk_chain_c)
$R/insmod $md/extra/mk_chain_c.ko; $R/insmod $md/extra/mk_chain_b.ko; $R/insmod $md/extra/mk_chain_a.ko
$R/modprobe dummy
LANG=C.UTF-8 /sbin/modkit lsmod --tree > /tmp/tree
printf 'dummy\nmk_chain_a\n\342\224\234\342\224\200\342\224\200 mk_chain_b\n\342\224\202   \342\224\224\342\224\200\342\224\200 mk_chain_c\n\342\224\224\342\224\200\342\224\200 mk_chain_c\n' > /tmp/tree.want
cmp -s /tmp/tree /tmp/tree.want && pass "lsmod --tree shows the chain" || { bad "lsmod --tree"; cat /tmp/tree; }
# In the C locale the same tree is drawn in ASCII.
LC_ALL=C LANG=C.UTF-8 /sbin/modkit lsmod --tree > /tmp/tree
printf 'dummy\nmk_chain_a\n|-- mk_chain_b\n|   `-- mk_chain_c\n`-- mk_chain_c\n' > /tmp/tree.want
cmp -s /tmp/tree /tmp/tree.want && pass "lsmod --tree in the C locale: ASCII" || { bad "lsmod --tree (C locale)"; cat /tmp/tree; }
/sbin/modkit lsmod --tree=dot > /tmp/tree.dot
edges=0 missing=0
for d in /sys/module/*/holders; do
    m=${d%/holders}; m=${m##*/}
    for h in $(ls "$d"); do
        edges=$((edges + 1))
        grep -q "\"$h\" -> \"$m\";" /tmp/tree.dot || missing=$((missing + 1))
    done
done
[ $edges -ge 2 ] && [ $missing = 0 ] && [ "$(grep -c -- ' -> ' /tmp/tree.dot)" = $edges ] &&
    pass "lsmod --tree=dot has an edge for each holder ($edges)" || { bad "lsmod --tree=dot ($edges edges, $missing missing)"; cat /tmp/tree.dot; }
unload_all
exit $fail
