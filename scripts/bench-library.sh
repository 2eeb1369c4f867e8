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
# Each side runs RUNS times (default 7; modinfo MODINFO_RUNS, default 3),
# kmod and modkit alternating, and
# costs CPU time (perf stat's task-clock: what the process itself used,
# whatever else the machine runs; wall time when perf is missing). Printed:
# the least of each side, their ratio modkit/kmod, and the median of the
# RUNS ratios of one kmod run and the modkit run next to it (steadier on a
# busy machine). The library lines give the threads' CPU time
# (/proc/thread-self/schedstat) and wall time; "speed-up" is the wall time
# of 1 thread over that of 2 (2.0: both cores fully used).
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
runs=${RUNS:-7}
refroot=$cache/ref/root
libs=$refroot/usr/lib/x86_64-linux-gnu
# side (kmod or ours), tool, args...: the command line of that side's tool
kmod() { tool=$1; shift; "$libs/ld-linux-x86-64.so.2" --library-path "$libs:$refroot/lib/x86_64-linux-gnu" --argv0 "$tool" "$refroot/usr/bin/kmod" "$@"; }
ours() { "$modkit" "$@"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

now() { date +%s%N; }
if command -v perf >/dev/null 2>&1 && perf stat -x, -e task-clock -o /dev/null true >/dev/null 2>&1; then
    clock="CPU time (task-clock)"
else
    clock="wall time (no perf)"
fi
# the cost in ns of one run of kmod's or our tool (output discarded):
# cost kmod|ours TOOL ARGS...
cost() {
    case $clock in
    CPU*)
        side=$1 tool=$2; shift 2
        if [ "$side" = kmod ]; then
            set -- "$libs/ld-linux-x86-64.so.2" --library-path "$libs:$refroot/lib/x86_64-linux-gnu" \
                --argv0 "$tool" "$refroot/usr/bin/kmod" "$@"
        else
            set -- "$modkit" "$tool" "$@"
        fi
        perf stat -x, -e task-clock -o "$tmp/perf" "$@" >/dev/null 2>&1 || true
        awk -F, '$3 == "task-clock" { printf "%.0f\n", $1 * 1e6 }' "$tmp/perf" ;;
    *)
        t0=$(now)
        "$@" >/dev/null 2>&1 || true
        echo $(( $(now) - t0 )) ;;
    esac
}
# label, tool, args file, leading args...: compare outputs, then cost both,
# alternating; sets $k (kmod's least cost, ns)
measure() {
    label=$1 tool=$2 args=$3; shift 3
    # shellcheck disable=SC2046 # one word per line, none with spaces
    kmod "$tool" "$@" $(cat "$args") > "$tmp/k" 2>&1 || true
    # shellcheck disable=SC2046
    ours "$tool" "$@" $(cat "$args") > "$tmp/m" 2>&1 || true
    cmp -s "$tmp/k" "$tmp/m" || { echo "outputs differ: $label" >&2; diff "$tmp/k" "$tmp/m" | head -5 >&2; exit 1; }
    : > "$tmp/pairs"
    i=0
    while [ $i -lt "$runs" ]; do
        # shellcheck disable=SC2046
        ck=$(cost kmod "$tool" "$@" $(cat "$args"))
        # shellcheck disable=SC2046
        cm=$(cost ours "$tool" "$@" $(cat "$args"))
        echo "$ck $cm" >> "$tmp/pairs"
        i=$((i + 1))
    done
    k=$(awk 'NR == 1 || $1 < b { b = $1 } END { print b }' "$tmp/pairs")
    awk '{ print $2 / $1, $1, $2 }' "$tmp/pairs" | sort -n | awk -v l="$label" '
        { r[NR] = $1; if (NR == 1 || $2 < k) k = $2; if (NR == 1 || $3 < m) m = $3 }
        END { printf "  %-34s kmod %8.2f ms   modkit %8.2f ms   ratio %.2f (median of pairs %.2f)\n",
              l, k/1e6, m/1e6, m/k, r[int((NR + 1) / 2)] }'
}

# label, list, root, version: the library from 1 and 2 threads against
# kmod's least cost ($k)
library() {
    [ -x "$lib" ] || return 0
    "$lib" "$3" "$4" "$2" 1 2 | awk -v l="$1" -v k="$k" '
        $1 == 1 { w1 = $2 }
        { printf "  %-34s kmod %8.2f ms   modkit %8.2f ms   ratio %.2f (wall %.2f ms%s)\n",
              l ", " $1 " thread(s)", k/1e6, $3, $3*1e6/k, $2,
              ($1 > 1 && $2 > 0) ? sprintf(", speed-up %.2f", w1 / $2) : "" }'
}

echo "many lookups in one process: $clock, least of $runs runs each, kmod and modkit alternating"
echo "load: $(uptime | sed 's/.*load average: //')"
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
    runs_batch=$runs runs=${MODINFO_RUNS:-3}
    measure "modinfo -F firmware, $(wc -l < "$tmp/all") names" modinfo "$tmp/all" -b "$tree" -k "$ver" -F firmware
    runs=$runs_batch
done
