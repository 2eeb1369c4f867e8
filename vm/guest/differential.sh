# Shared by the differential guest scripts (vm/build-initramfs installs it
# as /vm/differential.sh; they source it): `case_ NAME SETUP TOOL ARGS
# CLEANUP [STATUS]` runs SETUP, `/sbin/modkit TOOL ARGS`, CLEANUP, then the
# same with kmod 34.2's /ref/bin/TOOL, and compares stdout, stderr, exit
# code, the modules' state (/proc/modules with taint flags) and the kernel's
# messages of the two runs (plus what reached $side, for -s); with STATUS,
# kmod's exit status must be that (so that a case cannot pass vacuously).
# Set as=asuser to run the tools as an unprivileged user. A run's stderr
# has addresses (0x...) replaced (libkmod's -vvv messages print some).
fail=0
ver=$(uname -r)
X=/lib/modules/$ver/extra
R=/ref/bin
T=/test
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fail=1; }
side=        # file receiving -s messages (syslog or console), if any
# kmod 34.2's `modprobe -r --wait` spins for ever when it wakes up 1 ms or
# more past its deadline (get_backoff_delta_msec; fixed after 34.2, kmod
# pull request #377), which a loaded emulated guest does now and then. A
# script sets ref_timeout="timeout -s KILL SECS" around such cases: a
# reference run killed by it is retried (up to 4 times) instead of hanging
# the whole test.
ref_timeout=
as=          # "asuser" to run the tools unprivileged

# an unprivileged user for su
echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd
echo 'user:x:1000:1000:user:/tmp:/bin/sh' >> /etc/passwd
printf 'root:x:0:\nuser:x:1000:\n' > /etc/group
asuser() { su -s /bin/sh user -c "$*"; }
[ "$(asuser id -u)" = 1000 ] || bad "su to an unprivileged user: $(asuser id -u 2>&1)"

modules_state() { # name size refcount holders state [taint]
    awk '{ t = ""; if ($NF ~ /^\(/) t = $NF; print $1, $2, $3, $4, $5, t }' /proc/modules | sort
}
kernel_messages() { # new kernel messages, without timestamps; lockdown's
    # are rate-limited (and name the process), and the raid6/xor speed
    # benchmarks some modules run when loaded print timings: not comparable
    # run to run
    busybox dmesg -c | sed 's/^\[[ 0-9.]*\] //' |
        grep -v -e '^Lockdown: ' -e ' callbacks suppressed$' -e '^raid6: ' -e '^xor: ' -e 'MB/sec$'
}
extra_state() { :; } # a script may redefine it: more state to compare after each run
run() { # program args...
    kernel_messages > /dev/null
    [ -n "$side" ] && before=$(wc -c < "$side")
    eval "$as $*" > /tmp/out 2> /tmp/err; status=$?; echo "exit=$status" >> /tmp/out
    # libkmod's INFO messages at -vvv name addresses (its log function, its
    # context), which differ from run to run
    sed -i 's/ 0x[0-9a-f]\{1,16\} / 0xADDRESS /' /tmp/err
    modules_state >> /tmp/out
    extra_state >> /tmp/out
    echo "--- kernel:" >> /tmp/out; kernel_messages >> /tmp/out
    if [ -n "$side" ]; then
        usleep 300000
        echo "--- $side:" >> /tmp/out
        # syslogd's timestamp and host name vary; the rest must match
        tail -c +$((before + 1)) "$side" | sed 's/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\} [^ ]* //' >> /tmp/out
    fi
}
case_() { # name setup tool args cleanup [kmod's expected exit status]
    name=$1 setup=$2 tool=$3 args=$4 cleanup=$5 want=${6:-}
    eval "$setup" >/dev/null 2>&1
    run "/sbin/modkit $tool $args"; mv /tmp/out /tmp/o1; mv /tmp/err /tmp/e1
    eval "$cleanup" >/dev/null 2>&1
    tries=0
    while :; do
        eval "$setup" >/dev/null 2>&1
        run "$ref_timeout $R/$tool $args"; mv /tmp/out /tmp/o2; mv /tmp/err /tmp/e2; kmod_status=$status
        eval "$cleanup" >/dev/null 2>&1
        # killed by $ref_timeout: kmod's own hang (see ref_timeout above); again
        [ -n "$ref_timeout" ] && [ "$status" -ge 124 ] && [ $tries -lt 4 ] || break
        tries=$((tries + 1)); echo "NOTE $name: kmod 34.2 hung (its backoff loop), run $tries killed; again"
    done
    if [ -n "$want" ] && [ "$kmod_status" != "$want" ]; then
        bad "$name: kmod's exit status is not $want"; cat -v /tmp/o2 /tmp/e2
    elif cmp -s /tmp/o1 /tmp/o2 && cmp -s /tmp/e1 /tmp/e2; then pass "$name"; else
        bad "$name"; echo "--- modkit:"; cat -v /tmp/o1 /tmp/e1; echo "--- kmod:"; cat -v /tmp/o2 /tmp/e2
    fi
}

