#!/bin/sh
# Benchmark: modkit kprobe trace keeping up with a probe hit as fast as the
# guest can (vm/guest/kprobe-bench.sh under vm/run, software emulation):
# the hit rate, events printed vs the kernel's count and lost events, and
# CPU per event beside `cat trace_pipe`. Prints the guest's BENCH lines.
#   scripts/bench-kprobe.sh [6.1|6.12-bpo]   (default: both)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
kernels=${1:-"6.1 6.12-bpo"}
for k in $kernels; do
    out=$("$here/vm/run" --kernel "$k" --script "$here/vm/guest/kprobe-bench.sh" --timeout 900 2>&1) || {
        echo "$out" >&2; echo "scripts/bench-kprobe.sh: the $k run failed" >&2; exit 1; }
    echo "$out" | grep -E '^(BENCH|FAIL)' | sed "s/^/$k: /"
done
