#!/bin/sh
# The demo vm/run shows by default: modkit's tools at work on a real Debian
# kernel, one step at a time. Each step says what it shows, runs modkit's
# tool ("$ command" and its output), then shows the kernel's own evidence
# ("kernel:" lines: /proc/modules, /sys/module, the kernel log) that the tool
# did what it said. Exits with the number of steps whose tool failed.
# (/vm/lib.sh, sourced before this, makes the bare tool names run modkit's
# tools, /sbin/TOOL, instead of busybox's applets.)
X=/lib/modules/$(uname -r)/extra
M=/sys/module/mk_params/parameters
n=0 failed=0

# step TITLE EXPLANATION...: a numbered heading and what the step shows
step() {
    n=$((n + 1))
    echo
    echo "=== $n. $1"
    shift
    for line in "$@"; do echo "    $line"; done
}
# quoted ARG...: the arguments as a shell would need them typed
quoted() {
    sep=
    for a in "$@"; do
        case $a in
            *[!A-Za-z0-9_./,=:+-]*|'') printf "%s'%s'" "$sep" "$a" ;;
            *) printf '%s%s' "$sep" "$a" ;;
        esac
        sep=' '
    done
}
# run COMMAND...: show it, run it, show a non-zero exit
run() {
    echo "\$ $(quoted "$@")"
    "$@"
    rc=$?
    [ $rc -eq 0 ] || { echo "(exit $rc)"; failed=$((failed + 1)); }
    return 0
}
# kernel LABEL COMMAND...: the kernel's own view, each line marked
kernel() {
    label=$1; shift
    out=$("$@" 2>&1)
    [ -n "$out" ] || out="(nothing)"
    echo "$out" | while IFS= read -r line; do echo "  kernel: $label: $line"; done
}
# proc_modules NAME...: the /proc/modules lines of those modules
proc_modules() {
    for m in "$@"; do grep "^$m " /proc/modules || echo "$m: not loaded"; done
}
# last_log PATTERN: the kernel log's last record matching PATTERN
last_log() {
    /ref/bin/dmesg | grep -- "$1" | tail -n 1
}

echo "modkit demo: Debian's kernel $(uname -r), booted under QEMU; modkit's tools are"
echo "/sbin/modkit (one static binary), the reference kmod 34.2 is /ref/bin/."

step "modinfo: what a module file declares" \
    "mk_params is a test module (testmodules/mk_params.c) built for this kernel;" \
    "modinfo reads its parameters and vermagic from the .ko's .modinfo section."
run modinfo -p mk_params
run modinfo -F vermagic mk_params
kernel "uname -r" uname -r

step "insmod: loading a module with parameters" \
    "The values given on the command line reach the module: the kernel shows" \
    "them in /sys/module/mk_params/parameters, and the module logs them."
run insmod $X/mk_params.ko p_int=42 'p_charp=hello world' p_array=1,2,3
kernel "/proc/modules" proc_modules mk_params
kernel "$M/p_int" cat $M/p_int
kernel "$M/p_charp" cat $M/p_charp
kernel "$M/p_array" cat $M/p_array
kernel "log" last_log "mk_params: loaded"
kernel "/sys/module/mk_params/taint" cat /sys/module/mk_params/taint
kernel "/proc/sys/kernel/tainted" cat /proc/sys/kernel/tainted
echo "    (one bit per taint flag, shown as letters in /sys/module/*/taint; vm/run decodes the number at the end)"

step "lsmod: what is loaded" \
    "lsmod formats /proc/modules: name, size, use count, users."
run lsmod
kernel "/proc/modules" proc_modules mk_params

step "a parameter changed at run time" \
    "Writable parameters (mode 0644) can be changed through sysfs after loading."
echo "\$ echo 7 > $M/p_int"
echo 7 > $M/p_int
kernel "$M/p_int" cat $M/p_int

step "rmmod: unloading" \
    "The module's exit function logs the parameter's last value; its sysfs directory goes."
run rmmod mk_params
kernel "/proc/modules" proc_modules mk_params
kernel "/sys/module/mk_params" sh -c 'ls -d /sys/module/mk_params 2>/dev/null || echo gone'
kernel "log" last_log "mk_params: unloaded"

step "modprobe -D: what loading btrfs takes" \
    "modprobe resolves btrfs's dependencies from modules.dep (written by depmod) and" \
    "prints the insmod commands it would run, in order; nothing is loaded."
run modprobe -D btrfs
kernel "/proc/modules" proc_modules btrfs

step "modprobe: loading btrfs with its dependencies" \
    "-v prints each module as it is loaded; lsmod --tree shows who uses whom."
run modprobe -v btrfs
run lsmod --tree
kernel "/proc/modules" proc_modules btrfs xor raid6_pq
kernel "/sys/module/xor/holders" ls /sys/module/xor/holders

step "lsmod --json: the same, for programs" \
    "The first lines of lsmod's JSON output."
echo "\$ lsmod --json | head -n 12"
lsmod --json | head -n 12

step "modprobe -r: removing btrfs and the dependencies nothing else uses"
run modprobe -r -v btrfs
kernel "/proc/modules" proc_modules btrfs xor raid6_pq

step "aliases: a module found by another name" \
    "modprobe -R prints the module an alias resolves to (modules.alias); the test" \
    "module declares MODULE_ALIAS(\"mk-params-alias\")."
run modprobe -R fs-btrfs
kernel "modules.alias" grep -w 'fs-btrfs' /lib/modules/$(uname -r)/modules.alias
run modprobe -v mk-params-alias
kernel "/proc/modules" proc_modules mk_params
run modprobe -r mk_params
kernel "/proc/modules" proc_modules mk_params

step "printk: the console log levels" \
    "modkit printk shows the four values of /proc/sys/kernel/printk, named."
run printk
kernel "/proc/sys/kernel/printk" cat /proc/sys/kernel/printk

step "dmesg: the kernel log" \
    "dmesg reads the kernel's records from /dev/kmsg; -l err,warn keeps two levels," \
    "-x shows each record's facility and level. The last five at most:"
echo "\$ dmesg -l err,warn -x | tail -n 5"
dmesg -l err,warn -x | tail -n 5
kernel "records" sh -c 'echo "$(/ref/bin/dmesg -l err,warn | wc -l) err/warn records by util-linux 2.41 dmesg; $(/sbin/dmesg -l err,warn | wc -l) by modkit'"'"'s"'

echo
if [ "$failed" -eq 0 ]; then
    echo "demo: $n steps, every tool succeeded"
else
    echo "demo: $n steps, $failed tool runs failed"
fi
exit "$failed"
