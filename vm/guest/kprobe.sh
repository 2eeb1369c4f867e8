#!/bin/sh
# modkit kprobe on a live kernel (run by crates/modkit-cli/tests/vm_kprobe.rs
# on 6.1 and 6.12-bpo). The test module mk_kptarget calls
# mk_kptarget_fn(V, i, "modkit probe arg") `loops` times per write of V to
# its `call` parameter (returning V*10+i), and busybox's `sync` calls the
# sync(2) path (ksys_sync) once: known arguments, return values and counts.
# Checked against the kernel itself: kprobe_profile and trace of the same
# probes written by hand to kprobe_events; the state left behind
# (kprobe_events, enabled_functions, debugfs kprobes/list) compared byte for
# byte with the state before; the refusals of unknown, renamed, ambiguous
# and blacklisted symbols compared with what `check` predicted.
fail=0
pass() { echo "PASS $*"; }
bad() { echo "FAIL $*"; fail=1; }
info() { echo "INFO $*"; }
T=/sys/kernel/tracing
D=/sys/kernel/debug
P=/sys/module/mk_kptarget/parameters
K=/sbin/modkit
/ref/bin/insmod /lib/modules/$VM_VERSION/extra/mk_kptarget.ko || bad "insmod mk_kptarget"

snapshot() { # the kernel's probe state
    cat $T/kprobe_events
    echo "--- enabled_functions"
    [ -e $T/enabled_functions ] && cat $T/enabled_functions
    echo "--- kprobes/list"
    cat $D/kprobes/list
}
snapshot > /tmp/state.before
kprobe list > /dev/null && [ "$(readlink /sbin/kprobe)" = modkit ] && pass "kprobe runs through its /sbin link" || bad "/sbin/kprobe"
same_state() { # what
    snapshot > /tmp/state.now
    if cmp -s /tmp/state.before /tmp/state.now; then
        pass "$1: kprobe_events, enabled_functions, kprobes/list as before"
    else
        bad "$1: state differs"; diff /tmp/state.before /tmp/state.now
    fi
}
calls() { # V N: N calls of mk_kptarget_fn(V, i, tag)
    echo "$2" > $P/loops; echo "$1" > $P/call
}
hits() { # event (from kprobe_profile)
    awk -v e="$1" '$1 == e { print $2 }' $T/kprobe_profile
}
wait_enabled() { # group/event
    i=0
    while [ "$(cat $T/events/$1/enable 2>/dev/null)" != 1 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    [ "$(cat $T/events/$1/enable 2>/dev/null)" = 1 ]
}
expect() { # name rc-expected rc-got stderr-file text...
    name=$1 want=$2 got=$3 errf=$4; shift 4
    ok=1
    [ "$got" = "$want" ] || ok=0
    for t in "$@"; do grep -qF -- "$t" "$errf" || ok=0; done
    if [ $ok = 1 ]; then pass "$name (exit $got): $(head -c 300 "$errf")"; else bad "$name: exit $got, wanted $want and $*: $(cat "$errf")"; fi
}

# --- add, list, enable, stats ---------------------------------------------
out=$($K kprobe add kp=mk_kptarget_fn 'value=%di:s32' 'idx=%si:u64' 'tag=+0(%dx):string' 2>/tmp/err)
[ "$out" = modkit/kp ] && pass "add kp prints modkit/kp" || bad "add kp: '$out' $(cat /tmp/err)"
$K kprobe add -r krp=mk_kptarget_fn 'ret=$retval:s64' >/dev/null 2>/tmp/err || bad "add krp: $(cat /tmp/err)"
$K kprobe add sy=ksys_sync '$comm' >/dev/null 2>/tmp/err || bad "add sy: $(cat /tmp/err)"
$K kprobe add -r rsy=__x64_sys_sync 'ret=$retval:s64' >/dev/null 2>/tmp/err || bad "add rsy: $(cat /tmp/err)"
grep -qx 'p:modkit/kp mk_kptarget_fn value=%di:s32 idx=%si:u64 tag=+0(%dx):string' $T/kprobe_events &&
    grep -q '^r[0-9]*:modkit/krp mk_kptarget_fn ret=$retval:s64$' $T/kprobe_events &&
    pass "kprobe_events holds the probes as written" || { bad "kprobe_events"; cat $T/kprobe_events; }
$K kprobe list > /tmp/list
[ "$(grep -c '^modkit/' /tmp/list)" = 4 ] && grep -q '^modkit/krp *kretprobe disabled mk_kptarget_fn ret=\$retval:s64' /tmp/list &&
    pass "list: 4 probes, disabled" || { bad "list"; cat /tmp/list; }
$K kprobe list --json | grep -q '"type": "kretprobe"' && pass "list --json" || bad "list --json"
out=$($K kprobe add kp=mk_kptarget_fn 2>/tmp/err); rc=$?
expect "add of an existing name" 1 $rc /tmp/err "event modkit/kp already exists (p:modkit/kp mk_kptarget_fn" "modkit kprobe del modkit/kp"
$K kprobe enable --all 2>/tmp/err && [ "$(cat $T/events/modkit/kp/enable)" = 1 ] && [ "$(cat $T/events/modkit/rsy/enable)" = 1 ] &&
    pass "enable --all" || bad "enable --all: $(cat /tmp/err)"
echo > $T/trace
$K kprobe trace kp krp -n 16 --json > /tmp/trace.json 2>/tmp/trace.err &
tpid=$!
sleep 1
calls0=$(cat $P/calls)
calls 7 5
calls 3 3
wait $tpid; rc=$?
sync; sync; sync; sync
[ $(( $(cat $P/calls) - calls0 )) = 8 ] && pass "the module made 8 calls" || bad "module calls $(cat $P/calls)"
$K kprobe stats > /tmp/stats
for e in kp:8 krp:8 sy:4 rsy:4; do
    n=${e%%:*} want=${e#*:}
    got=$(awk -v n="modkit/$n" '$1 == n { print $2 }' /tmp/stats)
    [ "$got" = "$want" ] && [ "$(hits $n)" = "$want" ] && pass "stats $n: $got hits (kprobe_profile: $(hits $n))" ||
        { bad "stats $n: $got, wanted $want"; cat /tmp/stats; }
done
$K kprobe stats --json kp | grep -q '"hits": 8' && pass "stats --json kp" || bad "stats --json"
# trace: the arguments and return values passed
[ $rc = 0 ] && [ "$(wc -l < /tmp/trace.json)" = 16 ] && pass "trace -n 16 stopped after 16 events" ||
    { bad "trace: exit $rc, $(wc -l < /tmp/trace.json) lines"; cat /tmp/trace.err; }
for i in 0 1 2 3 4; do
    grep -q "\"event\":\"kp\",\"site\":{\"at\":\"mk_kptarget_fn+0x[0-9a-f]*/0x[0-9a-f]* \[mk_kptarget\]\"},\"args\":{\"value\":\"7\",\"idx\":\"$i\",\"tag\":\"modkit probe arg\"}" /tmp/trace.json || bad "trace: no kp value=7 idx=$i"
    grep -q "\"event\":\"krp\",\"site\":{\"from\":\"mk_kptarget_fn\",\"to\":\"mk_kptarget_call+[^\"]*\"},\"args\":{\"ret\":\"7$i\"}" /tmp/trace.json || bad "trace: no krp ret=7$i"
done
for i in 0 1 2; do
    grep -q "\"args\":{\"value\":\"3\",\"idx\":\"$i\",\"tag\":\"modkit probe arg\"}" /tmp/trace.json && grep -q "\"args\":{\"ret\":\"3$i\"}" /tmp/trace.json ||
        bad "trace: no value=3 idx=$i / ret=3$i"
done
grep -q '"comm":"sh"' /tmp/trace.json && pass "trace --json: args and \$retval as passed (7,0..4 -> 70..74; 3,0..2 -> 30..32)" || bad "trace comm"
grep -q "16 events printed in .* s; the kernel counted 16 hits; 0 lost in the ring buffer" /tmp/trace.err &&
    pass "trace summary: $(cat /tmp/trace.err)" || bad "trace summary: $(cat /tmp/trace.err)"
# text form, on the sync probes still in the buffer
$K kprobe trace sy rsy -n 8 > /tmp/trace.txt 2>/tmp/trace.err
grep -c '^[0-9.]* [0-9]* [0-9]* sync sy arg1=sync$' /tmp/trace.txt | grep -qx 4 &&
    grep -c '^[0-9.]* [0-9]* [0-9]* sync rsy <-[_a-z0-9]*sys_sync ret=0$' /tmp/trace.txt | grep -qx 4 &&
    pass "trace text: 4 sync hits with \$comm, 4 returns with 0" || { bad "trace text"; cat /tmp/trace.txt /tmp/trace.err; }
[ "$(cat $T/events/modkit/kp/enable)" = 1 ] && pass "trace left the events it did not enable enabled" || bad "trace disabled kp"
# The binary per-CPU buffers (the default) and the kernel's text pipe give
# the same events: every field but the time, byte for byte.
for how in raw text; do
    opt=; [ $how = text ] && opt=--text-pipe
    echo > $T/trace
    $K kprobe trace kp krp -n 16 --json $opt > /tmp/trace.$how 2>/tmp/trace.$how.err &
    tpid=$!
    sleep 1
    calls 7 5
    calls 3 3
    wait $tpid
    sed 's/"time":"[0-9.]*",//' /tmp/trace.$how > /tmp/trace.$how.cut
done
[ "$(wc -l < /tmp/trace.raw.cut)" = 16 ] && cmp -s /tmp/trace.raw.cut /tmp/trace.text.cut &&
    pass "trace: per-CPU raw buffers and trace_pipe give the same 16 events" ||
    { bad "trace raw vs --text-pipe"; diff /tmp/trace.raw.cut /tmp/trace.text.cut | head -20; cat /tmp/trace.raw.err /tmp/trace.text.err; }
# -b: a larger ring buffer while tracing, the size put back afterwards
size0=$(cat $T/buffer_size_kb)
$K kprobe trace kp -n 1 -b 8192 > /tmp/trace.b 2>&1 &
tpid=$!
# (the kernel rounds the size up to whole pages of events: 8192 reads 8195)
i=0; while [ "$(cat $T/buffer_size_kb)" = "$size0" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
during=$(cat $T/buffer_size_kb)
calls 1 1
wait $tpid
[ "$during" -ge 8192 ] && [ "$during" -lt 8300 ] && [ "$(cat $T/buffer_size_kb)" = "$size0" ] && pass "trace -b 8192: buffer_size_kb $size0 -> $during -> back" ||
    bad "trace -b: $size0 -> $during -> $(cat $T/buffer_size_kb); $(cat /tmp/trace.b)"
# and the same times as the kernel prints them: each raw time is a valid seconds.micro stamp
grep -c '"time":"[0-9]*\.[0-9]\{6\}"' /tmp/trace.raw | grep -qx 16 && pass "trace raw: kernel-style time stamps" || bad "raw time stamps: $(head -2 /tmp/trace.raw)"

# --- the same probes written by hand give the same counts --------------------
$K kprobe disable --all && [ "$(cat $T/events/modkit/kp/enable)" = 0 ] && pass "disable --all" || bad "disable --all"
grep '^[pr][0-9]*:modkit/' $T/kprobe_events | sed 's/:modkit\//:hand\//' > /tmp/hand
while read -r line; do echo "$line" >> $T/kprobe_events || bad "hand-written '$line'"; done < /tmp/hand
echo 1 > $T/events/hand/enable
$K kprobe enable kp krp sy rsy
calls 5 4; calls 9 2; sync; sync; sync
echo 0 > $T/events/hand/enable
for e in kp:6:25 krp:6:25 sy:3:4 rsy:3:4; do   # kp, krp: 8 + 16 from the raw vs text comparison + 1 (-b)
    n=${e%%:*} rest=${e#*:}; want=${rest%%:*} earlier=${rest#*:}
    ours=$($K kprobe stats "modkit/$n" | awk 'NR == 2 { print $2 }')
    hand=$($K kprobe stats -g hand "hand/$n" | awk 'NR == 2 { print $2 }')
    [ "$ours" = $((earlier + want)) ] && [ "$hand" = "$want" ] &&
        pass "$n: the hand-written probe counted $hand, modkit's $want more (total $ours)" || bad "$n: hand $hand, modkit $ours (wanted $want and $earlier + $want)"
done
echo '-:hand/kp' >> $T/kprobe_events; echo '-:hand/krp' >> $T/kprobe_events
echo '-:hand/sy' >> $T/kprobe_events; echo '-:hand/rsy' >> $T/kprobe_events

# --- del leaves the kernel as before ------------------------------------------
$K kprobe del kp 2>/tmp/err && ! grep -q 'modkit/kp ' $T/kprobe_events && pass "del kp (enabled: disabled first)" || bad "del kp: $(cat /tmp/err)"
$K kprobe del --all 2>/tmp/err || bad "del --all: $(cat /tmp/err)"
same_state "after del"
$K kprobe del nope 2>/tmp/err; expect "del of an unknown event" 1 $? /tmp/err "del: no kprobe event modkit/nope"

# --- one-shot: normal exit, SIGINT, SIGTERM -------------------------------------
( sleep 1; calls 4 3 ) &
$K kprobe mk_kptarget_fn 'v=%di:s32' 'i=%si:u64' -n 3 > /tmp/one.txt 2>/tmp/one.err; rc=$?
wait
[ $rc = 0 ] && [ "$(grep -c ' p_mk_kptarget_fn_0 v=4 i=[012]$' /tmp/one.txt)" = 3 ] &&
    pass "one-shot -n 3: $(tr '\n' '|' < /tmp/one.txt)" || { bad "one-shot: exit $rc"; cat /tmp/one.txt /tmp/one.err; }
same_state "after one-shot -n"
$K kprobe -r mk_kptarget_fn '$retval' --duration 0.5 > /tmp/one.txt 2>/tmp/one.err; rc=$?
[ $rc = 0 ] && [ ! -s /tmp/one.txt ] && pass "one-shot --duration 0.5: exit 0, nothing hit" || bad "one-shot --duration: $rc $(cat /tmp/one.err)"
same_state "after one-shot --duration"
for sig in INT TERM HUP; do
    $K kprobe trace -p 'mk_kptarget_fn v=%di:s32' -P 'mk_kptarget_fn $retval' -p 'ksys_sync' > /tmp/one.txt 2>/tmp/one.err &
    pid=$!
    wait_enabled modkit/r_mk_kptarget_fn_0 && wait_enabled modkit/p_ksys_sync_0 || bad "one-shot ($sig): probes not enabled"
    calls 2 2; sync
    sleep 0.3
    kill -$sig $pid; wait $pid; rc=$?
    [ $rc = 0 ] && [ "$(wc -l < /tmp/one.txt)" = 5 ] && pass "one-shot trace -p -P -p, SIG$sig: exit 0, 5 events" ||
        { bad "one-shot SIG$sig: exit $rc"; cat /tmp/one.txt /tmp/one.err; }
    same_state "after SIG$sig"
done

# --- refusals: what check says, what the kernel does, what add says ----------------
kernel_takes() { # place: does a hand-written probe go in?
    if echo "p:chk/t $1" >> $T/kprobe_events 2>/dev/null; then echo '-:chk/t' >> $T/kprobe_events; echo yes; else echo no; fi
}
agree() { # place expected-verdict
    $K kprobe check "$1" > /tmp/chk.out 2>/tmp/chk.err; rc=$?
    verdict=$(awk '/^verdict:/ { print $2 }' /tmp/chk.out)
    took=$(kernel_takes "$1")
    agreed=no
    [ $rc = 0 ] && [ $took = yes ] && agreed=yes
    [ $rc = 1 ] && [ $took = no ] && agreed=yes
    if [ "$verdict" = "$2" ] && [ $agreed = yes ]; then
        pass "check $1: $verdict (exit $rc), the kernel took it: $took"
    else
        bad "check $1: verdict $verdict exit $rc, wanted $2; kernel took it: $took"; cat /tmp/chk.out /tmp/chk.err
    fi
}
agree mk_kptarget_fn probeable
agree mk_kptarget:mk_kptarget_fn probeable
agree nosuchsymbol_xyz unknown
agree do_int3 blacklisted
# an ambiguous name: a function name several text symbols share
amb=$(awk '$2 ~ /^[tT]$/ && NF == 3 && $3 !~ /^__pfx_|\./ { print $3 }' /proc/kallsyms | sort | uniq -d |
      while read -r s; do grep -qx "$s" $T/available_filter_functions && { echo "$s"; break; }; done)
info "ambiguous: $amb ($(grep -c " $amb\$" /proc/kallsyms) symbols)"
agree "$amb" ambiguous
# a compiler-renamed copy (found at run time) and its base name
isra=$(awk '$2 ~ /^[tT]$/ && NF == 3 && $3 ~ /\.(isra|constprop)\.[0-9]+$/ && $3 !~ /^__pfx_/ { print $3 }' /proc/kallsyms |
       sort | uniq -u | while read -r s; do
           b=${s%%.*}
           grep -qx "$s" $T/available_filter_functions && ! grep -q " $b\$" /proc/kallsyms && { echo "$s"; break; }
       done)
base=${isra%%.*}
info "renamed: $isra (base $base)"
agree "$isra" probeable
agree "$base" unknown
grep -qF "the compiler renamed it: probe $isra at 0x" /tmp/chk.err && pass "check $base names $isra" || bad "check $base: $(cat /tmp/chk.err)"
# add's messages: ours and the kernel's words
$K kprobe add nosuchsymbol_xyz 2>/tmp/err; expect "add unknown" 1 $? /tmp/err \
    "nosuchsymbol_xyz: no such function in the running kernel" "the kernel refused 'p:modkit/p_nosuchsymbol_xyz_0 nosuchsymbol_xyz'" \
    "Invalid probed address or symbol (at 'nosuchsymbol_xyz')"
$K kprobe add "$base" 2>/tmp/err; expect "add renamed ($base)" 1 $? /tmp/err "the compiler renamed it: probe $isra at 0x" "Invalid probed address or symbol"
range=$(awk '$2 == "do_int3" { print $1 }' $D/kprobes/blacklist)
$K kprobe add do_int3 2>/tmp/err; expect "add blacklisted" 1 $? /tmp/err "do_int3: kprobes may not be placed there (blacklisted: $range do_int3)" "Failed to register probe event"
$K kprobe add "$amb" 2>/tmp/err; expect "add ambiguous" 1 $? /tmp/err "functions have this name" "give the address (0x...) or MOD:SYMBOL" "The symbol is not unique"
addr=$(awk -v s="$amb" '$3 == s && NF == 3 { print $1; exit }' /proc/kallsyms)
out=$($K kprobe add "amb=0x$addr" 2>/tmp/err) && [ "$out" = modkit/amb ] && grep -q "^p:modkit/amb 0x" $T/kprobe_events &&
    pass "add by address 0x$addr of the ambiguous $amb" || bad "add by address: $(cat /tmp/err)"
$K kprobe del amb
$K kprobe add x=mk_kptarget_fn 'a=@nosuchsymbol_xyz' 2>/tmp/err; rc=$?
last=$(grep 'error:' $T/error_log | tail -n1 | sed 's/.*error: //')
expect "add with an argument the kernel refuses" 1 $rc /tmp/err "the kernel refused 'p:modkit/x mk_kptarget_fn a=@nosuchsymbol_xyz'" "$last"
$K kprobe add f '%rdi' 2>/tmp/err; expect "add with a wrong register" 1 $? /tmp/err "unknown register %rdi (the kernel names it %di)"
$K kprobe -r mk_kptarget_fn '$retval' x=nosuchsymbol_xyz -n 1 2>/tmp/err; rc=$?
[ $rc = 1 ] && pass "one-shot with a bad argument: exit 1: $(cat /tmp/err)" || bad "one-shot bad arg: $rc"
$K kprobe trace -p mk_kptarget_fn -p nosuchsymbol_xyz -n 1 2>/tmp/err; rc=$?
expect "one-shot: the second probe refused, the first removed" 1 $rc /tmp/err "nosuchsymbol_xyz: no such function"
grep -q '^user:' /etc/passwd || echo 'user:x:1000:1000:user:/tmp:/bin/sh' >> /etc/passwd
su -s /bin/sh user -c "$K kprobe list" 2>/tmp/err; expect "not root" 1 $? /tmp/err "permission denied: kprobes need root"
same_state "after the refusals"

# --- BTF argument names (Linux 6.5+) -------------------------------------------------
if grep -q '<argname>' $T/README; then
    echo marker > /tmp/kp-btf-marker
    ( sleep 1; cat /tmp/kp-btf-marker /tmp/kp-btf-marker /tmp/kp-btf-marker > /dev/null ) &
    $K kprobe do_sys_openat2 dfd 'filename:ustring' 'flags=how->flags:x64' --duration 3 --json > /tmp/btf.json 2>/tmp/btf.err; rc=$?
    wait
    n=$(grep -c '"args":{"dfd":"-100","filename":"/tmp/kp-btf-marker","flags":"0x[0-9a-f]*"}' /tmp/btf.json)
    [ $rc = 0 ] && [ "$n" = 3 ] && pass "BTF names dfd, filename, how->flags: 3 opens of the marker, dfd=-100" ||
        { bad "BTF: exit $rc, $n marker opens"; head -n 5 /tmp/btf.json; cat /tmp/btf.err; }
    same_state "after the BTF one-shot"
else
    $K kprobe add do_sys_openat2 dfd 2>/tmp/err; expect "no BTF names on $VM_KERNEL" 1 $? /tmp/err "'dfd' is a parameter name: this kernel has no BTF argument names"
fi

echo "PASS kprobe: last check reached"
exit $fail
