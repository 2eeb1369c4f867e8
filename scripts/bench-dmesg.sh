#!/bin/sh
# Benchmark: dmesg over a generated 1,000,000-record kmsg file (-K), modkit
# vs util-linux 2.41, in one run; prints the best of 3 times and the ratio
# modkit/util-linux for the default format and for `-x -T`.
#   scripts/bench-dmesg.sh [--build] [RECORDS]   (--build: cargo build --release first)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$("$here/scripts/refs.sh" tools)
if [ "${1:-}" = "--build" ]; then
    (cd "$here" && cargo build --release -q)
    shift
fi
records=${1:-1000000}
modkit=$here/target/release/modkit
[ -x "$modkit" ] || { echo "build first: cargo build --release" >&2; exit 1; }
ref=$cache/ref/bin/dmesg
file=$(mktemp); trap 'rm -f "$file"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM   # dash runs the EXIT trap only on exit

# Records as the kernel writes them, NUL-separated as -K reads them: all
# levels and a few facilities, subsystem prefixes, escaped tabs and
# newlines, dictionary lines.
awk -v n="$records" 'BEGIN {
    split("usb 1-1: new high-speed USB device number 2 using xhci_hcd|EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.|e1000e 0000:00:1f.6 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx|rcu: \\x09RCU restricting CPUs from NR_CPUS=256 to nr_cpu_ids=2.|Out of memory: Killed process 1234 (stress) total-vm:24374344kB, anon-rss:24364928kB|audit: type=1400 audit(1700000000.123:42): apparmor=\"STATUS\" operation=\"profile_load\"|active_anon:386 inactive_anon:6092932\\x0a active_file:21 inactive_file:37|segfault at 0 ip 00007f0000000000 sp 00007ffc00000000 error 4", msg, "|")
    ts = 0
    for (i = 0; i < n; i++) {
        ts += (i * 7919) % 4000 + 1
        fac = (i % 13 == 0) ? 1 : ((i % 17 == 0) ? 3 : 0)
        lev = i % 8
        m = msg[i % 8 + 1]
        dict = (i % 5 == 0) ? "\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:1f.6" : ""
        printf "%d,%d,%d,-;%s%s\n%c", fac * 8 + lev, i, ts, m, dict, 0
    }
}' > "$file"
size=$(du -m "$file" | cut -f1)

now() { date +%s%N; }
best() {
    b=
    for _ in 1 2 3; do
        t0=$(now)
        "$@" > /dev/null
        t=$(( $(now) - t0 ))
        if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
    done
    echo "$b"
}
report() {
    label=$1 u=$2 m=$3
    awk -v l="$label" -v u="$u" -v m="$m" 'BEGIN {
        printf "%-22s util-linux %7.3f s   modkit %7.3f s   ratio %.2f\n", l, u/1e9, m/1e9, m/u }'
}
export LC_ALL=C TZ=UTC
echo "dmesg -K on $records records ($size MiB), output to /dev/null (best of 3)"
report "default:" "$(best "$ref" -K "$file")" "$(best "$modkit" dmesg -K "$file")"
report "-x -T:" "$(best "$ref" -x -T -K "$file")" "$(best "$modkit" dmesg -x -T -K "$file")"
