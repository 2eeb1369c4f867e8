#!/bin/sh
# Benchmark: modinfo over 500 trixie .ko.xz modules, modkit vs kmod 34.2,
# in one run; prints times per module and the ratio modkit/kmod.
#   scripts/bench-modinfo.sh [--build]    (--build: cargo build --release first)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$("$here/scripts/refs.sh" tools trees)
[ "${1:-}" = "--build" ] && (cd "$here" && cargo build --release -q)
modkit=$here/target/release/modkit
[ -x "$modkit" ] || { echo "build first: cargo build --release" >&2; exit 1; }
kmod=$cache/ref/bin/modinfo
tree=$cache/trees/6.12
list=$(mktemp); trap 'rm -f "$list"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM   # dash runs the EXIT trap only on exit
find "$tree/lib/modules/" -name '*.ko.xz' | sort | awk 'NR % 8 == 1' | head -n 500 > "$list"
n=$(wc -l < "$list")

now() { date +%s%N; }
# best of 3, in ns: $1 = label, rest = command run once per module or once for all
best() {
    mode=$1; shift
    b=
    for _ in 1 2 3; do
        t0=$(now)
        if [ "$mode" = each ]; then
            while read -r f; do "$@" "$f" >/dev/null; done < "$list"
        else
            xargs "$@" < "$list" >/dev/null
        fi
        t=$(( $(now) - t0 ))
        if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
    done
    echo "$b"
}
report() {
    label=$1 k=$2 m=$3
    awk -v l="$label" -v k="$k" -v m="$m" -v n="$n" 'BEGIN {
        printf "%-34s kmod %6.3f ms/module   modkit %6.3f ms/module   ratio %.2f\n", l, k/n/1e6, m/n/1e6, m/k }'
}
echo "modinfo on $n .ko.xz modules of $(cat "$tree/.version") (best of 3)"
report "one process per module:" "$(best each "$kmod")" "$(best each "$modkit" modinfo)"
report "one process for all (xargs):" "$(best all "$kmod")" "$(best all "$modkit" modinfo)"
