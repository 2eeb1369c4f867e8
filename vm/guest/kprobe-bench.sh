#!/bin/sh
# Benchmark guest script for scripts/bench-kprobe.sh: a kprobe with three
# fetched arguments (an int, a u64, a string) on mk_kptarget_fn, hit in
# bursts of $BURST calls from a shell loop (one write to the module's `call`
# parameter per burst) for $BURSTS bursts; read by nobody, by `cat
# trace_pipe`, by `modkit kprobe trace` and by `modkit kprobe trace --json`
# (both reading the binary per-CPU buffers) and by `modkit kprobe trace
# --text-pipe` (reading trace_pipe, as cat does).
# Prints BENCH lines: the hit rate, events printed vs the kernel's count
# (kprobe_profile) and the ring buffer's lost events, and the reader's CPU
# time per event (utime+stime from /proc/PID/stat, in clock ticks of 10 ms).
T=/sys/kernel/tracing
P=/sys/module/mk_kptarget/parameters
K=/sbin/modkit
BURST=${BURST:-1000}
BURSTS=${BURSTS:-200}
/ref/bin/insmod /lib/modules/$VM_VERSION/extra/mk_kptarget.ko
$K kprobe add kp=mk_kptarget_fn 'value=%di:s32' 'idx=%si:u64' 'tag=+0(%dx):string' >/dev/null || echo "FAIL add"
echo "$BURST" > $P/loops
now() { cut -d' ' -f1 /proc/uptime; }
hits() { awk '$1 == "kp" { print $2 }' $T/kprobe_profile; }
cpu_ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }
bursts() {
    i=0
    while [ $i -lt $BURSTS ]; do echo 1 > $P/call; i=$((i + 1)); done
}
rate() { # label
    h0=$(hits); t0=$(now)
    bursts
    t1=$(now); h1=$(hits)
    n=$((h1 - h0))
    echo "BENCH $1: $n hits in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s = $(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') hits/s"
}
echo "BENCH kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU, buffer_size_kb $(cat $T/buffer_size_kb), $BURSTS bursts of $BURST calls"
# no probe, then the probe with nobody reading
h0=$(hits); t0=$(now); bursts; t1=$(now)
echo "BENCH no probe: $((BURST * BURSTS)) calls in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
echo 1 > $T/events/modkit/kp/enable
echo > $T/trace
rate "probe enabled, no reader"
echo > $T/trace

# cat trace_pipe
cat $T/trace_pipe > /tmp/cat.out &
pid=$!
sleep 0.5
rate "cat trace_pipe"
sleep 1
ticks=$(cpu_ticks $pid)
kill $pid; wait $pid 2>/dev/null
events=$(grep -c ': kp: ' /tmp/cat.out)
lost=$(awk '/\[LOST [0-9]+ EVENTS\]/ { gsub(/[^0-9 ]/, " "); n += $2 } END { print n + 0 }' /tmp/cat.out)
echo "BENCH cat trace_pipe: $events events read, $lost lost; CPU $ticks ticks = $(awk -v t="$ticks" -v e="$events" 'BEGIN { printf "%.2f", t * 10000 / (e ? e : 1) }') us/event"
rm -f /tmp/cat.out
echo 0 > $T/events/modkit/kp/enable
echo > $T/trace

for mode in text json text-pipe "text -b 32768"; do
    opt=; [ "$mode" = json ] && opt=--json; [ "$mode" = text-pipe ] && opt=--text-pipe; [ "$mode" = "text -b 32768" ] && opt="-b 32768"
    $K kprobe trace kp $opt > /dev/null 2>/tmp/sum &
    pid=$!
    i=0; while [ "$(cat $T/events/modkit/kp/enable)" != 1 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    rate "modkit kprobe trace ($mode)"
    sleep 1
    ticks=$(cpu_ticks $pid)
    kill -INT $pid; wait $pid
    summary=$(cat /tmp/sum)
    printed=$(echo "$summary" | sed -n 's/.*: \([0-9]*\) events printed.*/\1/p')
    echo "BENCH modkit kprobe trace ($mode): $summary"
    echo "BENCH modkit kprobe trace ($mode): CPU $ticks ticks = $(awk -v t="$ticks" -v e="$printed" 'BEGIN { printf "%.2f", t * 10000 / (e ? e : 1) }') us/event"
    echo > $T/trace
done
$K kprobe del kp
echo "BENCH done"
