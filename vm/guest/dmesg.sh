#!/bin/sh
# The kernel log on a live kernel: modkit's dmesg (`/sbin/modkit dmesg`)
# against util-linux 2.41's (/ref/bin/dmesg), run from the same kernel
# state, must print the same stdout and stderr, exit with the same status
# and leave the same state behind (/proc/sys/kernel/printk, what is left in
# the buffer, what the console prints). Then `modkit printk`'s effects.
#
# Console checks: a probe writes one record per level to /dev/kmsg
# ("modkit-console TAG LEVEL") and prints "CONSOLE-PROBE TAG"; the kernel
# prints the records its console level lets through on the serial console,
# which only the host sees: crates/modkit-cli/tests/vm_dmesg.rs compares the
# levels shown for TAG-m (modkit) and TAG-r (reference).
fail=0
M="/sbin/modkit dmesg"
R=/ref/bin/dmesg
X=/lib/modules/$(uname -r)/extra
P=/proc/sys/kernel/printk
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fail=1; }
# same NAME: compare /tmp/m.{out,err} (modkit) with /tmp/r.{out,err}
same() {
    if cmp -s /tmp/m.out /tmp/r.out && cmp -s /tmp/m.err /tmp/r.err; then pass "$1"; else
        bad "$1"
        echo "--- util-linux / +++ modkit, stdout:"; diff -u /tmp/r.out /tmp/m.out | head -40
        echo "--- util-linux / +++ modkit, stderr:"; diff -u /tmp/r.err /tmp/m.err | head -20
    fi
}
# cmp_run NAME ARGS...: both tools on the current state (which they leave)
cmp_run() {
    name=$1; shift
    timeout 20 $M "$@" > /tmp/m.out 2> /tmp/m.err; echo "exit=$?" >> /tmp/m.out
    timeout 20 $R "$@" > /tmp/r.out 2> /tmp/r.err; echo "exit=$?" >> /tmp/r.out
    same "$name"
}
# timestamps differ between two fillings of the buffer
nots() { sed -E 's/ *[0-9]+\.[0-9]{6}/T/g'; }
# the console state between cases: console on, levels 4 4 1 7
reset() { $R -E 2>/dev/null; echo "4 4 1 7" > $P; }
ncase=0
probe() {
    for l in 0 1 2 3 4 5 6 7; do echo "<$l>modkit-console $1 $l" > /dev/kmsg; done
    echo "CONSOLE-PROBE $1"
}
# d ARGS: the dmesg under test (DM), then its exit status; pk: modkit printk
d() { $DM "$@"; echo "exit=$?"; }
pk() { /sbin/modkit printk "$@"; echo "exit=$?"; }
# ctl2 NAME BODY-MODKIT BODY-REF: from the reset state, each body's output,
# then the printk levels, then a console probe; compared
ctl2() {
    ncase=$((ncase + 1))
    for who in m r; do
        reset
        if [ $who = m ]; then DM=$M body=$2; else DM=$R body=$3; fi
        eval "$body" > /tmp/$who.out 2> /tmp/$who.err
        echo "printk: $(cat $P)" >> /tmp/$who.out
        probe "c$ncase-$who"
    done
    reset
    same "$1"
}
ctl() { ctl2 "$1" "$2" "$2"; }
# fill: marker records of several facilities and levels, a multi-line one
fill() {
    for r in "<13>user notice $1" "<30>daemon info $1" "<187>local7 err $1" "<0>kern emerg from userspace $1" \
             "<191>local7 debug $1" "<6>two
lines $1" "<4>warn: subsystem prefix $1"; do
        printf '%s\n' "$r" > /dev/kmsg
    done
}
# clr NAME ARGS: buffer cleared and refilled the same way for each tool; the
# output (timestamps masked), then what a later read finds (nothing)
clr() {
    name=$1; shift
    for who in m r; do
        $R -C; fill "clr$who"
        if [ $who = m ]; then DM=$M; else DM=$R; fi
        { d "$@"; echo "after:"; $R; $R -S; } 2> /tmp/$who.err | sed "s/clr$who/clrX/" | nots > /tmp/$who.out
    done
    same "$name"
    if grep -q "^exit=0" /tmp/m.out && sed -n '/^after:/,$p' /tmp/m.out | grep -q clrX; then
        bad "$name: the buffer still holds the records"
    fi
}
waitfor() { # FILE TEXT: up to ~10 s
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
blocked() { # PID: until it waits in a /dev/kmsg read (up to ~5 s)
    i=0
    while [ "$(cat /proc/$1/wchan 2>/dev/null)" != devkmsg_read ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
# follow NAME OPTS BODY: both tools follow (-w/-W OPTS) while BODY runs
follow() {
    name=$1 opts=$2 body=$3
    $R -C
    echo "<6>follow-before $name" > /dev/kmsg
    $M $opts > /tmp/m.out 2> /tmp/m.err & pm=$!
    $R $opts > /tmp/r.out 2> /tmp/r.err & pr=$!
    blocked $pm; blocked $pr
    eval "$body"
    echo "<6>follow-end $name" > /dev/kmsg
    waitfor /tmp/m.out "follow-end $name"; waitfor /tmp/r.out "follow-end $name"
    kill $pm $pr
    wait $pm; echo "exit=$?" >> /tmp/m.out
    wait $pr; echo "exit=$?" >> /tmp/r.out
    same "$name"
    grep -q "follow-end $name" /tmp/m.out || bad "$name: modkit did not see the end marker"
}

echo "printk: $(cat $P), dmesg_restrict $(cat /proc/sys/kernel/dmesg_restrict)"
[ -x $R ] && $R -V | grep -q "util-linux 2.41" && pass "util-linux 2.41 dmesg in the guest" || bad "no reference dmesg"

# --- reading the boot log (kmsg, then syslog(2) with -S) ---
for args in "" "-x" "-r" "-t" "-k" "-u" "-l err+" "-f kern,daemon" "-J" "-d" "-p" "--noescape" \
            "-S" "-S -x" "-S -r" "-S -k -x" "-S -u" "-S -J" "-S -s 4096" "-S -l warn" "-S -d"; do
    cmp_run "boot log: dmesg $args" $args
done
cmp_run "syslog method with --raw and --level" -S -r -l err
cmp_run "syslog method with --force-prefix" -S -p

# --- userspace records with facilities, multi-line, escapes ---
$R -C
fill user
printf '<14>bytes \001\002\177 tab\there \303\251 utf8\n' > /dev/kmsg
printf '<14>a\\backslash and \\x41 escape\n' > /dev/kmsg
for args in "" "-k" "-u" "-x" "-u -x" "-f user,daemon" "-f local7 -l debug" "-l notice" "-l emerg" \
            "-r" "-J" "-x -J" "-p" "-p -x" "--noescape" "-S" "-S -x" "-S -u" "-S -k" "-S -r" "-S -f local7"; do
    cmp_run "userspace records: dmesg $args" $args
done

# --- long records: the kernel takes up to ~992 bytes per write; escaped
# (\xNN), a record can exceed the 2047-byte read buffer of dmesg ---
$R -C
echo "<6>before the long records" > /dev/kmsg
{ printf '<6>'; head -c 980 /dev/zero | tr '\0' 'L'; } > /tmp/rec
dd if=/tmp/rec of=/dev/kmsg bs=4096 2>/dev/null || bad "980-byte write refused"
{ printf '<6>'; head -c 2000 /dev/zero | tr '\0' 'L'; } > /tmp/rec
dd if=/tmp/rec of=/dev/kmsg bs=4096 2>/dev/null && bad "2000-byte write accepted" || pass "kernel refuses a 2000-byte /dev/kmsg write"
echo "<6>between" > /dev/kmsg
{ printf '<6>'; head -c 900 /dev/zero | tr '\0' '\001'; } > /tmp/rec
dd if=/tmp/rec of=/dev/kmsg bs=4096 2>/dev/null || bad "900-byte write refused"
echo "<6>after the long records" > /dev/kmsg
for args in "" "-x" "-r" "-J" "-S" "-S -r" "-w"; do
    cmp_run "long records: dmesg $args" $args
done
# the first record too large: util-linux falls back to syslog(2)
$R -C
dd if=/tmp/rec of=/dev/kmsg bs=4096 2>/dev/null
echo "<6>after a long first record" > /dev/kmsg
for args in "" "-x" "-k" "-p"; do
    cmp_run "long first record: dmesg $args" $args
done

# --- no /dev/kmsg: the syslog(2) fallback ---
mv /dev/kmsg /dev/kmsg.away
for args in "" "-x" "-r" "-J" "-r -l err" "-p" "-w"; do
    cmp_run "without /dev/kmsg: dmesg $args" $args
done
mv /dev/kmsg.away /dev/kmsg

# --- console control: -n, -D, -E (syslog actions 8, 6, 7) ---
for l in 1 2 4 5 8 debug alert EMERG warn 0 9 -1 foo 3x ""; do
    ctl "dmesg -n '$l'" 'd -n "'"$l"'"'
done
ctl "dmesg --console-level=info" 'd --console-level=info'
ctl "dmesg -D" 'd -D'
ctl "dmesg -D, -D again" 'd -D; d -D'
ctl "dmesg -D then -E" 'd -D; d -E'
ctl "dmesg -E without -D" 'd -E'
ctl "dmesg -D then -n 6" 'd -D; d -n 6'
ctl "dmesg -D then -n 6 then -E" 'd -D; d -n 6; d -E'
ctl "dmesg -n below the minimum console level" 'echo "4 4 3 7" > $P; d -n 2'
ctl "dmesg -n 7 -D (exclusive)" 'd -n 7 -D'
ctl "dmesg -E -c (exclusive)" 'd -E -c'
ctl "dmesg -n with an extra operand" 'd -n 3 extra'

# --- -c and -C (syslog actions 4 and 5 after reading) ---
clr "dmesg -c" -c
clr "dmesg -c -x" -c -x
clr "dmesg -c -r" -c -r
clr "dmesg --read-clear -t -k" --read-clear -t -k
clr "dmesg -c -J" -c -J
clr "dmesg -c -S" -c -S
clr "dmesg -C" -C
clr "dmesg --clear" --clear
clr "dmesg -C -c (exclusive)" -C -c

# --- follow mode ---
follow "dmesg -w while a module prints" "-w" "/sbin/insmod $X/mk_printk.ko; /sbin/rmmod mk_printk"
follow "dmesg -w -x while a module prints" "-w -x" "/sbin/insmod $X/mk_printk.ko; /sbin/rmmod mk_printk"
follow "dmesg -W -x while a module prints" "-W -x" "/sbin/insmod $X/mk_printk.ko; /sbin/rmmod mk_printk"
follow "dmesg -w -J with userspace records" "-w -J" "fill follow"
follow "dmesg -w -u -t with userspace records" "-w -u -t" "fill follow"
# the ring overflows while both readers are stopped: on resuming, each read
# fails with EPIPE and both go on from the oldest record left
# (each waits for the other's state: a reader woken by SIGSTOP while a
# record is there reads it before stopping; the end marker evicts records)
stopped() { # PID: until it is stopped (up to ~5 s)
    i=0
    while [ "$(cut -d' ' -f3 /proc/$1/stat)" != T ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
flood() {
    kill -STOP $pm $pr
    stopped $pm; stopped $pr
    exec 3> /dev/kmsg
    i=0
    while [ $i -lt 6000 ]; do echo "<6>flood record $i padding to make the records longer" >&3; i=$((i + 1)); done
    exec 3>&-
    kill -CONT $pm $pr
    waitfor /tmp/m.out "flood record 5999"; waitfor /tmp/r.out "flood record 5999"
}
follow "dmesg -w across a ring buffer overflow" "-w" "flood"
first=$(grep -m1 -o "flood record [0-9]*" /tmp/m.out | cut -d' ' -f3)
n=$(grep -c "flood record" /tmp/m.out)
if [ -n "$first" ] && [ "$first" -gt 0 ] && [ "$n" -lt 6000 ] && [ "$n" -gt 0 ]; then
    pass "overflow: records 0..$((first - 1)) lost, $n read after the gap"
else
    bad "overflow: first record '$first', $n read"
fi

# --- unprivileged (dmesg_restrict) ---
chmod 755 /
grep -q '^u:' /etc/passwd 2>/dev/null || { echo 'u:x:1000:1000:u:/tmp:/bin/sh' >> /etc/passwd; echo 'u:x:1000:' >> /etc/group; }
as_user() { # NAME ARGS: both tools as uid 1000
    name=$1; shift
    su u -s /bin/sh -c "$M $*" > /tmp/m.out 2> /tmp/m.err; echo "exit=$?" >> /tmp/m.out
    su u -s /bin/sh -c "$R $*" > /tmp/r.out 2> /tmp/r.err; echo "exit=$?" >> /tmp/r.out
    same "$name"
}
[ "$(su u -s /bin/sh -c 'id -u')" = 1000 ] && pass "unprivileged user" || bad "su to uid 1000"
/sbin/modkit printk dmesg_restrict=1 || bad "printk dmesg_restrict=1"
for args in "" "-S" "-k" "-w" "-C" "-c" "-n 5" "-D" "-E" "-x -T"; do
    as_user "dmesg_restrict=1, unprivileged: dmesg $args" $args
done
/sbin/modkit printk dmesg_restrict=0 || bad "printk dmesg_restrict=0"
fill unpriv
for args in "" "-S" "-u -x" "-C" "-c" "-n 5"; do
    as_user "dmesg_restrict=0, unprivileged: dmesg $args" $args
done
su u -s /bin/sh -c "/sbin/modkit printk console=3" > /tmp/m.out 2>&1
[ $? = 1 ] && [ "$(cat /tmp/m.out)" = "printk: /proc/sys/kernel/printk: Permission denied" ] \
    && pass "unprivileged printk console=3 refused" || { bad "unprivileged printk console=3"; cat /tmp/m.out; }
su u -s /bin/sh -c "/sbin/modkit printk" > /tmp/m.out 2>&1 && pass "unprivileged printk shows" || { bad "unprivileged printk"; cat /tmp/m.out; }

# --- modkit printk ---
set -- $(cat $P)
got=$(/sbin/modkit printk console default_message minimum_console default_console | awk '{ printf "%s ", $2 }')
[ "$got" = "$1 $2 $3 $4 " ] && pass "printk shows the four levels of $P" || bad "printk shows '$got' for '$*'"
for f in printk_devkmsg dmesg_restrict kptr_restrict; do
    [ "$(/sbin/modkit printk $f | awk '{ print $2 }')" = "$(cat /proc/sys/kernel/$f)" ] && pass "printk shows $f" || bad "printk $f"
done
# the console level: printk console=N as dmesg -n N
for l in 1 3 5 8; do
    ctl2 "printk console=$l as dmesg -n $l" 'pk console='$l 'd -n '$l
done
ctl2 "printk console=all as dmesg -n debug" 'pk console=all' 'd -n debug'
ctl2 "printk console=err as dmesg -n 3" 'pk console=err' 'd -n 3'
ctl2 "printk minimum_console=5, then dmesg -n 2 clamps" 'pk minimum_console=5; $R -n 2' 'echo "4 4 5 7" > $P; echo exit=0; $R -n 2'
ctl2 "printk console=0 silences the console" 'pk console=0' 'echo "0 4 1 7" > $P; echo exit=0'
# the default message level: what a record written without a level gets
for who in m r; do
    $R -C
    if [ $who = m ]; then /sbin/modkit printk default_message=err; else echo "4 3 1 7" > $P; fi
    echo "no level given $who" > /dev/kmsg
    # only the record written here: a loaded TCG guest may log clocksource warnings meanwhile
    $R -r | grep "no level given" | sed "s/given $who/given X/" | nots > /tmp/$who.out; : > /tmp/$who.err
    reset
done
same "printk default_message=err as writing $P"
grep -q "^<11>" /tmp/m.out && pass "a record without a level has the default message level" || bad "default message level not applied"
# printk_devkmsg: off drops writes to /dev/kmsg
/sbin/modkit printk devkmsg=off && echo "<6>dropped while off" > /dev/kmsg 2>/dev/null
cmp_run "printk_devkmsg=off: dmesg" -x
/sbin/modkit printk devkmsg=on && echo "<6>kept while on" > /dev/kmsg
[ "$(cat /proc/sys/kernel/printk_devkmsg)" = on ] && ! $R | grep -q "dropped while off" && $R | grep -q "kept while on" \
    && pass "printk devkmsg=off drops /dev/kmsg writes, on keeps them" || bad "printk devkmsg"
# kptr_restrict: 2 hides kernel addresses even from root
/sbin/modkit printk kptr_restrict=2
a2=$(grep -m1 ' [Tt] ' /proc/kallsyms | cut -d' ' -f1)
/sbin/modkit printk kptr_restrict=0
a0=$(grep -m1 ' [Tt] ' /proc/kallsyms | cut -d' ' -f1)
[ "$a2" = 0000000000000000 ] && [ "$a0" != "$a2" ] && pass "printk kptr_restrict=2 hides addresses, 0 shows them" || bad "kptr_restrict: '$a2' '$a0'"
# bad input changes nothing
before=$(cat $P)
/sbin/modkit printk console=1 default_message=9 > /tmp/m.out 2>&1; st=$?
[ $st = 1 ] && [ "$(cat $P)" = "$before" ] && [ "$(wc -l < /tmp/m.out)" = 1 ] && pass "printk bad value: exit 1, one line, nothing written" || bad "printk bad value ($st)"

reset
exit $fail
