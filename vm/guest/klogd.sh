#!/bin/sh
# `modkit klogd` on a live kernel (both Debian kernels), checked against
# the kernel's own records (/dev/kmsg read raw with cat):
#  1. one-shot reads (/dev/kmsg and syslog(2)) hold the boot log; -c sets
#     the console level;
#  2. the daemon (-n) while mk_printk prints at all eight levels: each
#     record once, with its level, as the kernel has it;
#  3. the ring buffer flooded past its size while the daemon is stopped
#     (SIGSTOP): afterwards the file holds every record the kernel still
#     has, byte for byte, and one "missed N" line whose N is the seq gap;
#  4. mk_oops: its raw call trace decoded to the names the kernel itself
#     gives (%pS) with the module's function names; a WARNING and an oops
#     in a kernel thread written as the kernel wrote them, the daemon alive;
#  5. SIGTERM: exit 0, pid file removed; a restart writes nothing twice.
fail=0
pass() { echo "PASS $*"; }
bad() { echo "FAIL $*"; fail=1; }
X=/lib/modules/$(uname -r)/extra
D=/tmp/klogd
mkdir -p $D
K="/sbin/modkit klogd --config /dev/null --rate-limit 0 --state-dir $D/state --pid-file $D/pid"
# raw: the kernel's records now, as "SEQ MESSAGE" (non-blocking cat ends at EOF)
raw() { timeout 3 cat /dev/kmsg 2>/dev/null | awk -F';' '/^[0-9]/ { split($1, f, ","); m = substr($0, length($1) + 2); print f[2], m }'; }
# ours FILE: the records of klogd's file as "SEQ MESSAGE" (not klogd's own lines)
ours() { awk '$1 ~ /^[0-9]+$/ && $2 !~ /^syslog\./ { seq = $1; sub(/^[^]]*\] /, ""); print seq, $0 }' "$1"; }
echo on > /proc/sys/kernel/printk_devkmsg

# --- 1. one-shot reads ------------------------------------------------------
$K -o -x -f $D/once.log --state-dir $D/st-once 2> $D/err; rc=$?
n=$(ours $D/once.log | wc -l)
if [ $rc = 0 ] && [ "$n" -gt 50 ] && grep -q "kern.notice \[    0.000000\] Linux version" $D/once.log; then
    pass "one shot from /dev/kmsg: $n records, the boot log from 'Linux version'"
else bad "one shot: exit $rc, $n records"; cat $D/err; head -3 $D/once.log; fi
$K -o -s -x -f $D/syslog.log 2> $D/err; rc=$?
if [ $rc = 0 ] && grep -q "\] Linux version" $D/syslog.log && [ "$(ours $D/syslog.log | wc -l)" -ge "$n" ]; then
    pass "one shot through syslog(2) (-s): the boot log"
else bad "one shot -s: exit $rc"; cat $D/err; head -3 $D/syslog.log; fi
old=$(cut -f1 /proc/sys/kernel/printk)
$K -o -x -c 3 -f $D/c.log --state-dir $D/st-c 2> $D/err; rc=$?
now=$(cut -f1 /proc/sys/kernel/printk)
if [ $rc = 0 ] && [ "$now" = 3 ]; then pass "-c 3: console level 3"; else bad "-c 3: exit $rc, level $now"; cat $D/err; fi
echo "$old" > /proc/sys/kernel/printk

# --- 2. the daemon while mk_printk prints ----------------------------------
$K -n -d -f $D/kern.log 2> $D/daemon.err &
kpid=$!
i=0; while [ ! -s $D/pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(cat $D/pid 2>/dev/null)" = "$kpid" ] && pass "daemon started, pid file $kpid" || bad "no pid file"
insmod $X/mk_printk.ko && rmmod mk_printk
i=0; while ! grep -q "mk_printk: continued line ends" $D/kern.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
lv=0
for name in emerg alert crit err warn notice info debug; do
    word=$name; [ $name = warn ] && word=warning
    c=$(grep -c "^[0-9]* kern\.$name \[[ 0-9.]*\] mk_printk: level $lv $word\$" $D/kern.log)
    [ "$c" = 1 ] || bad "mk_printk level $lv: $c lines"
    lv=$((lv + 1))
done
[ "$(grep -c '^[0-9]* kern.info .* mk_printk: continued line ends$' $D/kern.log)" = 1 ] && \
    pass "mk_printk: the eight levels and the continued line, once each" || bad "continued line"
raw | grep "mk_printk:" > $D/k.raw; ours $D/kern.log | grep "mk_printk:" > $D/k.ours
if [ -s $D/k.raw ] && cmp -s $D/k.raw $D/k.ours; then pass "mk_printk records: seqs and messages as /dev/kmsg has them"
else bad "mk_printk records differ from /dev/kmsg"; diff $D/k.raw $D/k.ours | head; fi

# --- 3. a flood past the ring buffer while the daemon is stopped -----------
kill -STOP $kpid
before=$(raw | tail -1 | cut -d' ' -f1)
pad=$(printf '%0120d' 0)
i=0; while [ $i -lt 6000 ]; do echo "<6>klogd-flood $i $pad" > /dev/kmsg; i=$((i + 1)); done
raw > $D/flood.raw
first=$(head -1 $D/flood.raw | cut -d' ' -f1)
last=$(tail -1 $D/flood.raw | cut -d' ' -f1)
echo "flood: newest seq before $before, oldest kept now $first, newest $last"
kill -CONT $kpid
i=0; while ! grep -q "^$last " $D/kern.log && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ "$first" -gt "$before" ] && pass "the flood overwrote records (oldest kept $first > $before)" || bad "no overwrite: $first <= $before"
ours $D/kern.log | awk -v f="$first" '$1 >= f' > $D/flood.ours
if cmp -s $D/flood.raw $D/flood.ours; then pass "every record the kernel still has ($first to $last) is in the file, once, as the kernel has it"
else bad "flood records differ"; diff $D/flood.raw $D/flood.ours | head; fi
missed=$(grep "klogd: missed" $D/kern.log)
echo "$missed"
gap_from=$(echo "$missed" | sed -n 's/.*(seq \([0-9]*\) to \([0-9]*\))$/\1/p' | tail -1)
gap_to=$(echo "$missed" | sed -n 's/.*(seq \([0-9]*\) to \([0-9]*\))$/\2/p' | tail -1)
gap_n=$(echo "$missed" | sed -n 's/.*missed \([0-9]*\) records.*/\1/p' | tail -1)
prev=$(ours $D/kern.log | awk -v f="$first" '$1 < f { s = $1 } END { print s }')
if [ "$gap_to" = $((first - 1)) ] && [ "$gap_from" = $((prev + 1)) ] && [ "$gap_n" = $((first - prev - 1)) ]; then
    pass "missed $gap_n records: the seq gap from $prev to $first"
else bad "missed line '$missed' vs gap $prev..$first"; fi
dups=$(ours $D/kern.log | cut -d' ' -f1 | sort -n | uniq -d | wc -l)
[ "$dups" = 0 ] && pass "no seq written twice" || bad "$dups seqs written twice"

# --- 4. mk_oops: raw trace decoded, WARNING, oops --------------------------
insmod $X/mk_oops.ko || bad "insmod mk_oops"
echo 1 > /sys/module/mk_oops/parameters/raw_trace
i=0; while ! grep -q "mk_oops: frame 0 is" $D/kern.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
grep "mk_oops: frame [0-9]* is " $D/kern.log | sed 's/.*mk_oops: frame \([0-9]*\) is /\1 /' > $D/frames.kernel
grep "mk_oops: frame [0-9]* \[<" $D/kern.log | sed 's/.*mk_oops: frame \([0-9]*\) \[<[0-9a-f]*>\] /\1 /' > $D/frames.klogd
cat $D/frames.klogd
if [ -s $D/frames.kernel ] && cmp -s $D/frames.kernel $D/frames.klogd && \
   grep -q "^0 mk_oops_raw_frames+0x[0-9a-f]*/0x[0-9a-f]* \[mk_oops\]$" $D/frames.klogd && \
   grep -q "mk_oops_set+0x[0-9a-f]*/0x[0-9a-f]* \[mk_oops\]$" $D/frames.klogd; then
    pass "raw call trace decoded as the kernel's %pS names it, with mk_oops's functions"
else bad "decoded frames differ from the kernel's"; diff $D/frames.kernel $D/frames.klogd; fi
echo 1 > /sys/module/mk_oops/parameters/warn
echo 1 > /sys/module/mk_oops/parameters/oops
i=0; while ! grep -q "end trace" $D/kern.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 2
if grep -q "kern.warn .*WARNING: .*mk_oops_warn_here" $D/kern.log && grep -q "mk_oops: warning requested" $D/kern.log; then
    pass "WARNING written with its place (mk_oops_warn_here)"
else bad "no WARNING line"; grep -i "warn" $D/kern.log | tail -5; fi
if grep -q "BUG: kernel NULL pointer dereference" $D/kern.log && grep -q "RIP: 0010:mk_oops_crash" $D/kern.log; then
    pass "oops in a kernel thread written (NULL pointer, RIP in mk_oops_crash)"
else bad "no oops lines"; tail -30 $D/kern.log; fi
raw | grep -E "mk_oops|RIP:|Call Trace" | grep -v "mk_oops: frame [0-9]* \[<" > $D/o.raw
ours $D/kern.log | grep -E "mk_oops|RIP:|Call Trace" | grep -v "mk_oops: frame [0-9]* \[<" > $D/o.ours
raw | grep "mk_oops: frame [0-9]* \[<" > $D/f.raw
ours $D/kern.log | grep "mk_oops: frame [0-9]* \[<" | sed 's/>\] .*/>]/' > $D/f.ours
if cmp -s $D/o.raw $D/o.ours && cmp -s $D/f.raw $D/f.ours; then pass "oops and warning lines as the kernel wrote them (decoding added only names)"
else bad "oops lines differ"; diff $D/o.raw $D/o.ours | head; diff $D/f.raw $D/f.ours | head; fi
kill -0 $kpid 2>/dev/null && pass "the daemon outlived the oops" || bad "the daemon is gone"

# --- 5. stop and restart ----------------------------------------------------
kill -TERM $kpid; wait $kpid; rc=$?
[ $rc = 0 ] && [ ! -e $D/pid ] && pass "SIGTERM: exit 0, pid file removed" || { bad "SIGTERM: exit $rc"; cat $D/daemon.err; }
echo "<6>klogd-after-restart" > /dev/kmsg
lines=$(ours $D/kern.log | wc -l)
$K -o -x -f $D/kern.log 2> $D/err; rc=$?
added=$(( $(ours $D/kern.log | wc -l) - lines ))
tail -1 $D/kern.log
dups=$(ours $D/kern.log | cut -d' ' -f1 | sort -n | uniq -d | wc -l)
if [ $rc = 0 ] && [ "$dups" = 0 ] && [ "$added" -ge 1 ] && grep -q "klogd-after-restart$" $D/kern.log; then
    pass "klogd: restart resumed after the last record ($added new, nothing twice); last check"
else bad "restart: exit $rc, $added added, $dups twice"; cat $D/err; fi
exit $fail
