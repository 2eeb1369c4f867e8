#!/bin/sh
# Benchmark: depmod, modkit vs kmod 34.2, in one run, on Debian's trixie 6.12
# (.ko.xz) and bookworm 6.1 (plain .ko) trees: cold (no cache), warm (modkit's
# default metadata cache, tree unchanged) and warm with one module changed
# before each timed run; wall time
# (best of 3), ratio to kmod, and peak memory (max RSS). For the compressed
# tree it also prints the decompression floor: `xz -dc` of every module on one
# core and on all cores.
#   scripts/bench-depmod.sh [--build]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$("$here/scripts/refs.sh" tools trees)
[ "${1:-}" = "--build" ] && (cd "$here" && cargo build --release -q)
modkit=$here/target/release/modkit
[ -x "$modkit" ] || { echo "build first: cargo build --release" >&2; exit 1; }
kmod=$cache/ref/bin/depmod
work=$(mktemp -d "$cache/bench.XXXXXX"); trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM   # dash runs the EXIT trap only on exit
cores=$(nproc)

# run CMD...: best-of-3 wall seconds and max RSS (MB) of the last run
measure() {
    best=
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
        read -r t m < "$work/time"
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
    done
    echo "$best $((m / 1024))"
}

row() { # label, kmod-seconds, seconds, MB
    awk -v l="$1" -v k="$2" -v t="$3" -v m="$4" 'BEGIN {
        printf "  %-28s %7.3f s  ratio %5.2f  peak %4d MB\n", l, t, t / k, m }'
}

for t in 6.12 6.1; do
    root=$cache/trees/$t; ver=$(cat "$root/.version")
    echo "== depmod on $t ($ver), $cores cores"
    set -- $(measure "$kmod" -b "$root" -o "$work/k" "$ver"); k=$1
    row "kmod 34.2" "$k" "$1" "$2"
    set -- $(measure "$modkit" depmod -b "$root" -o "$work/m" "$ver")
    row "modkit cold" "$k" "$1" "$2"
    cmp -s "$work/k/lib/modules/$ver/modules.dep.bin" "$work/m/lib/modules/$ver/modules.dep.bin" || echo "  WARNING: outputs differ"
    if "$modkit" depmod --help 2>&1 | grep -q no-cache; then
        # the default cache: OUT/var/cache/modkit/depmod/VERSION once
        # OUT/var/cache exists
        rm -rf "$work/m"; mkdir -p "$work/m/var/cache"
        "$modkit" depmod -b "$root" -o "$work/m" "$ver"
        set -- $(measure "$modkit" depmod -b "$root" -o "$work/m" "$ver")
        row "modkit warm (unchanged)" "$k" "$1" "$2"
        # one module changed before every timed run: a hard-linked copy
        # with dummy's file replaced (a new inode and mtime), as DKMS does
        cp -al "$root" "$work/copy"
        d=$(find "$work/copy/lib/modules/$ver/kernel/drivers/net" -name 'dummy.ko*')
        "$modkit" depmod -b "$work/copy" -o "$work/m" "$ver"
        best=
        for _ in 1 2 3; do
            cp "$d" "$d.new" && mv "$d.new" "$d"
            /usr/bin/time -f "%e %M" -o "$work/time" "$modkit" depmod -b "$work/copy" -o "$work/m" "$ver" >/dev/null 2>&1
            read -r tt mm < "$work/time"
            if [ -z "$best" ] || awk -v a="$tt" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$tt; fi
        done
        row "modkit warm (1 changed)" "$k" "$best" "$((mm / 1024))"
        for f in "$work/k/lib/modules/$ver"/modules.*; do
            cmp -s "$f" "$work/m/lib/modules/$ver/${f##*/}" || echo "  WARNING: ${f##*/} differs"
        done
        rm -rf "$work/copy"
    fi
    if [ "$t" = 6.12 ]; then
        find "$root/lib/modules/$ver/" -name '*.ko.xz' > "$work/list"
        set -- $(measure sh -c "xargs xz -dc < '$work/list'")
        row "floor: xz -dc, 1 core" "$k" "$1" "$2"
        set -- $(measure sh -c "xargs -P $cores -n 64 xz -dc < '$work/list'")
        row "floor: xz -dc, $cores cores" "$k" "$1" "$2"
    fi
done
