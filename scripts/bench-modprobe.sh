#!/bin/sh
# Benchmark: `modprobe --show-depends` of deep modules (btrfs, nouveau, and
# a long alias lookup) on the trixie 6.12 tree, modkit vs kmod 34.2, in one
# run; prints the time per call and the ratio modkit/kmod.
#   scripts/bench-modprobe.sh [--build]    (--build: cargo build --release first)
# kmod is started through trixie's loader directly (no shell wrapper), so
# both sides pay only their own process start-up.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$("$here/scripts/refs.sh" tools trees)
[ "${1:-}" = "--build" ] && (cd "$here" && cargo build --release -q)
modkit=$here/target/release/modkit
[ -x "$modkit" ] || { echo "build first: cargo build --release" >&2; exit 1; }
refroot=$cache/ref/root
libs=$refroot/usr/lib/x86_64-linux-gnu
kmod() { "$libs/ld-linux-x86-64.so.2" --library-path "$libs:$refroot/lib/x86_64-linux-gnu" --argv0 modprobe "$refroot/usr/bin/kmod" "$@"; }
ours() { "$modkit" modprobe "$@"; }
tree=$cache/trees/6.12
ver=$(cat "$tree/.version")
n=200

now() { date +%s%N; }
# best of 3 runs of n calls, in ns
best() {
    b=
    for _ in 1 2 3; do
        t0=$(now)
        i=0
        while [ $i -lt $n ]; do "$@" >/dev/null; i=$((i + 1)); done
        t=$(( $(now) - t0 ))
        if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
    done
    echo "$b"
}
echo "modprobe --show-depends on $ver, $n calls each (best of 3)"
floor=$(best /bin/true)
awk -v f="$floor" -v n="$n" 'BEGIN { printf "(starting a process at all, /bin/true: %.3f ms/call)\n", f/n/1e6 }' 
for what in btrfs nouveau "pci:v000010DEd00001C82sv00001043sd00008613bc03sc00i00"; do
    kmod -d "$tree" -S "$ver" -D "$what" > /tmp/bench-modprobe.k
    ours -d "$tree" -S "$ver" -D "$what" > /tmp/bench-modprobe.m
    cmp -s /tmp/bench-modprobe.k /tmp/bench-modprobe.m || { echo "outputs differ for $what" >&2; exit 1; }
    k=$(best kmod -d "$tree" -S "$ver" -D "$what")
    m=$(best ours -d "$tree" -S "$ver" -D "$what")
    awk -v l="$what" -v k="$k" -v m="$m" -v n="$n" 'BEGIN {
        printf "%-24.24s kmod %6.3f ms/call   modkit %6.3f ms/call   ratio %.2f\n", l, k/n/1e6, m/n/1e6, m/k }'
done
rm -f /tmp/bench-modprobe.k /tmp/bench-modprobe.m
