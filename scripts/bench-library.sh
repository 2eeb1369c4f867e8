#!/bin/sh
# Benchmark: many lookups in one process, modkit vs kmod 34.2, side by side
# in one run, on the trixie 6.12 and bookworm 6.1 trees:
#   - `modprobe -a -D` of 2,000 module names (every other module of
#     modules.dep, all of the first 100),
#   - `modprobe -a -D` of 2,000 concrete alias strings (every 13th pattern
#     of modules.alias made concrete: `*` dropped, `?` -> 0, a bracket
#     expression -> its first character),
#   - `modinfo -F firmware` of every module of the tree, by name;
#   - the same 2,000 names and aliases through the library
#     (modkit::closure::ModuleDb::closure_modules, examples/closure-bench.rs)
#     from 1 and 2 threads sharing one database, in-process (no start-up),
#     against kmod's whole `modprobe -a -D` process.
# Outputs (stdout and stderr) are compared first; a difference stops the run.
# Prints the best of RUNS (default 3) wall times per side and the ratio
# modkit/kmod.
#   scripts/bench-library.sh [--build]    (--build: cargo build --release first)
# kmod runs through trixie's loader directly (no shell wrapper), so both
# sides pay only their own process start-up.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$("$here/scripts/refs.sh" tools trees)
[ "${1:-}" = "--build" ] && (cd "$here" && cargo build --release -q -p modkit-cli &&
    cargo build --release -q -p modkit --example closure-bench)
modkit=${CARGO_TARGET_DIR:-$here/target}/release/modkit
lib=${CARGO_TARGET_DIR:-$here/target}/release/examples/closure-bench
[ -x "$modkit" ] || { echo "build first: cargo build --release" >&2; exit 1; }
runs=${RUNS:-3}
refroot=$cache/ref/root
libs=$refroot/usr/lib/x86_64-linux-gnu
kmod() { tool=$1; shift; "$libs/ld-linux-x86-64.so.2" --library-path "$libs:$refroot/lib/x86_64-linux-gnu" --argv0 "$tool" "$refroot/usr/bin/kmod" "$@"; }
ours() { "$modkit" "$@"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

now() { date +%s%N; }
# best of $runs, in ns, of one command (output discarded)
best() {
    b=
    i=0
    while [ $i -lt "$runs" ]; do
        t0=$(now)
        "$@" >/dev/null 2>&1 || true
        t=$(( $(now) - t0 ))
        if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
        i=$((i + 1))
    done
    echo "$b"
}
# label, tool, args file, leading args...: compare outputs, then time both
measure() {
    label=$1 tool=$2 args=$3; shift 3
    # shellcheck disable=SC2046 # one word per line, none with spaces
    kmod "$tool" "$@" $(cat "$args") > "$tmp/k" 2>&1 || true
    # shellcheck disable=SC2046
    ours "$tool" "$@" $(cat "$args") > "$tmp/m" 2>&1 || true
    cmp -s "$tmp/k" "$tmp/m" || { echo "outputs differ: $label" >&2; diff "$tmp/k" "$tmp/m" | head -5 >&2; exit 1; }
    # shellcheck disable=SC2046
    k=$(best kmod "$tool" "$@" $(cat "$args"))
    # shellcheck disable=SC2046
    m=$(best ours "$tool" "$@" $(cat "$args"))
    awk -v l="$label" -v k="$k" -v m="$m" 'BEGIN {
        printf "  %-34s kmod %8.1f ms   modkit %8.1f ms   ratio %.2f\n", l, k/1e6, m/1e6, m/k }'
}

# label, list, root, version: the library from 1 and 2 threads against
# kmod's last measured time ($k)
library() {
    [ -x "$lib" ] || return 0
    "$lib" "$3" "$4" "$2" 1 2 | while read -r threads ms found; do
        awk -v l="$1, $threads thread(s)" -v k="$k" -v m="$ms" 'BEGIN {
            printf "  %-34s kmod %8.1f ms   modkit %8.1f ms   ratio %.2f\n", l, k/1e6, m, m*1e6/k }'
    done
}

echo "many lookups in one process, best of $runs"
for t in 6.12 6.1; do
    tree=$cache/trees/$t
    ver=$(cat "$tree/.version")
    dir=$tree/lib/modules/$ver
    sed 's/:.*//; s,.*/,,; s/\.ko.*//' "$dir/modules.dep" | awk 'NR % 2 == 0 || NR < 100' | head -n 2000 > "$tmp/names"
    awk '$1 == "alias" { print $2 }' "$dir/modules.alias" | awk 'NR % 13 == 0' | head -n 2000 |
        sed 's/\[\([^]!^]\)[^]]*\]/\1/g; s/\*//g; s/?/0/g' > "$tmp/aliases"
    sed 's/:.*//; s,.*/,,; s/\.ko.*//' "$dir/modules.dep" > "$tmp/all"
    echo "$ver ($(wc -l < "$tmp/all") modules)"
    measure "modprobe -a -D, $(wc -l < "$tmp/names") names" modprobe "$tmp/names" -d "$tree" -S "$ver" -a -D
    library "library, names" "$tmp/names" "$tree" "$ver"
    measure "modprobe -a -D, $(wc -l < "$tmp/aliases") aliases" modprobe "$tmp/aliases" -d "$tree" -S "$ver" -a -D
    library "library, aliases" "$tmp/aliases" "$tree" "$ver"
    measure "modinfo -F firmware, $(wc -l < "$tmp/all") names" modinfo "$tmp/all" -b "$tree" -k "$ver" -F firmware
done
