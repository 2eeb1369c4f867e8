#!/bin/sh
# The fuzz targets of fuzz/ (cargo-fuzz, libFuzzer).
#
#   scripts/fuzz.sh setup                 install cargo-fuzz (from crates.io,
#                                         --locked) into $MODKIT_CACHE/cargo-fuzz
#   scripts/fuzz.sh seeds                 write the seed corpora from the Debian
#                                         trees and this machine into
#                                         $MODKIT_CACHE/fuzz/corpus/TARGET/
#   scripts/fuzz.sh list                  the targets
#   scripts/fuzz.sh run TARGET SECONDS    fuzz one target for SECONDS
#   scripts/fuzz.sh run TARGET -runs=N    ... or for N executions
#   scripts/fuzz.sh smoke [SECONDS]       every target, SECONDS each (default 6:
#                                         18 targets, under 2 minutes in all)
#   scripts/fuzz.sh replay                every seed, corpus and crash regression
#                                         through every target, and 2,000 seeded
#                                         mutations per target, as plain tests
#                                         (stable toolchain, no libFuzzer)
#   scripts/fuzz.sh long [SECONDS] [RUNS] the long run: each target until RUNS
#                                         executions (default 10,000,000) or
#                                         SECONDS (default 1800), whichever first;
#                                         prints a table row per target;
#                                         FUZZ_TARGETS="a b" limits it to those
#
# No Rust toolchain can be downloaded here: libFuzzer's sanitizer build needs
# nightly flags, so the machine's stable rustc runs with RUSTC_BOOTSTRAP=1
# (it ships the ASan runtime). A target that crashes leaves its input in
# fuzz/artifacts/TARGET/; copy it to fuzz/regressions/TARGET/ with the fix
# and a test in the normal suite. Corpora grow in $MODKIT_CACHE/fuzz/corpus
# (not committed); fuzz/seeds/ holds the small committed seeds.
# Runs at nice 19 (the machine is shared); FUZZ_NICE=N sets another
# niceness: on a machine loaded by other work, nice 19 can stretch a slow
# input past the wall-clock timeout.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

CACHE=${MODKIT_CACHE:-$HOME/.cache/modkit}
CORPUS=$CACHE/fuzz/corpus
export PATH="$CACHE/cargo-fuzz/bin:$PATH"
export RUSTC_BOOTSTRAP=1
# the sanitizer build apart from the normal one
FUZZ_TARGET_DIR=${MODKIT_FUZZ_TARGET_DIR:-$CACHE/fuzz/target}

targets() {
    sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^modkit-fuzz$'
}

# libFuzzer's limits: an input larger than MAX_LEN is not made; one taking
# more than 30 s or 2 GB is a failure (a hang or a bomb). The slowest
# bounded input known, a back-reference pattern at the ERE step budget,
# takes 2 s under the sanitizers on an idle core (over 10 s at nice 19 on
# a machine loaded 7-fold: the timeout is wall-clock time).
max_len() {
    case $1 in
        module | signature | index_read | decompress_*) echo 1048576 ;;
        *) echo 65536 ;;
    esac
}

setup() {
    if command -v cargo-fuzz >/dev/null 2>&1; then
        return
    fi
    echo "fuzz.sh: installing cargo-fuzz into $CACHE/cargo-fuzz" >&2
    nice -n 19 cargo install cargo-fuzz --locked --root "$CACHE/cargo-fuzz" -q
}

build() {
    setup
    CARGO_TARGET_DIR=$FUZZ_TARGET_DIR nice -n 19 cargo fuzz build -O "$@"
}

# run TARGET -max_total_time=S | -runs=N [more libFuzzer flags]
run_target() {
    t=$1
    shift
    mkdir -p "$CORPUS/$t" "fuzz/artifacts/$t"
    bin=$FUZZ_TARGET_DIR/x86_64-unknown-linux-gnu/release/$t
    # the grown corpus first (new inputs go there), then the seeds and
    # the crash regressions
    set -- "$@" "$CORPUS/$t"
    for d in "fuzz/seeds/$t" "fuzz/regressions/$t"; do
        [ -d "$d" ] && set -- "$@" "$d"
    done
    nice -n "${FUZZ_NICE:-19}" "$bin" -max_len="$(max_len "$t")" -timeout=30 -rss_limit_mb=2048 \
        -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 "$@" 2>&1
}

stats() {
    # libFuzzer's final stats: stat::number_of_executed_units
    sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
    setup) setup ;;
    list) targets ;;
    seeds)
        mkdir -p "$CORPUS"
        (cd fuzz && nice -n 19 cargo run -q --release --no-default-features --example seeds -- "$CORPUS")
        for t in $(targets); do printf '%s %s\n' "$t" "$(find "$CORPUS/$t" -type f 2>/dev/null | wc -l)"; done
        ;;
    run)
        [ $# -eq 2 ] || { echo "usage: scripts/fuzz.sh run TARGET SECONDS|-runs=N" >&2; exit 2; }
        t=$1
        targets | grep -qx "$t" || { echo "fuzz.sh: no target '$t' (scripts/fuzz.sh list)" >&2; exit 2; }
        case $2 in
            -runs=*) limit=$2 ;;
            *) limit=-max_total_time=$2 ;;
        esac
        build "$t"
        run_target "$t" "$limit"
        ;;
    smoke)
        secs=${1:-6}
        build
        log=$(mktemp)
        trap 'rm -f "$log"' EXIT
        total=0
        for t in $(targets); do
            if ! run_target "$t" -max_total_time="$secs" >"$log"; then
                tail -40 "$log"
                echo "fuzz.sh: $t FAILED (input in fuzz/artifacts/$t/)" >&2
                exit 1
            fi
            n=$(stats "$log")
            total=$((total + ${n:-0}))
            printf '%-16s %10s executions, 0 crashes\n' "$t" "$n"
        done
        echo "smoke: $total executions in all"
        ;;
    replay)
        cd fuzz
        CARGO_TARGET_DIR=${MODKIT_FUZZ_REPLAY_TARGET_DIR:-$here/target/fuzz-replay} \
            nice -n 19 cargo test -q --no-default-features --test replay
        ;;
    long)
        secs=${1:-1800}
        runs=${2:-10000000}
        build
        log=$(mktemp)
        trap 'rm -f "$log"' EXIT
        echo "| target | executions | seconds | crashes | timeouts | corpus |"
        echo "|---|---|---|---|---|---|"
        for t in ${FUZZ_TARGETS:-$(targets)}; do
            targets | grep -qx "$t" || { echo "fuzz.sh: no target $t" >&2; exit 2; }
            start=$(date +%s)
            rc=0
            run_target "$t" -max_total_time="$secs" -runs="$runs" >"$log" || rc=$?
            n=$(stats "$log")
            crashes=0
            timeouts=0
            [ "$rc" -ne 0 ] && { grep -q "timeout" "$log" && timeouts=1 || crashes=1; }
            printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "${n:-?}" "$(($(date +%s) - start))" \
                "$crashes" "$timeouts" "$(find "$CORPUS/$t" -type f | wc -l)"
        done
        ;;
    *)
        echo "usage: scripts/fuzz.sh setup|seeds|list|run TARGET SECONDS|-runs=N|smoke [SECONDS]|replay|long [SECONDS] [RUNS]" >&2
        exit 2
        ;;
esac
